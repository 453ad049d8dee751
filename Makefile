# The two commands of the README. Each bootstraps .venv from requirements.lock itself (idempotent) before it runs.
VENV := .venv
export TF_CPP_MIN_LOG_LEVEL := 3
PYTHON := $(VENV)/bin/python

.PHONY: demo test test-slow test-latest lock bench docs bootstrap

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/bin/interlayer demo --out out --force

# the default suite; whole-model checks marked `slow` run in test-slow (CI runs both)
test: bootstrap
	$(PYTHON) -m pytest -q -p no:cacheprovider -m "not slow"

test-slow: bootstrap  # pytest's exit status 5 (no test carries the marker) is not a failure
	$(PYTHON) -m pytest -q -p no:cacheprovider -m slow || [ $$? -eq 5 ]

# the newest releases pyproject.toml admits, resolved afresh in .venv-latest without the lock
test-latest:
	scripts/latest.sh

# re-resolve requirements.lock from pyproject.toml's ranges (then `make test`, and commit both)
lock:
	scripts/lock.sh

bench: bootstrap
	$(PYTHON) benchmarks/run.py
	$(PYTHON) benchmarks/torch_export.py

docs: bootstrap
	$(PYTHON) -m interlayer.docs
