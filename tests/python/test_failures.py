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

# Rank DYING dies (how: DEATH) after sending timesteps 0 .. LAST_OF_DYING; the others send
# 0 .. STEPS-1 and close.
DYING_RANK = '''
import signal
STEPS, LAST_OF_DYING, DEATH = int(os.environ["STEPS"]), int(os.environ["LAST_OF_DYING"]), os.environ["DEATH"]
DYING = int(os.environ.get("DYING", "0"))
b = Bridge(comm, {"x": {"global_shape": (size,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)

def die():
    if DEATH == "exit":
        os._exit(1)
    elif DEATH == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    else:
        raise RuntimeError("simulation crashed")

for t in range(STEPS):
    if rank == DYING and t > LAST_OF_DYING:
        die()
    b.send("x", np.array([t * 10 + rank], dtype=np.int64), t)
if rank == DYING:
    die()  # instead of closing
b.close()
report(lost=b.analytics_lost)
'''


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


def run_with_dying_rank(simulation, death, last_of_dying, steps, dying=0, ranks=2):
    sim = simulation(DYING_RANK, ranks=ranks, env={"STEPS": str(steps), "LAST_OF_DYING": str(last_of_dying),
                                                   "DEATH": death, "DYING": str(dying)})
    d = Deisa(timeout=20)
    seen = []

    @d.register("x")
    def cb(x):
        seen.append((x[0].t, x[0].compute().tolist()))

    t0 = time.monotonic()
    error = execute_with_deadline(d)
    elapsed = time.monotonic() - t0
    assert error is not None, "execute_callbacks() returned normally although a rank died"
    sim.wait(timeout=30, check=False)
    return sim, seen, error, elapsed


@pytest.mark.parametrize("death", ["exit", "kill", "exception"])
def test_rank_dying_mid_run(simulation, death):
    """Rank 0 dies after t=2 while rank 1 goes on to t=4: t=0..2 are processed, then the
    analytics raises an error naming rank 0 and timestep 3; it does not hang."""
    sim, seen, error, elapsed = run_with_dying_rank(simulation, death, last_of_dying=2, steps=5)
    assert seen == [(t, [10 * t, 10 * t + 1]) for t in range(3)]
    msg = str(error)
    assert "rank 0" in msg and "timestep 3" in msg, msg
    assert "rank 1 " not in msg
    assert elapsed < 15
    assert sim.outputs[1][0] == 0, f"the surviving rank failed:\n{sim.outputs[1][2]}"


@pytest.mark.parametrize("death", ["exit", "kill"])
def test_rank_dying_after_its_last_send(simulation, death):
    """Every timestep is complete, rank 0 dies instead of closing: all callbacks run, then the
    error names rank 0 and the last timestep it sent."""
    sim, seen, error, elapsed = run_with_dying_rank(simulation, death, last_of_dying=3, steps=4)
    assert seen == [(t, [10 * t, 10 * t + 1]) for t in range(4)]
    msg = str(error)
    assert "rank 0" in msg and "3" in msg, msg
    assert elapsed < 15


@pytest.mark.parametrize("attempt", range(3))
def test_rank_dying_before_sending_anything(simulation, attempt):
    """Rank 1 exits as soon as Bridge() returned (this once raced with the bridge's watch of
    the analytics: the death went unnoticed and the analytics waited forever)."""
    sim, seen, error, elapsed = run_with_dying_rank(simulation, "exit", last_of_dying=-1, steps=3, dying=1)
    assert seen == []
    msg = str(error)
    assert "rank 1" in msg, msg
    assert elapsed < 15


def test_rank_dying_in_a_bigger_world(simulation):
    """Rank 2 of 3 dies after t=1: the error names rank 2 only."""
    sim, seen, error, elapsed = run_with_dying_rank(simulation, "kill", last_of_dying=1, steps=4, dying=2, ranks=3)
    assert seen == [(t, [10 * t, 10 * t + 1, 10 * t + 2]) for t in range(2)]
    msg = str(error)
    assert "rank 2" in msg and "timestep 2" in msg, msg
    assert "rank 0" not in msg and "rank 1" not in msg, msg


