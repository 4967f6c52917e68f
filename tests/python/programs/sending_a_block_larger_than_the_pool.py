"""Two ranks declare "x", a (2, 256, 256) array without a dtype, and send a float64 block of
512 KiB at t=0: larger than the analytics' pool of 256 KiB, which the analytics can know only
at this first send. Then they close. The bridges' timeout (600 s) is longer than the test
waits for the ranks: a send that waited for memory would not end in time.

Reports ``error``: None, or [exception name, message] of the send.
Used by test_analytics_api.py: test_block_larger_than_pool_without_declared_dtype_fails_fast.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2, 256, 256), "chunk_shape": (1, 256, 256),
                        "chunk_position": (comm.rank, 0, 0)}}, timeout=600)
try:
    b.send("x", np.zeros((1, 256, 256)), 0)
    report(error=None)
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
b.close()
