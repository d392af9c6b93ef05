# Quickstart targets: each one sets up the virtual environment it needs, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TRANSLATE_DATA ?= $(abspath ../shared/data)

.PHONY: setup train test lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

# The main job: train the label-conditional DCGAN on MNIST (the shipped model's command),
# then draw a grid of every digit and measure FID/KID and conditional accuracy.
train: setup
	$(BIN)/python -m translate.train cdcgan --out runs/cdcgan-mnist --epochs 20
	$(BIN)/python -m translate.sample runs/cdcgan-mnist --n 100 --out runs/cdcgan-mnist/digits.png
	$(BIN)/python -m translate.evaluate runs/cdcgan-mnist --n 10000

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
