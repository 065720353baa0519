#!/usr/bin/env bash
# Executes notebooks against the current code. By default the executed copies go to
# out/notebooks/ (ignored by git): the tracked notebooks are never rewritten.
#
#   scripts/run-notebook.sh                                   # every notebooks/*.ipynb → out/notebooks/
#   scripts/run-notebook.sh notebooks/01-forward-pass.ipynb   # one notebook → out/notebooks/
#   scripts/run-notebook.sh --update [notebook …]             # refresh the committed outputs:
#                                                             # each executed copy replaces its notebook
#                                                             # (only after a complete, error-free run)
#
# spec/notebooks.spec.ts checks that every committed notebook carries the outputs of a
# complete execution, and executes each one again into a temporary folder.
#
# Needs jupyter nbconvert and the tslab kernel:
#   apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel
#   npx tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab"
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
if [ "$#" -eq 0 ]; then
  set -- notebooks/*.ipynb
fi
# The typed modules the notebooks import (`gpt1-src/...`), under notebooks/node_modules/.
node scripts/notebook-modules.mjs
out=out/notebooks
mkdir -p "$out"
for nb in "$@"; do
  case "$nb" in *.nbconvert.ipynb) continue ;; esac
  name=$(basename "$nb" .ipynb)
  echo "== $nb → $out/$name.ipynb"
  start=$(date +%s)
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --ExecutePreprocessor.record_timing=True --ExecutePreprocessor.startup_timeout=300 --output-dir "$out" --output "$name" "$nb"
  echo "   executed in $(( $(date +%s) - start )) s"
  if [ "$update" -eq 1 ]; then
    # Same folder, then rename: the notebook is replaced whole or not at all.
    cp "$out/$name.ipynb" "$nb.tmp"
    mv "$nb.tmp" "$nb"
    echo "   updated $nb"
  fi
done
