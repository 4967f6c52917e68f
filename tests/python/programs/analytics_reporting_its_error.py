"""An analytics (timeout 20 s) whose callback on "x" reports each timestep ``t``; at the end it
reports ``error``: None, or [exception name, message] of execute_callbacks().
``--pool-size SIZE`` sets its pool_size.

Used by test_failures.py: test_rank_dying_while_registering; test_analytics_api.py:
test_block_larger_than_pool_without_declared_dtype_fails_fast (with --pool-size 256KiB).
"""

import argparse

from _support import report
from deisa import Deisa

parser = argparse.ArgumentParser()
parser.add_argument("--pool-size")
d = Deisa(timeout=20, pool_size=parser.parse_args().pool_size)
d.register_callback(lambda x: report(t=x[0].t), "x")
try:
    d.execute_callbacks()
    report(error=None)
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(error=[type(e).__name__, str(e)])
