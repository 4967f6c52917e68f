"""The analytics side's user API: Deisa, its callbacks and feedback (docs/specification.md §4).

The rules on settings and callbacks are the core's: what is checked here is what Python alone
knows (types, callables); the values go to the core, whose errors come back as exceptions.
"""

import ctypes
import gc
import numbers
import os
import sys

from . import _native, _signals, feedback
from ._serve import OFF, serve_address
from .errors import ConfigError
from ._abi import WHEN
from ._run import Run
from .stats import RunStats
from .window import Window

_DEFAULT_TIMEOUT = 300.0


class Callback:
    """A registered callback: the function, its inputs (Windows, in order), its firing rule
    (``"AND"`` or ``"OR"``) and its exception handler."""

    __slots__ = ("fn", "inputs", "when", "exception_handler", "name", "prepare", "preparation_advance", "fn_as_given")

    # deisa-ray's names for them (its _CallbackConfig).
    simulation_callback = property(lambda self: self.fn_as_given)
    arrays_description = property(lambda self: self.inputs)

    def __init__(self, fn, inputs, when, exception_handler, prepare=None, preparation_advance=1):
        self.fn = fn
        self.inputs = inputs
        self.when = when
        self.exception_handler = exception_handler
        self.prepare = prepare
        self.preparation_advance = preparation_advance
        self.name = getattr(fn, "__qualname__", None) or repr(fn)
        self.fn_as_given = fn  # the user's function (fn may call it the way deisa-ray's first version did)

    def native_inputs(self):
        """The inputs as the C ABI takes them: array names and window sizes."""
        names = (ctypes.c_char_p * len(self.inputs))(*(w.name.encode("utf-8") for w in self.inputs))
        sizes = (ctypes.c_int * len(self.inputs))(*(w.size for w in self.inputs))
        return names, sizes


