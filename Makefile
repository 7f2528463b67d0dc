# Gallop Studio: set up, run, test, benchmark.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second environment with numpy alone proves studio/ needs nothing heavier.
BARE := .venv-bare
BARE_STAMP := $(BARE)/.installed

.PHONY: run test test-studio-bare bench lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test,cluster]"
	touch $(STAMP)

$(BARE_STAMP):
	test -x $(BARE)/bin/python || $(PYTHON) -m venv $(BARE)
	$(BARE)/bin/python -m pip install --quiet numpy pytest hypothesis
	touch $(BARE_STAMP)

run: $(STAMP)
	$(VENV)/bin/gallop

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(MAKE) --no-print-directory test-studio-bare

# studio/ imports and passes its tests with only numpy installed.
test-studio-bare: $(BARE_STAMP)
	cd /tmp && PYTHONPATH=$(CURDIR) $(CURDIR)/$(BARE)/bin/python -c "import studio, studio.project_io, studio.commands; print('studio imports with numpy alone')"
	PYTHONPATH=$(CURDIR) $(BARE)/bin/python -m pytest -q -p no:cacheprovider tests/studio

bench: $(STAMP)
	@set -e; for f in bench/*.py; do echo "== $$f"; $(PY) $$f; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(BARE) .pytest_cache .ruff_cache .hypothesis
