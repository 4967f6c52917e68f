"""An analytics (timeout 20 s) whose callback on "x" reports ``t``, ``session`` and ``value``
(the array as a list) at every timestep, and ``end`` once execute_callbacks() returned. The
tests kill it mid-run, or run a second analytics next to it.

Used by test_failures.py: test_analytics_death_lets_the_simulation_finish,
test_analytics_death_raises_with_the_raise_policy,
test_next_analytics_removes_the_leftovers_of_a_crashed_one,
test_second_analytics_in_the_same_directory_is_refused.
"""

from _support import report
from deisa import Deisa

d = Deisa(timeout=20)


@d.register("x")
def cb(x):
    report(t=x[0].t, session=d.session, value=x[0].compute().tolist())


d.execute_callbacks()
report(end=True)
