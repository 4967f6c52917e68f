"""Every rank sends "x" (int64, one element per rank: t) at t = 0, 1, 2, then kills itself
(SIGKILL) instead of closing, as when the whole job is killed.

Used by test_failures.py: test_whole_simulation_killed.
"""

import os
import signal
import time

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20)
for t in range(3):
    b.send("x", np.array([t], dtype=np.int64), t)
time.sleep(0.3)
os.kill(os.getpid(), signal.SIGKILL)
