# cnnbook — the two commands a newcomer runs are `make book` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book test lab clean bench

# The environment: a virtualenv with the pinned requirements and cnnbook in editable mode.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

## make book: build the website with every chapter executed
book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

## make test: the whole suite (package, chapters, website in a browser)
test: book
	$(BIN)/python -m pytest

## make lab: JupyterLab on the book, chapters opening as notebooks
lab: $(STAMP)
	JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter $(BIN)/jupyter lab --allow-root book/

## make bench: speed against torch (not part of make test)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build .pytest_cache .hypothesis .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
