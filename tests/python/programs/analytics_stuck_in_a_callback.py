"""An analytics (timeout 60 s) whose callback on "x" reports ``stuck`` (t, session) and then
never returns, as the first argument says: ``python`` (time.sleep in Python), ``native`` (a
mutex locked twice through ctypes: a wait in native code that signals do not end, so no
Python bytecode runs and no handler either), ``swallowing`` (catches
KeyboardInterrupt, reports ``swallowed``, sleeps again), or is only slow: ``slow`` sleeps 5 s at
each timestep; ``waiting`` registers the callback and waits for ranks that never come. An
exception out of execute_callbacks is reported (``raised``: type, ``error``: message) as it passes.

Used by test_signals.py.
"""

import ctypes
import sys
import time

from _support import report
from deisa import Deisa

mode = sys.argv[1]
d = Deisa(timeout=60)


@d.register("x")
def cb(x):
    report(stuck=x[0].t, session=d.session)
    if mode == "slow":
        time.sleep(5)
    elif mode == "python":
        time.sleep(1000)
    elif mode == "native":
        libc, mutex = ctypes.CDLL(None), ctypes.create_string_buffer(64)  # zeroed: a default mutex
        libc.pthread_mutex_lock(mutex)
        libc.pthread_mutex_lock(mutex)  # deadlocks, in a futex wait that restarts after signals
    elif mode == "swallowing":
        while True:
            try:
                time.sleep(1000)
            except KeyboardInterrupt:
                report(swallowed=True)


if mode == "waiting":
    report(waiting=True)
try:
    d.execute_callbacks()
except BaseException as e:
    report(raised=type(e).__name__, error=str(e))
    raise
report(end=True)
