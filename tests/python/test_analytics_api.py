"""Analytics side (docs/specification.md §4): argument checks, contract errors, feedback, callback errors,
start order, timeouts, pool size and back-pressure, with real simulation processes."""

import glob
import json
import logging
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import blocks_of
from deisa import ContractError, Deisa, Window

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


def wait_for_files(directory, names, timeout=30):
    """Waits until every file of ``names`` exists in ``directory`` (the ranks create them);
    a broken test fails instead of hanging."""
    deadline = time.monotonic() + timeout
    while not all((directory / name).exists() for name in names):
        assert time.monotonic() < deadline, f"{names} did not all appear in {timeout} s"
        time.sleep(0.01)


# -------------------------------------------------------------------- arguments

def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match="unknown"):
        Deisa(unknown=1)


@pytest.mark.parametrize("kwargs, exc", [
    ({"max_simulation_ahead": 0}, ValueError),
    ({"max_simulation_ahead": 1.5}, TypeError),
    ({"max_simulation_ahead": True}, TypeError),
    ({"feedback_queue_size": 0}, ValueError),
    ({"timeout": 0}, ValueError),
    ({"timeout": -1}, ValueError),
    ({"pool_size": -5}, ValueError),
    ({"pool_size": "80 furlongs"}, ValueError),
    ({"pool_size": "lots"}, ValueError),
    ({"pool_size": [1]}, TypeError),
    ({"address": 5}, TypeError),
])
def test_bad_constructor_arguments(kwargs, exc):
    with pytest.raises(exc):
        Deisa(**kwargs)


def test_construction_is_cheap_and_does_not_connect(run_dir):
    """Deisa() only checks its settings: it starts no run, writes no rendezvous record, creates
    no file at all; that waits for execute_callbacks()."""
    d = Deisa(timeout=1)
    assert d.session is None and d._run is None
    assert not (run_dir / ".deisa").exists()
    assert list(run_dir.iterdir()) == []


def test_a_list_of_inputs_is_deisa_rays_first_version_form():
    d = Deisa()
    with pytest.raises(TypeError):
        d.register(["a", "b"])  # the decorator never took a list
    with pytest.raises(TypeError):
        d.register_callback(lambda a: None, 3)
    with pytest.raises(ValueError, match="at least one array"):
        d.register_callback(lambda a: None, [])
    assert d._callbacks == []
    fn = d.register_callback(lambda a, b, timestep: None, ["a", "b"])  # deisa-ray's first version's call
    assert [(w.name, w.size) for w in d.registered_callbacks[0].arrays_description] == [("a", 1), ("b", 1)]
    assert d.registered_callbacks[0].simulation_callback is fn


def test_when_must_be_and_or_or():
    d = Deisa()
    with pytest.raises(ValueError, match="XOR"):
        d.register_callback(lambda a: None, "a", when="XOR")
    with pytest.raises(ValueError):
        d.register("a", when="and")(lambda a: None)
    d.register_callback(lambda a: None, "a", when="OR")
    d.register_callback(lambda a: None, "a", when="AND")


def test_other_register_errors():
    d = Deisa()
    with pytest.raises(TypeError):
        d.register_callback("not callable", "a")
    with pytest.raises(ValueError):
        d.register_callback(lambda: None)
    with pytest.raises(ValueError, match="'a'"):
        d.register_callback(lambda a: None, "a", Window("a", size=2))
    with pytest.raises(TypeError):
        d.register_callback(lambda a: None, "a", exception_handler=42)


@pytest.mark.parametrize("args, kwargs, exc", [
    ((), {}, TypeError),
    (("",), {}, TypeError),
    ((3,), {}, TypeError),
    (("a",), {"size": 0}, ValueError),
    (("a",), {"size": -2}, ValueError),
    (("a",), {"size": 1.5}, TypeError),
    (("a",), {"size": True}, TypeError),
    (("a",), {"size": "2"}, TypeError),
    (("a",), {"preprocess": 3}, TypeError),
])
def test_window_validation(args, kwargs, exc):
    with pytest.raises(exc):
        Window(*args, **kwargs)


def test_window_defaults():
    w = Window("a")
    assert (w.name, w.size, w.preprocess) == ("a", 1, None)
    w = Window("a", size=3, preprocess=abs)
    assert (w.size, w.preprocess) == (3, abs)
    assert Window.of("b").name == "b" and Window.of(w) is w


