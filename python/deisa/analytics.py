"""The analytics side: Deisa, its callbacks and the loop that runs them (SPEC §4)."""

import ctypes
import gc
import json
import logging
import numbers
import os
import sys
import time

from . import _events, _native, feedback
from .array import Block, BlockTable, assemble
from .errors import exception_for
from .window import Window

logger = logging.getLogger("deisa")

_WHEN = {"AND": 0, "OR": 1}
_DEFAULT_TIMEOUT = 300.0
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}


def _pool_bytes(pool_size):
    if pool_size is None:
        pool_size = os.environ.get("DEISA_POOL_SIZE")
    if pool_size is None or pool_size == "":
        return 0  # the core picks its default
    if isinstance(pool_size, bool):
        raise TypeError("pool_size must be a number of bytes or a string such as '80MiB'")
    if isinstance(pool_size, numbers.Integral):
        if pool_size <= 0:
            raise ValueError(f"pool_size must be positive, got {pool_size}")
        return int(pool_size)
    if isinstance(pool_size, str):
        s = pool_size.strip().lower()
        num = s.rstrip("abcdefghijklmnopqrstuvwxyz ")
        unit = s[len(num):].strip()
        try:
            value = float(num)
        except ValueError:
            raise ValueError(f"pool_size {pool_size!r} is not a size such as 1073741824 or '80MiB'") from None
        if unit not in _UNITS:
            raise ValueError(f"pool_size {pool_size!r}: unknown unit {unit!r} (use B, KiB, MiB, GiB, KB, MB, GB)")
        if value <= 0:
            raise ValueError(f"pool_size must be positive, got {pool_size!r}")
        return int(value * _UNITS[unit])
    raise TypeError(f"pool_size must be a number of bytes or a string such as '80MiB', got {type(pool_size).__name__}")


class _Callback:
    __slots__ = ("fn", "inputs", "when", "exception_handler", "name")

    def __init__(self, fn, inputs, when, exception_handler):
        self.fn = fn
        self.inputs = inputs
        self.when = when
        self.exception_handler = exception_handler
        self.name = getattr(fn, "__qualname__", None) or repr(fn)


