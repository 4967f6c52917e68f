"""Two ranks send "x" (global (1, 2), int64) at t=0, then poll get("k", 0) at different paces
(every 5 ms on rank 0, 13 ms on rank 1) until they got "ready" five times (at most 2000
answers), and close.

Reports ``answers``: every answer, in order.
Used by test_analytics_api.py: test_feedback_answers_are_the_same_on_every_rank_while_being_set.
"""

import time

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
b.send("x", np.array([[0]], dtype=np.int64), 0)
answers = []
while answers.count("ready") < 5 and len(answers) < 2000:
    answers.append(b.get("k", 0))
    time.sleep(0.005 if comm.rank == 0 else 0.013)
b.close()
report(answers=answers)
