"""A simulation written for deisa-ray, unchanged but for the communicator of deisa.testing: its
imports, call shapes (positional send, close(timestep)), attributes (bridge_id, node_id, comm)
and the log line of close. Each rank sends "temperature" (global (2, 4), blocks (1, 4), float64:
rank * 100 + t) at t = 0 .. 4, reads feedback "cooling" at t = 3 and its whole history, closes
at timestep 5.

Reports ``bridge_id``, ``node_id``, ``comm_rank``, ``cooling3``, ``history``.
Used by test_deisa_ray.py.
"""

import logging
import socket

import numpy as np
from _support import report

from deisa.ray.bridge import Bridge
from deisa.testing import Comm

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
comm = Comm.from_argv()
arrays_metadata = {"temperature": {"global_shape": (2, 4), "chunk_shape": (1, 4), "chunk_position": (comm.Get_rank(), 0)}}
bridge = Bridge(comm, arrays_metadata)
for t in range(5):
    bridge.send("temperature", np.full((1, 4), comm.Get_rank() * 100.0 + t), t)
cooling3 = bridge.get("cooling", 3)
history = bridge.get("cooling")
bridge.close(timestep=5)
report(bridge_id=bridge.bridge_id, node_id=bridge.node_id == socket.gethostname(), comm_rank=bridge.comm.Get_rank(),
       cooling3=cooling3, history=history)
