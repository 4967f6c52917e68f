"""Two ranks try to open a bridge declaring "x", an int64 (2, 64) array (a timestep of 1 KiB);
errors are ignored (the test checks the analytics' own).

Used by test_analytics_api.py: test_pool_size_from_the_environment.
"""

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
try:
    Bridge(comm, {"x": {"global_shape": (2, 64), "chunk_shape": (1, 64), "chunk_position": (comm.rank, 0),
                        "dtype": "int64"}}, timeout=20)
except Exception:  # noqa: BLE001
    pass
