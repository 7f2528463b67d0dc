# Gallop Studio: set up, run, test, benchmark.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second environment with numpy alone proves studio/ needs nothing heavier.
BARE := .venv-bare
BARE_STAMP := $(BARE)/.installed
# A third with the lowest version of every dependency pyproject.toml declares (its floors).
MIN := .venv-min
MIN_STAMP := $(MIN)/.installed

.PHONY: run test test-keys test-studio-bare test-min bench lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test,cluster,quant]"
	touch $(STAMP)

$(BARE_STAMP):
	test -x $(BARE)/bin/python || $(PYTHON) -m venv $(BARE)
	$(BARE)/bin/python -m pip install --quiet numpy pytest hypothesis
	touch $(BARE_STAMP)

# torch first (TORCH), then each `NAME>=X` of pyproject.toml installed as `NAME==X`.
$(MIN_STAMP): pyproject.toml tools/min_constraints.py
	test -x $(MIN)/bin/python || $(PYTHON) -m venv $(MIN)
	$(MIN)/bin/python -m pip install --quiet --upgrade pip
	$(MIN)/bin/python -m pip install --quiet "$(TORCH)"
	$(MIN)/bin/python tools/min_constraints.py --extra test --skip torch > $(MIN)/constraints.txt
	$(MIN)/bin/python -m pip install --quiet -c $(MIN)/constraints.txt -e ".[test]"
	touch $(MIN_STAMP)

run: $(STAMP)
	$(VENV)/bin/gallop

# The corrupt-project generator makes all 10,000 of its variants here (1,000 in a bare pytest run).
# tests/ui/keys press keys through Qt's shortcut map as an X11 desktop matches them, so they
# run again under Xvfb (the offscreen run skips them).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	GALLOP_CORRUPT_VARIANTS=10000 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(MAKE) --no-print-directory test-keys
	$(MAKE) --no-print-directory test-studio-bare

# The keyboard tests on the xcb platform, on a virtual X server.
test-keys: $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb $(PY) -m pytest -q -p no:cacheprovider tests/ui/keys

# studio/ imports and passes its tests with only numpy installed.
test-studio-bare: $(BARE_STAMP)
	cd /tmp && PYTHONPATH=$(CURDIR) $(CURDIR)/$(BARE)/bin/python -c "import studio, studio.project.io, studio.commands; print('studio imports with numpy alone')"
	PYTHONPATH=$(CURDIR) $(BARE)/bin/python -m pytest -q -p no:cacheprovider tests/studio

# The engine's tests pass with the lowest versions pyproject.toml declares.
test-min: $(MIN_STAMP)
	QT_QPA_PLATFORM=offscreen $(MIN)/bin/python -m pytest -q -p no:cacheprovider tests/engine

bench: $(STAMP)
	@set -e; for f in bench/*.py; do echo "== $$f"; $(PY) $$f; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(BARE) $(MIN) .pytest_cache .ruff_cache .hypothesis
