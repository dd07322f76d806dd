# The two README commands: `make run` (LPS with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/development.ini
PLUGINS := $(dir $(wildcard plugins/*/setup.cfg drivers/*/setup.cfg))
STAMP := $(VENV)/.installed

.PHONY: install run test catalogs clean

# The last step drops old installs: lps-points-tiers, which became part of LPS
# (lps_core/tiers/points_threshold.py), and lps-partner-exchange, which lps-airline-miles replaced.
$(STAMP): setup.cfg pyproject.toml $(wildcard plugins/*/setup.cfg drivers/*/setup.cfg)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,test]' $(addprefix -e ,$(PLUGINS))
	$(BIN)/python -m pip uninstall --quiet --yes lps-points-tiers lps-partner-exchange 2>/dev/null || true
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lps -c $(CONFIG) db upgrade
	$(BIN)/lps -c $(CONFIG) demo
	$(BIN)/pserve $(CONFIG)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# After changing texts of the screens: extract them into the .po files and compile (docs/translating.md).
catalogs: install
	$(BIN)/python -m lps_core.catalogs update

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
