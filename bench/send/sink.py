"""A counting SMTP sink (aiosmtpd) for the send benchmark: run as its own process.

    python bench/send/sink.py PORT REPORT_FILE

Accepts everything, keeps only the recipients; on SIGTERM writes
{"messages": n, "distinct": n, "duplicates": n} to REPORT_FILE.
"""

import json
import signal
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self):
        self.counts = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.counts.update(envelope.rcpt_tos)
        return "250 OK"


def main():
    port, report = int(sys.argv[1]), sys.argv[2]
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    with open(report, "w") as f:
        json.dump(
            {
                "messages": sum(sink.counts.values()),
                "distinct": len(sink.counts),
                "duplicates": sum(n - 1 for n in sink.counts.values() if n > 1),
            },
            f,
        )


if __name__ == "__main__":
    main()
