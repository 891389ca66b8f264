# Grove: `make run` serves on http://127.0.0.1:8080, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= var
BIND ?= 127.0.0.1:8080

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	scripts/system-packages.sh --runtime
	$(BIN)/grove serve --data $(DATA) --bind $(BIND)

test: $(VENV)/.test-installed
	scripts/system-packages.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.test-installed
	scripts/system-packages.sh nginx:/usr/sbin/nginx libnginx-mod-http-dav-ext:/usr/share/nginx/modules-available/mod-http-dav-ext.conf curl:/usr/bin/curl
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
