# Command surface of otel-ccmon. `make run` runs the local pipeline with the demo app;
# `make test` runs every check and test (what .ci/run calls). Both bootstrap first (cached).
.PHONY: run test bootstrap lint typecheck pytest docs rules dashboards generate bench bench-smoke clean

PY := .venv/bin/python

run: bootstrap
	.venv/bin/ccmon stack up

test: bootstrap lint typecheck pytest

bootstrap:
	@bash scripts/bootstrap.sh all

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy --strict otel_ccmon

pytest:
	$(PY) -m pytest

docs:
	$(PY) -m otel_ccmon._docs

rules:
	$(PY) -m otel_ccmon._rules

dashboards:
	$(PY) -m otel_ccmon._dashboard

generate: docs rules dashboards

bench: bootstrap
	$(PY) -m bench.run --scaling

bench-smoke: bootstrap
	$(PY) -m bench.run --smoke

clean:
	rm -rf .cache var
