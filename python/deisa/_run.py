"""One run of the analytics: the native run, the loop over its events, the callbacks' arrays."""

import ctypes
import gc
import json
import logging
import sys
import threading
import time

from . import _events, _native
from ._abi import WHEN
from ._ahead import ArraysAhead
from ._leases import Leases
from .array import assemble
from ._serve import OFF
from .dashboard import ArrayPictures, Dashboard
from .flight import Flight
from .errors import NodeLost, exception_for
from .stats import RunStats, Stopwatch

logger = logging.getLogger("deisa")
PROGRESS_PERIOD = 0.1  # seconds between two drawings of the progress line


class Run:
    """Starts the analytics' side of a run in the core, registers the callbacks, waits for the
    simulation, then reads the run's events and acts on them until the end:

    - an array complete at a timestep: its blocks are placed in the array's Dask graph;
    - a callback due: it runs with its windows of arrays;
    - a drop: no window holds that array at that timestep any more;
    - a timestep done: its callbacks ran, the core may let the simulation go on.
    """

    def __init__(self, deisa):
        self.deisa = deisa
        self.handle = None
        self.session = None
        self.layouts = None    # the arrays the simulation declared, once every rank registered
        self._blocks = {}      # (name, t) -> (dtype, chunks, {position: Block})
        self._arrays = {}      # (name, t, preprocess id) -> DeisaArray
        self._leases = None
        self._ahead = None
        self._client = None
        self._placer = None    # on a cluster: runs the computes with each block read on its node
        self.current_timestep = None  # the timestep of the callback running now
        self._pictures = None  # with a dashboard: the pictures and reductions of the arrays
        self._freeing = threading.Lock()
        self.stats = RunStats()
        self._watch = Stopwatch(self.stats)

    def start(self):
        d = self.deisa
        lib = _native.lib()
        h = _native.handle()
        rendezvous = _native.rendezvous_dir(d.rendezvous)
        start, address = lib.deisa_analytics_start, d.address
        if d.scheduler is not None:
            from distributed import Client

            from .distributed import NodePlugin, local_address_towards

            self._client = d.scheduler if isinstance(d.scheduler, Client) else Client(d.scheduler)
            if address is None:
                address = local_address_towards(self._client.scheduler.address)
            start = lib.deisa_analytics_start_cluster
            # Workers started without the preload get the node service now (idempotent).
            self._client.register_worker_plugin(NodePlugin(rendezvous), name=NodePlugin.name)
        _native.check(start(_native.text(address), _native.text(rendezvous), d.max_simulation_ahead, d.feedback_queue_size,
                            d.pool_bytes, d.timeout, ctypes.byref(h)))
        self.handle = h
        if self._client is not None:
            from .distributed import Placer

            self._placer = Placer(self._client, h.value)
        info = ctypes.c_void_p()
        _native.check(lib.deisa_analytics_info(h, ctypes.byref(info)))
        info = json.loads(_native.take_string(info))
        self.session = info["session"]
        self._leases = Leases(lib, h.value, info["pool_bytes"])
        depths = {}
        for cb in d._callbacks:
            for w in cb.inputs:
                if w.preprocess is None:
                    depths[w.name] = max(depths.get(w.name, 1), cb.preparation_advance if cb.prepare and w is cb.inputs[0] else 1)
        self._ahead = ArraysAhead(depths, self.session)
        self._prepared = {}  # (callback index, timestep) -> what its prepare() returned
        logger.info("deisa analytics listening on %s (rendezvous %s)", info["address"], info["rendezvous"])
        if d.dashboard_address is not OFF:
            d.dashboard = Dashboard(h, d.dashboard_address)
            self._pictures = ArrayPictures(lib, h.value, self._compute)
            sys.stderr.write(f"deisa: dashboard at {d.dashboard.url}\n")
            sys.stderr.flush()
        if d.flight_address is not OFF:
            d.flight = Flight(h, d.flight_address, info["token"])
            logger.info("Arrow Flight at %s", d.flight.location)
        pending, d._pending_feedback = d._pending_feedback, []
        for key, kind, data, t in pending:  # set while no run went on
            _native.check(lib.deisa_analytics_set_feedback(h, key.encode(), t, kind, data, len(data)))
        for cb in d._callbacks:
            names, sizes = cb.native_inputs()
            cid = ctypes.c_int()
            _native.check(lib.deisa_analytics_add_callback(h, cb.name.encode(), len(cb.inputs), names, sizes,
                                                           WHEN[cb.when], ctypes.byref(cid)))

    def wait_for_simulation(self):
        layouts = ctypes.c_void_p()
        _native.check(_native.lib().deisa_analytics_wait_for_simulation(self.handle, ctypes.byref(layouts)))
        self.layouts = json.loads(_native.take_string(layouts))

    def loop(self, progress):
        lib = _native.lib()
        reader = _events.EventReader(lib, self.handle)
        started = {}
        processed = 0
        shown = 0.0  # when the progress line was last drawn
        watch = self._watch
        watch.resume()
        while True:
            # Every event queued comes in one call: an array's event with its callbacks'.
            events = reader.read(0.0)
            if events is None:
                # Idle: the collections that give dropped blocks back cost no latency here,
                # while between an array's event and its callback they would (they also run
                # after each drop, so that a busy analytics gives its memory back in time).
                # So does building the arrays of the timesteps expected next.
                self._leases.collect()
                self._prepare(self._ahead.build())
                watch.pause()
                events = reader.read(0.25)
                watch.resume()
                if events is None:
                    continue
            for event in events:
                kind = event[0]
                if kind == _events.ARRAY:
                    self.add_array(*event[1:])
                elif kind == _events.CALLBACK:
                    _, callback, t, windows = event
                    started.setdefault(t, time.perf_counter())
                    self._run_callback(callback, t, windows)
                elif kind == _events.DROP:
                    self._drop(event[1], event[2])
                    self._leases.collect()
                elif kind == _events.TIMESTEP_DONE:
                    t = event[1]
                    elapsed = time.perf_counter() - started.pop(t, time.perf_counter())
                    processed += 1
                    self.stats.timesteps = processed
                    _native.check(lib.deisa_analytics_finish_timestep(self.handle, t))
                    for key in [k for k in self._prepared if k[1] <= t]:  # used, or a timestep that did not come
                        del self._prepared[key]
                    arrays = sorted({n for (n, tt) in self._blocks if tt == t})
                    if self._pictures is not None:
                        began = Stopwatch.clock()
                        self._pictures.timestep_done(t, arrays, lambda n: self._array_at(n, t))
                        self._watch.user(Stopwatch.clock() - began)
                    if progress:
                        now = time.perf_counter()
                        if now >= shown + PROGRESS_PERIOD:  # a terminal line redrawn 10 times a second at most
                            shown = now
                            sys.stderr.write(f"\rdeisa: timestep {t} ({processed} processed), arrays {arrays}, "
                                             f"callbacks {elapsed * 1e3:.1f} ms   ")
                            sys.stderr.flush()
                    else:
                        logger.info("timestep %s: arrays %s, callbacks %.1f ms", t, arrays, elapsed * 1e3)
                elif kind == _events.FAILED:
                    raise exception_for(event[1], event[2])
                elif kind == _events.END:
                    watch.pause()
                    if progress:
                        sys.stderr.write(f"\rdeisa: {processed} timesteps processed{' ' * 40}\n")
                    logger.info("simulation closed: %s timesteps processed", processed)
                    return

    def add_array(self, layout, t, rows):
        """An array is complete at ``t``: ``rows`` are its blocks' rows (see BlockTable), in the
        order of ``layout.positions``."""
        table, blocks, array = self._ahead.take(layout, t)
        if array is not None:
            self._arrays[(layout.name, t, None)] = array
        table.place(rows, self._leases.release)
        self._blocks[(layout.name, t)] = (layout.dtype, layout.chunks, blocks)

    def _array(self, name, t, window):
        key = (name, t, id(window.preprocess) if window.preprocess else None)
        arr = self._arrays.get(key)
        if arr is None:
            dtype, chunks, blocks = self._blocks[(name, t)]
            tag = f"-p{len(self._arrays)}" if window.preprocess else ""
            arr = assemble(name, t, dtype, chunks, blocks, self.session, window.preprocess, tag)
            self._arrays[key] = arr
        return arr

    def _array_at(self, name, t):
        """The array ``name`` at ``t`` as a callback without preprocessing gets it."""
        arr = self._arrays.get((name, t, None))
        if arr is None:
            dtype, chunks, blocks = self._blocks[(name, t)]
            arr = self._arrays[(name, t, None)] = assemble(name, t, dtype, chunks, blocks, self.session)
        return arr

    def _compute(self, *collections):
        """``dask.compute`` as the callbacks' computes run (on a cluster: each block read on its node)."""
        import dask

        if self._placer is not None:
            return dask.compute(*collections, scheduler=self._placer.get)
        return dask.compute(*collections)

    def _drop(self, name, t):
        entry = self._blocks.pop((name, t), None)
        if entry is not None:
            self._leases.dropped(entry[2])  # before the blocks go: their release may run right here
        del entry
        for key in [k for k in self._arrays if k[0] == name and k[1] == t]:
            del self._arrays[key]

    def _prepare(self, built):
        """Calls the ``prepare`` of each callback whose first input was just built ahead."""
        for index, cb in enumerate(self.deisa._callbacks):
            if cb.prepare is None:
                continue
            for name, t, array in built:
                if name == cb.inputs[0].name and cb.inputs[0].preprocess is None and (index, t) not in self._prepared:
                    self._prepared[(index, t)] = self._call_prepare(cb, array, t)

    def _call_prepare(self, cb, array, t):
        """``cb.prepare(array, timestep=t)``; its failure goes where the callback's would (its result is then None)."""
        began = Stopwatch.clock()
        try:
            return cb.prepare(array, timestep=t)
        except (AssertionError, TimeoutError, NodeLost):
            raise
        except Exception as e:  # noqa: BLE001 - as a callback's failure
            if cb.exception_handler is not None:
                cb.exception_handler(e)
            else:
                logger.exception("prepare of callback %s failed for timestep %s; continuing", cb.name, t)
            return None
        finally:
            self._watch.user(Stopwatch.clock() - began)

    def _run_callback(self, index, t, windows):
        """Runs callback ``index`` at ``t``; ``windows`` holds the timesteps of each of its inputs, in order."""
        cb = self.deisa._callbacks[index]
        self.current_timestep = t  # for set() without a timestep (deisa-ray's first version)
        kwargs = {w.name: [self._array(w.name, ti, w) for ti in ts] for w, ts in zip(cb.inputs, windows)}
        if cb.prepare is not None:
            if (index, t) in self._prepared:
                kwargs["preparation_result"] = self._prepared.pop((index, t))
            else:  # not prepared ahead (the first timestep, a preprocessed input, a change of stride)
                kwargs["preparation_result"] = self._call_prepare(cb, self._array(cb.inputs[0].name, t, cb.inputs[0]), t)
        self._watch.on_path()
        error = None
        began = Stopwatch.clock()
        try:
            if self._placer is not None:
                import dask

                with dask.config.set(scheduler=self._placer.get):
                    cb.fn(**kwargs)
            else:
                cb.fn(**kwargs)
        except (AssertionError, TimeoutError, NodeLost):
            raise  # the run cannot go on
        except Exception as e:  # noqa: BLE001 - a callback's failure must not stop the analytics
            error = f"{type(e).__name__}: {e}"
            if cb.exception_handler is not None:
                cb.exception_handler(e)
            else:
                logger.exception("callback %s failed at timestep %s; continuing", cb.name, t)
        finally:
            self.current_timestep = None
            seconds = Stopwatch.clock() - began
            self._watch.user(seconds)
            del kwargs
            if self._pictures is not None:
                _native.lib().deisa_analytics_report_callback(self.handle, cb.name.encode(), t, seconds,
                                                              None if error is None else error.encode())

    def interrupt(self):
        """Ends the core's wait for the simulation (any thread; see _signals)."""
        h = self.handle
        if h is not None:
            _native.lib().deisa_analytics_interrupt(h)

    def free(self, wait=None):
        """Ends the run in the core: the ranks are told, its socket, record and shared memory
        removed. From any thread; a second caller waits for the first (up to ``wait`` s)."""
        if not self._freeing.acquire(timeout=-1 if wait is None else wait):
            return
        try:
            h, self.handle = self.handle, None
            if h is not None:
                _native.lib().deisa_analytics_free(h)
        finally:
            self._freeing.release()

    def close(self):
        """Ends the run: every array and block is let go, then the core removes the run's
        socket, record and shared memory."""
        self._arrays.clear()
        self._blocks.clear()
        if self._ahead is not None:
            self._ahead.clear()
        gc.collect()
        self.free()
        if self.deisa.flight is not None:  # stopped by the core with the run: the handle goes too
            self.deisa.flight.close()
        if self._client is not None and self._client is not self.deisa.scheduler:
            self._client.close()
        self._client = None
