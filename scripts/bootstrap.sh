#!/usr/bin/env bash
# Create .venv and install exactly what requirements.lock pins, idempotently.
# torch 2.13.0 (the CPU build) is installed first, held by constraints.txt, so nothing can pull a CUDA build; then
# every locked package with --no-deps (the lock is complete: nothing is resolved), then interlayer itself in
# editable mode. Packages the lock does not name are removed, and scripts/check_lock.py proves that what is
# installed is what the lock pins. The run fails if any CUDA package ends up installed anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.installed"
python=${PYTHON:-python3}

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt requirements.lock ] \
    && [ "$stamp" -nt constraints.txt ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -c constraints.txt "torch==2.13.0"
"${pip[@]}" install --no-deps -c constraints.txt -r requirements.lock
"${pip[@]}" install --no-deps -e .
extra=$("$venv/bin/python" scripts/check_lock.py --extra)
if [ -n "$extra" ]; then
  echo "bootstrap: removing packages the lock does not name: $(echo $extra)"
  "${pip[@]}" uninstall -y $extra
fi
"$venv/bin/python" scripts/check_lock.py
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(nvidia-|triton )'; then
  echo "bootstrap: a CUDA package was installed; this project must stay CPU-only" >&2
  exit 1
fi
touch "$stamp"
