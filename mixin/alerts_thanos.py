"""Alerts of the long-term tier (Thanos: sidecars, store gateway, compactor, Query; docs/long-term.md).

Each selects only its Thanos job (prometheus-ha.yml scrapes them as thanos-sidecar, thanos-store,
thanos-compact, thanos-query). A component that is down altogether is TargetDown's.
"""

from __future__ import annotations

from mixin.model import Alert, Scenario, counter_values

SIDECAR = {"job": "thanos-sidecar", "instance": "s1"}
QUERY = {"job": "thanos-query", "instance": "q1"}


def _scenario(firing: dict[str, str], healthy: dict[str, str], value: float, labels: dict[str, str]) -> Scenario:
    return Scenario(firing=firing, healthy=healthy, value=value, labels=labels, active_from=0)


THANOS_ALERTS: tuple[Alert, ...] = (
    Alert(
        name="ThanosCompactHalted",
        severity="P1",
        component="long-term",
        expr='max by (job, instance) (thanos_compact_halted{job="thanos-compact"}) == 1',
        summary="The Thanos compactor has halted",
        description="The compactor {{ $labels.instance }} stopped on an error it will not retry.",
        impact=(
            "The bucket is no longer compacted, downsampled or trimmed to its retention: long-range queries "
            "(90-day reports, the 1-year trend) read raw blocks and slow down, and the bucket grows without bound."
        ),
        meaning=(
            "thanos_compact_halted is 1: the compactor met an error it halts on rather than risk the bucket "
            "(typically overlapping blocks or a corrupt block), for 5 minutes."
        ),
        diagnosis=(
            "thanos_compact_halted",
            "the compactor's log: the block ULID and the error it halted on",
            "thanos tools bucket verify --objstore.config-file=bucket.yml",
        ),
        mitigation=(
            "A corrupt or overlapping block: mark it for no-compaction "
            "(thanos tools bucket mark --marker=no-compact-mark.json --id=ULID) or delete it, then restart the compactor.",
            "Nothing Prometheus still holds is lost: the sidecars keep shipping, the store gateway keeps serving.",
        ),
        scenario=_scenario(
            {'thanos_compact_halted{job="thanos-compact",instance="c1"}': "1x60"},
            {'thanos_compact_halted{job="thanos-compact",instance="c1"}': "0x60"},
            1,
            {"job": "thanos-compact", "instance": "c1"},
        ),
        for_="5m",
        group="long-term",
        service_label=False,
    ),
    Alert(
        name="ThanosSidecarUploadFailing",
        severity="P2",
        component="long-term",
        expr=(
            'sum by (job, instance) (rate(thanos_shipper_upload_failures_total{job="thanos-sidecar"}[15m])) > 0'
            ' or sum by (job, instance) (rate(thanos_shipper_dir_sync_failures_total{job="thanos-sidecar"}[15m])) > 0'
        ),
        summary="The Thanos sidecar {{ $labels.instance }} cannot ship blocks to the bucket",
        description="{{ $value | humanize }} failed uploads (or bucket syncs) per second at {{ $labels.instance }}.",
        impact=(
            "Blocks stay on the Prometheus replica only: once its local retention passes, they are gone from every "
            "long-range view. The other replica's copy covers the gap only if its sidecar uploads."
        ),
        meaning=(
            "The sidecar's shipper fails to upload blocks or to list the bucket "
            "(thanos_shipper_upload_failures_total, thanos_shipper_dir_sync_failures_total above 0 over 15 minutes), "
            "for 15 minutes."
        ),
        diagnosis=(
            "rate(thanos_shipper_upload_failures_total[15m])",
            'rate(thanos_objstore_bucket_operation_failures_total{job="thanos-sidecar"}[15m])',
            "the sidecar's log: the bucket's error (credentials, endpoint, TLS, permissions)",
        ),
        mitigation=(
            "Fix the bucket configuration or reach (objstore config file / the thanos-objstore secret); "
            "the sidecar retries by itself and ships every block still on disk.",
            "If the bucket will be out for longer than the replica's retention, raise "
            "--storage.tsdb.retention.time so that no block is deleted before it is shipped.",
        ),
        scenario=_scenario(
            {
                # 2/s: Prometheus 3's left-open windows make 1/s read 0.99999… ("1000m")
                'thanos_shipper_upload_failures_total{job="thanos-sidecar",instance="s1"}': counter_values(120),
                'thanos_shipper_dir_sync_failures_total{job="thanos-sidecar",instance="s1"}': "0x60",
            },
            {
                'thanos_shipper_upload_failures_total{job="thanos-sidecar",instance="s1"}': "0x60",
                'thanos_shipper_dir_sync_failures_total{job="thanos-sidecar",instance="s1"}': "0x60",
            },
            2,
            SIDECAR,
        ),
        for_="15m",
        group="long-term",
        service_label=False,
    ),
    Alert(
        name="ThanosStoreGatewayUnreachable",
        severity="P2",
        component="long-term",
        expr=(
            'max by (job, instance) (up{job="thanos-query"}) == 1 unless on (job, instance) '
            'sum by (job, instance) (thanos_store_nodes_grpc_connections{job="thanos-query",store_type="store"}) > 0'
        ),
        summary="Thanos Query {{ $labels.instance }} has no store gateway",
        description="Thanos Query {{ $labels.instance }} holds no connection to a store gateway.",
        impact=(
            "Queries see only what the Prometheus replicas still hold (their local retention): 90-day reports "
            "and long trends come back partial (flagged as such), not from the bucket."
        ),
        meaning=(
            "Thanos Query runs but counts no open gRPC connection to a Store API of type store "
            "(thanos_store_nodes_grpc_connections), for 5 minutes."
        ),
        diagnosis=(
            'thanos_store_nodes_grpc_connections{job="thanos-query"}',
            'up{job="thanos-store"}',
            "Thanos Query's UI → Stores: the store gateway's address and its last error",
        ),
        mitigation=(
            "Start or fix the store gateway (its log names a bucket or index-cache error); "
            "check Query's --endpoint for it.",
        ),
        scenario=_scenario(
            {
                'up{job="thanos-query",instance="q1"}': "1x60",
                'thanos_store_nodes_grpc_connections{job="thanos-query",instance="q1",store_type="sidecar"}': "2x60",
            },
            {
                'up{job="thanos-query",instance="q1"}': "1x60",
                'thanos_store_nodes_grpc_connections{job="thanos-query",instance="q1",store_type="store"}': "1x60",
            },
            1,
            QUERY,
        ),
        for_="5m",
        group="long-term",
        service_label=False,
    ),
    Alert(
        name="ThanosQueryPartialResponses",
        severity="P2",
        component="long-term",
        expr=(
            "sum by (job, instance) ("
            'rate(grpc_client_handled_total{job="thanos-query",grpc_code!~"OK|Canceled"}[5m])'
            ") > 0"
        ),
        summary="Thanos Query {{ $labels.instance }} answers from only some of its stores",
        description="{{ $value | humanize }} failed store calls per second at {{ $labels.instance }}.",
        impact=(
            "Answers are partial (Query returns them with a warning): a dashboard or report can show less "
            "than was recorded without saying so, unless it reads the warning (ccmon's report does)."
        ),
        meaning=(
            "Calls from Thanos Query to its stores (sidecars, store gateway) fail with a gRPC code other than "
            "OK or Canceled (grpc_client_handled_total), which makes its responses partial, for 15 minutes."
        ),
        diagnosis=(
            'sum by (grpc_method, grpc_code) (rate(grpc_client_handled_total{job="thanos-query"}[5m]))',
            "Thanos Query's UI → Stores: which store errs",
        ),
        mitigation=(
            "Fix or restart the failing store; a slow store gateway: give it memory or an index cache, "
            "or raise --store.response-timeout.",
        ),
        scenario=_scenario(
            {'grpc_client_handled_total{job="thanos-query",instance="q1",grpc_code="Unavailable"}': counter_values(60)},
            {'grpc_client_handled_total{job="thanos-query",instance="q1",grpc_code="OK"}': counter_values(60)},
            1,
            QUERY,
        ),
        for_="15m",
        group="long-term",
        service_label=False,
    ),
)