class Deisa:
    """Runs analytics callbacks on the arrays a simulation sends.

    >>> d = Deisa()
    >>> @d.register(Window("temperature", size=3))
    ... def watch(temperature):
    ...     print(temperature[-1].mean().compute())
    >>> d.execute_callbacks()
    """

    def __init__(self, feedback_queue_size=1024, *args, address=None, max_simulation_ahead=1, pool_size=None,
                 scheduler=None, timeout=_DEFAULT_TIMEOUT, rendezvous=None, dashboard=False, flight=False, ray_start=None):
        if args:
            raise TypeError(f"Deisa() takes feedback_queue_size as its only positional argument, got {1 + len(args)}: "
                            "pass the other settings by keyword (deisa-ray ignores extra positional arguments)")
        if ray_start is not None:
            raise TypeError("ray_start is how deisa-ray starts Ray; deisa runs without Ray: leave it out "
                            "(deisa-ray would call it to start Ray)")
        from .ray.config import distributed_scheduling_enabled_from_env

        distributed_scheduling_enabled_from_env()  # deisa-ray's switch: a value it refuses is refused here too
        if isinstance(max_simulation_ahead, bool) or not isinstance(max_simulation_ahead, numbers.Integral):
            raise TypeError("max_simulation_ahead must be an int")
        if isinstance(feedback_queue_size, bool) or not isinstance(feedback_queue_size, numbers.Integral):
            raise TypeError("feedback_queue_size must be an int")
        if address is not None and not isinstance(address, str):
            raise TypeError("address must be a str such as 'unix:/path' or 'tcp://127.0.0.1:0'")
        self.address = address
        self.max_simulation_ahead = _c_int(max_simulation_ahead, "max_simulation_ahead")
        self.feedback_queue_size = _c_int(feedback_queue_size, "feedback_queue_size")
        self.pool_bytes = _pool_bytes(pool_size)
        self.scheduler = scheduler
        self.timeout = _native.seconds(timeout)
        self.rendezvous = rendezvous
        self.dashboard_address = serve_address(dashboard, "dashboard")
        self.flight_address = serve_address(flight, "flight")
        _native.check(_native.lib().deisa_analytics_check(_native.text(address), _native.text(rendezvous),
                                                          self.max_simulation_ahead, self.feedback_queue_size,
                                                          self.pool_bytes, self.timeout))
        self.session = None  # the run's session (names its shared memory), once execute_callbacks() started it
        self.arrays = None   # the arrays the simulation declared, once every rank registered
        self.placer = None   # on a cluster: the run's deisa.distributed.Placer (where block reads ran)
        self.dashboard = None  # the run's deisa.dashboard.Dashboard (its .url) when asked for, until the next run
        self.flight = None  # the run's deisa.flight.Flight (its .location and .token) when asked for, during the run
        self._callbacks = []
        self._pending_feedback = []  # (key, kind, data, timestep) set while no run goes on, for the next one
        self._run = None
        self._stats = RunStats()

    # -- registration --------------------------------------------------------------------

    @property
    def registered_callbacks(self):
        """The callbacks registered, in order (as deisa-ray's: each has ``simulation_callback``,
        ``arrays_description`` (its Windows), ``exception_handler`` and ``when``)."""
        return list(self._callbacks)

    def register_callback(self, fn, *inputs, when="AND", exception_handler=None, prepare=None, preparation_advance=None,
                          max_iterations=None, prepare_iteration=None):
        """Run ``fn(**{name: [DeisaArray, ...]})`` for every timestep its inputs allow.

        Each input is a ``Window`` or a plain array name. ``when="AND"`` runs as soon
        as every input is complete at a timestep; ``when="OR"`` runs when the timestep
        closes if at least one input has a new value.

        ``prepare(array, timestep=t)`` is called up to ``preparation_advance`` timesteps
        before the data of ``t`` exists, on the first input's ``DeisaArray`` at ``t`` (its
        final shape, chunks and dtype; its blocks are read once they arrived), e.g. to build
        the Dask expression the callback will compute; ``fn`` then gets its result as
        ``preparation_result``. The timesteps ahead are the last one plus its stride; a
        timestep that could not be prepared ahead (the first, a preprocessed input) is
        prepared when it comes.

        deisa-ray's first version's form is taken too: ``register_callback(fn, [definitions],
        max_iterations=, prepare_iteration=, preparation_advance=3)``, ``fn`` then called as
        that version called it (``deisa._first_version``).
        """
        if not callable(fn):
            raise TypeError(f"callback must be callable, got {type(fn).__name__}")
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):  # deisa-ray's first version
            from ._first_version import FirstVersionCallback, inputs_of

            if prepare is not None:
                raise TypeError("with a list of array definitions (deisa-ray's first version), prepare with prepare_iteration=")
            definitions = inputs_of(inputs[0])
            if prepare_iteration is not None:
                if not callable(prepare_iteration):
                    raise TypeError("prepare_iteration must be callable")
                prepare = (lambda array, timestep: prepare_iteration(array, timestep=timestep))
            self.register_callback(FirstVersionCallback(fn, definitions, max_iterations), *definitions, when=when,
                                   exception_handler=exception_handler, prepare=prepare,
                                   preparation_advance=3 if preparation_advance is None else preparation_advance)
            self._callbacks[-1].fn_as_given = fn
            return fn
        if max_iterations is not None or prepare_iteration is not None:
            raise TypeError("max_iterations and prepare_iteration go with a list of array definitions (deisa-ray's "
                            "first version); here: register_callback(fn, *windows, prepare=, preparation_advance=)")
        if preparation_advance is None:
            preparation_advance = 1
        if when not in WHEN:
            raise ValueError(f"when must be 'AND' or 'OR', got {when!r}")
        if exception_handler is not None and not callable(exception_handler):
            raise TypeError("exception_handler must be callable")
        if prepare is not None and not callable(prepare):
            raise TypeError("prepare must be callable")
        if isinstance(preparation_advance, bool) or not isinstance(preparation_advance, numbers.Integral):
            raise TypeError(f"preparation_advance must be an int, got {type(preparation_advance).__name__}")
        if not 1 <= preparation_advance <= 64:
            raise ValueError(f"preparation_advance must be between 1 and 64 timesteps, got {preparation_advance}")
        if self._run is not None:
            raise RuntimeError("callbacks must be registered before execute_callbacks()")
        callback = Callback(fn, [Window.of(i) for i in inputs], when, exception_handler, prepare, int(preparation_advance))
        names, sizes = callback.native_inputs()
        _native.check(_native.lib().deisa_callback_check(callback.name.encode("utf-8"), len(callback.inputs), names, sizes,
                                                         WHEN[when]))
        self._callbacks.append(callback)
        return fn

    def unregister_callback(self, simulation_callback):
        """Removes the registration of ``simulation_callback`` (before ``execute_callbacks()``)."""
        if self._run is not None:
            raise RuntimeError("callbacks must be unregistered before execute_callbacks()")
        kept = [c for c in self._callbacks if c.fn_as_given is not simulation_callback]
        if len(kept) == len(self._callbacks):
            raise ValueError(f"{getattr(simulation_callback, '__qualname__', simulation_callback)!r} is not a registered callback")
        self._callbacks = kept

    def register(self, *inputs, when="AND", exception_handler=None, prepare=None, preparation_advance=None):
        """Decorator form of :meth:`register_callback`."""
        windows = [Window.of(i) for i in inputs]

        def decorate(fn):
            self.register_callback(fn, *windows, when=when, exception_handler=exception_handler, prepare=prepare,
                                   preparation_advance=preparation_advance)
            return fn

        return decorate

    # -- feedback ------------------------------------------------------------------------

    def set(self, key, value, timestep=None, *, chunked=False):
        """Send ``value`` to the simulation under ``key`` for ``timestep``.

        Per key, timesteps must strictly increase. Values: None, bool, int, float, str,
        bytes, or a numpy array up to 1 MiB. Outside ``execute_callbacks()`` (as deisa-ray
        allows) the value is kept and given to the simulation when the next run starts.
        Without ``timestep`` (deisa-ray's first version), inside a callback: the timestep it
        runs for. ``chunked=True`` (distributed feedback) is not implemented, as in deisa-ray.
        """
        if chunked:
            raise NotImplementedError("chunked feedback (a distributed array) is not implemented (nor in deisa-ray)")
        if not isinstance(key, str):
            raise TypeError(f"feedback key must be a str, got {type(key).__name__}")
        if timestep is None:
            timestep = self._run.current_timestep if self._run is not None else None
            if timestep is None:
                raise TypeError("set() needs a timestep outside a callback (deisa-ray's first version's set(key=, value=) "
                                "takes the timestep of the callback that calls it)")
        if isinstance(timestep, bool) or not isinstance(timestep, numbers.Integral):
            raise TypeError(f"timestep must be an integer, got {type(timestep).__name__}")
        kind, data = feedback.encode(value)
        run = self._run
        if run is None or run.handle is None:
            newest = max((t for k, _, _, t in self._pending_feedback if k == key), default=None)
            if newest is not None and int(timestep) <= newest:
                raise ValueError(f"feedback '{key}': timestep {int(timestep)} is not newer than timestep {newest}, "
                                 "set already (per key, timesteps strictly increase)")
            self._pending_feedback.append((key, kind, data, int(timestep)))
            return
        _native.check(_native.lib().deisa_analytics_set_feedback(run.handle, key.encode(), int(timestep), kind,
                                                                 data, len(data)))

    # -- the run -------------------------------------------------------------------------

    @property
    def stats(self):
        """Where the current (or last) run's time went: a :class:`deisa.stats.RunStats` snapshot
        (timesteps processed, seconds in the callbacks, seconds of deisa's own work)."""
        return self._stats.copy()

    def execute_callbacks(self, progress=None):
        """Run the callbacks until the simulation closes.

        ``progress``: show a progress line on stderr (by default, when stderr is a terminal);
        else each timestep is logged at INFO.

        Raises before waiting for data if a callback asks for an array the simulation
        never declared; raises ``RuntimeError`` if the logical flow of data is violated,
        after running the callbacks of every earlier complete timestep.
        """
        if self._run is not None:
            raise RuntimeError("execute_callbacks() is already running")
        if not self._callbacks:
            raise RuntimeError("Please register at least one callback before calling execute_callbacks()")
        if self.dashboard is not None:  # the last run's, which showed how it ended
            self.dashboard.close()
            self.dashboard = None
        self.flight = None  # the last run's (stopped with it)
        run = self._run = Run(self)
        self._stats = run.stats
        freeze = gc.get_freeze_count() == 0  # a process that freezes objects itself is left alone
        watched = None
        try:
            run.start()
            # Ctrl-C and SIGTERM end the run at once, waiting or stuck (see _signals).
            watched = _signals.watch(run.interrupt, cleanup=lambda: run.free(wait=5.0), terminate=True)
            self.session = run.session
            self.placer = run._placer
            # What exists now (modules, Dask, the user's setup) lives for the whole run: frozen,
            # it is left out of every garbage collection, so that the collections the loop
            # needs (and Python's own) cost what the run's new objects cost, not a full scan of
            # Dask's modules (tens of ms, inside a callback when Python triggers one). Done
            # before the simulation registers: it costs a full collection once.
            if freeze:
                gc.collect()
                gc.freeze()
            run.wait_for_simulation()
            self.arrays = run.layouts
            run.loop(sys.stderr.isatty() if progress is None else bool(progress))
        finally:
            if freeze:
                gc.unfreeze()
            self._run = None
            run.close()
            _signals.unwatch(watched)


def _c_int(value, what):
    value = int(value)
    if not -(1 << 31) <= value < (1 << 31):
        raise ValueError(f"{what} {value} does not fit in an int")
    return value


def _pool_bytes(pool_size):
    """The pool's bytes for the C ABI (0: the core's default), read by the core's size parser
    from ``pool_size`` or, without it, from ``$DEISA_POOL_SIZE`` (read here: the .NET runtime
    sees the environment of the moment the library was loaded)."""
    if pool_size is None:
        pool_size = os.environ.get("DEISA_POOL_SIZE") or None
        if pool_size is None:
            return 0
        try:
            return _native.size_bytes(pool_size, "DEISA_POOL_SIZE")
        except ValueError as e:
            raise ConfigError(str(e)) from None
    if isinstance(pool_size, bool) or not isinstance(pool_size, (str, numbers.Real)):
        raise TypeError(f"pool_size must be a number of bytes or a string such as '80MiB', got {type(pool_size).__name__}")
    return _native.size_bytes(str(pool_size), "pool_size")
