"""A rank opens a bridge declaring "x" (one element per rank) with on_analytics_failure=POLICY
("warn" or "raise") and waits in Bridge() for a rank that never comes while the test kills the
analytics; if the bridge opened, it sends t = 0, 1, 2 and closes.

Usage: python registering_while_analytics_dies.py RANK SIZE POLICY
Reports ``ctor`` (None, or [name, message, whether it is a ConnectionError] of Bridge()) and
``sends`` (None or the exception name of each send).
Used by test_analytics_api.py: test_analytics_dying_while_bridges_register_raises_with_raise_policy,
test_analytics_dying_while_bridges_register_only_warns.
"""

import sys

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
try:
    b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20,
               on_analytics_failure=sys.argv[3])
    ctor = None
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    ctor, b = [type(e).__name__, str(e), isinstance(e, ConnectionError)], None
sends = []
if b is not None:
    for t in range(3):
        try:
            b.send("x", np.array([t]), t)
            sends.append(None)
        except Exception as e:  # noqa: BLE001
            sends.append(type(e).__name__)
    b.close()
report(ctor=ctor, sends=sends)
