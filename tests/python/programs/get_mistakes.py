"""Two ranks call ``bridge.get()`` with bad arguments (key not a str, empty key, timestep not
an int) and with keys never set, then send "x" at t=0 and close.

Reports one dict: label -> ["ok", repr of the answer] or [exception name, message].
Used by test_simulation_errors.py: test_get_argument_errors.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
results = {}


def attempt(label, fn):
    try:
        results[label] = ["ok", repr(fn())]
    except Exception as e:  # noqa: BLE001 - the error is what the test checks
        results[label] = [type(e).__name__, str(e)]


with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20) as b:
    attempt("key not str", lambda: b.get(5, 0))
    attempt("empty key", lambda: b.get("", 0))
    attempt("timestep not int", lambda: b.get("k", "0"))
    attempt("unknown key", lambda: b.get("nothing", 0, default=17))
    attempt("unknown key, no timestep", lambda: b.get("nothing"))
    b.send("x", np.array([comm.rank]), 0)
report(**results)
