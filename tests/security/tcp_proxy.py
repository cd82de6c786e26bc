"""A loopback TCP proxy that can cut every connection, to fail a database on demand.

PostgreSQL on this machine is shared, so the failure tests and bench/load_test.py do
not stop it: they point the site at this proxy and cut it. To the site a cut looks
like a database restart: open connections drop, new ones are refused until `restore()`.
"""

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host="127.0.0.1", target_port=5432, port=0):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open = set()
        self._down = False
        self._stopped = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._thread.start()
        return self

    @property
    def is_down(self):
        return self._down

    def cut(self):
        """Drop every open connection and refuse new ones, as a stopped server does."""
        with self._lock:
            self._down = True
            doomed, self._open = self._open, set()
        for sock in doomed:
            _close(sock)

    def restore(self):
        with self._lock:
            self._down = False

    def stop(self):
        self._stopped = True
        self.cut()
        _close(self._listener)

    def _accept_loop(self):
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                # Accept-and-close answers at once, like a refused connection; a
                # client never waits for a timeout.
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._down:
                    _close(client)
                    _close(upstream)
                    continue
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
