# The two commands of README.md: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)
WORKDIR ?= .dfc

.PHONY: demo test dev services setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dfc demo --workdir $(WORKDIR)

test: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m pytest -q --durations=15

dev: $(STAMP)
	$(BIN)/dfc dev --workdir $(WORKDIR)

services: $(STAMP)
	$(BIN)/dfc services --workdir $(WORKDIR)

clean:
	rm -rf $(WORKDIR)
