# The two commands of the README. Each bootstraps .venv itself (idempotent) before it runs.
VENV := .venv
export TF_CPP_MIN_LOG_LEVEL := 3
PYTHON := $(VENV)/bin/python

.PHONY: demo test bench docs bootstrap

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/bin/interlayer demo --out out --force

test: bootstrap
	$(PYTHON) -m pytest -q -p no:cacheprovider

bench: bootstrap
	$(PYTHON) benchmarks/run.py

docs: bootstrap
	$(PYTHON) -m interlayer.docs
