"""Secrets never leak (docs/secrets.md): a plan full of secrets — a
secrets: list, --secret, environment values in Authorization and Cookie
headers and in a password field, credential query parameters, a session id
the server hands out at run time, Set-Cookie — runs with every output on
(JSON, CSV, InfluxDB, the summary on stdout and exported, the HTML report,
--http-debug=full), and no artefact holds any secret; the places they
would have been show k6's marker instead. Plan errors and --secret's own
error hide them too."""
import json
import os
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import STRAIN, free_port
from influx_lib import INFLUXD, Influx

MARK = "***SECRET_REDACTED***"

# Environment values, each secret for a different reason.
ENV = {
    "SESSION_NAME": "envsess-41d8cd98f0",  # listed in the plan's secrets:
    "EXTRA": "extra-7c9e6679dd",            # --secret EXTRA
    "AUTHV": "authv-e4da3b7fbb",            # used in Authorization
    "COOKIEV": "cookiev-1679091c5a",        # used in Cookie
    "PWV": "pwv-8f14e45fce",                # used in a password field
    "QTOK": "qtok-c9f0f895fb",              # used in a token query parameter
    "DB_PASSWORD": "dbpw-45c48cce2e",       # a credential by its own name
    "STRAIN_INFLUXDB_PASSWORD": "influxpw-d3d9446802",
}
# Values only the server knows: handed out at run time.
SERVER_SID = "srvsid-6512bd43d9"
SERVER_COOKIE = "srvcookie-c20ad4d76f"
SERVER_CODE = "srvcode-aab3238922"  # in a Location header's query
LITERAL_KEY = "literalkey-c51ce410c1"  # written in the plan, in the URL
SECRETS = list(ENV.values()) + [SERVER_SID, SERVER_COOKIE, SERVER_CODE, LITERAL_KEY]

PLAN = """
target: {target}
secrets: [SESSION_NAME, sid]
tags: {{deploy: "{{{{env.EXTRA}}}}"}}
defaults:
  headers: {{Authorization: "Bearer {{{{env.AUTHV}}}}", Cookie: "pref=1; auth={{{{env.COOKIEV}}}}"}}
modules:
  shop:
    executor: {{type: shared-iterations, vus: 1, iterations: 6}}
    tags: {{owner: "{{{{env.SESSION_NAME}}}}"}}
    setup:
      - post: /login
        json: {{user: alice, password: "{{{{env.PWV}}}}", db: "{{{{env.DB_PASSWORD}}}}"}}
        extract: {{sid: $.session.sid}}
        check: {{status: 200}}
    flow:
      - get: /items?api_key={literal}&page=2&token={{{{env.QTOK}}}}
        headers: {{X-Session: "{{{{sid}}}}", X-Trace: "t-{{{{env.EXTRA}}}}"}}
        check: {{status: 200, body_contains: "{{{{env.SESSION_NAME}}}}"}}
      - get: "{closed}/down?password={{{{env.PWV}}}}"
        name: down
"""


