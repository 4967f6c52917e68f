"""The hand-rolled peer: ``multiprocessing.shared_memory`` plus a socket notification per block.

What a user would write without deisa. Each rank owns two pre-touched shared-memory slots of
its block's size; per timestep it waits for a free slot, copies its block in, and writes a
16-byte notice (timestep, slot) to the analytics' Unix socket. The analytics maps the slots
once, and when every rank's block of a timestep is in, it runs the same consumption as the
deisa analytics on numpy views of the slots, then gives each rank its slot back (a 4-byte ack).
Two slots per rank = the simulation may run one timestep ahead (deisa's default).

    peer_shm.py analytics CONFIG            (reports its address first, then the results)
    peer_shm.py rank RANK SIZE CONFIG        (CONFIG["mode"]: throughput, latency or rate)
"""

import json
import os
import selectors
import socket
import struct
import sys
import time
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from common import median, memcpy_time, now, report, touched

NOTICE = struct.Struct("<qii")   # timestep, slot, rank  (timestep -1: this rank is done)
ACK = struct.Struct("<i")


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    return bytes(buf)


# -- analytics ----------------------------------------------------------------------------

def analytics(cfg):
    path = os.path.abspath("handrolled.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(256)
    report(address=path)
    size = cfg["size"]
    conns, views, segments = {}, {}, []
    while len(conns) < size:
        c, _ = srv.accept()
        hello = json.loads(recv_exact(c, struct.unpack("<i", recv_exact(c, 4))[0]))
        r = hello["rank"]
        for slot, name in enumerate(hello["segments"]):
            shm = shared_memory.SharedMemory(name=name)
            resource_tracker.unregister(shm._name, "shared_memory")  # the rank owns it
            segments.append(shm)
            views[(r, slot)] = np.ndarray((hello["n"],), dtype=np.float64, buffer=shm.buf)
        conns[r] = c
    sel = selectors.DefaultSelector()
    pending = {r: b"" for r in conns}
    for r, c in conns.items():
        c.setblocking(False)
        sel.register(c, selectors.EVENT_READ, r)
    arrived = {}          # t -> {rank: slot}
    starts, open_ranks = {}, set(conns)
    consume = cfg.get("consume", "touch")
    t0 = now()
    own, consumed = 0.0, 0.0  # the peer's own time (out of select, out of consume) for figure 10
    while open_ranks:
        events = sel.select()
        busy = now()
        for key, _ in events:
            r = key.data
            data = key.fileobj.recv(65536)
            if not data:
                open_ranks.discard(r)
                sel.unregister(key.fileobj)
                continue
            buf = pending[r] + data
            k = 0
            while len(buf) - k >= NOTICE.size:
                t, slot, _ = NOTICE.unpack_from(buf, k)
                k += NOTICE.size
                if t < 0:
                    open_ranks.discard(r)
                    continue
                got = arrived.setdefault(t, {})
                got[r] = slot
                if len(got) == size:
                    starts[t] = now()
                    blocks = [views[(rr, s)] for rr, s in sorted(got.items())]
                    c0 = now()
                    if consume == "touch":
                        float(blocks[0][0])
                    elif consume == "mean":
                        float(sum(b.sum() for b in blocks) / sum(b.size for b in blocks))
                    consumed += now() - c0
                    del blocks
                    for rr, s in got.items():
                        conns[rr].setblocking(True)
                        conns[rr].sendall(ACK.pack(s))
                        conns[rr].setblocking(False)
                    del arrived[t]
            pending[r] = buf[k:]
        own += now() - busy
    own -= consumed
    t1 = now()
    for c in conns.values():
        c.close()
    views.clear()
    for shm in segments:
        shm.close()
    report(start=t0, end=t1, starts=starts, own=own, timesteps=len(starts))


# -- rank ---------------------------------------------------------------------------------

class Sender:
    def __init__(self, rank, size, n, address, slots=2):
        self.rank = rank
        self.shms = [shared_memory.SharedMemory(name=f"dbhr-{os.getpid()}-{i}", create=True, size=n * 8)
                     for i in range(slots)]
        self.slots = [np.ndarray((n,), dtype=np.float64, buffer=s.buf) for s in self.shms]
        for s in self.slots:
            s.fill(0.0)  # pre-touch, as deisa pre-faults its pool
        self.free = list(range(slots))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock.connect(address)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        hello = json.dumps({"rank": rank, "n": n, "segments": [s.name for s in self.shms]}).encode()
        self.sock.sendall(struct.pack("<i", len(hello)) + hello)

    def send(self, block, t):
        if not self.free:
            self.free.append(ACK.unpack(recv_exact(self.sock, ACK.size))[0])
        slot = self.free.pop()
        np.copyto(self.slots[slot], block)
        self.sock.sendall(NOTICE.pack(t, slot, self.rank))

    def close(self):
        self.sock.sendall(NOTICE.pack(-1, 0, self.rank))
        self.sock.shutdown(socket.SHUT_WR)
        while self.sock.recv(4096):  # acks still owed to us, until the analytics closes
            pass
        self.sock.close()
        self.slots.clear()
        for s in self.shms:
            s.close()
            s.unlink()


def rank_main(rank, size, cfg):
    n = cfg["n"]
    a = np.empty(n)
    a.fill(rank + 1.0)
    s = Sender(rank, size, n, cfg["address"], slots=cfg.get("slots", 2))
    mode = cfg["mode"]
    if mode == "throughput":
        dst = touched(a.nbytes)
        t, rounds = 0, []
        for _ in range(cfg["rounds"]):
            ref = median(memcpy_time(dst, a, a.nbytes) for _ in range(cfg["memcpy_reps"]))
            sends = []
            t0 = now()
            for _ in range(cfg["steps"]):
                x = now()
                s.send(a, t)
                sends.append(now() - x)
                t += 1
            rounds.append({"loop": now() - t0, "steps": cfg["steps"], "memcpy": ref, "send_median": median(sends)})
        s.close()
        report(rank=rank, nbytes=a.nbytes, rounds=rounds)
    elif mode == "latency":
        starts, costs = [], []
        for t in range(cfg["steps"]):
            time.sleep(cfg["pace"])
            x = now()
            s.send(a, t)
            starts.append(x)
            costs.append(now() - x)
        s.close()
        report(rank=rank, starts=starts, send=costs)
    elif mode == "rate":
        s.send(a, 0)
        t0 = now()
        for t in range(1, cfg["steps"] + 1):
            s.send(a, t)
        t1 = now()
        s.close()
        report(rank=rank, start=t0, end=t1, blocks=cfg["steps"])


if __name__ == "__main__":
    if sys.argv[1] == "analytics":
        analytics(json.loads(sys.argv[2]))
    else:
        rank_main(int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]))
