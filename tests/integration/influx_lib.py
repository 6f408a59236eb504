"""A real InfluxDB 1.x (Debian's `influxd`) on free loopback ports with a
temporary data directory, for the output tests. Stop/start keep the same
ports and data, so a test can take the server away and bring it back."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import free_port

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


class Influx:
    def __init__(self, tmp):
        self.dir = str(tmp)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.rpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = os.path.join(self.dir, "influxdb.conf")
        with open(self.conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        self.proc = None
        self.start()

    def start(self, timeout=30):
        self.log = open(os.path.join(self.dir, "influxd.log"), "ab")
        self.proc = subprocess.Popen([INFLUXD, "-config", self.conf], stdout=self.log, stderr=self.log)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("influxd exited: " + open(os.path.join(self.dir, "influxd.log")).read()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    if r.status == 204:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("influxd did not answer /ping")

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def query(self, db, q):
        url = self.url + "/query?" + urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"})
        with urllib.request.urlopen(url, timeout=30) as r:
            res = json.loads(r.read())["results"][0]
        if "error" in res:
            raise AssertionError(f"{q}: {res['error']}")
        return res.get("series", [])

    def scalar(self, db, q):
        series = self.query(db, q)
        assert len(series) == 1, (q, series)
        return series[0]["values"][0][1]
