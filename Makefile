# The README's commands. `make run` and `make test` set everything up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WUYE := $(VENV)/bin/wuye
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test bench lint install model index eval clean browser postgres screenshots profile

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned to the CPU build: anything unpinned would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

model: $(STAMP)
	$(WUYE) model prepare

index: model
	$(WUYE) ingest

run: index
	$(WUYE) serve

# Debian's Chromium (with CJK fonts) for the browser tests; Playwright drives it, it never downloads one.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Debian's PostgreSQL server binaries: the tests start a throwaway cluster on a free port (never a service).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

test: model browser postgres
	$(PY) -m pytest -q

screenshots: model browser
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/api/test_browser.py

eval: index
	$(WUYE) eval --split test --out var/eval

bench: index
	$(WUYE) bench var/bench

profile: index
	$(WUYE) profile

lint: $(STAMP)
	$(VENV)/bin/ruff check kb ingest assistant api eval tests
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
