"""The Dask-distributed peer: the design of deisa's Dask version, run here for real.

A ``distributed.LocalCluster`` (worker processes); every simulation rank is a ``Client`` that
scatters its block straight to a worker (``scatter(direct=True)``) each timestep and hands the
future to the analytics through a ``distributed.Queue`` of its own (the queue keeps the data
alive until the analytics takes it). The analytics (an asynchronous client, all ranks' gets in
flight at once) takes one future per rank, builds a Dask array from them (``da.from_delayed``)
and computes on the cluster, where the blocks live.

    peer_dask.py cluster CONFIG            (reports the scheduler address; stops when the
                                            file "stop-cluster" appears in its directory)
    peer_dask.py analytics CONFIG
    peer_dask.py rank RANK SIZE CONFIG
"""

import asyncio
import json
import logging
import os
import sys
import time

import numpy as np

from common import now, report


def quiet():
    for name in ("distributed", "distributed.worker", "distributed.scheduler", "distributed.nanny",
                 "distributed.core", "distributed.comm", "distributed.batched"):
        logging.getLogger(name).setLevel(logging.ERROR)


def cluster(cfg):
    from distributed import LocalCluster

    quiet()
    with LocalCluster(n_workers=cfg["workers"], threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as c:
        report(address=c.scheduler_address)
        while not os.path.exists("stop-cluster"):
            time.sleep(0.1)


def analytics(cfg):
    asyncio.run(_analytics(cfg))


async def _analytics(cfg):
    """Takes each timestep's futures with all ranks' queue gets in flight at once (one round
    trip after the last rank's put, not one per rank), then computes on the cluster."""
    import dask.array as da
    from distributed import Client, Event, Queue

    quiet()
    size, n, tag = cfg["size"], cfg["n"], cfg["tag"]
    starts, ends = {}, {}
    async with Client(cfg["address"], asynchronous=True) as client:
        # Awaited: an asynchronous client creates a queue on the scheduler in the background, and
        # a get before that (no rank created it yet either) fails with a KeyError.
        queues = [await Queue(f"{tag}-rank-{r}", client=client, maxsize=cfg.get("maxsize", 0)) for r in range(size)]
        await Event(f"{tag}-go", client=client).set()
        t0 = now()
        for t in range(cfg["steps"]):
            futures = await asyncio.gather(*(q.get() for q in queues))
            starts[t] = now()
            x = da.concatenate([da.from_delayed(f, (n,), dtype=np.float64) for f in futures])
            y = x.mean() if cfg.get("consume") == "mean" else x[0]
            float(await client.compute(y))
            ends[t] = now()
            del futures, x, y
        t1 = now()
    report(start=t0, end=t1, starts=starts, ends=ends)


def rank(r, size, cfg):
    from distributed import Client, Event, Queue

    quiet()
    client = Client(cfg["address"])
    workers = sorted(client.scheduler_info()["workers"])
    # The worker of the rank's own node where one is given (figure 9's cluster), else spread.
    target = [cfg["targets"][str(r)]] if "targets" in cfg else [workers[r % len(workers)]]
    q = Queue(f"{cfg['tag']}-rank-{r}", client=client, maxsize=cfg.get("maxsize", 0))
    a = np.empty(cfg["n"])
    a.fill(r + 1.0)
    Event(f"{cfg['tag']}-go", client=client).wait()
    starts, costs = [], []
    for t in range(cfg["steps"]):
        if cfg["pace"]:
            time.sleep(cfg["pace"])
        s = now()
        f = client.scatter(a, direct=True, workers=target, hash=False)
        q.put(f)
        del f
        starts.append(s)
        costs.append(now() - s)
    client.close()
    report(rank=r, starts=starts, send=costs)


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "rank":
        rank(int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]))
    else:
        {"cluster": cluster, "analytics": analytics}[role](json.loads(sys.argv[2]))
