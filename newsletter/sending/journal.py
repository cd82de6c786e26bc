"""The hand-over journal: a worker's local record of every final dot it wrote.

One append-only file per lease, `<NEWSLETTER_JOURNAL_DIR>/<lease token>.log`, created
when the batch starts. Right after writing the dot that ends a message's DATA, before
reading the server's answer, the worker appends `<delivery id> dot`; if the server then
refuses or does not answer, `<delivery id> back`. A plain write(2) with no fsync: the
line is in the kernel the moment the call returns, so it survives the worker being
killed (SIGKILL, the OOM killer) and the database crashing, though not the worker's
machine losing power.

The worker that next claims a row whose lease ran out reads the journal of the lease
it replaces: a row with a `dot` and no `back` was handed over and is recorded as sent,
not sent again. So the only window in which a killed worker can cause a second copy is
between the two system calls, the dot's send(2) and the journal's write(2).
"""

import os
import time
from pathlib import Path

from django.conf import settings

PRUNE_AFTER_SECONDS = 7 * 24 * 3600


def directory():
    path = Path(settings.NEWSLETTER_JOURNAL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(token):
    # Tokens are "<host>-<hex>#<hex>" (ledger.new_token); keep only file-safe characters.
    safe = "".join(c if c.isalnum() or c in "-_.#" else "_" for c in token)
    return directory() / f"{safe}.log"


class Journal:
    """Appends to one lease's journal; `close()` removes it once the database has it all."""

    def __init__(self, token):
        self.path = _path(token)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def dot_written(self, delivery_id):
        os.write(self.fd, b"%d dot\n" % delivery_id)

    def taken_back(self, delivery_id):
        os.write(self.fd, b"%d back\n" % delivery_id)

    def close(self, *, recorded):
        os.close(self.fd)
        if recorded:
            self.path.unlink(missing_ok=True)


def handed_over(token):
    """Delivery ids the lease `token` handed over for good, or None if it has no journal."""
    try:
        text = _path(token).read_text()
    except FileNotFoundError:
        return None
    over, back = set(), set()
    for line in text.splitlines():
        number, _, what = line.partition(" ")
        if number.isdigit():
            (over if what == "dot" else back).add(int(number))
    return over - back


def forget(token):
    _path(token).unlink(missing_ok=True)


def prune(*, now=None):
    """Remove journals older than a week: their rows were long since claimed again."""
    now = now or time.time()
    removed = 0
    for path in directory().glob("*.log"):
        if now - path.stat().st_mtime > PRUNE_AFTER_SECONDS:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
