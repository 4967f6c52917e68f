"""The simulation side: one Bridge per MPI rank (docs/specification.md §3)."""

import atexit
import ctypes
import functools
import numbers
import os
import socket
import sys
import weakref
from collections.abc import Mapping

import numpy as np

from . import _native, _signals, feedback
from ._abi import OK, ON_FAILURE, ORDER_C, ORDER_FORTRAN
from .dtypes import code_of

# deisa-ray's Bridge options for Ray, and what each did there (refused with that explanation).
_RAY_OPTIONS = {
    "_node_id": "Ray node id of the rank's scheduling actor",
    "scheduling_actor_cls": "class of the node's Ray scheduling actor",
    "_init_retries": "number of tries to create the node's Ray scheduling actor",
    "object_store_memory_timeout_s": "wait for room in Ray's object store (deisa: the bridge's timeout= waits for room "
                                     "in shared memory)",
}

_KEYS = ("global_shape", "chunk_shape", "chunk_position")
_OPTIONAL = ("dtype",)
_DEFAULT_TIMEOUT = 300.0


def _int_tuple(name, key, value):
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise TypeError(f"array '{name}': {key} must be 1-D, got a {value.ndim}-D array")
        if not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"array '{name}': {key} must hold integers, got {value.dtype}")
        return tuple(int(v) for v in value)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"array '{name}': {key} must be a tuple, list or 1-D integer array, got {type(value).__name__}")
    out = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"array '{name}': {key} {tuple(value)} must hold integers, got {type(v).__name__}")
        out.append(int(v))
    return tuple(out)


def _first_version(rank, arrays_metadata, system_metadata):
    """deisa-ray's first version's Bridge(id, arrays_metadata, system_metadata): the rank's
    communicator (``system_metadata["nb_ranks"]`` ranks) and the arrays' metadata (its
    ``nb_chunks_per_dim`` equal blocks of ``chunk_shape`` give the global shape)."""
    from .testing import Comm

    if not isinstance(system_metadata, Mapping) or "nb_ranks" not in system_metadata:
        raise TypeError("deisa-ray's first version's Bridge(id, arrays_metadata, system_metadata) needs system_metadata "
                        "with 'nb_ranks', the number of ranks" + ("" if system_metadata is not None else
                                                                  " (or pass an MPI communicator instead of the id)"))
    if not isinstance(arrays_metadata, Mapping):
        raise TypeError(f"arrays_metadata must be a mapping of array name to metadata, got {type(arrays_metadata).__name__}")
    arrays = {}
    for name, meta in arrays_metadata.items():
        meta = dict(meta) if isinstance(meta, Mapping) else meta
        if isinstance(meta, dict) and "global_shape" not in meta and "nb_chunks_per_dim" in meta:
            chunk = _int_tuple(name, "chunk_shape", meta.get("chunk_shape", ()))
            counts = _int_tuple(name, "nb_chunks_per_dim", meta.pop("nb_chunks_per_dim"))
            if len(chunk) != len(counts):
                raise ValueError(f"array '{name}': nb_chunks_per_dim {counts} and chunk_shape {chunk} differ in length")
            meta["global_shape"] = tuple(c * n for c, n in zip(chunk, counts))
        if isinstance(meta, dict):
            meta.pop("nb_chunks_of_node", None)  # Ray's placement: each rank declares its own blocks here
        arrays[name] = meta
    return Comm(rank, system_metadata["nb_ranks"]), arrays


def _validate_metadata(arrays_metadata):
    """The arrays' metadata as the C ABI takes it: {name: (global, chunk, position, dtype code,
    numpy dtype)}. Python's types are checked here; the core checks the values (sizes,
    positions, the block grid) when the arrays are declared."""
    if not isinstance(arrays_metadata, Mapping):
        raise TypeError(f"arrays_metadata must be a mapping of array name to metadata, got {type(arrays_metadata).__name__}")
    arrays = {}
    for name, meta in arrays_metadata.items():
        if not isinstance(name, str):
            raise TypeError(f"arrays_metadata keys must be array names (str), got {name!r}")
        if not name:
            raise ValueError("arrays_metadata has an empty array name")
        if not isinstance(meta, Mapping):
            raise TypeError(f"arrays_metadata['{name}'] must be a mapping, got {type(meta).__name__}")
        unknown = [k for k in meta if k not in _KEYS + _OPTIONAL]
        if unknown:
            raise ValueError(f"arrays_metadata['{name}'] has unknown keys {unknown} (expected {list(_KEYS)} and optional 'dtype')")
        missing = [k for k in _KEYS if k not in meta]
        if missing:
            raise ValueError(f"arrays_metadata['{name}'] is missing {missing}")
        g, c, p = (_int_tuple(name, k, meta[k]) for k in _KEYS)
        if not (len(g) == len(c) == len(p)):  # the C ABI takes one number of dimensions for the three
            raise ValueError(f"array '{name}': global_shape, chunk_shape and chunk_position must have the same length "
                             f"(got {len(g)}, {len(c)} and {len(p)})")
        dtype = meta.get("dtype")
        code = 0 if dtype is None else code_of(dtype, f"array '{name}': dtype")
        arrays[name] = (g, c, p, code, None if dtype is None else np.dtype(dtype))
    return arrays


