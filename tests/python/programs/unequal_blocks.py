"""Three ranks send blocks of unequal sizes (34, 33, 33) at t = 0, 1: "u", an int32 vector of
100 (arange(100) + 1000 * t), and "v", a (3, 100) array split along its columns
(arange(300).reshape(3, 100) * (t + 1)).

Used by test_dask_arrays.py: test_unequal_block_sizes, test_to_zarr_with_unequal_blocks.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
sizes = [34, 33, 33]
n = sizes[comm.rank]
start = sum(sizes[:comm.rank])
with Bridge(comm, {"u": {"global_shape": (100,), "chunk_shape": (n,), "chunk_position": (comm.rank,)},
                   "v": {"global_shape": (3, 100), "chunk_shape": (3, n), "chunk_position": (0, comm.rank)}},
            timeout=20) as b:
    for t in range(2):
        b.send("u", np.arange(start, start + n, dtype=np.int32) + 1000 * t, t)
        b.send("v", np.arange(3 * 100).reshape(3, 100)[:, start:start + n] * (t + 1), t)
