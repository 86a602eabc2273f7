# omnilab: `make lab` opens the course, `make test` runs every test and notebook.
# Both set up what is missing first (scripts/setup.sh); repeated runs skip what is done.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PORT ?= 8888
COURSE_COPY ?= my-course
# Extra arguments: `make test PYTEST_ARGS='-k welcome -x'`, `make lab LAB_ARGS=--no-browser`.
PYTEST_ARGS ?=
LAB_ARGS ?=

SETUP := VENV=$(VENV) PYTHON=$(PYTHON) bash scripts/setup.sh
# Rebuilt when the dependencies or the set-up script change.
INSTALLED := $(VENV)/.omnilab-installed

# Every course notebook and every solution notebook; exercises/ are meant to fail until solved.
NOTEBOOKS = $(strip $(sort $(wildcard notebooks/*.ipynb)) $(sort $(wildcard solutions/*.ipynb)))
NBVAL_ARGS = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
BENCHES = $(sort $(wildcard bench/*.py))

# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# No display on Linux: don't try to start a browser, just print the URL.
NO_BROWSER := $(if $(and $(filter Linux,$(shell uname -s)),$(if $(DISPLAY)$(WAYLAND_DISPLAY),,1)),--no-browser,)
# Under CI the browser tests must run, so a missing Chromium is an error there.
CHROMIUM_NEED := $(if $(CI),--require,--want)

.PHONY: help lab test lint notebooks bench clean

help:
	@echo "make lab     set up what is missing, then open JupyterLab on your copy of the course, $(COURSE_COPY)/00-welcome.ipynb (PORT=$(PORT))"
	@echo "make test    set up what is missing (with Chromium), then lint, pytest over tests/ and nbval over the notebooks"
	@echo "make lint    ruff over omnilab, bench and scripts; mypy over omnilab/replica and omnilab/sim (pyproject.toml)"
	@echo "make notebooks  rebuild notebooks/*.ipynb from course/*.py (FORCE=1: re-run every notebook)"
	@echo "make bench   run every bench/*.py"
	@echo "make clean   remove $(VENV) and test leftovers"

$(INSTALLED): pyproject.toml scripts/setup.sh
	$(SETUP) venv
	touch $@

# The learner works in their own copy of the course, $(COURSE_COPY)/ (git-ignored): made on first use,
# never overwritten where they edited it (scripts/learner_copy.py). jupyter/ adds the course's Jupyter
# settings (no news pop-up, kernels over local sockets) on top of the user's own.
lab: $(INSTALLED)
	@$(SETUP) system --want graphviz
	@$(VENV)/bin/python scripts/learner_copy.py --copy $(COURSE_COPY)
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(VENV)/bin/jupyter lab --ip 127.0.0.1 --port $(PORT) --ServerApp.port_retries=0 \
		--ServerApp.root_dir=$(COURSE_COPY) $(ALLOW_ROOT) $(NO_BROWSER) --LabApp.default_url=/lab/tree/00-welcome.ipynb $(LAB_ARGS)

test: $(INSTALLED)
	@$(MAKE) --no-print-directory lint
	@$(SETUP) system --require graphviz $(CHROMIUM_NEED) chromium
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests $(NOTEBOOKS) $(NBVAL_ARGS) $(PYTEST_ARGS)

# Style and types; what each tool checks is configured in pyproject.toml.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check omnilab bench scripts
	$(VENV)/bin/mypy

# notebooks/NN-topic.ipynb from course/NN-topic.py: only changed notebooks are re-run for their checked outputs.
notebooks: $(INSTALLED)
	$(VENV)/bin/python scripts/build_notebooks.py $(if $(FORCE),--force,)

bench: $(INSTALLED)
	@$(SETUP) system --want graphviz
	@$(if $(BENCHES),,echo "no benchmarks in bench/ yet")
	@set -e; for bench in $(BENCHES); do echo "== $$bench"; $(VENV)/bin/python "$$bench"; done

clean:
	rm -rf $(VENV) tests/browser/screenshots
