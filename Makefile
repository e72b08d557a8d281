# Two commands on a fresh machine (Python >= 3.11 and make):
#   make render   set up .venv (no TensorFlow) and render the default dataset
#   make test     set up .venv with every extra and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
N ?= 1e6
OUT ?= data/default
ARGS ?=
BIN := $(VENV)/bin

.PHONY: render test lint bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.render-installed: pyproject.toml setup.py textsynth/_lines.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml setup.py textsynth/_lines.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[train,dask,test]"
	touch $@ $(VENV)/.render-installed

render: $(VENV)/.render-installed
	$(BIN)/textsynth render --n $(N) --out $(OUT) $(ARGS)

test: $(VENV)/.test-installed
	$(BIN)/python -m ruff check textsynth reference_model tests benchmarks
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q tests

bench: $(VENV)/.render-installed
	$(BIN)/python benchmarks/paint_bench.py
	$(BIN)/python benchmarks/render_bench.py

clean-venv:
	rm -rf $(VENV)
