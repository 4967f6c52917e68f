"""Small helpers shared by the benchmark driver and the processes it starts.

Everything here is plain: paths, starting processes and reading their REPORT lines, medians,
the memcpy reference, resident memory from /proc, and a description of the machine.
"""

import ctypes
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = os.environ.get("DEISA_BENCH_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
PACKAGE = str(ROOT / "python")          # the package of this checkout (absolute, for subprocesses too)

KiB = 2 ** 10
MiB = 2 ** 20
GiB = 2 ** 30
now = time.perf_counter                 # CLOCK_MONOTONIC: comparable between processes of one machine


# -- statistics ---------------------------------------------------------------------------

def median(xs):
    xs = list(xs)
    return statistics.median(xs) if xs else float("nan")


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


# -- the physical limit of one copy -------------------------------------------------------

def touched(nbytes, value=1):
    """A private buffer of nbytes whose every page was written (no page fault left)."""
    import numpy as np

    a = np.empty(nbytes, dtype=np.uint8)
    a.fill(value)
    return a


def memcpy_time(dst, src, nbytes):
    """Seconds for one libc memmove of nbytes from src to dst (numpy arrays)."""
    t0 = now()
    ctypes.memmove(dst.ctypes.data, src.ctypes.data, nbytes)
    return now() - t0


# -- memory of a process ------------------------------------------------------------------

def status(pid="self"):
    """VmRSS, RssAnon, RssFile, RssShmem, VmHWM of a process in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def reset_peak(pid="self"):
    """Resets VmHWM (the peak resident size) of a process to its current size."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def shm_files(prefix="deisa-"):
    return sorted(os.path.basename(p) for p in glob.glob(f"/dev/shm/{prefix}*"))


# -- processes ----------------------------------------------------------------------------

def report(**values):
    """Called by a benchmark process: one result line for the driver."""
    print("REPORT " + json.dumps(values), flush=True)


def child_env(extra=None):
    e = dict(os.environ)
    paths = [PACKAGE, str(BENCH)] + [p for p in e.get("PYTHONPATH", "").split(os.pathsep) if p]
    e["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths)
    e.setdefault("OMP_NUM_THREADS", "1")
    e.update(extra or {})
    return e


class Proc:
    """A process started by the driver; its REPORT lines are collected as they come."""

    def __init__(self, cmd, cwd, env, name):
        self.name = name
        self.cmd = cmd
        self.reports = []
        self.err = []
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._ready = threading.Event()
        self._out = threading.Thread(target=self._read, daemon=True)
        self._out.start()
        self._errt = threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True)
        self._errt.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("REPORT "):
                r = json.loads(line[7:])
                if isinstance(r, dict) and r.get("session"):
                    Run.sessions.append(r["session"])  # for the /dev/shm check at the end
                self.reports.append(r)
                self._ready.set()

    def first_report(self, timeout=60):
        """Waits for the first REPORT line (e.g. an address) and returns it."""
        deadline = time.monotonic() + timeout
        while not self.reports:
            if self.proc.poll() is not None and not self.reports:
                self._out.join(timeout=5)
                if self.reports:
                    break
                raise RuntimeError(f"{self.name} ended ({self.proc.returncode}) before reporting:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not report within {timeout} s:\n{self.stderr()}")
            self._ready.wait(0.05)
        return self.reports[0]

    def wait(self, timeout=300):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"{self.name} did not finish within {timeout} s:\n{self.stderr()}")
        self._out.join(timeout=10)
        self._errt.join(timeout=10)
        if self.proc.returncode != 0:
            raise RuntimeError(f"{self.name} failed ({self.proc.returncode}):\n{self.stderr()}")
        return self.reports

    def stderr(self):
        return "".join(self.err)[-4000:]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Run:
    """One measured run: a fresh working and rendezvous directory, and the processes in it.

    ``with Run("fig1") as run: a = run.start("ana_deisa.py", cfg); ...``; every process still
    alive when the block ends is killed (only processes this run started).
    """

    sessions = []          # deisa sessions of every run of this benchmark (for the /dev/shm check)

    def __init__(self, tag, env=None):
        self.tag = tag
        self.dir = Path(tempfile.mkdtemp(prefix=f"deisa-bench-{tag}-"))
        self.env = child_env(dict({"DEISA_RENDEZVOUS": str(self.dir / ".deisa")}, **(env or {})))
        self.procs = []

    def start(self, script, *args, name=None, env=None):
        cmd = [PYTHON, str(BENCH / script)] + [a if isinstance(a, str) else json.dumps(a) for a in args]
        return self.start_cmd(cmd, name=name or f"{script} {' '.join(map(str, args))[:60]}", env=env)

    def start_cmd(self, cmd, name=None, env=None):
        e = dict(self.env, **(env or {}))
        p = Proc(cmd, cwd=str(self.dir), env=e, name=name or cmd[0])
        self.procs.append(p)
        return p

    def ranks(self, script, size, cfg, env=None):
        return [self.start(script, str(r), str(size), cfg, name=f"{script} rank {r}", env=env) for r in range(size)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for record in glob.glob(str(self.dir / "**" / "analytics.json"), recursive=True):
            try:
                with open(record) as f:
                    Run.sessions.append(json.load(f)["session"])
            except (OSError, ValueError, KeyError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def wait_all(procs, timeout=300):
    return [p.wait(timeout) for p in procs]


# -- the rank side ------------------------------------------------------------------------

class Comm:
    """What a Bridge needs of a communicator, for ranks started as plain processes."""

    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


def rank_args():
    """(rank, size, cfg) of a rank process: argv is rank, size, JSON config."""
    return int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])


# -- the machine --------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    shm = shutil.disk_usage("/dev/shm").total if os.path.isdir("/dev/shm") else 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "shm": shm, "kernel": platform.release(),
            "python": platform.python_version(), "load": load}
