# Command surface of otel-ccmon. `make run` runs the local pipeline with the demo app;
# `make test` runs every check and test (what .ci/run calls). Both bootstrap first (cached).
# Test layers: `make unit` (no bootstrap binaries, no subprocess), `make integration` (real
# validators and subprocesses), `make e2e` (the live stack on the real binaries).
.PHONY: k8s run run-fast run-ha bootstrap-stack test gotest unit integration e2e chaos busy-e2e bootstrap venv lint typecheck pytest docs rules dashboards generate bench bench-soak bench-smoke client-drift clean

PY := .venv/bin/python
PYTEST := $(PY) -m pytest

run: bootstrap-stack
	.venv/bin/ccmon stack up

# demo mode: rules shortened 60x, so `curl -X POST localhost:3000/faults/NAME` alerts within about a minute
run-fast: bootstrap-stack
	.venv/bin/ccmon stack up --fast-alerts

# the HA topology with its long-term tier (Thanos, built on first use; docs/long-term.md)
run-ha: bootstrap-stack
	@bash scripts/bootstrap.sh thanos
	.venv/bin/ccmon stack up --ha

test: bootstrap lint typecheck gotest pytest

bootstrap:
	@bash scripts/bootstrap.sh all

# only what the default stack starts (make run's first run builds nothing else)
bootstrap-stack:
	@bash scripts/bootstrap.sh stack

venv:
	@bash scripts/bootstrap.sh python

unit: venv
	$(PYTEST) tests/unit otel_ccmon mixin

integration: bootstrap
	$(PYTEST) tests/integration

e2e: bootstrap
	$(PYTEST) tests/e2e

# kill -9 of every HA component in turn, under load, three rounds (make test runs one); docs/reliability.md
chaos: bootstrap
	CCMON_CHAOS_ROUNDS=3 $(PYTEST) tests/e2e/test_chaos.py -s

# the e2e layer five times on a fresh clone while a CPU hog holds one core (per-test pass counts)
busy-e2e: bootstrap
	$(PY) scripts/busy_e2e.py --runs 5

# the newest published Claude Code through the stack, every switch on: totals exact, names unknown to
# the pipeline, attributes past the allowlist (docs/claude-code.md, "Client drift"); not in CI
client-drift: bootstrap
	$(PY) scripts/client_drift.py

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy --strict otel_ccmon mixin tests bench scripts

pytest:
	$(PYTEST)

# our collector components (collector/*/, and the helpers they share): go vet and their unit tests
gotest:
	for m in ccmonattr cardinalityguardprocessor claudecodeprocessor claudecodeeventsconnector gatewayrouteexporter; do \
	  (cd collector/$$m && go vet ./... && go test ./...) || exit 1; \
	done

docs:
	$(PY) -m mixin docs

# Kubernetes manifests (kubernetes/), from the rules, configs and dashboards
k8s: venv
	$(PY) -m mixin k8s

rules:
	$(PY) -m mixin rules

dashboards:
	$(PY) -m mixin dashboards

generate:
	$(PY) -m mixin all

bench: bootstrap
	$(PY) -m bench.run --scaling

# not in CI: an hour by default (CCMON_SOAK_MINUTES=15 make bench-soak for a shorter one)
bench-soak: bootstrap
	$(PY) -m bench.soak

bench-smoke: bootstrap
	$(PY) -m bench.run --smoke

clean:
	rm -rf .cache var
