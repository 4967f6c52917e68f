"""The run's live blocks for Arrow Flight clients, served by the core from the analytics process.

``Deisa(flight=True)`` serves them on a free loopback port (``flight=8815``: that port;
``flight="0.0.0.0:8815"``: that address, reachable from other machines) and logs the
location. A Flight client (``pyarrow.flight``, Arrow's C++, Java, Rust or C# clients) connects
to ``Deisa.flight.location`` with the header ``authorization: Bearer TOKEN`` (the session
token, ``Deisa.flight.token``):

- ``list_flights()`` lists every array at every timestep the run holds now: those the
  callbacks' windows hold, and each array's newest complete timestep, kept until a newer one
  is complete (the shared-memory pool then holds one timestep of each array more);
- a flight's descriptor is the path ``[array, timestep]`` (``[array, timestep, block]``: one
  block); it has one endpoint per node holding some of its blocks: without a location for the
  analytics' own node (read it here), with the node's own endpoint on a Dask cluster (each
  node service serves its blocks, on its worker's host);
- ``do_get(ticket)`` streams one record batch per block in the layout's order, with one
  column ``values``, the block's elements in its memory order; the block's place as JSON
  application metadata (``block``; ``position``, its index in the grid of blocks; ``offset``,
  the index of its first element; ``shape``, ``order``, ``rank``); the array's ``dtype``,
  ``global_shape`` and ``chunks`` in the schema's metadata. A ticket whose blocks were let go
  is NOT_FOUND, never another block's data.

The endpoints stop with the run.
"""

import ctypes

from . import _native

__all__ = ["Flight"]


class Flight:
    """A run's Arrow Flight endpoint: ``location`` ("grpc+tcp://host:port") and ``token``."""

    def __init__(self, handle, address, token):
        """Serves the live blocks of the run of this process whose native handle is ``handle``."""
        h = _native.handle()
        _native.check(_native.lib().deisa_analytics_serve_flight(handle, _native.text(address), ctypes.byref(h)))
        self._handle = h
        location = ctypes.c_void_p()
        _native.check(_native.lib().deisa_flight_location(h, ctypes.byref(location)))
        self.location = _native.take_string(location)
        self.token = token

    def close(self):
        """Stops serving (again: nothing)."""
        h, self._handle = self._handle, None
        if h is not None:
            _native.lib().deisa_flight_free(h)

    def __repr__(self):
        return f"Flight({self.location!r})" if self._handle is not None else "Flight(closed)"
