"""Two ranks send "x" (int64, one element per rank: rank) at t=0, then wait for the file "go"
(created by the test) before closing: the first analytics stays busy meanwhile.

Used by test_failures.py: test_second_analytics_in_the_same_directory_is_refused.
"""

import numpy as np

from _support import wait_for_file
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20)
b.send("x", np.array([comm.rank], dtype=np.int64), 0)
wait_for_file("go")
b.close()
