"""An analytics (timeout 30 s) with one callback on "x" that does nothing: the test kills it
while the simulation registers.

Used by test_analytics_api.py: test_analytics_dying_while_bridges_register_raises_with_raise_policy,
test_analytics_dying_while_bridges_register_only_warns.
"""

from deisa import Deisa

d = Deisa(timeout=30)
d.register_callback(lambda x: None, "x")
d.execute_callbacks()
