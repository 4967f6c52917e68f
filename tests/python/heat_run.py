"""Runs the heat example as a user does: its Python analytics and a 4-rank simulation under mpirun."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import MPI_ENV

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_heat(run_dir, sim_cmd, sim_args, analytics_args=()):
    """examples/heat_analytics.py and ``mpirun -np 4 sim_cmd sim_args``, both checked to succeed;
    returns the analytics' output directory, its log and the simulation's output."""
    env = dict(os.environ, **MPI_ENV, DEISA_RENDEZVOUS=str(run_dir / ".deisa"))
    out = run_dir / "out"
    analytics = subprocess.Popen([sys.executable, str(EXAMPLES / "heat_analytics.py"), "--output", str(out),
                                  "--timeout", "60", *map(str, analytics_args)],
                                 cwd=run_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        sim = subprocess.run(["mpirun", "--oversubscribe", "-np", "4", *map(str, sim_cmd), *map(str, sim_args),
                              "--timeout", "60"],
                             cwd=run_dir, env=env, capture_output=True, text=True, timeout=180)
        log, _ = analytics.communicate(timeout=60)
    finally:
        if analytics.poll() is None:
            analytics.kill()
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert analytics.returncode == 0, log
    return out, log, sim.stdout
