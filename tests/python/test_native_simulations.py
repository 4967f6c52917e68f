"""C and Fortran simulations (docs/specification.md §2 index order, §6): programs built the way users build
them (pkg-config, CMake's find_package) and run under real mpirun against Python analytics."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import blocks_of
from deisa import Deisa
import heat_run
from heat_run import EXAMPLES, MPI_ENV
from native_build import compile_native, deisa_cli

ROOT = Path(__file__).resolve().parents[2]
NATIVE_TESTS = ROOT / "tests" / "native"

pytestmark = [pytest.mark.usefixtures("no_leftover_shm"),
              pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")]


def build(cmd, **kw):
    """Runs a compiler or CMake; a failure shows its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def pkg_config(*args):
    env = dict(os.environ, PKG_CONFIG_PATH=str(deisa_cli("--pkgconfig-dir")))
    return build(["pkg-config", *args], env=env).stdout.split()


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """The test programs, compiled with the flags pkg-config gives for deisa and deisa-fortran."""
    out = tmp_path_factory.mktemp("native")
    compile_native("mpicc", NATIVE_TESTS / "c_simulation.c", out / "c_simulation",
                   ["-std=c11", "-Wall", "-Wextra", "-Werror", *pkg_config("--cflags", "--libs", "deisa")])
    compile_native("mpif90", NATIVE_TESTS / "fortran_simulation.f90", out / "fortran_simulation",
                   ["-std=f2018", "-Wall", "-Werror", "-J", str(out), *pkg_config("--cflags", "--libs", "deisa-fortran")])
    return out


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """The C and Fortran heat examples, built by CMake with find_package(Deisa)."""
    out = tmp_path_factory.mktemp("examples")
    build(["cmake", "-S", str(EXAMPLES), "-B", str(out), f"-DDeisa_DIR={deisa_cli('--cmake-dir')}",
           "-DCMAKE_BUILD_TYPE=Release"])
    build(["cmake", "--build", str(out)])
    return out


