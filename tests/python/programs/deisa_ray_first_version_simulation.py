"""A simulation written for deisa-ray's first version, unchanged but for the rank and size it
takes from its arguments: Bridge(id=, arrays_metadata= with nb_chunks_per_dim and
nb_chunks_of_node, system_metadata=), keyword-only send(array_name=, chunk=, timestep=), and
get(name=, default=). Each rank sends "temperature" (global (2, 4), blocks (1, 4), float64:
rank * 100 + t) and "pressure" (global (2,), blocks (1,), int64: t) at t = 0 .. 4, reads
feedback "cooling" after t = 4 (t = 3's is set by then: one timestep ahead at most), then closes.

Reports ``cooling``, ``missing``. Used by test_deisa_ray.py.
"""

import sys

import numpy as np
from _support import report

from deisa.ray.bridge import Bridge

rank, size = int(sys.argv[1]), int(sys.argv[2])
arrays_metadata = {
    "temperature": {"chunk_shape": (1, 4), "nb_chunks_per_dim": (size, 1), "nb_chunks_of_node": 1,
                    "dtype": np.float64, "chunk_position": (rank, 0)},
    "pressure": {"chunk_shape": (1,), "nb_chunks_per_dim": (size,), "nb_chunks_of_node": 1, "dtype": np.int64,
                 "chunk_position": (rank,)},
}
system_metadata = {"nb_ranks": size, "ray_address": "auto"}
bridge = Bridge(id=rank, arrays_metadata=arrays_metadata, system_metadata=system_metadata)
for t in range(5):
    bridge.send(array_name="temperature", chunk=np.full((1, 4), rank * 100.0 + t), timestep=t)
    bridge.send(array_name="pressure", chunk=np.array([t], dtype=np.int64), timestep=t, chunked=True)
cooling, missing = bridge.get(name="cooling", default=1.0), bridge.get(name="nothing", default="none")
bridge.close()
report(cooling=cooling, missing=missing)
