"""Two ranks send "x" (rank r sends [r + 1]) at t = 0, then raise KeyError inside
``with Bridge(...)``: leaving the block closes the bridge. A send after it must fail.

Reports ``after``: the message of the send after the with block (None if it was accepted).
Used by test_simulation_errors.py: test_with_block_closes_the_bridge_on_an_exception.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
try:
    with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}},
                timeout=20) as b:
        b.send("x", np.array([comm.rank + 1]), 0)
        raise KeyError("simulation bug")
except KeyError:
    pass
try:
    b.send("x", np.array([comm.rank + 1]), 1)
    report(after=None)
except RuntimeError as e:
    report(after=str(e))
