"""Simulation side (docs/specification.md §3): every bad input gets its named error, and the run goes on.

Constructor validation is checked in-process (it fails before connecting); everything that
needs a running analytics uses real simulation processes.
"""

import re

import numpy as np
import pytest

from conftest import launch_ranks, segments_of
from deisa import Bridge, Deisa, Window

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


class Comm:
    def __init__(self, rank=0, size=2):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


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
        Bridge(Comm(), metadata, timeout=1)
    assert type(e.value) is exc, f"{case}: {type(e.value).__name__}: {e.value}"
    for w in words:
        assert w in str(e.value), f"{case}: {w!r} not in {str(e.value)!r}"


def test_rank_outside_world_is_refused(run_dir):
    with pytest.raises(ValueError, match="rank 2.*size 2"):
        Bridge(Comm(rank=2, size=2), meta(), timeout=1)


def test_bad_timeout_is_refused(run_dir):
    with pytest.raises(ValueError, match="timeout"):
        Bridge(Comm(), meta(), timeout=0)


def test_bad_failure_policy_is_refused(run_dir):
    with pytest.raises(ValueError, match="on_analytics_failure"):
        Bridge(Comm(), meta(), timeout=1, on_analytics_failure="ignore")


# -------------------------------------------------------------------- a run full of mistakes

MISTAKES = '''
from deisa import Bridge, ContractError

results = {}

def attempt(label, fn):
    try:
        fn()
        results[label] = None
    except Exception as e:
        results[label] = [type(e).__name__, str(e), isinstance(e, ContractError)]

# Every bad constructor input first: none of them may disturb the real bridge below.
good = {"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, rank)}
attempt("comm None", lambda: Bridge(None, {"a": good}, timeout=5))
attempt("not a mapping", lambda: Bridge(comm, [("a", good)], timeout=5))
attempt("missing key", lambda: Bridge(comm, {"a": {"global_shape": (4, 6), "chunk_shape": (4, 3)}}, timeout=5))
attempt("outside grid", lambda: Bridge(comm, {"a": dict(good, chunk_position=(0, 4))}, timeout=5))

if rank == 0:   # tuples and lists
    a_meta = {"global_shape": [4, 6], "chunk_shape": (4, 3), "chunk_position": [0, 0]}
    d_meta = {"global_shape": (2, 2), "chunk_shape": [2, 1], "chunk_position": (0, 0), "dtype": "float32"}
else:           # 1-D numpy integer arrays
    a_meta = {"global_shape": np.array([4, 6]), "chunk_shape": np.array([4, 3], dtype=np.int32),
              "chunk_position": np.array([0, 1], dtype=np.uint8)}
    d_meta = {"global_shape": np.array([2, 2]), "chunk_shape": np.array([2, 1]), "chunk_position": np.array([0, 1]),
              "dtype": np.float32}

def A(t):
    return (np.arange(24, dtype=np.float64).reshape(4, 6) + 100 * t)[:, 3 * rank:3 * rank + 3]

def D(t):
    return (np.array([[1, 2], [3, 4]], dtype=np.float32) * (t + 1))[:, rank:rank + 1]

with Bridge(comm, {"a": a_meta, "d": d_meta}, timeout=20) as b:
    attempt("undeclared", lambda: b.send("zzz", A(0), 0))
    attempt("wrong shape", lambda: b.send("a", np.zeros((3, 4)), 0))
    attempt("wrong ndim", lambda: b.send("a", np.zeros(12), 0))
    attempt("declared dtype", lambda: b.send("d", D(0).astype(np.float64), 0))
    attempt("name not str", lambda: b.send(b"a", A(0), 0))
    attempt("timestep not int", lambda: b.send("a", A(0), "0"))
    attempt("unsupported dtype", lambda: b.send("a", A(0).astype(object), 0))
    b.send("a", A(0), 0)
    b.send("d", D(0), 0)
    attempt("twice", lambda: b.send("a", A(0), 0))

    # t=1: non-contiguous input (every other column of a bigger array)
    big = np.full((4, 6), -1.0)
    big[:, ::2] = A(1)
    assert not big[:, ::2].flags.c_contiguous and not big[:, ::2].flags.f_contiguous
    b.send("a", big[:, ::2], 1)
    dbig = np.full((4, 2), -1, dtype=np.float32)
    dbig[::2, ::2] = D(1)
    b.send("d", dbig[::2, ::2], 1)

    # t=2: Fortran-ordered input
    b.send("a", np.asfortranarray(A(2)), 2)
    b.send("d", np.asfortranarray(D(2)), 2)

    # t=3: 'a' has no declared dtype: the first rank's dtype at this timestep decides
    if rank == 0:
        b.send("a", A(3), 3)
        open("rank0-sent-t3", "w").close()
    else:
        while not os.path.exists("rank0-sent-t3"):
            time.sleep(0.01)
        attempt("other rank's dtype", lambda: b.send("a", A(3).astype(np.float32), 3))
        b.send("a", A(3), 3)
    b.send("d", D(3), 3)

    attempt("older", lambda: b.send("a", A(2), 2))
    b.send("a", A(4), 4)
    b.send("d", D(4), 4)
    attempt("older after newer", lambda: b.send("d", D(3), 3))
    # Contiguous blocks like the ones already sent take send()'s short way: the same errors
    attempt("again: wrong shape", lambda: b.send("a", np.zeros((3, 4)), 5))
    attempt("again: other dtype", lambda: b.send("d", np.ascontiguousarray(D(5), dtype=np.float64), 5))
    attempt("again: twice", lambda: b.send("a", np.ascontiguousarray(A(4)), 4))
    attempt("again: older", lambda: b.send("d", np.ascontiguousarray(D(3)), 3))
    attempt("again: timestep beyond 64 bits", lambda: b.send("a", np.ascontiguousarray(A(5)), 1 << 63))
    a5 = np.ascontiguousarray(A(5))
    a5.flags.writeable = False  # a read-only block
    b.send("a", a5, 5)
    b.send("d", np.ascontiguousarray(D(5)), 5)
    # leaving the with block closes the bridge

attempt("send after close", lambda: b.send("a", A(6), 6))
attempt("again: send after close", lambda: b.send("a", np.ascontiguousarray(A(6)), 6))
attempt("get after close", lambda: b.get("foo", 0))
attempt("close again", lambda: b.close())
attempt("close again with timestep", lambda: b.close(7))
report(**results)
'''


