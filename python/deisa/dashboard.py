"""The run's live dashboard: a web page served by the core from the analytics process.

``Deisa(dashboard=True)`` serves it on a free loopback port (``dashboard=8787``: that port;
``dashboard="0.0.0.0:8787"``: that address, reachable from other machines) and prints its URL,
which carries the session token. It shows the ranks and nodes, each array's layout, the
timesteps received and processed, how far the simulation is ahead, the shared-memory pool,
the callbacks' times, the feedback values and the errors, with a picture of each array (a
2-D slice) and a line of its mean, min and max over time. After the run it shows the run as
it ended, until the next run or ``Deisa.dashboard.close()``.

The pictures and reductions are computed here, from the run's arrays, within a budget: at
most ``share`` of the analytics' time (2 %), a picture of each array at most every
``period`` seconds (0.5) and a point of its line at most every ``point_period`` (0.1); a
timestep over budget or between two points gets none.
"""

import ctypes
import logging
import math
import time

import numpy as np

from . import _native
from ._serve import serve_address

logger = logging.getLogger("deisa")

__all__ = ["Dashboard"]


class Dashboard:
    """A run's dashboard, served by the core: ``url`` is its page (with the token).

    ``Deisa(dashboard=...)`` serves its run's; :meth:`open` serves, from this process, the
    dashboard of the live run of a rendezvous directory (``deisa dashboard``).
    """

    def __init__(self, handle, address):
        """Serves the dashboard of the run of this process whose native handle is ``handle``."""
        h = _native.handle()
        _native.check(_native.lib().deisa_analytics_serve_dashboard(handle, _native.text(address), ctypes.byref(h)))
        self._take(h)

    @classmethod
    def open(cls, rendezvous=None, address=None):
        """Serves the dashboard of the live run of ``rendezvous`` (default: ``$DEISA_RENDEZVOUS`` or
        ``.deisa``) at ``address`` (``True``, a port or "host:port", as ``Deisa(dashboard=...)``)."""
        h = _native.handle()
        _native.check(_native.lib().deisa_dashboard_open(_native.text(_native.rendezvous_dir(rendezvous)),
                                                         _native.text(serve_address(True if address is None else address, "address")),
                                                         ctypes.byref(h)))
        dashboard = cls.__new__(cls)
        dashboard._take(h)
        return dashboard

    def _take(self, h):
        self._handle = h
        url = ctypes.c_void_p()
        _native.check(_native.lib().deisa_dashboard_url(h, ctypes.byref(url)))
        self.url = _native.take_string(url)

    def close(self):
        """Stops serving the page (again: nothing)."""
        h, self._handle = self._handle, None
        if h is not None:
            _native.lib().deisa_dashboard_free(h)

    def __repr__(self):
        return f"Dashboard({self.url.split('?')[0]!r})" if self._handle is not None else "Dashboard(closed)"


class ArrayPictures:
    """Makes the dashboard's pictures and reductions of the run's arrays, within a time budget."""

    MAX_SIDE = 256  # a picture's side, at most: larger slices are strided

    def __init__(self, lib, handle, compute, share=0.02, period=0.5, point_period=0.1):
        self.lib, self.handle, self.compute = lib, handle, compute
        self.share, self.period, self.point_period = share, period, point_period
        self.began = time.perf_counter()
        self.spent = 0.0
        self.next_picture = {}  # array -> time.perf_counter() from which its next picture may be made
        self.next_point = {}    # array -> the same for its next reduction point
        self.failed = set()     # arrays whose picture could not be made (told once)

    def timestep_done(self, t, names, array_of):
        """The timestep ``t`` was just processed with arrays ``names``; ``array_of(name)`` builds one
        (only when a point or picture of it is due)."""
        for name in names:
            if name in self.failed:
                continue
            now = time.perf_counter()
            if now < self.next_point.get(name, 0.0):
                continue
            if self.spent > self.share * (now - self.began):
                return  # over budget: this timestep gets no point
            self.next_point[name] = now + self.point_period
            try:
                array = array_of(name)
                if array.ndim == 0 or array.dtype.kind not in "biuf":
                    self.failed.add(name)  # a scalar, or no numbers to colour: no pictures of it
                    continue
                self._report(name, t, array, now >= self.next_picture.get(name, 0.0))
            except Exception as e:  # noqa: BLE001 - a picture must never stop the run
                self.failed.add(name)
                logger.warning("deisa dashboard: no pictures of array %r: %s", name, e)
            finally:
                self.spent += time.perf_counter() - now

    def _report(self, name, t, array, picture):
        reductions = [array.mean(), array.min(), array.max()]
        if picture:
            index, text = _slice_of(array.shape, self.MAX_SIDE)
            values, mean, low, high = self.compute(array[index], *reductions)
            values = np.ascontiguousarray(np.atleast_2d(values), dtype=np.float64)
            rows, columns = values.shape
            data = values.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            _native.check(self.lib.deisa_analytics_report_picture(self.handle, name.encode(), t, rows, columns, data,
                                                                  text.encode()))
            self.next_picture[name] = time.perf_counter() + self.period
        else:
            mean, low, high = self.compute(*reductions)
        _native.check(self.lib.deisa_analytics_report_reduction(self.handle, name.encode(), t, float(mean), float(low),
                                                                float(high)))


def _slice_of(shape, side):
    """The index of an array's picture, and how it reads: the middle of every dimension but the
    last two, those strided to at most ``side`` values."""
    index, words = [], []
    for d, n in enumerate(shape):
        if d < len(shape) - 2:
            index.append(n // 2)
            words.append(str(n // 2))
        else:
            step = max(1, math.ceil(n / side))
            index.append(slice(None, None, step))
            words.append(":" if step == 1 else f"::{step}")
    return tuple(index), "[" + ", ".join(words) + "]"
