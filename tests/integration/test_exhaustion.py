"""Resources running out on the generator's side are classified errors
with the fix in their description, never a crash or a stall: out of file
descriptors (a low `ulimit -n`) is error 1214, "raise ulimit -n", warned
about at the start too; the requests that did get a socket are counted
exactly as the server saw them."""
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
