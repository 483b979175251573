"""The otel-ccmon monitoring mixin: rules, alerts, promtool tests, runbooks, dashboards and docs as code.

Not part of the shipped library: it lives in the repository and writes the committed files that
Prometheus, promtool, Grafana and readers use. One concern per module:

- ``config``: the application job, alert tiers, runbook links, exporters' metric names
- ``model``: ``Recording``, ``Alert``, ``Scenario`` and the scenario series helpers
- ``recording``, ``slos``, ``alerts_application``, ``alerts_pipeline``, ``alerts``: the definitions
- ``templates``: emulation of Prometheus's alert templating, for promtool expectations
- ``rule_files``, ``promtool_tests``, ``runbooks``, ``dashboards``, ``docs``: the renderers
- ``generate`` (``python -m mixin``, ``make generate``): writes every output into a repository
"""