class Echo(BaseHTTPRequestHandler):
    """Answers like httpbin: the request's headers and query back as JSON,
    and a login that sets a cookie and hands out a session id."""

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path, _, query = self.path.partition("?")
        if path == "/login":
            body = json.dumps({"session": {"sid": SERVER_SID}, "ok": True}).encode()
        else:
            body = json.dumps({"headers": dict(self.headers), "args": dict(urllib.parse.parse_qsl(query)),
                               "owner": ENV["SESSION_NAME"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"session={SERVER_COOKIE}; HttpOnly")
        self.send_header("Location", f"/next?access_token={SERVER_CODE}&step=2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *a):
        pass


@pytest.fixture
def echo():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def influx(tmp_path):
    if not os.path.exists(INFLUXD):
        pytest.skip("influxd not installed (scripts/deps.sh test)")
    i = Influx(tmp_path / "influx")
    yield i
    i.stop()


def env():
    e = dict(os.environ)
    e.update(ENV)
    return e


def leaks(text):
    return [s for s in SECRETS if s in text]


def test_no_output_holds_a_secret(echo, influx, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(target=echo, literal=LITERAL_KEY, closed=f"http://127.0.0.1:{free_port()}"))
    files = {n: tmp_path / n for n in ("out.json", "out.csv", "summary.json", "report.html")}
    p = subprocess.run([STRAIN, "run", str(plan), "--secret", "EXTRA", "--http-debug=full",
                        "--out", f"json={files['out.json']}", "--out", f"csv={files['out.csv']}",
                        "--out", f"influxdb=http://writer@127.0.0.1:{influx.port}/secrets",
                        "--summary-export", str(files["summary.json"]), "--report", str(files["report.html"])],
                       capture_output=True, text=True, timeout=120, env=env())
    # The unreachable request fails: the run ends, and says so, without secrets.
    assert p.returncode == 0, p.stderr[-3000:]
    texts = {n: f.read_text() for n, f in files.items()}
    texts["stdout"] = p.stdout
    texts["stderr"] = p.stderr
    texts["influxdb"] = json.dumps([influx.query("secrets", f'SELECT * FROM "{m}"')
                                    for m in ("http_reqs", "http_req_duration", "checks", "iterations")])
    texts["influxdb-tags"] = json.dumps(influx.query("secrets", "SHOW SERIES"))
    for name, text in texts.items():
        assert text, f"{name} is empty"
        assert not leaks(text), f"{name} holds {leaks(text)}"

    # It ran for real: the secrets went to the server, the session id
    # came back and was used, and the artefacts show where they were.
    s = json.loads(texts["summary.json"])
    assert s["metrics"]["http_reqs"]["count"] == 1 + 12
    assert s["metrics"]["checks"]["passes"] == 1 + 2 * 6
    assert s["metrics"]["checks"]["fails"] == 0
    err = p.stderr
    assert f"Authorization: {MARK}" in err and f"Cookie: {MARK}" in err and f"Set-Cookie: {MARK}" in err
    assert f"X-Session: {MARK}" in err  # carries the secret variable sid
    assert f"Location: /next?access_token={MARK}&step=2" in err
    assert f"X-Trace: t-{MARK}" in err  # --secret's value inside another value
    assert f"api_key={MARK}&page=2&token={MARK}" in err  # the request line
    assert f'"password":"{MARK}"' in err and f'"db":"{MARK}"' in err  # the login body
    assert f'"sid": "{MARK}"' in err  # the login's answer: the field sid is extracted from
    assert f'"owner": "{MARK}"' in err  # an echoed value, hidden where it shows
    url = [json.loads(x)["data"]["tags"].get("url", "") for x in texts["out.json"].splitlines()
           if json.loads(x).get("type") == "Point" and json.loads(x)["metric"] == "http_reqs"]
    assert f"{echo}/items?api_key={MARK}&page=2&token={{{{env.QTOK}}}}" in url, set(url)
    assert any(u.endswith(f"/down?password={{{{env.PWV}}}}") for u in url), set(url)
    assert MARK in texts["out.csv"]
    tags = [json.loads(x)["data"]["tags"] for x in texts["out.json"].splitlines()
            if json.loads(x).get("type") == "Point"]
    assert {t.get("owner") for t in tags if "owner" in t} == {MARK}
    assert {t.get("deploy") for t in tags} == {MARK}
    assert MARK in texts["influxdb-tags"]


def test_plan_errors_and_flags_hide_secrets(tmp_path):
    plan = tmp_path / "bad.yaml"
    plan.write_text("""
target: http://127.0.0.1:9
defaults:
  headers: {Authorization: "Basic {{env.AUTHV}}"}
  timeout: "{{env.AUTHV}}"
modules:
  m:
    executor: {vus: 1, iterations: 1}
    flow:
      - get: /x
""")
    for cmd in (["run"], ["validate"]):
        p = subprocess.run([STRAIN, *cmd, str(plan)], capture_output=True, text=True, timeout=60, env=env())
        assert p.returncode == 104, p.stderr
        assert "timeout" in p.stderr and MARK in p.stderr, p.stderr
        assert not leaks(p.stdout + p.stderr), p.stderr
    e = env()
    e.pop("EXTRA")
    p = subprocess.run([STRAIN, "run", "--secret", "EXTRA", "--url", "http://127.0.0.1:9/"], capture_output=True,
                       text=True, timeout=60, env=e)
    assert p.returncode == 104 and "--secret EXTRA: EXTRA is not set" in p.stderr, p.stderr


def test_a_secret_in_the_plans_path_leaves_the_error_position(tmp_path):
    """A literal credential that also occurs in the plan's path (here its
    directory) is hidden in the message, never in the FILE:LINE:COL that
    says where the error is (a fuzz input found the position redacted)."""
    secret = "hush-7a0b9c"
    d = tmp_path / secret
    d.mkdir()
    plan = d / "plan.yaml"
    plan.write_text(f"""
target: http://127.0.0.1:9
defaults:
  headers: {{Authorization: "{secret}"}}
modules:
  m:
    executor: {{vus: 1, iterations: 1}}
    flow:
      - get: /x
        bogus: "{secret}"
""")
    p = subprocess.run([STRAIN, "validate", str(plan)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 104, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"{plan}:") for line in lines), p.stderr
    assert f"{plan}:10:9: unknown key 'bogus'" in p.stderr, p.stderr
    assert secret not in p.stderr.replace(f"{plan}:", ""), p.stderr


def test_quick_mode_hides_header_values_and_url_credentials(make_target, tmp_path):
    t = make_target()
    host = t.url.split("//", 1)[1]
    out = tmp_path / "out.json"
    p = subprocess.run([STRAIN, "run", "--url", f"http://{host}/health?access_token=qat-0f1e2d3c4b&x=1",
                        "-H", "Authorization: Bearer quickbearer-5a6b7c8d", "-H", "X-Api-Key: quickapikey-9e8d",
                        "--iterations", "2", "--http-debug", "--out", f"json={out}",
                        "--summary-export", str(tmp_path / "s.json")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = out.read_text() + p.stdout + p.stderr + (tmp_path / "s.json").read_text()
    for s in ("qat-0f1e2d3c4b", "quickbearer-5a6b7c8d", "quickapikey-9e8d"):
        assert s not in text
    assert f"access_token={MARK}&x=1" in p.stderr and f"X-Api-Key: {MARK}" in p.stderr
    assert f"/health?access_token={MARK}&x=1" in out.read_text()


def test_a_threshold_on_a_redacted_url_still_matches(target, tmp_path):
    # The filter is redacted as the tag is, so it finds the samples (count<1
    # fails: 3 were counted), and the summary shows neither secret.
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""
target: {target.url}
modules:
  m:
    executor: {{type: shared-iterations, vus: 1, iterations: 3}}
    flow:
      - get: /health?token=thtoken-5f4dcc3b5a&x=1
thresholds:
  "http_reqs{{url:{target.url}/health?token=thtoken-5f4dcc3b5a&x=1}}": ["count<1"]
""")
    out = tmp_path / "s.json"
    p = subprocess.run([STRAIN, "run", str(plan), "--summary-export", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 99, p.stderr
    [th] = json.loads(out.read_text())["thresholds"]
    assert th["observed"] == 3 and th["metric"] == f"http_reqs{{url:{target.url}/health?token={MARK}&x=1}}"
    assert "thtoken-5f4dcc3b5a" not in out.read_text() + p.stdout + p.stderr


# Values a server hands out at run time, which the plan takes into
# variables that are secret for four reasons, then echoes inside other text.
RT = {"sid": "rtsid-9bf31c7ff0", "sess": "rtcookie-70efdf2ec9", "tok": "rttok-6f4922f455",
      "access_token": "rtaccess-1f0e3dad99"}

RT_PLAN = """
target: {target}
secrets: [sid]
modules:
  m:
    executor: {{type: shared-iterations, vus: 1, iterations: 2}}
    flow:
      - post: /login
        extract:
          sid: $.session.sid
          sess: {{cookie: session}}
          tok: {{header: X-Auth-Token}}
          access_token: {{regex: "grant=([a-z0-9-]+)"}}
      - get: /echo?a={{{{sid}}}}&b={{{{sess}}}}&c={{{{tok}}}}&d={{{{access_token}}}}
        headers: {{X-Note: "{{{{sid}}}} {{{{tok}}}}"}}
        check: {{status: 200}}
"""


class RtEcho(BaseHTTPRequestHandler):
    """A login that hands out the RT values (a JSON field, a cookie, a
    header, text a regex reads), and an echo that returns what it was sent
    inside plain text and a header no rule names."""
    seen = []

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path, _, query = self.path.partition("?")
        extra = []
        if path == "/login":
            body = (json.dumps({"session": {"sid": RT["sid"]}}) + f" grant={RT['access_token']}").encode()
            extra = [("Set-Cookie", f"session={RT['sess']}; Path=/"), ("X-Auth-Token", RT["tok"])]
        else:
            RtEcho.seen.append(query)
            body = f"hello {query} note={self.headers.get('X-Note')}\n".encode()
            extra = [("X-Echo", query)]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *a):
        pass


def test_http_debug_hides_secret_variables_wherever_they_show(tmp_path):
    """A secret variable's value is known only at run time; the server may
    echo it anywhere. Variables are secret when listed, named like a
    credential (access_token), or filled from a cookie or a credential
    header; --http-debug=full hides their values in every head and body."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), RtEcho)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        plan = tmp_path / "plan.yaml"
        plan.write_text(RT_PLAN.format(target=f"http://127.0.0.1:{srv.server_address[1]}"))
        p = subprocess.run([STRAIN, "run", str(plan), "--http-debug=full", "--quiet"],
                           capture_output=True, text=True, timeout=60)
    finally:
        srv.shutdown()
        srv.server_close()
    assert p.returncode == 0, p.stderr[-3000:]
    # The values were extracted and sent: the server saw every one of them.
    assert RtEcho.seen and all(v in RtEcho.seen[-1] for v in RT.values()), RtEcho.seen
    err = p.stderr
    assert [v for v in RT.values() if v in err] == [], err[-3000:]
    # Where they were: the request line, a header no rule names, the echo's
    # header and its plain-text body.
    assert f"GET /echo?a={MARK}&b={MARK}&c={MARK}&d={MARK}" in err, err[-3000:]
    assert f"X-Echo: a={MARK}&b={MARK}&c={MARK}&d={MARK}" in err, err[-3000:]
    assert f"hello a={MARK}&b={MARK}&c={MARK}&d={MARK} note={MARK} {MARK}" in err, err[-3000:]
    # In the login's own answer too (extraction comes before its body is printed).
    assert f"grant={MARK}" in err, err[-3000:]
