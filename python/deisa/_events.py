"""The run's events, read as packed records (deisa_analytics_read_events; layout in deisa.h).

An array's event lies between a rank's send and the callback: read this way it costs a few
struct and memoryview casts, where decoding its JSON cost tens of microseconds.
"""

import ctypes
import struct

from . import _native
from ._abi import (ERR_VALUE, EVENT_ARRAY as ARRAY, EVENT_CALLBACK as CALLBACK, EVENT_DROP as DROP, EVENT_END as END,
                   EVENT_FAILED as FAILED, EVENT_TIMESTEP_DONE as TIMESTEP_DONE, PENDING)
from .dtypes import dtype_of

_HEADER = struct.Struct("=ii")          # kind, size of the record
_ARRAY = struct.Struct("=iiqiiii")      # kind, size, timestep, dtype, ndim, n_blocks, name_bytes
_CALLBACK = struct.Struct("=qii")       # timestep, callback id, n_inputs
_DROP = struct.Struct("=qi")            # timestep, name_bytes
_FAILED = struct.Struct("=ii")          # status, message_bytes


class EventReader:
    """Reads a run's events in batches into a buffer of its own (grown when an event needs more).

    ``read(wait)`` returns the events queued (waiting up to ``wait`` seconds for the first) as
    tuples, or None if none came:
      (ARRAY, layout, timestep, rows): ``layout`` an :class:`ArrayLayout`, the same object at
          every timestep while the array's layout is the same; ``rows`` the blocks' rows
          (see :class:`deisa.array.BlockTable`), in the order of ``layout.positions``
      (CALLBACK, callback id, timestep, [timesteps of each input, in the callback's order])
      (DROP, name, timestep) · (TIMESTEP_DONE, timestep) · (FAILED, status, message) · (END,)
    """

    CAPACITY = 1 << 16  # bytes to start with: an array event of about 800 blocks in 3-D
    LAYOUTS = 1024  # layouts kept (one per array and dtype in a run; more means churn)

    def __init__(self, lib, handle):
        self._read = lib.deisa_analytics_read_events
        self._handle = handle
        self._length = ctypes.c_int64()
        self._length_ref = ctypes.byref(self._length)
        self._layouts = {}
        self._grow(self.CAPACITY)

    def _grow(self, capacity):
        self._buffer = (ctypes.c_int64 * ((capacity + 7) // 8))()  # 8-byte aligned
        self._capacity = ctypes.sizeof(self._buffer)
        self._view = memoryview(self._buffer).cast("B")
        self._ints = self._view.cast("q")

    def read(self, wait):
        while True:
            status = self._read(self._handle, wait, self._buffer, self._capacity, self._length_ref)
            if status:
                if status == ERR_VALUE and self._length.value > self._capacity:
                    self._grow(max(self._length.value, 2 * self._capacity))  # the event stays queued
                    wait = 0.0
                    continue
                if _native.check(status) == PENDING:
                    return None
            return self._parse(self._length.value)

    def _parse(self, length):
        # Plain int reads of the buffer as int64s (the records are 8-byte aligned): after an
        # idle pause, every distinct operation here costs microseconds.
        view, ints = self._view, self._ints
        events = []
        at = 0
        while at < length:
            kind, size = _HEADER.unpack_from(view, at)
            i = at >> 3  # the record's first int64 in ints
            if kind == ARRAY:
                _, _, t, code, ndim, nblocks, name_bytes = _ARRAY.unpack_from(view, at)
                rows_at = at + size - nblocks * 8 * (5 + ndim)
                key = view[at + 16:rows_at].tobytes()
                layout = self._layouts.get(key)
                if layout is None:
                    if len(self._layouts) >= self.LAYOUTS:
                        self._layouts.clear()
                    layout = self._layouts[key] = ArrayLayout(key, code, ndim, nblocks, name_bytes)
                events.append((ARRAY, layout, t, view[rows_at:at + size].tobytes()))
            elif kind == CALLBACK:
                t, callback, n_inputs = _CALLBACK.unpack_from(view, at + 8)
                windows, i = [], i + 3
                for _ in range(n_inputs):
                    count = ints[i]
                    windows.append(ints[i + 1:i + 1 + count].tolist())
                    i += 1 + count
                events.append((CALLBACK, callback, t, windows))
            elif kind == DROP:
                t, name_bytes = _DROP.unpack_from(view, at + 8)
                events.append((DROP, str(view[at + 24:at + 24 + name_bytes], "utf-8"), t))
            elif kind == TIMESTEP_DONE:
                events.append((TIMESTEP_DONE, ints[i + 1]))
            elif kind == FAILED:
                status, message_bytes = _FAILED.unpack_from(view, at + 8)
                events.append((FAILED, status, str(view[at + 16:at + 16 + message_bytes], "utf-8")))
            elif kind == END:
                events.append((END,))
            else:
                raise RuntimeError(f"deisa: unknown event record kind {kind} (libdeisa.so and the Python package differ)")
            at += size
        return events


class ArrayLayout:
    """What an array's events say of it that does not change from one timestep to the next:
    its name, dtype, chunks and block positions (in the order of the blocks' rows)."""

    __slots__ = ("name", "code", "dtype", "ndim", "chunks", "positions")

    def __init__(self, key, code, ndim, nblocks, name_bytes):
        # key: the record from its dtype field to the blocks' rows (layout in deisa.h).
        name_at = 16
        self.name = str(key[name_at:name_at + name_bytes], "utf-8")
        self.code, self.dtype, self.ndim = code, dtype_of(code), ndim
        ints = memoryview(key)[name_at + ((name_bytes + 7) & ~7):].cast("q").tolist()
        chunks, i = [], ndim
        for count in ints[:ndim]:
            chunks.append(tuple(ints[i:i + count]))
            i += count
        self.chunks = tuple(chunks)
        self.positions = [tuple(ints[j:j + ndim]) for j in range(i, i + nblocks * ndim, ndim)] if ndim else [()] * nblocks
