"""Each rank sends "x" (float64, 1000 elements per rank, all equal to t) at t = 0 .. COUNT-1
(third argument), 20 ms apart, with on_analytics_failure="wait" and the timeout given (fourth
argument); then reports ``feedback``: the timesteps of every "seen" feedback entry, closes and
reports ``done``; or reports ``raised`` (type, message) if a call raises.

Used by test_restart.py.
"""

import sys
import time

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
count, timeout = int(sys.argv[3]), float(sys.argv[4])
n = 1000
try:
    with Bridge(comm, {"x": {"global_shape": (n * comm.size,), "chunk_shape": (n,), "chunk_position": (comm.rank,)}},
                timeout=timeout, on_analytics_failure="wait") as b:
        for t in range(count):
            b.send("x", np.full(n, t, dtype=np.float64), t)
            time.sleep(0.02)
        report(feedback=[t for t, _ in b.get("seen", default=[])])
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(raised=[type(e).__name__, str(e)])
    raise
report(done=True)
