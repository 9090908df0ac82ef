# ecg-book: two commands for a fresh machine.
#   make book   create .venv, install, fetch missing data, build the book (real profile)
#   make test   create or update .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Notebooks run in notebooks/: hand them an absolute data root.
ifneq ($(strip $(ECG_DATA_DIR)),)
export ECG_DATA_DIR := $(abspath $(ECG_DATA_DIR))
endif

.PHONY: install data book test smoke-book clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[cpu,book,test]'
	# Silence ipykernel's "running over TCP without encryption" line on every page.
	mkdir -p $(VENV)/etc/ipython
	echo "c.IPKernelApp.log_level = 'ERROR'" > $(VENV)/etc/ipython/ipython_kernel_config.py
	touch $@

install: $(STAMP)

# What the chapters use: all of mitdb and qtdb, and the one Creighton record cu01.
data: $(STAMP)
	$(PY) -m ecgutils fetch mitdb qtdb
	$(PY) -m ecgutils fetch cudb --records cu01

book: data
	$(VENV)/bin/jupyter-book build book -W

smoke-book: $(STAMP)
	ECG_SMOKE=1 $(VENV)/bin/jupyter-book build book -W

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf _build results
