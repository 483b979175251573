"""kubeconform validates the manifests offline against the pinned Kubernetes API schema and the
Prometheus-Operator CRD schemas (built by scripts/bootstrap.sh k8s; no cluster, no network)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from otel_ccmon.devstack.repo import bin_dir
from tests.support import ROOT

SCHEMAS = ROOT / ".cache" / "k8s-schemas"


def kubeconform(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(bin_dir(ROOT) / "kubeconform"), "-strict", "-summary", "-output", "text",
            "-schema-location", f"{SCHEMAS}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            *map(str, paths),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_manifests_validate_against_kubernetes_and_crd_schemas() -> None:
    files = sorted((ROOT / "kubernetes").glob("*.yaml"))
    count = sum(1 for p in files for d in yaml.safe_load_all(p.read_text()) if d)
    result = kubeconform(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"{count} resources found in {len(files)} files - Valid: {count}, Invalid: 0, Errors: 0, Skipped: 0"
        in result.stdout
    )


def test_a_wrong_field_is_caught(tmp_path: Path) -> None:
    rules = yaml.safe_load_all((ROOT / "kubernetes/prometheus-rules.yaml").read_text())
    broken = next(d for d in rules if d)
    broken["spec"]["groups"][0]["rulez"] = broken["spec"]["groups"][0].pop("rules")
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = kubeconform(path)
    assert result.returncode != 0 and "rulez" in result.stdout
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("apiVersion: example.com/v1\nkind: Mystery\nmetadata: {name: x}\n")
    assert kubeconform(unknown).returncode != 0  # a kind without a schema is an error, not skipped
