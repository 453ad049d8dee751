#!/usr/bin/env bash
# Regenerate requirements.lock: resolve the newest releases that pyproject.toml's ranges admit, in a new virtual
# environment, exactly as a fresh machine would without the lock, and write every installed package pinned.
#
#   scripts/lock.sh            # writes requirements.lock; then `make test` (which installs from it) and commit both
#
# torch 2.13.0 (the CPU build on this machine's disk) is installed first and held by constraints.txt, so the
# resolution never pulls a CUDA build. `scripts/latest.sh` does the same resolution and runs the tests on it
# without writing the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=$(mktemp -d "${TMPDIR:-/tmp}/interlayer-lock.XXXXXX")
trap 'rm -rf "$venv"' EXIT

"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -c constraints.txt "torch==2.13.0"
"${pip[@]}" install -c constraints.txt ".[all,dev]"
"$venv/bin/python" scripts/check_lock.py --freeze > requirements.lock.new
mv requirements.lock.new requirements.lock
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) packages)"
