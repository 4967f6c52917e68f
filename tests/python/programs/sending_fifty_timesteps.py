"""Two ranks send "x" (int64, one element per rank: t) at t = 0 .. 49 and close: long enough
for the test to kill a rank while it waits in send for back-pressure.

Used by test_failures.py: test_rank_killed_from_outside_while_waiting.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20)
for t in range(50):
    b.send("x", np.array([t], dtype=np.int64), t)
b.close()
