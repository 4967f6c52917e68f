"""Two ranks send "x" (rank r sends [r] as int8) at the extreme timesteps of a signed 64-bit
integer and some in between (-2**63, -5, np.int64(-1), np.int32(7), 2**63 - 1), then try
timesteps that are not one (2**63, 3.0, True).

Reports one dict: label -> None or [exception name, message, whether it is a ContractError].
Used by test_simulation_errors.py: test_timesteps_are_signed_64_bit.
"""

import numpy as np

from _support import error_of, report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
block = np.array([comm.rank], dtype=np.int8)
b = Bridge(comm, {"x": {"global_shape": (2,), "chunk_shape": (1,), "chunk_position": (comm.rank,)}}, timeout=20)
for t in (-(2 ** 63), -5, np.int64(-1), np.int32(7), 2 ** 63 - 1):
    b.send("x", block, t)
results = {"too big": error_of(lambda: b.send("x", block, 2 ** 63)),
           "float": error_of(lambda: b.send("x", block, 3.0)),
           "bool": error_of(lambda: b.send("x", block, True))}
b.close()
report(**results)
