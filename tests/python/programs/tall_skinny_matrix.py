"""Two ranks send a tall-skinny (64, 8) float64 matrix, the standard normal draws of
numpy.random.default_rng(t), at t = 0 .. STEPS-1, as two arrays: "m" in C-ordered blocks of
(32, 8) (rank r holds rows 32r .. 32r+31) and "f", the same blocks Fortran-ordered.

Usage: python tall_skinny_matrix.py RANK SIZE STEPS
Used by test_dask_arrays.py: the matrix_run fixture (the tests of Dask operations, writers,
read-only blocks and preprocess).
"""

import sys

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rows = slice(32 * comm.rank, 32 * comm.rank + 32)
meta = {"global_shape": (64, 8), "chunk_shape": (32, 8), "chunk_position": (comm.rank, 0)}
with Bridge(comm, {"m": meta, "f": meta}, timeout=20) as b:
    for t in range(int(sys.argv[3])):
        M = np.random.default_rng(t).standard_normal((64, 8))
        b.send("m", M[rows], t)
        b.send("f", np.asfortranarray(M[rows]), t)