def test_set_before_execute_callbacks_reaches_the_simulation_when_the_run_starts(simulation):
    """As deisa-ray allows: set() outside execute_callbacks() keeps the value for the next run."""
    d = Deisa(timeout=20, feedback_queue_size=8)
    d.set("k", -1, -2)
    d.set("k", -10, -1)
    with pytest.raises(ValueError, match="'k': timestep -1 is not newer than timestep -1"):
        d.set("k", 0, -1)
    with pytest.raises(TypeError):
        d.set("k", object(), 0)
    sim = simulation("feedback_history.py")
    d.register_callback(lambda x: x[0].t < 5 and d.set("k", x[0].t * 10, x[0].t), "x")
    d.execute_callbacks()
    for (r,) in sim.wait():
        assert [tuple(e) for e in r["hist"]] == [(-2, -1), (-1, -10), (0, 0), (1, 10), (2, 20), (3, 30), (4, 40)]


def test_deisa_ray_call_shapes():
    """deisa-ray's Deisa(feedback_queue_size, *, ...), registered_callbacks, Window as a value."""
    d = Deisa(16, timeout=5)
    assert d.feedback_queue_size == 16
    with pytest.raises(TypeError, match="only positional argument.*deisa-ray ignores"):
        Deisa(16, 2)
    with pytest.raises(TypeError, match="ray_start is how deisa-ray starts Ray"):
        Deisa(ray_start=lambda: None)

    def cb(a, b):
        pass

    handler = print
    assert d.register_callback(cb, Window("a", size=2), "b", exception_handler=handler, when="OR") is cb
    (registered,) = d.registered_callbacks
    assert registered.simulation_callback is cb and registered.when == "OR" and registered.exception_handler is handler
    assert registered.arrays_description == [Window("a", 2), Window("b")]
    assert Window("a", 2) == Window(name="a", size=2) and Window("a", 2) != Window("a", 3) and Window("a") != "a"
    assert len({Window("a", 2), Window("a", 2), Window("b")}) == 2
    assert repr(Window("a", 2)) == "Window(name='a', size=2)"
    with pytest.raises(TypeError, match="deisa-ray would drop it silently"):
        d.register_callback(cb, 5)
    with pytest.raises(RuntimeError, match="Please register at least one callback"):
        Deisa(timeout=5).execute_callbacks()


# -------------------------------------------------------------------- contract

def test_unknown_array_is_a_contract_error_before_any_data(simulation, run_dir):
    # The ranks send nothing before the file "go" exists, which the test creates only after
    # the error: the analytics raised before any data came.
    sim = simulation("two_ranks_int64.py", args=["--start-when", "go"])
    d = Deisa(timeout=20)
    calls = []
    d.register_callback(lambda x, zzz: calls.append(1), "x", "zzz")
    with pytest.raises(ContractError) as e:
        d.execute_callbacks()
    (run_dir / "go").touch()
    msg = str(e.value)
    assert "'zzz'" in msg and "'x'" in msg
    assert calls == []
    # the simulation is not stuck: it is told and goes on without the analytics
    reports = sim.wait(timeout=30)
    for rank, (r,) in enumerate(reports):
        assert r["lost"] is True
        assert "warning" in sim.stderr(rank).lower()


def test_objects_of_the_start_are_frozen_out_of_the_collector_only_while_the_callbacks_run(simulation):
    import gc

    sim = simulation("two_ranks_int64.py")
    assert gc.get_freeze_count() == 0
    seen = []
    d = Deisa(timeout=20)
    d.register_callback(lambda x: seen.append((x[0].t, gc.get_freeze_count())), "x")
    d.execute_callbacks()
    sim.wait()
    assert [t for t, _ in seen] == list(range(5))
    assert all(frozen > 1000 for _, frozen in seen), seen  # numpy, Dask and the test's own modules
    assert gc.get_freeze_count() == 0  # given back: the process's collector is as it was


def test_a_process_that_freezes_objects_itself_keeps_its_frozen_set(simulation):
    import gc

    sim = simulation("two_ranks_int64.py")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        seen = []
        d = Deisa(timeout=20)
        d.register_callback(lambda x: seen.append(x[0].t), "x")
        d.execute_callbacks()
        sim.wait()
        assert seen == list(range(5))
        # Neither unfrozen nor grown by deisa (objects of the set may die meanwhile).
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


# -------------------------------------------------------------------- feedback

