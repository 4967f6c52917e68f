"""Deisa benchmarks: measures every figure of the benchmark issue and prints one table.

    bench/run.sh [--quick] [--only 1,3,8,9] [--no-dask-scaling]

Every figure is a ratio against a reference measured in the same run (memcpy, numpy, the
Dask-distributed scatter peer, a hand-rolled shared-memory peer); absolute numbers are shown
for information. A figure whose measurement fails is reported as an error row; the benchmark
itself never fails on a missed target. The table also goes to bench/results.md (a --quick run's
to bench/results-quick.md).
"""

import argparse
import re
import sys
import time
import traceback

from common import BENCH, machine, shm_files
from table import HEADER, Failed, cells, machine_line, markdown, notes, text_table


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and few timesteps: a smoke run (< 1 min)")
    ap.add_argument("--only", default="", help="comma-separated figures to run (1-12), default all")
    ap.add_argument("--no-dask-scaling", action="store_true", help="leave the Dask column out of table 8b")
    ap.add_argument("--output", default=None,
                    help="where to write the Markdown table (default bench/results.md; bench/results-quick.md "
                         "for --quick, so that a smoke run never replaces the full run's table)")
    args = ap.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    want = (lambda f: not only or f in only)
    quick = args.quick
    output = args.output or str(BENCH / ("results-quick.md" if quick else "results.md"))

    import fig_dashboard
    import fig_flight
    import fig_latency
    import fig_memory
    import fig_partition
    import fig_scaleout
    import fig_rate
    import fig_read
    import fig_sizes
    import fig_throughput
    import fig_zerocopy
    from native import build_csender
    from streams import dask_cluster

    m = machine()
    load_before = m["load"]
    shm_before = set(shm_files())
    print(f"deisa benchmark ({'quick' if quick else 'full'} run) on {machine_line(m)}; load {load_before[0]:.1f}",
          flush=True)
    started = time.monotonic()
    rows, scaling = [], []
    csender, why = build_csender()
    if not csender:
        print(f"  (no C sender: {why.strip().splitlines()[-1] if why else 'unknown'})", flush=True)

    def step(fig, label, fn, *a):
        t = time.monotonic()
        print(f"  figure {label} ...", end="", flush=True)
        try:
            out = fn(*a)
        except Exception as e:  # noqa: BLE001 - a failed measurement is reported, not raised
            traceback.print_exc(file=sys.stderr)
            out = [Failed(fig, f"figure {label}", e)]
        print(f" {time.monotonic() - t:.0f} s", flush=True)
        if isinstance(out, tuple):
            scaling.append(out)
        else:  # rows, and tables among them
            for o in out:
                (scaling if isinstance(o, tuple) else rows).append(o)

    if want("1"):
        step("1", "1 (send throughput)", fig_throughput.fig1, quick)
    if want("2"):
        step("2", "2 (zero-copy send)", fig_zerocopy.fig2, quick, csender)
    if want("5"):
        step("5", "5 (analytics read)", fig_read.fig5, quick)
    if want("4"):
        step("4", "4 (block rate)", fig_rate.fig4, quick, csender)
    if want("8"):
        step("8a", "8a (send cost vs block size)", fig_sizes.fig8_sizes, quick)
    if want("11"):
        step("11", "11 (dashboard's cost)", fig_dashboard.fig11, quick)
    if want("12"):
        step("12", "12 (Arrow Flight read)", fig_flight.fig12, quick)
    if want("3") or want("6") or want("8"):
        try:
            with dask_cluster() as address:
                if want("3"):
                    step("3", "3 (small-block latency, Dask peer)", fig_latency.fig3, quick, address)
                if want("6"):
                    step("6", "6 (throughput, Dask peer)", fig_throughput.fig6, quick, address)
                if want("8"):
                    dask_col = None if (quick or args.no_dask_scaling) else address
                    step("8b", "8b (latency vs ranks)", fig_latency.fig8_ranks, quick, dask_col)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            rows.append(Failed("3/6", "Dask LocalCluster", e))
    if want("7"):
        step("7a", "7a (bridge memory)", fig_memory.fig7_rank, quick, csender)
        step("7b", "7b (analytics memory)", fig_memory.fig7_analytics, quick)
        step("7c", "7c (/dev/shm)", fig_memory.fig7_shm, shm_before)
    if want("9"):
        step("9", "9a-c (scale-out on simulated nodes)", fig_scaleout.fig9_scaleout, quick)
        step("9d", "9d (task placement)", fig_partition.fig9_partition, quick)

    rows.sort(key=lambda r: int(re.match(r"\d*", r.fig).group() or 0))  # stable: a figure's rows keep their order
    elapsed = time.monotonic() - started
    load_after = machine()["load"]
    print()
    print(text_table(HEADER, [cells(r) for r in rows]))
    for title, headers, trs in scaling:
        print()
        print(title)
        print(text_table(headers, trs))
    ns = notes(rows)
    if ns:
        print("\nNotes:")
        for n in ns:
            print(f"  {n}")
    met = sum(1 for r in rows if r.met is True)
    missed = sum(1 for r in rows if r.met is False)
    print(f"\n{met} targets met, {missed} missed; {elapsed:.0f} s; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    with open(output, "w") as f:
        f.write(markdown(rows, scaling, m, "quick" if quick else "full", elapsed, load_before, load_after))
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
