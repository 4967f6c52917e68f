"""RunStats: where an analytics' time went, so far in its run (``Deisa.stats``)."""

import time


class RunStats:
    """What the analytics process spent on a run, split between the user's code and deisa.

    - ``timesteps``: timesteps processed (their callbacks ran, or none fired);
    - ``callback_seconds``: time inside the callbacks and their ``prepare`` (the user's code,
      Dask computes included);
    - ``own_seconds``: deisa's own work in this process, outside the callbacks and outside the
      waits for events: reading the core's events, placing blocks in arrays, building the
      windows' arguments, giving leases back and the garbage collections that find them, and
      the arrays built ahead while idle;
    - ``own_on_path_seconds``: the part of ``own_seconds`` spent between a callback's event
      and the start of the callback (what stands between the last send and the callback).

    ``own_per_timestep`` and ``callbacks_per_timestep`` divide by ``timesteps``. A snapshot: the
    running totals are read with ``Deisa.stats``.
    """

    __slots__ = ("timesteps", "callback_seconds", "own_seconds", "own_on_path_seconds")

    def __init__(self, timesteps=0, callback_seconds=0.0, own_seconds=0.0, own_on_path_seconds=0.0):
        self.timesteps = timesteps
        self.callback_seconds = callback_seconds
        self.own_seconds = own_seconds
        self.own_on_path_seconds = own_on_path_seconds

    @property
    def own_per_timestep(self):
        """Seconds of deisa's own work per timestep processed (0.0 before the first)."""
        return self.own_seconds / self.timesteps if self.timesteps else 0.0

    @property
    def callbacks_per_timestep(self):
        """Seconds in the callbacks per timestep processed (0.0 before the first)."""
        return self.callback_seconds / self.timesteps if self.timesteps else 0.0

    def copy(self):
        return RunStats(self.timesteps, self.callback_seconds, self.own_seconds, self.own_on_path_seconds)

    def as_dict(self):
        return {"timesteps": self.timesteps, "callback_seconds": self.callback_seconds, "own_seconds": self.own_seconds,
                "own_on_path_seconds": self.own_on_path_seconds, "own_per_timestep": self.own_per_timestep}

    def __repr__(self):
        return (f"RunStats(timesteps={self.timesteps}, callbacks {self.callbacks_per_timestep * 1e3:.3f} ms/timestep, "
                f"deisa {self.own_per_timestep * 1e6:.1f} µs/timestep)")


class Stopwatch:
    """The run loop's clock: deisa's own time is the time the loop is not waiting for events and
    not in the user's code."""

    __slots__ = ("stats", "_mark", "_user", "_on_path")

    clock = staticmethod(time.perf_counter)

    def __init__(self, stats):
        self.stats = stats
        self._mark = None
        self._user = 0.0
        self._on_path = False

    def resume(self):
        """Events came: deisa's work starts."""
        self._mark = self.clock()
        self._user = 0.0
        self._on_path = True

    def pause(self):
        """The loop waits for events: the work since ``resume`` (the user's excepted) is deisa's."""
        if self._mark is not None:
            self.stats.own_seconds += self.clock() - self._mark - self._user
            self._mark = None

    def on_path(self):
        """A callback starts: the work since ``resume`` stood between its event and it (counted
        for the first callback of a batch of events: the next ones waited for it too)."""
        if self._on_path and self._mark is not None:
            self._on_path = False
            self.stats.own_on_path_seconds += self.clock() - self._mark - self._user

    def user(self, seconds):
        """``seconds`` of the user's code ran since ``resume``."""
        self._user += seconds
        self.stats.callback_seconds += seconds
