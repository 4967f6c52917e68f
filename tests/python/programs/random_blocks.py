"""Ranks send random float64 blocks of array "field": rank r at grid position
(r // COLS, r % COLS) of a ROWS x COLS grid (ROWS = SIZE / COLS), blocks of BR x BC, at
t = 0 .. STEPS-1 (values: _support.random_block(r, t, (BR, BC))), then close. With PAUSE > 0
each rank sleeps PAUSE seconds between timesteps.

    python random_blocks.py RANK SIZE COLS BR BC STEPS [PAUSE]

Used by test_cluster.py (on one machine, on simulated nodes, a node's loss) and bench fig 9.
"""

import sys
import time

from _support import random_block

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
cols, br, bc, steps = (int(a) for a in sys.argv[3:7])
pause = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
rows = comm.size // cols
with Bridge(comm, {"field": {"global_shape": (rows * br, cols * bc), "chunk_shape": (br, bc),
                             "chunk_position": (comm.rank // cols, comm.rank % cols), "dtype": "float64"}},
            timeout=120) as b:
    for t in range(steps):
        b.send("field", random_block(comm.rank, t, (br, bc)), t)
        if pause:
            time.sleep(pause)
