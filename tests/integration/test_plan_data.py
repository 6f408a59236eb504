"""CSV data files as spreadsheets write them (byte-order mark, CRLF, quoted
fields) reach the target cell by cell; malformed ones are refused with the
CSV file's line. Also: {{iter}} is 0-based like k6's __ITER, everywhere."""
import http.server
import threading
import urllib.parse

import pytest

from conftest import run_strain


class Recorder:
    """A tiny HTTP server that records every request target it receives."""

    def __init__(self):
        seen = self.seen = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def queries(self, key):
        return [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query, keep_blank_values=True).get(key, [None])[0]
                for p in self.seen]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def data_plan(tmp_path, url, csv_bytes, iterations):
    (tmp_path / "d.csv").write_bytes(csv_bytes)
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""target: {url}
data:
  u: {{file: d.csv, mode: sequential}}
modules:
  m:
    executor: {{type: shared-iterations, vus: 1, iterations: {iterations}}}
    flow:
      - get: /u
        query: {{name: "{{{{data.u.name}}}}", x: "{{{{data.u.x}}}}"}}
""")
    return plan


def test_excel_csv_with_bom_crlf_and_quotes(tmp_path, recorder):
    csv = (b'\xef\xbb\xbfname,x\r\n'
           b'ann,1\r\n'
           b'"Smith, Bob",2\r\n'
           b'"say ""hi""",3\r\n'
           b'"two\r\nlines",4\r\n'
           b'last,5')  # no final newline
    plan = data_plan(tmp_path, recorder.url, csv, 5)
    p = run_strain("run", str(plan), "--quiet", timeout=60)
    assert p.returncode == 0, p.stderr
    assert sorted(recorder.queries("name")) == sorted(["ann", "Smith, Bob", 'say "hi"', "two\r\nlines", "last"])
    assert sorted(recorder.queries("x")) == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("csv,needle", [
    (b"", "has no header row"),
    (b"\xef\xbb\xbf", "has no header row"),
    (b"\n\n", "has no header row"),
    (b"name,x\n", "has a header but no rows"),
    (b"name,x\r\n", "has a header but no rows"),
    (b"name,x\nann,1\nbob\n", "d.csv:3: 1 field where the header has 2"),
    (b"name,x\nann,1,2\n", "d.csv:2: 3 fields where the header has 2"),
    (b'name,x\n"ann,1\n', "d.csv:2: the quoted field opened on this line is not closed"),
    (b'name,x\n"ann"x,1\n', "d.csv:2: text after a closing quote"),
    (b"name,x\nann,1\nb\x00b,2\n", "d.csv:3: a NUL byte"),
    (b"name,name\na,b\n", "column 'name' appears twice"),
    (b"name,,x\na,b,c\n", "column 2 has no name"),
])
def test_malformed_csv_is_refused_with_its_line(tmp_path, csv, needle):
    plan = data_plan(tmp_path, "http://127.0.0.1:1", csv, 1)
    p = run_strain("validate", str(plan), timeout=20)
    assert p.returncode == 104, p.stderr
    assert f"{plan}:3:" in p.stderr and needle in p.stderr, p.stderr


def test_data_file_that_is_a_directory(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    plan = tmp_path / "plan.yaml"
    plan.write_text("target: http://127.0.0.1:1\ndata:\n  u: {file: dir.csv}\nmodules:\n  m:\n"
                    "    executor: {type: shared-iterations, vus: 1, iterations: 1}\n    flow: [{get: /}]\n")
    p = run_strain("validate", str(plan), timeout=20)
    assert p.returncode == 104 and "is a directory" in p.stderr, p.stderr


EXECUTORS = {
    "shared-iterations": "{type: shared-iterations, vus: 1, iterations: 4}",
    "per-vu-iterations": "{type: per-vu-iterations, vus: 2, iterations: 3}",
    "constant-vus": "{type: constant-vus, vus: 1, duration: 1s}",
    "ramping-vus": "{type: ramping-vus, startVUs: 1, stages: [{duration: 1s, target: 1}]}",
    "constant-arrival-rate": "{type: constant-arrival-rate, rate: 5, duration: 1s, preAllocatedVUs: 1}",
    "ramping-arrival-rate": "{type: ramping-arrival-rate, startRate: 5, stages: [{duration: 1s, target: 5}], preAllocatedVUs: 1}",
}


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_iter_is_zero_based_in_setup_and_flow(tmp_path, recorder, name):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""target: {recorder.url}
modules:
  m:
    executor: {EXECUTORS[name]}
    think: 10ms
    setup:
      - get: /setup?i={{{{iter}}}}&vu={{{{vu}}}}
    flow:
      - get: /flow?i={{{{iter}}}}&vu={{{{vu}}}}
""")
    p = run_strain("run", str(plan), "--quiet", timeout=90)
    assert p.returncode == 0, p.stderr
    by_vu = {}
    for path in recorder.seen:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        kind = urllib.parse.urlsplit(path).path
        by_vu.setdefault(q["vu"][0], {}).setdefault(kind, []).append(int(q["i"][0]))
    assert by_vu, recorder.seen
    for vu, kinds in by_vu.items():
        assert kinds.get("/setup") == [0], (vu, kinds)  # setup runs in the first iteration
        flow = kinds["/flow"]
        assert flow == list(range(len(flow))), (vu, flow)  # 0, 1, 2, ...
    if name == "per-vu-iterations":
        assert all(k["/flow"] == [0, 1, 2] for k in by_vu.values())
