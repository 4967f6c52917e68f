"""Two ranks send, at t = 0, 1, one (2, 3) array per supported dtype (_support.DTYPES: bool,
ints, floats, complex), named after it, once without a declared dtype and once declared
("<dtype>-declared"); rank r sends row r of _support.dtype_values(dtype, t) (extreme values
included).

Used by test_dask_arrays.py: test_every_dtype_arrives_intact.
"""

from _support import DTYPES, dtype_values
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
rank = comm.rank
meta = {d: {"global_shape": (2, 3), "chunk_shape": (1, 3), "chunk_position": (rank, 0)} for d in DTYPES}
meta.update({d + "-declared": dict(meta[d], dtype=d) for d in DTYPES})
with Bridge(comm, meta, timeout=20) as b:
    for t in range(2):
        for d in DTYPES:
            b.send(d, dtype_values(d, t)[rank:rank + 1], t)
            b.send(d + "-declared", dtype_values(d, t)[rank:rank + 1], t)
