"""The deisa analytics of a benchmark run: ``ana_deisa.py CONFIG``.

One callback per array in CONFIG["arrays"] (Window of size CONFIG.get("window", 1)); the first
thing each does is note the time (the latency figures compare it with the ranks' send times).
CONFIG["consume"] says what it then does with the newest array:
  none   nothing;            touch  reads one element through Dask;
  mean   computes its mean;  rss    computes its mean and samples this process's memory;
  read   the analytics-read figure (Dask mean against numpy mean, memory), once.
With CONFIG["count_segments"], each callback also counts the session's shared-memory segments.
With CONFIG["scheduler"], the run is a cluster run on that Dask scheduler (figure 9).
With CONFIG["dashboard"], the run serves its dashboard and a watcher thread reads every table of
the page once a second, as an open page does (figure 11).
With CONFIG["split"], a hook notes when each array's event reaches Python, to split the latency
in two; it sits on the measured path (about 10 µs after an idle pause), so runs that measure
latency or rates go without it.
"""

import gc
import glob
import json
import os
import sys
import time

import numpy as np

from common import now, report, reset_peak, status


def cpu():
    """CPU seconds (user + system) of this process, all threads."""
    t = os.times()
    return t.user + t.system


def read_figure(x, reps):
    """mean() of the assembled array against numpy's mean of the same data in one array.

    Memory first (no reference array exists yet): resident memory and its peak around the
    Dask mean show whether any block was copied. Then interleaved timings, Dask and numpy.
    """
    first = now()
    m0 = float(x.mean().compute())
    first = now() - first
    gc.collect()
    peak_reset = reset_peak()
    before = status()
    m1 = float(x.mean().compute())
    after = status()
    mem = {"before": before, "after": after, "peak_reset": peak_reset}
    ref = np.empty(x.shape, dtype=x.dtype)
    ref.fill(0)
    x.store(ref)  # one contiguous array holding the same data (a copy: this is the reference)
    m_ref = float(ref.mean())
    dask_t, numpy_t = [], []
    for _ in range(reps):
        s = now()
        float(x.mean().compute())
        dask_t.append(now() - s)
        s = now()
        float(ref.mean())
        numpy_t.append(now() - s)
    del ref
    return {"first": first, "dask": dask_t, "numpy": numpy_t, "mem": mem, "values": [m0, m1, m_ref],
            "nbytes": x.nbytes, "nblocks": x.npartitions}


def watch_dashboard(d):
    """Reads every table of the dashboard's page once a second (its refresh) while the run goes on."""
    import threading
    import urllib.request

    state = {"stop": False, "reads": 0}
    tables = ["run", "ranks", "nodes", "arrays", "timesteps", "callbacks", "feedback", "errors", "pictures"]

    def watch():
        while d.dashboard is None and not state["stop"]:
            time.sleep(0.01)
        if state["stop"]:
            return
        base, token = d.dashboard.url.split("/?token=")
        while not state["stop"]:
            for name in tables + ["picture?array=x", "reductions?array=x"]:
                request = urllib.request.Request(f"{base}/api/{name}", headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(request, timeout=10) as r:
                    r.read()
            state["reads"] += 1
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True).start()
    return state


def main(cfg):
    from deisa import Deisa, Window

    d = Deisa(max_simulation_ahead=cfg.get("ahead", 1), pool_size=cfg.get("pool"), timeout=cfg.get("timeout", 120),
              scheduler=cfg.get("scheduler"), dashboard=bool(cfg.get("dashboard")))
    starts = {}
    ends = {}
    marks = []
    rss = []
    objects = []  # (callback number, anonymous RSS, Python objects tracked by the GC)
    segments = []
    out = {}
    stats = {}
    consume = cfg.get("consume", "touch")

    def make(name):
        def cb(**kw):
            s = now()
            marks.append(cpu())  # CPU of the process at each callback (the rate figure uses first and last)
            x = kw[name][-1]
            if x.t == 3 and "warm" not in stats:  # the latency figures drop timesteps 0-2 as warm-up
                stats["warm"] = d.stats.as_dict()
            if consume != "rss":  # the memory figure keeps nothing per timestep but its samples
                starts.setdefault(name, {})[x.t] = s
            if consume == "touch":
                float(x[0].compute())
            elif consume == "mean":
                float(x.mean().compute())
            elif consume == "rss":
                float(x.mean().compute())
                rss.append(status()["VmRSS"])
                if len(rss) % 100 == 1:
                    objects.append((len(rss), status()["RssAnon"], len(gc.get_objects())))
            elif consume == "read" and "read" not in out:
                out["read"] = read_figure(x, cfg.get("reps", 5))
            if cfg.get("count_segments"):
                # the pool's segments (not the run's admission board, which is one more file)
                segments.append(len([f for f in glob.glob(f"/dev/shm/deisa-{d.session}-*") if not f.endswith("-admission")]))
            if consume != "rss":
                ends.setdefault(name, {})[x.t] = now()
        cb.__qualname__ = f"consume_{name}"
        return cb

    for name in cfg["arrays"]:
        d.register_callback(make(name), Window(name, size=cfg.get("window", 1)))
    arrived = {}
    if cfg.get("split"):
        # Notes when the engine's "array complete" event reaches Python, to split the latency
        # into core (send -> event) and Python (event -> callback). This process's runs only.
        from deisa import _run

        add_array = _run.Run.add_array

        def noted(self, layout, timestep, *rest):
            arrived.setdefault(layout.name, {})[timestep] = now()
            return add_array(self, layout, timestep, *rest)

        _run.Run.add_array = noted
    watched = watch_dashboard(d) if cfg.get("dashboard") else None
    c0, t0 = cpu(), now()
    d.execute_callbacks()
    t1, c1 = now(), cpu()
    if watched is not None:
        watched["stop"] = True
        out["page_reads"] = watched["reads"]
    steady = {"cpu": marks[-1] - marks[0], "callbacks": len(marks) - 1} if len(marks) > 1 else None
    report(session=d.session, start=t0, end=t1, cpu=c1 - c0, steady=steady, starts=starts, ends=ends, arrived=arrived, rss=rss, objects=objects, segments=segments,
           stats=dict(stats, end=d.stats.as_dict()), **out)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