class Deisa:
    """Runs analytics callbacks on the arrays a simulation sends.

    >>> d = Deisa()
    >>> @d.register(Window("temperature", size=3))
    ... def watch(temperature):
    ...     print(temperature[-1].mean().compute())
    >>> d.execute_callbacks()
    """

    def __init__(self, *, address=None, max_simulation_ahead=1, feedback_queue_size=1024, pool_size=None,
                 scheduler=None, timeout=_DEFAULT_TIMEOUT, rendezvous=None):
        if isinstance(max_simulation_ahead, bool) or not isinstance(max_simulation_ahead, numbers.Integral):
            raise TypeError("max_simulation_ahead must be an int")
        if max_simulation_ahead < 1:
            raise ValueError(f"max_simulation_ahead must be at least 1, got {max_simulation_ahead}")
        if isinstance(feedback_queue_size, bool) or not isinstance(feedback_queue_size, numbers.Integral):
            raise TypeError("feedback_queue_size must be an int")
        if feedback_queue_size < 1:
            raise ValueError(f"feedback_queue_size must be at least 1, got {feedback_queue_size}")
        if not isinstance(timeout, numbers.Real) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if address is not None and not isinstance(address, str):
            raise TypeError("address must be a str such as 'unix:/path' or 'tcp://127.0.0.1:0'")
        self.address = address
        self.max_simulation_ahead = int(max_simulation_ahead)
        self.feedback_queue_size = int(feedback_queue_size)
        self.pool_bytes = _pool_bytes(pool_size)
        self.scheduler = scheduler
        self.timeout = float(timeout)
        self.rendezvous = rendezvous
        self._callbacks = []
        self._handle = None
        self._session = None
        self._blocks = {}      # (name, t) -> (dtype, chunks, {position: Block})
        self._leases = None    # _Leases, while execute_callbacks() runs
        self._arrays = {}      # (name, t, preprocess id) -> DeisaArray
        self._latest = {}      # name -> the last array event's (timestep, stride, ArrayLayout)
        self._ahead = {}       # name -> _Ahead: its array built for the timestep expected next
        self._plain_inputs = set()  # arrays some callback reads without preprocessing (built ahead)
        self._client = None

    # -- registration --------------------------------------------------------------------

    def register_callback(self, fn, *inputs, when="AND", exception_handler=None):
        """Run ``fn(**{name: [DeisaArray, ...]})`` for every timestep its inputs allow.

        Each input is a ``Window`` or a plain array name. ``when="AND"`` runs as soon
        as every input is complete at a timestep; ``when="OR"`` runs when the timestep
        closes if at least one input has a new value.
        """
        if not callable(fn):
            raise TypeError(f"callback must be callable, got {type(fn).__name__}")
        if when not in _WHEN:
            raise ValueError(f"when must be 'AND' or 'OR', got {when!r}")
        if exception_handler is not None and not callable(exception_handler):
            raise TypeError("exception_handler must be callable")
        if not inputs:
            raise ValueError("a callback needs at least one input array")
        windows = [Window.of(i) for i in inputs]
        names = [w.name for w in windows]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"callback {getattr(fn, '__qualname__', fn)!r} lists arrays {dup} more than once")
        if self._handle is not None:
            raise RuntimeError("callbacks must be registered before execute_callbacks()")
        self._callbacks.append(_Callback(fn, windows, when, exception_handler))
        return fn

    def register(self, *inputs, when="AND", exception_handler=None):
        """Decorator form of :meth:`register_callback`."""
        windows = [Window.of(i) for i in inputs]

        def decorate(fn):
            self.register_callback(fn, *windows, when=when, exception_handler=exception_handler)
            return fn

        return decorate

    # -- feedback ------------------------------------------------------------------------

    def set(self, key, value, timestep):
        """Send ``value`` to the simulation under ``key`` for ``timestep``.

        Per key, timesteps must strictly increase. Values: None, bool, int, float, str,
        bytes, or a numpy array up to 1 MiB.
        """
        if not isinstance(key, str):
            raise TypeError(f"feedback key must be a str, got {type(key).__name__}")
        if isinstance(timestep, bool) or not isinstance(timestep, numbers.Integral):
            raise TypeError(f"timestep must be an integer, got {type(timestep).__name__}")
        kind, data = feedback.encode(value)
        if self._handle is None:
            raise RuntimeError("set() is only available while execute_callbacks() runs")
        _native.check(_native.lib().deisa_analytics_set_feedback(self._handle, key.encode(), int(timestep), kind,
                                                                 data, len(data)))

    # -- the loop ------------------------------------------------------------------------

    def execute_callbacks(self, progress=False):
        """Run the callbacks until the simulation closes.

        Raises before waiting for data if a callback asks for an array the simulation
        never declared; raises ``RuntimeError`` if the logical flow of data is violated,
        after running the callbacks of every earlier complete timestep.
        """
        if self._handle is not None:
            raise RuntimeError("execute_callbacks() is already running")
        lib = _native.lib()
        h = _native.handle()
        _native.check(lib.deisa_analytics_start(_native.text(self.address), _native.text(_native.rendezvous_dir(self.rendezvous)),
                                                self.max_simulation_ahead, self.feedback_queue_size, self.pool_bytes,
                                                self.timeout, ctypes.byref(h)))
        self._handle = h
        freeze = gc.get_freeze_count() == 0  # a process that freezes objects itself is left alone
        try:
            info = ctypes.c_void_p()
            _native.check(lib.deisa_analytics_info(h, ctypes.byref(info)))
            info = json.loads(_native.take_string(info))
            self._session = info["session"]
            self._leases = _Leases(lib, h.value, info["pool_bytes"])
            logger.info("deisa analytics listening on %s (rendezvous %s)", info["address"], info["rendezvous"])
            self._plain_inputs = {w.name for cb in self._callbacks for w in cb.inputs if w.preprocess is None}
            for cb in self._callbacks:
                names = (ctypes.c_char_p * len(cb.inputs))(*(w.name.encode() for w in cb.inputs))
                sizes = (ctypes.c_int * len(cb.inputs))(*(w.size for w in cb.inputs))
                cid = ctypes.c_int()
                _native.check(lib.deisa_analytics_add_callback(h, cb.name.encode(), len(cb.inputs), names, sizes,
                                                               _WHEN[cb.when], ctypes.byref(cid)))
            # What exists now (modules, Dask, the user's setup) lives for the whole run: frozen,
            # it is left out of every garbage collection, so that the collections the loop
            # needs (and Python's own) cost what the run's new objects cost, not a full scan of
            # Dask's modules (tens of ms, inside a callback when Python triggers one). Done
            # before the simulation registers: it costs a full collection once.
            if freeze:
                gc.collect()
                gc.freeze()
            layouts = ctypes.c_void_p()
            _native.check(lib.deisa_analytics_wait_for_simulation(h, ctypes.byref(layouts)))
            self.arrays = json.loads(_native.take_string(layouts))
            self._connect_scheduler()
            self._loop(progress)
        finally:
            if freeze:
                gc.unfreeze()
            self._shutdown()

    def _loop(self, progress):
        lib = _native.lib()
        reader = _events.EventReader(lib, self._handle)
        started = {}
        processed = 0
        while True:
            # Every event queued comes in one call: an array's event with its callbacks'.
            events = reader.read(0.0)
            if events is None:
                # Idle: the collections that give dropped blocks back cost no latency here,
                # while between an array's event and its callback they would (they also run
                # after each drop, so that a busy analytics gives its memory back in time).
                # So does building the arrays of the timesteps expected next.
                self._leases.collect()
                self._build_ahead()
                events = reader.read(0.25)
                if events is None:
                    continue
            for event in events:
                kind = event[0]
                if kind == _events.ARRAY:
                    self._add_array(*event[1:])
                elif kind == _events.CALLBACK:
                    _, callback, t, windows = event
                    started.setdefault(t, time.perf_counter())
                    self._run_callback(self._callbacks[callback], t, windows)
                elif kind == _events.DROP:
                    self._drop(event[1], event[2])
                    self._leases.collect()
                elif kind == _events.TIMESTEP_DONE:
                    t = event[1]
                    elapsed = time.perf_counter() - started.pop(t, time.perf_counter())
                    processed += 1
                    _native.check(lib.deisa_analytics_finish_timestep(self._handle, t))
                    arrays = sorted({n for (n, tt) in self._blocks if tt == t})
                    if progress:
                        sys.stderr.write(f"\rdeisa: timestep {t} ({processed} processed), arrays {arrays}, "
                                         f"callbacks {elapsed * 1e3:.1f} ms   ")
                        sys.stderr.flush()
                    else:
                        logger.info("timestep %s: arrays %s, callbacks %.1f ms", t, arrays, elapsed * 1e3)
                elif kind == _events.FAILED:
                    raise exception_for(event[1], event[2])
                elif kind == _events.END:
                    if progress:
                        sys.stderr.write("\n")
                    return

    def _add_array(self, layout, t, rows):
        """An array is complete at ``t``: ``rows`` are its blocks' rows (see BlockTable), in the
        order of ``layout.positions``."""
        name = layout.name
        ahead = self._ahead.pop(name, None)
        if ahead is not None and ahead.timestep == t and ahead.layout is layout:
            table, blocks = ahead.table, ahead.blocks
            self._arrays[(name, t, None)] = ahead.array
        else:
            table, blocks = _table_of(layout)
        table.place(rows, self._leases.release)
        self._blocks[(name, t)] = (layout.dtype, layout.chunks, blocks)
        last = self._latest.get(name)
        stride = t - last[0] if last is not None and t > last[0] else 1
        self._latest[name] = (t, stride, layout)

    def _build_ahead(self):
        """Builds, for every array a callback reads as it is, its array of the timestep expected
        next (the last one plus the last stride, same layout), with its blocks not yet placed:
        when that timestep's event comes, placing the blocks is all that is left to do before
        the callback. Runs while the analytics is idle (Dask's array constructor costs
        hundreds of microseconds right after an idle pause, more than the rest of the path)."""
        for name, (t, stride, layout) in self._latest.items():
            ahead = self._ahead.get(name)
            if (ahead is not None and ahead.timestep == t + stride) or name not in self._plain_inputs:
                continue
            table, blocks = _table_of(layout)
            array = assemble(name, t + stride, layout.dtype, layout.chunks, blocks, self._session)
            self._ahead[name] = _Ahead(t + stride, layout, table, blocks, array)

    def _array(self, name, t, window):
        key = (name, t, id(window.preprocess) if window.preprocess else None)
        arr = self._arrays.get(key)
        if arr is None:
            dtype, chunks, blocks = self._blocks[(name, t)]
            tag = f"-p{len(self._arrays)}" if window.preprocess else ""
            arr = assemble(name, t, dtype, chunks, blocks, self._session, window.preprocess, tag)
            self._arrays[key] = arr
        return arr

    def _drop(self, name, t):
        entry = self._blocks.pop((name, t), None)
        if entry is not None:
            self._leases.dropped(entry[2])  # before the blocks go: their release may run right here
        del entry
        for key in [k for k in self._arrays if k[0] == name and k[1] == t]:
            del self._arrays[key]

    def _run_callback(self, cb, t, windows):
        """Runs ``cb`` at ``t``; ``windows`` holds the timesteps of each of its inputs, in order."""
        kwargs = {w.name: [self._array(w.name, ti, w) for ti in ts] for w, ts in zip(cb.inputs, windows)}
        try:
            if self._client is not None:
                import dask

                with dask.config.set(scheduler=self._client.get):
                    cb.fn(**kwargs)
            else:
                cb.fn(**kwargs)
        except (AssertionError, TimeoutError):
            raise
        except Exception as e:  # noqa: BLE001 - a callback's failure must not stop the analytics
            if cb.exception_handler is not None:
                cb.exception_handler(e)
            else:
                logger.exception("callback %s failed at timestep %s; continuing", cb.name, t)
        finally:
            del kwargs

    def _connect_scheduler(self):
        if self.scheduler is None:
            return
        from distributed import Client

        self._client = self.scheduler if isinstance(self.scheduler, Client) else Client(self.scheduler)

    def _shutdown(self):
        self._arrays.clear()
        self._blocks.clear()
        self._ahead.clear()
        gc.collect()
        h, self._handle = self._handle, None
        if h is not None:
            _native.lib().deisa_analytics_free(h)
        if self._client is not None and self._client is not self.scheduler:
            self._client.close()
        self._client = None


