"""Testing analytics without MPI: ranks of a Python simulation started as plain processes.

A simulation written for ``mpirun`` takes its communicator from mpi4py; the same program can
run its ranks as plain processes with :class:`Comm` standing in for the communicator::

    # sim.py
    from deisa import Bridge
    from deisa.testing import Comm
    comm = Comm.from_argv()          # python sim.py RANK SIZE
    with Bridge(comm, {...}) as bridge:
        ...

    # test_analytics.py
    from deisa import Deisa
    from deisa.testing import start_ranks
    ranks = start_ranks("sim.py", 4)
    d = Deisa()
    ...
    d.execute_callbacks()
    assert all(p.wait() == 0 for p in ranks)

Deisa needs no MPI of its own: a bridge only asks its communicator for its rank and the size of
the world.
"""

import os
import subprocess
import sys

__all__ = ["Comm", "start_ranks"]


class Comm:
    """Stands in for an MPI communicator: rank ``rank`` of a world of ``size`` ranks."""

    def __init__(self, rank, size):
        if isinstance(rank, bool) or isinstance(size, bool) or not (isinstance(rank, int) and isinstance(size, int)):
            raise TypeError(f"rank and size must be ints, got {rank!r} and {size!r}")
        if not 0 <= rank < size:
            raise ValueError(f"rank {rank} is outside a world of {size} ranks")
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    @classmethod
    def from_argv(cls, argv=None):
        """The communicator of a rank started by :func:`start_ranks`: ``program RANK SIZE ...``."""
        argv = sys.argv if argv is None else argv
        if len(argv) < 3:
            raise ValueError(f"{argv[0] if argv else 'the program'} expects RANK SIZE as its first arguments")
        return cls(int(argv[1]), int(argv[2]))

    def __repr__(self):
        return f"Comm(rank={self.rank}, size={self.size})"


def start_ranks(program, size, args=(), *, ranks=None, env=None, cwd=None, python=None, **popen):
    """Starts the ranks of a Python simulation as processes: each runs ``python program RANK
    SIZE *args``. ``ranks`` (default: all of ``range(size)``) may leave some ranks out, to test
    what happens when they never come. Returns the processes (``subprocess.Popen``); other
    keyword arguments go to ``Popen`` (e.g. ``stdout=subprocess.PIPE, text=True``).
    """
    environment = dict(os.environ, **(env or {}))
    return [subprocess.Popen([python or sys.executable, str(program), str(r), str(size), *map(str, args)],
                             env=environment, cwd=cwd, **popen)
            for r in (range(size) if ranks is None else ranks)]
