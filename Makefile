# Two commands matter: `make demo` and `make test`. Both build the local
# environment (.venv) on first use with nothing but python3 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
LINT_PATHS := langchain_ffm_friendli tests $(wildcard benchmarks) $(wildcard .ci/*.py)

MIN_VENV := .venv-min
MIN_BIN := $(MIN_VENV)/bin
MIN_STAMP := $(MIN_VENV)/.installed
MIN_CONSTRAINTS := $(MIN_VENV)/constraints.txt
# Shown at the start of every test-min run, so the log proves the floors.
MIN_KEY_PACKAGES := langchain-core|langchain|langgraph|httpx|httpx-sse|pydantic|pytest|pytest-asyncio|langchain-tests

.PHONY: demo test test-min lint format typecheck unit integration bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,typing,demo]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m langchain_ffm_friendli demo

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

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

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lint,typing,demo,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(MIN_VENV) .mypy_cache .ruff_cache .pytest_cache
