# The two set-up commands of the README. Each creates .venv when missing and installs the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: demo test bench clean

# demo: what assess, serve and the dashboard need. test: the test extras on top (Ray, Playwright, moto, MLflow...).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and alone: pip then takes the CPU build where the machine offers one (not 2.7 GB of CUDA)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/depthgauge assess examples/breast_cancer.csv --target diagnosis --time-budget 2m \
		--value tp=100,fp=-20,fn=-500,tn=0

test: $(TEST_STAMP)
	sh scripts/ensure_test_packages.sh
	$(BIN)/ruff check src tests bench   # pyflakes and isort (pyproject.toml); any finding fails the run
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/verdict_suite.py   # about 15 minutes: 12 sets at the default 5m budget
	$(BIN)/python bench/verdict_stability.py   # about 2 hours: 5 tables x 5 seeds at 5m
	$(BIN)/python bench/cnn_epoch.py
	$(BIN)/python bench/deep_epoch.py
	$(BIN)/python bench/assess_tabular.py
	$(BIN)/python bench/assess_kinds.py
	$(BIN)/python bench/endpoint_overhead.py
	$(BIN)/python bench/groundedness_throughput.py
	$(BIN)/python bench/lightgbm_overhead.py
	$(BIN)/python bench/mlp_throughput.py
	$(BIN)/python bench/drift_report.py
	$(BIN)/python bench/dashboard_overview.py
	$(BIN)/python bench/serve_load.py   # needs wrk: apt-get install wrk
	$(BIN)/python bench/row_latency.py
	$(BIN)/python bench/serving_peers.py   # creates bench/.venv-peers with BentoML 1.4 and MLflow 3; needs wrk
	$(BIN)/pip install --quiet -e '.[test]'   # the next two share the test suite's harness (and PostgreSQL)
	$(BIN)/python bench/crash_campaign.py   # about 17 minutes: 100 kills on SQLite, 100 on PostgreSQL
	$(BIN)/python bench/api_fuzz.py   # about 13 minutes
	$(BIN)/python bench/log_backends.py # needs wrk and PostgreSQL
	$(BIN)/python bench/ray_scaling.py

clean:
	rm -rf $(VENV) .depthgauge .pytest_cache
