#!/usr/bin/env bash
# Create .venv and install interlayer with every extra, idempotently.
# torch 2.13.0 (the CPU build) is installed first and pinned by constraints.txt, so no later requirement can
# pull a CUDA build; the run fails if any CUDA package ends up installed anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.installed"
python=${PYTHON:-python3}

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt constraints.txt ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -c constraints.txt "torch==2.13.0"
"${pip[@]}" install -c constraints.txt -e ".[all,dev]"
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(nvidia-|triton )'; then
  echo "bootstrap: a CUDA package was installed; this project must stay CPU-only" >&2
  exit 1
fi
touch "$stamp"
