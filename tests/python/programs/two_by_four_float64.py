"""Two ranks send "x", a float64 (2, 4) array, one row each: arange(4) + 10 * rank + 100 * t
at t = 0 .. 3.

Used by test_dask_arrays.py: test_arrays_kept_after_the_run_stay_valid.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
with Bridge(comm, {"x": {"global_shape": (2, 4), "chunk_shape": (1, 4), "chunk_position": (comm.rank, 0)}},
            timeout=20) as b:
    for t in range(4):
        b.send("x", (np.arange(4, dtype=np.float64) + 10 * comm.rank + 100 * t).reshape(1, 4), t)
