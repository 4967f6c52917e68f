"""Two ranks write arrays "typed" (declared int32) and "untyped" (global (2, 3), one row per
rank) in place with ``bridge.buffer()`` at t = 0, 1, between mistakes: an undeclared array,
no dtype for "untyped", the same timestep twice, a wrong dtype, a buffer after close. With
``--abandon``, a first buffer of "typed" at t=0 raises inside its with block (nothing may be
sent) before the same timestep is written again.

Values: "typed" is rank + 1 at t=0 and 10 * (rank + 1) at t=1; "untyped" is rank + 0.5 at t=0
(buffer, float32) and rank + 1.5 at t=1 (send).
Reports one dict: label -> None or [exception name, message, whether it is a ContractError].
Used by test_simulation_errors.py: test_buffer_errors, test_buffer_abandoned_then_sent_again.
"""

import sys

import numpy as np

from _support import error_of, report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
abandon = "--abandon" in sys.argv[3:]
results = {}


def attempt(label, fn):
    results[label] = error_of(fn)


def fill(name, t, dtype=None, value=None, fail=False):
    with b.buffer(name, t, dtype=dtype) as block:
        block[...] = value
        if fail:
            raise KeyError("simulation bug while writing")


meta = {"global_shape": (2, 3), "chunk_shape": (1, 3), "chunk_position": (rank, 0)}
b = Bridge(comm, {"typed": dict(meta, dtype="int32"), "untyped": meta}, timeout=20)
attempt("undeclared", lambda: fill("zzz", 0, value=1))
attempt("no dtype", lambda: fill("untyped", 0, value=1))
if abandon:
    attempt("raises inside", lambda: fill("typed", 0, value=-1, fail=True))
fill("typed", 0, value=rank + 1)  # an abandoned block does not count
fill("untyped", 0, dtype=np.float32, value=rank + 0.5)
attempt("twice", lambda: fill("typed", 0, value=9))
attempt("wrong dtype", lambda: fill("typed", 1, dtype=np.float64, value=9))
fill("typed", 1, value=10 * (rank + 1))
b.send("untyped", np.full((1, 3), rank + 1.5, dtype=np.float32), 1)
b.close()
attempt("after close", lambda: fill("typed", 2, value=0))
report(**results)
