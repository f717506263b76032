# Developer entry points. Needs only Python 3.11+ (with its venv module) as $(PYTHON).
#   make lab    set up .venv and start JupyterLab on the quickstart notebook
#   make test   set up .venv and run the linters, the type checker and the tests
#   make clean  remove .venv and the caches

PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
# JupyterLab refuses to start as root without --allow-root (containers often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test clean

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: pip runs again only when pyproject.toml changes (the install is editable,
# so code changes need no reinstall).
$(VENV)/.installed-%: pyproject.toml | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install -e ".[$*]"
	touch $@

lab: $(VENV)/.installed-lab
	$(VENV_PYTHON) -m jupyter lab notebooks/quickstart.ipynb $(ALLOW_ROOT)

test: $(VENV)/.installed-test
	$(VENV_PYTHON) -m ruff check .
	$(VENV_PYTHON) -m ruff format --check .
	$(VENV_PYTHON) -m mypy
	$(VENV_PYTHON) -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