def expected_a(t):
    return np.arange(24, dtype=np.float64).reshape(4, 6) + 100 * t


def expected_d(t):
    return np.array([[1, 2], [3, 4]], dtype=np.float32) * (t + 1)


@pytest.fixture(scope="module")
def mistakes_run(tmp_path_factory):
    """One run (two ranks) making every mistake; the tests below look at its reports."""
    run_dir = tmp_path_factory.mktemp("mistakes")
    rendezvous = str(run_dir / ".deisa")
    sim = launch_ranks(run_dir, MISTAKES, ranks=2, env={"DEISA_RENDEZVOUS": rendezvous})
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

LAYOUT = '''
try:
    b = Bridge(comm, {"temp": DECLS[rank]}, timeout=20)
    report(error=None)
    b.close()
except Exception as e:
    report(error=[type(e).__name__, str(e)])
'''

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
    sim = simulation(f"DECLS = {decls!r}\n" + LAYOUT, ranks=len(decls))
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
    sim = simulation('''
if rank == 0:
    m = {"global_shape": [100], "chunk_shape": [34], "chunk_position": [0]}
elif rank == 1:
    m = {"global_shape": np.array([100]), "chunk_shape": np.array([33], dtype=np.int16), "chunk_position": np.array([1])}
else:
    m = {"global_shape": (np.int64(100),), "chunk_shape": (np.uint32(33),), "chunk_position": (np.int8(2),)}
start = [0, 34, 67][rank]
n = m["chunk_shape"][0]
with Bridge(comm, {"x": m}, timeout=20) as b:
    for t in range(2):
        b.send("x", np.arange(start, start + n, dtype=np.int64) * (t + 1), t)
''', ranks=3)
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
    sim = simulation('''
try:
    with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20) as b:
        b.send("x", np.array([rank + 1]), 0)
        raise KeyError("simulation bug")
except KeyError:
    pass
try:
    b.send("x", np.array([rank + 1]), 1)
    report(after=None)
except RuntimeError as e:
    report(after=str(e))
''')
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append((x[0].t, x[0].compute().tolist())), "x")
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(0, [1, 2])]
    for (r,) in reports:
        assert r["after"] is not None and "close" in r["after"]


