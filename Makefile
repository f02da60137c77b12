# The two commands of README.md: `make demo` and `make test`. Both set up .venv on first use, from the lock.
# requirements.lock pins every package (all extras, every platform) with its hashes; .venv, CI and the
# Docker image install exactly it. Changing it is deliberate: `make lock` after editing pyproject.toml
# (keeps every other pin), `make lock LOCK_ARGS="--upgrade-package pyarrow"` or `LOCK_ARGS=--upgrade` to
# upgrade; bump TRANSFORM_CODE_VERSION (dfc_assets/code_version.py) when the upgrade changes artifact bytes.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha256sum | cut -c1-16)
WORKDIR ?= .dfc
LOCK_ARGS ?=

.PHONY: demo test dev services setup lock clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# pip installs the locked uv (hash-checked), uv installs the rest of the lock: it keeps the wheels in its
# cache, from which `dfc rebuild --verify --recorded-environment --offline` (and its test) builds venvs.
$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	@awk '/^uv==/ {p = 1; print; next} p && /^ / {print; next} {p = 0}' $(LOCK) > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Resolve pyproject.toml (all extras) for Python 3.11 on every platform; uv is pinned in pyproject.toml.
lock: | $(BIN)/python
	@test -x $(BIN)/uv || { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -o 'uv==[0-9.]*' pyproject.toml)"; }
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" --quiet -o $(LOCK) $(LOCK_ARGS)

demo: $(STAMP)
	$(BIN)/dfc demo --workdir $(WORKDIR)

# Four pytest-xdist workers on two cores: most tests wait on services, daemons and subprocesses. --dist loadscope
# uses the suite's own scheduler (dfc_assets_tests/conftest.py): a module per worker, the long ones first.
TEST_WORKERS ?= 4

test: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m pytest -q --durations=15 -n $(TEST_WORKERS) --dist loadscope

dev: $(STAMP)
	$(BIN)/dfc dev --workdir $(WORKDIR)

services: $(STAMP)
	$(BIN)/dfc services --workdir $(WORKDIR)

clean:
	rm -rf $(WORKDIR)
