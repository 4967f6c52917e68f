"""Arrays built ahead of their timestep, while the analytics waits for it."""

from .array import Block, BlockTable, assemble


def table_of(layout, session):
    """An empty block table for one timestep of an array of run ``session``, and its blocks by grid position."""
    table = BlockTable(layout.dtype, layout.ndim, session)
    return table, {pos: Block(table, i) for i, pos in enumerate(layout.positions)}


class _Built:
    """An array built ahead of its timestep, its blocks not yet placed."""

    __slots__ = ("timestep", "layout", "table", "blocks", "array")

    def __init__(self, timestep, layout, table, blocks, array):
        self.timestep, self.layout, self.table, self.blocks, self.array = timestep, layout, table, blocks, array


class ArraysAhead:
    """For every array a callback reads as it is (without preprocessing), its Dask array of the
    timestep expected next (the last one plus the last stride, same layout), built while the
    analytics is idle: Dask's array constructor costs hundreds of microseconds right after an
    idle pause, more than the rest of the path from a rank's send to the callback. When that
    timestep's event comes, placing the blocks is all that is left to do.
    """

    def __init__(self, names, session):
        self._names = set(names)  # the arrays built ahead
        self._session = session
        self._latest = {}  # name -> the last array event's (timestep, stride, ArrayLayout)
        self._built = {}   # name -> _Built, for the timestep expected next

    def take(self, layout, t):
        """The table, blocks and (if it was built ahead) array for ``layout``'s array at ``t``."""
        name = layout.name
        built = self._built.pop(name, None)
        last = self._latest.get(name)
        self._latest[name] = (t, t - last[0] if last is not None and t > last[0] else 1, layout)
        if built is not None and built.timestep == t and built.layout is layout:
            return built.table, built.blocks, built.array
        return (*table_of(layout, self._session), None)

    def build(self):
        """Builds the arrays of the timesteps expected next that are not built yet."""
        for name, (t, stride, layout) in self._latest.items():
            built = self._built.get(name)
            if (built is not None and built.timestep == t + stride) or name not in self._names:
                continue
            table, blocks = table_of(layout, self._session)
            array = assemble(name, t + stride, layout.dtype, layout.chunks, blocks, self._session)
            self._built[name] = _Built(t + stride, layout, table, blocks, array)

    def clear(self):
        self._built.clear()
