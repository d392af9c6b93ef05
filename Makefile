# Quickstart targets: each one sets up the virtual environment it needs, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TRANSLATE_DATA ?= $(abspath ../shared/data)

.PHONY: setup browser train test test-fast demo lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

RUN ?= runs/horse2zebra
# Extra arguments, appended to: the training command (e.g. TRAIN_ARGS='--epochs 10'), the
# scoring (EVAL_ARGS='--real-n 50'), pytest (PYTEST_ARGS='-k demo'), the demo (DEMO_ARGS='--port 8000').
TRAIN_ARGS ?=
EVAL_ARGS ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=

# The main job: train the horse <-> zebra CycleGAN (the CPU preset on a CPU, the reference
# recipe with --gpu where CUDA exists), export both directions to ONNX and score them.
# Running it again continues the run from its last checkpoint.
train: setup
	@device=$$($(BIN)/python -c "import torch; print('--gpu' if torch.cuda.is_available() else '')"); \
	if [ -d $(RUN)/checkpoints ]; then recipe=--resume; \
	elif [ -n "$$device" ]; then recipe=; else recipe="--preset cpu"; fi; \
	set -x; $(BIN)/python -m translate.train cyclegan --domains horse zebra --out $(RUN) $$device $$recipe \
		--save-every-steps 500 --download $(TRAIN_ARGS)
	$(BIN)/python -m translate.export $(RUN) --direction AtoB --out $(RUN)-onnx/horse2zebra.onnx
	$(BIN)/python -m translate.export $(RUN) --direction BtoA --out $(RUN)-onnx/zebra2horse.onnx
	$(BIN)/python -m translate.evaluate $(RUN) $(EVAL_ARGS)

# Debian's Chromium for the browser tests in tests/browser. Where it cannot be installed
# (not root, no apt) they skip, unless TRANSLATE_REQUIRE_BROWSER=1 (CI) makes that a failure.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "note: no Chromium (apt-get install chromium); the browser tests will skip"

# A pytest-xdist worker per core (at most 8), tests handed out as workers free up, so that no
# core idles while another runs a slow test. XDIST= runs in one process (pdb, -s).
XDIST ?= -n auto --maxprocesses 8 --dist worksteal

test: setup browser
	$(BIN)/python -m pytest -q $(XDIST) $(PYTEST_ARGS)

# The edit-test loop: every test but the slow and browser ones (see the README's developer notes).
test-fast: setup
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow and not browser" $(PYTEST_ARGS)

# The browser demo on the shipped ONNX files: http://127.0.0.1:7860
demo: setup
	$(BIN)/python demo/app.py $(DEMO_ARGS)

lint: setup
	$(BIN)/ruff check .
