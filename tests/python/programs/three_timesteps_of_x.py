"""Two ranks send "x" (int64, one element per rank) at t = 0, 1, 2: rank r sends r + STRIDE * t.

Usage: python three_timesteps_of_x.py RANK SIZE STRIDE
Used by test_failures.py: test_next_analytics_removes_the_leftovers_of_a_crashed_one (STRIDE 1);
test_dask_arrays.py: test_arrays_kept_in_process_after_the_run (STRIDE 10).
"""

import sys

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
stride = int(sys.argv[3])
with Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20) as b:
    for t in range(3):
        b.send("x", np.array([comm.rank + stride * t], dtype=np.int64), t)
