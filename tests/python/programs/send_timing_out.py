"""Two ranks send "x" (global (1, 2), int64) at t=0, then at t=1 with a bridge timeout of 1.5 s
while the test's callback of t=0 stays stuck: send(1) must time out. After it, each rank
creates the file "timed-out-RANK" (which unsticks the callback) and closes.

Reports ``error``: None, or [exception name, message] of send(1).
Used by test_analytics_api.py: test_send_times_out_when_the_analytics_is_stuck.
"""

import numpy as np

from _support import report, touch
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=1.5)
b.send("x", np.array([[0]], dtype=np.int64), 0)
try:
    b.send("x", np.array([[1]], dtype=np.int64), 1)
    report(error=None)
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
touch(f"timed-out-{comm.rank}")
b.close()
