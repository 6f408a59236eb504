"""Helpers for the HTML report's tests: headless Chromium (Debian's
chromium, with the network off) and the DOM it leaves."""
import os
import re
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
         "--host-resolver-rules=MAP * ~NOTFOUND"]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "test-artifacts", "report")


def chromium(url, *args, timeout=90, loopback=False):
    """Runs headless chromium on url with a fresh profile; (stdout, stderr).
    No name resolves; with loopback, 127.0.0.1 is reachable (a test's own
    server)."""
    profile = tempfile.mkdtemp(prefix="strain-chr-")
    flags = [f + ", EXCLUDE 127.0.0.1" if loopback and f.startswith("--host-resolver-rules") else f for f in FLAGS]
    try:
        # TMPDIR: the org.chromium.Chromium.* files it makes go with the profile.
        p = subprocess.run([CHROMIUM, *flags, "--user-data-dir=" + profile, *args, url],
                           capture_output=True, text=True, timeout=timeout, env={**os.environ, "TMPDIR": profile})
        return p.stdout, p.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def dump_dom(path, budget_ms=5000):
    """The DOM after the page's scripts ran, and the console lines."""
    out, err = chromium("file://" + os.path.abspath(path), "--enable-logging=stderr", "--v=0",
                        f"--virtual-time-budget={budget_ms}", "--dump-dom")
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return out, console


def screenshot(path, name, height=2400):
    os.makedirs(ARTIFACTS, exist_ok=True)
    png = os.path.join(ARTIFACTS, name)
    chromium("file://" + os.path.abspath(path), "--virtual-time-budget=5000", f"--window-size=1400,{height}",
             "--screenshot=" + png)
    return png


def console_errors(console):
    """Console lines that are errors or warnings raised by the page."""
    return [c for c in console if re.search(r"ERROR|WARNING|Uncaught", c)]


def chart_boxes(dom):
    """Every chart container: a dict of its data-* attributes."""
    boxes = []
    for tag in re.findall(r"<div [^>]*data-kind=[^>]*>", dom):
        boxes.append(dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', tag)))
    return boxes


def external_urls(html):
    """src/href attributes in html that point to the network."""
    return re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
