# Học vụ số — the two commands of the README, and a few more.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint translations extract-messages bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Học vụ số needs Python 3.11 or newer; found " + sys.version.split()[0] + ". Try: make run PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv"; rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-app
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(VENV)/.installed-app
	$(BIN)/pybabel compile -d app/translations -D messages >/dev/null

## Start the app on http://127.0.0.1:$(PORT) with SQLite and demo data (seeded once).
run: $(VENV)/.installed-app translations
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) demo seed --if-empty
	APP_ENV=development $(FLASK) run --host 127.0.0.1 --port $(PORT)

## Run the whole suite (browser tests are skipped, with a note, when Chromium is missing).
test: $(VENV)/.installed-test translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check app tests bench

## Re-extract the UI strings into the catalogs after changing templates or code.
extract-messages: $(VENV)/.installed-app
	$(BIN)/pybabel extract --no-location -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot app
	$(BIN)/pybabel update --no-fuzzy-matching -i app/translations/messages.pot -d app/translations -D messages

bench: $(VENV)/.installed-test translations
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache
