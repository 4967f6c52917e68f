"""Two ranks send "x", a float64 vector of 8 in blocks of 4: arange(8) + 10 * t at t = 0, 1, 2.

Used by test_dask_arrays.py: test_callbacks_compute_on_a_dask_distributed_cluster.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
with Bridge(comm, {"x": {"global_shape": (8,), "chunk_shape": (4,), "chunk_position": (comm.rank,)}}, timeout=20) as b:
    for t in range(3):
        b.send("x", np.arange(4.0) + 4 * comm.rank + 10 * t, t)
