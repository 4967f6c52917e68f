"""Figure 11: what the live dashboard costs a run. The same deisa run (4 ranks sending 512 KiB
float64 blocks as fast as back-pressure lets them, the analytics computing each timestep's
mean) with the dashboard served and read once a second as an open page reads it (its pictures
and reductions made within their budget), against the run without it; runs alternate, the
ratio is the median over the pairs."""

from common import median
from streams import deisa_stream
from table import Row, fmt_time


def fig11(quick):
    size, n = 4, 64 * 1024
    steps, pairs = (20, 1) if quick else (800, 5)
    off, on, reads = [], [], []
    for _ in range(pairs):
        off.append(deisa_stream(size, n, steps, 0.0, consume="mean")["wall"] / steps)
        run = deisa_stream(size, n, steps, 0.0, consume="mean", dashboard=True)
        on.append(run["wall"] / steps)
        reads.append(run["page_reads"])
    ratios = [a / b for a, b in zip(on, off)]
    ratio = median(ratios)
    return [Row("11", f"Dashboard's cost: wall time per timestep with the dashboard served and read every second "
                      f"(pictures within their budget) against without, {size} ranks × 512 KiB, mean of each",
                fmt_time(median(on)), f"without {fmt_time(median(off))}", ratio, "≤ 1.05", ratio <= 1.05,
                f"{pairs} alternating pairs of {steps} timesteps; ratios {', '.join(f'{r:.3f}' for r in ratios)}; "
                f"the page read {min(reads)}–{max(reads)} times a run")]
