"""deisa.testing: the fake communicator (Comm) for ranks started as plain processes, and
start_ranks, which starts them (the Python programs of these tests run that way)."""

import json
import subprocess
import sys

import pytest

from conftest import PROGRAMS
from deisa.testing import Comm, start_ranks


def reports_of(procs, timeout=60):
    """Each process's REPORT lines, once it ended successfully."""
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        reports.append([json.loads(line[7:]) for line in out.splitlines() if line.startswith("REPORT ")])
    return reports


# -------------------------------------------------------------------- Comm

@pytest.mark.parametrize("rank, size", [(0, 1), (0, 4), (3, 4)])
def test_comm_answers_its_rank_and_size(rank, size):
    comm = Comm(rank, size)
    assert (comm.rank, comm.size) == (rank, size)
    assert (comm.Get_rank(), comm.Get_size()) == (rank, size)
    assert repr(comm) == f"Comm(rank={rank}, size={size})"


@pytest.mark.parametrize("rank, size", [(True, 2), (0, True), (False, 1), ("0", 2), (0, "2"), (0.0, 2), (0, 2.0),
                                        (None, 2)])
def test_comm_refuses_what_is_not_an_int(rank, size):
    with pytest.raises(TypeError, match="must be ints"):
        Comm(rank, size)


@pytest.mark.parametrize("rank, size", [(2, 2), (5, 2), (-1, 2), (0, 0), (0, -1)])
def test_comm_refuses_a_rank_outside_the_world(rank, size):
    with pytest.raises(ValueError, match=rf"rank {rank} is outside a world of {size} ranks"):
        Comm(rank, size)


def test_comm_from_argv_reads_rank_and_size():
    comm = Comm.from_argv(["sim.py", "2", "5", "--steps", "3"])
    assert (comm.rank, comm.size) == (2, 5)


def test_comm_from_argv_reads_sys_argv_by_default(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sim.py", "1", "3"])
    comm = Comm.from_argv()
    assert (comm.rank, comm.size) == (1, 3)


@pytest.mark.parametrize("argv, error, words", [
    (["sim.py"], ValueError, ["sim.py", "RANK SIZE"]),
    (["sim.py", "0"], ValueError, ["sim.py", "RANK SIZE"]),
    ([], ValueError, ["the program", "RANK SIZE"]),
    (["sim.py", "zero", "2"], ValueError, ["zero"]),
    (["sim.py", "2", "2"], ValueError, ["rank 2 is outside a world of 2 ranks"]),
])
def test_comm_from_argv_errors(argv, error, words):
    with pytest.raises(error) as e:
        Comm.from_argv(argv)
    for word in words:
        assert word in str(e.value), str(e.value)


# -------------------------------------------------------------------- start_ranks

def test_start_ranks_starts_every_rank(tmp_path):
    procs = start_ranks(PROGRAMS / "report_comm.py", 3, ["--steps", 4], cwd=tmp_path, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    assert all(isinstance(p, subprocess.Popen) for p in procs)
    reports = [r for (r,) in reports_of(procs)]
    assert [(r["rank"], r["size"]) for r in reports] == [(0, 3), (1, 3), (2, 3)]
    assert [(r["get_rank"], r["get_size"]) for r in reports] == [(0, 3), (1, 3), (2, 3)]
    assert all(r["args"] == ["--steps", "4"] for r in reports)  # after RANK SIZE, as strings


def test_start_ranks_starts_the_ranks_asked_for(tmp_path):
    """``ranks`` leaves the others out (to test a rank that never comes)."""
    procs = start_ranks(PROGRAMS / "report_comm.py", 4, ranks=[1, 3], cwd=tmp_path, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    assert len(procs) == 2
    assert [(r["rank"], r["size"], r["args"]) for (r,) in reports_of(procs)] == [(1, 4, []), (3, 4, [])]


def test_start_ranks_passes_environment_and_directory(tmp_path, monkeypatch):
    """``env`` is added to this process's environment; ``cwd`` is where the ranks run."""
    monkeypatch.setenv("DEISA_TEST_VALUE", "from the test process")
    procs = start_ranks(str(PROGRAMS / "report_comm.py"), 2, cwd=tmp_path, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    assert [r["value"] for (r,) in reports_of(procs)] == ["from the test process"] * 2
    procs = start_ranks(PROGRAMS / "report_comm.py", 1, env={"DEISA_TEST_VALUE": "given"}, cwd=tmp_path,
                        python=sys.executable, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ((r,),) = reports_of(procs)
    assert r["value"] == "given" and r["cwd"] == str(tmp_path)
