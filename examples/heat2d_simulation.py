"""A 2-D heat-equation simulation with mpi4py that hands its field to Deisa every timestep.

The global grid is split over the ranks with a 2-D Cartesian decomposition
(``MPI.Compute_dims``; blocks may differ in size by one cell when the grid does not
divide evenly). Each rank advances its block with an explicit 5-point stencil,
exchanging one-cell halos with its neighbours through ``Sendrecv``. A few heaters
warm the plate, the plate loses heat to the ambient (0 degrees) and its edges are
held at 0 degrees.

Every timestep the rank sends its block as ``temperature`` and reads the analytics'
``cooling`` feedback, a factor applied to the heaters' power.

    mpirun -np 4 python heat2d_simulation.py --steps 150 --size 256
"""

import argparse

import numpy as np
from mpi4py import MPI

from deisa import Bridge

# Heaters as (row, column, radius) in fractions of the plate's sides. The central one straddles
# the blocks of all ranks of a 2x2 decomposition, so the halo exchange shows in the plot.
HEATERS = ((0.5, 0.5, 0.06), (0.25, 0.7, 0.04), (0.72, 0.25, 0.05))
HEATER_POWER = 0.5   # degrees per stencil iteration at a heater's centre
LOSS = 2e-3          # fraction of its temperature a cell loses to the ambient per iteration
DIFFUSION = 0.2      # alpha * dt / dx**2; the explicit scheme is stable up to 0.25


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=150, help="timesteps sent to the analytics (default 150)")
    p.add_argument("--size", type=int, nargs="+", default=[256], metavar="N",
                   help="global grid size: N (square) or NY NX (default 256)")
    p.add_argument("--substeps", type=int, default=10,
                   help="stencil iterations between two timesteps sent (default 10)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for the analytics (default 300)")
    args = p.parse_args()
    if len(args.size) not in (1, 2):
        p.error("--size takes one or two numbers")
    args.shape = tuple(args.size) * 2 if len(args.size) == 1 else tuple(args.size)
    return args


def split(n, parts, index):
    """Size and offset of block ``index`` when ``n`` cells are split into ``parts`` near-equal blocks."""
    base, extra = divmod(n, parts)
    size = base + (index < extra)
    offset = index * base + min(index, extra)
    return size, offset


def heater_source(shape, offset, global_shape):
    """Heater power per cell of this block: round Gaussian spots placed relative to the global plate."""
    rows = np.arange(offset[0], offset[0] + shape[0])[:, None]
    cols = np.arange(offset[1], offset[1] + shape[1])[None, :]
    scale = min(global_shape)  # radii are fractions of the shorter side
    source = np.zeros(shape)
    for r, c, radius in HEATERS:
        d2 = (rows - r * global_shape[0]) ** 2 + (cols - c * global_shape[1]) ** 2
        source += np.exp(-d2 / (2 * (radius * scale) ** 2))
    return HEATER_POWER * source


def exchange_halos(cart, u):
    """Fill the one-cell ghost frame of ``u`` from the four neighbours (MPI.PROC_NULL at the plate's edges)."""
    north, south = cart.Shift(0, 1)
    west, east = cart.Shift(1, 1)
    # Rows are contiguous in memory: send and receive in place.
    cart.Sendrecv(u[-2, 1:-1], dest=south, recvbuf=u[0, 1:-1], source=north)
    cart.Sendrecv(u[1, 1:-1], dest=north, recvbuf=u[-1, 1:-1], source=south)
    # Columns are strided: go through contiguous buffers. A ghost column with no
    # neighbour is never written, so it keeps the fixed edge temperature (0).
    recv = np.empty(u.shape[0] - 2)
    for send_col, dest, recv_col, source in ((-2, east, 0, west), (1, west, -1, east)):
        cart.Sendrecv(np.ascontiguousarray(u[1:-1, send_col]), dest=dest, recvbuf=recv, source=source)
        if source != MPI.PROC_NULL:
            u[1:-1, recv_col] = recv


def advance(cart, u, source, heating, iterations):
    """``iterations`` explicit Euler steps of du/dt = laplacian(u) + heating * source - loss * u."""
    inner = u[1:-1, 1:-1]
    for _ in range(iterations):
        exchange_halos(cart, u)
        laplacian = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * inner
        inner += DIFFUSION * laplacian + heating * source - LOSS * inner


def main():
    args = parse_args()
    comm = MPI.COMM_WORLD
    dims = MPI.Compute_dims(comm.Get_size(), 2)
    if any(d > n for d, n in zip(dims, args.shape)):
        raise SystemExit(f"a {dims[0]}x{dims[1]} decomposition does not fit a {args.shape} grid")
    cart = comm.Create_cart(dims, periods=(False, False))
    coords = cart.Get_coords(cart.Get_rank())
    (ny, y0), (nx, x0) = (split(n, d, c) for n, d, c in zip(args.shape, dims, coords))

    u = np.zeros((ny + 2, nx + 2))  # with the ghost frame
    source = heater_source((ny, nx), (y0, x0), args.shape)
    heating = 1.0
    if cart.Get_rank() == 0:
        print(f"simulation: {args.shape[0]}x{args.shape[1]} plate on {cart.Get_size()} ranks "
              f"({dims[0]}x{dims[1]} blocks), {args.steps} timesteps", flush=True)

    metadata = {"temperature": {"global_shape": args.shape, "chunk_shape": (ny, nx), "chunk_position": coords}}
    with Bridge(cart, metadata, timeout=args.timeout) as bridge:
        for t in range(args.steps):
            bridge.send("temperature", u[1:-1, 1:-1], t)
            # send(t) returned, so the callbacks of t-1 have finished (max_simulation_ahead=1)
            # and their feedback is there. Every rank gets the same answer.
            factor = bridge.get("cooling", t - 1, default=None)
            if factor is not None and factor != heating:
                if cart.Get_rank() == 0:
                    what = "cooling" if factor < heating else "heating again"
                    print(f"simulation: timestep {t}: feedback for timestep {t - 1}: {what}, "
                          f"heater power x{factor:g}", flush=True)
                heating = factor
            advance(cart, u, source, heating, args.substeps)
    if cart.Get_rank() == 0:
        print(f"simulation: done, {args.steps} timesteps sent", flush=True)


if __name__ == "__main__":
    main()
