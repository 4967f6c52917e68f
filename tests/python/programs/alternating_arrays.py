"""Two ranks declare "array1" and "array2" (global (1, 2), one int32 element each) and send
value t at t = 0 .. 4: "array1" at even timesteps and "array2" at odd ones, or both at every
timestep with ``--every``; then close at timestep 5.

Used by test_scenarios.py: test_or_and_firing.
"""

import sys

import numpy as np

from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
every = "--every" in sys.argv[3:]
decl = {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}
b = Bridge(comm, {"array1": decl, "array2": decl}, timeout=60)
for t in range(5):
    if every or t % 2 == 0:
        b.send("array1", np.array([[t]], dtype=np.int32), t)
    if every or t % 2 == 1:
        b.send("array2", np.array([[t]], dtype=np.int32), t)
b.close(5)
