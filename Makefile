# Two commands on a fresh machine: `make serve` and `make test`.
# Both create .venv on first use and reinstall when setup.cfg changes.
PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: serve test schemas fuzz load slowclients clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test,train]'
	touch $(STAMP)

serve: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c python:riskservice.gunicorn_conf 'riskservice:create_app()'

test: $(STAMP)
	$(VENV)/bin/python -m pytest

schemas: $(STAMP)
	$(VENV)/bin/riskservice export-schemas schemas/

fuzz: $(STAMP)   # long fuzz run (>= 10,000 requests: schemathesis, stateful, CSV/CDS/FHIR strategies); docs/fuzz.md
	$(VENV)/bin/python bench/fuzz.py --markdown docs/fuzz.md

slowclients: $(STAMP)   # stalled/dribbling bodies and a slow FHIR server vs gunicorn; figures in docs/security.md
	$(VENV)/bin/python bench/slow_clients.py --worker-class gthread --worker-class sync

load: $(STAMP)   # wrk load benchmark vs the Flask floor (needs wrk: apt-get install -y wrk)
	$(VENV)/bin/python bench/load_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
