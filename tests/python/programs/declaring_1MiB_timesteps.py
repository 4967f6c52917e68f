"""Two ranks open a bridge declaring "x", a float64 (2, 256, 256) array: a timestep is 2 blocks
of 512 KiB, more than a pool of 600 KiB holds.

Reports ``error``: None, or [exception name, message] of Bridge().
Used by test_analytics_api.py: test_pool_smaller_than_one_timestep_is_refused_at_start.
"""

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
try:
    b = Bridge(comm, {"x": {"global_shape": (2, 256, 256), "chunk_shape": (1, 256, 256),
                            "chunk_position": (comm.rank, 0, 0), "dtype": "float64"}}, timeout=20)
    report(error=None)
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
