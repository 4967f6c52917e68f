"""Two ranks send "x" (global (1, 2), int64: t) at t = 0 .. 5, then read the whole history of
feedback key "k" (send 5 returned once the callbacks of t=4 ran) and close.

Reports ``hist``: get("k").
Used by test_analytics_api.py: test_feedback_queue_keeps_the_newest_entries.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
for t in range(6):
    b.send("x", np.array([[t]], dtype=np.int64), t)
hist = b.get("k")
b.close()
report(hist=hist)
