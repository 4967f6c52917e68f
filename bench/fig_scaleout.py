"""Figure 9: scale-out on simulated nodes (deisa.simulated_nodes: root, namespaces).

4 nodes x 4 ranks, each node a network, UTS and mount namespace with its Dask worker (and deisa
node service) and its ranks; the scheduler and the analytics on the machine's side.

- 9a throughput: every rank sends float64 blocks back to back, the analytics computes each
  timestep's mean on the cluster; against the Dask ``scatter`` peer on the same cluster (each
  rank scatters to its own node's worker, the analytics gathers the futures and computes the
  same mean there).
- 9b bytes that crossed between the namespaces per timestep (the veth counters: to other
  nodes, the scheduler and the analytics), against the bytes of a timestep's blocks.
- 9c per-timestep latency from 1 to 4 nodes (4 ranks per node, paced sends): the last rank's
  send of t to the end of the analytics' mean of t.

    python bench/fig_scaleout.py [--quick]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid

from common import BENCH, PACKAGE, PYTHON, Run, median
from streams import _summary
from table import Row, fmt_bytes, fmt_ratio, fmt_time, text_table

if PACKAGE not in sys.path:
    sys.path.insert(0, PACKAGE)

PER_NODE = 4
TARGET_THROUGHPUT = 10.0   # deisa / the Dask scatter peer
TARGET_TRAFFIC = 0.01      # bytes crossing nodes per timestep / bytes of the timestep


def _ranks(run, nodes, script, size, cfg_of):
    return [run.start_cmd(nodes.command(r // PER_NODE, [PYTHON, str(BENCH / script), *cfg_of(r)], cwd=str(run.dir)),
                          name=f"{script} rank {r}") for r in range(size)]


def deisa_on_nodes(nodes, n, steps, pace, pool="512MiB", warmup=2, ahead=1):
    size = nodes.count * PER_NODE
    before = nodes.traffic()
    with Run("scale-deisa", env={"DEISA_RENDEZVOUS": nodes.env["DEISA_RENDEZVOUS"]}) as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "mean", "scheduler": nodes.scheduler_address,
                                         "pool": pool, "ahead": ahead})
        cfg = {"mode": "latency", "n": n, "steps": steps, "pace": pace}
        ranks = _ranks(run, nodes, "sim_deisa.py", size, lambda r: [str(r), str(size), json.dumps(cfg)])
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[0]
    after = nodes.traffic()
    starts = {int(t): v for t, v in a["starts"]["x"].items()}
    ends = {int(t): v for t, v in a["ends"]["x"].items()}
    out = _summary(reports, starts, ends, size, n, steps, warmup)
    out["crossed"] = sum(after[i][0] - before[i][0] + after[i][1] - before[i][1] for i in range(nodes.count))
    out["to_end"] = [ends[t] - max(r["starts"][t] for r in reports) for t in range(warmup, steps)]
    out["steady"] = _steady(ends, size * n * 8, warmup, steps)
    return out


def _steady(ends, per_step, warmup, steps):
    """Bytes per second once warm: the timesteps after the warm-up, by their analytics' ends."""
    return (steps - 1 - warmup) * per_step / (ends[steps - 1] - ends[warmup])


