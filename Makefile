# bench developer entry points. Every target that runs code calls `setup` first; setup is a no-op
# when requirements/lock.txt, the package manifests and the setup script are unchanged.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test lint format demo bench lock clean

setup:
	@bash tools/setup_env.sh

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check packages tests tools
	$(BIN)/ruff format --check packages tests tools

format: setup
	$(BIN)/ruff format packages tests tools
	$(BIN)/ruff check --fix packages tests tools

demo: setup
	$(BIN)/bench demo

bench: setup
	$(BIN)/python tools/benchmarks/run.py $(BENCH)

lock:
	bash tools/lock.sh

clean:
	rm -rf $(VENV) bench-demo .pytest_cache .ruff_cache
