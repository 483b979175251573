"""The long-term tier on S3 (issue 22): the same Thanos components against a local S3-compatible
server (moto's server mode), not only a folder. Measured: the sidecar ships blocks into the S3
bucket and Query answers from it; the bucket unreachable raises ThanosSidecarUploadFailing while
Prometheus keeps everything, and once the bucket is back the blocks cut during the outage are
shipped: nothing Prometheus held is lost."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import Proc, free_port, http_ok, wait_for
from otel_ccmon.devstack.stack import Stack, write_shortened_rules
from tests.e2e.test_long_term import LONG_TERM, query, query_alerts
from tests.support import ROOT, venv_bin

BUCKET = "otel-ccmon-metrics"
SHORTEN = 10
COMPONENTS = ("sink", "receiver", "alertmanager", "collector", "prometheus", "thanos_sidecar", "thanos_store",
              "thanos_compact", "thanos_query")  # fmt: skip


class S3:
    """moto's S3 server on a fixed loopback port (restartable: the outage test stops it)."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "moto.log"
        self.proc: Proc | None = None

    def start(self) -> None:
        self.proc = Proc("moto", [venv_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)], self.log).start()
        wait_for(lambda: http_ok(self.url + "/moto-api/"), 60, f"moto's S3 server at {self.url}")
        httpx.put(f"{self.url}/{BUCKET}", timeout=10).raise_for_status()  # moto keeps buckets in memory

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def objects(self) -> list[str]:
        body = httpx.get(f"{self.url}/{BUCKET}", params={"list-type": "2", "max-keys": "10000"}, timeout=10).text
        return re.findall(r"<Key>([^<]+)</Key>", body)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, S3]]:
    work = tmp_path_factory.mktemp("long-term-s3")
    server = S3(work)
    server.start()
    bucket = work / "bucket.yml"
    config = {"bucket": BUCKET, "endpoint": f"127.0.0.1:{server.port}", "insecure": True, "region": "us-east-1",
              "access_key": "local", "secret_key": "local-secret", "bucket_lookup_type": "path"}  # fmt: skip
    bucket.write_text(yaml.safe_dump({"type": "S3", "config": config}))
    # rules shortened 10x, not 60x: the sidecar tries the bucket every 30 s, so a 15m window shortened
    # to 15 s would hold one failure in two evaluations and the alert would never outlast its `for`
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", SHORTEN)
    stack = Stack(StackConfig.with_free_ports(work / "stack", rules_dir=rules, components=COMPONENTS, ha=True,
                                              objstore_config=bucket, **LONG_TERM))  # fmt: skip
    try:
        stack.up()
        yield stack, server
    finally:
        stack.down()
        server.stop()


def blocks(server: S3) -> set[str]:
    return {k.split("/")[0] for k in server.objects() if k.endswith("/meta.json")}


def test_blocks_are_shipped_to_s3_and_answered(s3: tuple[Stack, S3]) -> None:
    stack, server = s3
    shipped = wait_for(lambda: blocks(server), 240, "a block in the S3 bucket")
    stores = httpx.get(stack.config.url("thanos_query", "/api/v1/stores"), timeout=10).json()["data"]

    def store_sees_it() -> bool:
        stores = httpx.get(stack.config.url("thanos_query", "/api/v1/stores"), timeout=10).json()["data"]
        return any(0 < s["minTime"] < 2**62 for s in stores.get("store", []))

    wait_for(store_sees_it, 60, f"the store gateway serving {sorted(shipped)} from S3 (stores: {stores})")
    assert query(stack.config.url("thanos_query"), 'up{job="prometheus"}')


def test_an_unreachable_bucket_alerts_and_loses_nothing(s3: tuple[Stack, S3]) -> None:
    stack, server = s3
    wait_for(lambda: blocks(server), 240, "a block in the S3 bucket")
    server.stop()

    def firing() -> list[dict[str, Any]]:
        return [a for a in query_alerts(stack) if a["labels"]["alertname"] == "ThanosSidecarUploadFailing"
                and a["state"] == "firing"]  # fmt: skip

    wait_for(firing, 300, "ThanosSidecarUploadFailing firing while the bucket is unreachable")
    # Prometheus still holds everything: blocks the sidecar could not ship wait on its disk
    data = stack.workdir / "prometheus-data"
    local = {p.parent.name for p in data.glob("*/meta.json")}
    uploaded = set(json.loads((data / "thanos.shipper.json").read_text()).get("uploaded") or [])
    waiting = local - uploaded
    assert waiting, f"no block waiting during the outage (local {sorted(local)}, shipped {sorted(uploaded)})"
    server.start()  # an empty bucket again: moto keeps nothing across a restart
    wait_for(lambda: waiting <= blocks(server), 240, f"the blocks cut during the outage shipped: {sorted(waiting)}")
    wait_for(lambda: not firing(), 180, "ThanosSidecarUploadFailing resolved")
