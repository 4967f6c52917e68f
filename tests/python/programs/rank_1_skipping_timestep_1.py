"""A logical flow violation: rank 0 sends "array" (global (1, 2), int32) at timesteps 1 and 2,
rank 1 only at 2 (it skips 1); both close.

Used by test_scenarios.py: test_logical_flow_violation.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}},
           timeout=60)
for t in [1, 2] if comm.rank == 0 else [2]:
    b.send("array", np.array([[t]], dtype=np.int32), t)
b.close()
