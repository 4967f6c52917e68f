"""The demo's programs, run as a user runs them: analytics + 4 ranks under mpirun."""

import shutil
import sys

import h5py
import pytest

from heat_run import EXAMPLES, run_heat


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")
def test_heat_demo_is_steered_by_the_analytics(run_dir, no_leftover_shm):
    out, log, sim_out = run_heat(run_dir, [sys.executable, EXAMPLES / "heat2d_simulation.py"], ["--steps", 80, "--size", 96],
                                 ["--snapshot-every", 20])
    # The analytics asked for cooling and the simulation applied it.
    assert "asking the simulation to cool" in log
    assert "cooling, heater power x0.25" in sim_out
    assert (out / "heat.png").stat().st_size > 10_000
    with h5py.File(out / "heat.h5") as f:
        snapshots = sorted(f["temperature"])
        assert snapshots[:2] == ["t00000", "t00020"]
        assert f["temperature/t00020"].shape == (96, 96)
        assert len(f["series/mean"]) == 80
