"""numpy dtypes and the core's dtype codes (deisa_dtype in deisa.h, _abi.DTYPES)."""

import numpy as np

from ._abi import DTYPES

_CODES = {np.dtype(name): code for code, (name, _) in DTYPES.items()}
_DTYPES = {code: dt for dt, code in _CODES.items()}


def code_of(dtype, what="dtype"):
    """The core's code for a numpy dtype (native byte order); TypeError if not supported."""
    code = _CODES.get(dtype) if isinstance(dtype, np.dtype) else None
    if code is not None:  # the common case, a supported dtype already: one lookup
        return code
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{what} {dtype!r} is not a numpy dtype") from e
    if dt.byteorder == ">":
        raise TypeError(f"{what} {dt} is big-endian; send native byte order")
    code = _CODES.get(dt.newbyteorder("="))
    if code is None:
        raise TypeError(f"{what} {dt} is not supported (supported: "
                        f"{', '.join(str(d) for d in _CODES)})")
    return code


def dtype_of(code):
    return _DTYPES[code]
