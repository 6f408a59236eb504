"""What counts as a failure, and engine limits that are not outcomes:
- "errors by code" (summary text and JSON) lists only requests that failed
  by the run's own definition (--expect-status, a plan's expect);
- a regex PCRE2 gives up on (match/depth/heap limit) is error 1722 on that
  request, not "no match"."""
import json

import pytest

from conftest import count, run_strain, summary

A64 = "a" * 64  # /jobs?q= echoes the query: a body with a run of 64 'a'


def test_expected_404_is_not_listed_as_error(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/status?code=404", "--iterations", "5",
                   "--expect-status", "200-404")
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["http_req_failed"]["rate"] == 0
    assert s["errors"] == {}
    p = run_strain("run", "--url", target.url + "/fault/status?code=404", "--iterations", "5",
                   "--expect-status", "200-404", timeout=60)
    assert p.returncode == 0 and "http_reqs" in p.stdout
    assert "errors by code" not in p.stdout and "1404" not in p.stdout
    # Outside the range it is a failure, and listed.
    p, s = summary(tmp_path, "--url", target.url + "/fault/status?code=404", "--iterations", "5")
    assert s["errors"]["1404"]["count"] == 5


def test_plan_expect_decides_what_is_listed(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + """modules:
  m:
    executor: {type: shared-iterations, vus: 1, iterations: 4}
    flow:
      - get: /fault/status?code=404
        expect: [200, 404]
      - get: /fault/status?code=503
      - get: /fault/status?code=409
        expect: 200-399
""")
    p, s = summary(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert set(s["errors"]) == {"1503", "1409"}
    assert s["errors"]["1503"]["count"] == 4 and s["errors"]["1409"]["count"] == 4
    assert s["metrics"]["http_req_failed"]["passes"] == 8
    p = run_strain("run", str(plan), timeout=60)
    section = p.stdout.split("errors by code:")[1].split("\n\n")[0]
    assert "1503" in section and "1409" in section and "1404" not in section


def regex_plan(tmp_path, url, check_re=None, extract_re=None, iterations=3):
    plan = tmp_path / "plan.yaml"
    req = f"      - get: /jobs?q={A64}\n        name: search\n"
    if extract_re:
        req += f"        extract: {{found: {{regex: {json.dumps(extract_re)}}}}}\n"
    checks = "status: 200"
    if check_re:
        checks += f", body_matches: {json.dumps(check_re)}"
    req += f"        check: {{{checks}}}\n"
    plan.write_text(f"target: {url}\nmodules:\n  m:\n    executor: {{type: shared-iterations, vus: 1, "
                    f"iterations: {iterations}}}\n    flow:\n" + req)
    return plan


def checks_by_name(s):
    return s["checks"] if "checks" in s else {}


def test_catastrophic_regex_is_1722_not_no_match(target, tmp_path):
    plan = regex_plan(tmp_path, target.url, check_re="(a+)+b")
    out = tmp_path / "points.json"
    p, s = summary(tmp_path, str(plan), "--out", f"json={out}")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 3
    assert s["errors"]["1722"]["count"] == 3
    assert "limit" in s["errors"]["1722"]["description"]
    # The answer came: the sample keeps its status; only the regex check fails.
    reqs = [json.loads(line) for line in out.read_text().splitlines()
            if '"metric":"http_reqs"' in line and '"Point"' in line]
    assert len(reqs) == 3
    for r in reqs:
        assert r["data"]["tags"]["status"] == "200" and r["data"]["tags"]["error_code"] == "1722"
    text = run_strain("run", str(plan), timeout=60).stdout
    assert "1722 regex: match, depth or heap limit" in text
    assert "ok   search: status is 200  (3 passed, 0 failed)" in text
    assert "FAIL search: body matches /(a+)+b/  (0 passed, 3 failed)" in text


def test_catastrophic_extract_regex_is_1722(target, tmp_path):
    plan = regex_plan(tmp_path, target.url, extract_re="((a+)+b)")
    p, s = summary(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert s["errors"]["1722"]["count"] == 3


def test_plain_no_match_is_a_check_failure_not_an_error(target, tmp_path):
    plan = regex_plan(tmp_path, target.url, check_re="zq{3}x", extract_re="zq(x)")
    p, s = summary(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert s["errors"] == {}
    assert s["metrics"]["checks"]["passes"] == 3 and s["metrics"]["checks"]["fails"] == 3


def test_match_with_more_groups_than_match_data_is_a_match(target, tmp_path):
    """pcre2_match returns 0 for a match whose groups do not all fit the
    match data (32 pairs): that is a match, not a failure."""
    plan = regex_plan(tmp_path, target.url, check_re="(a)" * 40)
    p, s = summary(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert s["errors"] == {}
    assert s["metrics"]["checks"]["fails"] == 0 and s["metrics"]["checks"]["passes"] == 6


def limits_plan(tmp_path, url, path, extract, check):
    plan = tmp_path / "limits.yaml"
    plan.write_text(f"""target: {url}
modules:
  m:
    executor: {{type: shared-iterations, vus: 1, iterations: 2}}
    flow:
      - get: {path}
        extract: {{v: {extract}}}
        check: {check}
      - get: /next?v={{{{v}}}}
""")
    return plan


def test_json_nested_past_the_walker_is_1723_not_not_found(tmp_path):
    from capture import Capture
    deep = b"[" * 300 + b"1" + b"]" * 300
    cap = Capture({"/deep": (200, b'{"a": ' + deep + b', "b": 2}'), "/flat": (200, b'{"a": 1, "b": 2}')})
    try:
        plan = limits_plan(tmp_path, cap.url, "/deep", "{json: $.b}", '{json_exists: $.b, status: 200}')
        p, s = summary(tmp_path, str(plan))
        assert p.returncode == 0, p.stderr
        assert s["errors"]["1723"]["count"] == 2, s["errors"]
        # The same plan on a document the walker can read: no error, and
        # the extracted value reaches the next request.
        plan = limits_plan(tmp_path, cap.url, "/flat", "{json: $.b}", '{json_exists: $.b, status: 200}')
        p, s = summary(tmp_path, str(plan))
        assert s["errors"] == {}
        assert s["metrics"]["checks"]["rate"] == 1
        assert [r[0] for r in cap.parsed()][-1] == "GET /next?v=2 HTTP/1.1"
    finally:
        cap.stop()


def test_check_on_a_body_past_the_kept_4_mib_is_1724(tmp_path):
    from capture import Capture
    big = b"x" * (5 * 1024 * 1024) + b"needle"
    cap = Capture({"/big": (200, big), "/small": (200, b"x" * 1024 + b"needle")})
    try:
        plan = limits_plan(tmp_path, cap.url, "/big", '{regex: "need(le)"}', "{body_contains: needle}")
        p, s = summary(tmp_path, str(plan))
        assert p.returncode == 0, p.stderr
        assert s["errors"]["1724"]["count"] == 2, s["errors"]
        # A check that passes on the first 4 MiB needs no excuse.
        plan = limits_plan(tmp_path, cap.url, "/big", '{regex: "(x+)"}', "{body_contains: xxx}")
        p, s = summary(tmp_path, str(plan))
        assert "1724" not in s["errors"]
        plan = limits_plan(tmp_path, cap.url, "/small", '{regex: "need(le)"}', "{body_contains: needle}")
        p, s = summary(tmp_path, str(plan))
        assert s["errors"] == {} and s["metrics"]["checks"]["rate"] == 1
    finally:
        cap.stop()


def test_a_failure_by_status_alone_is_listed(target, tmp_path):
    """A 200 where only 404 was expected fails with no error code (as in
    k6): it is still listed, by its status, so the listing adds up."""
    p, s = summary(tmp_path, "--url", target.url + "/health", "--iterations", "5", "--expect-status", "404")
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["http_req_failed"]["passes"] == 5
    assert s["errors"] == {"status:200": {"count": 5, "description": "outside the expected statuses"}}
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "5", "--expect-status", "404", timeout=60)
    assert "status 200 outside the expected statuses" in p.stdout