# -------------------------------------------------------------------- buffer(), timesteps, get()

BUFFERS = '''
results = {}

def attempt(label, fn):
    try:
        fn()
        results[label] = None
    except Exception as e:
        results[label] = [type(e).__name__, str(e)]

def fill(name, t, dtype=None, value=None, fail=False):
    with b.buffer(name, t, dtype=dtype) as block:
        block[...] = value
        if fail:
            raise KeyError("simulation bug while writing")

meta = {"global_shape": (2, 3), "chunk_shape": (1, 3), "chunk_position": (rank, 0)}
b = Bridge(comm, {"typed": dict(meta, dtype="int32"), "untyped": meta}, timeout=20)
attempt("undeclared", lambda: fill("zzz", 0, value=1))
attempt("no dtype", lambda: fill("untyped", 0, value=1))
if ABANDON:
    attempt("raises inside", lambda: fill("typed", 0, value=-1, fail=True))
fill("typed", 0, value=rank + 1)                       # an abandoned block does not count
fill("untyped", 0, dtype=np.float32, value=rank + 0.5)
attempt("twice", lambda: fill("typed", 0, value=9))
attempt("wrong dtype", lambda: fill("typed", 1, dtype=np.float64, value=9))
fill("typed", 1, value=10 * (rank + 1))
b.send("untyped", np.full((1, 3), rank + 1.5, dtype=np.float32), 1)
b.close()
attempt("after close", lambda: fill("typed", 2, value=0))
report(**results)
'''


def run_buffers(simulation, abandon):
    sim = simulation(f"ABANDON = {abandon}\n" + BUFFERS)
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
    sim = simulation('''
results = {}

def attempt(label, fn):
    try:
        fn()
        results[label] = None
    except Exception as e:
        results[label] = [type(e).__name__, str(e)]

b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
for t in (-(2 ** 63), -5, np.int64(-1), np.int32(7), 2 ** 63 - 1):
    b.send("x", np.array([rank], dtype=np.int8), t)
attempt("too big", lambda: b.send("x", np.array([rank], dtype=np.int8), 2 ** 63))
attempt("float", lambda: b.send("x", np.array([rank], dtype=np.int8), 3.0))
attempt("bool", lambda: b.send("x", np.array([rank], dtype=np.int8), True))
b.close()
report(**results)
''')
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
    sim = simulation('''
results = {}

def attempt(label, fn):
    try:
        results[label] = ["ok", repr(fn())]
    except Exception as e:
        results[label] = [type(e).__name__, str(e)]

with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20) as b:
    attempt("key not str", lambda: b.get(5, 0))
    attempt("empty key", lambda: b.get("", 0))
    attempt("timestep not int", lambda: b.get("k", "0"))
    attempt("unknown key", lambda: b.get("nothing", 0, default=17))
    attempt("unknown key, no timestep", lambda: b.get("nothing"))
    b.send("x", np.array([rank]), 0)
report(**results)
''')
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
    sim = simulation(f"DECLS = {decls!r}\n" + LAYOUT)
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
    sim = simulation('''
arrays = {}
if rank < 2:
    arrays["x"] = {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}
if rank == 0:
    arrays["solo"] = {"global_shape": (3,), "chunk_shape": (3,), "chunk_position": (0,)}
with Bridge(comm, arrays, timeout=20) as b:
    for t in range(3):
        if rank < 2:
            b.send("x", np.array([t + rank], dtype=np.int64), t)
        if rank == 0:
            b.send("solo", np.arange(3) * t, t)
    if rank == 2:
        try:
            b.send("x", np.array([0]), 0)
        except ContractError as e:
            report(error=str(e))
''', ranks=3)
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x, solo: seen.append((x[0].t, x[0].compute().tolist(), solo[0].compute().tolist())),
                        "x", "solo")
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(t, [t, t + 1], [0, t, 2 * t]) for t in range(3)]
    assert "'x'" in reports[2][0]["error"] and "[]" in reports[2][0]["error"]
