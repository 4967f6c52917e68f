"""Live analytics of heat2d_simulation.py with Deisa.

Every timestep: prints the mean, min and max temperature and the time derivative of
the field (central difference over a window of 3 timesteps, so centred on t-1). Acts
as a thermostat: once the mean passes a threshold, it asks the simulation to turn its
heaters down (feedback ``cooling``, a factor on the heaters' power, set for every
timestep from then on), and back up when the mean fell by the hysteresis. Snapshots go
to an HDF5 file while the simulation runs; at the end, the final field and the time
series go to the same file and to a PNG plot.

    python heat_analytics.py --output output/    # then start the simulation under mpirun

With ``--dashboard`` it serves the live dashboard and prints its URL (open it in a browser); with
``--flight`` it serves the live blocks to Arrow Flight clients and prints where, with the token.
"""

import argparse
import logging
import math
import os
import time
from collections import defaultdict
from pathlib import Path

import dask
import h5py
import matplotlib
import numpy as np

from deisa import Deisa, Window

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "output",
                   help="output directory (default: examples/output next to this script)")
    p.add_argument("--threshold", type=float, default=8.0,
                   help="mean temperature above which the simulation is asked to cool (default 8)")
    p.add_argument("--hysteresis", type=float, default=1.0,
                   help="heat again once the mean fell this far below the threshold (default 1)")
    p.add_argument("--cooling", type=float, default=0.25,
                   help="heater power factor sent as feedback while cooling (default 0.25)")
    p.add_argument("--snapshot-every", type=int, default=50,
                   help="write the field to HDF5 every this many timesteps (default 50)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for the simulation (default 300)")
    p.add_argument("--dashboard", nargs="?", const=True, default=False, metavar="HOST:PORT",
                   help="serve the live dashboard (on a free loopback port, or at HOST:PORT) and print its URL")
    p.add_argument("--flight", nargs="?", const=True, default=False, metavar="HOST:PORT",
                   help="serve the live blocks to Arrow Flight clients (on a free loopback port, or at HOST:PORT)")
    p.add_argument("--linger", type=float, default=0.0, metavar="SECONDS",
                   help="keep the dashboard up this long after the run, to look at how it ended (default 0)")
    return p.parse_args()


def fail_fast(exc):
    """Stop the analytics on a callback error instead of logging it and carrying on."""
    raise exc


def run(args, h5_path):
    """Run the analytics until the simulation ends; return the time series and the last field."""
    # On a cluster (scripts/demo.sh --nodes N), the nodes' Dask scheduler.
    d = Deisa(timeout=args.timeout, scheduler=os.environ.get("DEISA_SCHEDULER") or None, dashboard=args.dashboard,
              flight=args.flight)
    series = defaultdict(list)
    state = {"cooling": False, "cooling_from": None, "field": None, "chunks": None}

    @d.register(Window("temperature", size=3), exception_handler=fail_fast)
    def monitor(temperature):
        now, oldest = temperature[-1], temperature[0]
        t = now.t
        if d.flight is not None and not series.get("timestep"):  # served once the run started: say where, once
            print(f"analytics: Arrow Flight at {d.flight.location} (authorization: Bearer {d.flight.token})", flush=True)
        stats = [now.mean(), now.min(), now.max()]
        if len(temperature) > 1:
            # Arrays of different timesteps combine in one Dask expression. With a full
            # window this is the central difference at t-1, at the start a backward one.
            dT_dt = (now - oldest) / (now.t - oldest.t)
            stats += [dT_dt.mean(), abs(dT_dt).max()]
        # One compute for everything: the blocks are read once, in place.
        field, mean, tmin, tmax, *rates = dask.compute(now, *stats)
        dmean, max_rate = rates or (math.nan, math.nan)

        # Thermostat with hysteresis, so that the simulation visibly reacts.
        if not state["cooling"] and mean > args.threshold:
            state["cooling"] = True
            if state["cooling_from"] is None:
                state["cooling_from"] = t
            print(f"analytics: timestep {t}: mean {mean:.3f} > {args.threshold:g}, "
                  f"asking the simulation to cool (heater power x{args.cooling:g})", flush=True)
        elif state["cooling"] and mean < args.threshold - args.hysteresis:
            state["cooling"] = False
            print(f"analytics: timestep {t}: mean {mean:.3f} < {args.threshold - args.hysteresis:g}, "
                  "asking the simulation to heat again", flush=True)
        heating = args.cooling if state["cooling"] else 1.0
        if state["cooling_from"] is not None:  # from then on, every timestep gets its factor
            d.set("cooling", heating, t)

        print(f"t={t:4d}  mean={mean:7.4f}  min={tmin:7.4f}  max={tmax:8.4f}  "
              f"dmean/dt={dmean:+7.4f}  max|dT/dt|={max_rate:7.4f}", flush=True)
        record = {"timestep": t, "mean": mean, "min": tmin, "max": tmax, "heating": heating,
                  "rate_timestep": (now.t + oldest.t) / 2, "dmean_dt": dmean, "max_abs_dT_dt": max_rate}
        for name, value in record.items():
            series[name].append(value)
        if t % args.snapshot_every == 0:
            now.to_hdf5(h5_path, f"/temperature/t{t:05d}")
        # Keep a numpy copy, not the DeisaArray: its shared memory is reused once released.
        state["field"], state["chunks"] = field, now.chunks

    d.execute_callbacks()
    if d.dashboard is not None and args.linger > 0:
        print(f"analytics: the dashboard shows the ended run for {args.linger:g} s: {d.dashboard.url}", flush=True)
        time.sleep(args.linger)
    return {k: np.asarray(v) for k, v in series.items()}, state


