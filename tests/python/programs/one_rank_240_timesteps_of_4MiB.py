"""One rank sends "array", a (1024, 1024) float32 block (4 MiB) whose [0, 0] is t, at 240
timesteps: many more than a pool of 80 MiB holds at once.

Used by test_scenarios.py: test_pool_recycles_over_many_timesteps.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1024, 1024), "chunk_shape": (1024, 1024), "chunk_position": (0, 0)}},
           timeout=60)
block = np.zeros((1024, 1024), dtype=np.float32)
for t in range(240):
    block[0, 0] = t
    b.send("array", block, t)
b.close()