def test_feedback_values_and_errors(simulation):
    sim = simulation("feedback_of_every_kind.py")
    d = Deisa(timeout=20)
    errors = {}

    def attempt(label, fn):
        try:
            fn()
            errors[label] = None
        except Exception as e:  # noqa: BLE001
            errors[label] = [type(e).__name__, str(e)]

    @d.register("x")
    def cb(x):
        t = x[0].t
        if t != 0:
            return
        d.set("none", None, 0)
        d.set("bool", True, 0)
        d.set("false", False, 0)
        d.set("int", -(2 ** 62), 0)
        d.set("big", 2 ** 63 - 1, 0)
        d.set("float", 2.5, 0)
        d.set("str", "héllo", 0)
        d.set("bytes", b"\x00\xffab", 0)
        d.set("empty", "", 0)
        d.set("array", np.arange(1 << 17, dtype=np.float64).reshape(256, 512), 0)  # exactly 1 MiB
        d.set("fortran", np.asfortranarray(np.arange(6).reshape(2, 3)), 0)
        attempt("same timestep", lambda: d.set("int", 5, 0))
        attempt("older", lambda: d.set("int", 5, -1))
        attempt("object", lambda: d.set("k", object(), 0))
        attempt("list", lambda: d.set("k", [1, 2], 0))
        attempt("dict", lambda: d.set("k", {"a": 1}, 0))
        attempt("object array", lambda: d.set("k", np.array([None, 1]), 0))
        attempt("too big", lambda: d.set("k", np.zeros((1 << 17) + 1), 0))
        attempt("key not str", lambda: d.set(1, 1, 0))
        attempt("timestep not int", lambda: d.set("k", 1, "0"))
        attempt("too large int", lambda: d.set("k", 2 ** 64, 0))
        d.set("errors", ";".join(f"{k}={v[0] if v else None}" for k, v in errors.items()), 0)

    d.execute_callbacks()
    reports = sim.wait(timeout=30)

    assert errors["same timestep"][0] == "ValueError" and "already been set" in errors["same timestep"][1]
    assert errors["older"][0] == "ValueError"
    for label in ("object", "list", "dict", "object array", "key not str", "timestep not int"):
        assert errors[label] is not None and errors[label][0] == "TypeError", (label, errors[label])
    assert errors["too big"] is not None and errors["too big"][0] == "ValueError"
    assert errors["too large int"] is not None and errors["too large int"][0] in ("ValueError", "OverflowError")

    import base64
    for (r,) in reports:
        assert r["none"] == ["NoneType", None]
        assert r["bool"] == ["bool", True] and r["false"] == ["bool", False]
        assert r["int"] == ["int", -(2 ** 62)] and r["big"] == ["int", 2 ** 63 - 1]
        assert r["float"] == ["float", 2.5]
        assert r["str"] == ["str", "héllo"] and r["empty"] == ["str", ""]
        assert r["bytes"] == ["bytes", base64.b64encode(b"\x00\xffab").decode()]
        assert r["array"] == ["ndarray", "float64", [256, 512], True]
        assert r["fortran"] == [True, "int64"]
        assert [tuple(e) for e in r["history"]] == [(0, -(2 ** 62))]  # refused sets changed nothing
        assert "same timestep=ValueError" in r["errors"]


def test_feedback_queue_keeps_the_newest_entries(simulation):
    sim = simulation("feedback_history.py")
    d = Deisa(timeout=20, feedback_queue_size=3)
    d.register_callback(lambda x: x[0].t < 5 and d.set("k", x[0].t * 10, x[0].t), "x")
    d.execute_callbacks()
    for (r,) in sim.wait():
        # send(5) returned once t=4's callbacks ran: entries of t = 2, 3, 4 are kept
        assert [tuple(e) for e in r["hist"]] == [(2, 20), (3, 30), (4, 40)]


# -------------------------------------------------------------------- callback errors

def test_exception_goes_to_the_handler_and_the_loop_continues(simulation):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    handled, after = [], []

    def failing(x):
        if x[0].t % 2 == 0:
            raise ValueError(f"bad timestep {x[0].t}")

    d.register_callback(failing, "x", exception_handler=handled.append)
    d.register_callback(lambda x: after.append(x[0].t), "x")
    d.execute_callbacks()
    sim.wait()
    assert [type(e) for e in handled] == [ValueError] * 3
    assert [str(e) for e in handled] == ["bad timestep 0", "bad timestep 2", "bad timestep 4"]
    assert after == [0, 1, 2, 3, 4]


def test_default_handler_logs_with_traceback_and_continues(simulation, caplog):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    seen = []

    def failing(x):
        seen.append(x[0].t)
        raise KeyError("oops")

    d.register_callback(failing, "x")
    with caplog.at_level(logging.INFO, logger="deisa"):
        d.execute_callbacks()
    sim.wait()
    assert seen == [0, 1, 2, 3, 4]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 5
    for r, t in zip(errors, range(5)):
        assert r.exc_info is not None and r.exc_info[0] is KeyError
        assert "failing" in r.getMessage() and str(t) in r.getMessage()


def test_exception_handler_that_raises_does_not_hang(simulation):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)

    def handler(e):
        raise RuntimeError("handler failed") from e

    d.register_callback(lambda x: 1 / 0, "x", exception_handler=handler)
    with pytest.raises(RuntimeError, match="handler failed"):
        d.execute_callbacks()
    sim.wait(timeout=30)


