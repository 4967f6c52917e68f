"""Figure 3 (small blocks: last rank's send to callback start, against the Dask peer) and the
second table of figure 8 (that latency as ranks go from 1 to 16)."""

from common import median, percentile
from streams import dask_stream, deisa_stream, shm_stream
from table import Row, fmt_time

N = 512  # 4 KiB of float64


def fig3(quick, dask_address):
    """8 ranks × 4 KiB; ranks pause ``pace`` between timesteps (their "compute"), long enough
    for the Dask peer to keep up, so what is measured is latency, not a backlog. Deisa and the
    Dask peer alternate; the hand-rolled peer is shown for information. The split of deisa's
    latency comes from one more deisa run with the hook that notes when events reach Python
    (a cost on the measured path, so the measured runs go without it)."""
    size = 4 if quick else 8
    steps, rounds, pace = (12, 1, 0.05) if quick else (60, 2, 0.1)
    deisa, dask, hand, send, stats, hand_own = [], [], [], [], [], []
    for _ in range(rounds):
        d = deisa_stream(size, N, steps, pace)
        deisa += d["latency"]
        send += d["send"]
        stats.append(d["stats"])
        dask += dask_stream(dask_address, size, N, steps, pace)["latency"]
        h = shm_stream(size, N, steps, pace)
        hand += h["latency"]
        hand_own.append(h["own"])
    split = deisa_stream(size, N, steps, pace, split=True)
    ld, lk, lh = median(deisa), median(dask), median(hand)
    note = (f"{rounds} × {steps} timesteps {pace * 1e3:.0f} ms apart, first 3 of each run dropped; p90 deisa "
            f"{fmt_time(percentile(deisa, 90))}, Dask {fmt_time(percentile(dask, 90))}; deisa's split (one more run, with "
            f"the hook that notes events in Python: latency {fmt_time(median(split['latency']))}): last send -> 'array "
            f"complete' event reaches Python {fmt_time(median(split['core']))}, event -> callback "
            f"{fmt_time(median(split['python']))}; "
            f"a rank's 4 KiB send takes {fmt_time(median(send))} (median)")
    return [
        Row("3a", f"Small blocks, {size} ranks × 4 KiB: median last send → callback start (vs hand-rolled)",
            fmt_time(ld), f"hand-rolled {fmt_time(lh)}", ld / lh, "≤ 1.25× hand-rolled", ld / lh <= 1.25, note),
        Row("3b", f"Small blocks, {size} ranks × 4 KiB: Dask scatter peer's latency / deisa's",
            fmt_time(ld), f"Dask {fmt_time(lk)}", lk / ld, "≥ 40×", lk / ld >= 40),
        _fig10(size, steps, rounds, stats, median(hand_own)),
    ]


def _fig10(size, steps, rounds, stats, hand_own):
    """Figure 10, from figure 3's deisa runs: the analytics' own time per timestep outside the
    callbacks (Deisa.stats), against the hand-rolled peer's own time (its loop out of select and
    out of its consume)."""
    def total(key):  # over the runs, warm-up (timesteps 0-2) left out as in the latency figures
        return sum(s["end"][key] - s["warm"][key] for s in stats)

    timesteps = total("timesteps")
    own, on_path, callbacks = (total(k) / timesteps for k in ("own_seconds", "own_on_path_seconds", "callback_seconds"))
    first = sum(s["warm"]["own_seconds"] for s in stats) / sum(s["warm"]["timesteps"] for s in stats)
    return Row("10", f"Analytics' own time per timestep outside the callbacks, {size} ranks × 4 KiB (Deisa.stats; "
                     f"vs the hand-rolled peer's own time)",
               fmt_time(own), f"hand-rolled {fmt_time(hand_own)}", own / hand_own, "≤ 100 µs", own <= 100e-6,
               f"figure 3's deisa runs ({rounds} × {steps} timesteps, the first 3 of each left out: "
               f"{fmt_time(first)} per timestep there): event reads, blocks placed in "
               f"arrays, windows, leases and their garbage collections, arrays built ahead while idle; of which "
               f"{fmt_time(on_path)} between a callback's event and its start; the callbacks (a Dask read of one "
               f"element) {fmt_time(callbacks)}")


def fig8_ranks(quick, dask_address=None):
    """Per-timestep latency (last send → callback start) as ranks go from 1 to 64 (from 32 on, the
    2 cores are oversubscribed: the growth of the cost with the ranks shows); the deisa runs note
    when events reach Python (the split column), a hook that costs them about 10 µs."""
    counts = [1, 4] if quick else [1, 2, 4, 8, 16, 32, 64]
    steps, pace = (8, 0.05) if quick else (30, 0.1)
    rows, latency = [], {}
    for size in counts:
        d = deisa_stream(size, N, steps, pace, split=True)
        latency[size] = median(d["latency"])
        h = shm_stream(size, N, steps, pace)
        row = [size, fmt_time(median(d["latency"])), fmt_time(percentile(d["latency"], 90)),
               fmt_time(median(d.get("core", []))), fmt_time(median(d["send"])), fmt_time(median(h["latency"]))]
        if dask_address:
            k = dask_stream(dask_address, size, N, steps, pace)
            row.append(fmt_time(median(k["latency"])))
        rows.append(row)
    headers = ["ranks", "deisa latency (median, with the split's hook)", "deisa p90", "of which send → event in Python",
               "deisa send (median)", "hand-rolled latency"]
    if dask_address:
        headers.append("Dask latency")
    table = (f"8b. Per-timestep latency against ranks (4 KiB blocks, {steps} timesteps {pace * 1e3:.0f} ms apart)",
             headers, rows)
    top = 16 if 16 in latency else max(latency)
    ratio = latency[top] / latency[1]
    more = ", ".join(f"{n} ranks {fmt_time(latency[n])} ({latency[n] / latency[1]:.2f}×)" for n in counts if n > top)
    row = Row("8b", f"Per-timestep latency, last send → callback start, 4 KiB blocks: {top} ranks against 1 rank",
              fmt_time(latency[top]), f"1 rank {fmt_time(latency[1])}", ratio, "≤ 2×", ratio <= 2,
              f"table 8b (with the split's hook); oversubscribed on 2 cores: {more}" if more else "table 8b")
    return [row, table]
