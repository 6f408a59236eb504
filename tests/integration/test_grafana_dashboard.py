"""The shipped Grafana dashboard (deploy/grafana/dashboards/strain.json):
its structure as Grafana 10.4 writes it, and every panel's and variable's
query, with Grafana's macros substituted as Grafana does, run against a real
InfluxDB 1.x for one plan run, a second plan run in the same database and a
quick-mode run: each returns data, and each run's panels show that run only
(scoped by its testid)."""
import json
import os
import re
import time

import pytest
import yaml

from conftest import STRAIN, run_strain
from influx_lib import INFLUXD, Influx

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "dashboards", "strain.json")
PROVISIONED = os.path.join(ROOT, "deploy", "grafana", "provisioning", "datasources", "strain.yaml")
needs_influxd = pytest.mark.skipif(not os.path.exists(INFLUXD), reason="influxd not installed (scripts/deps.sh test)")


def load():
    return json.load(open(DASHBOARD))


def datasource_refs(node, path="$"):
    """Every "datasource" object in the dashboard, with where it is."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "datasource" and isinstance(v, dict):
                yield path, v
            else:
                yield from datasource_refs(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from datasource_refs(v, f"{path}[{i}]")


def test_datasources_resolve_to_the_input_or_the_provisioned_one():
    d = load()
    inputs = {i["name"]: i for i in d["__inputs"]}
    assert list(inputs) == ["DS_STRAIN_INFLUXDB"]
    assert inputs["DS_STRAIN_INFLUXDB"]["type"] == "datasource"
    assert inputs["DS_STRAIN_INFLUXDB"]["pluginId"] == "influxdb"
    variables = {v["name"]: v for v in d["templating"]["list"]}
    dsvar = variables["datasource"]
    # A manual import asks for DS_STRAIN_INFLUXDB and writes its uid here;
    # provisioning leaves the placeholder, which matches no datasource, so
    # Grafana takes the default InfluxDB one: the provisioned datasource.
    assert dsvar["type"] == "datasource" and dsvar["query"] == "influxdb"
    assert dsvar["current"]["value"] == "${DS_STRAIN_INFLUXDB}"
    prov = yaml.safe_load(open(PROVISIONED))["datasources"]
    influx = [p for p in prov if p["type"] == "influxdb"]
    assert len(influx) == 1 and influx[0]["isDefault"] is True and influx[0]["uid"] == "strain-influxdb"
    refs = list(datasource_refs(d))
    assert len(refs) > 20
    for path, ref in refs:
        if ref.get("type") == "grafana":  # the built-in annotations
            assert path.startswith("$.annotations"), path
            continue
        assert ref == {"type": "influxdb", "uid": "${datasource}"}, (path, ref)
    assert "strain-influxdb" not in json.dumps(d)


def test_panels_have_unique_ids_and_do_not_overlap():
    panels = load()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), ids
    cells = {}
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24, (p["title"], g)
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, (p["title"], "overlaps", cells.get((x, y)))
                cells[(x, y)] = p["title"]


def test_panels_carry_their_full_options():
    """What Grafana 10.4 writes for each panel type, so an export round-trips."""
    keys = {
        "stat": {"colorMode", "graphMode", "justifyMode", "orientation", "reduceOptions", "showPercentChange",
                 "textMode", "wideLayout"},
        "timeseries": {"legend", "tooltip"},
        "table": {"cellHeight", "footer", "showHeader"},
    }
    custom = {
        "timeseries": {"axisBorderShow", "axisCenteredZero", "axisColorMode", "axisLabel", "axisPlacement",
                       "barAlignment", "drawStyle", "fillOpacity", "gradientMode", "hideFrom", "insertNulls",
                       "lineInterpolation", "lineWidth", "pointSize", "scaleDistribution", "showPoints",
                       "spanNulls", "stacking", "thresholdsStyle"},
        "table": {"align", "cellOptions", "inspect"},
    }
    d = load()
    assert d["schemaVersion"] == 39
    for p in d["panels"]:
        assert p["pluginVersion"] == "10.4.2", p["title"]
        assert keys[p["type"]] <= set(p["options"]), (p["title"], keys[p["type"]] - set(p["options"]))
        defaults = p["fieldConfig"]["defaults"]
        assert {"color", "mappings", "thresholds"} <= set(defaults), p["title"]
        if p["type"] in custom:
            assert custom[p["type"]] <= set(defaults["custom"]), (p["title"], custom[p["type"]] - set(defaults["custom"]))
        if p["type"] == "timeseries":
            assert {"calcs", "displayMode", "placement", "showLegend"} <= set(p["options"]["legend"])
            assert {"mode", "sort"} <= set(p["options"]["tooltip"])
        for t in p["targets"]:
            assert {"datasource", "refId", "query", "rawQuery", "resultFormat"} <= set(t), (p["title"], t)


def test_docs_name_the_dashboard_by_its_title():
    title = load()["title"]
    for doc in ("docs/outputs.md", "deploy/docker-compose.yml"):
        assert title in open(os.path.join(ROOT, doc), encoding="utf-8").read(), doc


# ---- the queries against a real InfluxDB ----

@pytest.fixture
def influx(tmp_path):
    i = Influx(tmp_path / "influx")
    yield i
    i.stop()


def grafana_values(series):
    """A variable query's values, as Grafana's InfluxDB response parser reads
    them: the second column of each row (the first is the key or the time)."""
    out = []
    for s in series:
        for row in s["values"]:
            v = row[1] if len(row) > 1 else row[0]
            if v not in out:
                out.append(v)
    return out


def regex_escape(v):
    return re.sub(r"[\\^$*+?.()|{}\[\]/]", lambda m: "\\" + m.group(0), v)


def interpolate(q, t0_ms, t1_ms, sel):
    """Grafana's macros and variables: $timeFilter as the time range in
    epoch milliseconds, a 1 s interval, a single value as itself, a multi
    value (or All) as a regular expression."""
    q = q.replace("$timeFilter", f"time >= {t0_ms}ms and time <= {t1_ms}ms")
    q = q.replace("$__interval_ms", "1000").replace("$__interval", "1s")
    for name in ("testid", "strategy", "module", "instance"):
        v = sel.get(name, "$__all")
        if name == "testid":
            text = v
        elif v == "$__all":
            text = ".*"
        else:
            text = "(" + "|".join(regex_escape(x) for x in v) + ")"
        q = q.replace("$" + name, text)
    assert not re.search(r"\$[A-Za-z_]", q), q
    return q


def has_data(series):
    return any(any(x is not None for x in row[1:]) for s in series for row in s["values"])


def plan(tmp_path, target, modules, name):
    mods = "".join(f"  {m}:\n"
                   "    executor: {type: constant-vus, vus: %d, duration: 1500ms}\n"
                   "    flow:\n"
                   "      - get: /health\n"
                   "      - think: 10ms\n" % vus for m, vus in modules)
    p = tmp_path / name
    p.write_text(f"target: {target.url}\nmodules:\n{mods}")
    return p


def run(tmp_path, *args):
    out = tmp_path / f"s-{time.monotonic_ns()}.json"
    p = run_strain("run", *args, "--quiet", "--summary-export", str(out), timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text())


class Dash:
    def __init__(self, influx, t0_ms):
        self.influx = influx
        self.d = load()
        self.t0 = t0_ms

    def q(self, q, **sel):
        return self.influx.query("strain", interpolate(q, self.t0, int(time.time() * 1000) + 60000, sel))

    def variable(self, name, **sel):
        v = next(v for v in self.d["templating"]["list"] if v["name"] == name)
        values = grafana_values(self.q(v["query"], **sel))
        if v["sort"] in (1, 2):  # Grafana's alphabetical, ascending or descending
            values.sort(reverse=v["sort"] == 2)
        return values

    def panel(self, title):
        return next(p for p in self.d["panels"] if p["title"] == title)

    def all_panels_have_data(self, testid, quick=False):
        for p in self.d["panels"]:
            got = []
            for t in p["targets"]:
                s = self.q(t["query"], testid=testid)
                # The per-module VU series exist only in a plan's strategies.
                if not (quick and p["title"] == "Virtual users" and t["refId"] == "C"):
                    assert has_data(s), (p["title"], t["refId"], t["query"], s)
                got.append(s)
            assert any(has_data(s) for s in got), p["title"]

    def requests(self, testid, **sel):
        s = self.q(self.panel("Requests")["targets"][0]["query"], testid=testid, **sel)
        return s[0]["values"][0][1] if s else 0

    def table_modules(self, testid):
        s = self.q(self.panel("Strategy comparison")["targets"][0]["query"], testid=testid)
        return {(x["tags"]["strategy"], x["tags"]["module"]) for x in s}


@needs_influxd
def test_queries_for_one_run_two_runs_and_quick_mode(target, influx, tmp_path):
    t0 = int(time.time() * 1000) - 60000
    out = f"influxdb={influx.url}/strain"
    d = Dash(influx, t0)

    # One run: a plan with two modules in parallel.
    a = run(tmp_path, str(plan(tmp_path, target, [("alpha", 2), ("beta", 3)], "a.yaml")), "--out", out,
            "--tag", "testid=run-a", "--strategy", "parallel")
    assert a["testid"] == "run-a"
    assert d.variable("testid") == ["run-a"]
    assert d.variable("strategy", testid="run-a") == ["parallel"]
    assert sorted(d.variable("module", testid="run-a")) == ["alpha", "beta"]
    assert d.variable("instance", testid="run-a")
    d.all_panels_have_data("run-a")
    assert d.requests("run-a") == a["metrics"]["http_reqs"]["count"]
    cmp = a["comparison"]["strategies"]["parallel"]
    assert d.requests("run-a", module=["alpha"]) == cmp["alpha"]["requests"]
    # The VU panels follow the module picker: beta's own gauge, 3 VUs.
    vus = d.q(d.panel("Peak VUs")["targets"][0]["query"], testid="run-a", module=["beta"])
    assert vus[0]["values"][0][1] == 3, vus
    vus = d.q(d.panel("Peak VUs")["targets"][0]["query"], testid="run-a")
    assert vus[0]["values"][0][1] == 5, vus

    # A second run in the same database: other modules, sequential.
    b = run(tmp_path, str(plan(tmp_path, target, [("gamma", 1)], "b.yaml")), "--out", out,
            "--tag", "testid=run-b", "--strategy", "sequential")
    assert d.variable("testid") == ["run-b", "run-a"]  # newest first: the dashboard sorts descending
    assert d.variable("module", testid="run-b") == ["gamma"]
    assert sorted(d.variable("module", testid="run-a")) == ["alpha", "beta"]
    d.all_panels_have_data("run-b")
    d.all_panels_have_data("run-a")
    assert d.requests("run-a") == a["metrics"]["http_reqs"]["count"]
    assert d.requests("run-b") == b["metrics"]["http_reqs"]["count"]
    assert d.table_modules("run-a") == {("parallel", "alpha"), ("parallel", "beta")}
    assert d.table_modules("run-b") == {("sequential", "gamma")}

    # Quick mode, with its default run id: no module or strategy tags.
    q = run(tmp_path, "--url", target.url + "/health", "--vus", "2", "--duration", "1s", "--out", out)
    qid = q["testid"]
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", qid), qid
    assert qid in d.variable("testid")
    assert d.variable("module", testid=qid) == [] and d.variable("strategy", testid=qid) == []
    d.all_panels_have_data(qid, quick=True)
    assert d.requests(qid) == q["metrics"]["http_reqs"]["count"]
    assert d.requests("run-a") == a["metrics"]["http_reqs"]["count"]


@needs_influxd
def test_run_picker_follows_the_time_range(target, influx, tmp_path):
    """SHOW TAG VALUES ignores time on InfluxDB 1.x; the run picker does not."""
    out = f"influxdb={influx.url}/strain"
    run(tmp_path, "--url", target.url + "/health", "--iterations", "3", "--out", out, "--tag", "testid=old")
    time.sleep(1.1)
    t1 = int(time.time() * 1000)
    run(tmp_path, "--url", target.url + "/health", "--iterations", "3", "--out", out, "--tag", "testid=new")
    assert Dash(influx, t1).variable("testid") == ["new"]
    assert Dash(influx, t1 - 60000).variable("testid") == ["old", "new"]  # descending