class Bridge:
    """Connects one simulation rank to the analytics.

    ``Bridge(comm, {"temperature": {"global_shape": (100, 100), "chunk_shape": (50, 50),
    "chunk_position": (i, j)}})`` registers this rank's block of each array; the
    constructor returns once every rank of ``comm`` registered and the layouts are
    valid. Then ``send(name, block, timestep)`` every timestep, ``get(key, timestep)``
    for feedback, and ``close()`` (or use ``with``).

    ``on_analytics_failure``: what the rank does when the analytics goes away: ``"warn"`` (once;
    later sends are no-ops), ``"raise"`` (``AnalyticsLostError`` from the next call), or
    ``"wait"``: the bridge keeps copies of its blocks of the last ``max_simulation_ahead``
    timesteps and the simulation goes on; past them, a send waits (up to ``timeout``) for a new
    analytics started in the same rendezvous directory, which takes the simulation over, gets
    those blocks and the feedback the lost one had set.
    """

    def __init__(self, comm=None, arrays_metadata=None, system_metadata=None, *, address=None, timeout=_DEFAULT_TIMEOUT,
                 rendezvous=None, on_analytics_failure="warn", id=None, **deisa_ray_options):  # noqa: A002 - deisa-ray's name
        self._handle = None
        if id is not None or system_metadata is not None:  # deisa-ray's first version: Bridge(id, arrays_metadata, system_metadata)
            comm, arrays_metadata = _first_version(comm if id is None else id, arrays_metadata, system_metadata)
        for name in deisa_ray_options:
            what = _RAY_OPTIONS.get(name)
            raise TypeError(f"Bridge() got an unexpected keyword argument '{name}'" if what is None else
                            f"{name} is deisa-ray's {what}; deisa runs without Ray: leave it out")
        if comm is None:
            raise ValueError("comm is required")
        if not (hasattr(comm, "Get_rank") and hasattr(comm, "Get_size")):
            raise TypeError(f"comm must be an MPI communicator or have Get_rank() and Get_size(), got {type(comm).__name__}"
                            + (" (deisa-ray's first version took the rank's id here, with system_metadata={'nb_ranks': N}; "
                               "or pass the MPI communicator, or deisa.testing.Comm(rank, size))"
                               if isinstance(comm, numbers.Integral) else ""))
        if on_analytics_failure not in ON_FAILURE:
            raise ValueError(f"on_analytics_failure must be one of {', '.join(map(repr, ON_FAILURE))}, got {on_analytics_failure!r}")
        self.comm = comm
        self.rank = int(comm.Get_rank())
        self.world_size = int(comm.Get_size())
        self.bridge_id = self.rank  # deisa-ray's name for the rank
        self.node_id = socket.gethostname()  # the node this rank runs on (its host name)
        self.arrays_metadata = _validate_metadata(arrays_metadata)
        self._closed = False
        self._plans = {}  # array name -> _SendPlan, once a send of it passed every check
        lib = _native.lib()
        h = _native.handle()
        _native.check(lib.deisa_bridge_open(self.rank, self.world_size, _native.text(address),
                                            _native.text(_native.rendezvous_dir(rendezvous)),
                                            _native.seconds(timeout), ON_FAILURE[on_analytics_failure], ctypes.byref(h)))
        self._handle = h
        # Ctrl-C ends a wait for the analytics at once (see _signals).
        self._watched = _signals.watch(functools.partial(lib.deisa_bridge_interrupt, h.value))
        self._finalizer = weakref.finalize(self, _free_bridge, h.value, self._watched)
        atexit.register(_close_at_exit, weakref.ref(self))
        for name, (g, c, p, code, _) in self.arrays_metadata.items():
            _native.check(lib.deisa_bridge_declare_array(h, name.encode(), len(g), _native.int64_array(g),
                                                         _native.int64_array(c), _native.int64_array(p), code, ORDER_C))
        _native.check(lib.deisa_bridge_connect(h))

    # -- sending -------------------------------------------------------------------------

    def send(self, array_name, chunk, timestep, *, chunked=True, store_externally=False):
        """Hand over this rank's block of ``array_name`` at ``timestep``.

        Copies the block once into shared memory and returns as soon as the
        simulation may overwrite it. Waits (never drops) while the analytics is
        ``max_simulation_ahead`` timesteps behind or the shared-memory pool is full.
        ``chunked`` and ``store_externally`` are deisa-ray's first version's, which had no
        effect there either.
        """
        plan = self._plans.get(array_name)
        if (plan is not None and type(chunk) is np.ndarray and chunk.dtype is plan.dtype and chunk.shape == plan.shape
                and type(timestep) is int and -(1 << 63) <= timestep < (1 << 63) and chunk.flags.c_contiguous):
            # The common case, a block like the last one of this array: what the checks below
            # would find again is known; only the block's address is new.
            try:
                data = ctypes.byref(ctypes.c_char.from_buffer(chunk))  # cheaper than chunk.ctypes
            except (TypeError, ValueError):  # a read-only or empty block
                data = chunk.ctypes.data
            status = plan.send(self._handle, plan.name, data, plan.nbytes, plan.code, plan.ndim, plan.c_shape, ORDER_C,
                               timestep)
            if status != OK:
                _native.check(status)
            return
        name = self._name(array_name)
        t = _timestep(timestep)
        chunk = np.asarray(chunk)
        code = code_of(chunk.dtype, f"array '{name}': block dtype")
        meta = self.arrays_metadata.get(name)
        if chunk.flags.c_contiguous:
            order = ORDER_C
        elif chunk.flags.f_contiguous:
            order = ORDER_FORTRAN
        else:
            chunk, order = np.ascontiguousarray(chunk), ORDER_C
        shape = _native.int64_array(chunk.shape) if chunk.ndim else _native.int64_array([1])
        lib = _native.lib()
        _native.check(lib.deisa_bridge_send(self._handle, name.encode(), chunk.ctypes.data, chunk.nbytes, code,
                                            max(chunk.ndim, 1), shape, order, t))
        if order == ORDER_C and meta is not None:
            self._plans[name] = _SendPlan(lib.deisa_bridge_send, name, chunk, code, shape)

    def buffer(self, array_name, timestep, dtype=None):
        """A writable numpy array already in shared memory; leaving the ``with`` block sends it.

        The zero-copy send: ``with bridge.buffer("temperature", t) as block: block[...] = ...``.
        If the block raises, nothing is sent. Do not keep the array after the block.
        """
        name = self._name(array_name)
        t = _timestep(timestep)
        meta = self.arrays_metadata.get(name)
        if dtype is not None:
            code, dtype = code_of(dtype, f"array '{name}': dtype"), np.dtype(dtype)
        elif meta is None:
            code = 0  # not declared: the acquire names the error
        elif meta[4] is None:
            raise TypeError(f"array '{name}' has no declared dtype: pass dtype= to buffer()")
        else:
            code, dtype = meta[3], meta[4]
        return _BlockBuffer(self._handle, name.encode(), t, code, dtype, meta[1] if meta is not None else None)

    # -- feedback ------------------------------------------------------------------------

    def get(self, key=None, timestep=None, default=None, *, name=None, chunked=False):
        """Feedback from the analytics.

        With ``timestep``: the value set for exactly that timestep, else ``default``.
        Without: the retained list of ``(timestep, value)`` pairs, else ``default``.
        Every rank asking the same question gets the same answer. deisa-ray's first version's
        ``get(name=key, default=)`` gives the newest value (or ``default``).
        """
        if chunked:
            raise NotImplementedError("chunked feedback (a distributed array) is not implemented (nor in deisa-ray)")
        if name is not None:
            if key is not None:
                raise TypeError("get() takes the key or name=, not both")
            if timestep is None:
                entries = self.get(name)
                return default if entries is None else entries[-1][1]
            key = name
        if not isinstance(key, str):
            raise TypeError(f"feedback key must be a str, got {type(key).__name__}")
        lib = _native.lib()
        fb, found = _native.handle(), ctypes.c_int()
        has_t = timestep is not None
        _native.check(lib.deisa_bridge_get_feedback(self._handle, key.encode(), int(has_t),
                                                    _timestep(timestep) if has_t else 0, ctypes.byref(fb), ctypes.byref(found)))
        if not found.value:
            return default
        try:
            count = ctypes.c_int64()
            _native.check(lib.deisa_feedback_count(fb, ctypes.byref(count)))
            entries = []
            for i in range(count.value):
                t, kind, data, n = ctypes.c_int64(), ctypes.c_int(), ctypes.c_void_p(), ctypes.c_int64()
                _native.check(lib.deisa_feedback_entry(fb, i, ctypes.byref(t), ctypes.byref(kind), ctypes.byref(data), ctypes.byref(n)))
                entries.append((t.value, feedback.decode(kind.value, ctypes.string_at(data.value, n.value) if n.value else b"")))
        finally:
            lib.deisa_feedback_free(fb)
        return entries[0][1] if has_t else entries

    # -- closing -------------------------------------------------------------------------

    @property
    def analytics_lost(self):
        """True once the analytics went away (sends are then no-ops, unless on_analytics_failure='raise')."""
        lost = ctypes.c_int()
        _native.check(_native.lib().deisa_bridge_analytics_lost(self._handle, ctypes.byref(lost)))
        return bool(lost.value)

    def close(self, timestep=None):
        """The simulation is finished on this rank (idempotent)."""
        if self._closed or self._handle is None:
            return
        has_t = timestep is not None
        _native.check(_native.lib().deisa_bridge_close(self._handle, int(has_t), _timestep(timestep) if has_t else 0))
        self._closed = True
        _signals.unwatch(self._watched)
        # Logged as deisa-ray logs it; a process that never imported logging configured no handler
        # that would show it, and a rank does not pay logging's 0.5 MB to say it (benchmark 7a).
        if (logging := sys.modules.get("logging")) is not None:
            logging.getLogger("deisa.bridge").info("Bridge %s closed at timestep %s", self.bridge_id, timestep)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _name(self, array_name):
        if not isinstance(array_name, str):
            raise TypeError(f"array name must be a str, got {type(array_name).__name__}")
        return array_name


