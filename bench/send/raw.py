"""The limit for the send benchmark: plain smtplib sending one pre-built message.

    python bench/send/raw.py PORT MESSAGE_FILE FIRST COUNT BATCH

Sends the bytes of MESSAGE_FILE to reader{FIRST}…reader{FIRST+COUNT-1}@bench.example,
one SMTP transaction each, over a new connection every BATCH messages: the pattern a
sending worker follows, without Django, the database or building the message.
Prints one JSON line: messages sent, seconds, peak memory (RSS, MiB), CPU seconds.
"""

import json
import smtplib
import socket
import sys
import time

from process_stats import cpu_seconds, peak_mib  # bench/send, the script's folder

ENVELOPE_FROM = "newsletter@bench.example"


def main():
    port, message_file = int(sys.argv[1]), sys.argv[2]
    first, count, batch = (int(arg) for arg in sys.argv[3:6])
    with open(message_file, "rb") as f:
        raw = f.read()
    local_hostname = socket.getfqdn()  # looked up once, as Django's SMTP backend does
    started = time.perf_counter()
    sent = 0
    for start in range(first, first + count, batch):
        smtp = smtplib.SMTP("127.0.0.1", port, local_hostname=local_hostname, timeout=30)
        for n in range(start, min(start + batch, first + count)):
            smtp.sendmail(ENVELOPE_FROM, [f"reader{n}@bench.example"], raw)
            sent += 1
        smtp.quit()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "sent": sent,
                "seconds": round(elapsed, 2),
                "peak_mib": peak_mib(),
                "cpu_seconds": cpu_seconds(),
            }
        )
    )


if __name__ == "__main__":
    main()
