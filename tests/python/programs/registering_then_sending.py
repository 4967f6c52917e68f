"""A rank creates the file "registering-RANK" (so the test knows it is about to register),
opens its bridge (timeout 10 s), sends "x" (int64, one element per rank: t) at t = 0, 1, 2
and closes. The test starts the ranks one by one.

Used by test_failures.py: test_rank_dying_while_registering.
"""

import numpy as np

from _support import touch
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
touch(f"registering-{comm.rank}")
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=10)
for t in range(3):
    b.send("x", np.array([t], dtype=np.int64), t)
b.close()
