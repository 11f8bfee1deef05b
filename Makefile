# Two entry points, each working on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
SCALESIM_VENV := .venv-scalesim
ANALOGNAS_VENV := .venv-analognas
ZIGZAG_VENV := .venv-zigzag

.PHONY: install demo test chromium

install: $(VENV)/.installed

# Not --quiet: the first install downloads about 2 GB (PyTorch, Ray...) and takes minutes; pip shows its progress.
$(VENV)/.installed: pyproject.toml
	@echo "Installing archgym and its dependencies into $(VENV) (the first time takes about 5 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[dev,ray]'
	touch $@
	@echo "Installed: run .venv/bin/archgym --help (or source .venv/bin/activate first)"

# SCALE-Sim 3.0.0 needs numpy<2.4, so the live comparison test runs it from its own venv.
$(SCALESIM_VENV)/.installed:
	$(PYTHON) -m venv $(SCALESIM_VENV)
	$(SCALESIM_VENV)/bin/pip install --quiet scalesim==3.0.0 'numpy<2.4'
	touch $@

# ZigZag (the systolic energy differential check, tests/test_systolic_zigzag.py) in its own venv too.
$(ZIGZAG_VENV)/.installed:
	$(PYTHON) -m venv $(ZIGZAG_VENV)
	# zigzag-dse 3.9.1 imports six without declaring it (zigzag/parser/upgraded_validator.py)
	$(ZIGZAG_VENV)/bin/pip install --quiet zigzag-dse==3.9.1 six==1.17.0
	touch $@

demo: install
	$(VENV)/bin/archgym demo

# analog-nasbench 0.1.3, the source of the shipped NB201 table: a test compares every row with it (never imported).
$(ANALOGNAS_VENV)/.installed:
	$(PYTHON) -m venv $(ANALOGNAS_VENV)
	$(ANALOGNAS_VENV)/bin/pip install --quiet analog-nasbench==0.1.3
	touch $@

# Headless Chromium (Debian package) lets the tests check the HTML report in a real browser.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the browser check of the HTML report will be skipped"

# Two workers (pytest-xdist; tests/conftest.py keeps each module on one worker): the suite's wall time on 2 cores.
test: install $(SCALESIM_VENV)/.installed $(ANALOGNAS_VENV)/.installed $(ZIGZAG_VENV)/.installed chromium
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup
