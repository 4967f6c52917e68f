"""Four ranks under mpirun (mpi4py's COMM_WORLD) send int64 "array" of global (2, 2), one
element each at position (rank // 2, rank % 2): (rank + 1) * t at t = 0 .. 4; close at 5.

Run as ``mpirun -np 4 python four_ranks_under_mpirun.py``.
Used by test_scenarios.py: test_four_ranks_under_mpirun.
"""

import numpy as np
from mpi4py import MPI

from deisa import Bridge

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
b = Bridge(comm, {"array": {"global_shape": (2, 2), "chunk_shape": (1, 1), "chunk_position": (rank // 2, rank % 2)}},
           timeout=60)
for t in range(5):
    b.send("array", np.array([[(rank + 1) * t]], dtype=np.int64), t)
b.close(5)
