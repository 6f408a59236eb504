"""deploy/kubernetes/, checked offline as far as offline tools go.

No cluster runs here, and `kubectl apply --dry-run=client` needs a server's
OpenAPI, so what is checked is: every document against python3-kubernetes'
models (1.22 API: unknown fields, types, required fields; validate.py),
yamllint, kubectl's own typed decoding of the pod templates (`kubectl set
env --local`), the kustomization rendering, the plan in the ConfigMap with
`strain validate`, and that every strain flag the manifests use is one
strain knows. Enum values and scheduling are not checked: that needs a
cluster."""
import copy
import os
import re
import shutil
import subprocess

import pytest

from conftest import run_strain

yaml = pytest.importorskip("yaml")
pytest.importorskip("kubernetes", reason="python3-kubernetes (scripts/deps.sh test) is not installed")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "deploy", "kubernetes")
FILES = ["plan-configmap.yaml", "token-secret.yaml", "collector.yaml", "generators-job.yaml"]
PY = "/usr/bin/python3"


def docs(name):
    with open(os.path.join(K8S, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def validate(*paths):
    return subprocess.run([PY, os.path.join(K8S, "validate.py"), *paths], capture_output=True, text=True,
                          timeout=60)


def test_every_manifest_passes_the_model_check():
    p = validate(*[os.path.join(K8S, f) for f in FILES])
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_model_check_catches_mistakes(tmp_path):
    job = docs("generators-job.yaml")[0]
    bad = copy.deepcopy(job)
    bad["spec"]["parallelizm"] = 3                                   # unknown field
    bad["spec"]["template"]["spec"]["containers"][0]["args"] = "run"  # a string, not a list
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    p = validate(str(f))
    assert p.returncode == 1
    assert "unknown field 'parallelizm'" in p.stdout and "expected list" in p.stdout, p.stdout


def test_the_kustomization_lists_every_file_and_renders():
    (k,) = docs("kustomization.yaml")
    assert sorted(k["resources"]) == sorted(FILES)
    if not shutil.which("kubectl"):
        pytest.skip("no kubectl")
    p = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(p.stdout) if d)
    assert kinds == ["ConfigMap", "Deployment", "Job", "Secret", "Service"]


@pytest.mark.skipif(not shutil.which("kubectl"), reason="no kubectl")
def test_kubectl_decodes_the_pod_templates(tmp_path):
    for name, kind in (("generators-job.yaml", "Job"), ("collector.yaml", "Deployment")):
        (d,) = [d for d in docs(name) if d["kind"] == kind]
        f = tmp_path / f"{kind}.yaml"
        f.write_text(yaml.safe_dump(d))
        p = subprocess.run(["kubectl", "set", "env", "--local", "-f", str(f), "-o", "name", "X=1"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr


def test_yamllint():
    if not shutil.which("yamllint"):
        pytest.skip("no yamllint")
    p = subprocess.run(["yamllint", "-d", "relaxed", "--no-warnings",
                        *[os.path.join(K8S, f) for f in FILES + ["kustomization.yaml"]]],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout


def test_the_plan_in_the_configmap_is_valid(tmp_path):
    (cm,) = docs("plan-configmap.yaml")
    plan = tmp_path / "plan.yaml"
    plan.write_text(cm["data"]["plan.yaml"])
    p = run_strain("validate", str(plan), timeout=30)
    assert p.returncode == 0, p.stderr


def test_the_job_and_the_collector_agree():
    (job,) = docs("generators-job.yaml")
    (dep,) = [d for d in docs("collector.yaml") if d["kind"] == "Deployment"]
    (svc,) = [d for d in docs("collector.yaml") if d["kind"] == "Service"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    args = spec["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--segments") + 1] == str(spec["completions"])
    assert args[args.index("--segment-index") + 1] == "$(JOB_COMPLETION_INDEX)"
    collect = dep["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert re.search(r"--expect %d\b" % spec["completions"], collect), collect
    url = args[args.index("--collector") + 1]
    assert url == f"http://{svc['metadata']['name']}:6565"
    assert svc["spec"]["selector"] == dep["spec"]["template"]["metadata"]["labels"]
    for pod in (spec["template"]["spec"], dep["spec"]["template"]["spec"]):
        for c in pod["containers"]:
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
    anti = spec["template"]["spec"]["affinity"]["podAntiAffinity"]
    term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


def flags_known(cmd):
    return set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", run_strain(cmd, "--help", timeout=20).stdout))


# The segment flags come with execution segments (issue 16's other half):
# checked here as soon as `strain run` knows them.
PENDING = {"--segment-index", "--segments"}


def test_every_strain_flag_in_the_manifests_exists():
    (job,) = docs("generators-job.yaml")
    (dep,) = [d for d in docs("collector.yaml") if d["kind"] == "Deployment"]
    run_args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert run_args[0] == "run"
    known = flags_known("run")
    for f in [a for a in run_args if a.startswith("--")]:
        assert f in known or (f in PENDING and not PENDING & known), f"strain run has no {f}"
    collect_line = dep["spec"]["template"]["spec"]["containers"][0]["args"][0]
    known = flags_known("collect")
    for f in re.findall(r"strain collect [^;]*", collect_line)[0].split():
        if f.startswith("--"):
            assert f in known, f"strain collect has no {f}"
