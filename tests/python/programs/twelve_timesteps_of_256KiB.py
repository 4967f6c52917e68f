"""Two ranks send "x" (float64 blocks of 256 KiB, global (2, 128, 256), filled with
10 * t + rank) at t = 0 .. 11: more timesteps than the analytics' pool of 3 MiB holds, so
that it must recycle memory.

Used by test_dask_arrays.py: test_kept_views_are_never_overwritten_by_later_timesteps.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
with Bridge(comm, {"x": {"global_shape": (2, 128, 256), "chunk_shape": (1, 128, 256),
                         "chunk_position": (comm.rank, 0, 0)}}, timeout=20) as b:
    for t in range(12):
        b.send("x", np.full((1, 128, 256), t * 10 + comm.rank, dtype=np.float64), t)
