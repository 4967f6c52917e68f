"""What the test programs share: their REPORT lines, the errors they record, waiting for a
file another process creates, and the values of the every-dtype run.

The programs are started as ``python /abs/path/programs/x.py ...``, so this directory is on
their sys.path: ``from _support import report``.
"""

import json
import os
import time

import numpy as np

from deisa import ContractError
from deisa._abi import DTYPES as ABI_DTYPES


def report(**values):
    """One line the tests read back (conftest's Ranks.wait and AnalyticsProcess)."""
    print("REPORT " + json.dumps(values), flush=True)


def error_of(fn):
    """None if ``fn()`` returns, else [exception type name, message, whether it is a ContractError]."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every error is the program's result
        return [type(e).__name__, str(e), isinstance(e, ContractError)]
    return None


def wait_for_file(path, timeout=60):
    """Waits until ``path`` exists (another rank, or the test, creates it); a test that broke
    fails instead of hanging."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.01)


def touch(path):
    open(path, "w").close()


# The dtypes every_dtype.py sends (test_dask_arrays.py's test_every_dtype_arrives_intact):
# every element type of the C ABI.
DTYPES = [name for name, _ in ABI_DTYPES.values()]


def dtype_values(dtype, t):
    """The global (2, 3) array of ``dtype`` at timestep ``t`` (extreme values included)."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return np.array([[True, False, True], [t % 2 == 0, True, False]])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.array([[info.min, info.max, t], [1, 0, info.max - t]], dtype=dt)
    if dt.kind == "f":
        info = np.finfo(dt)
        return np.array([[info.min, info.max, t + 0.5], [np.inf, -0.0, info.tiny]], dtype=dt)
    return np.array([[1 + 2j, -3.5j, t], [np.inf + 1j, 0, 1e30 - 1e-30j]], dtype=dt)


def random_block(rank, t, shape):
    """The block rank ``rank`` sends at ``t`` in the random-data programs (the analytics
    recomputes it to check what it read)."""
    return np.random.default_rng(1000 * t + rank).standard_normal(shape)
