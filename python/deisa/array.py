"""DeisaArray: the Dask array of one array at one timestep, read in place from shared memory."""

import os
import struct
import threading
import weakref

import dask
import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from ._abi import LEASE_NODE_SHIFT, ORDERS
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

    @classmethod
    def _like(cls, graph, name, array_name, timestep, chunks, meta, annotations):
        """The array of ``graph``'s layer ``name`` with the chunks, meta and layer annotations
        of one the constructor built for another timestep of the same array (see ``_ArraysLike``)."""
        self = object.__new__(cls)
        self.dask = graph
        self._name = name
        self._chunks = chunks
        self._meta = meta
        graph.layers[name].collection_annotations = None if annotations is None else dict(annotations)
        self.t = timestep
        self.array_name = array_name
        return self

    def __dask_postpersist__(self):
        return self._rebuild_deisa, ()

    def _rebuild_deisa(self, dsk, *, rename=None):
        name = self.name if rename is None else rename.get(self.name, self.name)
        return DeisaArray(dsk, name, self.chunks, self.dtype, self._meta, timestep=self.t, array_name=self.array_name)

    def to_hdf5(self, path, dataset, **kwargs):
        """Write this array to ``dataset`` in the HDF5 file ``path`` (on a cluster, each node
        writes its own blocks into the one file)."""
        to_hdf5(path, {dataset: self}, **kwargs)

    def to_zarr(self, *args, **kwargs):
        """Write this array to a Zarr store (``dask.array.to_zarr``).

        Zarr needs regular chunks; blocks of unequal sizes (e.g. 34, 33, 33) are rechunked to
        the largest block size of each dimension first.
        """
        arr = self
        if any(len(set(c[:-1])) > 1 or (len(c) > 1 and c[-1] > c[0]) for c in self.chunks):
            arr = self.rechunk(tuple(max(c) for c in self.chunks))
        return da.to_zarr(arr, *args, **kwargs)

    def to_xarray(self, dims=None, coords=None, attrs=None, name=None, **kwargs):
        """An ``xarray.DataArray`` over this array (lazy: its data stay this Dask array).

        ``dims`` name the dimensions (default ``dim_0``, ``dim_1``, ...); ``coords`` are
        xarray's coordinates (e.g. ``{"x": xs}``, or a coordinate per dimension name); the
        timestep is a scalar coordinate ``timestep``, so the arrays of a window concatenate
        along time (:func:`deisa.to_xarray`). ``attrs`` add to the array's own: ``timestep``,
        ``deisa_array`` (its name) and ``deisa_chunks`` (its blocks' sizes per dimension).
        Other keyword arguments go to ``xarray.DataArray``.
        """
        import xarray as xr

        merged = {"timestep": self.t, "deisa_array": self.array_name,
                  "deisa_chunks": " x ".join(",".join(map(str, c)) for c in self.chunks)}
        merged.update(attrs or {})
        coords = dict(coords or {})
        coords.setdefault("timestep", self.t)
        return xr.DataArray(self, dims=dims, coords=coords, name=name or self.array_name, attrs=merged, **kwargs)

    def to_netcdf(self, path, dims=None, coords=None, attrs=None, **kwargs):
        """Write this array to a NetCDF file with xarray (``DataArray.to_netcdf``), with
        :meth:`to_xarray`'s dims, coordinates and attributes.

        On a cluster (Dask distributed), where xarray's open file cannot travel to the
        workers, xarray writes the file without the array's values here, then every block is
        written by a task on its node (netCDF4), one writer at a time, as :func:`to_hdf5` does.
        """
        x = self.to_xarray(dims=dims, coords=coords, attrs=attrs)
        path = os.path.abspath(os.fspath(path))
        if not _on_cluster():
            return x.to_netcdf(path, **kwargs)
        import dask

        x.to_netcdf(path, compute=False, **kwargs)  # the file, its coordinates and attributes; no values
        dask.compute(self.map_blocks(_write_netcdf_block, path=path, variable=x.name, dtype=bool,
                                     chunks=tuple((1,) * len(c) for c in self.chunks),
                                     meta=np.empty((0,) * self.ndim, bool)))


