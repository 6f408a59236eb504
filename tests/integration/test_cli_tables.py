"""The option tables behind `strain run/target/validate/demo`: every flag the
usage text shows parses (long form, alias, --name=value), every one is in the
README's (or docs/target.md's) flag tables, and the table's errors — unknown
flags with a near miss, k6 flags strain lacks, repeated flags, missing
values, values given to switches — exit 2 and name the flag as typed.

Nothing here sends traffic: each command line ends with an unknown flag
(`--zz-end`), so a flag that parsed reaches it and the run stops there with
exit 2 and "unknown flag --zz-end"; a flag that did not parse stops earlier,
with its own message."""
import os
import re

import pytest

from conftest import run_strain

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
END = "--zz-end"
LINE = re.compile(r"^  (?:(-\w), |    )(--[a-z][a-z0-9-]*)(?:\[=\w+\])?(?: (\S+(?: \S+')?))?(?:  |$)")


def usage(cmd):
    p = run_strain(cmd, "--help", timeout=20)
    assert p.returncode == 0, p.stderr
    return p.stdout


def flags(cmd):
    """(alias or None, long name, placeholder or None) for each flag line."""
    out = []
    for line in usage(cmd).splitlines():
        m = LINE.match(line)
        if m:
            out.append(m.groups())
    assert len(out) >= 3, usage(cmd)
    return out


