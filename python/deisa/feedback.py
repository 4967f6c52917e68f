"""Feedback values between analytics and simulation: encoding to the core's (kind, bytes)."""

import io
import numbers
import struct

import numpy as np

from ._abi import (FEEDBACK_BOOL as BOOL, FEEDBACK_BYTES as BYTES, FEEDBACK_FLOAT64 as FLOAT64, FEEDBACK_INT64 as INT64,
                   FEEDBACK_NDARRAY as NDARRAY, FEEDBACK_NONE as NONE, FEEDBACK_STRING as STRING)


def encode(value):
    """(kind, bytes) for a feedback value; TypeError for types that cannot travel (the core
    checks the rest, such as the size of the bytes)."""
    if value is None:
        return NONE, b""
    if isinstance(value, (bool, np.bool_)):
        return BOOL, b"\x01" if value else b"\x00"
    if isinstance(value, numbers.Integral):
        v = int(value)
        if not -(1 << 63) <= v < (1 << 63):
            raise ValueError(f"feedback integer {v} does not fit in 64 bits")
        return INT64, struct.pack("<q", v)
    if isinstance(value, numbers.Real):
        return FLOAT64, struct.pack("<d", float(value))
    if isinstance(value, str):
        return STRING, value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BYTES, bytes(value)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("feedback arrays must not hold Python objects")
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return NDARRAY, buf.getvalue()
    raise TypeError(f"feedback value of type {type(value).__name__} is not supported "
                    "(use None, bool, int, float, str, bytes or a numpy array up to 1 MiB)")


def decode(kind, data):
    if kind == NONE:
        return None
    if kind == BOOL:
        return data != b"\x00"
    if kind == INT64:
        return struct.unpack("<q", data)[0]
    if kind == FLOAT64:
        return struct.unpack("<d", data)[0]
    if kind == STRING:
        return data.decode("utf-8")
    if kind == BYTES:
        return data
    if kind == NDARRAY:
        return np.load(io.BytesIO(data), allow_pickle=False)
    raise ValueError(f"unknown feedback kind {kind}")