@pytest.mark.parametrize("exc", [AssertionError, TimeoutError])
def test_assertion_and_timeout_errors_stop_the_analytics(simulation, exc):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    seen, handled = [], []

    def cb(x):
        seen.append(x[0].t)
        if x[0].t == 2:
            raise exc("stop here")

    d.register_callback(cb, "x", exception_handler=handled.append)
    with pytest.raises(exc, match="stop here"):
        d.execute_callbacks()
    assert seen == [0, 1, 2] and handled == []
    reports = sim.wait(timeout=30)  # the simulation finishes without the analytics
    for rank, (r,) in enumerate(reports):
        assert r["lost"] is True
        assert "warning" in sim.stderr(rank).lower()


# -------------------------------------------------------------------- start order and timeouts

def test_analytics_started_after_the_simulation(simulation):
    sim = simulation("two_ranks_int64.py")
    time.sleep(1.0)
    assert all(p.poll() is None for p in sim.procs)  # the ranks wait for the analytics
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append((x[0].t, int(x[0].sum().compute()))), "x")
    d.execute_callbacks()
    sim.wait()
    assert seen == [(t, 3 * t) for t in range(5)]


def test_missing_rank_is_named_by_the_analytics(simulation):
    sim = simulation("opening_a_bridge.py", ranks=3, args=[20], start=[0, 1])
    d = Deisa(timeout=2)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(TimeoutError) as e:
        d.execute_callbacks()
    assert "waited 2 s for the simulation to register" in str(e.value)  # its whole timeout
    assert "rank 2 never connected" in str(e.value)
    assert "ranks 0" not in str(e.value) and "rank 0" not in str(e.value)
    reports = sim.wait(timeout=30)  # the connected ranks are not left hanging
    for (r,) in reports:
        assert r["error"] is not None


def test_two_missing_ranks_are_named(simulation):
    sim = simulation("opening_a_bridge.py", ranks=4, args=[20], start=[0, 2])
    d = Deisa(timeout=2)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(TimeoutError, match="ranks 1, 3 never connected"):
        d.execute_callbacks()
    sim.wait(timeout=30, check=False)


def test_no_simulation_at_all(run_dir):
    d = Deisa(timeout=1)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(TimeoutError, match="no simulation rank connected"):
        d.execute_callbacks()
    assert not (run_dir / ".deisa" / "analytics.json").exists()


def test_bridge_without_analytics_times_out_naming_the_rendezvous(simulation, run_dir):
    sim = simulation("opening_a_bridge.py", args=[1.5])
    for (r,) in sim.wait(timeout=30):
        assert r["error"][0] == "TimeoutError"
        assert str(run_dir / ".deisa") in r["error"][1]
        assert "DEISA_RENDEZVOUS" in r["error"][1]
        assert "waited 1.5 s for the analytics" in r["error"][1]  # its whole timeout


# -------------------------------------------------------------------- pool size

def test_pool_smaller_than_one_timestep_is_refused_at_start(simulation):
    sim = simulation("declaring_1MiB_timesteps.py")
    d = Deisa(timeout=20, pool_size="600KiB")  # one timestep is 2 x 512 KiB
    calls = []
    d.register_callback(lambda x: calls.append(x[0].t), "x")
    with pytest.raises(ValueError) as e:
        d.execute_callbacks()
    assert "pool" in str(e.value) and str(600 * 1024) in str(e.value)
    assert calls == []
    for (r,) in sim.wait(timeout=30):
        assert r["error"] is not None and r["error"][0] == "ValueError" and "pool" in r["error"][1]


def test_block_larger_than_pool_without_declared_dtype_fails_fast(simulation, analytics_process):
    """With no declared dtype the size is known at the first send only: that send fails at
    once with a clear error (a block that can never fit must not wait for the timeout); the
    ranks close and the analytics ends."""
    a = analytics_process("analytics_reporting_its_error.py", args=["--pool-size", "256KiB"])
    # The bridges' timeout (600 s) is longer than this wait: a send that waited for memory
    # would not end in time.
    sim = simulation("sending_a_block_larger_than_the_pool.py")
    for (r,) in sim.wait(timeout=40):
        assert r["error"] is not None and r["error"][0] == "ValueError", r
        assert "pool" in r["error"][1]
    a.wait(timeout=6)  # the analytics ends once every rank closed
    assert a.returncode == 0


def test_pool_size_from_the_environment(simulation, monkeypatch):
    sim = simulation("declaring_1KiB_timesteps.py")
    monkeypatch.setenv("DEISA_POOL_SIZE", "1KiB")
    d = Deisa(timeout=20)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(ValueError, match="pool"):
        d.execute_callbacks()
    sim.wait(timeout=30)


# -------------------------------------------------------------------- back-pressure

def ended_before_return(reports):
    """Per rank, {t: the timesteps whose callbacks had ended when that rank's send(t) returned}
    (back_pressure.py)."""
    return [{int(t): ended for t, ended in r["ended_before_return"].items()} for (r,) in reports]