def mpirun(run_dir, ranks, *cmd):
    return subprocess.Popen(["mpirun", "--oversubscribe", "-np", str(ranks), *map(str, cmd)], cwd=run_dir,
                            env=dict(os.environ, **MPI_ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(sim, timeout=120):
    try:
        out, err = sim.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        sim.kill()
        out, err = sim.communicate()
        raise AssertionError(f"the simulation did not finish:\n{out}\n{err}") from None
    assert sim.returncode == 0, f"the simulation failed ({sim.returncode}):\n{out}\n{err}"
    return out


def set_feedback(d):
    def feedback(**windows):
        (window,) = windows.values()
        t = window[-1].t
        d.set("step", 10 * t, t)
        d.set("scale", 0.5 * t, t)
        d.set("label", f"t{t}", t)
    return feedback


def run_program(tmp_path_factory, program, names):
    """``program`` on 2 ranks under mpirun, in a directory of its own, against ``analyse``."""
    run_dir = tmp_path_factory.mktemp(program.name)
    os.environ["DEISA_RENDEZVOUS"] = str(run_dir / ".deisa")
    try:
        return analyse(mpirun(run_dir, 2, program), names)
    finally:
        del os.environ["DEISA_RENDEZVOUS"]


def analyse(sim, names):
    """Runs the analytics until the simulation ends: per array, the computed value, dtype and
    block flags at each timestep; the simulation's output."""
    d = Deisa(timeout=60)
    seen = {name: {} for name in names}

    def keep(name):
        def callback(**windows):
            arr = windows[name][-1]
            seen[name][arr.t] = (arr.compute(), arr.dtype,
                                 [(b.flags.f_contiguous, b.flags.c_contiguous, b.flags.owndata, b.flags.writeable)
                                  for b in blocks_of(arr)])
        return callback

    def fail(exc):
        raise exc

    for name in names:
        d.register_callback(keep(name), name, exception_handler=fail)
    d.register_callback(set_feedback(d), names[0], exception_handler=fail)
    d.execute_callbacks()
    return seen, finish(sim)


def feedback_lines(out):
    """{(rank, t, key): (found, value)} from "FEEDBACK rank t key found value" lines."""
    got = {}
    for rank, t, key, found, value in re.findall(r"^FEEDBACK (\d+) (-?\d+) (\w+) (\S+) (.*)$", out, re.M):
        got[(int(rank), int(t), key)] = (found in ("1", "T"), value.strip())
    return got


# -------------------------------------------------------------------- Fortran

def expected_fortran(t, n):
    i = np.arange(1, 4)[:, None]
    j = np.arange(1, 5 * n + 1)[None, :]
    field = 1000 * t + 100 * i + j
    i, j, k = np.meshgrid(np.arange(1, 3), np.arange(1, 4), np.arange(1, 4 * n + 1), indexing="ij")
    cube = 10000 * t + i + 10 * j + 100 * k
    vec = np.arange(1, 4 * n + 1) + 0.5
    i, j = np.arange(1, 3)[:, None], np.arange(1, 3 * n + 1)[None, :]
    counts = 7 * t + 100 * i + j
    return {"field": (field, np.float64), "cube": (cube, np.int32), "vec": (vec, np.float32), "counts": (counts, np.int64)}


@pytest.fixture(scope="module")
def fortran_run(programs, tmp_path_factory):
    return run_program(tmp_path_factory, programs / "fortran_simulation", ["field", "cube", "vec", "counts"])


@pytest.mark.parametrize("name", ["field", "cube", "vec", "counts"])
def test_fortran_blocks_keep_their_index_order(fortran_run, name):
    # A Fortran a(i, j) is arr[i-1, j-1], for non-square blocks of every rank and kind, sent
    # from a non-contiguous section (field), with an int64 timestep (cube), or written in
    # place through a deisa_block_data pointer (counts).
    seen, _ = fortran_run
    assert sorted(seen[name]) == [0, 1, 2]
    for t, (value, dtype, _) in seen[name].items():
        expected, expected_dtype = expected_fortran(t, 2)[name]
        assert dtype == expected_dtype
        assert value.shape == expected.shape
        np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("name", ["field", "cube", "counts"])
def test_fortran_blocks_are_fortran_ordered_views_not_copies(fortran_run, name):
    seen, _ = fortran_run
    for t, (_, _, flags) in seen[name].items():
        assert len(flags) == 2, f"{name} at {t}: expected one view per rank, got {flags}"
        for f_contiguous, c_contiguous, owndata, writeable in flags:
            assert f_contiguous and not c_contiguous, f"{name} at {t}: blocks are not Fortran-ordered views"
            assert not owndata and not writeable, f"{name} at {t}: blocks were copied"


def test_fortran_reads_feedback_of_every_kind(fortran_run):
    _, out = fortran_run
    got = feedback_lines(out)
    for rank in (0, 1):
        assert got[(rank, -1, "step32")] == (False, "-1")          # nothing set: value unchanged
        for t in (0, 1):
            assert got[(rank, t, "step32")] == (True, str(10 * t))
            assert got[(rank, t, "step64")] == (True, str(10 * t))
            assert float(got[(rank, t, "scale64")][1]) == 0.5 * t and got[(rank, t, "scale64")][0]
            assert float(got[(rank, t, "scale32")][1]) == 0.5 * t and got[(rank, t, "scale32")][0]
            assert got[(rank, t, "label")] == (True, f"t{t}")
        assert got[(rank, 99, "step32")] == (False, "42")
    assert sorted(re.findall(r"^LOST (.*)$", out, re.M)) == ["0 F", "1 F"]
    assert out.count("DONE") == 2


FORTRAN_ERRORS = {
    # name: (status, words the message must contain)
    "connect_unopened": (9, ["bridge", "NULL"]),
    "declare_mismatched_sizes": (1, ["'mismatch'", "global_shape", "2, 3, 2"]),
    "block_data_wrong_kind": (2, ["'counts'", "real(real32)"]),
    "block_data_wrong_rank": (1, ["'counts'", "rank 2", "rank 1"]),
    "send_undeclared": (3, ["nothing", "field", "cube"]),
    "send_wrong_shape": (1, ["field", "(3, 4)", "(3, 5)"]),
    "send_wrong_type": (2, ["field", "int32", "float64"]),
    "send_scalar": (1, ["field", "scalar"]),
    "get_label_too_short": (1, ["label", "2 characters", "holds 1"]),
    "block_data_not_acquired": (9, ["not acquired"]),
}


@pytest.mark.parametrize("name", sorted(FORTRAN_ERRORS))
def test_fortran_bad_calls_return_ierr_and_message(fortran_run, name):
    _, out = fortran_run
    errors = {m[0]: (int(m[1]), m[2]) for m in re.findall(r"^ERROR (\w+) (\d+) (.*)$", out, re.M)}
    status, words = FORTRAN_ERRORS[name]
    assert name in errors, f"no ERROR line for {name}:\n{out}"
    assert errors[name][0] == status, errors[name]
    for w in words:
        assert w in errors[name][1], f"{name}: '{w}' not in {errors[name][1]!r}"


# -------------------------------------------------------------------- C

@pytest.fixture(scope="module")
def c_run(programs, tmp_path_factory):
    return run_program(tmp_path_factory, programs / "c_simulation", ["grid", "fgrid"])


def test_c_blocks_in_c_and_fortran_order(c_run):
    seen, out = c_run
    for t in range(3):
        grid, dtype, flags = seen["grid"][t]
        i, j = np.arange(4)[:, None], np.arange(6)[None, :]
        assert dtype == np.int32
        np.testing.assert_array_equal(grid, 100 * t + 10 * i + j)
        assert all(c and not f and not own for f, c, own, _ in flags)
        fgrid, dtype, flags = seen["fgrid"][t]
        i, j = np.arange(3)[:, None], np.arange(8)[None, :]
        assert dtype == np.float64
        np.testing.assert_array_equal(fgrid, 1000 * t + 10 * i + j)
        assert all(f and not c and not own for f, c, own, _ in flags)
    # deisa_block_info: float64, Fortran order, 2 dimensions (3, 4), 96 bytes.
    assert sorted(set(re.findall(r"^BLOCK \d+ (.*)$", out, re.M))) == ["11 1 2 3 4 96"]


def test_c_reads_feedback(c_run):
    _, out = c_run
    got = feedback_lines(out)
    for rank in (0, 1):
        assert got[(rank, -1, "step")] == (False, "-1")
        assert got[(rank, -1, "label")] == (False, "- 0")
        for t in (0, 1):
            assert got[(rank, t, "step")] == (True, str(10 * t))
            assert got[(rank, t, "scale")][0] and float(got[(rank, t, "scale")][1]) == 0.5 * t
            assert got[(rank, t, "label")] == (True, f"t{t} 2")
    # A 2-byte buffer holds "t" and the NUL; the full length is reported.
    assert sorted(re.findall(r"^TINY (.*)$", out, re.M)) == ["0 1 t 2", "1 1 t 2"]
    # The retained history of "step" as int64 (kind 2): timesteps 0 and 1 (read after the send
    # of 2), and 2 if its callback already ran.
    for rank, history in re.findall(r"^HISTORY (\d+) (.*)$", out, re.M):
        assert history in ("0:2:0 1:2:10", "0:2:0 1:2:10 2:2:20"), (rank, history)
    assert out.count("HISTORY") == 2


# -------------------------------------------------------------------- heat examples

def heat_field(run_dir, sim_cmd, steps=40, shape=(48, 40), threshold="2"):
    """The heat example with this simulation; returns the final field, the analytics' log and
    the simulation's output."""
    out, log, sim_out = heat_run.run_heat(run_dir, sim_cmd, ["--steps", steps, "--size", *shape],
                                          ["--threshold", threshold, "--snapshot-every", 100])
    with h5py.File(out / "heat.h5") as f:
        return f["final/temperature"][...], log, sim_out


@pytest.fixture(scope="module")
def python_heat(tmp_path_factory):
    return heat_field(tmp_path_factory.mktemp("heat_py"), [sys.executable, EXAMPLES / "heat2d_simulation.py"])


@pytest.mark.parametrize("language", ["c", "fortran"])
def test_heat_example_matches_the_python_one_and_is_steered(examples, python_heat, tmp_path, language):
    field, log, sim_out = heat_field(tmp_path, [examples / f"heat2d_{language}"])
    reference, _, python_out = python_heat
    # Same model, same decomposition (2x2 blocks of a non-square 48x40 plate): the analytics
    # sees the same field, element for element, whatever language the simulation is in.
    assert field.shape == (48, 40)
    np.testing.assert_allclose(field, reference, rtol=1e-12, atol=1e-12)
    assert field.max() > 1
    # The analytics' feedback reached the simulation, at the same timestep as in Python.
    assert "asking the simulation to cool" in log
    cooling = re.findall(r"simulation: timestep (\d+): feedback for timestep \d+: cooling", sim_out)
    assert cooling and cooling == re.findall(r"simulation: timestep (\d+): feedback for timestep \d+: cooling", python_out)
