"""The include-layer check (scripts/check_layers.py): on the real tree it
must find no include that goes up or sideways in the layer order; on small
trees written here it must catch each kind of violation, with file:line."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "check_layers.py")


def check(root):
    return subprocess.run([sys.executable, SCRIPT, "--root", str(root)],
                          capture_output=True, text=True, timeout=60)


def write_tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / "src" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_src_follows_the_layer_order():
    p = check(ROOT)
    assert p.returncode == 0, "includes against the layer order:\n" + p.stdout + p.stderr


def test_a_clean_tree_passes(tmp_path):
    root = write_tree(tmp_path, {
        "main.c": '#include "cli/cli.h"\n',
        "cli/cli.h": '#include "plan/plan.h"\n#include "target/server.h"\n',
        "plan/plan.h": '#include "program/prog.h"\n',
        "program/prog.h": '#include "metrics/shard.h"\n',
        "output/out.h": '#include "metrics/shard.h"\n#include "engine/run.h"\n#include "plan/plan.h"\n',
        "engine/run.h": '#include "metrics/shard.h"\n#include "http/url.h"\n#include "flow.h"\n',
        "engine/flow.h": '# include "core/buf.h"\n',
        "target/server.h": '#include "metrics/shard.h"\n#include "http/url.h"\n',
        "metrics/shard.h": '#include "core/buf.h"\n#include <stdint.h>\n',
        "http/url.h": '#include "core/buf.h"\n',
        "core/buf.h": "/* #include \"cli/cli.h\" in a comment is not an include */\n",
    })
    p = check(root)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "check_layers: ok" in p.stdout


def test_each_kind_of_violation_is_named(tmp_path):
    root = write_tree(tmp_path, {
        "core/buf.h": '\n#include "http/url.h"\n',                      # up
        "http/url.h": "",
        "engine/run.c": '#include "output/summary.h"\n#include "cli/cli.h"\n',
        "output/summary.h": '#include "report/verdict.h"\n',            # sibling
        "report/verdict.h": "",
        "metrics/shard.h": '#include "engine/run.h"\n',                  # up
        "plan/plan.c": '#include "engine/run.h"\n',                      # sibling
        "engine/run.h": "",
        "target/server.h": '#include "engine/ev.h"\n#include "metrics/shard.h"\n',
        "engine/ev.h": "",
        "cli/cli.h": '#include "nowhere/x.h"\n',
        "newdir/thing.c": '#include "core/buf.h"\n',
    })
    p = check(root)
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    want = [
        'src/cli/cli.h:1: #include "nowhere/x.h": no such file under src/',
        'src/core/buf.h:2: #include "http/url.h": core may not include http (a higher layer)',
        'src/engine/run.c:1: #include "output/summary.h": engine may not include output (a higher layer)',
        'src/engine/run.c:2: #include "cli/cli.h": engine may not include cli (a higher layer)',
        'src/metrics/shard.h:1: #include "engine/run.h": metrics may not include engine (a higher layer)',
        "src/newdir/thing.c:1: folder 'newdir' has no layer in scripts/check_layers.py",
        'src/output/summary.h:1: #include "report/verdict.h": output may not include report (a sibling)',
        'src/plan/plan.c:1: #include "engine/run.h": plan may not include engine (a sibling)',
        'src/target/server.h:1: #include "engine/ev.h": target may not include engine (only core, http, io, metrics)',
    ]
    assert lines[:len(want)] == want, p.stdout
    assert lines[len(want)].startswith("check_layers: 9 violation(s)")
