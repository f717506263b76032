# Developer entry points. Needs only Python 3.11+ (with its venv module) as $(PYTHON).
#   make lab    set up .venv and start JupyterLab on the quickstart notebook
#   make test   set up .venv (and Chromium) and run the linters, the type checker, the docs build
#               and the tests
#   make docs   set up .venv and build the documentation site into docs/_build/html (about a
#               minute and a half on 2 cores: it runs the notebooks)
#   make benchmarks  set up .venv, run benchmarks/ and write docs/benchmarks.md
#   make fuzz   set up .venv and fuzz the whole API longer than `make test` does, with a new seed
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
	$(DOCS_BUILD)
	$(VENV_PYTHON) -m pytest

# The documentation site (docs/conf.py): README.md, docs/*.md, the notebooks, the Python API from
# docstrings and the REST API (Swagger UI, no CDN). Every build reads everything (-E) and runs
# the notebooks against a Jupyter server that it starts and stops: a cell that raises fails it,
# and so do a warning (-W) and a broken reference (-n); -T shows the failing cell's traceback.
# The `test` extra includes the `docs` one.
.PHONY: docs
DOCS_BUILD = rm -rf docs/_build/html && $(VENV_PYTHON) -m sphinx -E -W --keep-going -n -T \
	-b html -c docs -d docs/_build/doctrees . docs/_build/html
docs: $(VENV)/.installed-docs
	$(DOCS_BUILD)

# Every scenario in benchmarks/ (each starts and stops its own Jupyter server on 127.0.0.1), put
# together in docs/benchmarks.md; about 30 minutes on 2 cores. `make benchmarks BENCH_ARGS=--quick`
# checks the scripts in a few minutes (BENCH_ARGS="--only latency,memory" runs some). Not in CI.
.PHONY: benchmarks
BENCH_ARGS ?=
benchmarks: $(VENV)/.installed-test
	$(VENV_PYTHON) benchmarks/run_all.py $(BENCH_ARGS)

# The property-based tests of the API (tests/test_fuzz.py), longer than in `make test` (which runs
# them with FUZZ_MAX_EXAMPLES=100 and a fixed seed, derandomized) and with a new seed each run,
# printed so that a failure can be replayed: `make fuzz FUZZ_SEED=<seed>`. About 10 minutes on 2
# cores with the default 1000 examples per operation.
.PHONY: fuzz
FUZZ_MAX_EXAMPLES ?= 1000
FUZZ_SEED ?= random
fuzz: $(VENV)/.installed-test
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) \
	  $(VENV_PYTHON) -m pytest tests/test_fuzz.py -p no:cacheprovider --timeout=0 -rA

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info test-artifacts docs/_build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
