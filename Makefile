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

# `make run` also starts `lps worker`, which delivers the messages to members, and a local SMTP
# server on 127.0.0.1:8025 that prints every e-mail it gets (development.ini sends there); the
# worker writes each message to the console too (lps.messages.console). Ctrl-C stops all three.
run: install
	$(BIN)/lps -c $(CONFIG) db upgrade
	$(BIN)/lps -c $(CONFIG) demo
	$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025 -c aiosmtpd.handlers.Debugging & smtp=$$!; \
	$(BIN)/lps -c $(CONFIG) worker & worker=$$!; \
	trap 'kill $$worker $$smtp 2>/dev/null; wait' EXIT INT TERM; \
	$(BIN)/pserve $(CONFIG)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# After changing texts of the screens: extract them into the .po files and compile (docs/translating.md).
catalogs: install
	$(BIN)/python -m lps_core.catalogs update

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
