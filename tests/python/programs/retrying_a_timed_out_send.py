"""Two ranks send "x" (global (1, 2), int64) at t=0, then retry send(1) (rank r sends 10 + r)
up to 10 times while it times out (bridge timeout 1 s; the test's callback of t=0 stays stuck
until every rank created "timed-out-RANK" after its first timeout), then send t=2 (20 + r)
and close.

Reports ``errors``: the message of each send(1) that timed out.
Used by test_analytics_api.py: test_send_can_be_retried_after_a_timeout.
"""

import numpy as np

from _support import report, touch
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=1.0)
b.send("x", np.array([[0]], dtype=np.int64), 0)
errors = []
for attempt in range(10):
    try:
        b.send("x", np.array([[10 + comm.rank]], dtype=np.int64), 1)
        break
    except TimeoutError as e:
        errors.append(str(e))
        touch(f"timed-out-{comm.rank}")
b.send("x", np.array([[20 + comm.rank]], dtype=np.int64), 2)
b.close()
report(errors=errors)
