# One entry point. `make demo` and `make test` set everything up on a fresh machine
# with only Python 3.11 and make: uv is bootstrapped with pip when missing, and the
# environment is built from the committed uv.lock (nothing resolved at install time).
# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on our machines)
# Python would otherwise recompile dagster, pandas and pandera in every process it starts,
# about 4 s of CPU each time a run worker, code server or CLI command starts.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
STAMP := $(VENV)/.synced
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export KSCOPE_DUCKDB_PATH ?= $(CURDIR)/data/kscope.duckdb

.PHONY: setup demo ui test reliability bench lint sandbox clean

$(STAMP): pyproject.toml uv.lock Makefile
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==0.13.9"
	$(UV) sync --locked --compile-bytecode --python $(PYTHON)
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/kscope-openai demo

ui: setup
	$(VENV)/bin/kscope-openai ui

sandbox: setup
	$(VENV)/bin/kscope-openai sandbox --host 127.0.0.1 --port 8787 --seed 7 --size small

# Three pytest-xdist workers, whole files to each so a module's fixture is built once:
# many tests wait on a sandbox, a daemon tick or a child process, so three share two cores.
TEST_WORKERS ?= 3

test: setup
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile kscope_openai_pipeline_tests

reliability: setup
	$(VENV)/bin/python -m pytest -q -m reliability kscope_openai_pipeline_tests

bench: setup
	$(VENV)/bin/python -m benchmarks.run

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) data .dagster_home
