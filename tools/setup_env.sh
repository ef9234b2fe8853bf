#!/usr/bin/env bash
# Creates or updates the project virtual environment (.venv) from the pinned lock file and installs
# the workspace packages in editable mode. Idempotent: a stamp of the inputs makes a repeat run a
# no-op, so `make test` and `make demo` can call it every time.
#
# torch is pinned by exact version. On a machine without an NVIDIA driver the CPU build is required
# (`torch==2.13.0+cpu`), so the resolver can never pull a multi-GB CUDA build; where `nvidia-smi`
# works, the CUDA build from PyPI is installed instead.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${BENCH_VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
PACKAGES=(core audio encoders store extract probes cli)

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
  TORCH_SPEC="torch==2.13.0"
else
  TORCH_SPEC="torch==2.13.0+cpu"
fi

stamp_inputs() {
  echo "$TORCH_SPEC"
  cat requirements/lock.txt tools/setup_env.sh tools/fix_torchaudio.py
  for p in "${PACKAGES[@]}"; do cat "packages/$p/pyproject.toml"; done
}
STAMP="$VENV/.bench-setup-stamp"
WANT=$(stamp_inputs | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/bench" ]]; then
  echo "setup: $VENV is up to date"
  exit 0
fi

start=$(date +%s)
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q "$TORCH_SPEC" "torchaudio==2.11.0" --no-deps
"${PIP[@]}" install -q -r requirements/lock.txt "$TORCH_SPEC"
editable=()
for p in "${PACKAGES[@]}"; do editable+=(-e "packages/$p"); done
"${PIP[@]}" install -q --no-deps --no-build-isolation "${editable[@]}"
"$VENV/bin/python" tools/fix_torchaudio.py
echo "$WANT" > "$STAMP"
echo "setup: $VENV ready in $(( $(date +%s) - start )) s"