def to_xarray(arrays, dims=None, coords=None, attrs=None, name=None):
    """One ``xarray.DataArray`` of several timesteps of an array (a callback's window, oldest
    first), along a leading ``timestep`` dimension; each as :meth:`DeisaArray.to_xarray`."""
    import xarray as xr

    arrays = list(arrays)
    if not arrays:
        raise ValueError("to_xarray needs at least one array")
    if len({a.shape for a in arrays}) > 1:
        raise ValueError(f"arrays of different shapes cannot be stacked over time: {[a.shape for a in arrays]}")
    parts = [a.to_xarray(dims=dims, coords=coords, attrs=attrs, name=name) for a in arrays]
    stacked = xr.concat(parts, dim="timestep")
    stacked.attrs.pop("timestep", None)  # a coordinate now, one per timestep
    return stacked


def to_hdf5(path, arrays, **kwargs):
    """Write several arrays to one HDF5 file: ``to_hdf5("out.h5", {"/temperature": arr})``.

    With Dask's threaded scheduler this is ``dask.array.to_hdf5``. On a cluster (Dask
    distributed), where an open HDF5 dataset cannot travel to the workers, the datasets are
    created here and every block is written by a task next to it (on its node), which opens
    the file, writes its region and closes it, one writer at a time (a ``distributed.Lock``
    on the file). Either way the result is one ordinary HDF5 file.
    """
    arrays = dict(arrays)
    if not _on_cluster():
        da.to_hdf5(path, arrays, **kwargs)
        return
    import dask
    import h5py

    path = os.path.abspath(os.fspath(path))
    with h5py.File(path, "a") as f:
        for name, x in arrays.items():
            f.require_dataset(name, shape=x.shape, dtype=x.dtype,
                              chunks=tuple(c[0] for c in x.chunks) if all(x.chunks) else True, **kwargs)
    writes = [x.map_blocks(_write_hdf5_block, path=path, dataset=name, dtype=bool,
                           chunks=tuple((1,) * len(c) for c in x.chunks), meta=np.empty((0,) * x.ndim, bool))
              for name, x in arrays.items()]
    dask.compute(*writes)


def _on_cluster():
    """Whether computes go to Dask distributed now (a deisa cluster run's callbacks, or a
    distributed client set as the scheduler)."""
    import dask

    get = dask.config.get("scheduler", None)
    owner = getattr(get, "__self__", None)
    return owner is not None and type(owner).__name__ in ("Placer", "Client")


def _write_hdf5_block(block, path, dataset, block_info=None):
    """Writes one block into its region of ``dataset`` in ``path`` (a task, on the block's node)."""
    import h5py

    region = tuple(slice(a, b) for a, b in block_info[0]["array-location"])
    with _file_lock(path):
        with h5py.File(path, "r+") as f:
            f[dataset][region] = block
    return np.ones((1,) * block.ndim, bool)


def _write_netcdf_block(block, path, variable, block_info=None):
    """Writes one block into its region of ``variable`` in the NetCDF file ``path`` (a task, on the block's node)."""
    import netCDF4

    region = tuple(slice(a, b) for a, b in block_info[0]["array-location"])
    with _file_lock(path):
        with netCDF4.Dataset(path, "r+") as f:
            f.variables[variable][region] = block
    return np.ones((1,) * block.ndim, bool)


def _file_lock(path):
    """One writer of ``path`` at a time: across the cluster in a Dask worker, else in this process."""
    try:
        from distributed import Lock, get_worker

        get_worker()
        return Lock(f"deisa-write-{path}")
    except (ImportError, ValueError):
        return _LOCAL_FILE_LOCK


