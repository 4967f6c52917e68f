"""Two ranks send "x" (float64 blocks of 512 KiB, global (2, 256, 256), filled with t) at
t = 0 .. 29, many more timesteps than the analytics' pool of 5 MiB holds; bridge timeout 5 s.

Used by test_analytics_api.py: test_memory_is_recycled_when_the_analytics_drops_its_arrays.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2, 256, 256), "chunk_shape": (1, 256, 256),
                        "chunk_position": (comm.rank, 0, 0)}}, timeout=5)
for t in range(30):
    b.send("x", np.full((1, 256, 256), t, dtype=np.float64), t)
b.close()
