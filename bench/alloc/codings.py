"""Allocations per request with content codings: responses in gzip,
deflate, br and zstd read by a JSON check, and templated request bodies
sent with `compression:` (gzip, zstd, br). The server is the one of
tests/integration/test_http_bodies.py; the count is bench/alloc/count.c's,
N and then 4N requests, as bench/alloc/run.sh does.
Usage: make && /usr/bin/python3 bench/alloc/codings.py [N]  (markdown rows)"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import test_http_bodies as t  # noqa: E402

STRAIN = os.path.join(ROOT, "build", "strain")


def allocs(shim, plan):
    p = subprocess.run([STRAIN, "run", "--quiet", "--threads", "1", plan],
                       env=dict(os.environ, LD_PRELOAD=shim), capture_output=True, text=True, timeout=300)
    m = re.search(r"allocations: malloc (\d+) calloc (\d+) realloc (\d+)", p.stderr)
    return sum(map(int, m.groups()))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    work = tempfile.mkdtemp()
    shim = os.path.join(work, "count.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(ROOT, "bench/alloc/count.c"), "-ldl"],
                   check=True)
    srv = t.Server()
    cases = {f"{c} response body, JSON check": f"      - get: {srv.url('/' + c)}\n        check: {{json_exists: $.name}}"
             for c in ("gzip", "deflate", "br", "zstd")}
    for c in ("gzip", "zstd", "br"):
        cases[f"templated {c} request body"] = (f"      - post: {srv.url('/upload')}\n        compression: {c}\n"
                                                "        json: {v: \"{{vu}}\", i: \"{{uuid}}\"}")
    try:
        print("| case | requests | allocations | requests | allocations | per extra request |")
        print("|---|---|---|---|---|---|")
        for name, step in cases.items():
            got = []
            for iters in (n, 4 * n):
                plan = os.path.join(work, "plan.yaml")
                with open(plan, "w") as f:
                    f.write(f"modules:\n  m:\n    executor: {{type: shared-iterations, vus: 4, iterations: {iters}}}\n"
                            f"    flow:\n{step}\n")
                got.append(allocs(shim, plan))
            print(f"| {name} | {n} | {got[0]} | {4 * n} | {got[1]} | {(got[1] - got[0]) / (3 * n):.2f} |")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
