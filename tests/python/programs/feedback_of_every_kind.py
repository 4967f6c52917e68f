"""Two ranks send "x" (global (1, 2), int64) at t = 0, 1 (send 1 returns once the callbacks of
t=0 ran), then read the feedback the analytics set at t=0: every kind of value (None, bools,
ints, float, str, bytes, a 1 MiB array, a Fortran-ordered array) and the analytics' own list
of refused set() calls ("errors"); then close.

Reports, per key, [type name, value] (bytes in base64), for "array" [type, dtype, shape,
whether it is arange(2**17).reshape(256, 512)], for "fortran" [whether it is the expected
array, dtype], ``errors`` and ``history`` (get("int")).
Used by test_analytics_api.py: test_feedback_values_and_errors.
"""

import base64

import numpy as np

from _support import report
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
b.send("x", np.array([[0]], dtype=np.int64), 0)
b.send("x", np.array([[1]], dtype=np.int64), 1)  # returns once the callbacks of t=0 ran
out = {}
for key in ["none", "bool", "false", "int", "big", "float", "str", "bytes", "empty"]:
    v = b.get(key, 0, default="MISSING")
    out[key] = [type(v).__name__, base64.b64encode(v).decode() if isinstance(v, bytes) else v]
arr = b.get("array", 0)
expected = np.arange(1 << 17, dtype=np.float64).reshape(256, 512)
out["array"] = [type(arr).__name__, str(arr.dtype), list(arr.shape), bool(np.array_equal(arr, expected))]
f = b.get("fortran", 0)
out["fortran"] = [bool(np.array_equal(f, np.asfortranarray(np.arange(6).reshape(2, 3)))), str(f.dtype)]
out["errors"] = b.get("errors", 0)
out["history"] = b.get("int")
b.close()
report(**out)
