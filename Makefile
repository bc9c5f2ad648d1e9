# cnnbook — the two commands a newcomer runs are `make book` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# --all: every page is rebuilt and re-executed, also when only src/cnnbook changed (Sphinx alone would
# keep the pages whose .md did not change, with outputs of the old code); -W: warnings are errors.
JB_FLAGS := --all -W -n --keep-going

VENDOR := _vendor/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: book test lab clean bench chromium

# The environment: a virtualenv with the pinned requirements and cnnbook in editable mode.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

# The browser libraries the website loads (MathJax), pinned in package-lock.json, copied into _vendor/
# (served as _static/ of the site): no page fetches anything from a CDN.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
$(VENDOR): node_modules/.package-lock.json tools/vendor.py
	$(BIN)/python tools/vendor.py
	touch $@

## make book: build the website with every chapter executed
book: $(STAMP) $(VENDOR)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

## make test: the whole suite (package, chapters, website in a browser)
test: book chromium
	CNNBOOK_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

# The browser tests drive Debian's chromium with Playwright (never `playwright install`); a CJK font
# makes the Chinese terms in the screenshots legible (readers' own systems have one).
APT_PACKAGES := chromium fonts-wqy-zenhei
chromium:
	@if [ -x "$(CHROMIUM)" ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi; \
	echo "Installing Debian's $(APT_PACKAGES) for the browser tests (tests/test_site.py, tests/test_lab.py)"; \
	if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y $(APT_PACKAGES); \
	elif sudo -n true 2>/dev/null; then sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES); \
	else echo "error: $(CHROMIUM) or a CJK font is missing and I cannot install them (not root, no sudo)."; \
	     echo "       Run: sudo apt-get install -y $(APT_PACKAGES)   (or set CHROMIUM=/path/to/chromium)"; exit 1; fi

## make lab: JupyterLab on the book, chapters opening as notebooks
lab: $(STAMP)
	JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter $(BIN)/jupyter lab --allow-root book/

## make bench: speed against torch (not part of make test); BENCH_ARGS="--profile ResNet" profiles one layer
# Some machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the sake of older OpenBLAS builds, which
# computed wrong results or crashed on their processors; they bind NumPy's current OpenBLAS to older, slower
# kernels, while torch keeps its own. The benchmark unsets both in its own command alone, so both sides run
# the kernels their libraries pick, and prints which ones NumPy's BLAS then runs. It also keeps freed memory
# in the process (glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_): on a virtual machine that hands
# freed pages back to its host, memory coming back costs a slow page fault per 4 KB, and which library pays
# depends on where the allocator happens to put its arrays; with the memory kept, both are measured in a
# steady state. `make book` and `make test` keep the environment as it is.
BENCH_ENV := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
bench: $(STAMP)
	$(BENCH_ENV) $(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf _build _vendor .pytest_cache .hypothesis .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