def test_max_simulation_ahead_one_waits_for_the_callbacks(simulation, run_dir):
    sim = simulation("back_pressure.py", args=[0, 1, 2, 3])
    d = Deisa(timeout=20, max_simulation_ahead=1)
    ended = []

    @d.register("x")
    def cb(x):
        t = x[0].t
        if t > 0:
            # The simulation is released as soon as the callbacks of t - 1 end: its send(t)
            # returns while this callback still runs (it would never end otherwise).
            wait_for_files(run_dir, [f"returned-{t}-{rank}" for rank in range(2)])
        time.sleep(0.3)
        ended.append(t)
        (run_dir / f"ended-{t}").touch()

    d.execute_callbacks()
    reports = sim.wait()
    assert ended == [0, 1, 2, 3]
    for rank, seen in enumerate(ended_before_return(reports)):
        for t in range(3):
            assert t in seen[t + 1], f"rank {rank}: send({t + 1}) returned before the callback of {t} ended"


def test_max_simulation_ahead_two_lets_the_simulation_run_ahead(simulation, run_dir):
    sim = simulation("back_pressure.py", args=[0, 1, 2, 3])
    d = Deisa(timeout=20, max_simulation_ahead=2)
    ended = []

    @d.register("x")
    def cb(x):
        t = x[0].t
        if t == 0:
            # send(1) returns while this callback runs: 2 timesteps may be pending (the
            # callback would never end if it waited)
            wait_for_files(run_dir, [f"returned-1-{rank}" for rank in range(2)])
        time.sleep(0.6)
        ended.append(t)
        (run_dir / f"ended-{t}").touch()

    d.execute_callbacks()
    reports = sim.wait()
    assert ended == [0, 1, 2, 3]
    for rank, seen in enumerate(ended_before_return(reports)):
        assert 0 not in seen[1], f"rank {rank}: send(1) waited although 2 timesteps may be pending"
        for t in range(2):
            assert t in seen[t + 2], f"rank {rank}: send({t + 2}) returned before the callback of {t} ended"


def test_gaps_between_timesteps_do_not_matter_for_back_pressure(simulation, run_dir):
    sim = simulation("back_pressure.py", args=[10, 1000, 10 ** 12])
    d = Deisa(timeout=20)
    ended = []

    @d.register("x")
    def cb(x):
        time.sleep(0.3)
        ended.append(x[0].t)
        (run_dir / f"ended-{x[0].t}").touch()

    d.execute_callbacks()
    for seen in ended_before_return(sim.wait()):
        assert 10 in seen[1000] and 1000 in seen[10 ** 12]
    assert sorted(ended) == [10, 1000, 10 ** 12]


def test_send_times_out_when_the_analytics_is_stuck(simulation, run_dir):
    sim = simulation("send_timing_out.py")
    d = Deisa(timeout=20)

    @d.register("x")
    def cb(x):
        if x[0].t == 0:  # stuck until every rank's send(1) gave up
            wait_for_files(run_dir, [f"timed-out-{rank}" for rank in range(2)])

    d.execute_callbacks()
    for (r,) in sim.wait(timeout=30):
        assert r["error"] is not None and r["error"][0] == "TimeoutError", r
        assert "max_simulation_ahead" in r["error"][1] and "timestep 1" in r["error"][1]
        assert "waited 1.5 s for the analytics" in r["error"][1]  # its whole timeout


# -------------------------------------------------------------------- firing order, release, logs

def test_callbacks_of_one_timestep_run_in_registration_order(simulation):
    """An OR callback registered first runs before the AND callback registered after it,
    for every timestep (the AND one waits for the OR one, which waits for the closing)."""
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    order = []
    d.register_callback(lambda x: order.append(("or", x[-1].t)), "x", when="OR")
    d.register_callback(lambda x: order.append(("and", x[-1].t)), "x")
    d.register_callback(lambda x: order.append(("and2", x[-1].t)), Window("x", size=2))
    d.execute_callbacks()
    sim.wait()
    assert order == [(name, t) for t in range(5) for name in ("or", "and", "and2")]


def test_arrays_no_callback_needs_are_released_at_once(simulation):
    """'big' is sent every timestep but no callback reads it: with a pool of four of its
    blocks, 30 timesteps go through without waiting for memory."""
    sim = simulation("unread_big_array.py")
    d = Deisa(timeout=20, pool_size="2MiB")
    seen = []
    d.register_callback(lambda x: seen.append(x[0].t), "x")
    d.execute_callbacks()
    sim.wait()
    assert seen == list(range(30))


