"""Each rank opens a bridge declaring "x" (one element per rank) with the given timeout, and
closes it if it opened: for runs where some rank never comes, or no analytics runs.

Usage: python opening_a_bridge.py RANK SIZE TIMEOUT
Reports ``error``: None, or [exception name, message] of Bridge().
Used by test_analytics_api.py: test_missing_rank_is_named_by_the_analytics,
test_two_missing_ranks_are_named, test_bridge_without_analytics_times_out_naming_the_rendezvous.
"""

import sys

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
try:
    b = Bridge(comm, {"x": {"global_shape": (comm.size,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}},
               timeout=float(sys.argv[3]))
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
else:
    report(error=None)
    b.close()
