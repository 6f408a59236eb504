#!/usr/bin/python3
"""Runs every test tier and ends with one line CI can read:
"total: N passed, N failed".

Unit tests are cmocka binaries (each in its own process, with a timeout,
several at once); integration tests are pytest modules under
tests/integration that start their own `strain target` and other servers.

The suite mostly waits (timed runs, servers starting), so on a small
machine it runs in two passes: every integration test not marked `serial`
spread over --jobs pytest-xdist workers, then the `serial` ones (those that
judge rates and timings, tests/integration/conftest.py) one at a time,
with nothing else of the suite running beside them. Without pytest-xdist,
or with --jobs 1, the first pass is one process too; the tests and the
total are the same either way."""
import argparse
import concurrent.futures
import importlib.util
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT_TIMEOUT = 120


def default_jobs():
    # Measured on the 2-core machine (docs/hardening.md): the parallel pass
    # gains up to about 3 workers per core; more only adds contention.
    env = os.environ.get("STRAIN_TEST_JOBS")
    if env:
        return max(1, int(env))
    return max(1, 3 * (os.cpu_count() or 1))


def unit_one(b):
    name = os.path.basename(b)
    try:
        p = subprocess.run([b], capture_output=True, text=True, timeout=UNIT_TIMEOUT)
        out = p.stdout + p.stderr
        ok = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
        bad = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if p.returncode != 0 and bad == 0:
            bad = 1  # crashed before cmocka could count
        text = out if bad else ""
    except subprocess.TimeoutExpired:
        ok, bad = 0, 1
        text = f"{name}: timed out after {UNIT_TIMEOUT}s\n"
    return text + f"unit {name}: {ok} passed, {bad} failed\n", ok, bad


def run_unit(bins, jobs):
    passed = failed = 0
    # Results printed in the order given, whichever finishes first.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, os.cpu_count() or 1))) as ex:
        for text, ok, bad in ex.map(unit_one, bins):
            sys.stdout.write(text)
            passed += ok
            failed += bad
    sys.stdout.flush()
    return passed, failed


def pytest_pass(strain_bin, extra, label):
    env = dict(os.environ)
    env["STRAIN_BIN"] = os.path.abspath(strain_bin)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=15",
           os.path.join(HERE, "integration")] + extra
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    tail = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    ok = sum(int(n) for n in re.findall(r"(\d+) passed", tail))
    bad = sum(int(n) for n in re.findall(r"(\d+) (?:failed|error)", tail))
    # 5: nothing collected (a -k that selects no test of this pass).
    if p.returncode not in (0, 5) and bad == 0:
        bad = 1
    print(f"integration, {label}: {ok} passed, {bad} failed in {time.monotonic() - t0:.0f} s")
    sys.stdout.flush()
    return ok, bad


def run_integration(strain_bin, k, jobs):
    sel = ["-k", k] if k else []
    have_xdist = importlib.util.find_spec("xdist") is not None
    if jobs > 1 and not have_xdist:
        print("run.py: pytest-xdist is not installed (scripts/deps.sh test): one worker")
    if jobs > 1 and have_xdist:
        # loadgroup: the tests of a module that shares one expensive
        # fixture (xdist_group, conftest.py) stay on one worker.
        first = ["-n", str(jobs), "--dist", "loadgroup"]
        label = f"parallel pass ({jobs} workers)"
    else:
        first = ["-p", "no:xdist"] if have_xdist else []
        label = "first pass (one worker)"
    ok, bad = pytest_pass(strain_bin, first + ["-m", "not serial"] + sel, label)
    ok2, bad2 = pytest_pass(strain_bin, ["-m", "serial"] + sel, "serial pass")
    return ok + ok2, bad + bad2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="strain binary for integration tests")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("-k", help="pytest -k expression")
    ap.add_argument("-j", "--jobs", type=int, default=default_jobs(),
                    help="parallel workers (default: STRAIN_TEST_JOBS, or 3 per core)")
    ap.add_argument("units", nargs="*")
    a = ap.parse_args()
    passed, failed = run_unit(a.units, a.jobs)
    if a.bin and not a.unit_only:
        ok, bad = run_integration(a.bin, a.k, a.jobs)
        passed += ok
        failed += bad
    print(f"total: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