def test_one_info_line_per_processed_timestep(simulation, caplog):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    d.register_callback(lambda x: None, "x")
    with caplog.at_level(logging.INFO, logger="deisa"):
        d.execute_callbacks()
    sim.wait()
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "timestep" in r.getMessage()]
    assert len(lines) == 6
    for t, line in enumerate(lines[:5]):
        assert f"timestep {t}" in line and "x" in line and "ms" in line
    assert lines[-1] == "simulation closed: 5 timesteps processed"


def test_stats_split_the_time_between_the_callbacks_and_deisa(simulation):
    """Deisa.stats counts the timesteps processed, the time in the callbacks (here at least
    their sleeps) and deisa's own time outside them, which is neither the sleeps nor the waits
    for the simulation (the ranks pause between timesteps)."""
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    assert d.stats.timesteps == 0 and d.stats.own_per_timestep == 0.0
    seen = []

    def slow(x):
        seen.append(d.stats.timesteps)
        time.sleep(0.02)

    d.register_callback(slow, "x")
    began = time.perf_counter()
    d.execute_callbacks()
    wall = time.perf_counter() - began
    sim.wait()
    s = d.stats
    assert s.timesteps == 5 and seen == [0, 1, 2, 3, 4]
    assert 5 * 0.02 <= s.callback_seconds < wall
    assert 0 < s.own_seconds < wall - s.callback_seconds
    assert 0 < s.own_on_path_seconds <= s.own_seconds
    assert s.own_per_timestep == pytest.approx(s.own_seconds / 5)
    assert "µs/timestep" in repr(s)


def test_progress_line(simulation, capfd):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    d.register_callback(lambda x: None, "x")
    d.execute_callbacks(progress=True)
    sim.wait()
    err = capfd.readouterr().err
    assert "\rdeisa: timestep " in err and err.endswith("\rdeisa: 5 timesteps processed" + " " * 40 + "\n")


ANALYTICS_OF_X = "from deisa import Deisa; d = Deisa(timeout=20); d.register_callback(lambda x: None, 'x'); d.execute_callbacks()"


def test_the_progress_line_is_shown_by_default_in_a_terminal_only(simulation, run_dir):
    import pty

    for terminal in (True, False):
        sim = simulation("two_ranks_int64.py")
        if terminal:
            master, slave = pty.openpty()
            p = subprocess.Popen([sys.executable, "-c", ANALYTICS_OF_X], stderr=slave, cwd=run_dir)
            os.close(slave)
            err = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the terminal's other end closed
                    break
                if not chunk:
                    break
                err += chunk
            os.close(master)
            err = err.decode()
        else:
            p = subprocess.Popen([sys.executable, "-c", ANALYTICS_OF_X], stderr=subprocess.PIPE, cwd=run_dir, text=True)
            err = p.stderr.read()
        assert p.wait(60) == 0, err
        sim.wait()
        assert ("5 timesteps processed" in err) is terminal, err


def test_feedback_answers_are_the_same_on_every_rank_while_being_set(simulation):
    """Ranks poll get("k", 0) at different paces while the analytics sets it: the n-th answer
    is the same on every rank, whenever each rank asks."""
    sim = simulation("polling_feedback.py")
    d = Deisa(timeout=20)

    @d.register("x")
    def cb(x):
        time.sleep(0.15)
        d.set("k", "ready", 0)

    d.execute_callbacks()
    (a0,), (a1,) = sim.wait()
    a0, a1 = a0["answers"], a1["answers"]
    assert a0 == a1
    assert a0[0] is None and a0[-1] == "ready"  # the value did change during the polling
    first = a0.index("ready")
    assert all(v is None for v in a0[:first]) and all(v == "ready" for v in a0[first:])


