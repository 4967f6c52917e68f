"""Figure 1 (send throughput against memcpy) and figure 6 (throughput against the Dask peer)."""

from common import MiB, Run, median
from streams import dask_stream, deisa_stream
from table import Row, fmt_bytes, fmt_time


def _one_rank(kind, n, rounds, steps, reps, consume="touch"):
    """Rounds of (memcpy reference, burst of sends) in one rank process: GB/s of each."""
    cfg = {"mode": "throughput", "n": n, "rounds": rounds, "steps": steps, "memcpy_reps": reps}
    with Run(f"fig1-{kind}") as run:
        if kind == "deisa":
            ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": consume, "count_segments": True})
            rank = run.ranks("sim_deisa.py", 1, cfg)[0]
        else:
            ana = run.start("peer_shm.py", "analytics", {"size": 1, "consume": "touch"})
            cfg["address"] = ana.first_report()["address"]
            rank = run.start("peer_shm.py", "rank", "0", "1", cfg)
        r = rank.wait()[0]
        a = ana.wait()[-1]
    nb = r["nbytes"]
    return ([nb * x["steps"] / x["loop"] / 1e9 for x in r["rounds"]], [nb / x["memcpy"] / 1e9 for x in r["rounds"]],
            [c for x in r["rounds"] for c in x.get("sends", [])], max(a.get("segments") or [0]))


def fig1(quick):
    """1 rank, 64 MiB blocks, ≥ 50 timesteps, analytics reading each: send GB/s vs memcpy GB/s.

    Deisa and the hand-rolled peer alternate; inside each rank process, memcpy bursts (the
    reference) alternate with send bursts.
    """
    n = 64 * MiB // 8
    rounds, steps, reps = (1, 10, 5) if quick else (3, 17, 10)
    deisa, ref, hand, ref2, cost, segs, idle, ref3, isegs = [], [], [], [], [], [], [], [], []
    for _ in range(1 if quick else 2):
        d, m, c, g = _one_rank("deisa", n, rounds, steps, reps)
        deisa += d
        ref += m
        cost += c
        segs.append(g)
        h, m2, _, _ = _one_rank("shm", n, rounds, steps, reps)
        hand += h
        ref2 += m2
        i, m3, _, g = _one_rank("deisa", n, rounds, steps, reps, consume="none")
        idle += i
        ref3 += m3
        isegs.append(g)
    gd, gm, gh, gi = median(deisa), median(ref + ref2 + ref3), median(hand), median(idle)
    total = rounds * steps
    one_copy = 64 * MiB / gm / 1e9
    slow = [c for c in cost if c > 3 * one_copy]
    fast = [c for c in cost if c <= 3 * one_copy]
    return [
        Row("1", f"Send throughput, 1 rank, 64 MiB × {total} timesteps, analytics reading each (vs memcpy)",
            f"{gd:.2f} GB/s", f"memcpy {gm:.2f} GB/s", gd / gm, "≥ 0.85", gd / gm >= 0.85,
            f"median of {len(deisa)} bursts of {steps} sends; one 64 MiB memcpy {fmt_time(one_copy)}; "
            f"{len(slow)} of {len(cost)} sends took more than 3 memcpys (median {fmt_time(median(slow))}): the pool grew to "
            f"{max(segs)} segments of 64 MiB although max_simulation_ahead=1, and a new segment is created and "
            f"pre-faulted during the send that needs it; the other sends: median {fmt_time(median(fast))} "
            f"({64 * MiB / median(fast) / 1e9 if fast else float('nan'):.2f} GB/s)"),
        Row("1·ref", "Same job, hand-rolled multiprocessing.shared_memory + socket (for information)",
            f"{gd:.2f} GB/s", f"hand-rolled {gh:.2f} GB/s", gd / gh, "—", None),
        Row("1·idle", "Same sends, analytics callback that computes nothing (for information: no Dask compute)",
            f"{gi:.2f} GB/s", f"memcpy {gm:.2f} GB/s", gi / gm, "—", None,
            f"the pool grew to {max(isegs)} segment(s) here; with a Dask compute in the callback (row 1) the blocks' "
            "views outlive the callback until a later cyclic garbage collection (a gc.collect() in the callback keeps "
            "the pool at 2 segments), so leases return late and the pool keeps creating segments"),
    ]


# The Dask peer's ranks put into queues of maxsize 2 while the analytics computes the timestep
# it took: a rank runs up to 3 timesteps ahead. deisa gets the same depth (3 pending timesteps).
AHEAD_LIKE_PEER = 3


def fig6(quick, dask_address):
    """4 ranks × 16 MiB, analytics computing the mean of every timestep: deisa vs Dask peer GB/s."""
    size, n = 4, 16 * MiB // 8
    steps, rounds = (5, 1) if quick else (30, 2)
    deisa, dask, dsend, dwork, ksend, kwork, segs = [], [], [], [], [], [], []
    for _ in range(rounds):
        r = deisa_stream(size, n, steps, 0.0, consume="mean", warmup=0, ahead=AHEAD_LIKE_PEER)
        deisa.append(r["bytes"] / r["wall"] / 1e9)
        dsend += r["send"]
        dwork += r["work"]
        segs.append(r["segments"])
        r = dask_stream(dask_address, size, n, steps, 0.0, consume="mean", maxsize=2, warmup=0)
        dask.append(r["bytes"] / r["wall"] / 1e9)
        ksend += r["send"]
        kwork += r["work"]
    gd, gk = median(deisa), median(dask)
    return [Row("6", f"Throughput, {size} ranks × {fmt_bytes(n * 8)} × {steps} timesteps, mean of each (vs Dask scatter peer)",
                f"{gd:.2f} GB/s", f"Dask {gk:.3f} GB/s", gd / gk, "≥ 20×", gd / gk >= 20,
                f"first send to last mean; runs alternate, median of {rounds}; Dask: LocalCluster 2 worker processes, "
                "scatter(direct=True) + one distributed.Queue per rank (maxsize 2: a rank runs up to 3 timesteps ahead "
                f"of the timestep being computed; deisa: max_simulation_ahead={AHEAD_LIKE_PEER}, the same depth). "
                f"Median send: deisa {fmt_time(median(dsend))}, Dask scatter+put {fmt_time(median(ksend))}; "
                f"analytics per timestep: deisa {fmt_time(median(dwork))}, Dask {fmt_time(median(kwork))}; "
                f"deisa's pool grew to {max(segs)} segments of 16 MiB (a new one is created and pre-faulted during a send)")]