class _SendPlan:
    """What a send of one array checked once and need not check again: the block's dtype and
    shape, and the arguments of the native call that do not change."""

    __slots__ = ("send", "name", "dtype", "shape", "nbytes", "code", "ndim", "c_shape")

    def __init__(self, send, name, chunk, code, c_shape):
        self.send, self.name, self.code, self.c_shape = send, name.encode(), code, c_shape
        self.dtype, self.shape, self.nbytes, self.ndim = chunk.dtype, chunk.shape, chunk.nbytes, len(c_shape)


def _timestep(t):
    if type(t) is int and -(1 << 63) <= t < (1 << 63):
        return t
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
        raise TypeError(f"timestep must be an integer, got {type(t).__name__}")
    t = int(t)
    if not -(1 << 63) <= t < (1 << 63):
        raise ValueError(f"timestep {t} does not fit in 64 bits")
    return t


def _free_bridge(h, watched):
    _signals.unwatch(watched)
    lib = _native.lib()
    lib.deisa_bridge_free(h)


def _close_at_exit(ref):
    b = ref()
    if b is not None:
        try:
            b.close()
        except Exception:  # noqa: BLE001 - the interpreter is exiting; nothing to report to
            pass


class _BlockBuffer:
    """``with bridge.buffer(...)``: the block's slot is acquired on entry, sent on a clean exit,
    given back if the block raised. A plain class, not a generator: entering costs one native
    call and a numpy view, which is what the zero-copy send is measured by."""

    __slots__ = ("_handle", "_name", "_t", "_code", "_dtype", "_shape", "_block")

    def __init__(self, handle, name, t, code, dtype, shape):
        self._handle, self._name, self._t, self._code, self._dtype, self._shape = handle, name, t, code, dtype, shape
        self._block = None

    def __enter__(self):
        if self._block is not None:
            raise RuntimeError("a bridge.buffer(...) is entered once; call buffer() again for the next block")
        data, nbytes, block = ctypes.c_void_p(), ctypes.c_int64(), _native.handle()
        _native.check(_native.lib().deisa_bridge_acquire(self._handle, self._name, self._t, self._code, ctypes.byref(data),
                                                         ctypes.byref(nbytes), ctypes.byref(block)))
        self._block = block
        return np.ndarray(self._shape, self._dtype, buffer=_native.memory(data.value, nbytes.value, writable=True))

    def __exit__(self, kind, value, traceback):
        lib = _native.lib()
        if kind is not None:
            lib.deisa_block_abandon(self._block)
            return False
        _native.check(lib.deisa_block_commit(self._block))
        return False
