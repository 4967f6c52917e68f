"""Each rank sends "x" (float64, 128 Ki elements per rank: 1 MiB blocks in shared memory) at
t = 0, 1, ... up to 10,000 timesteps or 60 s, with ``on_analytics_failure`` from the first
argument (default warn); reports ``opening`` before the bridge connects, ``sent`` after each
send and ``done`` at the end, or ``raised`` (the exception's type) if a call raises. Timeout 60 s.

Used by test_signals.py.
"""

import sys
import time

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
policy = sys.argv[3] if len(sys.argv) > 3 else "warn"
n = 128 * 1024
start = time.monotonic()
report(opening=True)
try:
    b = Bridge(comm, {"x": {"global_shape": (n * comm.size,), "chunk_shape": (n,), "chunk_position": (comm.rank,)}},
               timeout=60, on_analytics_failure=policy)
    for t in range(10_000):
        if time.monotonic() - start > 60:
            break
        b.send("x", np.full(n, t, dtype=np.float64), t)
        report(sent=t)
    b.close()
except BaseException as e:
    report(raised=type(e).__name__)
    raise
report(done=True)
