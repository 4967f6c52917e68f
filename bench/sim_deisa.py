"""A simulation rank using deisa's Python Bridge: ``sim_deisa.py RANK SIZE CONFIG``.

Every array is 1-D float64: this rank's block has ``n`` elements at position ``rank``.
CONFIG["mode"] picks what is measured; each mode ends with one REPORT line.
"""

import os
import sys
import time

import numpy as np

from common import Comm, median, memcpy_time, now, rank_args, report, status, touched

T0 = status()  # before deisa is imported: the baseline of the memory figure


def declare(rank, size, arrays):
    """{name: n} -> the Bridge's metadata: one block of n elements at position rank."""
    return {name: {"global_shape": (size * n,), "chunk_shape": (n,), "chunk_position": (rank,), "dtype": "float64"}
            for name, n in arrays.items()}


def bridge(rank, size, cfg, arrays):
    from deisa import Bridge

    return Bridge(Comm(rank, size), declare(rank, size, arrays), timeout=cfg.get("timeout", 120))


def block(n, rank):
    a = np.empty(n)
    a.fill(rank + 1.0)
    return a


def throughput(rank, size, cfg):
    """Rounds of: memcpy of the block into touched memory (reference), then a burst of sends."""
    n = cfg["n"]
    a = block(n, rank)
    dst = touched(a.nbytes)
    b = bridge(rank, size, cfg, {"x": n})
    t, rounds = 0, []
    for _ in range(cfg["rounds"]):
        ref = median(memcpy_time(dst, a, a.nbytes) for _ in range(cfg["memcpy_reps"]))
        sends = []
        t0 = now()
        for _ in range(cfg["steps"]):
            s = now()
            b.send("x", a, t)
            sends.append(now() - s)
            t += 1
        rounds.append({"loop": now() - t0, "steps": cfg["steps"], "memcpy": ref, "send_median": median(sends),
                       "sends": sends})
    b.close()
    report(rank=rank, nbytes=a.nbytes, rounds=rounds)


def zerocopy(rank, size, cfg):
    """Per timestep: a memcpy of the block (reference), a pause, then an empty buffer()/commit.

    The pause lets the analytics finish the previous timestep, so that no back-pressure wait
    is timed: what is timed is the zero-copy mechanism (acquire + view + commit). A second
    phase writes the block into the buffer, for information (pages of the buffer that fault on
    first write in this process would show there).
    """
    n = cfg["n"]
    a = block(n, rank)
    dst = touched(a.nbytes)
    b = bridge(rank, size, cfg, {"x": n})
    ref, zc, acquire, commit, fill, fill_ref, sends = [], [], [], [], [], [], []
    t = 0
    for i in range(cfg["steps"]):
        ref.append(memcpy_time(dst, a, a.nbytes))
        time.sleep(cfg["pace"])
        s = now()
        with b.buffer("x", t):
            m = now()
        e = now()
        zc.append(e - s)
        acquire.append(m - s)
        commit.append(e - m)
        t += 1
    for i in range(cfg["fill_steps"]):
        fill_ref.append(memcpy_time(dst, a, a.nbytes))
        time.sleep(cfg["pace"])
        with b.buffer("x", t) as buf:
            s = now()
            np.copyto(buf, a)
            fill.append(now() - s)
        t += 1
        time.sleep(cfg["pace"])
        s = now()
        b.send("x", a, t)
        sends.append(now() - s)
        t += 1
    b.close()
    report(rank=rank, nbytes=a.nbytes, memcpy=ref, zerocopy=zc, acquire=acquire, commit=commit, fill=fill,
           fill_memcpy=fill_ref, send=sends)


def latency(rank, size, cfg):
    """Paced sends (a pause stands for the simulation's compute); records when each send starts."""
    n = cfg["n"]
    a = block(n, rank)
    b = bridge(rank, size, cfg, {"x": n})
    starts, costs = [], []
    for t in range(cfg["steps"]):
        time.sleep(cfg["pace"])
        s = now()
        b.send("x", a, t)
        starts.append(s)
        costs.append(now() - s)
    b.close()
    report(rank=rank, starts=starts, send=costs)


def rate(rank, size, cfg):
    """Tiny blocks sent back to back."""
    n = cfg["n"]
    a = block(n, rank)
    b = bridge(rank, size, cfg, {"x": n})
    b.send("x", a, 0)  # the first send warms the path up; not counted
    c0, t0 = os.times(), now()
    for t in range(1, cfg["steps"] + 1):
        b.send("x", a, t)
    t1, c1 = now(), os.times()
    b.close()
    report(rank=rank, start=t0, end=t1, blocks=cfg["steps"], cpu=c1.user + c1.system - c0.user - c0.system)


def fill(rank, size, cfg):
    """Writes one block per timestep straight into shared memory (zero copy)."""
    n = cfg["n"]
    b = bridge(rank, size, cfg, {"x": n})
    for t in range(cfg["steps"]):
        with b.buffer("x", t) as buf:
            buf.fill(rank + 1.0)
    b.close()
    report(rank=rank)


def memory(rank, size, cfg):
    """Resident memory of this rank before deisa, after the import, after connecting, after the sends."""
    n = cfg["n"]
    a = block(n, rank)
    before = status()
    from deisa import Bridge  # noqa: F401  (what a simulation imports)

    imported = status()
    dask_loaded = "dask.array" in sys.modules
    b = bridge(rank, size, cfg, {"x": n})
    connected = status()
    samples = []
    for t in range(cfg["steps"]):
        b.send("x", a, t)
        if t % max(1, cfg["steps"] // 10) == 0:
            samples.append(status())
    after = status()
    b.close()
    report(rank=rank, nbytes=a.nbytes, start=T0, before=before, dask_loaded=dask_loaded, imported=imported,
           connected=connected,
           after=after, samples=samples)


def sizes(rank, size, cfg):
    """Send cost against block size: every timestep sends one block of each size, smallest
    first, each followed by a memcpy of the same bytes into touched memory (reference).

    Each timestep starts with the send of an 8-byte block "w" (timed apart): the first send
    after the pause pays for waking the path up, which is not a matter of size.
    """
    ns = {f"s{nb}": nb // 8 for nb in cfg["sizes"]}
    blocks = {name: block(n, rank) for name, n in ns.items()}
    dst = touched(max(cfg["sizes"]))
    b = bridge(rank, size, cfg, dict(ns, w=1))
    send = {name: [] for name in ns}
    ref = {name: [] for name in ns}
    first, w = [], block(1, rank)
    for t in range(cfg["steps"]):
        time.sleep(cfg["pace"])
        s = now()
        b.send("w", w, t)
        first.append(now() - s)
        for name, a in blocks.items():
            s = now()
            b.send(name, a, t)
            send[name].append(now() - s)
            ref[name].append(memcpy_time(dst, a, a.nbytes))
    b.close()
    report(rank=rank, sizes={name: blocks[name].nbytes for name in ns}, send=send, memcpy=ref, first=first)


if __name__ == "__main__":
    r, s, c = rank_args()
    globals()[c["mode"]](r, s, c)