def dask_on_nodes(nodes, n, steps, warmup=2):
    from distributed import Client

    size = nodes.count * PER_NODE
    with Client(nodes.scheduler_address) as c:
        workers = c.scheduler_info()["workers"]
    by_host = {}
    for w, info in sorted(workers.items()):
        by_host.setdefault(info["host"], w)
    targets = {str(r): by_host[nodes.address(r // PER_NODE)] for r in range(size)}
    tag = uuid.uuid4().hex[:8]
    before = nodes.traffic()
    with Run("scale-dask") as run:
        cfg = {"address": nodes.scheduler_address, "size": size, "n": n, "steps": steps, "pace": 0, "tag": tag,
               "consume": "mean", "targets": targets}
        ana = run.start("peer_dask.py", "analytics", cfg)
        ranks = _ranks(run, nodes, "peer_dask.py", size, lambda r: ["rank", str(r), str(size), json.dumps(cfg)])
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[0]
    after = nodes.traffic()
    starts = {int(t): v for t, v in a["starts"].items()}
    ends = {int(t): v for t, v in a["ends"].items()}
    out = _summary(reports, starts, ends, size, n, steps, warmup)
    out["crossed"] = sum(after[i][0] - before[i][0] + after[i][1] - before[i][1] for i in range(nodes.count))
    out["steady"] = _steady(ends, size * n * 8, warmup, steps)
    return out


def fig9_scaleout(quick):
    from deisa.simulated_nodes import SimulatedNodes, unavailable

    why = unavailable()
    if why:
        return [Row("9a", "Scale-out (simulated nodes)", "not run", "—", "—", f"≥ {TARGET_THROUGHPUT:.0f}×", None, why)]
    rows = []
    n = (1 << 17) if quick else (1 << 21)         # 1 MiB (quick) or 16 MiB blocks
    steps = 6 if quick else 12
    work = tempfile.mkdtemp(prefix="deisa-bench-nodes-")
    try:
        with SimulatedNodes(4, cwd=work, shm_size="1g", env={"PYTHONPATH": os.pathsep.join([PACKAGE, str(BENCH)])}) as nodes:
            size = nodes.count * PER_NODE
            d = deisa_on_nodes(nodes, n, steps, 0, ahead=3)
            p = dask_on_nodes(nodes, n, steps)
            per_step = size * n * 8
            # End to end: the peer's ranks run ahead of its analytics (an unbounded queue), so only
            # the wall from the first send to the last timestep's mean compares the two.
            rate_d, rate_p = d["bytes"] / d["wall"], p["bytes"] / p["wall"]
            ratio = rate_d / rate_p
            rows.append(Row("9a", f"Scale-out throughput, 4 nodes × 4 ranks, {fmt_bytes(n * 8)} blocks × {steps} timesteps, "
                                  "mean on the cluster (vs Dask scatter peer on the same cluster)",
                            f"{rate_d / 1e9:.2f} GB/s", f"Dask {rate_p / 1e9:.2f} GB/s", fmt_ratio(ratio),
                            f"≥ {TARGET_THROUGHPUT:.0f}×", ratio >= TARGET_THROUGHPUT,
                            "wall from the first send to the last timestep's mean (max_simulation_ahead=3; the peer's queue "
                            f"is unbounded); per timestep, deisa's mean on the cluster took {median(d['work']) * 1e3:.0f} ms "
                            "(Dask distributed's scheduling: 16 rank processes, 4 workers, the scheduler and the analytics "
                            "share 2 cores)"))
            crossed = d["crossed"] / steps
            frac = crossed / per_step
            rows.append(Row("9b", f"Bytes crossing nodes per timestep ({fmt_bytes(per_step)} of blocks per timestep), "
                                  "deisa's run of 9a (Dask peer's for information)",
                            fmt_bytes(int(crossed)), f"Dask {fmt_bytes(int(p['crossed'] / steps))}", f"{frac:.2%}",
                            f"≤ {TARGET_TRAFFIC:.0%}", frac <= TARGET_TRAFFIC,
                            "veth counters of every node, both directions: other nodes, scheduler, analytics"))
        lat = {}
        for count in (1, 2, 4):
            with SimulatedNodes(count, cwd=work, shm_size="512m",
                                env={"PYTHONPATH": os.pathsep.join([PACKAGE, str(BENCH)])}) as nodes:
                r = deisa_on_nodes(nodes, 1 << 14, 8 if quick else 15, 0.2, pool="128MiB")
                lat[count] = median(r["to_end"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = lat[4] / lat[1]
    rows.append(Row("9c", "Per-timestep latency, last send → mean computed on the cluster, 128 KiB blocks, "
                          "4 ranks per node: 4 nodes vs 1 node",
                    f"4 nodes {fmt_time(lat[4])}", f"1 node {fmt_time(lat[1])}", fmt_ratio(ratio), "—", None,
                    f"2 nodes {fmt_time(lat[2])}; a compute on Dask distributed costs tens of ms of scheduling"))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    rows = fig9_scaleout(args.quick)
    print(text_table(("fig", "figure", "deisa", "reference", "ratio", "target", "result"),
                     [(r.fig, r.what, r.deisa, r.reference, r.ratio, r.target, r.verdict) for r in rows]))
    for r in rows:
        if r.note:
            print(f"  {r.fig}: {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
