# Newsroom: `make run` serves the site with demo content; `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e lint format check screenshots bench bench-send bench-send-faults clean

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

run: $(VENV)/.run-installed
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py ensure_demo_editor
	$(PY) manage.py schedule_newsletter_tasks
	@echo "Serving http://$(HOST):$(PORT)/ with the task worker. Ctrl-C stops both."
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py db_worker --queue-name '*' & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT)

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
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/admin_lists.py --skip-collectstatic
	npm install --prefix bench/lighthouse --no-audit --no-fund --silent
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/lighthouse/run.py --skip-collectstatic
	$(MAKE) bench-send

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
