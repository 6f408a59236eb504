"""deploy/slurm on a real Slurm: a single-node cluster (munged, slurmctld,
slurmd from Debian's slurm-wlm and munge, installed by the test when they
are missing) in a temporary directory, the array job of 4 segments and the
dependent merge queued by deploy/slurm/submit.sh, and the merged result
checked against the target's counts. Skipped, saying why, when Slurm cannot
be installed or run here (not root, no package)."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import STRAIN, free_port

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SUBMIT = os.path.abspath(os.path.join(ROOT, "deploy", "slurm", "submit.sh"))

PLAN = """
target: "{{env.TARGET}}"
env: {TARGET: "http://127.0.0.1:1"}
modules:
  car:
    executor: {type: constant-arrival-rate, rate: 20, timeUnit: 1s, duration: 2s, preAllocatedVUs: 4, maxVUs: 8}
    flow:
      - get: /health?m=car
        name: car
  si:
    executor: {type: shared-iterations, vus: 4, iterations: 22}
    flow:
      - get: /health?m=si
        name: si
"""


def have_slurm():
    return all(shutil.which(b) for b in ("sbatch", "slurmctld", "slurmd", "munged", "mungekey"))


def install_slurm():
    if have_slurm():
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "Slurm is not installed and the test cannot install it (not root, or no apt-get)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"],
                       capture_output=True, text=True, timeout=600, env=env)
    if p.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=600, env=env)
        p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"],
                           capture_output=True, text=True, timeout=600, env=env)
    return None if have_slurm() else f"apt-get install slurm-wlm munge failed: {p.stderr[-500:]}"


class Cluster:
    """munged + slurmctld + slurmd under one directory, stopped by pid files."""

    def __init__(self, d):
        self.d = str(d)
        self.env = None

    def up(self):
        d = self.d
        for sub in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        os.chmod(os.path.join(d, "munge"), 0o755)
        key = os.path.join(d, "munge", "munge.key")
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, timeout=30)
        os.chmod(key, 0o400)
        subprocess.run(["munged", "--force", f"--key-file={key}", f"--socket={d}/munge/munge.socket",
                        f"--pid-file={d}/munge/munged.pid", f"--log-file={d}/log/munged.log",
                        f"--seed-file={d}/munge/munged.seed"], check=True, timeout=30)
        host = subprocess.run(["hostname", "-s"], capture_output=True, text=True, timeout=10).stdout.strip()
        mem = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout
        mem = next((w.split("=")[1] for w in mem.split() if w.startswith("RealMemory=")), "1")
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=strain
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={d}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
""")
        self.env = dict(os.environ, SLURM_CONF=conf)
        subprocess.run(["slurmctld", "-f", conf], check=True, timeout=30, env=self.env)
        subprocess.run(["slurmd", "-f", conf], check=True, timeout=30, env=self.env)
        for _ in range(150):
            st = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=10,
                                env=self.env).stdout.strip()
            if st == "idle":
                return
            time.sleep(0.2)
        raise AssertionError(f"node not idle: {st!r}\n" + self.logs())

    def logs(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log"):
            p = os.path.join(self.d, "log", name)
            if os.path.exists(p):
                out.append(open(p).read()[-2000:])
        return "\n".join(out)

    def jobs_left(self, ids):
        p = subprocess.run(["squeue", "-h", "-j", ",".join(ids), "-o", "%i"], capture_output=True, text=True,
                           timeout=10, env=self.env)
        return p.stdout.strip()

    def down(self, ids):
        if self.env and ids:
            subprocess.run(["scancel", *ids], capture_output=True, timeout=10, env=self.env)
        pids = []
        for name in ("slurmd.pid", "slurmctld.pid", "munge/munged.pid"):
            path = os.path.join(self.d, name)
            try:
                pid = int(open(path).read().strip())
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
            except (OSError, ValueError):
                pass
        for _ in range(100):
            alive = []
            for pid in pids:
                try:
                    os.kill(pid, 0)
                    alive.append(pid)
                except OSError:
                    pass
            if not alive:
                return
            time.sleep(0.1)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)


def test_slurm_array_and_merge(target, tmp_path):
    why = install_slurm()
    if why:
        pytest.skip(why)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    out = tmp_path / "run"
    cluster = Cluster(tmp_path / "slurm")
    ids = []
    try:
        cluster.up()
        target.reset_stats()
        env = dict(cluster.env, STRAIN=os.path.abspath(STRAIN), STRAIN_ARGS=f"-e TARGET={target.url}")
        # Slurm's first scheduling pass comes a few seconds after slurmctld
        # starts: the start is far enough ahead for every task to wait for it.
        p = subprocess.run([SUBMIT, str(plan), str(out), "4", "12s"], capture_output=True, text=True, timeout=60,
                           env=env)
        assert p.returncode == 0, p.stderr
        ids = p.stdout.split()
        assert len(ids) == 2, p.stdout
        for _ in range(600):
            if not cluster.jobs_left(ids):
                break
            time.sleep(0.2)
        assert not cluster.jobs_left(ids), cluster.logs()
    finally:
        cluster.down(ids)
    merge_log = [f for f in os.listdir(out) if f.startswith("strain-merge-")]
    assert (out / "total.json").exists(), ([open(out / f).read() for f in os.listdir(out) if f.endswith(".out")],
                                           cluster.logs())
    total = json.loads((out / "total.json").read_text())
    assert (out / "total.html").exists() and merge_log
    assert total["execution"]["partial"] is False
    assert sorted(i["segment"] for i in total["execution"]["instances"]) == ["0:1/4", "1/2:3/4", "1/4:1/2", "3/4:1"]
    # One result: what the target served, and the executors' own totals.
    assert total["metrics"]["http_reqs"]["count"] == target.stats()["total"]
    reqs = {r["name"]: r["count"] for r in total["requests"]}
    dropped = total["metrics"].get("dropped_iterations", {}).get("count", 0)
    assert reqs["si"] == 22
    assert reqs["car"] + dropped == 40, (reqs, dropped)
