"""Two ranks make every mistake a simulation can make, each next to correct calls, and report
the error of each (None if there was none): bad Bridge() arguments, bad sends (undeclared
array, wrong shape, ndim or dtype, bad name or timestep, the same timestep twice, older
timesteps, a dtype another rank chose first, a timestep beyond 64 bits), then calls after
close. Between the mistakes the ranks send arrays "a" (float64, no declared dtype) and "d"
(declared float32) at t = 0 .. 5, as C-ordered, non-contiguous, Fortran-ordered and
read-only blocks; rank 0 declares the metadata with tuples and lists, rank 1 with numpy
arrays.

Reports one dict: label -> None or [exception name, message, whether it is a ContractError].
Used by test_simulation_errors.py: the mistakes_run fixture (test_run_with_mistakes_loses_nothing,
test_mistake_gets_its_named_error, test_dtype_of_another_rank_at_the_same_timestep,
test_close_is_idempotent).
"""

import numpy as np

from _support import error_of, report, touch, wait_for_file
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
results = {}


def attempt(label, fn):
    results[label] = error_of(fn)


# Every bad constructor input first: none of them may disturb the real bridge below.
good = {"global_shape": (4, 6), "chunk_shape": (4, 3), "chunk_position": (0, rank)}
attempt("comm None", lambda: Bridge(None, {"a": good}, timeout=5))
attempt("not a mapping", lambda: Bridge(comm, [("a", good)], timeout=5))
attempt("missing key", lambda: Bridge(comm, {"a": {"global_shape": (4, 6), "chunk_shape": (4, 3)}}, timeout=5))
attempt("outside grid", lambda: Bridge(comm, {"a": dict(good, chunk_position=(0, 4))}, timeout=5))

if rank == 0:  # tuples and lists
    a_meta = {"global_shape": [4, 6], "chunk_shape": (4, 3), "chunk_position": [0, 0]}
    d_meta = {"global_shape": (2, 2), "chunk_shape": [2, 1], "chunk_position": (0, 0), "dtype": "float32"}
else:  # 1-D numpy integer arrays
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
        touch("rank0-sent-t3")
    else:
        wait_for_file("rank0-sent-t3")
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
