"""docs/specification.md §8: file modes, the session token, and hostile bytes on the analytics'
control socket (the block channel's strangers are tests/Deisa.Core.Tests/BlockChannelTests.cs,
which write frames with the protocol's own types)."""

import glob
import json
import os
import socket
import stat
import tempfile

import pytest

from deisa import Deisa

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_rendezvous_socket_and_segments_are_private(simulation, run_dir):
    sim = simulation("two_ranks_float64_rows.py")
    d = Deisa(timeout=60)
    modes = {}

    @d.register("array")
    def cb(array):
        record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
        modes["record"] = _mode(run_dir / ".deisa" / "analytics.json")
        modes["socket"] = _mode(record["address"][len("unix:"):])
        # Next to the record, or in the temporary directory when that path is too long for a socket.
        modes["block channel"] = {_mode(p) for d in (run_dir / ".deisa", tempfile.gettempdir())
                                  for p in glob.glob(os.path.join(d, f"*{record['session']}.blocks.sock"))}
        modes["segments"] = {_mode(p) for p in glob.glob(f"/dev/shm/deisa-{record['session']}-*")}
        modes["token"] = record["token"]
        modes["sum"] = float(array[0].sum().compute())

    d.execute_callbacks()
    sim.wait()
    assert modes["record"] == 0o600
    assert modes["socket"] == 0o600
    assert modes["block channel"] == {0o600}
    assert modes["segments"] == {0o600}
    assert len(modes["token"]) >= 32
    assert modes["sum"] == 3 * 3 * 8
    assert not (run_dir / ".deisa" / "analytics.json").exists()  # withdrawn at the end


def test_garbage_on_the_socket_does_not_hurt_the_run(simulation, run_dir):
    d = Deisa(timeout=60)
    sums = []
    hostile = {"done": False}

    @d.register("array")
    def cb(array):
        if not hostile["done"]:
            hostile["done"] = True
            record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
            path = record["address"][len("unix:"):]
            for payload in (b"\x00" * 64, os.urandom(4096),
                            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + os.urandom(512),
                            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(path)
                    s.sendall(payload)
        sums.append(float(array[0].sum().compute()))

    sim = simulation("two_ranks_float64_rows.py")
    d.execute_callbacks()
    sim.wait()
    assert sums == [t * 3 * 8 for t in range(4)]
