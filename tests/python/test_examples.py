"""The demo's programs, run as a user runs them: analytics + 4 ranks under mpirun."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")
def test_heat_demo_is_steered_by_the_analytics(run_dir, no_leftover_shm):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    out = run_dir / "out"
    analytics = subprocess.Popen([sys.executable, str(EXAMPLES / "heat_analytics.py"), "--output", str(out),
                                  "--timeout", "60", "--snapshot-every", "20"],
                                 cwd=run_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        sim = subprocess.run(["mpirun", "--oversubscribe", "-np", "4", sys.executable, str(EXAMPLES / "heat2d_simulation.py"),
                              "--steps", "80", "--size", "96", "--timeout", "60"],
                             cwd=run_dir, env=env, capture_output=True, text=True, timeout=180)
        log, _ = analytics.communicate(timeout=60)
    finally:
        if analytics.poll() is None:
            analytics.kill()
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert analytics.returncode == 0, log
    # The analytics asked for cooling and the simulation applied it.
    assert "asking the simulation to cool" in log
    assert "cooling, heater power x0.25" in sim.stdout
    assert (out / "heat.png").stat().st_size > 10_000
    with h5py.File(out / "heat.h5") as f:
        snapshots = sorted(f["temperature"])
        assert snapshots[:2] == ["t00000", "t00020"]
        assert f["temperature/t00020"].shape == (96, 96)
        assert len(f["series/mean"]) == 80
