"""Self-monitoring alerts of the pipeline: collector, Prometheus, Alertmanager, the receiver, Watchdog."""

from __future__ import annotations

from collections.abc import Mapping

from mixin.config import APPLICATION_ROLE, SETTINGS
from mixin.model import Alert, Scenario, constant_values, counter_values


def _pipeline_scenario(
    series: str, firing: str, healthy: str, value: float, labels: Mapping[str, str], active: int = 1
) -> Scenario:
    return Scenario(firing={series: firing}, healthy={series: healthy}, value=value, labels=labels, active_from=active)


COLLECTOR = {"job": "otel-collector", "instance": "c1"}
COL = '{job="otel-collector",instance="c1"'

_MEMORY = SETTINGS.component_memory_mib


def _component_memory_expr() -> str:
    return " or ".join(
        f'process_resident_memory_bytes{{job="{job}"}} > {mib * 2**20}' for job, mib in sorted(_MEMORY.items())
    )


PIPELINE: tuple[Alert, ...] = (
    Alert(
        name="ComponentMemoryHigh",
        severity="P2",
        component="pipeline",
        expr=_component_memory_expr(),
        summary="{{ $labels.job }} uses more memory than planned",
        description="{{ $labels.job }} ({{ $labels.instance }}) holds {{ $value | humanize1024 }}B resident.",
        impact="The component risks being killed for memory; for Prometheus, queries and rule evaluation slow down.",
        meaning=(
            "A component of the stack has a resident set above its own limit in component_memory_mib "
            "(mixin/settings.yml: "
            + ", ".join(f"{job} {mib} MiB" for job, mib in sorted(_MEMORY.items()))
            + "), for 30 minutes."
        ),
        diagnosis=(
            "process_resident_memory_bytes",
            "prometheus_tsdb_head_series   # Prometheus's memory follows its series",
        ),
        mitigation=(
            'Prometheus: find the job whose series grew (count by (job) ({__name__=~".+"})) and bound its labels.',
            "Planned growth: raise the component's limit in component_memory_mib and give it the memory.",
        ),
        scenario=_pipeline_scenario(
            'process_resident_memory_bytes{job="prometheus",instance="p1"}',
            constant_values((_MEMORY["prometheus"] + 512) * 2**20),
            constant_values(114 * 2**20),
            (_MEMORY["prometheus"] + 512) * 2**20,
            {"job": "prometheus", "instance": "p1"},
            0,
        ),
        for_="30m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorDown",
        severity="P1",
        component="pipeline",
        expr='up{job="otel-collector"} == 0 or absent(up{job="otel-collector"}) == 1',
        summary="The OpenTelemetry Collector is down",
        description="Prometheus cannot scrape the collector's own telemetry ({{ $labels.instance }}).",
        impact="Application metrics stop arriving: dashboards freeze and metric-based alerts go blind.",
        meaning="The collector's telemetry target is down in Prometheus, or missing, for 2 minutes: the process is down or unreachable.",
        diagnosis=('up{job="otel-collector"}', "curl -s http://otel-collector:13133/"),
        mitigation=("Check the collector's logs; validate its config with `otelcol-ccmon validate`.", "Restart it."),
        scenario=_pipeline_scenario('up{job="otel-collector",instance="c1"}', "0x30", "1x30", 0, COLLECTOR, 0),
        for_="2m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorRefusingPoints",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance, receiver) (rate(otelcol_receiver_refused_metric_points[5m])) > 0",
        summary="The collector refuses metric points",
        description="{{ $value | humanize }} points per second are refused by receiver {{ $labels.receiver }}.",
        impact="Applications' exports fail; data is lost until they export again.",
        meaning="The collector's receiver refused points (a 5-minute rate above 0), for 5 minutes; usually the memory limiter is engaged.",
        diagnosis=("rate(otelcol_receiver_refused_metric_points[5m])", "otelcol_process_memory_rss"),
        mitigation=("Check memory limiter and exporter health.", "Give the collector more memory or scale it out."),
        scenario=_pipeline_scenario(
            f'otelcol_receiver_refused_metric_points{COL},receiver="otlp",transport="http"}}',
            counter_values(60),
            "0x200",
            1,
            {**COLLECTOR, "receiver": "otlp"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorExportFailing",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance, exporter) (rate(otelcol_exporter_send_failed_metric_points[5m])) > 0",
        summary="The collector fails to send to {{ $labels.exporter }}",
        description="{{ $value | humanize }} points per second fail to be sent by {{ $labels.exporter }}.",
        impact="A backend does not receive data; queued data waits and may be dropped when the queue fills.",
        meaning="An exporter of the collector failed to send points (a 5-minute rate above 0), for 5 minutes.",
        diagnosis=("rate(otelcol_exporter_send_failed_metric_points[5m])", "otelcol_exporter_queue_size"),
        mitigation=("Check the backend's availability and the credentials of the exporter.", "Watch the queue."),
        scenario=_pipeline_scenario(
            f'otelcol_exporter_send_failed_metric_points{COL},exporter="otlp_http/forward"}}',
            counter_values(60),
            "0x200",
            1,
            {**COLLECTOR, "exporter": "otlp_http/forward"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorQueueNearlyFull",
        severity="P2",
        component="pipeline",
        expr="max by (job, instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8",
        summary="The sending queue of {{ $labels.exporter }} is nearly full",
        description="The queue is {{ $value | humanizePercentage }} full.",
        impact="When full, new data for that backend is dropped.",
        meaning="An exporter's sending queue is more than 80 % (0.8) full, for 10 minutes: a backend is slow or down.",
        diagnosis=("otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",),
        mitigation=("Fix the backend; raise the queue size if outages are expected.",),
        scenario=Scenario(
            firing={
                f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': constant_values(900),
                f'otelcol_exporter_queue_capacity{COL},exporter="otlp_http/forward"}}': constant_values(1000),
            },
            healthy={
                f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': constant_values(10),
                f'otelcol_exporter_queue_capacity{COL},exporter="otlp_http/forward"}}': constant_values(1000),
            },
            value=0.9,
            labels={**COLLECTOR, "exporter": "otlp_http/forward"},
            active_from=0,
        ),
        threshold=0.8,
        for_="10m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorExportStalled",
        severity="P2",
        component="pipeline",
        # retries without a deadline never count as failed, and a 10,000-batch queue takes hours to
        # reach 80 %: an unreachable backend (DNS, TLS, down) shows as a queue that never drains
        expr=(
            "max by (job, instance, exporter) (min_over_time(otelcol_exporter_queue_size[10m])) > 0"
            " unless on (job, instance, exporter)"
            " sum by (job, instance, exporter) (rate(otelcol_exporter_sent_metric_points[10m])) > 0"
        ),
        summary="{{ $labels.exporter }} sends nothing: its queue holds data",
        description="{{ $labels.exporter }} has held at least {{ $value }} batches for 10 minutes and sent none.",
        impact="The backend behind that exporter receives nothing; the queue fills and then drops data.",
        meaning=(
            "An exporter's sending queue was never empty over the last 10 minutes and it sent no data points in "
            "those 10 minutes, for 15 minutes: its backend is unreachable (DNS, TLS, refused, down)."
        ),
        diagnosis=(
            "otelcol_exporter_queue_size, rate(otelcol_exporter_sent_metric_points[10m])",
            "the collector's log: the exporter's error (name resolution, certificate, status code)",
        ),
        mitigation=(
            "Fix the endpoint (CCMON_FORWARD_OTLP_ENDPOINT), its DNS name, CA or credentials.",
            "The persistent queue keeps what it holds across restarts; it drains once the backend answers.",
        ),
        scenario=Scenario(
            firing={f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': constant_values(5)},
            healthy={
                f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': constant_values(5),
                f'otelcol_exporter_sent_metric_points{COL},exporter="otlp_http/forward"}}': counter_values(100),
            },
            value=5,
            labels={**COLLECTOR, "exporter": "otlp_http/forward"},
            active_from=0,
        ),
        for_="15m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="OTelCollectorMemoryLimiterRefusing",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance) (rate(otelcol_processor_memory_limiter_refused_metric_points[5m])) > 0",
        summary="The collector's memory limiter refuses data",
        description="{{ $value | humanize }} points per second are refused by the memory limiter.",
        impact="Applications' exports are refused until memory use falls.",
        meaning="The memory limiter refused points (a 5-minute rate above 0), for 5 minutes: the collector is at its memory limit.",
        diagnosis=("rate(otelcol_processor_memory_limiter_refused_metric_points[5m])", "otelcol_process_memory_rss"),
        mitigation=("Raise CCMON_COLLECTOR_MEMORY_LIMIT_MIB with the container limit, or scale out.",),
        scenario=_pipeline_scenario(
            f"otelcol_processor_memory_limiter_refused_metric_points{COL}}}", counter_values(60), "0x200", 1, COLLECTOR
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="TargetDown",
        severity="P2",
        component="pipeline",
        expr=f"up{{{APPLICATION_ROLE.replace('=', '!=')}}} == 0",
        summary="Scrape target {{ $labels.job }} is down",
        description="Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}.",
        impact="Metrics of that component are missing; its alerts go blind.",
        meaning="A scrape target that is not an application (no ccmon_role=application label) fails for 10 minutes.",
        diagnosis=("up == 0", "Prometheus → Status → Targets"),
        mitigation=("Check the component and its network reachability.",),
        scenario=_pipeline_scenario(
            'up{job="node-exporter",instance="n1"}', "0x60", "1x60", 0, {"job": "node-exporter", "instance": "n1"}, 0
        ),
        for_="10m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="PrometheusRuleEvaluationFailures",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance, rule_group) (increase(prometheus_rule_evaluation_failures_total[5m])) > 0",
        summary="Prometheus fails to evaluate rules",
        description="{{ $value | humanize }} rule evaluations failed in group {{ $labels.rule_group }} in 5 minutes.",
        impact="Alerts of that group may not fire.",
        meaning="Rule evaluations of a group failed within the last 5 minutes, for 5 minutes (e.g. many-to-many matching, bad data).",
        diagnosis=("increase(prometheus_rule_evaluation_failures_total[5m])", "Prometheus → Status → Rules"),
        mitigation=("Read the rule's error in the Prometheus UI; fix the rule and test it with promtool.",),
        scenario=_pipeline_scenario(
            'prometheus_rule_evaluation_failures_total{job="prometheus",instance="p1",rule_group="/etc/prometheus/rules/alerts.yml;application"}',
            counter_values(6),
            "0x200",
            30,
            {"job": "prometheus", "instance": "p1", "rule_group": "/etc/prometheus/rules/alerts.yml;application"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="PrometheusNotificationsFailing",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance) (rate(prometheus_notifications_errors_total[5m])) > 0",
        summary="Prometheus fails to send alerts to Alertmanager",
        description="{{ $value | humanize }} alert notifications per second fail.",
        impact="Alerts do not reach Alertmanager: nobody is notified.",
        meaning="Prometheus failed to send alerts to Alertmanager (a 5-minute error rate above 0), for 5 minutes.",
        diagnosis=(
            "rate(prometheus_notifications_errors_total[5m])",
            "prometheus_notifications_alertmanagers_discovered",
        ),
        mitigation=("Check Alertmanager's availability and Prometheus' alerting config.",),
        scenario=_pipeline_scenario(
            'prometheus_notifications_errors_total{job="prometheus",instance="p1",alertmanager="http://am:9093/api/v2/alerts"}',
            counter_values(60),
            "0x200",
            1,
            {"job": "prometheus", "instance": "p1"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="AlertmanagerNotificationsFailing",
        severity="P1",
        component="pipeline",
        expr="sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0",
        summary="Alertmanager fails to deliver {{ $labels.integration }} notifications",
        description="{{ $value | humanize }} {{ $labels.integration }} notifications per second fail.",
        impact="People are not paged or informed through that channel.",
        meaning="A receiver integration (Slack, PagerDuty, email, webhook) failed notifications (a 5-minute rate above 0), for 5 minutes.",
        diagnosis=("rate(alertmanager_notifications_failed_total[5m])", "Alertmanager logs: level=error"),
        mitigation=(
            "Check the integration's secret file and endpoint.",
            "Test the route with `amtool config routes test`.",
        ),
        scenario=_pipeline_scenario(
            'alertmanager_notifications_failed_total{job="alertmanager",instance="a1",integration="slack"}',
            counter_values(60),
            "0x200",
            1,
            {"job": "alertmanager", "instance": "a1", "integration": "slack"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="ServiceSeriesBudgetExhausted",
        severity="P2",
        component="pipeline",
        expr='sum by (service) (rate(otelcol_ccmon_guard_points{reason=~"over_budget|too_many_services"}[5m])) > 0',
        summary="{{ $labels.service }} hit its series budget: new series are dropped",
        description="The collector drops {{ $value | humanize }} points/s of {{ $labels.service }}: it has used its stream budget.",
        impact="New series of that service (new label values) are lost; the other services are protected.",
        meaning=(
            "The collector's cardinality guard dropped points of this service because the service already has "
            "max_streams_per_service distinct streams (or the collector tracks max_services services), over the "
            "last 5 minutes, for 5 minutes."
        ),
        diagnosis=(
            'otelcol_ccmon_guard_active_streams{service="…"}',
            'topk(10, count by (__name__) ({job="…"}))',
            "the service's recent deployments: a label with IDs, paths or timestamps?",
        ),
        mitigation=(
            "Fix the label that explodes (use route templates, cap IDs) and redeploy the service.",
            "If the growth is legitimate, raise CCMON_SERIES_BUDGET (or series_budget_per_service) knowingly.",
        ),
        scenario=_pipeline_scenario(
            'otelcol_ccmon_guard_points{job="otel-collector",instance="c1",service="flood",reason="over_budget"}',
            counter_values(600),
            "0x200",
            10,
            {"service": "flood"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="ServiceSeriesGrowing",
        severity="P3",
        component="pipeline",
        expr=(
            "otelcol_ccmon_guard_active_streams > 2 * (otelcol_ccmon_guard_active_streams offset 1h)"
            " and otelcol_ccmon_guard_active_streams > 1000"
        ),
        summary="Series of {{ $labels.service }} are growing fast",
        description="{{ $labels.service }} has {{ $value | humanize }} streams, more than twice as many as an hour ago.",
        impact="If it goes on, the service reaches its budget and loses new series; Prometheus grows.",
        meaning=(
            "A service has over 1,000 active streams in the collector and more than 2 times as many as 1 hour ago, for 30 minutes."
        ),
        diagnosis=('otelcol_ccmon_guard_active_streams{service="…"}', 'topk(10, count by (__name__) ({job="…"}))'),
        mitigation=("Find the label whose values multiply and bound it before the budget is hit.",),
        scenario=_pipeline_scenario(
            'otelcol_ccmon_guard_active_streams{job="otel-collector",instance="c1",service="flood"}',
            "100+100x200",
            "3000x200",
            9200,
            {"job": "otel-collector", "instance": "c1", "service": "flood"},
            60,
        ),
        for_="30m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="CardinalityGuardRejecting",
        severity="P3",
        component="pipeline",
        expr='sum by (service, reason) (rate(otelcol_ccmon_guard_points{reason=~"value_not_allowed|key_removed|truncated"}[15m])) > 0',
        summary="The cardinality firewall alters or drops points of {{ $labels.service }} ({{ $labels.reason }})",
        description="{{ $value | humanize }} points/s of {{ $labels.service }} break the catalog: {{ $labels.reason }}.",
        impact="Dropped points (value_not_allowed) are lost; removed keys or truncated values merge series.",
        meaning=(
            "Over the last 15 minutes, for 15 minutes, the collector's firewall dropped points of catalog metrics "
            "whose bounded attributes carried values outside the catalog, removed attribute keys the catalog does "
            "not have, or truncated long values."
        ),
        diagnosis=('otelcol_ccmon_guard_points{service="…"}', "the service's otel_ccmon version and helper calls"),
        mitigation=("Record through the otel_ccmon helpers (they enforce the catalog), or fix the client.",),
        scenario=_pipeline_scenario(
            'otelcol_ccmon_guard_points{job="otel-collector",instance="c1",service="flood",reason="value_not_allowed"}',
            counter_values(
                120
            ),  # 2/s: Prometheus 3's left-open windows give 1.99999…, still "2" (1/s would be "1000m")
            "0x200",
            2,
            {"service": "flood", "reason": "value_not_allowed"},
        ),
        for_="15m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="PrometheusHeadSeriesHigh",
        severity="P2",
        component="pipeline",
        expr=f"prometheus_tsdb_head_series > {SETTINGS.prometheus_head_series_limit}",
        summary="Prometheus holds {{ $value | humanize }} series",
        description="Prometheus {{ $labels.instance }} has {{ $value | humanize }} head series (limit "
        + f"{SETTINGS.prometheus_head_series_limit}).",
        impact="Memory, query latency and rule evaluation time grow with the series; Prometheus may run out of memory.",
        meaning=(
            f"Prometheus's in-memory head holds more than {SETTINGS.prometheus_head_series_limit} series "
            "(prometheus_head_series_limit in mixin/settings.yml) for 30 minutes."
        ),
        diagnosis=("prometheus_tsdb_head_series", 'topk(10, count by (job) ({__name__=~".+"}))'),
        mitigation=(
            "Find the job with the most series and its exploding label (ServiceSeriesBudgetExhausted names it).",
            "Lower CCMON_SERIES_BUDGET, or give Prometheus more memory if the growth is legitimate.",
        ),
        scenario=_pipeline_scenario(
            'prometheus_tsdb_head_series{job="prometheus",instance="p1"}',
            constant_values(SETTINGS.prometheus_head_series_limit * 2),
            constant_values(1000),
            SETTINGS.prometheus_head_series_limit * 2,
            {"job": "prometheus", "instance": "p1"},
            0,
        ),
        for_="30m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="PrometheusHeadSeriesGrowing",
        severity="P3",
        component="pipeline",
        expr="prometheus_tsdb_head_series > 1.5 * (prometheus_tsdb_head_series offset 1h) and prometheus_tsdb_head_series > 10000",
        summary="Prometheus series grew by half within an hour",
        description="Prometheus {{ $labels.instance }} holds {{ $value | humanize }} series, 1.5 times as many as an hour ago.",
        impact="A cardinality explosion in progress: memory and query cost grow with it.",
        meaning="prometheus_tsdb_head_series is above 10,000 and more than 1.5 times its value 1 hour ago, for 30 minutes.",
        diagnosis=("prometheus_tsdb_head_series", "otelcol_ccmon_guard_active_streams"),
        mitigation=("Find the job whose series grew (count by (job)) and bound its labels.",),
        scenario=_pipeline_scenario(
            'prometheus_tsdb_head_series{job="prometheus",instance="p1"}',
            "10000+200x200",
            constant_values(20000),
            28200,
            {"job": "prometheus", "instance": "p1"},
            60,
        ),
        for_="30m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="Watchdog",
        severity="P3",
        component="pipeline",
        expr="vector(1)",
        summary="Watchdog: the alerting pipeline works",
        description="This alert always fires. If the alert receiver stops getting it, alerting is broken.",
        impact="None while it fires; its absence means alerts are not delivered.",
        meaning="A dead man's switch: it fires at once and always, and is delivered to the watchdog receiver every minute.",
        diagnosis=('ALERTS{alertname="Watchdog"}', "ccmon alerts --alertname Watchdog"),
        mitigation=("If it stopped arriving, check Prometheus → Alertmanager → receiver in that order.",),
        scenario=Scenario(firing={'up{job="x"}': "1x10"}, healthy={}, value=1, labels={}, active_from=0),
        for_="0m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="AlertReceiverRejecting",
        severity="P2",
        component="pipeline",
        expr="sum by (job, instance, reason) (rate(alert_receiver_rejections_total[15m])) > 0",
        summary="The alert receiver rejects requests ({{ $labels.reason }})",
        description="{{ $value | humanize }} requests per second are rejected ({{ $labels.reason }}).",
        impact="Notifications may be lost if Alertmanager's token or payloads are wrong.",
        meaning=(
            "The receiver answered 4xx (wrong token, bad payloads, oversized bodies) or 503 (`storage_unavailable`: "
            "its database could not be written, e.g. a full disk) over the last 15 minutes (a rate above 0), "
            "for 15 minutes."
        ),
        diagnosis=("sum by (reason) (rate(alert_receiver_rejections_total[15m]))",),
        mitigation=(
            "For `unauthorized`: compare the receiver token file with Alertmanager's credentials_file.",
            "For `storage_unavailable`: free space on the receiver's disk (its log names the SQLite error); "
            "nothing is lost, Alertmanager retries the 503s and the receiver stores them once it can write.",
        ),
        scenario=_pipeline_scenario(
            'alert_receiver_rejections_total{job="alert-receiver",instance="r1",reason="unauthorized"}',
            counter_values(
                120
            ),  # 2/s: Prometheus 3's left-open windows give 1.99999…, still "2" (1/s would be "1000m")
            "0x200",
            2,
            {"job": "alert-receiver", "instance": "r1", "reason": "unauthorized"},
        ),
        for_="15m",
        group="pipeline",
        service_label=False,
    ),
    # high availability: the Alertmanager gossip cluster and Prometheus's connections to it
    Alert(
        name="AlertmanagerClusterMembersMismatch",
        severity="P1",
        component="pipeline",
        expr=(
            "min by (job) (alertmanager_cluster_members) < on (job) count by (job) (alertmanager_cluster_enabled == 1)"
        ),
        summary="Alertmanager cluster split: members see fewer peers than run",
        description="An Alertmanager of {{ $labels.job }} sees {{ $value }} cluster members; more instances run.",
        impact="Instances that do not gossip do not deduplicate: every alert may be notified twice, and silences differ.",
        meaning=(
            "Some Alertmanager sees fewer cluster members than there are clustered Alertmanagers (min of "
            "alertmanager_cluster_members below the count of instances), for 5 minutes."
        ),
        diagnosis=("alertmanager_cluster_members", "alertmanager_cluster_peer_info", "amtool cluster show"),
        mitigation=(
            "Check that every instance has --cluster.peer for the others and can reach their cluster port (9094).",
            "Restart the isolated instance; it rejoins through its peers.",
        ),
        scenario=Scenario(
            firing={
                'alertmanager_cluster_members{job="alertmanager",instance="a"}': "2x30 1x200",
                'alertmanager_cluster_members{job="alertmanager",instance="b"}': "2x30 1x200",
                'alertmanager_cluster_enabled{job="alertmanager",instance="a"}': "1x230",
                'alertmanager_cluster_enabled{job="alertmanager",instance="b"}': "1x230",
            },
            healthy={
                'alertmanager_cluster_members{job="alertmanager",instance="a"}': "2x230",
                'alertmanager_cluster_members{job="alertmanager",instance="b"}': "2x230",
                'alertmanager_cluster_enabled{job="alertmanager",instance="a"}': "1x230",
                'alertmanager_cluster_enabled{job="alertmanager",instance="b"}': "1x230",
            },
            value=1,
            labels={"job": "alertmanager"},
            active_from=31,
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="AlertmanagerClusterFailedPeers",
        severity="P2",
        component="pipeline",
        expr="max by (job, instance) (alertmanager_cluster_failed_peers) > 0",
        summary="Alertmanager {{ $labels.instance }} has failed cluster peers",
        description="Alertmanager {{ $labels.instance }} counts {{ $value }} failed peers.",
        impact="Redundancy is reduced: one more failure and alerts are delivered by a single instance or none.",
        meaning="An Alertmanager reports failed cluster peers (alertmanager_cluster_failed_peers above 0), for 10 minutes.",
        diagnosis=("alertmanager_cluster_failed_peers", "alertmanager_cluster_peers_left_total"),
        mitigation=("Restart or replace the failed peer; check the network between the instances.",),
        scenario=_pipeline_scenario(
            'alertmanager_cluster_failed_peers{job="alertmanager",instance="a"}',
            "1x200",
            "0x200",
            1,
            {"job": "alertmanager", "instance": "a"},
            0,
        ),
        for_="10m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        name="PrometheusNotConnectedToAlertmanagers",
        severity="P1",
        component="pipeline",
        expr="max by (job, instance) (prometheus_notifications_alertmanagers_discovered) < 1",
        summary="Prometheus {{ $labels.instance }} is connected to no Alertmanager",
        description="Prometheus {{ $labels.instance }} discovers {{ $value }} Alertmanagers.",
        impact="Its alerts go nowhere: with both replicas in this state, nobody is notified.",
        meaning="A Prometheus discovers fewer than 1 Alertmanager (prometheus_notifications_alertmanagers_discovered), for 5 minutes.",
        diagnosis=("prometheus_notifications_alertmanagers_discovered", "the alerting section of prometheus.yml"),
        mitigation=("Fix the alerting targets (names, ports, TLS and credentials) and reload Prometheus.",),
        scenario=_pipeline_scenario(
            'prometheus_notifications_alertmanagers_discovered{job="prometheus",instance="p1"}',
            "0x200",
            "2x200",
            0,
            {"job": "prometheus", "instance": "p1"},
            0,
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
)
