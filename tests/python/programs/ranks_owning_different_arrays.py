"""Three ranks own different arrays: "x" (int64, global (2,)) lives on ranks 0 and 1, "solo"
(global (3,)) on rank 0 alone, and rank 2 owns nothing (it only opens and closes). At t = 0, 1, 2
rank r < 2 sends [t + r] of "x" and rank 0 sends arange(3) * t of "solo"; rank 2 tries to
send "x", which it never declared.

Rank 2 reports ``error``: the message of its refused send.
Used by test_simulation_errors.py: test_ranks_owning_different_arrays_or_none.
"""

import numpy as np

from _support import report
from deisa import Bridge, ContractError
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
arrays = {}
if rank < 2:
    arrays["x"] = {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (rank,)}
if rank == 0:
    arrays["solo"] = {"global_shape": (3,), "chunk_shape": (3,), "chunk_position": (0,)}
with Bridge(comm, arrays, timeout=20) as b:
    for t in range(3):
        if rank < 2:
            b.send("x", np.array([t + rank], dtype=np.int64), t)
        if rank == 0:
            b.send("solo", np.arange(3) * t, t)
    if rank == 2:
        try:
            b.send("x", np.array([0]), 0)
        except ContractError as e:
            report(error=str(e))
