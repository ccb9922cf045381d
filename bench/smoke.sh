#!/bin/bash
# The whole pipeline at budget smoke in a fresh clone of this repository: `dvc repro`
# timed, then `dvc status` (docs/development.md). ../shared must sit beside DIR.
# usage: bench/smoke.sh DIR [reuse]   (reuse: keep the clone and venv, wipe results/data/locks/cache)
# OMP_NUM_THREADS=1 before it fixes the thread count (same last bits whatever else runs).
set -euo pipefail
D=$1
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
if [[ ${2:-} != reuse ]]; then
  rm -rf "$D"; git clone -q "$repo" "$D"; cd "$D"
  uv sync --locked -q
  sed -i 's/^budget: cpu/budget: smoke/' params.yaml
  # every other project's source already is its shared copy; Imagenette's default downloads
  sed -i 's#^source: download#source: ../shared/data/imagenette2-224#' projects/imagenette/params.yaml
  uv run --no-sync python -m ssl_core.stages   # imagenette's data stage now depends on the folder
else
  cd "$D"
  rm -rf results projects/*/dvc.lock dvc.lock projects/*/data projects/*/splits .dvc/cache
fi
start=$(date +%s)
uv run --no-sync dvc repro 2>&1 | python3 -u -c "import sys,time
for l in sys.stdin: sys.stdout.write(f\"{time.time():.2f} {l}\")" > repro.log
end=$(date +%s)
echo "repro seconds: $((end-start))"
uv run --no-sync dvc status
grep -c "Running stage" repro.log
