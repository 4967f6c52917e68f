"""An analytics with a pool of 2 MiB (four blocks of 512 KiB, two timesteps) whose callback
keeps every array of "x" it gets, so that the pool fills up. At each timestep it reports ``t``
and ``values`` (the first element of every kept array); at the end ``end``: None, or [name,
message] of execute_callbacks().

Used by test_analytics_api.py: test_send_waiting_for_a_full_pool_times_out_clearly,
test_analytics_ends_after_a_send_timed_out_on_the_pool, test_send_can_be_retried_after_a_pool_timeout.
"""

from _support import report
from deisa import Deisa

d = Deisa(timeout=20, pool_size="2MiB")  # four blocks, two timesteps
kept = []


@d.register("x")
def cb(x):
    kept.append(x[0])
    report(t=x[0].t, values=[float(a[0, 0, 0].compute()) for a in kept])


try:
    d.execute_callbacks()
    report(end=None)
except Exception as e:  # noqa: BLE001 - the error is what the test checks
    report(end=[type(e).__name__, str(e)])
