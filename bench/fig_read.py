"""Figure 5: the analytics reads. mean() of an array assembled from 16 blocks against numpy's
mean of the same data in one contiguous array, and the analytics' memory around the mean."""

import os

from common import MiB, Run, median
from table import Row, fmt_bytes, fmt_time


def fig5(quick):
    size = 4 if quick else 16
    block = (16 if quick else 64) * MiB
    reps = 3 if quick else 7
    pool = f"{max(2 * size * block // MiB, 256)}MiB"
    with Run("fig5") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "read", "reps": reps, "pool": pool,
                                         "timeout": 300})
        ranks = run.ranks("sim_deisa.py", size, {"mode": "fill", "n": block // 8, "steps": 1, "timeout": 300})
        for p in ranks:
            p.wait(600)
        r = ana.wait(600)[0]["read"]
    td, tn = median(r["dask"]), median(r["numpy"])
    before, after = r["mem"]["before"], r["mem"]["after"]
    anon = after["RssAnon"] - before["RssAnon"]
    peak = after["VmHWM"] - before["VmRSS"] if r["mem"]["peak_reset"] else float("nan")
    grown = max(anon, peak if peak == peak else anon)
    total = r["nbytes"]
    m0, m1, mref = r["values"]
    agree = abs(m0 - mref) <= 1e-9 * max(1.0, abs(mref)) and m0 == m1
    return [
        Row("5", f"Analytics read: mean() of {fmt_bytes(total)} assembled from {r['nblocks']} blocks (vs numpy mean of one array)",
            fmt_time(td), f"numpy {fmt_time(tn)}", td / tn, "≤ 1.30", td / tn <= 1.3 and agree,
            f"Dask's threaded scheduler ({os.cpu_count()} threads; numpy's mean uses one) on read-only views of the "
            f"blocks; interleaved, median of {reps}; "
            f"first mean (pages not yet mapped in the analytics) {fmt_time(r['first'])}; results "
            f"{'agree' if agree else f'DIFFER: {m0} vs numpy {mref}'}"),
        Row("5·mem", "…with no copy: analytics' memory growth during mean() (anonymous RSS, and peak RSS)",
            f"+{anon / MiB:.1f} MiB anon, peak +{peak / MiB:.1f} MiB", f"array {fmt_bytes(total)}", grown / total,
            f"< one block ({fmt_bytes(block)})", grown < block,
            f"before: VmRSS {before['VmRSS'] / MiB:.0f} MiB of which shared memory {before['RssShmem'] / MiB:.0f} MiB "
            f"(the mapped blocks), anonymous {before['RssAnon'] / MiB:.0f} MiB"),
    ]
