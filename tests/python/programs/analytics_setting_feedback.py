"""An analytics (max_simulation_ahead 2, timeout 60 s) whose callback on "x" sets feedback
"seen" = t and reports ``t``, ``session`` and ``sum`` (of the array) at every timestep, and
``end`` once execute_callbacks() returned. Started twice by the tests: the second takes the
simulation over from the first, killed mid-run (a timestep the first already set is not set again).

Used by test_restart.py.
"""

from _support import report
from deisa import Deisa

d = Deisa(timeout=60, max_simulation_ahead=2)


@d.register("x")
def cb(x):
    t = x[0].t
    try:
        d.set("seen", t, t)
    except ValueError:  # set by the analytics this one took over from
        pass
    report(t=t, session=d.session, sum=float(x[0].sum().compute()))


d.execute_callbacks()
report(end=True)
