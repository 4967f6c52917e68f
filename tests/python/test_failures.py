"""Robustness (docs/specification.md §8): a simulation rank that dies, an analytics that dies, and the shared
memory a crashed analytics leaves behind."""

import json
import os
import shutil
import signal
import threading
import time

import pytest

from conftest import segments_of
from deisa import Deisa

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


def execute_with_deadline(d, seconds=30):
    """Runs ``d.execute_callbacks()`` (in a thread, so that a hang fails the test instead of
    blocking the suite); returns the exception it raised, or None."""
    result = {}

    def run():
        try:
            d.execute_callbacks()
            result["error"] = None
        except BaseException as e:  # noqa: BLE001
            result["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(seconds)
    if th.is_alive():
        pytest.fail(f"execute_callbacks() hung for {seconds} s")
    return result["error"]


# Longer than execute_with_deadline waits: an analytics that ends in time noticed the death
# itself instead of waiting out its timeout.
LONGER_THAN_THE_DEADLINE = 600


def run_with_dying_rank(simulation, death, last_of_dying, steps, dying=0, ranks=2):
    """Rank ``dying`` dies (``death``) after sending 0 .. ``last_of_dying``; the others send 0 ..
    ``steps``-1. Returns the simulation, the callbacks' (t, values) and the analytics' error."""
    sim = simulation("rank_dying_mid_run.py", ranks=ranks, args=[steps, last_of_dying, death, dying])
    d = Deisa(timeout=LONGER_THAN_THE_DEADLINE)
    seen = []

    @d.register("x")
    def cb(x):
        seen.append((x[0].t, x[0].compute().tolist()))

    error = execute_with_deadline(d)
    assert error is not None, "execute_callbacks() returned normally although a rank died"
    sim.wait(timeout=30, check=False)
    return sim, seen, error


@pytest.mark.parametrize("death", ["exit", "kill", "exception"])
def test_rank_dying_mid_run(simulation, death):
    """Rank 0 dies after t=2 while rank 1 goes on to t=4: t=0..2 are processed, then the
    analytics raises an error naming rank 0 and timestep 3; it does not hang (its timeout is
    longer than the deadline)."""
    sim, seen, error = run_with_dying_rank(simulation, death, last_of_dying=2, steps=5)
    assert seen == [(t, [10 * t, 10 * t + 1]) for t in range(3)]
    msg = str(error)
    assert "rank 0" in msg and "timestep 3" in msg, msg
    assert "rank 1 " not in msg
    assert sim.outputs[1][0] == 0, f"the surviving rank failed:\n{sim.outputs[1][2]}"


@pytest.mark.parametrize("death", ["exit", "kill"])
def test_rank_dying_after_its_last_send(simulation, death):
    """Every timestep is complete, rank 0 dies instead of closing: all callbacks run, then the
    error names rank 0 and the last timestep it sent."""
    sim, seen, error = run_with_dying_rank(simulation, death, last_of_dying=3, steps=4)
    assert seen == [(t, [10 * t, 10 * t + 1]) for t in range(4)]
    msg = str(error)
    assert "rank 0" in msg and "3" in msg, msg


@pytest.mark.parametrize("attempt", range(3))
def test_rank_dying_before_sending_anything(simulation, attempt):
    """Rank 1 exits as soon as Bridge() returned (this once raced with the bridge's watch of
    the analytics: the death went unnoticed and the analytics waited forever)."""
    sim, seen, error = run_with_dying_rank(simulation, "exit", last_of_dying=-1, steps=3, dying=1)
    assert seen == []
    msg = str(error)
    assert "rank 1" in msg, msg


def test_rank_dying_in_a_bigger_world(simulation):
    """Rank 2 of 3 dies after t=1: the error names rank 2 only."""
    sim, seen, error = run_with_dying_rank(simulation, "kill", last_of_dying=1, steps=4, dying=2, ranks=3)
    assert seen == [(t, [10 * t, 10 * t + 1, 10 * t + 2]) for t in range(2)]
    msg = str(error)
    assert "rank 2" in msg and "timestep 2" in msg, msg
    assert "rank 0" not in msg and "rank 1" not in msg, msg


def test_rank_killed_from_outside_while_waiting(simulation):
    """A rank killed by the test (kill -9) while it waits in send for back-pressure."""
    sim = simulation("sending_fifty_timesteps.py")
    d = Deisa(timeout=20)
    seen = []
    killed = []

    @d.register("x")
    def cb(x):
        seen.append(x[0].t)
        if x[0].t == 2 and not killed:
            os.kill(sim.procs[0].pid, signal.SIGKILL)
            killed.append(True)
            time.sleep(0.5)

    error = execute_with_deadline(d)
    assert error is not None
    sim.wait(timeout=30, check=False)
    assert seen[:3] == [0, 1, 2]
    assert "rank 0" in str(error) and "timestep 3" in str(error), str(error)
    assert "rank 1 " not in str(error)


def test_rank_dying_while_registering(simulation, analytics_process, run_dir):
    """Rank 1 registers, then is killed while Bridge() waits for rank 0; rank 0 comes later,
    sends t=0..2 and closes. Expected: the analytics raises an error naming rank 1 (and rank 0
    finishes, its sends becoming no-ops)."""
    a = analytics_process("analytics_reporting_its_error.py")
    record = run_dir / ".deisa" / "analytics.json"
    try:
        rank1 = simulation("registering_then_sending.py", ranks=2, start=[1])
        deadline = time.monotonic() + 20
        while not (run_dir / "registering-1").exists() or not record.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # rank 1 has registered and waits for rank 0
        rank1.procs[0].kill()
        rank1.procs[0].wait()
        rank0 = simulation("registering_then_sending.py", ranks=2, start=[0])
        reports = a.wait(timeout=25)
        assert reports and reports[-1]["error"] is not None
        assert "rank 1" in reports[-1]["error"][1]
        rank0.wait(timeout=30)
    finally:
        session = json.loads(record.read_text())["session"] if record.exists() else None
        a.kill()
        if session:
            remove_segments(session)


# -------------------------------------------------------------------- the analytics dies

def remove_segments(session):
    """Removes what a killed analytics left (the tests of its removal by the next run are
    test_next_analytics_removes_the_leftovers_of_a_crashed_one)."""
    for path in segments_of(session):
        os.unlink(path)


def kill_analytics_after(analytics, t_kill):
    session = None
    while True:
        r = analytics.read_report(timeout=30)
        session = r["session"]
        if r["t"] == t_kill:
            break
    analytics.kill()
    return session


def test_analytics_death_lets_the_simulation_finish(simulation, analytics_process):
    a = analytics_process("analytics_reporting_every_timestep.py")
    sim = simulation("losing_the_analytics.py", args=["warn"])
    session = kill_analytics_after(a, 3)
    # exit code 0 on every rank, within a wait shorter than the bridges' timeout (600 s): no
    # send waited it out
    reports = sim.wait(timeout=60)
    for rank, (r,) in enumerate(reports):
        assert r["error"] is None, r
        assert r["sent"] == list(range(30)), "sends after the analytics died must be no-ops, not errors"
        assert r["lost"] is True
        assert r["fb"] == "DEFAULT"
        assert r["closed"] is None
        err = sim.stderr(rank)
        assert "warning" in err.lower() and "analytics" in err.lower(), err
        assert err.lower().count("warning") == 1, f"warn once, not on every send:\n{err}"
    # the shared memory of the dead analytics is still there; the next analytics removes it
    assert segments_of(session), "expected the crashed analytics to leave its segments"
    assert os.path.exists(".deisa/analytics.json")
    remove_segments(session)  # (their removal by the next run is tested below)


def test_analytics_death_raises_with_the_raise_policy(simulation, analytics_process):
    a = analytics_process("analytics_reporting_every_timestep.py")
    sim = simulation("losing_the_analytics.py", args=["raise"])
    session = kill_analytics_after(a, 3)
    reports = sim.wait(timeout=60)
    remove_segments(session)
    for rank, (r,) in enumerate(reports):
        assert r["error"] is not None, r
        name, msg, is_connection_error, module = r["error"]
        assert name == "AnalyticsLostError" and is_connection_error and module == "deisa.errors", r["error"]
        assert "analytics" in msg.lower()
        assert 3 <= len(r["sent"]) < 30
        assert r["lost"] is True


def test_next_analytics_removes_the_leftovers_of_a_crashed_one(simulation, analytics_process, run_dir):
    a = analytics_process("analytics_reporting_every_timestep.py")
    sim = simulation("losing_the_analytics.py", args=["warn"])
    old_session = kill_analytics_after(a, 2)
    sim.wait(timeout=60)
    leftovers = segments_of(old_session)
    assert leftovers, "expected the crashed analytics to leave its segments"
    record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
    assert record["session"] == old_session

    # A new run in the same rendezvous directory.
    sim2 = simulation("three_timesteps_of_x.py", args=[1])
    d = Deisa(timeout=20)
    during = []

    @d.register("x")
    def cb(x):
        during.append((x[0].t, int(x[0].sum().compute()), segments_of(old_session)))

    d.execute_callbacks()
    sim2.wait()
    assert [(t, s) for t, s, _ in during] == [(0, 1), (1, 3), (2, 5)]
    assert during[0][2] == [], f"the old session's segments were still there during the new run: {during[0][2]}"
    assert segments_of(old_session) == []
    assert segments_of(d.session) == []
    assert not os.path.exists(run_dir / ".deisa" / f"analytics-{old_session}.sock")


def test_second_analytics_in_the_same_directory_is_refused(simulation, analytics_process, run_dir):
    a = analytics_process("analytics_reporting_every_timestep.py")
    sim = simulation("waiting_for_go_after_first_send.py")
    assert a.read_report(timeout=30)["t"] == 0
    d = Deisa(timeout=5)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(RuntimeError, match="another analytics"):
        d.execute_callbacks()
    (run_dir / "go").touch()
    sim.wait(timeout=30)
    assert a.wait(timeout=30)[-1] == {"end": True}
    assert a.returncode == 0


def test_rank_dying_while_writing_a_buffer(simulation):
    """Rank 0 dies inside `with bridge.buffer(...)` at t=2 (slot rented, never committed):
    t=0 and t=1 are processed, the error names rank 0, and no shared memory leaks."""
    sim = simulation("rank_dying_while_writing_a_buffer.py")
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append((x[0].t, float(x[0].sum().compute()))), "x")
    error = execute_with_deadline(d)
    sim.wait(timeout=30, check=False)
    assert seen == [(0, 64.0), (1, 64 * 21.0)]
    assert error is not None and "rank 0" in str(error) and "timestep 2" in str(error), error


def test_whole_simulation_killed(simulation):
    """Every rank dies after t=2 (e.g. the job was killed): t=0..2 are processed, then the
    error names both ranks; no hang."""
    sim = simulation("whole_simulation_killed.py")
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append(x[0].t), "x")
    error = execute_with_deadline(d)
    sim.wait(timeout=30, check=False)
    assert seen == [0, 1, 2]
    assert error is not None and "rank 0" in str(error) and "rank 1" in str(error), error


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")
def test_rank_dying_under_mpirun(simulation):
    """Under mpirun, rank 1 of 3 calls os._exit after t=1 (mpirun then kills the others):
    the analytics processes t=0..1 and raises an error naming a rank; no hang."""
    sim = simulation("rank_dying_under_mpirun.py", ranks=3, mpirun=True)
    d = Deisa(timeout=30)
    seen = []
    d.register_callback(lambda x: seen.append(x[0].t), "x")
    error = execute_with_deadline(d, 40)
    sim.wait(timeout=40, check=False)
    assert seen == [0, 1]
    assert error is not None and "rank 1" in str(error), error
