"""The same job run three ways: deisa, the hand-rolled shared-memory peer, the Dask peer.

Each ``*_stream`` starts ``size`` rank processes sending a float64 block of ``n`` elements per
timestep (paced by ``pace`` seconds of "compute" before each send) and an analytics consuming
every timestep, and returns the same summary:

  latency   per timestep (warm-up dropped): start of the analytics' work on t minus the start
            of the last rank's send of t
  wall      first send start -> end of the analytics' work on the last timestep
  bytes     bytes delivered;  send: per-send cost seen by the ranks
  work      the analytics' time on each timestep (its start to its end)
"""

import contextlib
import uuid
from pathlib import Path

from common import Run


def _summary(rank_reports, starts, ends, size, n, steps, warmup, arrived=None):
    first_send = min(r["starts"][0] for r in rank_reports)
    last = {t: max(r["starts"][t] for r in rank_reports) for t in range(steps)}
    lat = [starts[t] - last[t] for t in range(warmup, steps)]
    end = max(ends.values()) if ends else max(starts.values())
    out = {"latency": lat, "wall": end - first_send, "bytes": size * n * 8 * steps,
           "send": [c for r in rank_reports for c in r["send"][warmup:]],
           "work": [ends[t] - starts[t] for t in range(warmup, steps) if t in ends]}
    if arrived:
        # deisa only: last send -> array event in Python (core), array event -> callback (Python)
        out["core"] = [arrived[t] - last[t] for t in range(warmup, steps) if t in arrived]
        out["python"] = [starts[t] - arrived[t] for t in range(warmup, steps) if t in arrived]
    return out


def deisa_stream(size, n, steps, pace, consume="touch", ahead=1, pool=None, warmup=3, split=False, dashboard=False):
    """A deisa run; with ``split``, the analytics also notes when each array's event reaches
    Python (``core`` and ``python`` in the result), at a cost on the measured path; with
    ``dashboard``, it serves its dashboard, read once a second as by an open page."""
    with Run(f"deisa{size}") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": consume, "ahead": ahead, "pool": pool, "split": split,
                                         "count_segments": True, "dashboard": dashboard})
        ranks = run.ranks("sim_deisa.py", size, {"mode": "latency", "n": n, "steps": steps, "pace": pace})
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[0]
    starts = {int(t): v for t, v in a["starts"]["x"].items()}
    ends = {int(t): v for t, v in a["ends"]["x"].items()}
    arrived = {int(t): v for t, v in a.get("arrived", {}).get("x", {}).items()}
    out = _summary(reports, starts, ends, size, n, steps, warmup, arrived)
    out["segments"] = max(a.get("segments") or [0])
    out["stats"] = a["stats"]  # the analytics' Deisa.stats at the end (figure 10)
    out["page_reads"] = a.get("page_reads", 0)
    return out


def shm_stream(size, n, steps, pace, consume="touch", warmup=3):
    with Run(f"shm{size}") as run:
        ana = run.start("peer_shm.py", "analytics", {"size": size, "consume": consume})
        address = ana.first_report()["address"]
        cfg = {"mode": "latency", "n": n, "steps": steps, "pace": pace, "address": address}
        ranks = [run.start("peer_shm.py", "rank", str(r), str(size), cfg, name=f"shm rank {r}") for r in range(size)]
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[-1]
    starts = {int(t): v for t, v in a["starts"].items()}
    out = _summary(reports, starts, {}, size, n, steps, warmup)
    out["own"] = a["own"] / max(1, a["timesteps"])  # the peer's own time per timestep (figure 10)
    return out


@contextlib.contextmanager
def dask_cluster(workers=2):
    """A LocalCluster in its own process (scheduler + worker processes) for the Dask peer."""
    with Run("daskcluster") as run:
        p = run.start("peer_dask.py", "cluster", {"workers": workers})
        address = p.first_report(timeout=120)["address"]
        try:
            yield address
        finally:
            (Path(run.dir) / "stop-cluster").touch()
            try:
                p.wait(timeout=60)
            except RuntimeError:
                p.kill()


def dask_stream(address, size, n, steps, pace, consume="touch", maxsize=0, warmup=3):
    tag = uuid.uuid4().hex[:8]
    with Run(f"dask{size}") as run:
        cfg = {"address": address, "size": size, "n": n, "steps": steps, "pace": pace, "tag": tag,
               "consume": consume, "maxsize": maxsize}
        ana = run.start("peer_dask.py", "analytics", cfg)
        ranks = [run.start("peer_dask.py", "rank", str(r), str(size), cfg, name=f"dask rank {r}") for r in range(size)]
        reports = [p.wait()[0] for p in ranks]
        a = ana.wait()[0]
    starts = {int(t): v for t, v in a["starts"].items()}
    ends = {int(t): v for t, v in a["ends"].items()}
    return _summary(reports, starts, ends, size, n, steps, warmup)
