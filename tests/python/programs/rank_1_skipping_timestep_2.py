"""A logical flow violation after complete timesteps: two ranks send "x" (global (1, 2), int64:
t) at t = 0 .. 4, except that rank 1 skips t=2; both close.

Used by test_analytics_api.py: test_flow_violation_after_complete_timesteps.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
for t in range(5):
    if comm.rank == 1 and t == 2:
        continue
    b.send("x", np.array([[t]], dtype=np.int64), t)
b.close()
