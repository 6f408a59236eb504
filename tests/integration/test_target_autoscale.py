"""`strain target --autoscale MODULE=MIN..MAX`: under sustained overload
the module's pool grows, by the documented rule (docs/target.md,
"Autoscaling"), and shrinks back when the load stops; /__stats lists every
change. The only time bounds asserted are what the rule guarantees (a grow
takes effect at least the 2 s provisioning delay after its decision, which
needs 2 s of queueing; a shrink needs 10 s of idle samples), never that a
change happens fast: the waits are generous upper limits."""
import statistics
import subprocess
import time

import pytest

from conftest import STRAIN, run_strain

DELAY_MS = 2000
IDLE_MS = 10000
MIN, MAX = 2, 8


def profile(t):
    return t.stats()["db"]["modules"]["profile"]


def now_ms(t):
    return t.stats()["db"]["now_ms"]


def check_chain(a):
    """The changes follow each other: times increase, each starts where the
    last ended, sizes stay within MIN..MAX and the last one is the size."""
    size = a["min"]
    last = -1
    for c in a["changes"]:
        assert c["from"] == size, a
        assert MIN <= c["to"] <= MAX and c["to"] != c["from"], a
        assert c["why"] == ("up" if c["to"] > c["from"] else "down"), a
        assert c["at_ms"] > last, a
        assert c["decided_ms"] <= c["at_ms"], a
        if c["why"] == "up":
            assert c["at_ms"] - c["decided_ms"] >= DELAY_MS, a
            assert c["to"] == min(MAX, -(-c["from"] * 3 // 2)), a
        else:
            assert c["to"] == max(MIN, c["from"] * 3 // 4), a
        last = c["at_ms"]
        size = c["to"]
    assert a["size"] == size, a
    assert a["changes_total"] == len(a["changes"]), a


def test_pool_grows_under_overload_then_shrinks(make_target):
    # 16 closed-loop users without think time on profile (50 ms queries):
    # on 2 connections each request waits ~16 * 50 / 2 = 400 ms.
    t = make_target("--threads", "1", "--db-jitter", "0", "--autoscale", f"profile={MIN}..{MAX}")
    p = profile(t)
    assert p["pool"] == MIN and p["busy"] == 0
    assert p["autoscale"] == {"min": MIN, "max": MAX, "size": MIN, "changes_total": 0, "changes": []}
    # Other modules keep their fixed pools and say nothing about scaling.
    assert "autoscale" not in t.stats()["db"]["modules"]["jobs"]
    assert t.stats()["db"]["modules"]["jobs"]["pool"] == 40

    before = now_ms(t)
    load = subprocess.Popen([STRAIN, "run", "--quiet", "--url", t.url + "/profile/1", "--vus", "16",
                             "--duration", "16s"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    probes = []   # (seconds since the load started, latency in s)
    queued_ms = None  # the last time the probe saw queries waiting
    start = time.monotonic()
    try:
        while load.poll() is None and time.monotonic() - start < 60:
            t0 = time.monotonic()
            status, _ = t.get("/profile/2", timeout=30)
            probes.append((t0 - start, time.monotonic() - t0))
            assert status == 200
            s = t.stats()["db"]
            if s["modules"]["profile"]["waiting"] > 0:
                queued_ms = s["now_ms"]
            time.sleep(0.2)
        load.wait(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert load.returncode == 0, load.stderr

    a = profile(t)["autoscale"]
    check_chain(a)
    ups = [c for c in a["changes"] if c["why"] == "up"]
    # 16 s of overload: the first grow (after 2 s of queueing and the 2 s
    # delay, ~4 s) and the second (5 s cool-down, ~11 s) have happened.
    assert len(ups) >= 2, a
    assert ups[0]["from"] == MIN
    assert ups[0]["decided_ms"] >= before and ups[0]["at_ms"] >= before + DELAY_MS, (before, a)
    # Latency with the grown pool is well below that of the first seconds.
    first = [lat for at, lat in probes if 0.5 <= at <= 3.0]
    last = [lat for at, lat in probes if at >= 13.0]
    assert first and last, probes
    assert statistics.median(last) < 0.75 * statistics.median(first), (first, last, a)
    assert queued_ms is not None

    # Idle now: it shrinks, no sooner than 10 s after the queue was last seen
    # (a grow decided near the end of the load may still take effect first).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        a = profile(t)["autoscale"]
        if a["changes"][-1]["why"] == "down":
            break
        time.sleep(0.5)
    check_chain(a)
    down = a["changes"][-1]
    assert down["why"] == "down", a
    assert down["from"] > MIN and MIN <= down["to"] < down["from"], a
    assert down["at_ms"] >= queued_ms + IDLE_MS - 200, (queued_ms, a)
    assert profile(t)["pool"] == a["size"]


def test_a_fixed_range_never_changes(make_target):
    """MIN == MAX: scaled in name only; reported, never resized."""
    t = make_target("--threads", "1", "--autoscale", "profile=3..3", "--db-pool", "jobs=5")
    p = run_strain("run", "--quiet", "--url", t.url + "/profile/1", "--vus", "12", "--duration", "5s",
                   timeout=60)
    assert p.returncode == 0, p.stderr
    s = t.stats()["db"]["modules"]
    assert s["profile"]["autoscale"]["changes"] == [] and s["profile"]["pool"] == 3
    assert s["jobs"]["pool"] == 5 and "autoscale" not in s["jobs"]


@pytest.mark.parametrize("value,want", [
    ("profile=0..3", "--autoscale: '0..3': MIN and MAX are whole numbers from 1 to 100000"),
    ("profile=1..100001", "--autoscale: '1..100001': MIN and MAX are whole numbers from 1 to 100000"),
    ("profile=5..3", "--autoscale: '5..3': MIN is above MAX"),
    ("profile=3", "--autoscale: expected MODULE=MIN..MAX"),
    ("profile=..3", "--autoscale: expected MODULE=MIN..MAX"),
    ("profile=2..x", "--autoscale: '2..x': MIN and MAX"),
    ("prof=1..3", "--autoscale: unknown module 'prof'"),
])
def test_bad_values_name_the_flag(value, want):
    p = run_strain("target", "--listen", "127.0.0.1:0", "--autoscale", value, timeout=20)
    assert p.returncode == 104 and f"strain target: {want}" in p.stderr, p.stderr


def test_autoscale_and_db_pool_for_one_module_conflict():
    p = run_strain("target", "--listen", "127.0.0.1:0", "--autoscale", "profile=2..4", "--db-pool", "profile=3",
                   timeout=20)
    assert p.returncode == 2, p.stderr
    assert "--autoscale profile=" in p.stderr and "--db-pool profile=" in p.stderr, p.stderr
