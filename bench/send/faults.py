"""The fault suite at full size: 100,000 subscribers through kills, crashes and outages.

    .venv/bin/python bench/send/faults.py [--subscribers 100000] [--seed N] [--json FILE]

Runs tests/newsletter/test_faults.py (a private PostgreSQL cluster, two real db_worker
processes, aiosmtpd) with FAULT_SUBSCRIBERS set, and prints its counts: worker kills,
database crashes, mail server stops, copies received, duplicates, missing, sends
recorded from a journal, seconds to finish. Never run by `make test`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="send-faults-") as workdir:
        report = Path(workdir) / "faults.json"
        env = {
            **os.environ,
            "FAULT_SUBSCRIBERS": str(args.subscribers),
            "FAULT_REPORT": str(report),
            **({"FAULT_SEED": str(args.seed)} if args.seed is not None else {}),
        }
        command = [sys.executable, "-m", "pytest", "tests/newsletter/test_faults.py",
                   "-q", "-n", "0", "-p", "no:cacheprovider"]  # fmt: skip
        status = subprocess.run(command, cwd=ROOT, env=env).returncode
        counts = json.loads(report.read_text()) if report.exists() else {}
    print(json.dumps(counts, indent=2))
    if args.json:
        args.json.write_text(json.dumps(counts, indent=2))
    sys.exit(status)


if __name__ == "__main__":
    main()
