"""Writes every generated file of the mixin into a repository checkout.

``python -m mixin [--repo PATH] [rules|dashboards|collector|docs|all]`` (``make generate``); the repository
is named explicitly or is the working directory, never found through a package's location.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from mixin import collector_firewall, docs, k8s, prometheus_variants
from mixin.alerts import ALL_ALERTS
from mixin.config import SETTINGS
from mixin.dashboards import BOARDS
from mixin.panels import render
from mixin.promtool_tests import tests_yaml
from mixin.rule_files import alerts_yaml, recording_yaml, services_yaml
from mixin.runbooks import runbook
from mixin.team_routes import with_team_routes
from otel_ccmon.devstack.repo import find_repo


def rule_outputs(root: Path) -> dict[Path, str]:
    """Rule files, promtool tests and runbooks under ``root``, with their content."""
    out = {
        root / "prometheus" / "rules" / "recording.yml": recording_yaml(),
        root / "prometheus" / "rules" / "services.yml": services_yaml(),
        root / "prometheus" / "rules" / "alerts.yml": alerts_yaml(),
        root / "prometheus" / "tests" / "alerts_test.yml": tests_yaml(),
    }
    for alert in ALL_ALERTS:
        out[root / "docs" / "runbooks" / f"{alert.name}.md"] = runbook(alert)
    alertmanager = root / "alertmanager" / "alertmanager.yml"
    out[alertmanager] = with_team_routes(alertmanager.read_text())
    return out


def dashboard_outputs(root: Path) -> dict[Path, str]:
    """The Grafana dashboards under ``root``."""
    return {root / board.output: render(board) for board in BOARDS}


def collector_outputs(root: Path) -> dict[Path, str]:
    """The collector's cardinality firewall, from the catalog."""
    return {root / collector_firewall.OUTPUT: collector_firewall.firewall_yaml(SETTINGS.series_budget_per_service)}


def prometheus_outputs(root: Path) -> dict[Path, str]:
    """The HA replicas' and the secured topology's configurations, from prometheus/prometheus.yml."""
    return prometheus_variants.outputs(root)


def k8s_outputs(root: Path) -> dict[Path, str]:
    """The Kubernetes manifests, from the rules, configs and dashboards (run after those)."""
    return k8s.outputs(root)


def docs_outputs(root: Path) -> dict[Path, str]:
    """The README's counts and docs/metrics.md's table regenerated from the sources, docs/claude-code.md
    with its privacy allowlist, docs/agents.md with its tables."""
    readme, claude_code, agents = root / "README.md", root / "docs" / "claude-code.md", root / "docs" / "agents.md"
    metrics = root / "docs" / "metrics.md"
    return {
        readme: docs.render_readme(readme.read_text()),
        metrics: docs.render_readme(metrics.read_text()),
        claude_code: docs.render_claude_code(claude_code.read_text()),
        agents: docs.render_agents(agents.read_text()),
    }


TARGETS: dict[str, Callable[[Path], dict[Path, str]]] = {
    "rules": rule_outputs,
    "dashboards": dashboard_outputs,
    "collector": collector_outputs,
    "prometheus": prometheus_outputs,
    "k8s": k8s_outputs,
    "docs": docs_outputs,
}


def outputs(root: Path, targets: Sequence[str] = tuple(TARGETS)) -> dict[Path, str]:
    """Every generated file of ``targets`` under ``root``.

    >>> root = find_repo()
    >>> sorted(p.relative_to(root).as_posix() for p in outputs(root, ["rules"]))[-3:]
    ['prometheus/rules/recording.yml', 'prometheus/rules/services.yml', 'prometheus/tests/alerts_test.yml']
    """
    out: dict[Path, str] = {}
    for target in targets:
        out.update(TARGETS[target](root))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m mixin``."""
    parser = argparse.ArgumentParser(prog="python -m mixin", description="write the mixin's generated files")
    parser.add_argument("target", nargs="?", default="all", choices=[*TARGETS, "all"])
    parser.add_argument("--repo", type=Path, default=None, help="repository root (default: the working directory)")
    args = parser.parse_args(argv)
    root = find_repo(args.repo)
    targets = list(TARGETS) if args.target == "all" else [args.target]
    written = 0
    for target in targets:  # one at a time: k8s reads the rules, configs and dashboards just written
        for path, content in outputs(root, [target]).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            written += 1
    print(f"wrote {written} files under {root}")
    return 0
