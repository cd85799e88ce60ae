# The DCGAN course kit. `make lab` to study, `make test` to check everything.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SHARED_MNIST := $(abspath ../shared/data/mnist.npz)

# TensorFlow per platform: the small CPU-only wheel on Linux without an NVIDIA
# GPU, TensorFlow with CUDA on Linux with one, the plain wheel elsewhere (macOS).
# Override with `make install TF_PACKAGE=...`; TF_PACKAGE= skips it (Colab, conda).
UNAME := $(shell uname -s)
ifeq ($(UNAME),Linux)
  ifneq ($(shell command -v nvidia-smi),)
    TF_PACKAGE ?= tensorflow[and-cuda]==2.21.*
  else
    TF_PACKAGE ?= tensorflow-cpu==2.21.*
  endif
else
  TF_PACKAGE ?= tensorflow==2.21.*
endif

# The test suite uses the complete MNIST beside the checkout when it is there.
ifneq ($(wildcard $(SHARED_MNIST)),)
  export DCGAN_MNIST ?= $(SHARED_MNIST)
endif

.PHONY: install lab fresh tensorboard lint format test test-rerun test-unit test-notebooks full-run bench clean help

help:
	@echo "make lab    - set up .venv (if needed) and open JupyterLab on working copies in workspace/"
	@echo "make fresh NB=01_first_gan.ipynb - replace a working copy by the committed chapter"
	@echo "make tensorboard - TensorBoard on the runs your working copies write (http://127.0.0.1:6006)"
	@echo "make test   - set up/update .venv, lint, run unit tests + every notebook (quick mode)"
	@echo "make lint   - ruff check and format check (make format fixes what it can)"
	@echo "make full-run NB=notebooks/01_first_gan.ipynb - run a chapter at full length, saving outputs"
	@echo "make bench  - measure speed and quality, rewrite BENCHMARKS.md (about 30 minutes on 2 cores)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs when the dependency lists change.
$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(if $(TF_PACKAGE),$(BIN)/python -m pip install -q "$(TF_PACKAGE)")
	$(BIN)/python -m pip install -q -e ".[course,test]"
	touch $@

install: $(VENV)/.installed

# JupyterLab opens working copies in workspace/ (git-ignored), made from notebooks/ when missing:
# the committed full runs stay as they are, whatever is run or saved. As root (containers, some
# cloud notebooks) Jupyter needs --allow-root.
lab: install
	$(BIN)/python scripts/working_copies.py
	$(BIN)/jupyter lab workspace/ $(if $(filter 0,$(shell id -u)),--allow-root)

# TensorBoard on the runs Chapter 3 writes from your working copies; no need to activate .venv.
tensorboard: install
	$(BIN)/tensorboard --logdir workspace/runs --host 127.0.0.1 --port 6006

# Replace a working copy by the committed chapter (the old copy is kept in workspace/replaced/).
fresh: install
	@test -n "$(NB)" || { echo "say which: make fresh NB=01_first_gan.ipynb"; exit 2; }
	$(BIN)/python scripts/working_copies.py --fresh $(NB)

# ruff (pyproject.toml): lint and format check of the library, tests, scripts and notebooks.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	DCGAN_QUICK=1 $(BIN)/python -m pytest -n 2 --dist loadscope --nbval-lax --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider tests notebooks

test-unit: install
	$(BIN)/python -m pytest -n 2 --dist loadscope tests

test-notebooks: install
	DCGAN_QUICK=1 $(BIN)/python -m pytest -n 2 --dist loadscope --nbval-lax --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg notebooks

# Every chapter in quick mode, then each code cell run once more in the same kernel (students
# re-run cells): about twice the notebooks' quick-mode time, so not part of `make test`.
test-rerun: install
	DCGAN_RERUN=1 $(BIN)/python -m pytest -n 2 -p no:cacheprovider tests/rerun

# Execute one chapter at full length in place, keeping its outputs (what the
# committed notebooks hold). Takes minutes to tens of minutes on a laptop CPU.
full-run: install
	@test -n "$(NB)" || { echo "say which: make full-run NB=notebooks/01_first_gan.ipynb"; exit 2; }
	cd $(dir $(NB)) && DCGAN_QUICK=0 $(abspath $(BIN))/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=-1 $(notdir $(NB))

# Speed and sample-quality benchmarks; rewrites BENCHMARKS.md and benchmarks/*.png.
bench: install
	$(BIN)/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

# --- Slides (slides/README.md): one reveal.js deck per chapter, built from the notebooks with
# their saved outputs, working offline (everything they load is copied into slides/build/lib/).
.PHONY: slides present test-slides test-browser
SLIDES_PORT ?= 8000
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

slides: install
	$(BIN)/python scripts/build_slides.py

present: slides
	@echo "Decks: http://127.0.0.1:$(SLIDES_PORT)/ (or open slides/build/index.html directly); Ctrl+C stops"
	$(BIN)/python -m http.server $(SLIDES_PORT) --bind 127.0.0.1 --directory slides/build

# Opens every deck in headless Chromium from file:// and fails on any network request.
test-slides: slides
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	$(BIN)/python -m pip install -q "websocket-client>=1.6"
	DCGAN_SLIDES_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider tests/slides/test_browser.py

# In a real JupyterLab driven by headless Chromium (mouse and keys): Chapter 5's latent explorer,
# and a live Chapter 4 session on a working copy that must leave notebooks/ untouched (~4 min).
test-browser: install
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	$(BIN)/python -m pip install -q "websocket-client>=1.6"
	DCGAN_SLIDES_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider tests/slides/test_lab_widgets.py