def value_for(placeholder, tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    return {
        "N": "2", "D": "1s", "A:B": "0:1/2", "I": "0", "TIME": "+1s", "R": "5", "D:T": "1s:2", "FILE": str(f), "URL": "http://127.0.0.1:1/",
        "M": "POST", "'Name: value'": "X-A: b", "TEXT": "x", "KEY=VALUE": "A=b", "KIND=ARG": "json=out.json",
        "S": "parallel", "NAME": "m", "A-B": "200-299", "ADDR:PORT": "127.0.0.1:0", "PCT": "5",
        "MODULE=N": "jobs=3", "MODULE=MS": "jobs=2", "MODULE=MIN..MAX": "profile=2..4", "MODULE[=SIZE]": "profile", "[ADDR]": "127.0.0.1:0",
        "UA": "me/1", "LIST": "avg,p(99.9)", "C": "gzip", "K=V,...": "ttl=inf",
        "LIMITS": "p95:+10%", "F": "json", "[METRIC:]EXPR": "p(95)<500", "T": "tok",
    }[placeholder]


@pytest.mark.parametrize("cmd", ["run", "target", "validate", "demo", "compare", "capacity", "collect", "merge"])
def test_every_flag_in_the_usage_parses(cmd, tmp_path):
    for alias, name, ph in flags(cmd):
        if name == "--help":
            continue
        forms = [[name]] + ([[alias]] if alias else [])
        if ph:
            v = value_for(ph, tmp_path)
            forms = [f + [v] for f in forms] + [[f"{name}={v}"]]
        for form in forms:
            p = run_strain(cmd, *form, END, timeout=20)
            assert p.returncode == 2 and f"unknown flag {END}" in p.stderr, (form, p.returncode, p.stderr)


@pytest.mark.parametrize("cmd", ["run", "target", "validate", "demo", "compare", "capacity", "collect", "merge"])
def test_help_forms(cmd):
    text = usage(cmd)
    for form in (["-h"], ["--help"]):
        p = run_strain(cmd, *form, timeout=20)
        assert p.returncode == 0 and p.stdout == text
    p = run_strain("help", cmd, timeout=20)
    assert p.returncode == 0 and p.stdout == text
    assert max(len(line) for line in text.splitlines()) <= 88, text


def table_rows(path):
    with open(os.path.join(ROOT, path)) as f:
        return [line for line in f if line.startswith("| `-")]


@pytest.mark.parametrize("cmd,doc", [("run", "README.md"), ("target", "docs/target.md"),
                                     ("compare", "docs/compare.md"), ("capacity", "docs/capacity.md"),
                                     ("collect", "docs/distributed.md"), ("merge", "docs/distributed.md")])
def test_every_flag_is_in_the_docs_table(cmd, doc):
    rows = table_rows(doc)
    for alias, name, ph in flags(cmd):
        spelled = f"{name} {ph}" if ph else name
        hits = [r for r in rows if re.search(r"`(?:-\w, )?" + re.escape(spelled) + r"`", r)]
        assert hits, f"{spelled} is not in a flag table of {doc}"
        if alias:
            assert any(alias in r for r in hits), f"{alias} ({name}) is not in {doc}'s row"


def test_the_docs_list_no_flag_the_usage_lacks():
    known = {n for _, n, _ in flags("run")} | {a for a, _, _ in flags("run") if a}
    rows = table_rows("README.md")
    start = next(i for i, r in enumerate(rows) if "--strategy" in r)
    for r in rows[start:]:
        first = r.split("|")[1]
        for f in re.findall(r"`(-\w|--[a-z][a-z0-9-]*)", first):
            assert f in known, f"README lists {f}, which strain run does not know"


@pytest.mark.parametrize("typed,want", [
    ("--bogus", "unknown flag --bogus (see 'strain help run')"),
    ("--iteration", "unknown flag --iteration: did you mean --iterations?"),
    ("-vus", "unknown flag -vus: did you mean --vus?"),
    ("--hedaer", "did you mean --header?"),
    ("--insecure", "did you mean --insecure-skip-tls-verify?"),
    ("--bogus=1", "unknown flag --bogus ("),
])
def test_unknown_flags(typed, want):
    p = run_strain("run", "--url", "http://127.0.0.1:1/", typed, timeout=20)
    assert p.returncode == 2 and want in p.stderr, p.stderr


@pytest.mark.parametrize("typed,want", [
    ("--rps", "strain has no --rps (k6's"),
    ("-s", "strain has no -s (k6's short form of --stage); use --stage"),
    ("--vus-max", "strain has no --vus-max (k6's old maximum of VUs); use --max-vus"),
    ("--batch", "strain has no --batch (k6's"),
    ("--no-vu-connection-reuse", "use --no-connection-reuse"),
    ("-a", "strain has no -a (k6's REST API address), nor anything like it"),
    ("-c", "strain has no -c (k6's JSON options file)"),
])
def test_k6_flags_are_named(typed, want):
    p = run_strain("run", "--url", "http://127.0.0.1:1/", typed, "x", timeout=20)
    assert p.returncode == 2 and want in p.stderr, p.stderr


def test_k6_advice_names_only_real_flags():
    known = {n for _, n, _ in flags("run")} | {a for a, _, _ in flags("run") if a}
    for k6 in ["-s", "--rps", "--vus-max", "-m", "--no-vu-connection-reuse", "--batch", "-b",
               "--batch-per-host", "--compatibility-mode", "--console-output", "--paused", "-p", "--linger", "-l",
               "--address", "-a", "--exit-on-running", "--no-usage-report", "--include-system-env-vars",
               "--logformat", "--log-format", "--log-output", "--system-tags", "--summary-time-unit", "--no-setup",
               "--no-teardown", "--setup-timeout", "--teardown-timeout",
               "--min-iteration-duration", "--throw", "-w", "--blacklist-ip", "--block-hostnames",
               "--no-color",
               "--traces-output", "--type", "-t", "--upload-only", "--config", "-c", "--verbose", "-v"]:
        p = run_strain("run", k6, timeout=20)
        assert p.returncode == 2 and f"strain has no {k6} (k6's" in p.stderr, (k6, p.stderr)
        advice = p.stderr.split(")", 1)[1]
        for f in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", advice):
            assert f in known, (k6, f, p.stderr)


@pytest.mark.parametrize("cmd,args,want", [
    ("run", ["--vus", "2", "-u", "3"], "-u: given twice (also as --vus"),
    ("run", ["--quiet", "--quiet"], "--quiet: given twice"),
    ("run", ["--url", "http://127.0.0.1:1/", "--url=http://127.0.0.1:2/"], "--url: given twice"),
    ("target", ["--threads", "2", "--threads", "3"], "--threads: given twice"),
    ("validate", ["--strategy", "all", "--strategy", "parallel"], "--strategy: given twice"),
    ("demo", ["-d", "1s", "--duration", "2s"], "--duration: given twice (also as -d"),
])
def test_repeated_flags(cmd, args, want):
    p = run_strain(cmd, *args, timeout=20)
    assert p.returncode == 2 and want in p.stderr, p.stderr


def test_repeatable_flags_repeat(tmp_path):
    p = run_strain("run", "-H", "A: b", "--header", "C: d", "--stage", "1s:2", "--stage", "1s:0",
                   "-o", "json=a.json", "-o", "csv=b.csv", END, timeout=20)
    assert p.returncode == 2 and f"unknown flag {END}" in p.stderr, p.stderr
    p = run_strain("target", "--db-pool", "jobs=3", "--db-pool", "profile=4", "--cache", "jobs", "--cache",
                   "profile", "--autoscale", "ecommerce=1..4", "--autoscale", "notifications=2..3", END, timeout=20)
    assert p.returncode == 2 and f"unknown flag {END}" in p.stderr, p.stderr
    p = run_strain("validate", "-e", "A=1", "--env", "B=2", END, timeout=20)
    assert p.returncode == 2 and f"unknown flag {END}" in p.stderr, p.stderr


@pytest.mark.parametrize("cmd", ["run", "target", "validate", "demo", "compare", "capacity", "collect", "merge"])
def test_missing_values(cmd):
    for alias, name, ph in flags(cmd):
        if not ph:
            continue
        for typed in [name] + ([alias] if alias else []):
            if ph.startswith("[") and ph.endswith("]"):  # an optional value ("--web [ADDR]"): alone, it parses
                p = run_strain(cmd, typed, END, timeout=20)
                assert p.returncode == 2 and f"unknown flag {END}" in p.stderr, (typed, p.stderr)
                continue
            p = run_strain(cmd, typed, timeout=20)
            assert p.returncode == 2 and f"strain {cmd}: {typed}: needs a value" in p.stderr, (typed, p.stderr)


@pytest.mark.parametrize("cmd", ["run", "target"])
def test_switches_take_no_value(cmd):
    text = usage(cmd)
    for alias, name, ph in flags(cmd):
        if ph or name == "--help" or f"{name}[=" in text:  # --http-debug[=full]: a value is optional
            continue
        p = run_strain(cmd, f"{name}=1", timeout=20)
        assert p.returncode == 2 and f"{name}: takes no value" in p.stderr, (name, p.stderr)


@pytest.mark.parametrize("args,want", [
    (["-u", "abc"], "strain run: -u: 'abc' is not a whole number from 1 to 1000000"),
    (["--vus=0"], "strain run: --vus: '0' is not a whole number"),
    (["-d", "0s"], "strain run: -d: must be longer than 0s"),
    (["-d", "5parsecs"], "strain run: -d: '5parsecs' is not a duration"),
    (["--rate", "-1"], "strain run: --rate: '-1': expected iterations per second"),
    (["--stage", "1s"], "strain run: --stage: '1s': expected DURATION:TARGET"),
    (["--expect-status", "600"], "strain run: --expect-status: '600': expected STATUS or LOW-HIGH"),
    (["-e", "=x"], "strain run: -e: '=x': expected KEY=VALUE"),
    (["--url", "http://127.0.0.1:1/", "-d", "5s", "--stage", "1s:2"], "--stage sets the length of the run; drop -d"),
    (["--url", "http://127.0.0.1:1/", "-u", "5", "--rate", "1", "-d", "1s", "--max-vus", "2"],
     "--max-vus can't be less than -u"),
    (["--url", "http://127.0.0.1:1/", "-i", "3", "--stage", "1s:2"], "-i can't be combined with --stage"),
    (["--url", "http://127.0.0.1:1/", "-e", "A=1"], "-e needs a plan file (--strategy, --module and --env are for plans)"),
])
def test_values_and_combinations_name_the_flag_as_typed(args, want):
    p = run_strain("run", *args, timeout=20)
    assert p.returncode == 104 and want in p.stderr, p.stderr


def test_target_values_name_the_flag():
    p = run_strain("target", "--db-time=nope=3", timeout=20)
    assert p.returncode == 104 and "strain target: --db-time: unknown module 'nope'" in p.stderr, p.stderr
    p = run_strain("target", "-q", "--cache", "jobs=0", timeout=20)
    assert p.returncode == 104 and "--cache: '0' is not a whole number" in p.stderr, p.stderr
    p = run_strain("target", "--listn", "x", timeout=20)
    assert p.returncode == 2 and "did you mean --listen?" in p.stderr, p.stderr


def test_stray_arguments():
    p = run_strain("target", "stray", timeout=20)
    assert p.returncode == 2 and "unexpected argument 'stray'" in p.stderr
    p = run_strain("run", "a.yaml", "b.yaml", timeout=20)
    assert p.returncode == 2 and "one plan at a time" in p.stderr
    p = run_strain("demo", "1x", timeout=20)
    assert p.returncode == 104 and "'1x' is not a duration" in p.stderr