def _table_of(layout):
    """An empty block table for one timestep of an array, and its blocks by grid position."""
    table = BlockTable(layout.dtype, layout.ndim)
    return table, {pos: Block(table, i) for i, pos in enumerate(layout.positions)}


class _Ahead:
    """An array built ahead of its timestep, its blocks not yet placed."""

    __slots__ = ("timestep", "layout", "table", "blocks", "array")

    def __init__(self, timestep, layout, table, blocks, array):
        self.timestep, self.layout, self.table, self.blocks, self.array = timestep, layout, table, blocks, array


class _Leases:
    """The run's block leases: gives each back to the core when its block is gone, and keeps
    track of the blocks of arrays that no window holds any more but that are still alive.

    Dask's compute leaves reference cycles (recursive closures in dask.base) that keep the
    blocks of the arrays it computed until a garbage collection; until then their shared
    memory cannot be reused and the pool grows (a new segment, created and pre-faulted in a
    send). ``collect`` runs the young-generation collections that find them, which cost
    microseconds, and a full one (tens of ms) only when they hold a quarter of the pool or
    once a second; blocks a full collection leaves are held by the user and not tracked.
    """

    FULL_EVERY_S = 1.0

    def __init__(self, lib, handle, pool_bytes):
        self.lib, self.handle = lib, handle
        self.pending = {}  # lease -> nbytes
        self.pool_bytes = pool_bytes
        self._last_full = time.monotonic()

    def release(self, lease):
        """The block with this lease is gone (after the run ended the handle is gone and the
        call is a harmless error code)."""
        self.lib.deisa_analytics_release_block(self.handle, lease)
        self.pending.pop(lease, None)

    def dropped(self, blocks):
        """No window holds these blocks any more: they should go soon."""
        for b in blocks.values():
            if b.holds_lease():
                self.pending[b.lease] = b.nbytes

    def collect(self):
        if not self.pending:
            return
        for generation in (0, 1):
            gc.collect(generation)
            if not self.pending:
                return
        now = time.monotonic()
        if sum(self.pending.values()) * 4 >= self.pool_bytes or now - self._last_full >= self.FULL_EVERY_S:
            gc.collect()
            self._last_full = now
            # What a full collection left is really held (the user kept an array): stop trying.
            self.pending.clear()
