# ecg-book: two commands for a fresh machine.
#   make book   create .venv, install, fetch missing data, build the book (real profile)
#   make test   create or update .venv and run the whole test suite
# Also: test-fast (unit tests, nothing executed), smoke-book + check-html (what CI runs on
# pull requests), readme (the README's chapter table from results/*.json), readme-check
# (whether README.md's numbers are those of results/: after a run of your own they differ),
# sync-repository (the Colab cells from _config.yml), lint-workflows, pretrained (re-create
# the model that ships in ecgutils/pretrained/: trains on MIT-BIH DS1, several minutes),
# browser-check (headless Chromium: screenshots of the chapter pages, code cells that
# scroll sideways).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
BUILD  ?= _build
# The smoke build has its own output and execution cache: smoke outputs never reach the
# real book's cache (jupyter-cache keys on code only, not on ECG_SMOKE).
SMOKE  := $(BUILD)/smoke
HTML   ?= $(BUILD)/html
# -W: warnings are errors; -n: every internal link and cross-reference must resolve.
JB     := $(VENV)/bin/jupyter-book build book -W -n
# Notebooks run in notebooks/: hand them an absolute data root.
ifneq ($(strip $(ECG_DATA_DIR)),)
export ECG_DATA_DIR := $(abspath $(ECG_DATA_DIR))
endif

.PHONY: install data book test test-fast smoke-book check-html browser-check readme readme-check \
        sync-repository pretrained \
        lint-workflows clean

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
	$(JB)

# The shipped default model, its JSON (DS2 and other-database figures) and its model card,
# all three re-created: chapter 07's headline model, seed 0, trained on DS1 only.
pretrained: data
	$(PY) -m ecgutils.pretrained

# Every chapter in smoke mode, once: $(SMOKE)/_build/html; results to $(SMOKE)/results.
smoke-book: $(STAMP)
	ECG_SMOKE=1 ECG_RESULTS_DIR=$(abspath $(SMOKE))/results $(JB) --path-output $(SMOKE)

test: $(STAMP)
	$(PY) -m pytest

# Unit tests only: no notebook executed, no book built.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# The built HTML: every chapter page, its figures, no error output, internal links resolve.
# After smoke-book: make check-html HTML=_build/smoke/_build/html
check-html:
	$(PY) tools/check_html.py $(HTML)

# The chapter pages as a reader's browser shows them at 1280 px: full-page screenshots in
# $(BUILD)/screenshots, exit 1 if a code cell scrolls sideways. Needs Chromium
# (apt-get install chromium). After smoke-book: make browser-check HTML=$(SMOKE)/_build/html
browser-check:
	$(PY) tools/browser_check.py $(HTML) --out $(BUILD)/screenshots --width 1280

# Rewrite the README's chapter table from results/*.json (ECG_RESULTS_DIR if set).
readme:
	$(PY) tools/readme.py

# Exit 1 if README.md's chapter table is not what `make readme` would write from results/
# (the maintainers' check before publishing; not part of `make test`, since a reader's own
# retrained results never reproduce the published numbers to the digit).
readme-check:
	$(PY) tools/readme.py --check

# Write _config.yml's repository into every chapter's Colab install cell.
sync-repository:
	$(PY) tools/sync_repository.py

lint-workflows:
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

clean:
	rm -rf $(BUILD) results
