"""The run's events, read as packed records (deisa_analytics_read_events; layout in deisa.h).

An array's event lies between a rank's send and the callback: read this way it costs a few
struct and memoryview casts, where decoding its JSON cost tens of microseconds.
"""

import ctypes
import struct

from . import _native
from .errors import PENDING, VALUE

ARRAY, CALLBACK, DROP, TIMESTEP_DONE, FAILED, END = 1, 2, 3, 4, 5, 6

_HEADER = struct.Struct("=ii")          # kind, size of the record
_ARRAY = struct.Struct("=qiiii")        # timestep, dtype, ndim, n_blocks, name_bytes
_CALLBACK = struct.Struct("=qii")       # timestep, callback id, n_inputs
_DROP = struct.Struct("=qi")            # timestep, name_bytes
_TIMESTEP = struct.Struct("=q")
_FAILED = struct.Struct("=ii")          # status, message_bytes
_ORDERS = ("C", "F")


class EventReader:
    """Reads a run's events in batches into a buffer of its own (grown when an event needs more).

    ``read(wait)`` returns the events queued (waiting up to ``wait`` seconds for the first) as
    tuples, or None if none came:
      (ARRAY, name, timestep, dtype code, chunks, [(position, shape, order, lease, address, nbytes), ...])
      (CALLBACK, callback id, timestep, [timesteps of each input, in the callback's order])
      (DROP, name, timestep) · (TIMESTEP_DONE, timestep) · (FAILED, status, message) · (END,)
    """

    CAPACITY = 1 << 16  # bytes to start with: an array event of about 800 blocks in 3-D

    def __init__(self, lib, handle):
        self._lib, self._handle = lib, handle
        self._length = ctypes.c_int64()
        self._grow(self.CAPACITY)

    def _grow(self, capacity):
        self._buffer = (ctypes.c_int64 * ((capacity + 7) // 8))()  # 8-byte aligned
        self._capacity = ctypes.sizeof(self._buffer)
        self._view = memoryview(self._buffer).cast("B")

    def read(self, wait):
        while True:
            status = self._lib.deisa_analytics_read_events(self._handle, wait, self._buffer, self._capacity,
                                                           ctypes.byref(self._length))
            if status == VALUE and self._length.value > self._capacity:
                self._grow(max(self._length.value, 2 * self._capacity))  # the event stays queued
                wait = 0.0
                continue
            if _native.check(status) == PENDING:
                return None
            return _parse(self._view, self._length.value)


def _parse(view, length):
    events = []
    at = 0
    while at < length:
        kind, size = _HEADER.unpack_from(view, at)
        body = at + 8
        if kind == ARRAY:
            t, code, ndim, nblocks, name_bytes = _ARRAY.unpack_from(view, body)
            name_at = body + _ARRAY.size
            name = str(view[name_at:name_at + name_bytes], "utf-8")
            ints = view[name_at + ((name_bytes + 7) & ~7):at + size].cast("q").tolist()
            chunks, i = [], ndim
            for count in ints[:ndim]:
                chunks.append(tuple(ints[i:i + count]))
                i += count
            stride = 5 + 2 * ndim
            blocks = [(tuple(ints[j + 5:j + 5 + ndim]), tuple(ints[j + 5 + ndim:j + stride]), _ORDERS[ints[j + 4]],
                       ints[j], ints[j + 1], ints[j + 2])
                      for j in range(i, i + nblocks * stride, stride)]
            events.append((ARRAY, name, t, code, tuple(chunks), blocks))
        elif kind == CALLBACK:
            t, callback, n_inputs = _CALLBACK.unpack_from(view, body)
            ints = view[body + _CALLBACK.size:at + size].cast("q").tolist()
            windows, i = [], 0
            for _ in range(n_inputs):
                count = ints[i]
                windows.append(ints[i + 1:i + 1 + count])
                i += 1 + count
            events.append((CALLBACK, callback, t, windows))
        elif kind == DROP:
            t, name_bytes = _DROP.unpack_from(view, body)
            name_at = body + 16
            events.append((DROP, str(view[name_at:name_at + name_bytes], "utf-8"), t))
        elif kind == TIMESTEP_DONE:
            events.append((TIMESTEP_DONE, _TIMESTEP.unpack_from(view, body)[0]))
        elif kind == FAILED:
            status, message_bytes = _FAILED.unpack_from(view, body)
            events.append((FAILED, status, str(view[body + 8:body + 8 + message_bytes], "utf-8")))
        elif kind == END:
            events.append((END,))
        else:
            raise RuntimeError(f"deisa: unknown event record kind {kind} (libdeisa.so and the Python package differ)")
        at += size
    return events
