# annotator: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint typecheck pytest messages translations bench bench-smoke bench-annotations bench-import bench-exchange bench-workspace bench-backup bench-ingest system-deps clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP) translations
	$(VENV)/bin/annotator init
	$(VENV)/bin/annotator demo
	@echo "Serving on http://$(HOST):$(PORT)/ (sign in with a demo login printed above)"
	$(VENV)/bin/annotator serve --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests, PostgreSQL + PostGIS for the storage tests
# (they start their own throwaway cluster), GDAL's ogr2ogr (gdal-bin) and PyQGIS
# (python3-qgis, ~100 MB) for the copies of exports the import tests read back, installed
# when missing and we are root.
system-deps:
	@need=""; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	command -v ogr2ogr >/dev/null 2>&1 || need="$$need gdal-bin"; \
	command -v redis-server >/dev/null 2>&1 || need="$$need redis-server"; \
	/sbin/ldconfig -p | grep -q 'libraqm\.so\.0' || need="$$need libraqm0"; \
	/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || need="$$need python3-qgis"; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  need="$$need postgresql postgresql-postgis"; \
	elif ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then \
	  need="$$need postgresql-postgis"; \
	fi; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need; \
	  else echo "missing Debian packages:$$need (install them as root; their tests skip, or fail under CI=true)"; fi; \
	fi

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

# the tests run in PYTEST_WORKERS processes (pytest-xdist), each test file in one of them so
# that its module fixtures are made once; PYTEST_WORKERS=0 runs them in this process. Files
# are handed out in the order tests/conftest.py gives them (the longest first, see LONG_FILES),
# not pytest-xdist's (most tests first). The 30 slowest tests are listed at the end, to see
# where the suite's time goes
PYTEST_WORKERS ?= 2
pytest: $(DEV_STAMP) system-deps translations
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

test: lint typecheck pytest

bench: $(DEV_STAMP) system-deps
	$(PY) -m benchmarks.tiles && $(PY) -m benchmarks.annotations && $(PY) -m benchmarks.exchange_import && $(PY) -m benchmarks.exchange && $(PY) -m benchmarks.story_outputs && $(PY) -m benchmarks.timeline && $(PY) -m benchmarks.duplicates && $(PY) -m benchmarks.site_filter && $(PY) -m benchmarks.workspace && $(PY) -m benchmarks.backup && $(PY) -m benchmarks.ogcapi && $(PY) -m benchmarks.ingest && $(PY) -m benchmarks.georeference

# every benchmark in its smoke mode (tiny counts, a temporary report; `make test` runs it too)
bench-smoke: $(DEV_STAMP) system-deps
	$(PY) -m pytest -p no:randomly tests/test_benchmarks_smoke.py

# 1,000,000 annotations in SQLite and in PostGIS (a throwaway cluster, as in the tests: needs
# Debian's postgresql and postgresql-postgis); results in docs/benchmarks-annotations.md
bench-annotations: $(STAMP)
	$(PY) -m benchmarks.annotations

# importing a 100,000-feature GeoPackage into SQLite and PostGIS; results in docs/benchmarks.md
bench-import: $(STAMP)
	$(PY) -m benchmarks.exchange_import

# export of 100,000 and 1,000,000 annotations to every format against a pyogrio floor (about
# 30 minutes on 2 cores); its section of docs/benchmarks.md
bench-exchange: $(STAMP)
	$(PY) -m benchmarks.exchange

# the image workspace with 5,000 annotations in view, in Debian's headless Chromium
bench-workspace: $(DEV_STAMP) system-deps
	$(PY) -m benchmarks.workspace

# ingest at scale (a 2-gigapixel scene against `rio cogeo create`, an upload over HTTP, tiles
# meanwhile; it needs 20 GB free and about an hour on 2 cores); its section of docs/benchmarks.md
bench-ingest: $(STAMP)
	$(PY) -m benchmarks.ingest

# annotator backup of 1,000,000 annotations and 20 GB of COGs against sqlite3 .backup + cp -al,
# while annotator serve answers tiles (15 minutes, plus 25 the first time to build its data:
# it needs 38 GB free: 29 GB kept in benchmarks/out/backup, and one database copy at a time)
bench-backup: $(STAMP)
	$(PY) -m benchmarks.backup

# the interface's strings (babel.cfg: templates, the scripts' t("..."), annotator/language):
# extracted into annotator/translations/messages.pot, then each language's messages.po updated
# (new strings come in untranslated: tests/annotator/test_language.py fails until they are)
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k t -o annotator/translations/messages.pot \
	  --project annotator --copyright-holder "annotator" --sort-by-file .
	$(VENV)/bin/pybabel update -i annotator/translations/messages.pot \
	  -d annotator/translations --no-fuzzy-matching

# the compiled catalogues (messages.mo, not kept in git; the app also makes a missing one)
translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d annotator/translations

clean:
	rm -rf $(VENV) .venv-bench .pytest_cache .mypy_cache .ruff_cache
