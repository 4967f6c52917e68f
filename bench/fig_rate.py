"""Figure 4: sustained block rate into one node actor (many ranks, tiny blocks).

Every rank sends 8-byte blocks back to back; the analytics has one callback that does
nothing; the simulation may run ``ahead`` timesteps ahead. Rate = blocks / (first rank's
start to last rank's end). Three senders: Python ranks (Bridge), C ranks (the C ABI: the
core without Python's per-call cost), and the hand-rolled peer as the reference (with
AHEAD + 1 slots per rank, so it may run as far ahead).
"""

import os

from common import Run, median
from table import Row

AHEAD = 16


def _rate(reports, analytics=None):
    """(blocks/s, CPU seconds per block of the ranks, of the analytics)."""
    blocks = sum(r["blocks"] for r in reports)
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    rank_cpu = sum(r.get("cpu", 0) for r in reports) / blocks
    steady = (analytics or {}).get("steady")
    # analytics CPU between its first and last callback, per block received meanwhile
    ana_cpu = steady["cpu"] / (steady["callbacks"] * len(reports)) if steady else float("nan")
    return blocks / wall, rank_cpu, ana_cpu


def deisa_rate(size, steps, csender=None):
    with Run("fig4") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "none", "ahead": AHEAD})
        if csender:
            ranks = [run.start_cmd([csender, str(r), str(size), "rate", "1", str(steps)], name=f"csender {r}")
                     for r in range(size)]
        else:
            ranks = run.ranks("sim_deisa.py", size, {"mode": "rate", "n": 1, "steps": steps})
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[0]
    return _rate(reports, a)


def shm_rate(size, steps):
    with Run("fig4shm") as run:
        ana = run.start("peer_shm.py", "analytics", {"size": size, "consume": "none"})
        cfg = {"mode": "rate", "n": 1, "steps": steps, "slots": AHEAD + 1, "address": ana.first_report()["address"]}
        ranks = [run.start("peer_shm.py", "rank", str(r), str(size), cfg, name=f"shm rank {r}") for r in range(size)]
        reports = [p.wait()[0] for p in ranks]
        ana.wait()
    return _rate(reports)


def fig4(quick, csender):
    size = 2 if quick else 8
    steps = 200 if quick else 1500
    rounds = 1 if quick else 2
    py, c, hand, c_rank, c_ana, py_rank, py_ana = [], [], [], [], [], [], []
    for _ in range(rounds):
        rate, rc, ac = deisa_rate(size, steps)
        py.append(rate)
        py_rank.append(rc)
        py_ana.append(ac)
        if csender:
            rate, rc, ac = deisa_rate(size, steps, csender)
            c.append(rate)
            c_rank.append(rc)
            c_ana.append(ac)
        hand.append(shm_rate(size, steps)[0])
    h = median(hand)
    what = f"{size} ranks × {steps} blocks of 8 B, simulation up to {AHEAD} timesteps ahead"
    rows = [Row("4", f"Sustained block rate, Python ranks, {what} (vs hand-rolled shm + socket)",
                f"{median(py):,.0f} blocks/s", f"hand-rolled {h:,.0f} blocks/s", median(py) / h, "≥ 1.0× hand-rolled",
                median(py) / h >= 1.0,
                f"CPU per block: Python rank {median(py_rank) * 1e6:.0f} µs, analytics process "
                f"{median(py_ana) * 1e6:.0f} µs; the hand-rolled peer is plain Python too")]
    if csender:
        per = median(c_rank) + median(c_ana)
        rows.append(Row("4·C", f"Sustained block rate, C ranks (C ABI, no Python), {what}",
                        f"{median(c):,.0f} blocks/s", f"hand-rolled {h:,.0f} blocks/s", median(c) / h,
                        "≥ 2× hand-rolled", median(c) / h >= 2.0,
                        f"CPU per block: C rank {median(c_rank) * 1e6:.0f} µs (one call on the block channel per block up to 64 KiB) "
                        f"+ analytics process {median(c_ana) * 1e6:.0f} µs (the block channel's thread running the node and head "
                        f"actors, and the Python loop reading the events) = {per * 1e6:.0f} µs: {os.cpu_count()} cores allow at most "
                        f"{os.cpu_count() / per:,.0f} blocks/s"))
    return rows
