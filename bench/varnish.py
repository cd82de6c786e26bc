"""A private varnishd for the busy-day benchmark, with the shipped VCL in front of its gunicorn."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_VCL = BASE_DIR / "deploy" / "varnish" / "newsroom.vcl"
BACKEND = re.compile(r"(backend\s+default\s*\{[^}]*?\.port\s*=\s*\")[^\"]*(\")", re.S)


def render_vcl(vcl_path, backend_port):
    """The VCL with its default backend's port set to gunicorn's (as an operator edits it)."""
    text = Path(vcl_path).read_text()
    rendered, found = BACKEND.subn(rf"\g<1>{backend_port}\g<2>", text)
    if not found:
        sys.exit(f'{vcl_path}: no `backend default {{ .port = "…" }}` to point at gunicorn')
    return rendered


def start(*, vcl_path, port, backend_port, workdir, memory="256m"):
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    if not os.access(varnishd, os.X_OK):
        sys.exit("varnishd is missing: apt-get install -y varnish varnish-modules")
    vcl = Path(workdir) / "newsroom.vcl"
    vcl.write_text(render_vcl(vcl_path, backend_port))
    command = [varnishd, "-F", "-n", str(Path(workdir) / "varnish"), "-a", f"127.0.0.1:{port}"]
    command += ["-f", str(vcl), "-s", f"malloc,{memory}", "-T", "none"]
    command += ["-p", "http_gzip_support=off"]  # as the VCL's header recommends
    if os.geteuid() == 0:
        command += ["-j", "none"]  # a private instance needs no varnish user
    log = open(Path(workdir) / "varnishd.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"varnishd stopped at start; see {workdir}/varnishd.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("varnishd did not listen within 30 s")
