# Developer entry points. Needs only Python 3.11+ (with its venv module) as $(PYTHON).
#   make lab    set up .venv and start JupyterLab on the quickstart notebook
#   make test   set up .venv (and Chromium) and run the linters, the type checker and the tests
#   make benchmarks  set up .venv, run benchmarks/ and write docs/benchmarks.md
#   make clean  remove .venv and the caches

PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
# JupyterLab refuses to start as root without --allow-root (containers often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# apt-get as root, else through sudo without a password prompt.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: lab test clean chromium

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: pip runs again only when pyproject.toml changes (the install is editable,
# so code changes need no reinstall).
$(VENV)/.installed-%: pyproject.toml | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install -e ".[$*]"
	touch $@

lab: $(VENV)/.installed-lab
	$(VENV_PYTHON) -m jupyter lab notebooks/quickstart.ipynb $(ALLOW_ROOT)

# tests/test_browser.py drives Debian's Chromium through Playwright (never `playwright install`,
# whose download is unreachable). Installed only when missing; if it cannot be, the test fails
# and says how to get it.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser test"; \
	  { $(APT_GET) update -q && $(APT_GET) install -y -q chromium; } \
	  || echo "Could not install chromium: tests/test_browser.py will fail and say how to get it."; }

test: $(VENV)/.installed-test chromium
	$(VENV_PYTHON) -m ruff check .
	$(VENV_PYTHON) -m ruff format --check .
	$(VENV_PYTHON) -m mypy
	$(VENV_PYTHON) -m pytest

# Every scenario in benchmarks/ (each starts and stops its own Jupyter server on 127.0.0.1), put
# together in docs/benchmarks.md; about 15 minutes on 2 cores. `make benchmarks BENCH_ARGS=--quick`
# checks the scripts in a few minutes (BENCH_ARGS="--only latency,memory" runs some). Not in CI.
.PHONY: benchmarks
BENCH_ARGS ?=
benchmarks: $(VENV)/.installed-test
	$(VENV_PYTHON) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
