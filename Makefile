# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-deploy install check-java check-chromium clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (or run: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

check-java:
	@command -v java >/dev/null || { echo "error: Java not found. Spark needs Java 17: install it (Debian: apt-get install openjdk-17-jre-headless) and retry."; exit 1; }

demo: install check-java
	$(BIN)/shiprisk demo

# The report test opens the trend report in headless Chromium: Debian's package, no download.
check-chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium (Debian package) for the report test"; \
	    (apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }) \
	      || echo "warning: could not install chromium (no package registry?); the browser check of the report test will be skipped"; \
	  else \
	    echo "warning: /usr/bin/chromium is missing and this is not root: run 'sudo apt-get install -y chromium'; the browser check of the report test will be skipped"; \
	  fi; }

test: install check-java check-chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Deployment checks, run by CI after the suite: the wheel installed in a fresh venv, and the
# Airflow DAGs under Airflow's own `dags test` in a venv of their own (Airflow's pins are not ours).
test-deploy: install check-java
	$(BIN)/python -m pytest tests/deploy $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-airflow .pytest_cache demo-workspace
