"""Execution segments end to end: a plan with all six executors, run whole
and as 4 segments in 4 processes, then `strain merge`. Each generator runs
in its own network namespace with its own address (veth pairs to a bridge
in the target's namespace), created and removed by the test; without
CAP_NET_ADMIN (not root) the processes share loopback instead and the test
says so in its output.

What must hold: the merged request count equals what the target counted,
and equals the unsplit run's for every module whose count the executor
fixes (iterations, arrival rates); the VU counts of the merged time series
equal the unsplit run's; the merged p95/p99 are the percentiles of the
union of the raw samples within the histogram's precision (1/128); the
arrival-rate modules' scheduled instants and schedule indices (the JSON
output's scheduled_ns and arrival, started and dropped iterations alike)
are the unsplit schedule's exactly, and each process started them near
those instants. And the refusals: overlapping, missing, another plan,
a strain-summary/1 file."""
import datetime
import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import STRAIN, run_strain

N = 4

PLAN = """
target: "{{env.TARGET}}"
env: {TARGET: "http://127.0.0.1:1"}
modules:
  cvus:
    executor: {type: constant-vus, vus: 8, duration: 2s}
    flow:
      - get: /health?m=cvus
        name: cvus
      - think: 100ms
  rvus:
    executor: {type: ramping-vus, startVUs: 0, stages: [{duration: 1s, target: 8}, {duration: 1s, target: 4}]}
    flow:
      - get: /health?m=rvus
        name: rvus
      - think: 100ms
  pvi:
    executor: {type: per-vu-iterations, vus: 6, iterations: 5}
    flow:
      - get: /health?m=pvi
        name: pvi
  si:
    executor: {type: shared-iterations, vus: 7, iterations: 53}
    flow:
      - get: /health?m=si
        name: si
  car:
    executor: {type: constant-arrival-rate, rate: 30, timeUnit: 1s, duration: 2s, preAllocatedVUs: 8, maxVUs: 16}
    flow:
      - get: /health?m=car
        name: car
  rar:
    executor:
      type: ramping-arrival-rate
      startRate: 0
      timeUnit: 1s
      preAllocatedVUs: 8
      maxVUs: 16
      stages: [{duration: 1s, target: 40}, {duration: 1s, target: 10}]
    flow:
      - get: /health?m=rar
        name: rar
"""

FIXED = ["pvi", "si", "car", "rar"]   # modules whose request count the executor fixes
ARRIVAL = ["car", "rar"]


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)


class Net:
    """N generator namespaces and one for the target, or plain loopback."""

    def __init__(self):
        self.tag = f"sg{os.getpid() % 100000}"
        self.hub = f"{self.tag}t"
        self.gens = [f"{self.tag}g{i}" for i in range(N + 1)]   # the last one runs the unsplit test
        self.made = []
        self.isolated = False
        self.host = "127.0.0.1"

    def setup(self):
        if os.geteuid() != 0 or sh("ip", "netns", "add", self.hub).returncode != 0:
            print("network namespaces not available: all processes on loopback")
            return
        self.made.append(self.hub)
        steps = [["ip", "-n", self.hub, "link", "set", "lo", "up"],
                 ["ip", "-n", self.hub, "link", "add", "br0", "type", "bridge"],
                 ["ip", "-n", self.hub, "addr", "add", "10.231.0.1/24", "dev", "br0"],
                 ["ip", "-n", self.hub, "link", "set", "br0", "up"]]
        for i, ns in enumerate(self.gens):
            a, b = f"{self.tag}a{i}", f"{self.tag}b{i}"
            steps += [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"],
                      ["ip", "link", "add", a, "type", "veth", "peer", "name", b],
                      ["ip", "link", "set", a, "netns", self.hub], ["ip", "link", "set", b, "netns", ns],
                      ["ip", "-n", self.hub, "link", "set", a, "master", "br0"],
                      ["ip", "-n", self.hub, "link", "set", a, "up"],
                      ["ip", "-n", ns, "addr", "add", f"10.231.0.{i + 2}/24", "dev", b],
                      ["ip", "-n", ns, "link", "set", b, "up"]]
        for st in steps:
            if st[:3] == ["ip", "netns", "add"]:
                self.made.append(st[3])
            p = sh(*st)
            assert p.returncode == 0, (st, p.stderr)
        self.isolated = True
        self.host = "10.231.0.1"

    def prefix(self, who):
        """The command prefix that runs in `who`'s namespace (hub or a generator index)."""
        if not self.isolated:
            return []
        return ["ip", "netns", "exec", self.hub if who == "hub" else self.gens[who]]

    def teardown(self):
        for ns in reversed(self.made):
            sh("ip", "netns", "del", ns)
        # The veth ends left in the root namespace, if a step failed midway.
        for i in range(N + 1):
            sh("ip", "link", "del", f"{self.tag}a{i}")


