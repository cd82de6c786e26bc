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
        self.keys, self.withdrawn, self.reschedule = set(keys), set(withdrawn), reschedule

    def take(self):
        """Hand over what this batch holds, leaving it empty."""
        taken = (self.keys, self.withdrawn, self.reschedule)
        self.keys, self.withdrawn, self.reschedule = set(), set(), False
        return taken

    def __call__(self):
        keys, withdrawn, reschedule = self.take()
        if reschedule:
            schedule.forget()
        if keys:
            store.purge(keys, withdrawn=withdrawn)


def purge_on_commit(keys=(), *, withdrawn=(), reschedule=False, using=DEFAULT_DB_ALIAS):
    """Purge `keys` (and `withdrawn`: articles no longer public) when the transaction
    commits, at once outside one. `reschedule`: a scheduled moment may have moved."""
    keys, withdrawn = set(keys) | set(withdrawn), set(withdrawn)
    connection = connections[using]
    if not connection.in_atomic_block:
        Batch(keys, withdrawn, reschedule)()
        return
    for _, func, _ in connection.run_on_commit:
        if isinstance(func, Batch):
            earlier_keys, earlier_withdrawn, earlier_reschedule = func.take()
            keys |= earlier_keys
            withdrawn |= earlier_withdrawn
            reschedule = reschedule or earlier_reschedule
    connection.run_on_commit.append((set(), Batch(keys, withdrawn, reschedule), True))
