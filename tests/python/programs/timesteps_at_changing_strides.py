"""Three ranks send "x" (float64, global (3, 4), one row each filled with 10 * t + rank) at the
timesteps given as arguments (strides that change, so that the analytics' guess of the next
timestep is sometimes wrong).

Usage: python timesteps_at_changing_strides.py RANK SIZE T1 T2 ...
Used by test_dask_arrays.py: test_timesteps_at_changing_strides_arrive_intact.
"""

import sys

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
with Bridge(comm, {"x": {"global_shape": (3, 4), "chunk_shape": (1, 4), "chunk_position": (comm.rank, 0)}},
            timeout=20) as b:
    for t in map(int, sys.argv[3:]):
        b.send("x", np.full((1, 4), t * 10 + comm.rank, dtype=np.float64), t)
