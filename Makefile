# Newsroom: `make run` serves the site with demo content; `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e lint format check screenshots bench bench-day bench-send bench-send-faults clean

$(PY):
	@python=$$(bin/find-python) || exit 1; \
	echo "Creating $(VENV) with $$python ($$($$python -V))"; \
	$$python -m venv $(VENV)

# Stamp files: requirements are reinstalled only when their file changes.
$(VENV)/.run-installed: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	@touch $@ $(VENV)/.run-installed

# Absolute links (canonical, feeds, sitemaps, share links, emails) use the address
# `make run` serves on, unless SITE_URL is set: `make run PORT=8123` links to port 8123.
RUN_SITE_URL = $(or $(SITE_URL),http://$(HOST):$(PORT))
RUN := SITE_URL='$(RUN_SITE_URL)' $(PY) manage.py

# The demo runs in one named zone, so times in the admin and on the site show it (BST/GMT).
run: export TIME_ZONE ?= Europe/London
run: $(VENV)/.run-installed
	@mkdir -p var
	$(RUN) migrate --noinput
	$(RUN) seed_demo --if-empty
	$(RUN) ensure_demo_editor
	$(RUN) schedule_newsletter_tasks
	@admin_path=$$($(PY) -c 'import os; from newsroom.security import read_admin_path; print(read_admin_path(os.environ))'); \
	echo "Serving http://$(HOST):$(PORT)/ (absolute links: $(RUN_SITE_URL)/) with the task worker."; \
	echo "The admin: http://$(HOST):$(PORT)/$$admin_path  Ctrl-C stops both."
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN) db_worker --queue-name '*' & worker=$$!; \
	$(RUN) runserver $(HOST):$(PORT)

test: $(VENV)/.dev-installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Browser tests alone (Debian's Chromium at /usr/bin/chromium, Java for the HTML checker).
# A failed browser test is run once more (pytest-rerunfailures): the ProseMirror dialogs hand
# focus back asynchronously and a loaded machine can lose that race; a real break fails twice.
e2e: $(VENV)/.dev-installed
	$(PY) -m pytest -m e2e tests/e2e --durations=5 --reruns 1 $(PYTEST_ARGS)

# PNGs of every public page at 390 px and 1280 px, and of the round-up email at 390 and 800 px, in var/screenshots/.
screenshots: $(VENV)/.dev-installed
	$(PY) bin/screenshots.py

# Benchmarks (never part of `make test`) against a database filled by seed_bulk: see BENCHMARKS.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/newsroom_bench
bench: $(VENV)/.run-installed
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/pages.py $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/newsroom_day.py --skip-collectstatic $(BENCH_DAY_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/admin_lists.py --skip-collectstatic
	npm install --prefix bench/lighthouse --no-audit --no-fund --silent
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/lighthouse/run.py --skip-collectstatic
	$(MAKE) bench-send

# A newsroom's busy day (issue 15): Zipf-spread readers under wrk, with and without an editor
# at work; BENCH_DAY_ARGS="--varnish http://127.0.0.1:6081" sends the readers through Varnish.
bench-day: $(VENV)/.run-installed
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/newsroom_day.py $(BENCH_DAY_ARGS)

# The round-up to 100,000 subscribers, in a database of its own (SEND_BENCH_DATABASE_URL,
# default newsroom_send_bench): it empties that database's newsletter tables first.
bench-send: $(VENV)/.run-installed
	$(PY) bench/send/run.py $(SEND_BENCH_ARGS)

# The fault suite (tests/newsletter/test_faults.py) at 100,000 subscribers.
bench-send-faults: $(VENV)/.dev-installed
	$(PY) bench/send/faults.py $(SEND_FAULTS_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .ruff_cache
