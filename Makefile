# Set-up and everyday commands. `make serve` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
N ?= 10000

.PHONY: install build serve test check bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

build: install
	$(PY) build.py

check: install
	$(VENV)/bin/s3site check

serve: install
	$(VENV)/bin/s3site serve --root . --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

clean:
	rm -rf output .s3site-cache

# The benchmark against Hugo and Pelican (benchmarks/README.md); N=100000 for the large size.
bench: install
	$(PY) benchmarks/run.py --n $(N)
