# Quick start: `make demo` (the main job on sample_logs/: ingest, top talkers, info, the HTML
# report, and last the diagnosis)
# and `make test`.
# Both create .venv with nothing but Python 3.11+ and make on the machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATASET ?= demo-data

.PHONY: demo test lint bench bench-quick fuzz sample-logs docs-images clean

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
	mkdir -p build
	$(BIN)/k8saudit report --dataset $(DEMO_DATASET) --output build/demo-report.html
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

# Fuzzes every line parser for FUZZ_SECONDS: atheris (coverage-guided) where it installs, else
# hypothesis; prints executions and crashes, fails on a crash.
FUZZ_SECONDS ?= 60
fuzz: $(BIN)/.installed
	@if $(BIN)/python -m pip install --quiet atheris 2>/dev/null; then \
		$(BIN)/python fuzz/line_parsers.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-print_final_stats=1; \
	else \
		$(BIN)/python fuzz/line_parsers.py --hypothesis $(FUZZ_SECONDS); \
	fi

# Regenerates the committed demo logs (deterministic: same bytes every time).
sample-logs: $(BIN)/.installed
	rm -rf sample_logs
	$(BIN)/k8saudit simulate --nodes 200 --duration 5m --apiservers 2 --format both --gzip \
		--seed 1 --rotate-mb 10 --out sample_logs

# Redraws the README's picture (docs/timeline.png) from sample_logs/ and re-executes the
# notebook of examples/ in place (its saved outputs).
docs-images: $(BIN)/.installed
	rm -rf build/docs-data
	$(BIN)/k8saudit ingest sample_logs --dataset build/docs-data --quiet
	$(BIN)/k8saudit chart timeline --dataset build/docs-data --output docs/timeline.png
	cd examples && ../$(BIN)/jupyter-execute --inplace incident.ipynb

clean:
	rm -rf $(VENV) $(DEMO_DATASET) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