def save_hdf5(h5_path, series, state):
    """Add the final field and the time series to the snapshot file."""
    with h5py.File(h5_path, "a") as f:
        for name in f.get("temperature", {}):
            f["temperature"][name].attrs["timestep"] = int(name[1:])
        final = f.create_dataset("final/temperature", data=state["field"])
        final.attrs["timestep"] = int(series["timestep"][-1])
        for name, values in series.items():
            f.create_dataset(f"series/{name}", data=values)
        if state["cooling_from"] is not None:
            f["series"].attrs["cooling_from"] = state["cooling_from"]


def cooling_spans(timesteps, heating):
    """(first, last) timesteps of each run of consecutive timesteps with the heaters turned down."""
    spans, start = [], None
    for t, h in zip(timesteps, heating):
        if h < 1.0 and start is None:
            start = t
        elif h >= 1.0 and start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, timesteps[-1]))
    return spans


def plot(png_path, series, state, args):
    """Final field (with the ranks' blocks), the mean and max, and d(mean)/dt over time."""
    t = series["timestep"]
    fig, (ax_field, ax_mean, ax_rate) = plt.subplots(1, 3, figsize=(17, 4.8), width_ratios=(1, 1.25, 1.25),
                                                     layout="constrained")

    image = ax_field.imshow(state["field"], cmap="inferno")
    fig.colorbar(image, ax=ax_field, shrink=0.9, label="temperature")
    # Dashed lines on the block boundaries: one block per simulation rank.
    for edge in np.cumsum(state["chunks"][0])[:-1]:
        ax_field.axhline(edge - 0.5, color="cyan", lw=0.8, ls="--")
    for edge in np.cumsum(state["chunks"][1])[:-1]:
        ax_field.axvline(edge - 0.5, color="cyan", lw=0.8, ls="--")
    ax_field.set_title(f"field at timestep {t[-1]} (dashed: rank blocks)")

    ax_mean.plot(t, series["mean"], color="tab:red", label="mean")
    ax_mean.axhline(args.threshold, color="gray", ls=":", label=f"cool above {args.threshold:g}")
    ax_mean.axhline(args.threshold - args.hysteresis, color="gray", ls="-.",
                    label=f"heat below {args.threshold - args.hysteresis:g}")
    ax_mean.set(xlabel="timestep", ylabel="mean temperature", title="mean and max temperature")
    ax_max = ax_mean.twinx()
    ax_max.plot(t, series["max"], color="tab:orange", alpha=0.6, label="max (right axis)")
    ax_max.set_ylabel("max temperature")

    ax_rate.plot(series["rate_timestep"], series["dmean_dt"], color="tab:blue")
    ax_rate.axhline(0, color="gray", lw=0.8)
    ax_rate.set(xlabel="timestep", ylabel="d(mean)/dt per timestep",
                title="time derivative of the mean (window of 3)")

    # Shade the timesteps for which the analytics asked for cooling.
    for i, (start, end) in enumerate(cooling_spans(t, series["heating"])):
        for ax in (ax_mean, ax_rate):
            ax.axvspan(start, end, color="tab:blue", alpha=0.1, label="cooling requested" if i == 0 else None)
    lines, labels = ax_mean.get_legend_handles_labels()
    more_lines, more_labels = ax_max.get_legend_handles_labels()
    ax_mean.legend(lines + more_lines, labels + more_labels, loc="lower right", fontsize=8)

    fig.savefig(png_path, dpi=110)
    plt.close(fig)


def main():
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.output.mkdir(parents=True, exist_ok=True)
    h5_path, png_path = args.output / "heat.h5", args.output / "heat.png"
    h5_path.unlink(missing_ok=True)  # snapshots are appended during the run

    print("analytics: waiting for the simulation", flush=True)
    series, state = run(args, h5_path)
    if "timestep" not in series:
        raise SystemExit("analytics: the simulation sent no timestep")
    save_hdf5(h5_path, series, state)
    plot(png_path, series, state, args)
    print(f"analytics: {len(series['timestep'])} timesteps analysed", flush=True)
    print(f"analytics: plot  {png_path}", flush=True)
    print(f"analytics: HDF5  {h5_path}", flush=True)


if __name__ == "__main__":
    main()
