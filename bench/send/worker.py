"""One sending worker for the benchmark: the same code db_worker runs for deliver_issue.

    python bench/send/worker.py ISSUE_ID

Prints one JSON line: messages this worker sent, seconds, peak memory (RSS, MiB), CPU
seconds.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

import django

django.setup()

from process_stats import cpu_seconds, peak_mib  # noqa: E402  (bench/send, the script's folder)

from newsletter.sending import deliver  # noqa: E402


def main():
    issue_id = int(sys.argv[1])
    started = time.perf_counter()
    result = deliver(issue_id, wait=time.sleep)
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "sent": result.sent,
                "seconds": round(elapsed, 2),
                "peak_mib": peak_mib(),
                "cpu_seconds": cpu_seconds(),
            }
        )
    )


if __name__ == "__main__":
    main()
