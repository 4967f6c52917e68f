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
    """For every array a callback reads as it is (without preprocessing), its Dask arrays of the
    timesteps expected next (the last one plus the last stride, and as many more as a
    callback's ``preparation_advance`` asks), built while the analytics is idle: Dask's array
    constructor costs hundreds of microseconds right after an idle pause, more than the rest
    of the path from a rank's send to the callback. When that timestep's event comes, placing
    the blocks is all that is left to do; a preparation made on the array reads them then.
    """

    def __init__(self, depths, session):
        self._depths = dict(depths)  # name -> how many timesteps ahead to build (arrays read as they are)
        self._session = session
        self._latest = {}  # name -> the last array event's (timestep, stride, ArrayLayout)
        self._built = {}   # name -> {timestep: _Built}

    def take(self, layout, t):
        """The table, blocks and (if it was built ahead) array for ``layout``'s array at ``t``."""
        name = layout.name
        built_of = self._built.get(name)
        built = None
        if built_of:
            built = built_of.pop(t, None)
            for old in [tt for tt in built_of if tt <= t]:  # timesteps that did not come
                del built_of[old]
        last = self._latest.get(name)
        self._latest[name] = (t, t - last[0] if last is not None and t > last[0] else 1, layout)
        if built is not None and built.layout is layout:
            return built.table, built.blocks, built.array
        return (*table_of(layout, self._session), None)

    def build(self):
        """Builds the arrays of the timesteps expected next that are not built yet; returns
        the ones built now as (name, timestep, array)."""
        made = []
        for name, (t, stride, layout) in self._latest.items():
            depth = self._depths.get(name)
            if not depth:
                continue
            built_of = self._built.setdefault(name, {})
            for j in range(1, depth + 1):
                tj = t + j * stride
                if tj in built_of and built_of[tj].layout is layout:
                    continue
                table, blocks = table_of(layout, self._session)
                array = assemble(name, tj, layout.dtype, layout.chunks, blocks, self._session)
                built_of[tj] = _Built(tj, layout, table, blocks, array)
                made.append((name, tj, array))
        return made

    def clear(self):
        self._built.clear()
