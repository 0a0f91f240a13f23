# Set-up and everyday commands. `make serve` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
N ?= 10000

.PHONY: install build serve test check bench clean quality-tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,data]'
	touch $@

install: $(VENV)/.installed

build: install
	$(PY) build.py

check: install
	$(VENV)/bin/s3site check

serve: install
	$(VENV)/bin/s3site serve --root . --host $(HOST) --port $(PORT)

# The quality gate's validators (tests/test_quality.py): the Nu Html Checker and axe-core, pinned
# in tools/quality/package-lock.json. `make test` installs them when npm is there; without them
# the gate's tests are skipped with a hint (they fail under S3SITE_REQUIRE_BROWSER=1, as in CI).
QUALITY_TOOLS := tools/quality/node_modules/.installed
$(QUALITY_TOOLS): tools/quality/package.json tools/quality/package-lock.json
	npm ci --prefix tools/quality --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

quality-tools: $(QUALITY_TOOLS)

test: install $(if $(shell command -v npm 2>/dev/null),quality-tools)
	$(PY) -m pytest -q

clean:
	rm -rf output .s3site-cache

# The benchmark against Hugo and Pelican (benchmarks/README.md); N=100000 for the large size.
bench: install
	$(PY) benchmarks/run.py --n $(N)
