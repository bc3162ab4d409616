# Two commands are all the set-up: `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint check-production bench install lock clean browser

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qixian demo

test: $(STAMP) browser
	$(BIN)/python -m pytest

# ruff (lint and format) and mypy (types), configured in pyproject.toml; CI runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

# The dashboard's browser tests drive Debian's chromium (never a downloaded browser) with a Chinese font for the
# screenshots; as root they are installed when missing. Where they cannot be, those tests skip and say why.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -e $(CJK_FONT) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "安装 chromium 与中文字体（浏览器测试用）…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) >/dev/null 2>&1 \
	      || echo "chromium 安装失败：浏览器测试将跳过"; \
	  else echo "没有 chromium 且无权安装：浏览器测试将跳过"; fi; \
	fi

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
