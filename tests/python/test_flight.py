"""Deisa(flight=...): the run's live blocks for Arrow Flight clients, from the Python door.

What a Flight client reads is tested with Apache Arrow's own client (C#): in
tests/Deisa.Core.Tests/FlightTests.cs and, against a Python analytics like these,
tests/Deisa.Processes.Tests/FlightTests.cs (Debian has no pyarrow). Here: the address and the
endpoint's life (served during the run, stopped with it); the argument's checks are
test_dashboard.py's, one rule for both.
"""

import socket

import pytest

from deisa import Deisa, Window


def test_an_address_flight_cannot_serve_on_is_named(run_dir):
    d = Deisa(flight="unix:/tmp/flight.sock", timeout=5)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(ValueError, match="flight address 'unix:/tmp/flight.sock' must be 'host:port'"):
        d.execute_callbacks()
    assert d.flight is None
    assert not list((run_dir / ".deisa").glob("*.json")), "the run's record was left behind"


def listening(location):
    host, port = location.removeprefix("grpc+tcp://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def test_flight_is_served_during_the_run_and_stopped_with_it(simulation):
    sim = simulation("three_timesteps_of_x.py", args=["10"])  # x at t: [10 t, 10 t + 1]
    d = Deisa(flight=True, timeout=30)
    seen = {}

    @d.register(Window("x"))
    def watch(x):
        seen[x[-1].t] = (d.flight.location, d.flight.token, listening(d.flight.location), int(x[-1].sum().compute()))

    d.execute_callbacks()
    sim.wait()
    assert sorted(seen) == [0, 1, 2]
    location, token, up, total = seen[2]
    assert location.startswith("grpc+tcp://127.0.0.1:") and up
    assert token and total == 41
    assert repr(d.flight) == "Flight(closed)"
    assert not listening(location), "the endpoint outlived its run"
