# Quick start: `make demo` (the main job on sample_logs/: ingest, top talkers, info, diagnose)
# and `make test`.
# Both create .venv with nothing but Python 3.11+ and make on the machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATASET ?= demo-data

.PHONY: demo test lint bench bench-quick sample-logs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	rm -rf $(DEMO_DATASET)
	$(BIN)/k8saudit ingest sample_logs --dataset $(DEMO_DATASET)
	$(BIN)/k8saudit top-talkers --dataset $(DEMO_DATASET) --limit 10
	$(BIN)/k8saudit info --dataset $(DEMO_DATASET)
	$(BIN)/k8saudit diagnose --dataset $(DEMO_DATASET)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(BIN)/.installed lint
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench --markdown bench/out/table.md

bench-quick: $(BIN)/.installed
	$(BIN)/python bench --quick

# Regenerates the committed demo logs (deterministic: same bytes every time).
sample-logs: $(BIN)/.installed
	rm -rf sample_logs
	$(BIN)/k8saudit simulate --nodes 200 --duration 5m --apiservers 2 --format both --gzip \
		--seed 1 --rotate-mb 10 --out sample_logs

clean:
	rm -rf $(VENV) $(DEMO_DATASET) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
