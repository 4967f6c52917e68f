"""Two ranks write "x" (float64, one row of 64 per rank: 10 * t + rank) in place with
``bridge.buffer()`` at t = 0 .. 3; rank 0 exits (os._exit) inside the with block at t=2, its
block rented and never committed.

Used by test_failures.py: test_rank_dying_while_writing_a_buffer.
"""

import os

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2, 64), "chunk_shape": (1, 64), "chunk_position": (comm.rank, 0),
                        "dtype": "float64"}}, timeout=20)
for t in range(4):
    with b.buffer("x", t) as block:
        block[...] = 10 * t + comm.rank
        if comm.rank == 0 and t == 2:
            os._exit(1)
b.close()