@pytest.fixture
def net():
    n = Net()
    try:
        n.setup()
        yield n
    finally:
        n.teardown()


class NsTarget:
    def __init__(self, net):
        self.proc = subprocess.Popen(net.prefix("hub") + [STRAIN, "target", "--listen", f"{net.host}:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line, self.proc.stderr.read()
        self.addr = line.split()[-1]
        self.url = "http://" + self.addr
        self.net = net

    def stats(self):
        # Read from inside the hub's namespace when isolated.
        p = subprocess.run(self.net.prefix("hub") + ["python3", "-c",
                           f"import urllib.request;print(urllib.request.urlopen('{self.url}/__stats',timeout=10).read().decode())"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def reset(self):
        p = subprocess.run(self.net.prefix("hub") + ["python3", "-c",
                           f"import urllib.request;urllib.request.urlopen(urllib.request.Request('{self.url}/__stats/reset',data=b'',method='POST'),timeout=10)"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_at(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    t = t.replace(microsecond=(t.microsecond // 1000) * 1000)
    return t, t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(s):
    # "2026-12-01T13:55:29.176864882Z" -> ns since the epoch (exact).
    date, frac = s[:-1].split(".") if "." in s else (s[:-1], "0")
    whole = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(whole.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def points(path):
    with open(path) as f:
        for line in f:
            p = json.loads(line)
            if p.get("type") == "Point":
                yield p


def arrivals(paths, module):
    """Every arrival of the module's schedule that the JSON outputs saw, as
    (scheduled_ns, arrival) sorted — each started iteration's
    iteration_start_delay sample and each dropped iteration's sample — and
    the started ones' (sample time, scheduled_ns)."""
    out, starts = [], []
    for path in paths:
        for p in points(path):
            d = p["data"]
            if d["tags"].get("module") != module or p["metric"] not in ("iteration_start_delay",
                                                                       "dropped_iterations"):
                continue
            assert isinstance(d.get("scheduled_ns"), int) and isinstance(d.get("arrival"), int), p
            out.append((d["scheduled_ns"], d["arrival"]))
            if p["metric"] == "iteration_start_delay":
                starts.append((parse_time(d["time"]), d["scheduled_ns"]))
    return sorted(out), starts


def percentile(sorted_vals, p):
    # k6's: interpolated between the two nearest ranks.
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def by_module(doc, field="requests"):
    return {s["module"]: s for s in doc["timeseries"]["series"]}


def run_part(net, who, plan, url, tmp_path, name, extra):
    return subprocess.Popen(net.prefix(who) + [STRAIN, "run", str(plan), "-e", f"TARGET={url}", "--quiet",
                            "--summary-export", str(tmp_path / f"{name}.json"),
                            "--out", f"json={tmp_path / (name + '.jsonl')}", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs):
    for p in procs:
        try:
            p.wait(timeout=90)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
    for p in procs:
        assert p.returncode == 0, p.stderr.read()


def test_segments_merge_to_the_unsplit_run(net, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    tgt = NsTarget(net)
    procs = []
    try:
        # The whole test in one process.
        t_full, at_full = start_at(1.5)
        procs = [run_part(net, N, plan, tgt.url, tmp_path, "full", ["--start-at", at_full])]
        finish(procs)
        full_stats = tgt.stats()
        tgt.reset()
        # The same test as 4 segments, 4 processes, one start.
        t_seg, at_seg = start_at(2.5)
        procs = [run_part(net, i, plan, tgt.url, tmp_path, f"part{i}",
                          ["--segments", str(N), "--segment-index", str(i), "--start-at", at_seg])
                 for i in range(N)]
        finish(procs)
        seg_stats = tgt.stats()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        tgt.stop()

    parts = [str(tmp_path / f"part{i}.json") for i in range(N)]
    p = run_strain("merge", *parts, "-o", str(tmp_path / "total.json"), "--report", str(tmp_path / "total.html"),
                   timeout=60)
    assert p.returncode == 0, p.stderr
    total = json.loads((tmp_path / "total.json").read_text())
    full = json.loads((tmp_path / "full.json").read_text())
    assert total["version"] == "strain-summary/2"
    assert total["execution"]["partial"] is False and len(total["execution"]["instances"]) == N
    assert (tmp_path / "total.html").stat().st_size > 1000
    # Every process had its own instance tag, and its own address when isolated.
    insts = {json.loads((tmp_path / f"part{i}.json").read_text())["tags"]["instance"] for i in range(N)}
    assert len(insts) == N

    # Counts: the target's, and the unsplit run's where the executor fixes them.
    assert total["metrics"]["http_reqs"]["count"] == seg_stats["total"]
    assert full["metrics"]["http_reqs"]["count"] == full_stats["total"]
    reqs = {r["name"]: r["count"] for r in total["requests"]}
    reqs_full = {r["name"]: r["count"] for r in full["requests"]}
    for m in FIXED:
        assert reqs[m] == reqs_full[m], (m, reqs[m], reqs_full[m])
    assert reqs["pvi"] == 30 and reqs["si"] == 53
    assert reqs["car"] == 60
    assert total["metrics"].get("dropped_iterations", {}).get("count", 0) == 0
    assert total["metrics"]["iterations"]["count"] == sum(
        json.loads((tmp_path / f"part{i}.json").read_text())["metrics"]["iterations"]["count"] for i in range(N))

    # VUs: the merged time series holds the unsplit run's VU counts.
    ts, ts_full = by_module(total), by_module(full)
    for m in ["cvus", "pvi", "si"]:
        assert max(ts[m]["vus"]) == max(ts_full[m]["vus"]), (m, ts[m]["vus"], ts_full[m]["vus"])
    assert max(ts["cvus"]["vus"]) == 8

    # Percentiles: the union of the raw samples.
    raw = sorted(d["data"]["value"] for i in range(N) for d in points(tmp_path / f"part{i}.jsonl")
                 if d["metric"] == "http_req_duration")
    assert len(raw) == total["metrics"]["http_req_duration"]["count"]
    for label, q in (("p(95)", 95), ("p(99)", 99)):
        want, got = percentile(raw, q), total["metrics"]["http_req_duration"][label]
        assert abs(got - want) <= want / 128 + 1e-5, (label, got, want)

    # Arrival instants: the union of the segments' is the unsplit schedule,
    # exactly — the same scheduled instants (integer ns from --start-at)
    # with the same schedule indices, started or dropped.
    at_seg_ns = int(t_seg.timestamp()) * 10**9 + t_seg.microsecond * 1000
    at_full_ns = int(t_full.timestamp()) * 10**9 + t_full.microsecond * 1000
    for m in ARRIVAL:
        seg_a, seg_starts = arrivals([tmp_path / f"part{i}.jsonl" for i in range(N)], m)
        full_a, full_starts = arrivals([tmp_path / "full.jsonl"], m)
        assert seg_a == full_a, (m, seg_a[:6], full_a[:6])
        assert sorted(k for _, k in full_a) == list(range(len(full_a))), (m, full_a[:6])
        assert len(full_a) == reqs_full[m]
        # Later arrivals are never scheduled earlier (the ramp included).
        assert all(a[0] <= b[0] for a, b in zip(full_a, full_a[1:])), m
        # Each segment ran its own share: the indices its striping owns.
        per_part = [len(arrivals([tmp_path / f"part{i}.jsonl"], m)[0]) for i in range(N)]
        assert sum(per_part) == len(full_a) and all(per_part), (m, per_part)
        # Scheduling, not schedule: every process started each iteration at
        # or after its instant on the shared clock, and not long after.
        for at_ns, starts in ((at_seg_ns, seg_starts), (at_full_ns, full_starts)):
            for wall, sched in starts:
                late_ms = (wall - (at_ns + sched)) / 1e6
                assert -5 <= late_ms < 1000, (m, late_ms)


def test_merge_refuses_parts_that_do_not_belong(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace("duration: 2s", "duration: 1s"))
    files = []
    for i in range(N):
        out = tmp_path / f"p{i}.json"
        p = run_strain("run", str(plan), "-e", f"TARGET={target.url}", "--quiet", "--summary-export", str(out),
                       "--segments", str(N), "--segment-index", str(i), timeout=60)
        assert p.returncode == 0, p.stderr
        files.append(str(out))
    other = tmp_path / "other.json"
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "8", "--vus", "4", "--quiet",
                   "--summary-export", str(other), "--segments", str(N), "--segment-index", "1", timeout=60)
    assert p.returncode == 0, p.stderr

    p = run_strain("merge", files[0], files[1], files[1], files[2], files[3], timeout=30)
    assert p.returncode == 4 and "overlap" in p.stderr, p.stderr
    p = run_strain("merge", files[0], files[1], files[3], timeout=30)
    assert p.returncode == 4 and "segment 1/2:3/4 is missing" in p.stderr, p.stderr
    p = run_strain("merge", files[0], str(other), files[2], files[3], timeout=30)
    assert p.returncode == 4 and "not parts of the same test" in p.stderr, p.stderr
    # A strain-summary/1 file: what an older strain wrote.
    v1 = json.loads(open(files[0]).read())
    for k in ["plan", "target", "strategy", "phases", "requests", "timeseries", "histograms", "spikes", "execution"]:
        v1.pop(k, None)
    v1["version"] = "strain-summary/1"
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    p = run_strain("merge", str(tmp_path / "v1.json"), *files[1:], timeout=30)
    assert p.returncode == 4 and "strain-summary/1 file has no execution segment" in p.stderr, p.stderr
    # --allow-partial: merged, marked partial.
    p = run_strain("merge", files[0], files[1], files[3], "--allow-partial", "-o", str(tmp_path / "t.json"),
                   timeout=30)
    assert p.returncode == 0, p.stderr
    t = json.loads((tmp_path / "t.json").read_text())
    assert t["execution"]["partial"] is True
    want = sum(json.loads(open(f).read())["metrics"]["http_reqs"]["count"] for f in (files[0], files[1], files[3]))
    assert t["metrics"]["http_reqs"]["count"] == want


def test_segment_flags_are_checked(target):
    p = run_strain("run", "--url", target.url, "--segment-index", "1", timeout=20)
    assert p.returncode == 104 and "--segment-index goes with --segments" in p.stderr, p.stderr
    p = run_strain("run", "--url", target.url, "--execution-segment", "1/3:2/3",
                   "--execution-segment-sequence", "0,1/4,1/2,3/4,1", timeout=20)
    assert p.returncode == 104 and "not one of the sequence" in p.stderr, p.stderr
    p = run_strain("run", "--url", target.url, "--segments", "4", "--segment-index", "4", timeout=20)
    assert p.returncode == 104 and "segment index 4 of 4" in p.stderr, p.stderr
    # A shared-iterations share with iterations but no VU would lose them.
    p = run_strain("run", "--url", target.url, "--vus", "1", "--iterations", "10", "--segments", "4",
                   "--segment-index", "2", timeout=20)
    assert p.returncode == 104 and "gets none of its 1 VUs" in p.stderr, p.stderr
    p = run_strain("run", "--url", target.url, "--start-at", "yesterday", timeout=20)
    assert p.returncode == 104 and "--start-at: 'yesterday': expected an RFC 3339 time" in p.stderr, p.stderr


def test_start_at_late_joins_in_step(target, tmp_path):
    """A process started 1 s after --start-at runs the rest of the schedule:
    the arrivals already due are dropped, and it ends on time."""
    _, at = start_at(-1.0)
    out = tmp_path / "late.json"
    p = run_strain("run", "--url", target.url + "/health", "--rate", "20", "-d", "2s", "--max-vus", "4",
                   "--start-at", at, "--quiet", "--summary-export", str(out),
                   "--out", f"json={tmp_path / 'late.jsonl'}", timeout=60)
    assert p.returncode == 0, p.stderr
    assert "--start-at passed" in p.stderr and "joining the schedule in step" in p.stderr
    s = json.loads(out.read_text())
    reqs, dropped = s["metrics"]["http_reqs"]["count"], s["metrics"]["dropped_iterations"]["count"]
    assert reqs + dropped == 40, (reqs, dropped)
    # Started at least 1 s late: the first second's 20 arrivals were due before it began.
    assert dropped >= 20 and reqs > 0, (reqs, dropped)
    # Each arrival, started or dropped, is in the JSON output once, with
    # its index and its instant: the dropped ones one sample each.
    started, drops = [], []
    for p in points(tmp_path / "late.jsonl"):
        d = p["data"]
        if p["metric"] == "iteration_start_delay":
            started.append((d["arrival"], d["scheduled_ns"]))
        elif p["metric"] == "dropped_iterations":
            assert d["value"] == 1, p
            drops.append((d["arrival"], d["scheduled_ns"]))
    assert len(started) == reqs and len(drops) == dropped
    assert sorted(k for k, _ in started + drops) == list(range(40))
    # Those due in the second before it began are among the dropped.
    assert {k for k, ns in drops if ns < 10**9} == {k for k, ns in started + drops if ns < 10**9}
    assert len([1 for _, ns in started + drops if ns < 10**9]) == 20


def test_plan_execution_and_instance(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + """execution: {segment: "1/4:1/2", sequence: "0,1/4,1/2,3/4,1"}
tags: {instance: gen7}
modules:
  m:
    executor: {type: shared-iterations, vus: 4, iterations: 40}
    flow: [{get: /health}]
""")
    out = tmp_path / "s.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), timeout=60)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["execution"]["segment"] == "1/4:1/2" and s["execution"]["sequence"] == "0,1/4,1/2,3/4,1"
    assert s["execution"]["instance"] == "gen7" and s["tags"]["instance"] == "gen7"
    assert s["metrics"]["http_reqs"]["count"] == 10
    # The flags win over the plan.
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), "--segments", "2", "--segment-index",
                   "1", "--instance", "b", timeout=60)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["execution"]["segment"] == "1/2:1" and s["tags"]["instance"] == "b"
    assert s["metrics"]["http_reqs"]["count"] == 20
    # A segment not in the plan's sequence: the plan's error, with its position.
    plan.write_text(plan.read_text().replace('"1/4:1/2"', '"1/3:1/2"'))
    p = run_strain("validate", str(plan), timeout=30)
    assert p.returncode == 104 and f"{plan}:2:" in p.stderr and "not one of the sequence" in p.stderr, p.stderr
