# Two commands are all the set-up: `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test check-production bench install lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qixian demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The README's production commands, run for real: PostgreSQL at 127.0.0.1:5432, a Prefect server on it, two workers
# (about a minute; CI runs it after `make test`).
check-production: $(STAMP)
	deployments/check-production.sh

bench: $(STAMP)
	$(BIN)/python bench/deadlines.py

# Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock:
	rm -rf /tmp/qixian-lock && $(PYTHON) -m venv /tmp/qixian-lock
	/tmp/qixian-lock/bin/pip install --quiet -e '.[test]'
	/tmp/qixian-lock/bin/pip freeze --exclude-editable | grep -v '^qixian' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
