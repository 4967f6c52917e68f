#!/usr/bin/env bash
# The Deisa demo: a 4-rank MPI heat simulation in Fortran (examples/fortran/) steered by live
# Python analytics (examples/heat_analytics.py) that print statistics every timestep, send a
# cooling factor back, and write a PNG plot and an HDF5 file. The analytics serves the live
# dashboard and prints its URL ("deisa: dashboard at http://127.0.0.1:PORT/?token=..."): open
# it in a browser while the run goes on (--linger S keeps it up S seconds after the run).
# The same simulation exists in C (examples/c/) and in Python (examples/heat2d_simulation.py):
# --sim c | python.
#
# With --nodes N it runs on N simulated cluster nodes (root: network, UTS and mount namespaces,
# see python/deisa/simulated_nodes.py): mpirun spreads the ranks over the nodes, each node's
# Dask worker runs its node service, and the analytics runs on Dask distributed.
#
#   scripts/demo.sh [--steps N] [--sim fortran|c|python] [--nodes N] [--linger S]   (DEISA_DEMO_OUTPUT: output directory)
set -euo pipefail
cd "$(dirname "$0")/.."

steps=150
sim=fortran
nodes=0
linger=0
while (($#)); do
  case "$1" in
    --steps) steps=${2:?--steps needs a number}; shift 2 ;;
    --sim) sim=${2:?--sim needs fortran, c or python}; shift 2 ;;
    --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
    --linger) linger=${2:?--linger needs a number of seconds}; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--steps N] [--sim fortran|c|python] [--nodes N] [--linger S]" >&2; exit 2 ;;
  esac
done
case "$sim" in
  fortran|c|python) ;;
  *) echo "demo: --sim takes fortran, c or python (got '$sim')" >&2; exit 2 ;;
esac

scripts/setup.sh

output=$(realpath -m "${DEISA_DEMO_OUTPUT:-examples/output}")
mkdir -p "$output"
# The demo runs the package installed in .venv, not a checkout on PYTHONPATH.
unset PYTHONPATH
python=.venv/bin/python
if [ "$sim" = python ]; then
  simulation=("$python" examples/heat2d_simulation.py)
else
  # Built as a user builds it: CMake's find_package(Deisa) from the installed package.
  echo "demo: building the C and Fortran simulations (examples/CMakeLists.txt)"
  cmake -S examples -B build/examples -DCMAKE_BUILD_TYPE=Release \
    -DDeisa_DIR="$("$python" -m deisa --cmake-dir)" >/dev/null
  cmake --build build/examples >/dev/null
  simulation=("build/examples/heat2d_$sim")
fi
# A rendezvous directory of its own; remove what a crashed earlier demo may have left there.
export DEISA_RENDEZVOUS="$output/.deisa"
"$python" -m deisa cleanup >/dev/null
# Open MPI refuses to run as root unless told; the demo machine may be a root container.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Either side gives up after this long without the other, instead of the default 300 s.
timeout=60

if ((nodes > 0)); then
  echo "demo: the $sim simulation on 4 ranks over $nodes simulated nodes ($steps timesteps), analytics on Dask distributed"
  status=0
  "$python" -m deisa.simulated_nodes --nodes "$nodes" --np 4 \
    --analytics "$python examples/heat_analytics.py --output $output --timeout $timeout --dashboard --linger $linger" \
    -- "$(realpath "${simulation[0]}")" "${simulation[@]:1}" --steps "$steps" --timeout "$timeout" || status=$?
  if ((status)); then
    echo "demo: FAILED (exit $status)" >&2
    exit 1
  fi
  echo "demo: done"
  echo "demo: plot  $output/heat.png"
  echo "demo: HDF5  $output/heat.h5"
  exit 0
fi

echo "demo: starting the analytics, then the $sim simulation on 4 ranks ($steps timesteps)"
"$python" examples/heat_analytics.py --output "$output" --timeout "$timeout" --dashboard --linger "$linger" &
analytics=$!

sim_status=0
mpirun --oversubscribe -np 4 "${simulation[@]}" --steps "$steps" --timeout "$timeout" \
  || sim_status=$?
if ((sim_status)); then
  # The analytics would wait for ranks that never come: stop it, and remove what it left.
  kill "$analytics" 2>/dev/null || true
  wait "$analytics" 2>/dev/null || true
  "$python" -m deisa cleanup >/dev/null || true
fi
analytics_status=0
wait "$analytics" 2>/dev/null || analytics_status=$?

if ((sim_status || analytics_status)); then
  echo "demo: FAILED (simulation exit $sim_status, analytics exit $analytics_status)" >&2
  exit 1
fi
echo "demo: done"
echo "demo: plot  $output/heat.png"
echo "demo: HDF5  $output/heat.h5"
