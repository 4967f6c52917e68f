"""SPEC §8: file modes, the session token, and hostile bytes on the analytics' socket."""

import glob
import json
import os
import socket
import struct
import stat

import numpy as np
import pytest

from deisa import Deisa

pytestmark = pytest.mark.usefixtures("no_leftover_shm")

SIM = '''
b = Bridge(comm, {"array": {"global_shape": (4, 4), "chunk_shape": (2, 4), "chunk_position": (rank, 0)}}, timeout=60)
for t in range(4):
    b.send("array", np.full((2, 4), t * (rank + 1), dtype=np.float64), t)
b.close()
'''


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_rendezvous_socket_and_segments_are_private(simulation, run_dir):
    sim = simulation(SIM)
    d = Deisa(timeout=60)
    modes = {}

    @d.register("array")
    def cb(array):
        record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
        modes["record"] = _mode(run_dir / ".deisa" / "analytics.json")
        modes["socket"] = _mode(record["address"][len("unix:"):])
        modes["segments"] = {_mode(p) for p in glob.glob(f"/dev/shm/deisa-{record['session']}-*")}
        modes["token"] = record["token"]
        modes["sum"] = float(array[0].sum().compute())

    d.execute_callbacks()
    sim.wait()
    assert modes["record"] == 0o600
    assert modes["socket"] == 0o600
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

    sim = simulation(SIM)
    d.execute_callbacks()
    sim.wait()
    assert sums == [t * 3 * 8 for t in range(4)]


def _frame(kind, body=b""):
    return (len(body) + 1).to_bytes(4, "little") + bytes([kind]) + body


def _hello(token, rank=0):
    """BlockChannelHello {token = 1, rank = 2} in protobuf's wire format."""
    raw = token.encode()
    assert len(raw) < 128 and rank < 128
    return b"\x0a" + bytes([len(raw)]) + raw + b"\x10" + bytes([rank])


def _packed_send(rank, name, data, shape, t=0, dtype=11, order=0, name_bytes=None):
    """A small block's send frame (BlockSendFrame): fixed fields, shape, name, data."""
    fixed = struct.pack("<iiiiiiqqq", rank, dtype, order, len(shape), len(name) if name_bytes is None else name_bytes,
                        len(data), t, 10_000, 0)
    return _frame(6, fixed + struct.pack(f"<{len(shape)}q", *shape) + name + data)


def _reply(s):
    """(kind, body) of the next frame, or None once the analytics closed the connection."""
    try:
        return _read_frame(s)
    except ConnectionResetError:  # closed with our bytes unread
        return None


def _read_frame(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    n = int.from_bytes(head, "little")
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body[0], body[1:]


def test_the_block_channel_is_private_checks_the_token_and_survives_garbage(simulation, run_dir):
    # The sends' socket (next to the gRPC one) is 0600, refuses a wrong token, and closes a
    # connection that sends garbage; the run goes on with the right values.
    d = Deisa(timeout=60)
    sums, seen = [], {}

    @d.register("array")
    def cb(array):
        if not seen:
            record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
            path = record["address"][len("unix:"):] + ".blocks"
            seen["mode"] = _mode(path)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendall(_frame(1, _hello("not-the-token")))
                seen["wrong token"] = _reply(s)
                seen["after wrong token"] = _reply(s)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendall(_frame(1, _hello(record["token"])))
                seen["right token"] = _reply(s)
                s.sendall(_frame(77, b"\x01\x02"))  # no such request
                seen["unknown request"] = _reply(s)
            # Small sends that are refused, each answered with its error, the connection kept:
            # a name that is not UTF-8, an array no rank declared, a rank outside the world.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendall(_frame(1, _hello(record["token"])))
                _reply(s)
                for frame in (_packed_send(0, b"\xff\xfe", bytes(8), [1]), _packed_send(0, b"nope", bytes(8), [1]),
                              _packed_send(99, b"array", bytes(8), [1])):
                    s.sendall(frame)
                    seen.setdefault("refused sends", []).append(_reply(s))
            # A send frame whose lengths do not add up closes the connection.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendall(_frame(1, _hello(record["token"])) + _packed_send(0, b"array", bytes(8), [1], name_bytes=4000))
                seen["lying send"] = [_reply(s), _reply(s)]
            for payload in (os.urandom(4096), b"\xff\xff\xff\x7f" + os.urandom(64), _frame(1, b"\xff" * 40),
                            _frame(1, _hello(record["token"]))[:9]):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(10)
                    s.connect(path)
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    seen.setdefault("garbage", []).append(_reply(s))
        sums.append(float(array[0].sum().compute()))

    sim = simulation(SIM)
    d.execute_callbacks()
    sim.wait()
    assert seen["mode"] == 0o600
    kind, body = seen["wrong token"]
    assert kind == 101 and b"wrong session token" in body
    assert seen["after wrong token"] is None
    assert seen["right token"] == (100, b"")
    assert seen["unknown request"] is None
    assert seen["garbage"] == [None, None, None, None]
    assert seen["lying send"] == [(100, b""), None]
    kinds = [r[0] for r in seen["refused sends"]]
    assert kinds == [101, 101, 101], seen["refused sends"]
    utf8, undeclared, stranger = (r[1] for r in seen["refused sends"])
    assert b"UTF-8" in utf8 and b"'nope'" in undeclared and b"99" in stranger, seen["refused sends"]
    assert sums == [t * 3 * 8 for t in range(4)]
