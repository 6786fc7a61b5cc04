# Two commands matter: `make demo` and `make test`. Both build the local
# environment (.venv) on first use with nothing but python3 and pip: `make demo`
# installs the package and its demo extra only, `make test` everything the checks need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
DIST_STAMP := $(VENV)/.dist-installed
# The tools `make dist` builds and checks with (twine 6.1 is the first that reads the
# Metadata-Version 2.4 that a PEP 639 license expression needs).
DIST_TOOLS := 'build>=1.2.2' 'twine>=6.1.0'
BENCH_STAMP := $(VENV)/.bench-installed
LINT_PATHS := langchain_ffm_friendli tests $(wildcard benchmarks) $(wildcard .ci/*.py)

MIN_VENV := .venv-min
MIN_BIN := $(MIN_VENV)/bin
MIN_STAMP := $(MIN_VENV)/.installed
MIN_CONSTRAINTS := $(MIN_VENV)/constraints.txt
# Shown at the start of every test-min run, so the log proves the floors.
MIN_KEY_PACKAGES := langchain-core|langchain|langgraph|httpx|httpx-sse|pydantic|pytest|pytest-asyncio|langchain-tests

.PHONY: demo test test-min test-pythons lint format typecheck unit integration bench dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Everything `make test` needs; it includes the demo extra, so it stamps the demo too.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,typing,demo]'
	touch $(STAMP) $(DEMO_STAMP)

# What the demo needs and nothing else (no pytest, ruff or mypy): the package and `demo`.
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python -m langchain_ffm_friendli demo

# The stream driver, the transport and the deadlines run on every read of every call: their
# functions stay small (complexity under 10) and fully typed (no type: ignore).
CORE_PATHS = langchain_ffm_friendli/_streaming.py langchain_ffm_friendli/_transport.py langchain_ffm_friendli/_deadlines.py

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check --select C901 --config 'lint.mccabe.max-complexity=9' $(CORE_PATHS)
	@! grep -n "type: ignore" $(CORE_PATHS) || { echo "no type: ignore in $(CORE_PATHS)"; exit 1; }

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit_tests --disable-socket --allow-unix-socket -q \
		--cov=langchain_ffm_friendli --cov-branch --cov-report=json:.coverage-unit.json
	$(BIN)/python .ci/protocol_coverage.py .coverage-unit.json

integration: $(STAMP)
	$(BIN)/pytest tests/integration_tests --allow-hosts=127.0.0.1,localhost -q

test: lint typecheck unit integration

# The whole suite at the lowest versions pyproject.toml allows (runtime + test + demo
# extras, each `>=X` pinned `==X` by .ci/min_versions.py), in a venv of its own that is
# rebuilt from nothing whenever pyproject.toml changes.
$(MIN_STAMP): pyproject.toml .ci/min_versions.py
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_BIN)/python -m pip install --quiet --upgrade pip
	$(MIN_BIN)/python .ci/min_versions.py write $(MIN_CONSTRAINTS) test demo
	$(MIN_BIN)/python -m pip install --quiet -c $(MIN_CONSTRAINTS) -e '.[test,demo]'
	touch $(MIN_STAMP)

test-min: $(MIN_STAMP)
	$(MIN_BIN)/python -m pip freeze | grep -iE '^($(MIN_KEY_PACKAGES))=='
	$(MIN_BIN)/python .ci/min_versions.py verify $(MIN_CONSTRAINTS)
	$(MIN_BIN)/python -m pip check
	$(MIN_BIN)/pytest tests/unit_tests --disable-socket --allow-unix-socket -q
	$(MIN_BIN)/pytest tests/integration_tests --allow-hosts=127.0.0.1,localhost -q

# The unit suite on every Python the classifiers in pyproject.toml claim, each in a venv of
# its own (.venv-py3.X) with only what the unit suite imports; prints what ran and what it
# skipped (no interpreter for that version on this machine). CI passes
# TEST_PYTHONS_ARGS="--covered 3.X" for the version `make unit` already ran on.
test-pythons:
	$(PYTHON) .ci/test_pythons.py $(TEST_PYTHONS_ARGS)

# The sdist and the wheel in dist/, checked as an index would check them.
$(DIST_STAMP): Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(DIST_TOOLS)
	touch $(DIST_STAMP)

dist: $(DIST_STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lint,typing,demo,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(MIN_VENV) .venv-py3.* dist .mypy_cache .ruff_cache .pytest_cache
