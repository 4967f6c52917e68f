"""Two ranks send "array" (global (1, 2), int32) at timestep 3 only: rank r sends 3 * (r + 1);
then close at timestep 5.

Used by test_scenarios.py: test_only_one_timestep.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}},
           timeout=60)
b.send("array", np.array([[3 * (comm.rank + 1)]], dtype=np.int32), 3)
b.close(5)
