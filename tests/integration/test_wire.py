"""What strain puts on the wire, byte for byte, as a capture server records
it: templates expanded everywhere (environment-only ones too), literal text
encoded where it lands, paths normalised, values from outside the plan
never written as framing, and framing headers sent once — for static and
templated requests from plans and for quick mode."""
import json
import textwrap
import urllib.parse

import pytest

from capture import Capture, json_body, values
from conftest import run_strain


@pytest.fixture
def cap():
    c = Capture({"/login": json_body(200, {"token": "t0k\r\nX-Injected: 1", "id": "7\r\n\r\nGET /smuggled HTTP/1.1"}),
                 "/plain": json_body(200, {"token": "plain-token", "id": "42"})})
    yield c
    c.stop()


def plan_file(tmp_path, url, body, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(f"target: {url}\n" + textwrap.dedent(body))
    return p


def run(*args, env=None):
    return run_strain("run", "--quiet", *args, timeout=60)


def export(tmp_path, plan, *args):
    out = tmp_path / "summary.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), *args, timeout=60)
    assert out.exists(), p.stderr
    return p, json.loads(out.read_text())


ONE = "executor: {type: shared-iterations, vus: 1, iterations: 1}"


def test_env_only_headers_are_expanded(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, f"""
        defaults:
          headers: {{Authorization: "Bearer {{{{env.TOKEN}}}}", X-Static: plain}}
        modules:
          m:
            {ONE}
            flow:
              - get: /a
                headers: {{X-Env: "{{{{env.TOKEN}}}}-{{{{env.OTHER}}}}"}}
              - get: /b/{{{{vu}}}}
                headers: {{X-Mixed: "{{{{env.TOKEN}}}}:{{{{iter}}}}"}}
        """)
    p = run(str(plan), "-e", "TOKEN=s3cret", "-e", "OTHER=two")
    assert p.returncode == 0, p.stderr
    reqs = cap.parsed()
    assert len(reqs) == 2
    for line, fields, _ in reqs:
        assert values(fields, "Authorization") == ["Bearer s3cret"], line
        assert values(fields, "X-Static") == ["plain"]
    assert values(reqs[0][1], "X-Env") == ["s3cret-two"]
    assert values(reqs[1][1], "X-Mixed") == ["s3cret:0"]
    assert "{{" not in b"".join(cap.requests).decode("latin-1")


def test_literal_text_is_encoded_where_it_lands(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            {ONE}
            flow:
              - post: /form
                form: {{q: "a&b=c d", "k y": "{{{{env.V}}}}&x", mixed: "1+1={{{{env.V}}}}"}}
              - get: /search
                query: {{"my key": "v w", "a&b": "c=d", t: "{{{{env.V}}}} z"}}
              - post: /json
                json: {{msg: 'say "hi" \\ bye', nested: {{"k\\"ey": ["{{{{env.V}}}}\\"q", 'tab\\there']}}, n: 3}}
              - post: /json2
                json: {{line: "two\\nlines"}}
        """)
    p = run(str(plan), "-e", "V=v&=\"w")
    assert p.returncode == 0, p.stderr
    reqs = cap.parsed()
    assert len(reqs) == 4
    form = reqs[0][2].decode()
    assert urllib.parse.parse_qs(form) == {"q": ["a&b=c d"], "k y": ["v&=\"w&x"], "mixed": ['1+1=v&="w']}
    assert " " not in form and form.count("&") == 2
    line = reqs[1][0]
    method, target, version = line.split(" ")
    assert version == "HTTP/1.1"
    q = urllib.parse.urlsplit(target).query
    assert urllib.parse.parse_qs(q) == {"my key": ["v w"], "a&b": ["c=d"], "t": ['v&="w z']}
    doc = json.loads(reqs[2][2])
    # YAML's single quotes keep a backslash as it is; double quotes decode \"
    assert doc == {"msg": 'say "hi" \\ bye', "nested": {'k"ey': ['v&="w"q', "tab\\there"]}, "n": 3}
    assert json.loads(reqs[3][2]) == {"line": "two\nlines"}


@pytest.mark.parametrize("written,sent", [
    ("/a b/caf\u00e9?x=1 2#frag", "/a%20b/caf%C3%A9?x=1%202"),
    ("/p#only-fragment", "/p"),
    ("/ok%20already/%zz", "/ok%20already/%25zz"),
    ("?q=1", "/?q=1"),
    ("/x?a=\u00fc&b=<>", "/x?a=%C3%BC&b=%3C%3E"),
])
def test_paths_normalised_alike_in_plans_and_quick_mode(cap, tmp_path, written, sent):
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            {ONE}
            flow:
              - get: "{written}"
        """)
    p = run(str(plan))
    assert p.returncode == 0, p.stderr
    p = run("--url", cap.url + written)
    assert p.returncode == 0, p.stderr
    lines = [r[0] for r in cap.parsed()]
    assert lines == [f"GET {sent} HTTP/1.1"] * 2


