"""Simulation side (docs/specification.md §3): every bad input gets its named error, and the run goes on.

Constructor validation is checked in-process (it fails before connecting); everything that
needs a running analytics uses real simulation processes.
"""

import json
import re
import types

import numpy as np
import pytest

from conftest import launch_ranks, segments_of
from deisa import Bridge, Deisa, Window
from deisa.testing import Comm

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


GOOD = {"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, 0)}


def meta(**changes):
    """The metadata of array 'temp' with some keys changed (None removes a key)."""
    m = dict(GOOD)
    m.update(changes)
    return {"temp": {k: v for k, v in m.items() if v is not None}}


# -------------------------------------------------------------------- constructor validation

def test_comm_none_is_refused(run_dir):
    with pytest.raises(ValueError, match="^comm is required$"):
        Bridge(None, meta(), timeout=1)


def test_comm_without_rank_and_size_is_refused(run_dir):
    with pytest.raises(TypeError, match="Get_rank"):
        Bridge(object(), meta(), timeout=1)


# (metadata, exception, words the message must contain)
BAD_METADATA = {
    "not a mapping": ([("temp", GOOD)], TypeError, ["arrays_metadata", "mapping", "list"]),
    "key not str": ({7: GOOD}, TypeError, ["arrays_metadata", "7"]),
    "value not a mapping": ({"temp": [4, 6]}, TypeError, ["'temp'", "mapping"]),
    "value is None": ({"temp": None}, TypeError, ["'temp'", "mapping"]),
    "missing key": (meta(chunk_position=None), ValueError, ["'temp'", "chunk_position", "missing"]),
    "missing two keys": (meta(chunk_position=None, global_shape=None), ValueError,
                         ["'temp'", "chunk_position", "global_shape"]),
    "unknown key": (meta(chunk_size=(4, 3)), ValueError, ["'temp'", "chunk_size", "unknown"]),
    "zero global size": (meta(global_shape=(0, 6)), ValueError, ["'temp'", "global_shape", "(0, 6)"]),
    "negative global size": (meta(global_shape=(4, -6)), ValueError, ["'temp'", "global_shape"]),
    "zero chunk size": (meta(chunk_shape=(4, 0)), ValueError, ["'temp'", "chunk_shape", "(4, 0)"]),
    "negative chunk size": (meta(chunk_shape=(-4, 3)), ValueError, ["'temp'", "chunk_shape"]),
    "negative position": (meta(chunk_position=(0, -1)), ValueError, ["'temp'", "chunk_position", "(0, -1)"]),
    "position outside grid (dim 1)": (meta(chunk_position=(0, 4)), ValueError, ["'temp'", "chunk_position", "(0, 4)"]),
    "position outside grid (dim 0)": (meta(chunk_position=(1, 0)), ValueError, ["'temp'", "chunk_position", "(1, 0)"]),
    "chunk larger than global": (meta(chunk_shape=(5, 3)), ValueError, ["'temp'", "chunk_shape", "global_shape"]),
    "chunk_shape rank mismatch": (meta(chunk_shape=(4,)), ValueError, ["'temp'", "chunk_shape", "same length"]),
    "position rank mismatch": (meta(chunk_position=(0, 0, 0)), ValueError, ["'temp'", "chunk_position", "same length"]),
    "global rank mismatch": (meta(global_shape=(4, 6, 1)), ValueError, ["'temp'", "global_shape", "same length"]),
    "zero dimensions": (meta(global_shape=(), chunk_shape=(), chunk_position=()), ValueError, ["'temp'", "global_shape"]),
    "float sizes": (meta(global_shape=(4.0, 6)), TypeError, ["'temp'", "global_shape", "integers"]),
    "bool sizes": (meta(chunk_shape=(True, 3)), TypeError, ["'temp'", "chunk_shape"]),
    "string shape": (meta(global_shape="46"), TypeError, ["'temp'", "global_shape"]),
    "scalar shape": (meta(global_shape=24), TypeError, ["'temp'", "global_shape"]),
    "2-D numpy shape": (meta(global_shape=np.array([[4, 6]])), TypeError, ["'temp'", "global_shape", "1-D"]),
    "float numpy shape": (meta(global_shape=np.array([4.0, 6.0])), TypeError, ["'temp'", "global_shape", "float64"]),
    "unsupported dtype": (meta(dtype=object), TypeError, ["'temp'", "dtype", "object"]),
    "not a dtype": (meta(dtype="no-such-type"), TypeError, ["'temp'", "dtype", "no-such-type"]),
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_bad_metadata_gets_a_named_error(run_dir, case):
    metadata, exc, words = BAD_METADATA[case]
    with pytest.raises(exc) as e:
        Bridge(Comm(0, 2), metadata, timeout=1)
    assert type(e.value) is exc, f"{case}: {type(e.value).__name__}: {e.value}"
    for w in words:
        assert w in str(e.value), f"{case}: {w!r} not in {str(e.value)!r}"


def test_rank_outside_world_is_refused(run_dir):
    # A communicator that says rank 2 of 2 (deisa.testing.Comm refuses to be one).
    broken = types.SimpleNamespace(Get_rank=lambda: 2, Get_size=lambda: 2)
    with pytest.raises(ValueError, match="rank 2.*size 2"):
        Bridge(broken, meta(), timeout=1)


def test_bad_timeout_is_refused(run_dir):
    with pytest.raises(ValueError, match="timeout"):
        Bridge(Comm(0, 2), meta(), timeout=0)


def test_bad_failure_policy_is_refused(run_dir):
    with pytest.raises(ValueError, match="on_analytics_failure"):
        Bridge(Comm(0, 2), meta(), timeout=1, on_analytics_failure="ignore")


# -------------------------------------------------------------------- a run full of mistakes

def expected_a(t):
    return np.arange(24, dtype=np.float64).reshape(4, 6) + 100 * t


def expected_d(t):
    return np.array([[1, 2], [3, 4]], dtype=np.float32) * (t + 1)


@pytest.fixture(scope="module")
def mistakes_run(tmp_path_factory):
    """One run (two ranks) making every mistake; the tests below look at its reports."""
    run_dir = tmp_path_factory.mktemp("mistakes")
    rendezvous = str(run_dir / ".deisa")
    sim = launch_ranks(run_dir, "every_mistake.py", ranks=2, env={"DEISA_RENDEZVOUS": rendezvous})
    d = Deisa(timeout=30, rendezvous=rendezvous)
    seen = {}

    @d.register(Window("a"), Window("d"))
    def cb(a, d):
        a, dd = a[0], d[0]
        seen[a.t] = (a.compute(), dd.compute(), a.dtype, dd.dtype, dd.t)

    try:
        d.execute_callbacks()
        reports = sim.wait(timeout=60)
    finally:
        for p in sim.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert segments_of(d.session) == [], "shared memory left behind"
    return [r[0] for r in reports], seen


def test_run_with_mistakes_loses_nothing(mistakes_run):
    _, seen = mistakes_run
    assert sorted(seen) == [0, 1, 2, 3, 4, 5]
    for t, (a, dd, adt, ddt, dt) in seen.items():
        assert adt == np.float64 and ddt == np.float32 and dt == t
        np.testing.assert_array_equal(a, expected_a(t), err_msg=f"array 'a' at timestep {t}")
        np.testing.assert_array_equal(dd, expected_d(t), err_msg=f"array 'd' at timestep {t}")


# label -> (exception name, words in the message); "rank" in a word is formatted per rank
SEND_ERRORS = {
    "comm None": ("ValueError", ["comm is required"]),
    "not a mapping": ("TypeError", ["arrays_metadata"]),
    "missing key": ("ValueError", ["'a'", "chunk_position"]),
    "outside grid": ("ValueError", ["'a'", "chunk_position", "(0, 4)"]),
    "undeclared": ("ContractError", ["'zzz'", "'a'", "'d'"]),
    "wrong shape": ("ValueError", ["'a'", "(3, 4)", "(4, 3)"]),
    "wrong ndim": ("ValueError", ["'a'", "(12,)", "(4, 3)"]),
    "declared dtype": ("TypeError", ["'d'", "float32", "float64"]),
    "name not str": ("TypeError", ["name"]),
    "timestep not int": ("TypeError", ["timestep"]),
    "unsupported dtype": ("TypeError", ["'a'", "object"]),
    "twice": ("ValueError", ["'a'", "timestep 0", "already"]),
    "older": ("ValueError", ["timestep 2", "older"]),
    "older after newer": ("ValueError", ["timestep 3", "older"]),
    "send after close": ("RuntimeError", ["close"]),
    "again: wrong shape": ("ValueError", ["'a'", "(3, 4)", "(4, 3)"]),
    "again: other dtype": ("TypeError", ["'d'", "float32", "float64"]),
    "again: twice": ("ValueError", ["'a'", "timestep 4", "already"]),
    "again: older": ("ValueError", ["timestep 3", "older"]),
    "again: timestep beyond 64 bits": ("ValueError", ["64 bits"]),
    "again: send after close": ("RuntimeError", ["close"]),
    "get after close": ("RuntimeError", ["close"]),
}


@pytest.mark.parametrize("label", list(SEND_ERRORS))
def test_mistake_gets_its_named_error(mistakes_run, label):
    reports, _ = mistakes_run
    name, words = SEND_ERRORS[label]
    for rank, r in enumerate(reports):
        got = r[label]
        assert got is not None, f"rank {rank}: {label}: no error"
        assert got[0] == name, f"rank {rank}: {label}: {got}"
        assert got[2] == (name == "ContractError")
        for w in words:
            assert w in got[1], f"rank {rank}: {label}: {w!r} not in {got[1]!r}"


def test_dtype_of_another_rank_at_the_same_timestep(mistakes_run):
    reports, _ = mistakes_run
    got = reports[1]["other rank's dtype"]
    assert got is not None and got[0] == "TypeError", got
    msg = got[1]
    assert "'a'" in msg and "float32" in msg and "float64" in msg and "rank 0" in msg, msg


def test_close_is_idempotent(mistakes_run):
    reports, _ = mistakes_run
    for r in reports:
        assert r["close again"] is None and r["close again with timestep"] is None


# -------------------------------------------------------------------- layouts of several ranks

LAYOUT_ERRORS = {
    "overlap": ([{"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, 0)},
                 {"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, 0)}],
                ["'temp'", "overlap", r"ranks (0 and 1|1 and 0)", r"\(0, 0\)"]),
    "hole along a dimension": ([{"global_shape": (4, 6), "chunk_shape": (4, 2), "chunk_position": (0, 0)},
                                {"global_shape": (4, 6), "chunk_shape": (4, 2), "chunk_position": (0, 1)}],
                               ["'temp'", "hole", r"rank 0\b", r"rank 1\b"]),
    "overlap along a dimension": ([{"global_shape": (4, 6), "chunk_shape": (4, 4), "chunk_position": (0, 0)},
                                   {"global_shape": (4, 6), "chunk_shape": (4, 4), "chunk_position": (0, 1)}],
                                  ["'temp'", "overlap", r"rank 0\b", r"rank 1\b"]),
    "empty grid line": ([{"global_shape": (4, 6), "chunk_shape": (4, 2), "chunk_position": (0, 0)},
                         {"global_shape": (4, 6), "chunk_shape": (4, 2), "chunk_position": (0, 2)}],
                        ["'temp'", "hole", "grid line 1"]),
    "grid line sizes disagree": ([{"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, 0)},
                                  {"global_shape": (4, 6), "chunk_shape": (3, 3), "chunk_position": (0, 1)}],
                                 ["'temp'", r"rank 0\b", r"rank 1\b", "grid line"]),
    "global shapes disagree": ([{"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, 0)},
                                {"global_shape": (4, 7), "chunk_shape": (4, 3), "chunk_position": (0, 1)}],
                               ["'temp'", r"ranks (0 and 1|1 and 0)", "global_shape"]),
    "missing corner": ([{"global_shape": (2, 2), "chunk_shape": (1, 1), "chunk_position": (0, 0)},
                        {"global_shape": (2, 2), "chunk_shape": (1, 1), "chunk_position": (0, 1)},
                        {"global_shape": (2, 2), "chunk_shape": (1, 1), "chunk_position": (1, 0)}],
                       ["'temp'", "hole", r"\(1, 1\)"]),
}


@pytest.mark.parametrize("case", list(LAYOUT_ERRORS))
def test_layout_errors_reach_every_bridge_and_the_analytics(simulation, case):
    decls, words = LAYOUT_ERRORS[case]
    sim = simulation("declaring_a_layout.py", ranks=len(decls), args=[json.dumps(decls)])
    d = Deisa(timeout=20)
    d.register_callback(lambda temp: None, "temp")
    with pytest.raises(ValueError) as e:
        d.execute_callbacks()
    reports = sim.wait(timeout=40)
    for w in words:  # regular expressions
        assert re.search(w, str(e.value)), f"analytics: {w!r} not in {str(e.value)!r}"
    for rank, (r,) in enumerate(reports):
        assert r["error"] is not None, f"rank {rank} was not told about the bad layout"
        assert r["error"][0] == "ValueError", f"rank {rank}: {r['error']}"
        assert r["error"][1] == str(e.value), f"rank {rank} got another message: {r['error'][1]!r}"


def test_lists_and_numpy_arrays_give_the_same_layout(simulation):
    sim = simulation("shapes_as_lists_and_numpy_arrays.py", ranks=3)
    d = Deisa(timeout=30)
    seen = {}
    d.register_callback(lambda x: seen.__setitem__(x[0].t, (x[0].chunks, x[0].compute())), "x")
    d.execute_callbacks()
    sim.wait()
    assert sorted(seen) == [0, 1]
    for t, (chunks, values) in seen.items():
        assert chunks == ((34, 33, 33),)
        np.testing.assert_array_equal(values, np.arange(100) * (t + 1))


def test_with_block_closes_the_bridge_on_an_exception(simulation):
    """An exception inside ``with Bridge(...)`` still closes the bridge: the analytics ends."""
    sim = simulation("exception_inside_with_bridge.py")
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append((x[0].t, x[0].compute().tolist())), "x")
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(0, [1, 2])]
    for (r,) in reports:
        assert r["after"] is not None and "close" in r["after"]


# -------------------------------------------------------------------- buffer(), timesteps, get()

def run_buffers(simulation, abandon):
    sim = simulation("buffer_mistakes.py", args=["--abandon"] if abandon else [])
    d = Deisa(timeout=20)
    seen = {}

    @d.register("typed", "untyped")
    def cb(typed, untyped):
        seen[typed[0].t] = (typed[0].compute(), untyped[0].compute())

    d.execute_callbacks()
    reports = sim.wait()
    assert sorted(seen) == [0, 1]
    np.testing.assert_array_equal(seen[0][0], np.array([[1] * 3, [2] * 3], dtype=np.int32))
    np.testing.assert_array_equal(seen[0][1], np.array([[0.5] * 3, [1.5] * 3], dtype=np.float32))
    np.testing.assert_array_equal(seen[1][0], np.array([[10] * 3, [20] * 3], dtype=np.int32))
    np.testing.assert_array_equal(seen[1][1], np.array([[1.5] * 3, [2.5] * 3], dtype=np.float32))
    for (r,) in reports:
        assert r["undeclared"][0] == "ContractError" and "'zzz'" in r["undeclared"][1]
        assert r["no dtype"][0] == "TypeError" and "'untyped'" in r["no dtype"][1]
        assert r["twice"][0] == "ValueError" and "already" in r["twice"][1]
        assert r["wrong dtype"][0] == "TypeError"
        assert r["after close"][0] == "RuntimeError"
    return reports


def test_buffer_errors(simulation):
    """buffer(): undeclared array -> ContractError, no dtype -> TypeError, same timestep twice
    -> ValueError, after close -> RuntimeError; the values written in place arrive."""
    run_buffers(simulation, abandon=False)


def test_buffer_abandoned_then_sent_again(simulation):
    """If the with block raises, nothing is sent: the same timestep can then be sent."""
    for (r,) in run_buffers(simulation, abandon=True):
        assert r["raises inside"][0] == "KeyError"


def test_timesteps_are_signed_64_bit(simulation):
    sim = simulation("extreme_timesteps.py")
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append((x[0].t, x[0].compute().tolist())), "x")
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(t, [0, 1]) for t in (-(2 ** 63), -5, -1, 7, 2 ** 63 - 1)]
    assert all(type(t) is int for t, _ in seen)
    for (r,) in reports:
        assert r["too big"][0] == "ValueError"
        assert r["float"][0] == "TypeError" and r["bool"][0] == "TypeError"


def test_get_argument_errors(simulation):
    sim = simulation("get_mistakes.py")
    d = Deisa(timeout=20)
    d.register_callback(lambda x: None, "x")
    d.execute_callbacks()
    for (r,) in sim.wait():
        assert r["key not str"][0] == "TypeError"
        assert r["empty key"][0] == "ValueError"
        assert r["timestep not int"][0] == "TypeError"
        assert r["unknown key"] == ["ok", "17"]
        assert r["unknown key, no timestep"] == ["ok", "None"]


def test_ranks_declaring_different_dtypes(simulation):
    decls = [{"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (0,), "dtype": "float32"},
             {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (1,), "dtype": "float64"}]
    sim = simulation("declaring_a_layout.py", args=[json.dumps(decls)])
    d = Deisa(timeout=20)
    d.register_callback(lambda temp: None, "temp")
    with pytest.raises(TypeError) as e:
        d.execute_callbacks()
    msg = str(e.value)
    assert "'temp'" in msg and "float32" in msg and "float64" in msg
    assert re.search(r"ranks (0 and 1|1 and 0)", msg), msg
    for (r,) in sim.wait(timeout=40):
        assert r["error"] is not None and r["error"][0] == "TypeError" and r["error"][1] == msg


def test_ranks_owning_different_arrays_or_none(simulation):
    """Rank 2 owns no block at all (it only closes); 'solo' lives on rank 0 alone."""
    sim = simulation("ranks_owning_different_arrays.py", ranks=3)
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x, solo: seen.append((x[0].t, x[0].compute().tolist(), solo[0].compute().tolist())),
                        "x", "solo")
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(t, [t, t + 1], [0, t, 2 * t]) for t in range(3)]
    assert "'x'" in reports[2][0]["error"] and "[]" in reports[2][0]["error"]
