# driftgate — two commands on a fresh machine (python3 + make):
#   make demo   run the main job on embedded demo data
#   make test   run the default test suite (what CI runs)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-all parity install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,factory]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/driftgate config-audit

test: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PY) -m pytest -m "not slow" -n $${PYTEST_WORKERS:-2}

test-all: $(STAMP)
	HYPOTHESIS_PROFILE=nightly $(PY) -m pytest -n auto

parity: $(STAMP)
	$(PY) -m pytest -m parity -n $${PYTEST_WORKERS:-2}

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
