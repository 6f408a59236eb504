"""Resources running out on the generator's side are classified errors
with the fix in their description, never a crash or a stall: out of file
descriptors (a low `ulimit -n`) is error 1214, "raise ulimit -n", warned
about at the start too; the requests that did get a socket are counted
exactly as the server saw them. A full disk (/dev/full) fails the output
and the export with one message each, and the run still ends with its
summary and exit code 1."""
import json
import resource
import subprocess

from conftest import STRAIN


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))


def test_out_of_file_descriptors_is_1214_with_the_fix(target, tmp_path):
    out = tmp_path / "s.json"
    target.reset_stats()
    p = subprocess.run([STRAIN, "run", "--url", target.url + "/health", "--vus", "100", "--duration", "1s",
                        "--summary-export", str(out)], capture_output=True, text=True, timeout=60,
                       preexec_fn=low_nofile)
    assert p.returncode == 0, p.stderr
    assert "open-file limit 40 is below 100 VUs + margin; raise it with ulimit -n" in p.stderr
    s = json.loads(out.read_text())
    e = s["errors"]["1214"]
    assert e["description"] == "dial: out of file descriptors (raise ulimit -n)"
    assert "1214 dial: out of file descriptors (raise ulimit -n)" in p.stdout
    reqs = s["metrics"]["http_reqs"]["count"]
    failed = s["metrics"]["http_req_failed"]["passes"]
    assert failed == e["count"] > 0 and reqs > failed  # some VUs had sockets, and worked
    served = sum(target.stats()["routes"]["GET /health"]["statuses"].values())
    assert served == reqs - failed


def test_a_full_disk_is_said_once_per_file_and_the_run_ends(target, tmp_path):
    # /dev/full: every write fails with ENOSPC, as on a full disk.
    p = subprocess.run([STRAIN, "run", "--url", target.url + "/health", "--vus", "2", "--duration", "1s",
                        "--out", "json=/dev/full", "--summary-export", "/dev/full"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1, p.stderr  # strain's own failure: the summary could not be written
    assert p.stderr.count("strain: output write /dev/full: No space left on device") == 1, p.stderr
    assert p.stderr.count("strain: --summary-export /dev/full: No space left on device") == 1, p.stderr
    assert "output json=/dev/full: 0 points written" in p.stdout and "DROPPED" in p.stdout, p.stdout
    assert "http_reqs" in p.stdout  # the summary itself was printed
