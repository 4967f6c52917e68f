"""Two ranks send, at t = 0 .. 29, "big" (a float64 block of 512 KiB each, global (2, 256, 256))
and "x" (global (1, 2), int64: t); the test's callbacks read "x" only. Bridge timeout 5 s.

Used by test_analytics_api.py: test_arrays_no_callback_needs_are_released_at_once.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)},
                  "big": {"global_shape": (2, 256, 256), "chunk_shape": (1, 256, 256),
                          "chunk_position": (comm.rank, 0, 0)}},
           timeout=5)
block = np.zeros((1, 256, 256))
for t in range(30):
    b.send("big", block, t)
    b.send("x", np.array([[t]], dtype=np.int64), t)
b.close()
