"""Two ranks send, at t = 0 .. 3, "température" (float64, global (4, 3, 2), Fortran-ordered
blocks of (2, 3, 2): arange(24).reshape(4, 3, 2) + 100 * t) and "y" (int32, global (6,):
arange(6) + 10 * t): events with a non-ASCII name and several dimensions.

Used by test_analytics_api.py: test_events_larger_than_the_read_buffer_grow_it_and_arrive_whole.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
b = Bridge(comm, {"température": {"global_shape": (4, 3, 2), "chunk_shape": (2, 3, 2), "chunk_position": (rank, 0, 0)},
                  "y": {"global_shape": (6,), "chunk_shape": (3,), "chunk_position": (rank,)}}, timeout=20)
for t in range(4):
    block = np.asfortranarray(np.arange(12.0).reshape(2, 3, 2) + 100 * t + 12 * rank)
    b.send("température", block, t)
    b.send("y", np.arange(3, dtype=np.int32) + 3 * rank + 10 * t, t)
b.close()
