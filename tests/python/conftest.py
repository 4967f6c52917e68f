"""Shared fixtures: simulation ranks as real processes, one rendezvous directory per test."""

import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deisa.testing import start_ranks

PYTHON = sys.executable
# The programs the tests run, one file each (their docstrings say which tests use them).
PROGRAMS = Path(__file__).resolve().parent / "programs"
# What Open MPI needs to run here (as root in a container, more ranks than cores).
MPI_ENV = dict(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


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


def _environment(env):
    """This process's environment with ``env`` on top; PYTHONPATH made absolute (the programs
    run in another directory)."""
    e = dict(os.environ, **(env or {}))
    if e.get("PYTHONPATH"):
        e["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in e["PYTHONPATH"].split(os.pathsep))
    return e


def launch_ranks(run_dir, program, ranks=2, args=(), mpirun=False, env=None, start=None):
    """Starts the ranks of ``programs/<program>`` in ``run_dir``; returns their Ranks.

    Each rank runs ``python program RANK SIZE *args`` (deisa.testing.start_ranks), or, with
    ``mpirun``, ``mpirun -np ranks python program *args``. ``start``: the ranks to start
    (default: all of ``range(ranks)``); the others never come.
    """
    output = dict(cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if mpirun:
        cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), PYTHON, str(PROGRAMS / program), *map(str, args)]
        return Ranks([subprocess.Popen(cmd, env=dict(_environment(env), **MPI_ENV), **output)])
    return Ranks(start_ranks(PROGRAMS / program, ranks, args, ranks=start, env=_environment(env), python=PYTHON,
                             **output))


@pytest.fixture
def simulation(run_dir):
    """Starts a simulation: ``simulation(program, ranks)`` runs ``programs/<program>`` on each rank."""
    started = []

    def launch(program, ranks=2, args=(), mpirun=False, env=None, start=None):
        """``start``: the ranks to start (default: all of ``range(ranks)``); the others never come."""
        sim = launch_ranks(run_dir, program, ranks, args, mpirun, env, start)
        started.extend(sim.procs)
        return sim

    yield launch
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


class AnalyticsProcess:
    """An analytics run in its own process (to kill it, or to survive its crash)."""

    def __init__(self, proc):
        import queue
        import threading

        self.proc = proc
        self.lines = []
        self._queue = queue.Queue()
        self._err = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=lambda: self._err.extend(proc.stderr), daemon=True)
        self._err_reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def read_report(self, timeout=30):
        """The next REPORT of the analytics (waits up to ``timeout`` s)."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no report from the analytics within {timeout} s") from None
            if line is None:
                code = self.proc.wait()
                self._err_reader.join(timeout=10)
                raise AssertionError(f"the analytics ended ({code}): {''.join(self._err)}")
            if line.startswith("REPORT "):
                return json.loads(line[7:])

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def wait(self, timeout=60):
        """Waits for the end; returns every REPORT of the run."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._err_reader.join(timeout=10)
            raise AssertionError(f"the analytics did not finish:\n{''.join(self.lines)}\n{''.join(self._err)}")
        self._reader.join(timeout=10)
        self._err_reader.join(timeout=10)
        self.returncode = self.proc.returncode
        self.stderr = "".join(self._err)
        return [json.loads(line[7:]) for line in self.lines if line.startswith("REPORT ")]


@pytest.fixture
def analytics_process(run_dir):
    """Starts ``programs/<program>`` as an analytics process in run_dir."""
    started = []

    def launch(program, args=(), env=None):
        proc = subprocess.Popen([PYTHON, str(PROGRAMS / program), *map(str, args)], cwd=run_dir,
                                env=_environment(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return AnalyticsProcess(proc)

    yield launch
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def segments_of(session):
    return glob.glob(f"/dev/shm/deisa-{session}-*")


def blocks_of(arr):
    """The blocks of ``arr`` as its graph's tasks read them: the numpy views over shared memory."""
    import dask

    graph = dict(arr.__dask_graph__())
    return list(dask.get(graph, [k for k in graph if k[0] == arr.name]))


def _mapped_by_other_processes():
    """Shared-memory files mapped by live processes other than this one (e.g. another test
    run on the same machine): not ours to judge."""
    mapped = set()
    me = str(os.getpid())
    for maps in glob.glob("/proc/[0-9]*/maps"):
        if maps.split("/")[2] == me:
            continue
        try:
            with open(maps) as f:
                for line in f:
                    i = line.find("/dev/shm/deisa-")
                    if i >= 0:
                        mapped.add(line[i:].split()[0])
        except OSError:
            pass
    return mapped


def _is_session_segment(path):
    # deisa-<12 hex digits of the session>-<n>; other names belong to other tools' tests
    parts = os.path.basename(path).split("-")
    return len(parts) == 3 and len(parts[1]) == 12 and all(c in "0123456789abcdef" for c in parts[1])


@pytest.fixture
def no_leftover_shm(tmp_path, monkeypatch):
    """Checks, after the test, that no run of this test left shared memory behind.

    A run is this test's if its analytics ran in this process, or if its rendezvous record is
    under this test's directory; other processes on the machine (another test run, a demo)
    may create and remove segments meanwhile and are not judged here.
    """
    sessions = []
    try:
        from deisa import _run
    except ImportError:  # pragma: no cover
        _run = None
    original = getattr(getattr(_run, "Run", None), "close", None)
    if original is not None:
        def close(self):
            if self.session:
                sessions.append(self.session)
            return original(self)

        monkeypatch.setattr(_run.Run, "close", close)
    before = set(glob.glob("/dev/shm/deisa-*"))
    yield
    for record in glob.glob(str(tmp_path / "**" / "analytics.json"), recursive=True):
        try:
            with open(record) as f:
                sessions.append(json.load(f)["session"])
        except (OSError, ValueError, KeyError):
            pass
    if original is not None:
        leftover = {p for session in sessions for p in segments_of(session)}
    else:  # cannot tell which runs are ours: every new segment no other process maps
        leftover = {p for p in set(glob.glob("/dev/shm/deisa-*")) - before if _is_session_segment(p)}
        if leftover:
            leftover -= _mapped_by_other_processes()
    assert not leftover, f"shared memory left behind: {sorted(leftover)}"
