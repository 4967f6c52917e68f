"""Shared fixtures: simulation ranks as real processes, one rendezvous directory per test."""

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

PYTHON = sys.executable

# Every simulation script starts with this: a communicator-like object for ranks started
# as plain processes (tests under mpirun use mpi4py's COMM_WORLD instead).
PRELUDE = '''
import json, os, sys, time
import numpy as np
from deisa import Bridge, ContractError

class Comm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size
    def Get_rank(self):
        return self.rank
    def Get_size(self):
        return self.size

rank, size = int(sys.argv[1]), int(sys.argv[2])
comm = Comm(rank, size)

def report(**values):
    print("REPORT " + json.dumps(values), flush=True)

'''


class Ranks:
    """Processes of one simulation; ``wait()`` returns each rank's REPORT lines."""

    def __init__(self, procs):
        self.procs = procs

    def wait(self, timeout=120, check=True):
        outputs = []
        for p in self.procs:
            try:
                out, err = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise AssertionError(f"simulation rank did not finish:\n{out}\n{err}")
            if check and p.returncode != 0:
                raise AssertionError(f"simulation rank failed ({p.returncode}):\n{out}\n{err}")
            outputs.append((p.returncode, out, err))
        self.outputs = outputs
        return [[json.loads(line[7:]) for line in out.splitlines() if line.startswith("REPORT ")] for _, out, _ in outputs]

    def stderr(self, rank):
        return self.outputs[rank][2]


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A working directory whose rendezvous (.deisa/) is this test's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEISA_RENDEZVOUS", str(tmp_path / ".deisa"))
    return tmp_path


@pytest.fixture
def simulation(run_dir):
    """Starts a simulation: ``simulation(body, ranks)`` runs ``body`` on each rank."""
    started = []

    def launch(body, ranks=2, mpirun=False, env=None):
        script = run_dir / f"sim{len(started)}.py"
        script.write_text(PRELUDE + textwrap.dedent(body))
        e = dict(os.environ, **(env or {}))
        if e.get("PYTHONPATH"):
            e["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in e["PYTHONPATH"].split(os.pathsep))
        if mpirun:
            e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
            cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), PYTHON, str(script), "-1", str(ranks)]
            procs = [subprocess.Popen(cmd, cwd=run_dir, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
        else:
            procs = [subprocess.Popen([PYTHON, str(script), str(r), str(ranks)], cwd=run_dir, env=e,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for r in range(ranks)]
        started.extend(procs)
        return Ranks(procs)

    yield launch
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def segments_of(session):
    return glob.glob(f"/dev/shm/deisa-{session}-*")


@pytest.fixture
def no_leftover_shm():
    """Checks, after the test, that no run left shared memory behind."""
    before = set(glob.glob("/dev/shm/deisa-*"))
    yield
    leftover = set(glob.glob("/dev/shm/deisa-*")) - before
    assert not leftover, f"shared memory left behind: {sorted(leftover)}"
