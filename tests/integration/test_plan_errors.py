"""Malformed plans: every one is rejected before any traffic with exit 104
and a message that names file:line:col and what was expected."""
import subprocess
import textwrap

import pytest

from conftest import STRAIN, run_strain

GOOD_MODULE = """
modules:
  m:
    executor: {type: constant-vus, vus: 1, duration: 1s}
    flow:
      - get: /health
"""

# (name, plan text, line, col, substring of the message)
CASES = [
    ("bad yaml", "target: http://127.0.0.1:1\nmodules: {a: [}\n", 2, None, "invalid YAML"),
    ("not a mapping", "- just\n- a list\n", 1, 1, "a plan is a mapping"),
    ("empty file", "", 1, 1, "empty"),
    ("no modules", "target: http://127.0.0.1:1\n", 1, 1, "no 'modules'"),
    ("unknown top key", "target: http://127.0.0.1:1\nmodulez: {}\n" + GOOD_MODULE, 2, 1, "did you mean 'modules'"),
    ("bad target", "target: ftp://x\n" + GOOD_MODULE, 1, 9, "http://"),
    # Routing through a proxy runs only on a plan that compiled: a request
    # without a URL to route by crashed the loader.
    ("bad target behind a proxy", "target: http://127.0.0.1::080\nproxy: http://127.0.0.1:3128\n" + GOOD_MODULE,
     1, 9, "invalid port"),
    ("bad request URL behind a proxy", "proxy: http://127.0.0.1:3128\nmodules:\n  m:\n"
     "    executor: {type: constant-vus, vus: 1, duration: 1s}\n    flow: [{get: 'http://127.0.0.1:x/'}]\n",
     5, 18, "invalid port"),
    ("target with path", "target: http://127.0.0.1:1/api\n" + GOOD_MODULE, 1, 9, "only scheme, host and port"),
    ("module not a mapping", "target: http://127.0.0.1:1\nmodules:\n  m: 3\n", 3, 6, "expected a mapping"),
    ("missing executor", "target: http://127.0.0.1:1\nmodules:\n  m:\n    flow: [{get: /}]\n", 4, 5, "'executor' is required"),
    ("unknown executor type", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {type: constant-vu, vus: 1, duration: 1s}\n    flow: [{get: /}]\n",
     4, 22, "did you mean 'constant-vus'"),
    ("vus not a number", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {type: constant-vus, vus: many, duration: 1s}\n    flow: [{get: /}]\n",
     4, 41, "whole number"),
    ("vus zero", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 0, duration: 1s}\n    flow: [{get: /}]\n",
     4, 21, "whole number from 1"),
    ("bad duration", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 10 parsecs}\n    flow: [{get: /}]\n",
     4, 34, "duration"),
    ("missing duration", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1}\n    flow: [{get: /}]\n",
     4, 15, "needs a duration"),
    ("iterations below vus", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {type: shared-iterations, vus: 5, iterations: 2}\n    flow: [{get: /}]\n",
     4, 61, "can't be less than vus"),
    ("misspelt executor key", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duraton: 1s}\n    flow: [{get: /}]\n",
     4, 24, "did you mean 'duration'"),
    ("missing flow", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n", 4, 5, "'flow' is required"),
    ("empty flow", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow: []\n",
     5, 11, "non-empty list"),
    ("flow without requests", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - think: 1s\n",
     6, 7, "makes no request"),
    ("unknown step", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - gett: /health\n",
     6, 9, "did you mean 'get'"),
    ("two methods", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        post: /b\n",
     7, 15, "one request"),
    ("path without target", "modules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /health\n",
     5, 14, "no 'target'"),
    ("relative path", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: health\n",
     6, 14, "starting with /"),
    ("undefined variable", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /profile/{{user_id}}\n",
     6, 23, "unknown variable 'user_id'"),
    ("unset env", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /x/{{env.STRAIN_TEST_SURELY_UNSET}}\n",
     6, 17, "STRAIN_TEST_SURELY_UNSET is not set"),
    ("tls not a mapping", "target: https://127.0.0.1:1\ndefaults:\n  tls: yes\n" + GOOD_MODULE, 3, 8, "tls: expected a mapping"),
    ("tls unknown key", "target: https://127.0.0.1:1\ndefaults:\n  tls: {cacrt: ca.pem}\n" + GOOD_MODULE, 3, 9, "did you mean 'cacert'"),
    ("tls missing file", "target: https://127.0.0.1:1\ndefaults:\n  tls: {cacert: no-such-ca.pem}\n" + GOOD_MODULE, 3, 17, "cacert file 'no-such-ca.pem'"),
    ("tls key without cert", "target: https://127.0.0.1:1\ndefaults:\n  tls: {key: plan.yaml}\n" + GOOD_MODULE, 3, 14, "goes with cert"),
    ("tls bad bool", "target: https://127.0.0.1:1\ndefaults:\n  tls: {resumption: sometimes}\n" + GOOD_MODULE, 3, 21, "true or false"),
    ("bad rand_int", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /jobs/{{rand_int 9 1}}\n",
     6, 20, "rand_int"),
    ("unclosed template", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /jobs/{{vu\n",
     6, 20, "closing"),
    ("unknown data alias", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /u/{{data.people.name}}\n",
     6, 17, "no data column"),
    ("missing data file", "target: http://127.0.0.1:1\ndata:\n  users: {file: nowhere.csv}\n" + GOOD_MODULE, 3, 17, "nowhere.csv"),
    ("bad data mode", "target: http://127.0.0.1:1\ndata:\n  users: {file: users.csv, mode: shuffled}\n" + GOOD_MODULE, 3, 34, "per-vu"),
    ("bad json path", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        extract: {x: $.a..b}\n",
     7, 22, "JSON path"),
    ("bad regex", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        extract: {x: {regex: \"(unclosed\"}}\n",
     7, 30, "regular expression"),
    ("bad check key", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        check: {stauts: 200}\n",
     7, 17, "did you mean 'status'"),
    ("bad status", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        check: {status: 700}\n",
     7, 25, "status (100-599)"),
    ("two bodies", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - post: /a\n        json: {a: 1}\n        body: x\n",
     6, 9, "one body"),
    ("bad think", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n      - think: 3s..1s\n",
     7, 16, "low..high"),
    ("choose without steps", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n      - choose:\n          - weight: 3\n",
     8, 13, "'steps' is required"),
    ("bad threshold expression", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "thresholds:\n  http_req_duration: [\"p95<200\"]\n",
     9, 23, "expected p(N)"),
    ("threshold unknown metric", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "thresholds:\n  http_req_duraton: [\"p(95)<200\"]\n",
     9, 3, "unknown metric"),
    ("threshold wrong aggregation", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "thresholds:\n  http_req_failed: [\"p(95)<200\"]\n",
     9, 21, "is a rate"),
    ("module in two groups", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "strategies:\n  hybrid: {groups: [[m], [m]]}\n",
     9, 27, "two hybrid groups"),
    ("unknown module in group", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "strategies:\n  hybrid: {groups: [[m, n]]}\n",
     9, 25, "no module named 'n'"),
    ("bad strategy key", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "strategies:\n  paralel: {}\n",
     9, 3, "did you mean 'parallel'"),
    ("bad header name", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        headers: {\"Bad Name\": x}\n",
     7, 19, "header names"),
    ("template in host", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: http://h{{vu}}/a\n",
     6, 14, "not in the scheme or host"),
    ("duplicate key", "target: http://127.0.0.1:1\ntarget: http://127.0.0.1:2\n" + GOOD_MODULE, 2, 1, "duplicate key 'target'"),
    ("group without regex", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        extract: {x: {json: $.a, group: 1}}\n",
     7, 41, "'group' belongs with 'regex'"),
    ("parallel with options", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "strategies:\n  parallel: {foo: 1}\n",
     9, 13, "takes no options"),
    ("module twice in order", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "strategies:\n  sequential: {order: [m, m]}\n",
     9, 27, "listed twice"),
    ("template in header name", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        headers: {\"X-{{vu}}\": a}\n",
     7, 19, "header names"),
    ("duplicate module", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "  m:\n    executor: {vus: 1, duration: 1s}\n    flow: [{get: /}]\n",
     8, 3, "duplicate key 'm' in modules"),
    ("duplicate header", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        headers: {X: 1, X: 2}\n",
     7, 25, "duplicate key 'X' in headers"),
    ("unknown output kind", "target: http://127.0.0.1:1\n" + GOOD_MODULE + "outputs: [\"statsd=127.0.0.1:8125\"]\n",
     8, 11, "unknown kind"),
    # Under `make asan`, LeakSanitizer turns a leak on these error paths into exit 1.
    ("regex group out of range", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        extract: {x: {regex: \"(a)\", group: 5}, y: {regex: \"(b)\", group: 1}}\n",
     7, 44, "from 0 to 1"),
    ("bad check regex", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {vus: 1, duration: 1s}\n    flow:\n      - get: /a\n        check: {body_matches: \"(a\", json: {$.a: 1}}\n",
     7, 31, "missing closing parenthesis"),
    ("deep yaml", "target: http://127.0.0.1:1\nmodules: " + "[" * 100 + "]" * 100 + "\n", 2, 73, "nested deeper than 64"),
    ("unclosed flow sequence", "target: http://127.0.0.1:1\nmodules: {m: [\n", 3, None, "opened at 2:14 is not closed"),
    ("data file with short row", "target: http://127.0.0.1:1\ndata:\n  users: {file: short.csv}\n" + GOOD_MODULE, 3, 17, "short.csv:3: 1 field where the header has 2"),
    ("hex rate", "target: http://127.0.0.1:1\nmodules:\n  m:\n    executor: {type: constant-arrival-rate, rate: 0x10, duration: 1s, preAllocatedVUs: 1}\n    flow: [{get: /}]\n",
     4, 51, "expected a number"),
]


@pytest.mark.parametrize("name,text,line,col,needle", CASES, ids=[c[0] for c in CASES])
def test_malformed_plan(tmp_path, name, text, line, col, needle):
    (tmp_path / "users.csv").write_text("name\nann\n")
    (tmp_path / "short.csv").write_text("name,age\nann,3\nbob\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    for cmd in (["validate", str(plan)], ["run", str(plan), "--quiet"]):
        p = run_strain(*cmd, timeout=30)
        assert p.returncode == 104, (cmd, p.returncode, p.stderr)
        where = f"{plan}:{line}:" + (f"{col}:" if col else "")
        assert where in p.stderr, (where, p.stderr)
        assert needle in p.stderr, (needle, p.stderr)
        assert "http_reqs" not in p.stdout  # nothing ran


def test_many_errors_reported_at_once(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        target: http://127.0.0.1:1
        modules:
          a:
            executor: {vus: x, duration: 1s}
            flow: [{get: /a}]
          b:
            executor: {vus: 1, duration: forever}
            flow:
              - get: /b/{{nope}}
        """))
    p = run_strain("validate", str(plan))
    assert p.returncode == 104
    assert f"{plan}:4:" in p.stderr and f"{plan}:7:" in p.stderr and f"{plan}:9:" in p.stderr


def test_example_suite_is_valid():
    import os
    suite = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "suite.yaml")
    p = run_strain("validate", suite)
    assert p.returncode == 0, p.stderr
    assert "4 modules" in p.stdout


def test_a_request_too_large_only_through_the_proxy_names_its_step(tmp_path):
    """A request that fits alone but not with the proxy's absolute-form
    request line fails when the loader routes it, after the steps were
    compiled: the error still names the step (it used to have no position)."""
    (tmp_path / "body.bin").write_bytes(b"\0" * (64 << 20))
    plan = tmp_path / "plan.yaml"

    def validate(pad, proxy):
        # proxy: last, so the step stays on line 6 either way.
        plan.write_text(textwrap.dedent(f"""\
            target: http://127.0.0.1:9
            modules:
              m:
                executor: {{type: shared-iterations, vus: 1, iterations: 1}}
                flow:
                  - post: /upload
                    headers: {{X-Pad: "{'a' * pad}"}}
                    file: body.bin
            """) + ("proxy: http://127.0.0.1:3128\n" if proxy else ""))
        return subprocess.run([STRAIN, "validate", str(plan)], capture_output=True, text=True, timeout=60)

    # The longest header with which the request fits, found by bisection.
    lo, hi = 64000, 66000   # the head limit is 64 KiB past the body's
    assert validate(lo, False).returncode == 0
    assert validate(hi, False).returncode == 104
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if validate(mid, False).returncode == 0 else (lo, mid)
    p = validate(lo, True)
    assert p.returncode == 104, p.stderr
    assert p.stderr.strip() == f"{plan}:6:9: request too large (limit 64 MiB)", p.stderr
