"""DeisaArray: the Dask array of one array at one timestep, read in place from shared memory."""

import threading
import weakref

import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from ._native import memory


class DeisaArray(da.Array):
    """A ``dask.array.Array`` holding one array at one timestep.

    ``.t`` / ``.timestep`` give the timestep; the Dask name contains the array name
    and timestep, so arrays of different timesteps combine in one expression. Blocks
    on this node are read as read-only numpy views of shared memory, kept alive by the
    array and by the views.
    """

    def __new__(cls, dask, name, chunks, dtype=None, meta=None, shape=None, *, timestep=None, array_name=None):
        self = super().__new__(cls, dask, name, chunks, dtype=dtype, meta=meta, shape=shape)
        self.t = timestep
        self.array_name = array_name
        return self

    @property
    def timestep(self):
        return self.t

    def __dask_postpersist__(self):
        return self._rebuild_deisa, ()

    def _rebuild_deisa(self, dsk, *, rename=None):
        name = self.name if rename is None else rename.get(self.name, self.name)
        return DeisaArray(dsk, name, self.chunks, self.dtype, self._meta, timestep=self.t, array_name=self.array_name)

    def to_hdf5(self, path, dataset, **kwargs):
        """Write this array to ``dataset`` in the HDF5 file ``path``."""
        da.to_hdf5(path, dataset, self, **kwargs)

    def to_zarr(self, *args, **kwargs):
        """Write this array to a Zarr store (``dask.array.to_zarr``).

        Zarr needs regular chunks; blocks of unequal sizes (e.g. 34, 33, 33) are rechunked to
        the largest block size of each dimension first.
        """
        arr = self
        if any(len(set(c[:-1])) > 1 or (len(c) > 1 and c[-1] > c[0]) for c in self.chunks):
            arr = self.rechunk(tuple(max(c) for c in self.chunks))
        return da.to_zarr(arr, *args, **kwargs)

    def to_xarray(self, dims=None, **kwargs):
        """An ``xarray.DataArray`` over this array, with the timestep in ``attrs``."""
        import xarray as xr

        attrs = dict(kwargs.pop("attrs", {}) or {})
        attrs.setdefault("timestep", self.t)
        return xr.DataArray(self, dims=dims, name=kwargs.pop("name", self.array_name), attrs=attrs, **kwargs)


def to_hdf5(path, arrays, **kwargs):
    """Write several arrays to one HDF5 file: ``to_hdf5("out.h5", {"/temperature": arr})``."""
    da.to_hdf5(path, dict(arrays), **kwargs)


class Block:
    """One block of an array at one timestep, as the array's Dask graph holds it: where the
    block lies in shared memory and the lease that keeps it there.

    Its read-only numpy view is made when a task first reads it, so that a callback pays
    only for the blocks it reads. The lease is given back when neither the block (the
    graph holding it) nor any view of it is left: at the block's end, or, if a view was
    made, when the last view goes (numpy views derived from it keep it alive: their
    ``base`` chain stops at it).
    """

    __slots__ = ("address", "nbytes", "dtype", "shape", "order", "lease", "release", "_view")

    def __init__(self):
        self.address = None  # not placed yet: an array built ahead of its timestep
        self.release = None
        self._view = None

    def place(self, address, nbytes, dtype, shape, order, lease, release):
        """Where the block is; ``release(lease)`` gives the lease back."""
        self.address, self.nbytes, self.dtype, self.shape, self.order = address, nbytes, dtype, shape, order
        self.lease, self.release = lease, release

    @classmethod
    def of(cls, data):
        """A block that is only data (no lease): what a block is once pickled to another process."""
        block = cls()
        block._view = data
        return block

    def data(self):
        """The block as a read-only numpy array over its shared memory."""
        view = self._view
        if view is None:
            with _VIEW_LOCK:  # two tasks reading the block at once get one view, one release
                view = self._view
                if view is None:
                    view = self._view = np.ndarray(self.shape, self.dtype, order=self.order,
                                                   buffer=memory(self.address, self.nbytes))
        return view

    def __del__(self):
        release, self.release = self.release, None
        if release is None:
            return
        if self._view is None:
            release(self.lease)
        else:  # the views outlive the block: the last one gives the lease back
            weakref.finalize(self._view, release, self.lease)

    def __reduce__(self):
        # To another process (Dask distributed's workers) a block travels as its data.
        return Block.of, (self.data(),)


_VIEW_LOCK = threading.Lock()


def read_block(block):
    """The task that reads a block in an array's graph."""
    return block.data()


def assemble(name, timestep, dtype, chunks, blocks, session, preprocess=None, tag=""):
    """A DeisaArray from the blocks of one (array, timestep).

    ``blocks`` maps grid positions to :class:`Block`. ``preprocess`` is applied to every
    block first (reading it); block shapes after it decide the chunks.
    """
    key = f"{name}-t{timestep}-{session}{tag}"
    if preprocess is None:
        layer = {(key,) + pos: (read_block, b) for pos, b in blocks.items()}
    else:
        data = {pos: np.asarray(preprocess(b.data())) for pos, b in blocks.items()}
        chunks = _chunks_of(data, len(chunks))
        dtype = next(iter(data.values())).dtype
        layer = {(key,) + pos: a for pos, a in data.items()}
    graph = HighLevelGraph.from_collections(key, layer, dependencies=())
    meta = np.empty((0,) * len(chunks), dtype=dtype)
    return DeisaArray(graph, key, tuple(tuple(c) for c in chunks), dtype=dtype, meta=meta,
                      timestep=timestep, array_name=name)


def _chunks_of(blocks, ndim):
    chunks = []
    for d in range(ndim):
        sizes = {}
        for pos, b in blocks.items():
            sizes.setdefault(pos[d], b.shape[d])
        chunks.append(tuple(sizes[p] for p in sorted(sizes)))
    return chunks
