"""Two ranks send "array" (global (1, 2), int32) at timestep 2, then try timestep 1 (older: it
must be refused) and report the error, then send timestep 3 and close.

Reports ``error``: the refused send's message (None if it was accepted).
Used by test_scenarios.py: test_send_back_in_time_is_refused.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}},
           timeout=60)
b.send("array", np.array([[2]], dtype=np.int32), 2)
try:
    b.send("array", np.array([[1]], dtype=np.int32), 1)
    report(error=None)
except ValueError as e:
    report(error=str(e))
b.send("array", np.array([[3]], dtype=np.int32), 3)
b.close()
