#!/usr/bin/python3
"""Runs every test tier and ends with one line CI can read:
"total: N passed, N failed".

Unit tests are cmocka binaries (each in its own process, with a timeout);
integration tests are pytest modules under tests/integration that start
their own `strain target` and other servers."""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT_TIMEOUT = 120


def run_unit(bins):
    passed = failed = 0
    for b in bins:
        name = os.path.basename(b)
        try:
            p = subprocess.run([b], capture_output=True, text=True, timeout=UNIT_TIMEOUT)
            out = p.stdout + p.stderr
            ok = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
            bad = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
            if p.returncode != 0 and bad == 0:
                bad = 1  # crashed before cmocka could count
            sys.stdout.write(out if bad else "")
        except subprocess.TimeoutExpired:
            ok, bad = 0, 1
            print(f"{name}: timed out after {UNIT_TIMEOUT}s")
        print(f"unit {name}: {ok} passed, {bad} failed")
        passed += ok
        failed += bad
    return passed, failed


def run_integration(strain_bin, extra):
    env = dict(os.environ)
    env["STRAIN_BIN"] = os.path.abspath(strain_bin)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           os.path.join(HERE, "integration")] + extra
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    tail = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    ok = sum(int(n) for n in re.findall(r"(\d+) passed", tail))
    bad = sum(int(n) for n in re.findall(r"(\d+) (?:failed|error)", tail))
    if p.returncode not in (0, 5) and bad == 0:
        bad = 1
    return ok, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="strain binary for integration tests")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("-k", help="pytest -k expression")
    ap.add_argument("units", nargs="*")
    a = ap.parse_args()
    passed, failed = run_unit(a.units)
    if a.bin and not a.unit_only:
        ok, bad = run_integration(a.bin, ["-k", a.k] if a.k else [])
        passed += ok
        failed += bad
    print(f"total: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
