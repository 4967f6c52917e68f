"""DeisaArray: the Dask array of one array at one timestep, read in place from shared memory."""

import weakref

import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from ._native import memory


class DeisaArray(da.Array):
    """A ``dask.array.Array`` holding one array at one timestep.

    ``.t`` / ``.timestep`` give the timestep; the Dask name contains the array name
    and timestep, so arrays of different timesteps combine in one expression. Blocks
    on this node are read-only numpy views of shared memory, kept alive by the array.
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


def block_view(address, nbytes, dtype, shape, order, release):
    """A read-only numpy view of a block in shared memory; ``release`` runs when no view of it is left.

    The finalizer sits on the one array made over the memory: numpy views derived
    from it keep it alive (their ``base`` chain stops at it), so the block's lease
    lasts exactly as long as any view of the block.
    """
    block = np.ndarray(shape, dtype, buffer=memory(address, nbytes), order=order)
    weakref.finalize(block, release)
    return block


def assemble(name, timestep, dtype, chunks, blocks, session, preprocess=None, tag=""):
    """A DeisaArray from the block views of one (array, timestep).

    ``blocks`` maps grid positions to numpy arrays. ``preprocess`` is applied to every
    block first; block shapes after it decide the chunks.
    """
    if preprocess is not None:
        blocks = {pos: np.asarray(preprocess(b)) for pos, b in blocks.items()}
        chunks = _chunks_of(blocks, len(chunks))
        first = next(iter(blocks.values()))
        dtype = first.dtype
    key = f"{name}-t{timestep}-{session}{tag}"
    layer = {(key,) + tuple(pos): b for pos, b in blocks.items()}
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
