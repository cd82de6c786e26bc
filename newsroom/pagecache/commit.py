"""One purge per transaction, whatever number of saves asked for one.

Each save's keys join the transaction's pending purge, which Django runs on commit.
Joining hands the keys gathered so far to a new batch at the end of the commit list and
leaves the old one empty, so the batch always runs after the saves that asked for it.
Batches belong to no savepoint: keys asked for inside a savepoint that rolls back are
still purged (harmless), and a rollback can never lose keys asked for outside it.
"""

from django.db import DEFAULT_DB_ALIAS, connections

from newsroom.pagecache import schedule, store


class Batch:
    def __init__(self, keys=(), withdrawn=(), reschedule=False):
        self.keys, self.withdrawn = set(keys) | set(withdrawn), set(withdrawn)
        self.reschedule = reschedule

    def take(self, earlier):
        """Take over what an earlier batch holds, leaving it empty."""
        self.keys |= earlier.keys
        self.withdrawn |= earlier.withdrawn
        self.reschedule |= earlier.reschedule
        earlier.__init__()

    def __call__(self):
        if self.reschedule:
            schedule.forget()
        if self.keys:
            store.purge(self.keys, withdrawn=self.withdrawn)


def purge_on_commit(keys=(), *, withdrawn=(), reschedule=False, using=DEFAULT_DB_ALIAS):
    """Purge `keys` (and `withdrawn`: articles no longer public) when the transaction
    commits, at once outside one. `reschedule`: a scheduled moment may have moved."""
    batch = Batch(keys, withdrawn, reschedule)
    connection = connections[using]
    if not connection.in_atomic_block:
        batch()
        return
    for _, earlier, _ in connection.run_on_commit:
        if isinstance(earlier, Batch):
            batch.take(earlier)
    connection.run_on_commit.append((set(), batch, True))
