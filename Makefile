# The two commands: `make run` serves the portal, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
export PORT

.PHONY: install catalog run test lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# the gettext catalogs, compiled from translations/<language>/LC_MESSAGES/messages.po
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
$(CATALOGS): %.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

install: $(BIN)/.installed $(CATALOGS)

# After changing texts: collect every message (babel.cfg) into the catalogs; then translate
# the empty msgstr entries in translations/es/LC_MESSAGES/messages.po and `make install`.
catalog: $(BIN)/.installed
	mkdir -p instance
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-wrap --sort-by-file \
	  --project Vouch -o instance/messages.pot .
	$(BIN)/pybabel update -i instance/messages.pot -d translations --no-wrap \
	  --no-fuzzy-matching --ignore-obsolete

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	PORT=$(PORT) ./scripts/serve.sh

# With TEST_DATABASE_URL (PostgreSQL) set, the whole suite runs there, then again on SQLite.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the suite again on SQLite (browser and PostgreSQL-only tests ran above) =="; \
	  TEST_DATABASE_URL= $(BIN)/pytest -m "not postgres and not e2e"; \
	fi

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every page under wrk against gunicorn at 10k and 100k advocates (ratios to /healthz;
# the hub home and both leaderboards among them), "my rank" timed at the database with its
# plan, then redemption tx/s, then a mixed load of real user flows (50 clients, 60 s) on one
# gunicorn and on two sharing PostgreSQL and Redis (db 13), with reconcile and the
# invariants after each, then the weekly digest and reference candidate matching (median
# of several rankings at 100k advocates, target < 1 s), all in throwaway PostgreSQL
# databases. BENCH_QUICK=1 for a small
# run; BENCH_DATABASE_URL, BENCH_SECONDS, BENCH_KEEP, BENCH_RANK_RUNS: see
# benchmarks/pages.py; BENCH_LOAD_*: benchmarks/load.py.
bench: install
	$(BIN)/python -m benchmarks.pages

clean:
	rm -rf $(VENV) instance .pytest_cache