def test_templated_path_values_are_encoded(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            {ONE}
            flow:
              - get: "/f/{{{{env.P}}}}/x?v={{{{env.P}}}}#frag{{{{vu}}}}"
              - get: "/g/{{{{vu}}}}/{{{{env.P}}}}"
        """)
    p = run(str(plan), "-e", "P=a b/c?d#e&f=g%")
    assert p.returncode == 0, p.stderr
    lines = [r[0] for r in cap.parsed()]
    assert lines == ["GET /f/a%20b/c%3Fd%23e&f=g%25/x?v=a%20b%2Fc%3Fd%23e%26f%3Dg%25 HTTP/1.1",
                     "GET /g/1/a%20b/c%3Fd%23e&f=g%25 HTTP/1.1"]


def test_extracted_line_breaks_never_become_framing(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 3}
            setup:
              - post: /login
                extract: {token: $.token, id: $.id}
            flow:
              - get: /h
                headers: {Authorization: "Bearer {{token}}"}
              - get: /p/{{id}}?q={{token}}
              - post: /b
                headers: {X-Id: "{{id}}"}
                body: "raw {{token}}"
        """)
    p, s = export(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    heads = [r.split(b"\r\n\r\n")[0] for r in cap.requests]
    assert not any(h.startswith(b"X-Injected") for r in heads for h in r.split(b"\r\n"))
    assert not any(r[0].startswith("GET /smuggled") for r in cap.parsed())
    lines = [r[0] for r in cap.parsed()]
    # login once, then per iteration: the header request fails, the path one
    # goes out encoded, the body one fails on its header.
    assert lines[0] == "POST /login HTTP/1.1"
    assert lines[1:] == ["GET /p/7%0D%0A%0D%0AGET%20/smuggled%20HTTP/1.1?q=t0k%0D%0AX-Injected%3A%201 HTTP/1.1"] * 3
    m = s["metrics"]
    assert m["http_reqs"]["count"] == 1 + 3 * 3
    assert s["errors"] == {"1730": {"count": 6, "description": s["errors"]["1730"]["description"]}}


def test_csv_line_breaks_never_become_framing(cap, tmp_path):
    (tmp_path / "d.csv").write_text('name,path\n"a\r\nX-Evil: 1","x\r\ny"\nplain,ok\n')
    plan = plan_file(tmp_path, cap.url, """
        data:
          d: {file: d.csv, mode: sequential}
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 2}
            flow:
              - get: /c/{{data.d.path}}
                headers: {X-Name: "{{data.d.name}}"}
              - get: /q?n={{data.d.name}}
        """)
    p, s = export(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert b"X-Evil" not in b"".join(r.split(b"\r\n\r\n")[0].split(b"\r\n", 1)[1] for r in cap.requests)
    lines = [r[0] for r in cap.parsed()]
    assert lines == ["GET /q?n=a%0D%0AX-Evil%3A%201 HTTP/1.1", "GET /c/ok HTTP/1.1", "GET /q?n=plain HTTP/1.1"]
    assert s["metrics"]["http_reqs"]["count"] == 4
    assert s["errors"]["1730"]["count"] == 1


FRAMING = {"Host": "api.example.test", "User-Agent": "my-agent/1", "Connection": "keep-alive",
           "Content-Type": "text/plain", "Content-Length": "5"}


@pytest.mark.parametrize("templated", [False, True])
def test_user_framing_headers_sent_once_with_the_users_value(cap, tmp_path, templated):
    hdrs = ", ".join(f'"{k}": "{v}"' for k, v in FRAMING.items() if k != "Content-Length")
    path = "/t/{{vu}}" if templated else "/t/1"
    plan = plan_file(tmp_path, cap.url, f"""
        defaults:
          headers: {{host: default.example.test, user-agent: overridden}}
        modules:
          m:
            {ONE}
            flow:
              - post: "{path}"
                headers: {{{hdrs}, "Content-Length": "5"}}
                body: hello
              - get: "{path}"
        """)
    p = run(str(plan))
    assert p.returncode == 0, p.stderr
    (l1, f1, b1), (l2, f2, _) = cap.parsed()
    for name, value in FRAMING.items():
        assert values(f1, name) == [value], (name, f1)
    assert b1 == b"hello"
    assert values(f2, "Host") == ["default.example.test"]
    assert values(f2, "User-Agent") == ["overridden"]
    assert values(f2, "Content-Length") == []


def test_quick_mode_framing_headers(cap):
    p = run("--url", cap.url + "/q", "-X", "POST", "--body", "abc", "-H", "Host: h.test", "-H", "user-agent: ua",
            "-H", "Connection: keep-alive", "-H", "Content-Type: text/x", "-H", "Content-Length: 3")
    assert p.returncode == 0, p.stderr
    (_, f, body), = cap.parsed()
    assert values(f, "Host") == ["h.test"]
    assert values(f, "User-Agent") == ["ua"]
    assert values(f, "Connection") == ["keep-alive"]
    assert values(f, "Content-Type") == ["text/x"]
    assert values(f, "Content-Length") == ["3"]
    assert body == b"abc"


def test_quick_mode_chunked_on_request(cap):
    p = run("--url", cap.url + "/c", "-X", "POST", "--body", "hello world", "-H", "Transfer-Encoding: chunked")
    assert p.returncode == 0, p.stderr
    (_, f, body), = cap.parsed()
    assert values(f, "Transfer-Encoding") == ["chunked"]
    assert values(f, "Content-Length") == []
    assert body == b"b\r\nhello world\r\n0\r\n\r\n"


@pytest.mark.parametrize("args,needle", [
    (["-H", "Content-Length: 99", "--body", "abc"], "contradicts the body"),
    (["-H", "Content-Length: x", "--body", "abc"], "not a length"),
    (["-H", "Transfer-Encoding: gzip", "--body", "abc"], "Transfer-Encoding"),
    (["-H", "Transfer-Encoding: chunked", "-H", "Content-Length: 3", "--body", "abc"], "contradict"),
    (["-H", "Host: a", "-H", "host: b"], "host is given more than once"),
    (["-H", "User-Agent: a", "-H", "user-agent: b"], "user-agent is given more than once"),
    (["-H", "Connection: a", "-H", "CONNECTION: b"], "CONNECTION is given more than once"),
    (["-H", "Host: a b"], "is not a host"),
    (["-H", "Bad Name: x"], "-H"),
    (["-X", "GE T"], "-X"),
])
def test_quick_mode_framing_contradictions_are_refused(cap, args, needle):
    p = run("--url", cap.url + "/x", *args)
    assert p.returncode == 104, p.stderr
    assert needle in p.stderr, p.stderr
    assert cap.parsed() == []


@pytest.mark.parametrize("step,needle,line,col", [
    ('post: /a\n        headers: {Content-Length: "9"}\n        body: abc', "contradicts the body", 6, 9),
    ('post: /a\n        headers: {Content-Length: "3"}\n        body: "{{vu}}x"', "varies per request", 6, 9),
    ('post: /a\n        headers: {Transfer-Encoding: gzip}\n        body: abc', "Transfer-Encoding", 6, 9),
    ('get: /a\n        headers: {Host: a, host: b}', "host is given more than once", 6, 9),
    ('post: /a\n        headers: {User-Agent: a, user-agent: b}\n        body: x', "user-agent is given more than once", 6, 9),
    ('post: /a\n        headers: {content-type: text/x, Content-Type: text/y}\n        json: {a: 1}', "Content-Type is given more than once", 6, 9),
    ('post: /a\n        headers: {Content-Length: "{{vu}}"}\n        body: abc', "cannot be a template", 6, 9),
    ('post: /a\n        headers: {Transfer-Encoding: "{{rand_choice chunked}}"}\n        body: abc', "cannot be a template", 6, 9),
    ('get: /a\n        headers: {Host: ""}', "is not a host", 6, 9),
    ('get: "/a/{{env.}}"', "with a name", 6, 18),
    ('post: /a\n        body: "x\\u0000y"', "NUL character", 7, 15),
    ('get: /a\n        headers: {X-A: "{{env.NL}}"}', "line break", 7, 25),
])
def test_plan_framing_contradictions_are_errors_at_load(cap, tmp_path, step, needle, line, col):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {cap.url}\nmodules:\n  m:\n    {ONE}\n    flow:\n      - {step}\n")
    for cmd in ("validate", "run"):
        p = run_strain(cmd, str(plan), "-e", "NL=a\nb", timeout=30) if cmd == "run" else \
            run_strain(cmd, str(plan), timeout=30)
        if cmd == "validate" and "env.NL" in step:
            continue  # validate has no -e; the environment decides
        assert p.returncode == 104, (cmd, p.stderr)
        assert needle in p.stderr, p.stderr
        assert f"plan.yaml:{line}:{col}" in p.stderr, p.stderr
    assert cap.parsed() == []


def test_plan_chunked_body(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            {ONE}
            flow:
              - post: /c/{{{{vu}}}}
                headers: {{Transfer-Encoding: chunked}}
                json: {{a: "{{{{vu}}}}"}}
        """)
    p = run(str(plan))
    assert p.returncode == 0, p.stderr
    (_, f, body), = cap.parsed()
    assert values(f, "Transfer-Encoding") == ["chunked"]
    assert values(f, "Content-Length") == []
    assert body == b'7\r\n{"a":1}\r\n0\r\n\r\n'


@pytest.mark.parametrize("value,fresh", [("close", True), ("keep-alive, Close", True), ("keep-alive", False)])
def test_users_connection_close_is_honoured(cap, tmp_path, value, fresh):
    """A client that sent Connection: close sends nothing more on that
    connection, even when the server (this one) keeps it open."""
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            executor: {{type: shared-iterations, vus: 1, iterations: 3}}
            flow:
              - get: /c
                headers: {{Connection: "{value}"}}
        """)
    p = run(str(plan))
    assert p.returncode == 0, p.stderr
    assert [values(f, "Connection") for _, f, _ in cap.parsed()] == [[value]] * 3
    assert cap.conn_of == ([0, 1, 2] if fresh else [0, 0, 0])
    p = run("--url", cap.url + "/q", "--iterations", "2", "-H", f"Connection: {value}")
    assert p.returncode == 0, p.stderr
    quick = cap.conn_of[3:]
    assert len(quick) == 2 and (quick[0] != quick[1]) == fresh


@pytest.mark.parametrize("n,code", [("2", 0), ("3", 99)])
def test_env_templates_in_tags_checks_and_thresholds(cap, tmp_path, n, code):
    """{{env.NAME}} is expanded wherever a plan takes text literally too:
    module tag values, check values, threshold keys and expressions."""
    plan = plan_file(tmp_path, cap.url, f"""
        modules:
          m:
            executor: {{type: shared-iterations, vus: 1, iterations: 2}}
            tags: {{team: "{{{{env.TEAM}}}}"}}
            flow:
              - get: /plain
                check: {{body_contains: "{{{{env.WORD}}}}", header: {{Content-Type: "application/{{{{env.KIND}}}}"}}}}
        thresholds:
          "http_reqs{{team:{{{{env.TEAM}}}}}}": ["count=={{{{env.N}}}}"]
          "checks": ["rate=={{{{env.ONE}}}}"]
        """)
    out = tmp_path / "s.json"
    samples = tmp_path / "samples.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), "--out", f"json={samples}",
                   "-e", "TEAM=core", "-e", "WORD=plain-token", "-e", "KIND=json", "-e", f"N={n}", "-e", "ONE=1",
                   timeout=60)
    assert p.returncode == code, p.stderr
    s = json.loads(out.read_text())
    assert s["metrics"]["checks"]["passes"] == 4 and s["metrics"]["checks"]["fails"] == 0
    assert [t["ok"] for t in s["thresholds"]] == [code == 0, True]
    teams = {json.loads(line)["data"]["tags"].get("team") for line in samples.read_text().splitlines()
             if json.loads(line).get("type") == "Point" and json.loads(line)["metric"] == "http_reqs"}
    assert teams == {"core"}


def test_templated_connection_close_and_separators_inside_templates(cap, tmp_path):
    """A Connection header that only expands to "close" per request still
    closes; a '?' or '#' inside a template is the value's, not the URL's."""
    plan = plan_file(tmp_path, cap.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 3}
            setup:
              - get: /plain
                extract: {tok: $.token}
            flow:
              - get: "/a/{{rand_choice x?y}}?q={{rand_choice a#b}}"
                headers: {Connection: "keep-alive, {{rand_choice close}}"}
        """)
    p = run(str(plan))
    assert p.returncode == 0, p.stderr
    lines = [r[0] for r in cap.parsed()]
    assert lines[1:] == ["GET /a/x%3Fy?q=a%23b HTTP/1.1"] * 3
    # each flow request closes its connection: the next one opens a new one
    assert len(set(cap.conn_of[1:])) == 3


def test_extracted_host_that_is_not_a_host_fails_the_request(cap, tmp_path):
    plan = plan_file(tmp_path, cap.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 2}
            setup:
              - get: /bad-host
                extract: {h: $.h}
            flow:
              - get: /h
                headers: {Host: "{{h}}"}
        """)
    cap.responses["/bad-host"] = json_body(200, {"h": "a b"})
    p, s = export(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert [r[0] for r in cap.parsed()] == ["GET /bad-host HTTP/1.1"]
    assert s["errors"]["1730"]["count"] == 2
