"""Three ranks declare a 1-D int64 array "x" of 100 elements in blocks of 34, 33 and 33, each
in its own way: rank 0 with lists, rank 1 with numpy arrays, rank 2 with tuples of numpy
integers; rank r sends its part of arange(100) * (t + 1) at t = 0, 1.

Used by test_simulation_errors.py: test_lists_and_numpy_arrays_give_the_same_layout.
"""

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
if rank == 0:
    m = {"global_shape": [100], "chunk_shape": [34], "chunk_position": [0]}
elif rank == 1:
    m = {"global_shape": np.array([100]), "chunk_shape": np.array([33], dtype=np.int16),
         "chunk_position": np.array([1])}
else:
    m = {"global_shape": (np.int64(100),), "chunk_shape": (np.uint32(33),), "chunk_position": (np.int8(2),)}
start = [0, 34, 67][rank]
n = m["chunk_shape"][0]
with Bridge(comm, {"x": m}, timeout=20) as b:
    for t in range(2):
        b.send("x", np.arange(start, start + n, dtype=np.int64) * (t + 1), t)
