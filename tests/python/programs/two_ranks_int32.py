"""Two ranks send int32 array "array" of global shape (1, 2), one element each: rank r sends
t * (r + 1) at t = 0 .. 4, then closes at timestep 5.

Used by test_scenarios.py: test_sum_and_mean, test_window_of_two.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}},
           timeout=60)
for t in range(5):
    b.send("array", np.array([[t * (comm.rank + 1)]], dtype=np.int32), t)
b.close(5)
