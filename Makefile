# Two entry points, each working on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
SCALESIM_VENV := .venv-scalesim
ZIGZAG_VENV := .venv-zigzag

.PHONY: install demo test chromium

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[dev,ray]'
	touch $@

# SCALE-Sim 3.0.0 needs numpy<2.4, so the live comparison test runs it from its own venv.
$(SCALESIM_VENV)/.installed:
	$(PYTHON) -m venv $(SCALESIM_VENV)
	$(SCALESIM_VENV)/bin/pip install --quiet scalesim==3.0.0 'numpy<2.4'
	touch $@

# ZigZag (the systolic energy differential check, tests/test_systolic_zigzag.py) in its own venv too.
$(ZIGZAG_VENV)/.installed:
	$(PYTHON) -m venv $(ZIGZAG_VENV)
	$(ZIGZAG_VENV)/bin/pip install --quiet zigzag-dse==3.9.1
	touch $@

demo: install
	$(VENV)/bin/archgym demo

# Headless Chromium (Debian package) lets the tests check the HTML report in a real browser.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the browser check of the HTML report will be skipped"

test: install $(SCALESIM_VENV)/.installed $(ZIGZAG_VENV)/.installed chromium
	$(VENV)/bin/python -m pytest
