"""The stack's push mode (`ccmon stack up --push`) without starting it: what Prometheus and the
collector are told (the e2e pipeline test runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.stack import Stack, StackError


def test_push_mode_drops_the_exporter_scrape_and_keeps_the_collectors_own(tmp_path: Path) -> None:
    stack = Stack(StackConfig.with_free_ports(tmp_path, push_metrics=True))
    stack.render()
    jobs = {j["job_name"] for j in yaml.safe_load((tmp_path / "prometheus.yml").read_text())["scrape_configs"]}
    assert "app-metrics" not in jobs and "otel-collector" in jobs
    argv, env, _ = stack._spec("collector")
    assert argv[-1].endswith("collector/remote-write-only.yaml")
    assert env["CCMON_REMOTE_WRITE_URL"] == stack.config.url("prometheus", "/api/v1/write")
    assert "--web.enable-remote-write-receiver" in stack._spec("prometheus")[0]


def test_the_default_stack_is_scraped(tmp_path: Path) -> None:
    stack = Stack(StackConfig.with_free_ports(tmp_path))
    stack.render()
    jobs = {j["job_name"] for j in yaml.safe_load((tmp_path / "prometheus.yml").read_text())["scrape_configs"]}
    assert "app-metrics" in jobs
    assert not any("remote-write" in a for a in stack._spec("collector")[0])
    assert "CCMON_REMOTE_WRITE_URL" not in stack._spec("collector")[1]


@pytest.mark.parametrize("mode", ["ha", "secure", "direct_otlp"])
def test_push_is_refused_with_the_modes_not_wired_for_it(tmp_path: Path, mode: str) -> None:
    stack = Stack(StackConfig.with_free_ports(tmp_path, push_metrics=True, **{mode: True}))
    with pytest.raises(StackError, match="--push is not combined"):
        stack.render()
