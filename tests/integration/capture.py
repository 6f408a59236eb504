"""A capture server: an HTTP/1.1 peer that records every request's raw
bytes, for tests of what strain puts on the wire. It frames requests itself
(Content-Length or chunked) so that a second Host header, a smuggled
request or a body of the wrong length shows up as what it is, not as what a
forgiving parser would make of it."""
import json
import socket
import threading


class Capture:
    def __init__(self, responses=None):
        """responses: path prefix -> (status, body bytes, extra header lines)."""
        self.responses = responses or {}
        self.requests = []          # raw bytes of each request, in arrival order
        self.conn_of = []           # the connection (numbered from 0) each came on
        self.nconns = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                n = self.nconns
                self.nconns += 1
            threading.Thread(target=self._serve, args=(c, n), daemon=True).start()

    def _reply(self, c, target):
        path = target.split(b"?")[0].decode("latin-1")
        status, body, extra = 200, b"ok", b""
        for prefix, r in self.responses.items():
            if path.startswith(prefix):
                status, body = r[0], r[1]
                extra = r[2] if len(r) > 2 else b""
        c.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra) + body)

    def _serve(self, c, conn):
        data = b""
        c.settimeout(10)
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, rest = data.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                fields = [ln.split(b":", 1) for ln in lines[1:]]
                names = {f[0].strip().lower(): f[1].strip() for f in fields if len(f) == 2}
                if names.get(b"transfer-encoding", b"").lower() == b"chunked":
                    while True:
                        end = rest.find(b"0\r\n\r\n")
                        if end >= 0 and (end == 0 or rest[end - 2:end] == b"\r\n"):
                            body_len = end + 5
                            break
                        chunk = c.recv(65536)
                        if not chunk:
                            return
                        rest += chunk
                else:
                    body_len = int(names.get(b"content-length", b"0") or 0)
                    while len(rest) < body_len:
                        chunk = c.recv(65536)
                        if not chunk:
                            return
                        rest += chunk
                raw = head + b"\r\n\r\n" + rest[:body_len]
                with self.lock:
                    self.requests.append(raw)
                    self.conn_of.append(conn)
                data = rest[body_len:]
                parts = lines[0].split(b" ")
                self._reply(c, parts[1] if len(parts) > 1 else b"/")
        except (OSError, ValueError):
            return
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()

    def parsed(self):
        """Each request as (request line, [(name, value)], body)."""
        out = []
        with self.lock:
            reqs = list(self.requests)
        for raw in reqs:
            head, body = raw.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            fields = []
            for ln in lines[1:]:
                name, _, value = ln.partition(":")
                fields.append((name, value.strip()))
            out.append((lines[0], fields, body))
        return out


def values(fields, name):
    """Every value of a header, case-insensitively, in order."""
    return [v for n, v in fields if n.lower() == name.lower()]


def json_body(status=200, obj=None):
    return (status, json.dumps(obj or {}).encode(), b"Content-Type: application/json\r\n")
