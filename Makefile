# Two commands on a fresh machine: `make serve` and `make test`.
# Both create $(VENV) on first use from the hash-locked requirements/lock.txt and reinstall
# when the lock, setup.cfg or pyproject.toml changes.
# Adding or changing a dependency: edit setup.cfg (compatible range), run `make lock`, commit both.
# `make lock LOCKFLAGS=--upgrade` moves every pin to the newest release inside the ranges;
# `make lock LOCKFLAGS='--upgrade-package numpy'` moves one.
PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
LOCK   := requirements/lock.txt
SERVE_LOCK := requirements/serve.txt
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.9
LOCKFLAGS ?=

.PHONY: serve serve-prod test lint lock schemas fuzz load slowclients slowreaders clean

# Exact versions with hashes, then the project itself without resolving anything
# (build backend from the lock too: --no-build-isolation). `pip check` fails here when
# setup.cfg asks for something the lock does not hold: run `make lock`.
$(STAMP): $(LOCK) setup.cfg pyproject.toml
	@echo '==> $(VENV): installing the locked dependencies ($(LOCK)); the first time takes about a minute'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --no-input --disable-pip-version-check --require-hashes -r $(LOCK)
	@echo '==> $(VENV): installing riskservice itself (editable)'
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(VENV)/bin/python -m pip check || { echo 'setup.cfg asks for what $(LOCK) lacks: run make lock' >&2; exit 1; }
	touch $(STAMP)
	@echo '==> $(VENV) is ready'

# Resolves setup.cfg (install_requires + test + train extras) and requirements/build.in for
# Python 3.11; keeps the existing pins unless LOCKFLAGS says otherwise. Needs the package index.
# Then the serving-only subset (no test or train extras) for the Docker image, constrained to
# the same pins: requirements/serve.txt.
lock:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q 'uv==$(UV_VERSION)'
	$(VENV)/bin/uv pip compile -q setup.cfg requirements/build.in --extra test --extra train \
		--generate-hashes --python-version 3.11 --custom-compile-command 'make lock' \
		$(LOCKFLAGS) -o $(LOCK)
	$(VENV)/bin/uv pip compile -q setup.cfg requirements/build.in -c $(LOCK) \
		--generate-hashes --python-version 3.11 --custom-compile-command 'make lock' -o $(SERVE_LOCK)

serve: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c python:riskservice.gunicorn_conf 'riskservice:create_app()'

# The shipped deployment: nginx (apt-get install nginx) on HOST:PORT buffering every request and
# answer, in front of gunicorn on 127.0.0.1:PORT+1 (riskservice/deploy/; docs/operations.md).
serve-prod: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/python -m riskservice.deploy.serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(VENV)/bin/python -m pytest

schemas: $(STAMP)
	$(VENV)/bin/riskservice export-schemas schemas/

fuzz: $(STAMP)   # long fuzz run (>= 10,000 requests: schemathesis, stateful, CSV/CDS/FHIR strategies); docs/fuzz.md
	$(VENV)/bin/python bench/fuzz.py --markdown docs/fuzz.md

slowclients: $(STAMP)   # stalled/dribbling bodies and a slow FHIR server vs gunicorn; figures in docs/security.md
	$(VENV)/bin/python bench/slow_clients.py --worker-class gthread --worker-class sync

slowreaders: $(STAMP)   # 64 slow readers + 64 idle connections for 60 s, through nginx and bare; docs/security.md
	$(VENV)/bin/python bench/slow_readers.py --target both --hold 60 --check

load: $(STAMP)   # wrk load benchmark vs the Flask floor (needs wrk: apt-get install -y wrk)
	$(VENV)/bin/python bench/load_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
