# One Makefile, the same targets locally and in CI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10: the first one found, or PYTHON=/path/to/python3.10.
PYTHON ?= $(shell for p in $(HOME)/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10 python3.10; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/assistant.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data bot/nlu bot/resources -type f -not -name '*.pyc' 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: help setup model run test check lint validate unit stories nlu-eval system-deps clean retention ablation \
	bench bench-smoke load eval-external eval-external-floors

help:
	@echo "make run   - set up, train if needed, start the assistant on 127.0.0.1:5005"
	@echo "make test  - set up, train if needed, run every check"

$(BIN)/.installed: requirements.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "No Python 3.10 found. Install one (e.g. pyenv install 3.10) or run: make PYTHON=/path/to/python3.10 ..."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' || { echo "$(PYTHON) is not Python 3.10; Rasa 3.6 needs 3.10."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==24.0
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	touch $@

setup: $(BIN)/.installed

# Retrained only when the data, config, domain or our NLU components change.
$(MODEL): $(BIN)/.installed $(TRAINING_INPUTS)
	$(BIN)/python -m bench.train --config config.yml --out models --name assistant
	touch $@

model: $(MODEL)

run: $(MODEL)
	scripts/run.sh

# System packages the tests use: chromium and a CJK font for the browser test, PostgreSQL, Redis.
system-deps:
	scripts/system_deps.sh

lint: setup
	$(BIN)/ruff check bot actions tests scripts bench
	$(BIN)/mypy bot actions scripts bench

validate: setup
	$(BIN)/rasa data validate --fail-on-warnings

unit: $(MODEL)
	$(BIN)/pytest -q tests

stories: $(MODEL)
	$(BIN)/rasa test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories

nlu-eval: $(MODEL)
	$(BIN)/python -m bot.evaluation.nlu --model $(MODEL) --out results/nlu

check: lint validate unit stories nlu-eval eval-external-floors bench-smoke

# Outside text (../shared/eval/dev.jsonl; EVAL_DATA=path overrides): report, errors and chart in results/external/.
EVAL_DATA ?= ../shared/eval/dev.jsonl
eval-external: $(MODEL)
	$(BIN)/python -m bot.evaluation.external --model $(MODEL) --data $(EVAL_DATA) --out results/external

# The same with the floors enforced; skipped, saying so, where the file is absent (a user's clone).
eval-external-floors: $(MODEL)
	@$(BIN)/python -m bot.evaluation.external --model $(MODEL) --data $(EVAL_DATA) --out results/external --floors; \
	status=$$?; if [ $$status -eq 2 ]; then echo "eval-external: skipped (no outside data)"; exit 0; fi; exit $$status

# Measurements (not tests): NLU ablation (~40 min on 2 cores) and analyze latency against `make run`.
ablation: $(MODEL)
	$(BIN)/python scripts/ablation.py --model $(MODEL) --out results/ablation

# Our pipeline against stock Rasa and a TF-IDF baseline (README: Benchmark). Trains what is missing
# or stale (first run: ~10 min ours, ~30 min stock), then measures for a few minutes: docs/benchmark/.
bench: $(MODEL)
	$(BIN)/python bench/benchmark.py

# The same code on tiny sizes, so the benchmark cannot rot (part of `make check`): results/bench-smoke/.
bench-smoke: $(MODEL)
	$(BIN)/python bench/benchmark.py --smoke

# Load on the REST webhook, 1 then 2 replicas on PostgreSQL + Redis (README: Production); LOAD_SECONDS, LOAD_USERS.
LOAD_SECONDS ?= 60
LOAD_USERS ?= 16
load: $(MODEL) system-deps
	$(BIN)/python bench/load.py --seconds $(LOAD_SECONDS) --users $(LOAD_USERS) --out results/load

# Two jobs at a time: the machine has 2 cores and most checks keep one busy; the checks write to
# results/ folders of their own. --output-sync keeps each check's output together.
test: setup system-deps
	$(MAKE) --jobs=2 --output-sync=target check

clean:
	rm -rf models results var .pytest_cache .mypy_cache .ruff_cache

# Deletes conversations and cases older than DAYS days, in the stores `make run` uses
# unless TRACKER_DB_* / CASE_DB_URL say otherwise (README: Retention).
DAYS ?= 90
retention: setup
	$(BIN)/python -m bot.retention --days $(DAYS)
