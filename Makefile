# Two commands for a new machine with Python 3.11: `make demo` and `make test` (`make test-fast`
# while developing).
# Both create .venv and install the pinned dependencies (requirements.lock) first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo review-demo test test-fast bench standalone clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# `make demo PERIOD=2018-T2` runs another tertial of the demo data (default 2018-T1).
demo: install
	PERIOD="$(PERIOD)" bash scripts/demo.sh

# The case review end to end on the demo data: sample, simulated review, import, comparison
# (docs/review.md). Writes var/review-demo/.
review-demo: install
	bash scripts/review-demo.sh

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

# The developer's inner loop: everything but the tests marked slow (end to end, Airflow, corpus).
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow"

standalone: install
	bash scripts/standalone.sh

clean:
	rm -rf var

# Every stage and the whole CLI run beside its baseline measured in the same run, min / median of 3
# (docs/benchmarks.md), e.g.
# make bench BENCH_ARGS="--scale city --periods 2019-T1,2019-T2,2019-T3"
BENCH_ARGS ?= --scale national --periods 2019-T3 --repeat 3
bench: install
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)