def test_window_shorter_at_the_start_and_slides(simulation):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    windows = []
    d.register_callback(lambda x: windows.append([a.t for a in x]), Window("x", size=3))
    d.execute_callbacks()
    sim.wait()
    assert windows == [[0], [0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]


# -------------------------------------------------------------------- the analytics dies early

def _kill_analytics_while_registering(simulation, analytics_process, run_dir, policy):
    a = analytics_process("analytics_doing_nothing.py")
    record = run_dir / ".deisa" / "analytics.json"
    sim = simulation("registering_while_analytics_dies.py", args=[policy], start=[0])  # rank 1 never comes
    deadline = time.monotonic() + 20
    while not record.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # rank 0 is in Bridge(), waiting for rank 1
    session = json.loads(record.read_text())["session"]
    a.kill()
    try:
        (r,), = sim.wait(timeout=30)
    finally:
        for path in glob.glob(f"/dev/shm/deisa-{session}-*"):
            os.unlink(path)
    return r, sim


def test_analytics_dying_while_bridges_register_raises_with_raise_policy(simulation, analytics_process, run_dir):
    r, _ = _kill_analytics_while_registering(simulation, analytics_process, run_dir, "raise")
    # The bridge noticed the death (AnalyticsLostError), not its own timeout (TimeoutError).
    assert r["ctor"] is not None and r["ctor"][0] == "AnalyticsLostError" and r["ctor"][2], r


def test_analytics_dying_while_bridges_register_only_warns(simulation, analytics_process, run_dir):
    r, sim = _kill_analytics_while_registering(simulation, analytics_process, run_dir, "warn")
    assert r["ctor"] is None, r  # not a TimeoutError: the bridge noticed the death
    assert r["sends"] == [None, None, None]
    assert "warning" in sim.stderr(0).lower()


def test_send_can_be_retried_after_a_timeout(simulation, run_dir):
    """A send that timed out sent nothing: retrying it later delivers the block."""
    sim = simulation("retrying_a_timed_out_send.py")
    d = Deisa(timeout=20)
    seen = []

    @d.register("x")
    def cb(x):
        seen.append((x[0].t, x[0].compute().tolist()))
        if x[0].t == 0:  # stuck until every rank's send(1) timed out once
            wait_for_files(run_dir, [f"timed-out-{rank}" for rank in range(2)])

    d.execute_callbacks()
    reports = sim.wait(timeout=30)
    assert seen == [(0, [[0, 0]]), (1, [[10, 11]]), (2, [[20, 21]])]
    for (r,) in reports:
        assert 1 <= len(r["errors"]) < 10  # a retry delivered it before the rank gave up
        for error in r["errors"]:
            assert "timestep 1" in error and "waited 1 s for the analytics" in error, error


def run_full_pool(simulation, analytics_process, run_dir, retry=False, wait=0):
    """The analytics keeps every array: the pool fills up and the next send waits for memory
    until the bridge's timeout. Returns the ranks' reports and whether the analytics ended."""
    a = analytics_process("analytics_keeping_every_array.py")
    record = run_dir / ".deisa" / "analytics.json"
    # The ranks' timeout (1.5 s, for the full pool) also bounds their wait for the analytics:
    # they start once it is up (a loaded machine may take longer than that to start it).
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    sim = simulation("filling_the_pool.py", args=["--retry"] if retry else [])
    try:
        reports = sim.wait(timeout=30)
        analytics_reports, ended = None, None
        if wait:
            try:
                analytics_reports = a.wait(timeout=wait)
                ended = a.returncode
            except AssertionError:
                pass
    finally:
        try:
            session = json.loads(record.read_text())["session"]
        except FileNotFoundError:  # the analytics ended on its own once the ranks closed, and cleaned up
            session = None
        a.kill()
        for path in glob.glob(f"/dev/shm/deisa-{session}-*") if session else []:
            os.unlink(path)
    return reports, analytics_reports, ended


def test_send_waiting_for_a_full_pool_times_out_clearly(simulation, analytics_process, run_dir):
    reports, _, _ = run_full_pool(simulation, analytics_process, run_dir)
    for (r,) in reports:
        assert r["error"] is not None, r
        name, msg = r["error"]
        assert name == "TimeoutError" and "pool" in msg and "memory" in msg, msg
        assert "waited 1.5 s for shared memory" in msg, msg  # its whole timeout
        assert 1 <= len(r["sent"]) <= 3


def test_analytics_ends_after_a_send_timed_out_on_the_pool(simulation, analytics_process, run_dir):
    _, analytics_reports, ended = run_full_pool(simulation, analytics_process, run_dir, wait=6)
    assert ended is not None, "execute_callbacks() did not return after every rank closed"
    assert ended == 0
    # every kept array still holds its own values
    for r in analytics_reports:
        if "values" in r:
            assert r["values"] == [float(t) for t in range(len(r["values"]))]


def test_send_can_be_retried_after_a_pool_timeout(simulation, analytics_process, run_dir):
    reports, _, _ = run_full_pool(simulation, analytics_process, run_dir, retry=True)
    for (r,) in reports:
        assert r["error"] is not None and r["error"][0] == "TimeoutError"
        assert r["retry"] is not None and r["retry"][0] == "TimeoutError", r["retry"]  # still no memory: same error


# -------------------------------------------------------------------- windows, memory, addresses

def test_two_windows_of_different_sizes_on_one_array(simulation):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    small, large = [], []
    d.register_callback(lambda x: small.append([a.t for a in x]), "x")
    d.register_callback(lambda x: large.append([(a.t, int(a.sum().compute())) for a in x]), Window("x", size=3))
    d.execute_callbacks()
    sim.wait()
    assert small == [[t] for t in range(5)]
    assert large == [[(s, 3 * s) for s in range(max(0, t - 2), t + 1)] for t in range(5)]


def test_memory_is_recycled_when_the_analytics_drops_its_arrays(simulation):
    """The callback keeps the last two arrays itself (and builds graphs on them); the pool
    holds five timesteps: 30 timesteps go through, so dropped arrays give their memory back."""
    sim = simulation("thirty_timesteps_of_512KiB.py")
    d = Deisa(timeout=20, pool_size="5MiB")
    recent, sums = [], []

    @d.register("x")
    def cb(x):
        recent.append(x[0])
        del recent[:-2]
        p = recent[-1].persist()
        sums.append(float((p + recent[0]).sum().compute()))

    d.execute_callbacks()
    sim.wait()
    n = 2 * 256 * 256
    assert sums == [n * (2 * t - (t > 0)) for t in range(30)]
    del recent


def test_tcp_loopback_address_through_the_rendezvous(simulation, run_dir):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20, address="tcp://127.0.0.1:0")
    seen = []
    addresses = []

    @d.register("x")
    def cb(x):
        if not addresses:
            addresses.append(json.loads((run_dir / ".deisa" / "analytics.json").read_text())["address"])
        seen.append(int(x[0].sum().compute()))

    d.execute_callbacks()
    sim.wait()
    assert seen == [3 * t for t in range(5)]
    assert addresses[0].startswith("tcp://127.0.0.1:") and not addresses[0].endswith(":0")


