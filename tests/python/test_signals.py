"""Signals (issue 16, point 1): Ctrl-C (SIGINT) and SIGTERM act within a second on a rank or
an analytics whatever it waits on (a native wait, a stuck callback, Python or native), the
other side is told, and the analytics removes what it owns before it exits; a second Ctrl-C
exits at once.

The processes are started with SIGINT at its default, as at a terminal, whatever the test
runner's own disposition (a runner started in the background ignores SIGINT, and so would
its children)."""

import glob
import json
import signal
import subprocess
import time

import pytest
from conftest import PROGRAMS, PYTHON, AnalyticsProcess, Ranks, _environment

from deisa.testing import start_ranks

WITHIN = 5.0  # seconds from the signal to the end of the process (it takes about 0.1 to 1 s; before, minutes)


_started = []


@pytest.fixture(autouse=True)
def _kill_what_is_left():
    yield
    while _started:
        p = _started.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


def at_a_terminal():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_analytics(run_dir, mode):
    proc = subprocess.Popen([PYTHON, str(PROGRAMS / "analytics_stuck_in_a_callback.py"), mode], cwd=run_dir,
                            env=_environment(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=at_a_terminal)
    _started.append(proc)
    return AnalyticsProcess(proc)


def start_simulation(run_dir, ranks=2, policy="warn"):
    procs = start_ranks(PROGRAMS / "sending_until_stopped.py", ranks, [policy], env=_environment(None), python=PYTHON,
                        cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=at_a_terminal)
    _started.extend(procs)
    return Ranks(procs)


def read_until(proc, key, timeout=60):
    """Reads a rank's REPORT lines until one has ``key``; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the rank ended before reporting {key!r}: {proc.wait()} {proc.stderr.read()}")
        if line.startswith("REPORT ") and key in (r := json.loads(line[7:])):
            return r
    raise AssertionError(f"no {key!r} from the rank within {timeout} s")


def signal_and_wait(proc, signum):
    """Sends ``signum``; the seconds until the process ended (fails past WITHIN)."""
    start = time.monotonic()
    proc.send_signal(signum)
    try:
        proc.wait(timeout=WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{signal.Signals(signum).name} did not end the process within {WITHIN} s") from None
    return time.monotonic() - start


def left_behind(run_dir, session=None):
    """What runs left in the test's rendezvous directory and, for ``session``, in /dev/shm."""
    files = sorted(p.name for p in (run_dir / ".deisa").iterdir()) if (run_dir / ".deisa").exists() else []
    return files + (glob.glob(f"/dev/shm/deisa-{session}-*") if session else [])


def test_ctrl_c_reaches_a_rank_waiting_for_the_analytics(run_dir):
    sim = start_simulation(run_dir, ranks=1)
    rank = sim.procs[0]
    read_until(rank, "opening")
    time.sleep(1.0)  # in the native wait for an analytics that never comes (timeout 60 s)
    took = signal_and_wait(rank, signal.SIGINT)
    out = rank.stdout.read()
    assert '"raised": "KeyboardInterrupt"' in out, out
    assert took < WITHIN


def test_ctrl_c_ends_an_analytics_waiting_for_the_ranks_and_it_removes_its_files(run_dir):
    a = start_analytics(run_dir, "waiting")
    assert a.read_report() == {"waiting": True}
    time.sleep(1.0)  # in the native wait for ranks that never come (timeout 60 s)
    assert "analytics.json" in left_behind(run_dir)
    signal_and_wait(a.proc, signal.SIGINT)
    reports = a.wait()
    assert reports[-1]["raised"] == "KeyboardInterrupt"
    assert a.returncode == -signal.SIGINT  # Python ends an uncaught KeyboardInterrupt as SIGINT would
    assert left_behind(run_dir) == []


def test_sigterm_ends_an_analytics_waiting_for_the_ranks_and_it_removes_its_files(run_dir):
    a = start_analytics(run_dir, "waiting")
    assert a.read_report() == {"waiting": True}
    time.sleep(1.0)
    signal_and_wait(a.proc, signal.SIGTERM)
    reports = a.wait()
    assert reports[-1]["raised"] == "Terminated"
    assert a.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in a.stderr  # SystemExit: a batch system's stop is no crash
    assert left_behind(run_dir) == []


def stuck_run(run_dir, mode, policy="warn"):
    """An analytics stuck in its first callback, its shared memory in use, and its 2 ranks."""
    a = start_analytics(run_dir, mode)
    sim = start_simulation(run_dir, 2, policy)
    session = a.read_report()["session"]
    assert glob.glob(f"/dev/shm/deisa-{session}-*"), "the run's blocks are in shared memory"
    time.sleep(0.5)  # from the report to the stuck call itself
    return a, sim, session


def test_sigterm_ends_a_callback_stuck_in_python_the_run_cleans_up_and_the_ranks_go_on(run_dir):
    a, sim, session = stuck_run(run_dir, "python")
    signal_and_wait(a.proc, signal.SIGTERM)
    reports = a.wait()
    assert reports[-1]["raised"] == "Terminated"
    assert a.returncode == 143
    assert left_behind(run_dir, session) == []
    # The ranks were told: they end on their own (policy warn: the simulation goes on alone).
    for r in sim.wait(timeout=90):
        assert r[-1] == {"done": True}
    assert any("the analytics has" in sim.stderr(i) for i in range(2))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_callback_stuck_in_native_code_does_not_keep_the_run_alive(run_dir, signum):
    """No Python bytecode runs in the main thread, so no handler: the watchdog removes what
    the run owns and ends the process a second after the signal."""
    a, sim, session = stuck_run(run_dir, "native", policy="raise")
    signal_and_wait(a.proc, signum)
    a.wait()
    assert a.returncode == 128 + signum
    assert "stuck" in a.stderr and "removing the run's files and shared memory" in a.stderr, a.stderr
    assert left_behind(run_dir, session) == []
    for r in sim.wait(timeout=90, check=False):  # policy raise: the ranks see the analytics gone
        assert r[-1] == {"raised": "AnalyticsLostError"}


def test_a_second_ctrl_c_exits_at_once_when_the_first_is_caught(run_dir):
    a, sim, session = stuck_run(run_dir, "swallowing")
    a.proc.send_signal(signal.SIGINT)
    assert a.read_report() == {"swallowed": True}
    signal_and_wait(a.proc, signal.SIGINT)
    a.wait()
    assert a.returncode == 128 + signal.SIGINT
    assert "a second Ctrl-C" in a.stderr, a.stderr
    assert left_behind(run_dir, session) == []
    sim.wait(timeout=90, check=False)


def test_ctrl_c_reaches_a_rank_held_by_back_pressure_and_the_analytics_is_told(run_dir):
    a = start_analytics(run_dir, "slow")  # 5 s a timestep: the ranks soon wait in send
    sim = start_simulation(run_dir, 2, "raise")
    rank0 = sim.procs[0]
    read_until(rank0, "sent")  # t = 0 sent; t = 1 goes too (one timestep ahead), t = 2 waits
    time.sleep(1.0)
    signal_and_wait(rank0, signal.SIGINT)
    assert '"raised": "KeyboardInterrupt"' in rank0.stdout.read()
    reports = a.wait(timeout=60)
    assert reports[-1]["raised"] == "RuntimeError" and "rank 0" in reports[-1]["error"], reports[-1]
    assert left_behind(run_dir) == []
    sim.procs[1].wait(timeout=60)
