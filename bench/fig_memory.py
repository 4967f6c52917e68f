"""Figure 7: memory. What a bridge adds to a simulation rank, whether the analytics' memory
stays flat over many timesteps, and whether /dev/shm is empty after the run."""

import os

from common import MiB, Run, shm_files
from table import Row

MB = 10 ** 6


def private(s):
    """Resident memory that is the process's own (shared-memory pages of the pool excluded)."""
    return s["VmRSS"] - s.get("RssShmem", 0)


def fig7_rank(quick, csender):
    n = MiB // 8
    steps = 50 if quick else 200
    with Run("fig7rank") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "touch"})
        r = run.ranks("sim_deisa.py", 1, {"mode": "memory", "n": n, "steps": steps})[0].wait()[0]
        ana.wait()
    base = private(r["before"])
    bridge = private(r["after"]) - private(r["imported"])
    imp = private(r["imported"]) - base
    rows = [Row("7a", f"Resident memory a bridge adds to a Python rank (connect + {steps} sends of 1 MiB)",
                f"+{bridge / MB:.1f} MB", f"rank before deisa {base / MB:.1f} MB", (base + bridge) / base, "≤ +30 MB",
                bridge <= 30 * MB,
                f"after `import deisa` (numpy, dask.array, ...) +{imp / MB:.1f} MB more, not counted; pool pages "
                f"mapped by the rank (RssShmem {r['after']['RssShmem'] / MB:.1f} MB) not counted: they are the "
                f"shared pool; after connect +{(private(r['connected']) - private(r['imported'])) / MB:.1f} MB")]
    if csender:
        with Run("fig7c") as run:
            ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "touch"})
            c = run.start_cmd([csender, "0", "1", "memory", str(n), str(steps)], name="csender").wait()[0]
            ana.wait()
        add = private(c["after"]) - private(c["before"])
        rows.append(Row("7a·C", f"Resident memory a bridge adds to a C rank (open + connect + {steps} sends of 1 MiB)",
                        f"+{add / MB:.1f} MB", f"rank before {private(c['before']) / MB:.1f} MB",
                        private(c["after"]) / private(c["before"]), "≤ +30 MB", add <= 30 * MB,
                        f"after connect +{(private(c['connected']) - private(c['before'])) / MB:.1f} MB; "
                        f"RssShmem {c['after']['RssShmem'] / MB:.1f} MB not counted"))
    return rows


def fig7_analytics(quick):
    steps = 200 if quick else 1000
    size, n = 2, 256 * 1024 // 8
    with Run("fig7ana") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "rss", "window": 3})
        ranks = run.ranks("sim_deisa.py", size, {"mode": "latency", "n": n, "steps": steps, "pace": 0})
        for p in ranks:
            p.wait()
        rss = ana.wait()[0]["rss"]
    k = max(1, len(rss) // 10)
    first, last = sum(rss[:k]) / k, sum(rss[-k:]) / k
    growth = last / first - 1
    return [Row("7b", f"Analytics resident memory over {len(rss)} timesteps ({size} ranks × 256 KiB, window 3, mean of each)",
                f"last 10 % {last / MB:.1f} MB", f"first 10 % {first / MB:.1f} MB", last / first, "≤ 1.05 (5 % growth)",
                growth <= 0.05, f"min {min(rss) / MB:.1f} MB, max {max(rss) / MB:.1f} MB")]


def fig7_shm(before):
    """Segments of this benchmark's deisa sessions (and the hand-rolled peer's) left in /dev/shm."""
    ours = [f for f in shm_files() if any(f.startswith(f"deisa-{s}-") for s in Run.sessions)]
    hand = shm_files("dbhr-")
    others = [f for f in shm_files() if f not in ours and f not in before]
    left = ours + hand
    return [Row("7c", f"/dev/shm after the run: segments of this run's {len(set(Run.sessions))} deisa sessions "
                "and of the hand-rolled peer", str(len(left)), "—", "—", "0 left", not left,
                (f"left: {', '.join(left[:5])}; " if left else "")
                + (f"{len(others)} deisa-* segment(s) of other processes on this machine appeared meanwhile"
                   if others else "no other deisa-* segment appeared meanwhile"))]
