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
    deisa, dask, hand, send = [], [], [], []
    for _ in range(rounds):
        d = deisa_stream(size, N, steps, pace)
        deisa += d["latency"]
        send += d["send"]
        dask += dask_stream(dask_address, size, N, steps, pace)["latency"]
        hand += shm_stream(size, N, steps, pace)["latency"]
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
            fmt_time(ld), f"hand-rolled {fmt_time(lh)}", ld / lh, "≤ 2 ms", ld <= 2e-3, note),
        Row("3b", f"Small blocks, {size} ranks × 4 KiB: Dask scatter peer's latency / deisa's",
            fmt_time(ld), f"Dask {fmt_time(lk)}", lk / ld, "≥ 20×", lk / ld >= 20),
    ]


def fig8_ranks(quick, dask_address=None):
    """Per-timestep latency (last send → callback start) as ranks go from 1 to 16; the deisa runs
    note when events reach Python (the split column), a hook that costs them about 10 µs."""
    counts = [1, 4] if quick else [1, 2, 4, 8, 16]
    steps, pace = (8, 0.05) if quick else (30, 0.1)
    rows = []
    for size in counts:
        d = deisa_stream(size, N, steps, pace, split=True)
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
    return (f"8b. Per-timestep latency against ranks (4 KiB blocks, {steps} timesteps {pace * 1e3:.0f} ms apart)",
            headers, rows)
