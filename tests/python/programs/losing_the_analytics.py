"""Two ranks send "x" (int64, one element per rank: t) at t = 0 .. 29, 50 ms apart, while the
test kills the analytics; then they read feedback and close. POLICY ("warn" or "raise") is
the bridges' on_analytics_failure. The bridges' timeout (600 s) is longer than the test waits
for the ranks: a rank that ends in time did not wait out its timeout.

Usage: python losing_the_analytics.py RANK SIZE POLICY
Reports ``sent`` (the timesteps whose send returned), ``error`` (None, or [name, message,
whether it is a ConnectionError, module] of the first send that raised), ``lost``
(bridge.analytics_lost), ``fb`` (get("k", 0, default="DEFAULT") or its error) and ``closed``
(None, or the error of close()).
Used by test_failures.py: test_analytics_death_lets_the_simulation_finish,
test_analytics_death_raises_with_the_raise_policy,
test_next_analytics_removes_the_leftovers_of_a_crashed_one.
"""

import sys
import time

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=600,
           on_analytics_failure=sys.argv[3])
sent, error = [], None
for t in range(30):
    try:
        b.send("x", np.array([t], dtype=np.int64), t)
        sent.append(t)
    except Exception as e:  # noqa: BLE001 - the error is what the test checks
        error = [type(e).__name__, str(e), isinstance(e, ConnectionError), type(e).__module__]
        break
    time.sleep(0.05)
lost = b.analytics_lost
try:
    fb = b.get("k", 0, default="DEFAULT")
except Exception as e:  # noqa: BLE001
    fb = [type(e).__name__, str(e)]
try:
    b.close()
    closed = None
except Exception as e:  # noqa: BLE001
    closed = [type(e).__name__, str(e)]
report(sent=sent, error=error, lost=lost, fb=fb, closed=closed)
