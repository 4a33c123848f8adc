# Two set-up commands: `make run` (the bot, or the offline console without a token) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench ingest console clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

run: $(STAMP)
	$(PY) -m bot run --console-if-no-token

test: $(STAMP)
	$(PY) -m ruff check bot tests bench
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check bot tests bench
	$(PY) -m ruff format --check bot tests bench

bench: $(VENV)/.bench-installed
	$(PY) bench/all.py

ingest: $(STAMP)
	$(PY) -m bot ingest

console: $(STAMP)
	$(PY) -m bot console

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
