"""Three ranks under mpirun (mpi4py's COMM_WORLD) send "x" (int64, one element per rank: t) at
t = 0 .. 4; rank 1 exits (os._exit(3)) instead of sending t=2, and mpirun then kills the others.

Run as ``mpirun -np 3 python rank_dying_under_mpirun.py``.
Used by test_failures.py: test_rank_dying_under_mpirun.
"""

import os
import time

import numpy as np
from mpi4py import MPI

from deisa import Bridge

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
b = Bridge(comm, {"x": {"global_shape": (3,), "chunk_shape": (1,), "chunk_position": (rank,)}}, timeout=20)
for t in range(5):
    if rank == 1 and t == 2:
        time.sleep(0.2)
        os._exit(3)
    b.send("x", np.array([t], dtype=np.int64), t)
b.close()
