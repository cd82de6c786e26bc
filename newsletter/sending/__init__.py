"""Sending a round-up exactly once to every active subscriber.

Four parts: `message` builds the MIME once per issue and fills in each subscriber;
`ledger` is the Delivery table's protocol (claim, record, release); `journal` is each
lease's local record of hand-overs; `sender` is the loop that `deliver()`s an issue,
run by the `deliver_issue` task and by `manage.py send_roundup`.

The protocol, which survives a worker killed at any instant, the database crashing,
restarting or going away, and the mail server going away:

1. `create_deliveries` makes one `queued` Delivery per issue and active subscriber
   (unique together, so running it twice adds nothing).
2. A worker `claim`s up to NEWSLETTER_BATCH_SIZE due rows (on PostgreSQL with SELECT …
   FOR UPDATE SKIP LOCKED) under a **lease**: `claimed_until`, short
   (NEWSLETTER_CLAIM_SECONDS, 30 s by default) and renewed every third of it while
   the worker lives, and a **token** in `claimed_by`, new at every claim. Every later
   write to the row is fenced by the token, and a worker never starts a message past
   0.8 of a lease it could not renew: once another worker has the rows, the first can
   neither send nor record. A killed worker's rows are due again within one lease.
   The claim is a synchronous commit: on disk before the batch's first message goes.
3. Each message is one SMTP transaction, and the server keeps it only at the final
   dot that ends DATA (RFC 5321 4.1.1.4): a connection that drops before leaves
   nothing. Right after writing the dot, before reading the answer, the worker
   appends "<delivery id> dot" to the lease's journal (journal.py: a write(2), kept by
   the kernel when the process dies); a refusal or a missing answer appends
   "<delivery id> back". Right after the server's `250` the row is marked `sent` by
   one commit fenced by the token (not waiting for the disk: the journal covers it).
4. The next worker to claim a row whose lease ran out first reads the old lease's
   journal: a row with a dot and no "back" was handed over and is recorded as sent
   ("Recorded from the journal of …") instead of going again. So:
   - a worker killed before the dot: nothing was delivered, the row goes once, later.
   - killed after the journal line: the row is recorded sent, never sent again.
   - the only window for a second copy is between two system calls, the dot's
     send(2) and the journal's write(2): microseconds, against a millisecond or more
     for a whole message. This is the window between the server's 250 and our
     record of it, made as short as the platform allows.
   - the database going away or crashing: marks that fail wait in the worker's memory
     (and are in its journal); the worker waits for the database with back-off,
     records them, and carries on. A mark lost in a database crash leaves the row
     `queued` under its old token, and the next claim finds it in the journal.
   - the worker's machine losing power loses the journal's last lines with the page
     cache: up to the messages handed over and not yet marked (normally one).
   - the mail server going away: a connection that cannot be opened puts the batch
     back with a back-off and no attempt spent; the issue shows "mail server down
     since …". A connection lost after the dot and before the answer is a temporary
     failure, retried as RFC 5321 says: the server never confirmed the message.
   Workers that share deliveries must share NEWSLETTER_JOURNAL_DIR (one machine, or a
   shared folder); a lease whose journal cannot be found is sent again and says so in
   the log.
5. 4xx answers are retried with exponential back-off, 5xx fail the delivery, and "no
   such user" also marks the subscriber bounced.
6. Pause, resume and cancel (services) change the issue's status; workers see it at
   their next lease renewal, give their rows back and stop.

Self-healing: `db_worker` (newsroom/management/commands/db_worker.py) survives database
outages and runs `newsletter.tasks.heal_sends` every few seconds, which enqueues a
`deliver_issue` task for any sending issue with due rows and no task waiting, and
finishes issues with nothing left. No command is ever needed to resume a send.
"""

from newsletter.sending.ledger import Lease, claim, create_deliveries
from newsletter.sending.message import PreparedRoundup
from newsletter.sending.sender import DeliveryRound, HandOver, Throttle, classify, deliver

__all__ = [
    "DeliveryRound",
    "HandOver",
    "Lease",
    "PreparedRoundup",
    "Throttle",
    "claim",
    "classify",
    "create_deliveries",
    "deliver",
]
