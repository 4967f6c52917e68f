"""Four ranks send a 2 x 2 grid of unequal blocks over a float32 (5, 7) array (rows of 3 and 2
cells, columns of 4 and 3): arange(35).reshape(5, 7) + 100 * t at t = 0, 1, as "g" (C-ordered
blocks) and "gf" (Fortran-ordered blocks).

Used by test_dask_arrays.py: test_two_dimensional_grid_of_unequal_blocks.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
i, j = comm.rank // 2, comm.rank % 2
rows, cols = (slice(0, 3), slice(3, 5))[i], (slice(0, 4), slice(4, 7))[j]
block = np.arange(35, dtype=np.float32).reshape(5, 7)[rows, cols]
meta = {"global_shape": (5, 7), "chunk_shape": block.shape, "chunk_position": (i, j)}
with Bridge(comm, {"g": meta, "gf": meta}, timeout=20) as b:
    for t in range(2):
        b.send("g", block + 100 * t, t)
        b.send("gf", np.asfortranarray(block + 100 * t), t)