def test_default_rendezvous_is_dot_deisa_in_the_current_directory(simulation, run_dir, monkeypatch):
    monkeypatch.delenv("DEISA_RENDEZVOUS")
    env = dict(os.environ)
    sim = simulation("two_ranks_int64.py", env={})  # inherits the environment without DEISA_RENDEZVOUS
    d = Deisa(timeout=20)
    seen, record = [], []

    @d.register("x")
    def cb(x):
        record.append((run_dir / ".deisa" / "analytics.json").exists())
        seen.append(x[0].t)

    d.execute_callbacks()
    sim.wait()
    assert "DEISA_RENDEZVOUS" not in env
    assert seen == list(range(5)) and record[0]
    assert not (run_dir / ".deisa" / "analytics.json").exists()  # withdrawn at the end


def test_rendezvous_record_is_private(simulation, run_dir):
    sim = simulation("two_ranks_int64.py")
    d = Deisa(timeout=20)
    modes = []

    @d.register("x")
    def cb(x):
        if not modes:
            modes.append(os.stat(run_dir / ".deisa" / "analytics.json").st_mode & 0o777)
            modes.extend(os.stat(p).st_mode & 0o777 for p in glob.glob(f"/dev/shm/deisa-{d.session}-*"))

    d.execute_callbacks()
    sim.wait()
    assert len(modes) >= 2 and all(m == 0o600 for m in modes), [oct(m) for m in modes]


def test_flow_violation_after_complete_timesteps(simulation):
    """Rank 1 skips t=2: the callbacks of t=0 and t=1 run, then RuntimeError names the
    array, timestep 2 and rank 1; the simulation is not left hanging."""
    sim = simulation("rank_1_skipping_timestep_2.py")
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append(x[-1].t), Window("x", size=2))
    with pytest.raises(RuntimeError, match="logical flow") as e:
        d.execute_callbacks()
    sim.wait(timeout=30)
    assert seen == [0, 1]
    msg = str(e.value)
    assert "'x'" in msg and "timestep 2" in msg and "rank 1" in msg and "rank 0" not in msg


def test_events_larger_than_the_read_buffer_grow_it_and_arrive_whole(simulation, monkeypatch):
    """With a buffer of 8 bytes every event is too large: each stays queued, the buffer grows,
    and the callbacks still see every array whole (a 3-D Fortran-ordered one with a non-ASCII
    name, and a 1-D one, in two windows of one callback)."""
    from deisa import _events

    sizes = []
    grow = _events.EventReader._grow
    monkeypatch.setattr(_events.EventReader, "CAPACITY", 8)
    monkeypatch.setattr(_events.EventReader, "_grow", lambda self, n: (sizes.append(n), grow(self, n)))
    sim = simulation("accented_name_and_fortran_blocks.py")
    d = Deisa(timeout=20)
    seen = []

    def check(température, y):
        a = température[-1]
        np.testing.assert_array_equal(a.compute(), np.arange(24.0).reshape(4, 3, 2) + 100 * a.t)
        assert a.chunks == ((2, 2), (3,), (2,)) and a.dtype == np.float64
        assert [b.flags.f_contiguous for b in blocks_of(a)] == [True, True]
        assert y[-1].dtype == np.int32 and list(y[-1].compute()) == [v + 10 * y[-1].t for v in range(6)]
        seen.append(([x.t for x in température], [x.t for x in y]))

    d.register_callback(check, Window("température", size=2), Window("y", size=3))
    d.execute_callbacks()
    sim.wait()
    assert seen == [([0], [0]), ([0, 1], [0, 1]), ([1, 2], [0, 1, 2]), ([2, 3], [1, 2, 3])]
    assert sizes[0] == 8 and max(sizes) > 200, sizes
