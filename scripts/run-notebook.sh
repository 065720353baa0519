#!/usr/bin/env bash
# Re-executes notebooks in place, so that their committed outputs come from the
# current code (spec/notebooks.spec.ts checks that every code cell was executed).
#
#   scripts/run-notebook.sh                                   # every notebooks/*.ipynb
#   scripts/run-notebook.sh notebooks/01-forward-pass.ipynb   # one notebook
#
# Needs jupyter nbconvert and the tslab kernel:
#   apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel
#   npx tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  set -- notebooks/*.ipynb
fi
for nb in "$@"; do
  case "$nb" in *.nbconvert.ipynb) continue ;; esac
  echo "== $nb"
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 "$nb"
done
