"""Two ranks send "c", an int16 (2, 3, 4) array (arange(24)), split along its last dimension in
Fortran-ordered blocks of (2, 3, 2), at t=0.

Used by test_dask_arrays.py: test_three_dimensional_fortran_blocks.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
G = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
with Bridge(comm, {"c": {"global_shape": (2, 3, 4), "chunk_shape": (2, 3, 2), "chunk_position": (0, 0, comm.rank)}},
            timeout=20) as b:
    b.send("c", np.asfortranarray(G[:, :, 2 * comm.rank:2 * comm.rank + 2]), 0)
