# driftgate — two commands on a fresh machine (python3 + make):
#   make demo   run the main job on embedded demo data
#   make test   run the default test suite (what CI runs)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

DEMO_DATA := data/demo.sqlite

.PHONY: demo config-audit audit test test-all test-scale-out parity install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,factory,cluster]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Embedded demo data: a seeded synthetic market, generated on first use (6 symbols x 90 days of 1h
# with 3m sub-bars and hourly funding; sized so the smoke factory finishes in minutes on 2 cores).
$(DEMO_DATA): | $(STAMP)
	$(VENV)/bin/driftgate data synth --symbols 6 --days 90 --seed 7 --sub-intervals 3m --out $@

# The main job: smoke sweep on gpu_sim -> shortlist -> engine_ref replays, walk-forward, slippage
# stress -> zero-drift parity gate -> promoted_configs/ + audit_reports/promotion.md.
demo: $(STAMP) $(DEMO_DATA)
	$(VENV)/bin/driftgate factory --profile smoke --candles $(DEMO_DATA) --backend cpu

config-audit: $(STAMP)
	$(VENV)/bin/driftgate config-audit

audit: $(STAMP) $(DEMO_DATA)
	$(VENV)/bin/driftgate audit

test: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PY) -m pytest -m "not slow" -n $${PYTEST_WORKERS:-2}

test-all: $(STAMP)
	HYPOTHESIS_PROFILE=nightly $(PY) -m pytest -n auto

# scale-out acceptance (slow): local PostgreSQL + 2-worker Dask cluster, one worker killed mid-sweep
test-scale-out: $(STAMP)
	$(PY) -m pytest -m slow tests/harness/factory/test_scale_out.py tests/harness/factory/test_pg_ledger.py -ra

parity: $(STAMP)
	$(PY) -m pytest -m parity -n $${PYTEST_WORKERS:-2}

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
