"""Command line: ``deisa status``, ``deisa dashboard``, ``deisa cleanup``, and where the native files are."""

import argparse
import ctypes
import json
import signal
import sys
import threading
from pathlib import Path

from . import _native


def _call(fn_name, rendezvous):
    out = ctypes.c_void_p()
    _native.check(getattr(_native.lib(), fn_name)(_native.text(_native.rendezvous_dir(rendezvous)), ctypes.byref(out)))
    return json.loads(_native.take_string(out))


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def status(args):
    s = _call("deisa_status", args.rendezvous)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    world = s["world_size"]
    print(f"world: {len(s['connected_ranks'])}/{world if world is not None else '?'} ranks connected"
          + (f", closed: {s['closed_ranks']}" if s["closed_ranks"] else "")
          + (f", lost: {s['lost_ranks']}" if s["lost_ranks"] else ""))
    print(f"last processed timestep: {s['last_processed']}; pending timesteps: {s['pending_timesteps']}"
          f" (max_simulation_ahead={s['max_simulation_ahead']})")
    for a in s["arrays"]:
        chunks = " x ".join(str(len(c)) for c in a["chunks"])
        print(f"array {a['name']}: shape {tuple(a['global_shape'])}, {chunks} blocks, dtype {a['dtype']}, "
              f"last received timestep {a['last_received']}")
    nodes = s.get("nodes")
    if not nodes:
        print("shared memory pool: " + _pool(s["pool"]))
    for n in nodes or []:
        ranks = ", ".join(map(str, n["ranks"])) or "none"
        print(f"node {n['node']} {n['host']} (Dask worker {n['worker']}): ranks {ranks}; "
              + (f"LOST: {n['lost']}" if n["lost"] else
                 "shared memory pool: " + (_pool(n["pool"]) if n["pool"] else "not reported yet")))
    return 0


def _pool(p):
    return (f"{_size(p['in_use'])} in use by {p['blocks']} blocks, {_size(p['allocated'])} allocated "
            f"in {p['segments']} segments, budget {_size(p['budget'])}, {p['waiting_sends']} sends waiting")


def dashboard(args):
    """Serves the live run's dashboard until interrupted (Ctrl-C, SIGTERM)."""
    from .dashboard import Dashboard

    board = Dashboard.open(args.rendezvous, args.address if args.address is not None else args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"deisa: dashboard at {board.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        board.close()
    return 0


def cleanup(args):
    removed = _call("deisa_cleanup", args.rendezvous)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} leftover file(s) removed")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="deisa", description="Deisa: in situ analytics of MPI simulations.")
    parser.add_argument("--lib-path", action="store_true", help="print the path of libdeisa.so")
    parser.add_argument("--include-dir", action="store_true",
                        help="print the directory holding deisa.h, deisa.f90 and fortran/deisa.mod")
    parser.add_argument("--cmake-dir", action="store_true",
                        help="print the directory of DeisaConfig.cmake (Deisa_DIR for find_package(Deisa))")
    parser.add_argument("--pkgconfig-dir", action="store_true",
                        help="print the directory of deisa.pc and deisa-fortran.pc (for PKG_CONFIG_PATH)")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("status", help="show the live run of a rendezvous directory")
    p.add_argument("--rendezvous", help="rendezvous directory (default: $DEISA_RENDEZVOUS or .deisa)")
    p.add_argument("--json", action="store_true", help="print the raw status as JSON")
    p.set_defaults(func=status)
    p = sub.add_parser("dashboard", help="serve the live run's dashboard (a web page) until interrupted")
    p.add_argument("--rendezvous", help="rendezvous directory (default: $DEISA_RENDEZVOUS or .deisa)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, default=None, help="loopback port (default: a free one)")
    where.add_argument("--address", help="HOST:PORT to listen on (another host than loopback must be given here)")
    p.set_defaults(func=dashboard)
    p = sub.add_parser("cleanup", help="remove shared memory and rendezvous files left by dead runs")
    p.add_argument("--rendezvous", help="rendezvous directory (default: $DEISA_RENDEZVOUS or .deisa)")
    p.set_defaults(func=cleanup)
    args = parser.parse_args(argv)
    if args.lib_path:
        print(_native.library_path())
        return 0
    package = Path(__file__).resolve().parent
    for wanted, path in ((args.include_dir, package / "include"), (args.cmake_dir, package / "lib" / "cmake" / "Deisa"),
                         (args.pkgconfig_dir, package / "lib" / "pkgconfig")):
        if wanted:
            print(path)
            return 0
    if not args.command:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (RuntimeError, ValueError, ConnectionError, TimeoutError) as e:
        print(f"deisa: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
