# Two commands matter: `make demo` and `make test`. Both build the local
# environment (.venv) on first use with nothing but python3 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
LINT_PATHS := langchain_ffm_friendli tests $(wildcard benchmarks)

.PHONY: demo test lint format typecheck unit integration bench clean

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

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,lint,typing,demo,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