class BlockTable:
    """Where the blocks of one array at one timestep lie: a row per block, as the core's array
    event gives it (int64 lease, address, nbytes, rank, order, shape[ndim]; see deisa.h).

    A table exists before its timestep comes (for an array built ahead); ``place`` fills it
    when the array's event comes, which is all the work that event costs. Each block reads
    its row when first needed.
    """

    __slots__ = ("dtype", "ndim", "session", "rows", "release", "_row")

    def __init__(self, dtype, ndim, session=None):
        self.dtype, self.ndim, self.session = dtype, ndim, session
        self.rows = None  # not placed yet
        self.release = None
        self._row = _ROWS.get(ndim) or _ROWS.setdefault(ndim, struct.Struct(f"=5q{ndim}q"))

    def place(self, rows, release):
        """The blocks' rows; ``release(lease)`` gives a block's lease back."""
        self.rows, self.release = rows, release

    def row(self, index):
        """(lease, address, nbytes, rank, order, *shape) of block ``index``."""
        return self._row.unpack_from(self.rows, index * self._row.size)


_ROWS = {}  # ndim -> struct.Struct of a row


class Block:
    """One block of an array at one timestep, as the array's Dask graph holds it: its row in
    the timestep's :class:`BlockTable` (where it lies in shared memory, and the lease that
    keeps it there).

    Its read-only numpy view is made when a task first reads it, so that a callback pays
    only for the blocks it reads. The lease is given back when neither the block (the
    graph holding it) nor any view of it is left: at the block's end, or, if a view was
    made, when the last view goes (numpy views derived from it keep it alive: their
    ``base`` chain stops at it).
    """

    __slots__ = ("table", "index", "_view")

    def __init__(self, table, index):
        self.table, self.index = table, index  # no table: a block that is only data
        self._view = None

    @classmethod
    def of(cls, data):
        """A block that is only data (no lease): what a block is once pickled to another process."""
        block = cls(None, -1)
        block._view = data
        return block

    @property
    def lease(self):
        return self.table.row(self.index)[0]

    @property
    def nbytes(self):
        return self.table.row(self.index)[2] if self.table is not None else self._view.nbytes

    @property
    def deisa_node(self):
        """The index of the node holding the block: 0 for the analytics' own node (or a block
        that is only data), else a cluster node, where a task reading it must run."""
        return self.table.row(self.index)[0] >> LEASE_NODE_SHIFT if self.table is not None and self.table.rows is not None else 0

    def holds_lease(self):
        """Whether this block still holds a lease (placed, not given back yet)."""
        return self.table is not None and self.table.rows is not None

    def data(self):
        """The block as a read-only numpy array over its shared memory."""
        view = self._view
        if view is None:
            with _VIEW_LOCK:  # two tasks reading the block at once get one view, one release
                view = self._view
                if view is None:
                    table = self.table
                    lease, address, nbytes, _, order, *shape = table.row(self.index)
                    if not address:
                        raise RuntimeError(f"a block of cluster node {lease >> LEASE_NODE_SHIFT} was read in the analytics' "
                                           "process: on a cluster, blocks are read by tasks on their node's worker")
                    view = self._view = np.ndarray(tuple(shape), table.dtype, order=ORDERS[order],
                                                   buffer=memory(address, nbytes))
        return view

    def __del__(self):
        table, self.table = self.table, None
        if table is None or table.rows is None:
            return  # only data, or never placed
        lease = table.row(self.index)[0]
        if self._view is None:
            table.release(lease)
        else:  # the views outlive the block: the last one gives the lease back
            weakref.finalize(self._view, table.release, lease)

    def __reduce__(self):
        # To another process (Dask distributed's workers) a block travels as its data, or, when
        # a cluster node holds it, as what the task placed on that node needs to read it there.
        if self.deisa_node:
            from .distributed import NodeBlock

            table = self.table
            lease, _, nbytes, _, order, *shape = table.row(self.index)
            return NodeBlock, (table.session, lease, nbytes, table.dtype, tuple(shape), order)
        return Block.of, (self.data(),)


