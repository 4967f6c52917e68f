"""An analytics that starts when the file GO appears (so that two start at the same instant)
and reports how its start ended: {"pid", "error": [type, message] or None, "seconds"}.

    python racing_analytics.py GO

Used by test_stale_runs.py: test_two_analytics_started_at_once_one_wins.
"""

import sys
import time

from _support import report, wait_for_file

from deisa import Deisa

wait_for_file(sys.argv[1])
d = Deisa(timeout=4)
d.register_callback(lambda x: None, "x")
started = time.monotonic()
error = None
try:
    d.execute_callbacks()  # no simulation comes: the winner times out waiting for it
except Exception as e:  # noqa: BLE001 - the outcome is the report
    error = [type(e).__name__, str(e)]
import os  # noqa: E402
report(pid=os.getpid(), error=error, seconds=time.monotonic() - started)
