"""CLI errors name the flag the user typed (or the file), with the right
exit status: 2 for usage, 104 for a bad configuration."""
import os

import pytest

from conftest import run_strain

GOOD = """target: http://127.0.0.1:1
modules:
  m:
    executor: {type: shared-iterations, vus: 1, iterations: 1}
    flow: [{get: /}]
"""


@pytest.mark.parametrize("flag", ["--body-file", "--cacert", "--cert", "--key"])
@pytest.mark.parametrize("what", ["directory", "missing"])
def test_run_file_flags_name_the_flag_and_path(tmp_path, flag, what):
    path = tmp_path if what == "directory" else tmp_path / "nope.pem"
    extra = ["--cert", str(tmp_path / "nope.pem")] if flag == "--key" and what == "directory" else []
    p = run_strain("run", "--url", "https://127.0.0.1:1/", "-X", "POST", flag, str(path), *extra, "--quiet",
                   timeout=20)
    assert p.returncode == 104, (p.returncode, p.stderr)
    assert f"{flag} {path}:" in p.stderr, p.stderr
    assert ("is a directory" if what == "directory" else "No such file") in p.stderr
    assert "http_reqs" not in p.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_body_file(tmp_path):
    f = tmp_path / "body"
    f.write_text("x")
    f.chmod(0)
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "--body-file", str(f), "--quiet", timeout=20)
    assert p.returncode == 104 and f"--body-file {f}: Permission denied" in p.stderr, p.stderr


@pytest.mark.parametrize("flag", ["--cert", "--key", "--client-ca"])
def test_target_file_flags(tmp_path, flag):
    args = {"--cert": str(tmp_path), "--key": str(tmp_path)}
    args[flag] = str(tmp_path)
    flat = [x for k, v in args.items() for x in (k, v)]
    p = run_strain("target", "--tls", "--listen", "127.0.0.1:0", *flat, timeout=20)
    assert p.returncode == 104, p.stderr
    assert "is a directory" in p.stderr and " " + str(tmp_path) in p.stderr


def test_demo_plan_directory(tmp_path):
    p = run_strain("demo", "--plan", str(tmp_path), timeout=20)
    assert p.returncode == 104 and f"--plan {tmp_path}: is a directory" in p.stderr, p.stderr


def test_run_plan_that_is_a_directory_or_missing(tmp_path):
    p = run_strain("run", str(tmp_path), "--quiet", timeout=20)
    assert p.returncode == 104 and f"{tmp_path}: is a directory, not a plan file" in p.stderr, p.stderr
    p = run_strain("run", str(tmp_path / "nope.yaml"), "--quiet", timeout=20)
    assert p.returncode == 104 and "nope.yaml: cannot open the plan: No such file" in p.stderr, p.stderr


def test_validate_checks_every_plan_given(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("vus: 1,", "vus: x,"))
    p = run_strain("validate", str(bad), str(good), timeout=20)
    assert p.returncode == 104
    assert f"{bad}:4:" in p.stderr and f"{good}: ok" in p.stdout
    p = run_strain("validate", str(good), str(good), timeout=20)
    assert p.returncode == 0 and p.stdout.count(": ok") == 2


def test_validate_flag_errors(tmp_path):
    p = run_strain("validate", "-e", "NOEQUALS", "x.yaml", timeout=20)
    assert p.returncode == 104 and "-e: 'NOEQUALS': expected KEY=VALUE" in p.stderr, p.stderr
    p = run_strain("validate", "x.yaml", "--strategy", timeout=20)
    assert p.returncode == 2 and "--strategy: needs a value" in p.stderr, p.stderr


def test_vus_alone_is_ignored_as_in_k6(target):
    # k6 runs one iteration with one VU and warns that vus is ignored.
    p = run_strain("run", "--url", target.url + "/health", "-u", "3", "--quiet", timeout=60)
    assert p.returncode == 0, p.stderr
    assert "-u 3 is ignored" in p.stderr
    assert target.stats()["total"] == 1


def test_messages_name_the_flag_as_typed(tmp_path):
    plan = tmp_path / "p.yaml"
    plan.write_text(GOOD)
    p = run_strain("run", str(plan), "-u", "2", timeout=20)
    assert p.returncode == 104 and "strain run: -u is for quick mode" in p.stderr, p.stderr
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "--module", "m", timeout=20)
    assert p.returncode == 104 and "--module needs a plan file" in p.stderr, p.stderr
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "-i", "2", "-u", "3", timeout=20)
    assert p.returncode == 104 and "-i (2) can't be less than -u (3)" in p.stderr, p.stderr
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "-i", "2", "--rate", "5", timeout=20)
    assert p.returncode == 104 and "-i can't be combined with --rate" in p.stderr, p.stderr
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "--queue", timeout=20)
    assert p.returncode == 104 and "--queue is for the open model" in p.stderr, p.stderr
