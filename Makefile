# Pheu: `make run` sets everything up and serves http://127.0.0.1:8000; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PHEU := $(BIN)/pheu
PORT ?= 8000
# PostgreSQL server used by `make test`, and the database name the tests make and drop on it (test_$(PHEU_TEST_DB)
# and one per pytest worker): give two runs sharing one server different names, e.g. PHEU_TEST_DB=pheu_mine.
PHEU_TEST_PG ?= postgres://postgres@127.0.0.1:5432/
PHEU_TEST_DB ?= pheu
PYTEST_WORKERS ?= 2

.PHONY: run setup install messages static test test-sqlite test-pg test-browser check lint format bench clean

run: setup
	$(PHEU) serve --port $(PORT)

setup: install messages static
	$(PHEU) migrate --noinput
	$(PHEU) demo --once

install: $(VENV)/.installed node_modules/.installed

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Translation catalogues are compiled with Babel (pure Python: no gettext needed on the machine).
messages: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d pheu/locale -D django

static: install
	$(PHEU) collectstatic --noinput -v0

test: install messages static
	$(MAKE) --no-print-directory test-sqlite test-pg test-browser

test-sqlite:
	@echo "== tests on SQLite"
	$(BIN)/pytest -m "not browser" -n $(PYTEST_WORKERS) -q

# With CI=true a PostgreSQL that does not answer is a failure; elsewhere it is skipped with a notice.
test-pg:
	@if $(BIN)/python -c "import psycopg, sys; psycopg.connect(sys.argv[1] + 'postgres', connect_timeout=3).close()" "$(PHEU_TEST_PG)" 2>/dev/null; then \
		echo "== tests on PostgreSQL ($(PHEU_TEST_PG)$(PHEU_TEST_DB))"; \
		PHEU_DATABASE_URL="$(PHEU_TEST_PG)$(PHEU_TEST_DB)" $(BIN)/pytest -m "not browser" -n $(PYTEST_WORKERS) -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL does not answer at $(PHEU_TEST_PG) (set PHEU_TEST_PG)"; exit 1; \
	else \
		echo "== PostgreSQL does not answer at $(PHEU_TEST_PG): PostgreSQL tests skipped"; \
	fi

# Browser tests drive Debian's chromium (apt-get install chromium).
test-browser:
	@if [ -x "$${PHEU_CHROMIUM:-/usr/bin/chromium}" ]; then \
		echo "== browser tests (Chromium)"; \
		DJANGO_ALLOW_ASYNC_UNSAFE=1 $(BIN)/pytest -m browser -q -p no:xdist; \
	elif [ "$$CI" = "true" ]; then \
		echo "Chromium not found at $${PHEU_CHROMIUM:-/usr/bin/chromium}"; exit 1; \
	else \
		echo "== Chromium not found: browser tests skipped (apt-get install chromium)"; \
	fi

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(PHEU) makemigrations --check --dry-run
	$(PHEU) check

lint: check

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules var test-artifacts
