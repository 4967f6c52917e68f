"""Two ranks send "array" (global (1, 2), int32) at t = 0, 1, 2 and read the analytics' feedback
"foo" between the sends: each send returns once the callbacks of the timestep before ran.

Reports ``first`` (get("foo", 0) after send 1), ``missing`` (get("foo", 99)), ``second``
(get("foo", 1) after send 2) and ``everything`` (get("foo")).
Used by test_scenarios.py: test_feedback_same_answer_on_every_rank.
"""

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"array": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}},
           timeout=60)
b.send("array", np.array([[0]], dtype=np.int32), 0)
b.send("array", np.array([[1]], dtype=np.int32), 1)  # returns once t=0's callbacks ran
first = b.get("foo", 0)
missing = b.get("foo", 99)
b.send("array", np.array([[2]], dtype=np.int32), 2)  # returns once t=1's callbacks ran
second = b.get("foo", 1)
everything = b.get("foo")
b.close()
report(first=first, missing=missing, second=second, everything=everything)
