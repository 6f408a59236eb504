"""--out json= and --out csv= (plain and gzip): the files parse back in k6's
formats and add up to the summary's counts."""
import csv
import gzip
import io
import json
import subprocess
import time

import pytest

from conftest import STRAIN, run_strain

CSV_HEADER = ["metric_name", "timestamp", "metric_value", "check", "error", "error_code", "expected_response",
              "group", "method", "name", "proto", "scenario", "service", "status", "subproto", "tls_version", "url",
              "extra_tags", "metadata"]


def run(tmp_path, *args):
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    p = subprocess.run([STRAIN, "run", "--quiet", "--summary-export", str(out), *args], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text())


def read_text(path):
    if str(path).endswith(".gz"):
        with gzip.open(path, "rt") as f:
            return f.read()
    return path.read_text()


@pytest.mark.parametrize("name", ["run.json", "run.json.gz"])
def test_json_points_sum_to_summary(target, tmp_path, name):
    path = tmp_path / name
    s = run(tmp_path, "--url", target.url + "/fault/status?code=503", "--vus", "3", "--iterations", "3000",
            "--out", f"json={path}")
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    defs, sums, counts = {}, {}, {}
    for line in read_text(path).splitlines():
        d = json.loads(line)
        if d["type"] == "Metric":
            assert d["metric"] not in defs, "a metric is defined once"
            defs[d["metric"]] = d["data"]
            assert set(d["data"]) == {"name", "type", "contains", "thresholds", "submetrics"}
            continue
        assert d["type"] == "Point"
        m = d["metric"]
        assert m in defs, "a metric is defined before its first point"
        assert d["data"]["time"].endswith("Z") and len(d["data"]["time"]) == 30
        sums[m] = sums.get(m, 0) + d["data"]["value"]
        counts[m] = counts.get(m, 0) + 1
        if m == "http_reqs":
            tags = d["data"]["tags"]
            assert tags["status"] == "503" and tags["error_code"] == "1503" and tags["method"] == "GET"
            assert int(d["data"]["metadata"]["vu"]) in (1, 2, 3)
    sm = s["metrics"]
    reqs = sm["http_reqs"]["count"]
    assert reqs > 100
    assert sums["http_reqs"] == reqs and counts["http_req_duration"] == reqs
    assert sums["http_req_failed"] == reqs  # every request failed (503)
    assert sums["data_received"] == sm["data_received"]["count"]
    assert abs(sums["http_req_duration"] / reqs - sm["http_req_duration"]["avg"]) < 0.01 * sm["http_req_duration"]["avg"]
    assert defs["http_req_duration"] == {"name": "http_req_duration", "type": "trend", "contains": "time",
                                         "thresholds": [], "submetrics": None}
    assert defs["http_reqs"]["type"] == "counter" and defs["vus"]["type"] == "gauge"
    assert defs["http_req_failed"]["type"] == "rate" and defs["data_sent"]["contains"] == "data"
    o = s["outputs"][0]
    assert o["points_dropped"] == 0 and o["points_written"] == sum(counts.values())


@pytest.mark.parametrize("name", ["run.csv", "run.csv.gz"])
def test_csv_rows_sum_to_summary(target, tmp_path, name):
    path = tmp_path / name
    s = run(tmp_path, "--url", target.url + "/health", "--vus", "3", "--iterations", "700", "--out", f"csv={path}")
    rows = list(csv.reader(io.StringIO(read_text(path))))
    assert rows[0] == CSV_HEADER
    sums, counts = {}, {}
    for r in rows[1:]:
        assert len(r) == len(CSV_HEADER)
        m = r[0]
        assert r[1].isdigit() and abs(int(r[1]) - time.time()) < 600
        assert "." in r[2] and len(r[2].split(".")[1]) == 6
        sums[m] = sums.get(m, 0) + float(r[2])
        counts[m] = counts.get(m, 0) + 1
        if m == "http_reqs":
            row = dict(zip(CSV_HEADER, r))
            assert row["method"] == "GET" and row["status"] == "200" and row["url"] == target.url + "/health"
            assert row["proto"] == "HTTP/1.1" and row["scenario"] and row["expected_response"] == "true"
            assert row["metadata"].startswith("vu=") and "&iter=" in row["metadata"]
    assert sums["http_reqs"] == 700 and counts["http_req_duration"] == 700 and sums["iterations"] == 700
    assert s["outputs"][0]["points_written"] == len(rows) - 1


def test_unwritable_file_is_a_config_error(tmp_path):
    p = subprocess.run([STRAIN, "run", "--url", "http://127.0.0.1:9/", "--out", f"json={tmp_path}/no/such/dir.json"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 104
    assert "cannot create" in p.stderr


def test_a_fifo_without_a_reader_is_refused_at_once(target, tmp_path):
    """Opening a FIFO nobody reads would block before the run starts, deaf
    to signals: it is refused, naming the file; with a reader it works."""
    import os
    import subprocess
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "3", "--out", f"json={fifo}", timeout=20)
    assert p.returncode == 104, p.stderr
    assert "FIFO with no reader" in p.stderr and str(fifo) in p.stderr
    assert fifo.is_fifo()  # refused, and left as it was
    # The reader is open before strain starts (a `cat` started beside it
    # may not be yet, on a loaded machine, and then strain rightly refuses).
    import select
    import time
    from conftest import STRAIN
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    proc = subprocess.Popen([STRAIN, "run", "--url", target.url + "/health", "--iterations", "3", "--quiet",
                             "--out", f"json={fifo}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, deadline = b"", time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            select.select([fd], [], [], 0.1)
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            out += data
            if not data:     # no writer: before strain opened it, or after it closed it
                if proc.poll() is not None:
                    break
                time.sleep(0.01)
        _, err = proc.communicate(timeout=20)
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.count(b'"metric":"http_reqs"') >= 3


def test_an_output_that_cannot_be_opened_removes_nothing(target, tmp_path):
    """A refused output never deletes what was there: a directory, or a
    file strain may not write."""
    d = tmp_path / "adir"
    d.mkdir()
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "1", "--out", f"json={d}", timeout=20)
    assert p.returncode == 104, p.stderr
    assert d.is_dir()
