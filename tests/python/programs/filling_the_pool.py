"""Two ranks send "x" (float64 blocks of 512 KiB, global (2, 256, 256), filled with t) at
t = 0 .. 9 with a bridge timeout of 1.5 s, against an analytics that keeps every array: the
pool fills up and a send times out waiting for memory. With ``--retry`` the rank then sends
the same timestep once more. Then it closes.

Reports ``sent`` (the timesteps sent), ``error`` ([name, message] of the send that failed)
and ``retry`` (None, or [name, message] of the retried send).
Used by test_analytics_api.py: test_send_waiting_for_a_full_pool_times_out_clearly,
test_analytics_ends_after_a_send_timed_out_on_the_pool, test_send_can_be_retried_after_a_pool_timeout.
"""

import sys

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2, 256, 256), "chunk_shape": (1, 256, 256),
                        "chunk_position": (comm.rank, 0, 0)}}, timeout=1.5)
sent, error = [], None
for t in range(10):
    try:
        b.send("x", np.full((1, 256, 256), t, dtype=np.float64), t)
        sent.append(t)
    except Exception as e:  # noqa: BLE001 - the error is what the test checks
        error = [type(e).__name__, str(e)]
        break
retry = None
if "--retry" in sys.argv[3:]:
    try:
        b.send("x", np.full((1, 256, 256), t, dtype=np.float64), t)
    except Exception as e:  # noqa: BLE001
        retry = [type(e).__name__, str(e)]
b.close()
report(sent=sent, error=error, retry=retry)
