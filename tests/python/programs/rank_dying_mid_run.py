"""One rank dies in the middle of a run. Every rank sends "x" (int64, one element per rank:
10 * t + rank) at t = 0 .. STEPS-1 and closes, except rank DYING, which dies after sending
t = 0 .. LAST_OF_DYING (-1: right after Bridge() returned; STEPS-1: instead of closing).
DEATH is how it dies: "exit" (os._exit(1)), "kill" (SIGKILL) or "exception" (an uncaught
RuntimeError).

Usage: python rank_dying_mid_run.py RANK SIZE STEPS LAST_OF_DYING DEATH DYING
Reports ``lost`` (bridge.analytics_lost) on the ranks that close.
Used by test_failures.py: test_rank_dying_mid_run, test_rank_dying_after_its_last_send,
test_rank_dying_before_sending_anything, test_rank_dying_in_a_bigger_world.
"""

import os
import signal
import sys

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
steps, last_of_dying, death, dying = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
b = Bridge(comm, {"x": {"global_shape": (comm.size,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}},
           timeout=20)


def die():
    if death == "exit":
        os._exit(1)
    elif death == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    else:
        raise RuntimeError("simulation crashed")


for t in range(steps):
    if comm.rank == dying and t > last_of_dying:
        die()
    b.send("x", np.array([t * 10 + comm.rank], dtype=np.int64), t)
if comm.rank == dying:
    die()  # instead of closing
b.close()
report(lost=b.analytics_lost)
