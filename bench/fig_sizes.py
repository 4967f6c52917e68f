"""First table of figure 8: the send cost as the block size goes from 4 KiB to 256 MiB."""

from common import KiB, MiB, Run, median
from table import fmt_bytes, fmt_time


def fig8_sizes(quick):
    sizes = [4 * KiB, 64 * KiB, MiB, 16 * MiB] + ([] if quick else [64 * MiB, 256 * MiB])
    steps, pace = (5, 0.05) if quick else (12, 0.1)
    pool = f"{max(256, 3 * sum(sizes) // MiB)}MiB"
    with Run("fig8sizes") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["w"] + [f"s{s}" for s in sizes], "consume": "touch", "pool": pool})
        r = run.ranks("sim_deisa.py", 1, {"mode": "sizes", "sizes": sizes, "steps": steps, "pace": pace})[0].wait()[0]
        ana.wait()
    rows = []
    for s in sizes:
        name = f"s{s}"
        send, ref = median(r["send"][name][1:]), median(r["memcpy"][name][1:])
        rows.append([fmt_bytes(s), fmt_time(send), fmt_time(ref), f"{send / ref:.2f}", f"{s / send / 1e9:.2f}",
                     f"{s / ref / 1e9:.2f}"])
    headers = ["block", "deisa send (median)", "memcpy (median)", "send / memcpy", "send GB/s", "memcpy GB/s"]
    return (f"8a. Send cost against block size (1 rank, Python bridge.send, {steps - 1} timesteps after the first, "
            f"{pace * 1e3:.0f} ms apart; each timestep's first send, of 8 B after the pause, is timed apart: "
            f"{fmt_time(median(r['first'][1:]))})", headers, rows)
