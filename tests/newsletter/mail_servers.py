"""Tiny IMAP and POP3 servers on 127.0.0.1 for the bounce mailbox tests.

Just enough of RFC 3501 and RFC 1939 for what newsletter.bounces.mailbox does (log in,
list, fetch, flag, delete), over real sockets, so imaplib and poplib run unchanged.
"""

import re
import socketserver
import threading


class Store:
    def __init__(self, messages, *, user="bounces", password="s3cret pass"):
        self.lock = threading.Lock()
        self.user, self.password = user, password
        # uid -> {"raw": bytes, "flags": set()}
        self.messages = {uid: {"raw": raw, "flags": set()} for uid, raw in enumerate(messages, 1)}

    def remaining(self):
        with self.lock:
            return sorted(self.messages)

    def flags(self, uid):
        with self.lock:
            return set(self.messages[uid]["flags"])


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, store):
        super().__init__(("127.0.0.1", 0), handler)
        self.store = store


def start(kind, store):
    handler = {"imap": _IMAPHandler, "pop3": _POP3Handler}[kind]
    server = _Server(handler, store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _IMAPHandler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

    def handle(self):
        store = self.server.store
        self.send("* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            tag, command, *rest = line.decode().rstrip("\r\n").split(" ", 2)
            args = rest[0] if rest else ""
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = "UID " + command.upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                user, password = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)[:2]
                user, password = user[0] or user[1], password[0] or password[1]
                if (user, password.replace('\\"', '"')) != (store.user, store.password):
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                    continue
            elif command in ("SELECT", "EXAMINE"):
                self.send(f"* {len(store.remaining())} EXISTS")
            elif command == "UID SEARCH":
                with store.lock:
                    found = [
                        str(uid)
                        for uid, m in store.messages.items()
                        if "\\Seen" not in m["flags"] and "\\Deleted" not in m["flags"]
                    ]
                self.send("* SEARCH " + " ".join(found))
            elif command == "UID FETCH":
                uid = int(args.split()[0])
                with store.lock:
                    raw = store.messages[uid]["raw"]
                self.send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}".encode() + b"\r\n")
                self.send(raw + b")\r\n")
            elif command == "UID STORE":
                uids, _, flags = args.partition(" ")
                flags = set(re.findall(r"\\\w+", flags))
                with store.lock:
                    for uid in uids.split(","):
                        store.messages[int(uid)]["flags"] |= flags
            elif command in ("EXPUNGE", "CLOSE"):
                with store.lock:
                    for uid in [u for u, m in store.messages.items() if "\\Deleted" in m["flags"]]:
                        del store.messages[uid]
            elif command == "LOGOUT":
                self.send("* BYE")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown command")
                continue
            self.send(f"{tag} OK {command} completed")


class _POP3Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        store = self.server.store
        deleted = set()
        user = None
        with store.lock:
            numbered = dict(enumerate(sorted(store.messages), 1))
        self.send("+OK POP3 test server ready")
        while line := self.rfile.readline():
            command, _, args = line.decode().rstrip("\r\n").partition(" ")
            command = command.upper()
            if command == "USER":
                user = args
                self.send("+OK")
            elif command == "PASS":
                if (user, args) != (store.user, store.password):
                    self.send("-ERR [AUTH] invalid credentials")
                    continue
                self.send("+OK logged in")
            elif command == "UIDL":
                self.send("+OK")
                for number, uid in numbered.items():
                    if number not in deleted:
                        self.send(f"{number} uid-{uid}")
                self.send(".")
            elif command == "RETR":
                with store.lock:
                    raw = store.messages[numbered[int(args)]]["raw"]
                self.send(f"+OK {len(raw)} octets")
                for body_line in (
                    raw.split(b"\r\n")[:-1] if raw.endswith(b"\r\n") else raw.split(b"\r\n")
                ):
                    self.wfile.write(
                        (b"." if body_line.startswith(b".") else b"") + body_line + b"\r\n"
                    )
                self.send(".")
            elif command == "DELE":
                deleted.add(int(args))
                self.send("+OK marked")
            elif command == "QUIT":
                with store.lock:
                    for number in deleted:
                        store.messages.pop(numbered[number], None)
                self.send("+OK bye")
                return
            else:
                self.send("-ERR unknown command")
