"""Figure 7: memory. What a bridge adds to a simulation rank, whether the analytics' memory
stays flat over many timesteps, and whether /dev/shm is empty after the run."""


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
    total = private(r["after"]) - base
    own = private(r["imported"]) - base
    dask = "loads" if r["dask_loaded"] else "does not load"
    bridge = private(r["after"]) - private(r["imported"])
    connect = private(r["connected"]) - private(r["imported"])
    shm = f"pool pages the rank wrote (RssShmem {r['after']['RssShmem'] / MB:.1f} MB) are the shared pool, not counted"
    rows = [Row("7a", f"Resident memory deisa adds to a Python rank: `from deisa import Bridge` + Bridge + {steps} sends of 1 MiB",
                f"+{total / MB:.1f} MB", f"rank before deisa {base / MB:.1f} MB", (base + total) / base, "≤ +10 MB",
                total <= 10 * MB,
                f"of which the import +{own / MB:.1f} MB (it {dask} Dask: the analytics side is imported on "
                f"first use), the bridge +{bridge / MB:.1f} MB; {shm}"),
            Row("7a·br", f"…the bridge alone in a Python rank (connect + {steps} sends, after the import)",
                f"+{bridge / MB:.1f} MB", f"rank after import {private(r['imported']) / MB:.1f} MB",
                private(r["after"]) / private(r["imported"]), "≤ +10 MB", bridge <= 10 * MB,
                f"after connect +{connect / MB:.1f} MB (the .NET runtime of libdeisa.so, its threads and heap)")]
    if csender:
        with Run("fig7c") as run:
            ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "touch"})
            c = run.start_cmd([csender, "0", "1", "memory", str(n), str(steps)], name="csender").wait()[0]
            ana.wait()
        add = private(c["after"]) - private(c["before"])
        rows.append(Row("7a·C", f"Resident memory a bridge adds to a C rank (open + connect + {steps} sends of 1 MiB)",
                        f"+{add / MB:.1f} MB", f"rank before {private(c['before']) / MB:.1f} MB",
                        private(c["after"]) / private(c["before"]), "≤ +10 MB", add <= 10 * MB,
                        f"after connect +{(private(c['connected']) - private(c['before'])) / MB:.1f} MB; "
                        f"RssShmem {c['after']['RssShmem'] / MB:.1f} MB not counted"))
    return rows


def fig7_analytics(quick):
    """Analytics' VmRSS at every callback over `span` timesteps: mean of the last 10 % against
    the first 10 %. The full run goes on to 3 × span timesteps, to show where growth stops."""
    span = 200 if quick else 1000
    steps = span if quick else 3 * span
    size, n = 2, 256 * 1024 // 8
    with Run("fig7ana") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "rss", "window": 3})
        ranks = run.ranks("sim_deisa.py", size, {"mode": "latency", "n": n, "steps": steps, "pace": 0})
        for p in ranks:
            p.wait()
        a = ana.wait()[0]
    rss, objects = a["rss"], a.get("objects") or [(0, 0, 0)]
    k = max(1, span // 10)
    first, last = sum(rss[:k]) / k, sum(rss[span - k:span]) / k
    growth = last / first - 1
    note = f"min {min(rss[:span]) / MB:.1f} MB, max {max(rss[:span]) / MB:.1f} MB over the {span} timesteps"
    if len(rss) > span:
        tail = sum(rss[-k:]) / k
        note += (f"; continued to {len(rss)} timesteps: last 10 % of the first {span} → last {k}: "
                 f"{last / MB:.1f} → {tail / MB:.1f} MB ({(tail / last - 1) * 100:+.1f} %)")
    o0, o1 = objects[0], objects[-1]
    note += (f"; from callback {o0[0]} to {o1[0]}: Python objects made during the run (those alive at its start are "
             f"frozen out of the collector) {o0[2]:,} → {o1[2]:,}, anonymous memory "
             f"{o0[1] / MB:.1f} → {o1[1] / MB:.1f} MB")
    return [Row("7b", f"Analytics resident memory over {span} timesteps ({size} ranks × 256 KiB, window 3, mean of each)",
                f"last 10 % {last / MB:.1f} MB", f"first 10 % {first / MB:.1f} MB", last / first, "≤ 1.05 (5 % growth)",
                growth <= 0.05, note)]


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
