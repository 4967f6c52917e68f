"""Two ranks send float64 "array" of global (4, 4), two rows each: rank r fills its rows with
t * (r + 1) at t = 0 .. 3, then closes.

Used by test_security.py: test_rendezvous_socket_and_segments_are_private,
test_garbage_on_the_socket_does_not_hurt_the_run.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (4, 4), "chunk_shape": (2, 4), "chunk_position": (comm.rank, 0)}},
           timeout=60)
for t in range(4):
    b.send("array", np.full((2, 4), t * (comm.rank + 1), dtype=np.float64), t)
b.close()
