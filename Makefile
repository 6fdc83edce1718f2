# Two commands for a new machine with Python 3.11: `make demo` and `make test`.
# Both create .venv and install the pinned dependencies (requirements.lock) first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench standalone clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: install
	bash scripts/demo.sh

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

standalone: install
	bash scripts/standalone.sh

clean:
	rm -rf var

bench: install
	$(BIN)/python -m benchmarks.national
