#!/usr/bin/python3
"""Checks that every `#include "..."` in src/ goes down the layer order.

The order is written once, below: LEVELS lists the layers from the bottom
up. A file may include its own layer and any layer on a lower level;
layers on the same level (siblings) may not include each other unless
SIBLING_ALLOW says so; a layer in ONLY may include just the layers listed
there (and itself). FOLDERS maps each folder of src/ to its layer, so the
table describes today's folders and the target ones alike: moving files
into a new folder needs at most a line here. A "folder/stem" key (e.g.
"plan/jsonpath") places one .c/.h pair in another layer than its folder's.

Usage: scripts/check_layers.py [--root DIR] [--quiet]
Prints one line per violation, FILE:LINE: #include "X": why, then a
summary; exits 1 if there was any violation (or an include it cannot
place), 0 otherwise."""
import argparse
import os
import re
import sys

# Bottom to top. Dependencies point down only.
# metrics sits below program: a program names metrics and tags (thresholds,
# module tags) and the engine records into shards, while nothing in metrics
# knows of programs, plans or engines.
LEVELS = [
    ["core"],
    ["io"],
    ["http"],
    ["metrics"],
    ["program"],
    ["engine", "plan", "target"],
    ["report", "output"],
    ["suite"],
    ["cli"],
]

# (includer, included) pairs allowed between siblings.
SIBLING_ALLOW = set()

# Layers whose allowed includes are exactly these (besides themselves).
ONLY = {
    # The built-in demo server sits beside the engine but shares nothing
    # with it beyond the lower layers and metrics.
    "target": {"core", "io", "http", "metrics"},
}

# Folder of src/ (or "folder/stem") -> layer. "" is src/ itself (main.c).
FOLDERS = {
    "": "cli",
    "core": "core",
    "io": "io",
    "http": "http",
    "program": "program",
    "engine": "engine",
    "metrics": "metrics",
    "target": "target",
    "report": "report",
    "output": "output",
    "suite": "suite",
    "cli": "cli",
    "plan": "plan",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def level_of():
    lv = {}
    for i, names in enumerate(LEVELS):
        for n in names:
            if n in lv:
                raise SystemExit(f"check_layers: layer {n} is listed twice in LEVELS")
            lv[n] = i
    for name, layer in FOLDERS.items():
        if layer not in lv:
            raise SystemExit(f"check_layers: FOLDERS maps {name or 'src/'} to unknown layer {layer}")
    for a, b in SIBLING_ALLOW:
        if lv.get(a) is None or lv.get(a) != lv.get(b):
            raise SystemExit(f"check_layers: SIBLING_ALLOW ({a}, {b}) are not siblings")
    return lv


def layer_of(rel):
    """Layer of a path relative to src/ ("engine/run.c"), or None."""
    folder, base = os.path.split(rel)
    stem = os.path.splitext(base)[0]
    key = f"{folder}/{stem}" if folder else stem
    if key in FOLDERS:
        return FOLDERS[key]
    return FOLDERS.get(folder)


def why_not(src_layer, dst_layer, lv):
    """None if src_layer may include dst_layer, else the reason."""
    if src_layer == dst_layer:
        return None
    if src_layer in ONLY:
        if dst_layer in ONLY[src_layer]:
            return None
        allowed = ", ".join(sorted(ONLY[src_layer]))
        return f"{src_layer} may not include {dst_layer} (only {allowed})"
    if lv[dst_layer] < lv[src_layer]:
        return None
    if lv[dst_layer] == lv[src_layer]:
        if (src_layer, dst_layer) in SIBLING_ALLOW:
            return None
        return f"{src_layer} may not include {dst_layer} (a sibling)"
    return f"{src_layer} may not include {dst_layer} (a higher layer)"


def resolve(src_dir, including_rel, name):
    """The included file relative to src/, as the compiler finds it with
    -Isrc: first beside the including file, then from src/."""
    beside = os.path.normpath(os.path.join(os.path.dirname(including_rel), name))
    if os.path.isfile(os.path.join(src_dir, beside)):
        return beside
    if os.path.isfile(os.path.join(src_dir, name)):
        return os.path.normpath(name)
    return None


def check(root):
    src_dir = os.path.join(root, "src")
    lv = level_of()
    problems, edges = [], {}
    files = []
    for d, _, names in os.walk(src_dir):
        for n in names:
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(d, n), src_dir))
    for rel in sorted(files):
        src_layer = layer_of(rel)
        shown = os.path.join("src", rel)
        if src_layer is None:
            problems.append(f"{shown}:1: folder '{os.path.dirname(rel)}' has no layer in scripts/check_layers.py")
            continue
        with open(os.path.join(src_dir, rel), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(src_dir, rel, m.group(1))
                if target is None:
                    problems.append(f'{shown}:{lineno}: #include "{m.group(1)}": no such file under src/')
                    continue
                dst_layer = layer_of(target)
                if dst_layer is None:
                    problems.append(f'{shown}:{lineno}: #include "{m.group(1)}": its folder has no layer')
                    continue
                reason = why_not(src_layer, dst_layer, lv)
                if reason:
                    problems.append(f'{shown}:{lineno}: #include "{m.group(1)}": {reason}')
                    edges[(src_layer, dst_layer)] = edges.get((src_layer, dst_layer), 0) + 1
    return problems, edges


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the tree to check (default: this repository)")
    ap.add_argument("--quiet", action="store_true", help="only the summary")
    a = ap.parse_args()
    problems, edges = check(a.root)
    if not a.quiet:
        for p in problems:
            print(p)
    order = " -> ".join(", ".join(names) for names in LEVELS)
    if problems:
        print(f"check_layers: {len(problems)} violation(s) of {order}")
        for (s, d), n in sorted(edges.items()):
            print(f"  {s} -> {d}: {n}")
        return 1
    print(f"check_layers: ok ({order})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