def test_rank_killed_from_outside_while_waiting(simulation):
    """A rank killed by the test (kill -9) while it waits in send for back-pressure."""
    sim = simulation('''
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
for t in range(50):
    b.send("x", np.array([t], dtype=np.int64), t)
    if t == 1:
        print("SENT1", flush=True)
b.close()
''')
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
    a = analytics_process('''
d = Deisa(timeout=20)
d.register_callback(lambda x: report(t=x[0].t), "x")
try:
    d.execute_callbacks()
    report(error=None)
except Exception as e:
    report(error=[type(e).__name__, str(e)])
''')
    body = '''
open(f"registering-{rank}", "w").close()
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=10)
for t in range(3):
    b.send("x", np.array([t], dtype=np.int64), t)
b.close()
'''
    record = run_dir / ".deisa" / "analytics.json"
    try:
        rank1 = simulation(body, ranks=2, start=[1])
        deadline = time.monotonic() + 20
        while not (run_dir / "registering-1").exists() or not record.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # rank 1 has registered and waits for rank 0
        rank1.procs[0].kill()
        rank1.procs[0].wait()
        rank0 = simulation(body, ranks=2, start=[0])
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

ANALYTICS = '''
d = Deisa(timeout=20)

@d.register("x")
def cb(x):
    report(t=x[0].t, session=d.session, value=x[0].compute().tolist())

d.execute_callbacks()
report(end=True)
'''

LOSING_SIM = '''
POLICY = os.environ["POLICY"]
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20,
           on_analytics_failure=POLICY)
sent, error = [], None
for t in range(30):
    try:
        b.send("x", np.array([t], dtype=np.int64), t)
        sent.append(t)
    except Exception as e:
        error = [type(e).__name__, str(e), isinstance(e, ConnectionError), type(e).__module__]
        break
    time.sleep(0.05)
lost = b.analytics_lost
try:
    fb = b.get("k", 0, default="DEFAULT")
except Exception as e:
    fb = [type(e).__name__, str(e)]
try:
    b.close()
    closed = None
except Exception as e:
    closed = [type(e).__name__, str(e)]
report(sent=sent, error=error, lost=lost, fb=fb, closed=closed)
'''


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
    a = analytics_process(ANALYTICS)
    sim = simulation(LOSING_SIM, env={"POLICY": "warn"})
    session = kill_analytics_after(a, 3)
    t0 = time.monotonic()
    reports = sim.wait(timeout=60)  # exit code 0 on every rank
    assert time.monotonic() - t0 < 20
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
    a = analytics_process(ANALYTICS)
    sim = simulation(LOSING_SIM, env={"POLICY": "raise"})
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
    a = analytics_process(ANALYTICS)
    sim = simulation(LOSING_SIM, env={"POLICY": "warn"})
    old_session = kill_analytics_after(a, 2)
    sim.wait(timeout=60)
    leftovers = segments_of(old_session)
    assert leftovers, "expected the crashed analytics to leave its segments"
    record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
    assert record["session"] == old_session

    # A new run in the same rendezvous directory.
    sim2 = simulation('''
with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20) as b:
    for t in range(3):
        b.send("x", np.array([t + rank], dtype=np.int64), t)
''')
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
    a = analytics_process(ANALYTICS)
    sim = simulation('''
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
b.send("x", np.array([rank], dtype=np.int64), 0)
while not os.path.exists("go"):
    time.sleep(0.02)
b.close()
''')
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
    sim = simulation('''
b = Bridge(comm, {"x": {"global_shape": (2, 64), "chunk_shape": (1, 64), "chunk_position": (rank, 0),
                        "dtype": "float64"}}, timeout=20)
for t in range(4):
    with b.buffer("x", t) as block:
        block[...] = 10 * t + rank
        if rank == 0 and t == 2:
            os._exit(1)
b.close()
''')
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
    sim = simulation('''
import signal
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
for t in range(3):
    b.send("x", np.array([t], dtype=np.int64), t)
time.sleep(0.3)
os.kill(os.getpid(), signal.SIGKILL)
''')
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
    sim = simulation('''
from mpi4py import MPI
comm = MPI.COMM_WORLD
rank = comm.Get_rank()
b = Bridge(comm, {"x": {"global_shape": (3,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
for t in range(5):
    if rank == 1 and t == 2:
        time.sleep(0.2)
        os._exit(3)
    b.send("x", np.array([t], dtype=np.int64), t)
b.close()
''', ranks=3, mpirun=True)
    d = Deisa(timeout=30)
    seen = []
    d.register_callback(lambda x: seen.append(x[0].t), "x")
    error = execute_with_deadline(d, 40)
    sim.wait(timeout=40, check=False)
    assert seen == [0, 1]
    assert error is not None and "rank 1" in str(error), error
