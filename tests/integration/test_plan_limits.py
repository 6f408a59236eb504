"""Plans that are deep, huge or full of aliases are accepted or refused
quickly and in bounded memory, and YAML syntax errors say where the open
construct began. Timeouts are generous bounds, not timing assertions."""
import pytest

from conftest import run_strain

HEAD = "target: http://127.0.0.1:1\n"
MODULE = """modules:
  m:
    executor: {type: shared-iterations, vus: 1, iterations: 1}
    flow:
      - get: /a
"""


def validate(tmp_path, text, name="plan.yaml", timeout=20):
    plan = tmp_path / name
    plan.write_text(text)
    return plan, run_strain("validate", str(plan), timeout=timeout)


@pytest.mark.parametrize("depth", [65, 200_000])
def test_deep_flow_sequence_is_refused_with_its_position(tmp_path, depth):
    plan, p = validate(tmp_path, HEAD + "modules: " + "[" * depth + "]" * depth + "\n")
    assert p.returncode == 104, p.stderr
    assert f"{plan}:2:" in p.stderr and "nested deeper than 64" in p.stderr


def test_deep_flow_mapping_and_block_mapping_are_refused(tmp_path):
    _, p = validate(tmp_path, HEAD + "x: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n")
    assert p.returncode == 104 and "nested deeper than 64" in p.stderr, p.stderr
    block = "".join(" " * i + f"k{i}:\n" for i in range(5000)) + " " * 5000 + "v\n"
    _, p = validate(tmp_path, HEAD + block)
    assert p.returncode == 104 and "nested deeper than 64" in p.stderr, p.stderr


def test_nesting_at_the_limit_is_still_parsed(tmp_path):
    # 64 levels are fine for YAML (the plan then says what is wrong with it).
    _, p = validate(tmp_path, HEAD + MODULE + "x: " + "[" * 63 + "]" * 63 + "\n")
    assert "nested deeper" not in p.stderr, p.stderr
    assert "unknown key 'x'" in p.stderr


@pytest.mark.parametrize("where", ["env", "json"])
def test_billion_laughs_is_refused(tmp_path, where):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        n, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{n}: &{n} [" + ",".join([f"*{prev}"] * 9) + "]")
    anchors = "".join("  " + l + "\n" for l in lines)
    text = (HEAD + "env:\n" + anchors + "modules:\n  m:\n"
            "    executor: {type: shared-iterations, vus: 1, iterations: 1}\n"
            "    flow:\n      - post: /x\n        json: *j\n")
    plan, p = validate(tmp_path, text)
    assert p.returncode == 104, p.stderr
    assert "more than 2,000,000 nodes" in p.stderr and f"{plan}:" in p.stderr


def test_alias_of_a_huge_string_is_refused(tmp_path):
    big = "x" * (1 << 20)
    text = HEAD + f"env:\n  big: &big {big}\n" + "  l: [" + ",".join(["*big"] * 100) + "]\n" + MODULE
    _, p = validate(tmp_path, text)
    assert p.returncode == 104 and "64 MiB of text" in p.stderr, p.stderr[:500]


def test_recursive_alias_is_refused(tmp_path):
    _, p = validate(tmp_path, HEAD + MODULE + "x: &a [*a, *a]\n")
    assert p.returncode == 104 and "inside the node it names" in p.stderr, p.stderr


def test_aliases_still_work(tmp_path):
    text = HEAD + """env:
  X: &x abc
  Y: *x
modules:
  a:
    executor: &ex {type: shared-iterations, vus: 1, iterations: 1}
    flow: &flow
      - get: /a
  b:
    executor: *ex
    flow: *flow
"""
    _, p = validate(tmp_path, text)
    assert p.returncode == 0, p.stderr
    assert "2 modules" in p.stdout


def many_modules(n, extra=""):
    lines = [HEAD.strip(), "modules:"]
    for i in range(n):
        lines.append(f"  m{i}: {{executor: {{type: shared-iterations, vus: 1, iterations: 1}}, "
                     f"flow: [{{group: g{i}, steps: [{{get: /x{i}, check: {{status: 200}}}}]}}]}}")
    order = ",".join(f"m{i}" for i in range(n))
    half = n // 2
    lines.append("strategies:")
    lines.append(f"  sequential: {{order: [{extra}{order}]}}")
    lines.append("  hybrid: {groups: [[" + ",".join(f"m{i}" for i in range(half)) + "],["
                 + ",".join(f"m{i}" for i in range(half, n)) + "]]}")
    return "\n".join(lines) + "\n"


def test_forty_thousand_modules_validate(tmp_path):
    # Well under a second in a normal build (the quadratic checks took
    # minutes); the bound is generous for the ASan build.
    _, p = validate(tmp_path, many_modules(40_000), timeout=180)
    assert p.returncode == 0, p.stderr[:2000]
    assert "40000 modules" in p.stdout


def test_forty_thousand_modules_with_a_misspelt_reference(tmp_path):
    plan, p = validate(tmp_path, many_modules(40_000, extra="m39999x,"), timeout=180)
    assert p.returncode == 104
    assert "no module named 'm39999x'; did you mean 'm39999'?" in p.stderr, p.stderr[:2000]


def test_many_duplicate_and_unknown_keys_are_reported_quickly(tmp_path):
    keys = "".join(f"  k{i % 1000}: 1\n" for i in range(200_000))
    _, p = validate(tmp_path, HEAD + "env:\n" + keys + MODULE)
    assert p.returncode == 104 and "duplicate key 'k0' in env" in p.stderr
    assert "more errors not shown" in p.stderr
    step = "".join(f"        bogus{i}: 1\n" for i in range(200_000))
    _, p = validate(tmp_path, HEAD + MODULE + step)
    assert p.returncode == 104 and "unknown key 'bogus0'" in p.stderr


def test_too_many_variables_in_a_module(tmp_path):
    ex = ", ".join(f"v{i}: $.a" for i in range(65))
    _, p = validate(tmp_path, HEAD + MODULE + f"        extract: {{{ex}}}\n")
    assert p.returncode == 104 and "at most 64 variables" in p.stderr, p.stderr


@pytest.mark.parametrize("text,where,needle", [
    (HEAD + "modules: [a, b\nc: 1\n", ":3:", "the flow sequence '[' opened at 2:10 is not closed"),
    (HEAD + "modules: {a: 1, b\n", ":3:", "the flow mapping '{' opened at 2:10 is not closed"),
    ('target: "http://x\nmodules: 1\n', ":3:", "the quoted string opened at 1:9 is not closed"),
    ("a: 'x\n", ":2:", "the quoted string opened at 1:4 is not closed"),
    ("a:\n  b: 1\n c: 2\n", ":3:2:", "the mapping that starts at 1:1 has its items at column 1"),
    ("a:\n  b: 1\n  c\n", ":4:", "the key at 3:3 has no ':'"),
    ('a: "\\q"\n', ":1:5:", "in the quoted string opened at 1:4"),
])
def test_syntax_errors_name_where_the_construct_began(tmp_path, text, where, needle):
    plan, p = validate(tmp_path, text)
    assert p.returncode == 104
    assert f"{plan}{where}" in p.stderr and needle in p.stderr, p.stderr


def test_bytes_that_are_not_utf8_have_a_position(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(b"target: http://127.0.0.1:1\nx: \xff\n")
    p = run_strain("validate", str(plan), timeout=20)
    assert p.returncode == 104 and f"{plan}:2:4:" in p.stderr and "UTF-8" in p.stderr, p.stderr
