"""Two ranks send "x" (global (1, 2), int64: t % 1000) at the timesteps given as arguments and
record how their sends returned against the analytics' callbacks: the test's callback of
timestep T creates the file "ended-T" as it ends; after each send(t) returns, a rank notes
which callbacks had ended, then creates "returned-t-RANK".

Usage: python back_pressure.py RANK SIZE T1 T2 ...
Reports ``ended_before_return``: {t: the timesteps whose callbacks had ended when send(t)
returned}.
Used by test_analytics_api.py: test_max_simulation_ahead_one_waits_for_the_callbacks,
test_max_simulation_ahead_two_lets_the_simulation_run_ahead,
test_gaps_between_timesteps_do_not_matter_for_back_pressure.
"""

import glob
import sys

import numpy as np

from _support import report, touch
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
ended_before_return = {}
for t in map(int, sys.argv[3:]):
    b.send("x", np.array([[t % 1000]], dtype=np.int64), t)
    ended_before_return[t] = sorted(int(path.split("-")[1]) for path in glob.glob("ended-*"))
    touch(f"returned-{t}-{comm.rank}")
b.close()
report(ended_before_return=ended_before_return)
