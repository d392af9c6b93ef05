# Quickstart targets: each one sets up the virtual environment it needs, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TRANSLATE_DATA ?= $(abspath ../shared/data)

.PHONY: setup browser train test demo lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

# The main job: train the label-conditional DCGAN on MNIST (the shipped model's command),
# then draw a grid of every digit and measure FID/KID and conditional accuracy.
train: setup
	$(BIN)/python -m translate.train cdcgan --out runs/cdcgan-mnist --epochs 30
	$(BIN)/python -m translate.sample runs/cdcgan-mnist --n 100 --out runs/cdcgan-mnist/digits.png
	$(BIN)/python -m translate.evaluate runs/cdcgan-mnist --n 10000

# Debian's Chromium for the browser tests in tests/browser. Where it cannot be installed
# (not root, no apt) they skip, unless TRANSLATE_REQUIRE_BROWSER=1 (CI) makes that a failure.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "note: no Chromium (apt-get install chromium); the browser tests will skip"

test: setup browser
	$(BIN)/python -m pytest -q

# The browser demo on the shipped ONNX files: http://127.0.0.1:7860
demo: setup
	$(BIN)/python demo/app.py

lint: setup
	$(BIN)/ruff check .