_VIEW_LOCK = threading.Lock()
_LOCAL_FILE_LOCK = threading.Lock()


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
        graph = HighLevelGraph.from_collections(key, layer, dependencies=())
        return _LIKE.array(graph, key, name, timestep, dtype, chunks)
    else:
        data = {pos: np.asarray(preprocess(b.data())) for pos, b in blocks.items()}
        chunks = _chunks_of(data, len(chunks))
        dtype = next(iter(data.values())).dtype
        layer = {(key,) + pos: a for pos, a in data.items()}
    graph = HighLevelGraph.from_collections(key, layer, dependencies=())
    meta = np.empty((0,) * len(chunks), dtype=dtype)
    return DeisaArray(graph, key, tuple(tuple(c) for c in chunks), dtype=dtype, meta=meta,
                      timestep=timestep, array_name=name)


class _ArraysLike:
    """Builds a timestep's DeisaArray like the previous one of the same array (same chunks,
    dtype and meta), without Dask's constructor, which re-derives chunks, meta and the layer's
    annotations each time (about 35 µs warm, and several times that after an idle pause, for
    each array at each timestep). The first array of each layout is built by the constructor,
    which gives what the next ones copy (never the array itself: its graph holds its blocks);
    the second is built both ways once, to check that they give the same array: if they do not
    (another Dask, array plugins configured), every array is built by the constructor.
    """

    MAX = 256  # layouts kept

    def __init__(self):
        self._templates = {}  # (name, dtype, chunks) -> (chunks, meta, layer annotations) of a constructed array
        self.checked = None   # None: not compared yet; True: both ways give the same array

    def array(self, graph, key, name, timestep, dtype, chunks):
        chunks = tuple(tuple(c) for c in chunks)
        layout = (name, np.dtype(dtype).str, chunks)
        template = self._templates.get(layout)
        if template is None or self.checked is False or dask.config.get("array_plugins", None):
            built = _constructed(graph, key, name, timestep, dtype, chunks)
            if len(self._templates) >= self.MAX:
                self._templates.clear()
            annotations = graph.layers[key].collection_annotations
            self._templates[layout] = (built.chunks, built._meta, None if annotations is None else dict(annotations))
            return built
        made = DeisaArray._like(graph, key, name, timestep, *template)
        if self.checked is None:
            other = HighLevelGraph.from_collections(key, dict(graph.layers[key]), dependencies=())
            self.checked = _same_array(made, _constructed(other, key, name, timestep, dtype, chunks))
            if not self.checked:
                return _constructed(graph, key, name, timestep, dtype, chunks)
        return made


def _constructed(graph, key, name, timestep, dtype, chunks):
    meta = np.empty((0,) * len(chunks), dtype=dtype)
    return DeisaArray(graph, key, chunks, dtype=dtype, meta=meta, timestep=timestep, array_name=name)


def _same_array(a, b):
    """Whether two arrays of one timestep, built two ways, are the same to Dask."""
    la, lb = a.dask.layers[a.name], b.dask.layers[b.name]
    return (type(a) is type(b) and a.name == b.name and a.chunks == b.chunks and a.dtype == b.dtype
            and type(a._meta) is type(b._meta) and a._meta.shape == b._meta.shape and a._meta.dtype == b._meta.dtype
            and a.__dask_keys__() == b.__dask_keys__() and la.collection_annotations == lb.collection_annotations
            and a.t == b.t and a.array_name == b.array_name and a.shape == b.shape and a.numblocks == b.numblocks
            and set(a.__dict__) <= set(b.__dict__) | {"t", "array_name"})


_LIKE = _ArraysLike()


def _chunks_of(blocks, ndim):
    chunks = []
    for d in range(ndim):
        sizes = {}
        for pos, b in blocks.items():
            sizes.setdefault(pos[d], b.shape[d])
        chunks.append(tuple(sizes[p] for p in sorted(sizes)))
    return chunks
