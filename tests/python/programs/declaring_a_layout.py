"""Each rank opens a bridge declaring array "temp" with its own metadata, taken from the JSON
list given as argument (one metadata dict per rank): a layout the tests make wrong (overlaps,
holes, disagreeing shapes or dtypes). Closes if the bridge opened.

Reports ``error``: None, or [exception name, message] of Bridge().
Usage: python declaring_a_layout.py RANK SIZE '[{"global_shape": [4, 6], ...}, ...]'
Used by test_simulation_errors.py: test_layout_errors_reach_every_bridge_and_the_analytics,
test_ranks_declaring_different_dtypes.
"""

import json
import sys

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
decls = json.loads(sys.argv[3])
try:
    b = Bridge(comm, {"temp": decls[comm.rank]}, timeout=20)
    report(error=None)
    b.close()
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
