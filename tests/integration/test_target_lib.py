"""Raw-socket HTTP/1.1 helpers for the `strain target` tests: exact control
over bytes on the wire, and time to first byte measured apart from connect.
(No tests here; pytest collects the module and finds none.)"""
import socket
import time


class Conn:
    """One client connection to the target at "host:port"."""

    def __init__(self, addr, timeout=10):
        host, port = addr.rsplit(":", 1)
        t0 = time.monotonic()
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.connect_s = time.monotonic() - t0
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def first_byte(self):
        """Waits for the first byte of the next response; returns seconds waited."""
        t0 = time.monotonic()
        if not self.buf:
            self._fill()
        return time.monotonic() - t0

    def response(self, head_only=False):
        """Reads one response: (status, {lower-case name: value}, body bytes)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        status = int(parts[1])
        headers = {}
        for ln in lines[1:]:
            k, v = ln.split(b":", 1)
            headers[k.decode().strip().lower()] = v.decode().strip()
        if head_only or status < 200 or status in (204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    self._line()
                    break
                body += self._take(size)
                self._line()
            return status, headers, body
        return status, headers, self._take(int(headers.get("content-length", "0")))

    def request(self, method, path, body=None, headers=None):
        """Sends one request and reads its response."""
        self.send(build(method, path, body, headers))
        return self.response(head_only=(method == "HEAD"))

    def is_closed(self, timeout=5):
        """True if the server closes (FIN or RST) within timeout with nothing more to say."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def build(method, path, body=None, headers=None):
    h = {"Host": "test"}
    h.update(headers or {})
    if body is not None and "Content-Length" not in h and "Transfer-Encoding" not in h:
        h["Content-Length"] = str(len(body))
    out = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return out.encode() + (body or b"")


def request(addr, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers, body)."""
    c = Conn(addr, timeout)
    try:
        return c.request(method, path, body, headers)
    finally:
        c.close()


def timed_get(addr, path, headers=None, timeout=60):
    """GET on a fresh connection: (connect_s, ttfb_s, status, headers)."""
    c = Conn(addr, timeout)
    try:
        c.send(build("GET", path, None, headers))
        ttfb = c.first_byte()
        status, h, _ = c.response()
        return c.connect_s, ttfb, status, h
    finally:
        c.close()


def server_timing(h):
    """Parses "pool;dur=1.2, db;dur=3.4, cache;desc=miss" into a dict."""
    out = {}
    for part in h.get("server-timing", "").split(","):
        bits = part.strip().split(";")
        for b in bits[1:]:
            k, _, v = b.partition("=")
            out[bits[0] + "." + k] = float(v) if k == "dur" else v
    return out
