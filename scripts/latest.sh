#!/usr/bin/env bash
# Test against the newest releases on purpose: resolve pyproject.toml's ranges afresh in .venv-latest (no lock;
# torch held at 2.13.0 by constraints.txt, the CPU build), print what differs from requirements.lock, and run the
# test suite there. A new release of transformers, Keras or onnxruntime that breaks something is found here
# first; `scripts/lock.sh` then moves the lock once it passes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-latest
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -c constraints.txt "torch==2.13.0"
"${pip[@]}" install --upgrade --upgrade-strategy eager -c constraints.txt -e ".[all,dev]"
"$venv/bin/python" scripts/check_lock.py || true   # the newer releases, named
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" "$@"
