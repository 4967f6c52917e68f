#!/usr/bin/env bash
# Runs every benchmark and prints one table (also written to bench/results.md).
#   bench/run.sh            full run (about 10 minutes on 2 cores)
#   bench/run.sh --quick    smoke run (under a minute; table in bench/results-quick.md)
#   bench/run.sh --setup    run scripts/setup.sh first (Debian packages, .venv, libdeisa.so)
# Uses the package of this checkout (python/deisa) with .venv's Python. Benchmarks report
# numbers; they never fail on a missed target (the exit status says only whether it ran).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

args=()
setup=0
for a in "$@"; do
  if [ "$a" = "--setup" ]; then setup=1; else args+=("$a"); fi
done
if [ "$setup" = 1 ] || [ ! -x .venv/bin/python ]; then
  scripts/setup.sh
fi
if [ ! -f python/deisa/lib/libdeisa.so ] && [ -z "${DEISA_LIBRARY:-}" ]; then
  echo "bench: building libdeisa.so into the checkout (scripts/build-native.sh)"
  scripts/build-native.sh
fi

export PYTHONPATH="$root/python:$root/bench${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
exec "$root/.venv/bin/python" "$root/bench/run.py" "${args[@]+"${args[@]}"}"
