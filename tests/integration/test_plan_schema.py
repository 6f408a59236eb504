"""docs/plan.schema.json (the editor schema) agrees with the plan loader:
it accepts the example suite, the plans of test_plan_run.py and the
examples of docs/plan-format.md, and rejects malformed plans that
`strain validate` rejects too."""
import ast
import json
import os
import re
import shutil
import textwrap

import pytest

from conftest import run_strain

jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
HERE = os.path.dirname(__file__)
TARGET = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def validator():
    with open(os.path.join(ROOT, "docs", "plan.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator, text):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(yaml.safe_load(text))]


def loader_accepts(tmp_path, text):
    for name, body in (("users.csv", "username,password\nuser1,pw1\n"), ("ids.csv", "id\n1\n2\n")):
        (tmp_path / name).write_text(body)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    # test_plan_run.py's outputs plan names its file with -e POINTS=...
    p = run_strain("validate", str(plan), "-e", f"POINTS={tmp_path / 'points.json'}", timeout=30)
    return p.returncode == 0, p.stderr


def run_plans():
    """The plan texts written by test_plan_run.py, taken from its source, plus
    the one it builds in code (strategies)."""
    with open(os.path.join(HERE, "test_plan_run.py")) as f:
        tree = ast.parse(f.read())
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    plans = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
                and "\nmodules:" in textwrap.dedent(node.value)):
            plans.append(f"target: {TARGET}\n" + textwrap.dedent(node.value).replace("%s", "1000"))
    mods = "".join(f"  {m}:\n    executor: {{type: constant-vus, vus: 2, duration: 1500ms}}\n"
                   "    flow:\n      - get: /health\n      - think: 20ms\n" for m in "abcd")
    plans.append(f"target: {TARGET}\nmodules:\n{mods}strategies:\n  sequential: {{pause: 200ms}}\n"
                 "  hybrid: {groups: [[a, b], [c, d]], recovery: 200ms}\n  all: {recovery: 200ms}\n")
    return plans


def doc_examples():
    with open(os.path.join(ROOT, "docs", "plan-format.md")) as f:
        return [b for b in re.findall(r"```yaml\n(.*?)```", f.read(), re.S) if b.startswith("# example:")]


def test_example_suite(validator):
    with open(os.path.join(ROOT, "examples", "suite.yaml")) as f:
        text = f.read()
    assert text.startswith("# yaml-language-server: $schema=../docs/plan.schema.json\n")
    assert schema_errors(validator, text) == []


def test_run_plans(validator, tmp_path):
    plans = run_plans()
    assert len(plans) >= 9
    for text in plans:
        assert schema_errors(validator, text) == [], text
        ok, err = loader_accepts(tmp_path, text)
        assert ok, (text, err)


def test_doc_examples(validator, tmp_path):
    examples = doc_examples()
    assert len(examples) >= 2
    for text in examples:
        assert schema_errors(validator, text) == [], text
        ok, err = loader_accepts(tmp_path, text)
        assert ok, (text, err)


GOOD = f"""target: {TARGET}
modules:
  m:
    executor: {{type: constant-vus, vus: 2, duration: 1s}}
    flow:
      - get: /health
"""

# Plans using each newer executor type, their options and outputs: the
# loader and the schema both accept them.
NEW_EXECUTORS = {
    "ramping-vus": "{type: ramping-vus, startVUs: 0, stages: [{duration: 1s, target: 5}, {duration: 1s, target: 0}], "
                   "gracefulRampDown: 1s, startTime: 1s, gracefulStop: 2s}",
    "constant-arrival-rate": "{type: constant-arrival-rate, rate: 20, timeUnit: 1s, duration: 2s, "
                             "preAllocatedVUs: 2, maxVUs: 10, queue: true, startTime: 0s}",
    "constant-arrival-rate, fractional rate, no maxVUs": "{type: constant-arrival-rate, rate: 0.5, duration: 4s, "
                                                          "preAllocatedVUs: 1}",
    "constant-arrival-rate, preAllocatedVUs 0": "{type: constant-arrival-rate, rate: 5, duration: 1s, "
                                                "preAllocatedVUs: 0, maxVUs: 3}",
    "ramping-arrival-rate": "{type: ramping-arrival-rate, startRate: 1.5, timeUnit: 1m, preAllocatedVUs: 1, "
                            "maxVUs: 4, stages: [{duration: 1s, target: 10.5}, {duration: 1s, target: 0}], "
                            "queue: false, gracefulStop: 1s}",
    "env templates": '{type: ramping-arrival-rate, preAllocatedVUs: "{{env.N}}", '
                     'stages: [{duration: "{{env.D}}", target: "{{env.N}}"}]}',
}


def executor_plan(executor):
    return (f"target: {TARGET}\nenv: {{N: '3', D: 2s, OUT: run.json}}\n"
            f"outputs: [influxdb=http://127.0.0.1:8086/k6, csv=run.csv, \"json={{{{env.OUT}}}}\"]\n"
            f"modules:\n  m:\n    executor: {executor}\n    flow:\n      - get: /health\n")


@pytest.mark.parametrize("executor", list(NEW_EXECUTORS.values()), ids=list(NEW_EXECUTORS))
def test_new_executors_and_outputs_accepted(validator, tmp_path, executor):
    text = executor_plan(executor)
    assert schema_errors(validator, text) == [], text
    ok, err = loader_accepts(tmp_path, text)
    assert ok, (text, err)


def test_every_threshold_metric_accepted_by_both(validator, tmp_path):
    """Each built-in metric (k6's and strain's arrival-rate ones) in a
    threshold, with a negated tag filter: the loader and the schema agree."""
    agg = {"count": ["http_reqs", "iterations", "data_sent", "data_received", "dropped_iterations"],
           "rate": ["http_req_failed", "checks"],
           "value": ["vus", "vus_max"],
           "max": ["http_req_duration", "http_req_blocked", "http_req_connecting", "http_req_tls_handshaking",
                   "http_req_sending", "http_req_waiting", "http_req_receiving", "iteration_duration",
                   "group_duration", "iteration_start_delay"]}
    for a, metrics in agg.items():
        for m in metrics:
            text = executor_plan(NEW_EXECUTORS["constant-arrival-rate"]) + \
                f'thresholds:\n  "{m}{{!group:::setup}}": ["{a}>=0"]\n'
            assert schema_errors(validator, text) == [], m
            ok, err = loader_accepts(tmp_path, text)
            assert ok, (m, err)


def test_arrival_rate_needs_preallocated_vus(validator, tmp_path):
    for kind, executor in (("constant-arrival-rate", "{type: constant-arrival-rate, rate: 10, duration: 1s, maxVUs: 5}"),
                           ("ramping-arrival-rate",
                            "{type: ramping-arrival-rate, stages: [{duration: 1s, target: 10}], maxVUs: 5}")):
        text = executor_plan(executor)
        ok, err = loader_accepts(tmp_path, text)
        assert not ok
        assert f"module m: {kind} needs preAllocatedVUs" in err, err
        errors = schema_errors(validator, text)
        assert any("'preAllocatedVUs' is a required property" in e for e in errors), errors


def ex(executor):
    return GOOD.replace("{type: constant-vus, vus: 2, duration: 1s}", executor)


# (name, text): the loader rejects each; so must the schema.
BAD = [
    ("unknown top key", GOOD + "modulez: {}\n"),
    ("unknown module key", GOOD.replace("    flow:", "    flows: []\n    flow:")),
    ("wrong executor type", GOOD.replace("constant-vus", "constant-vu")),
    ("options of another executor type", GOOD.replace("constant-vus", "ramping-vus")),
    ("maxDuration on constant-vus", ex("{vus: 2, duration: 1s, maxDuration: 1s}")),
    ("queue on a closed executor", ex("{type: per-vu-iterations, iterations: 2, queue: true}")),
    ("vus on an arrival rate", ex("{type: constant-arrival-rate, rate: 1, duration: 1s, preAllocatedVUs: 1, vus: 2}")),
    ("ramping-vus without stages", ex("{type: ramping-vus, startVUs: 2}")),
    ("fractional VU target", ex("{type: ramping-vus, stages: [{duration: 1s, target: 2.5}]}")),
    ("stage without target", ex("{type: ramping-vus, stages: [{duration: 1s}]}")),
    ("unknown stage key", ex("{type: ramping-vus, stages: [{duration: 1s, target: 1, hold: 1s}]}")),
    ("empty stages", ex("{type: ramping-arrival-rate, preAllocatedVUs: 1, stages: []}")),
    ("constant-arrival-rate without rate", ex("{type: constant-arrival-rate, duration: 1s, preAllocatedVUs: 1}")),
    ("rate zero", ex("{type: constant-arrival-rate, rate: 0, duration: 1s, preAllocatedVUs: 1}")),
    ("negative start rate", ex("{type: ramping-arrival-rate, startRate: -1, preAllocatedVUs: 1, "
                               "stages: [{duration: 1s, target: 1}]}")),
    ("preAllocatedVUs 0 without maxVUs", ex("{type: constant-arrival-rate, rate: 1, duration: 1s, preAllocatedVUs: 0}")),
    ("maxVUs zero", ex("{type: constant-arrival-rate, rate: 1, duration: 1s, preAllocatedVUs: 0, maxVUs: 0}")),
    ("ramping-arrival-rate with duration", ex("{type: ramping-arrival-rate, preAllocatedVUs: 1, duration: 1s, "
                                              "stages: [{duration: 1s, target: 1}]}")),
    ("outputs not a list", GOOD + "outputs: json=run.json\n"),
    ("output without =", GOOD + "outputs: [run.json]\n"),
    ("too many tags", GOOD.replace("    flow:", "    tags: {%s}\n    flow:" % ", ".join(f"t{i}: v" for i in range(9)))),
    ("group without regex", GOOD + "        extract: {x: {json: $.a, group: 1}}\n"),
    ("parallel with options", GOOD + "strategies:\n  parallel: {recovery: 1s}\n"),
    ("all not a mapping", GOOD + "strategies:\n  all: 5s\n"),
    ("module twice in order", GOOD + "strategies:\n  sequential: {order: [m, m]}\n"),
    ("template in header name", GOOD + "        headers: {\"X-{{vu}}\": a}\n"),
    ("bad duration", GOOD.replace("duration: 1s", "duration: 10 parsecs")),
    ("unknown dns key", GOOD + "dns: {polcy: any}\n"),
    ("dns select misspelt", GOOD + "dns: {select: roundrobin}\n"),
    ("dns ttl not a duration", GOOD + "dns: {ttl: forever}\n"),
    ("hosts not a mapping", GOOD + "hosts: [a.test]\n"),
    ("local_ips empty list", GOOD + "local_ips: []\n"),
    ("proxy over https", GOOD + "proxy: https://127.0.0.1:3128\n"),
    ("unknown proxy key", GOOD + "proxy: {htps: http://127.0.0.1:3128}\n"),
    ("duration with iterations executor", GOOD.replace("type: constant-vus", "type: shared-iterations, iterations: 5")),
    ("missing iterations", GOOD.replace("type: constant-vus, vus: 2, duration: 1s", "type: per-vu-iterations")),
    ("bad data mode", GOOD + "data:\n  users: {file: users.csv, mode: shuffled}\n"),
    ("unknown check key", GOOD + "        check: {stauts: 200}\n"),
    ("bad extraction", GOOD + "        extract: {x: {json: $.a, header: X}}\n"),
    ("two bodies", GOOD.replace("get: /health", "post: /cart\n        json: {a: 1}\n        body: x")),
    ("think with junk", GOOD + "      - think: 1s\n        name: x\n"),
    ("unknown threshold metric", GOOD + "thresholds:\n  http_req_duraton: [\"p(95)<200\"]\n"),
    ("bad threshold expression", GOOD + "thresholds:\n  http_req_duration: [\"p95<200\"]\n"),
    ("bad strategy key", GOOD + "strategies:\n  paralel: {}\n"),
    ("hybrid without groups", GOOD + "strategies:\n  hybrid: {recovery: 1s}\n"),
]


@pytest.mark.parametrize("name,text", BAD, ids=[b[0] for b in BAD])
def test_malformed_rejected(validator, tmp_path, name, text):
    ok, _ = loader_accepts(tmp_path, text)
    assert not ok, "the loader accepts it; the case is wrong"
    assert schema_errors(validator, text), "the schema accepts it"


# Cases of test_plan_errors.py whose problem is structural, so the schema
# sees it too (the others need the loader: references, files, templates).
STRUCTURAL = {"not a mapping", "no modules", "unknown top key", "bad target", "target with path",
              "module not a mapping", "missing executor", "unknown executor type", "vus not a number",
              "vus zero", "bad duration", "missing duration", "misspelt executor key", "missing flow",
              "empty flow", "unknown step", "two methods", "relative path", "bad data mode", "bad check key",
              "bad status", "two bodies", "choose without steps", "bad threshold expression",
              "threshold unknown metric", "bad strategy key", "bad header name", "group without regex",
              "parallel with options", "module twice in order", "template in header name"}


def test_structural_error_cases_rejected(validator):
    from test_plan_errors import CASES
    seen = 0
    for name, text, *_ in CASES:
        if name in STRUCTURAL:
            seen += 1
            assert schema_errors(validator, text), name
    assert seen == len(STRUCTURAL)
