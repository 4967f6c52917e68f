"""Deisa on a Dask distributed cluster (docs/specification.md §5).

Every node with simulation ranks runs one deisa node service inside one of its Dask workers:
it holds the node's shared memory, serves the node's ranks and tells the head where each block
lies. Start it with the worker plugin, in one of two ways:

- ``dask worker --preload deisa.distributed tcp://scheduler:8786`` (batch scripts), or
- nothing at all: ``Deisa(scheduler=...)`` registers :class:`NodePlugin` on the running workers.

Either way the service watches the rendezvous directory (``$DEISA_RENDEZVOUS`` or ``.deisa`` in
the worker's directory, as for the ranks) for a cluster run; several workers of one node elect
one service per run. The analytics' tasks that read a block then run on the worker holding it
(:func:`compute_placed`), which reads it in place.
"""

import ctypes
import json
import logging
import threading
import weakref

import numpy as np

from . import _native
from ._abi import LEASE_NODE_SHIFT, ORDERS
from .errors import NodeLost

logger = logging.getLogger("deisa")

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # the package works without distributed; the plugin needs it
    WorkerPlugin = object

_node_lock = threading.Lock()
_node = None  # this worker process's node service: (handle, rendezvous directory)


def start_node_service(worker_address, rendezvous=None):
    """Starts this process's node service for the worker at ``worker_address`` (once per
    process: a second call with the same directory does nothing). Returns its handle."""
    global _node
    directory = _native.rendezvous_dir(rendezvous)
    with _node_lock:
        if _node is not None:
            if _node[1] != directory:
                raise RuntimeError(f"this worker's deisa node service already watches {_node[1]}, not {directory}")
            return _node[0]
        h = _native.handle()
        _native.check(_native.lib().deisa_node_open(directory.encode(), str(worker_address).encode(), ctypes.byref(h)))
        _node = (h.value, directory)
        logger.info("deisa node service started in worker %s (rendezvous %s)", worker_address, directory)
        return h.value


def stop_node_service():
    """Stops this process's node service, if any (its node's shared memory is removed)."""
    global _node
    with _node_lock:
        node, _node = _node, None
    if node is not None:
        _native.lib().deisa_node_free(node[0])


def node_state():
    """What this process's node service does: {"state", "session", "node"}, or None without one."""
    with _node_lock:
        node = _node
    if node is None:
        return None
    out = ctypes.c_void_p()
    _native.check(_native.lib().deisa_node_state(node[0], ctypes.byref(out)))
    return json.loads(_native.take_string(out))


class NodePlugin(WorkerPlugin):
    """The Dask worker plugin that runs the deisa node service in each worker."""

    name = "deisa-node"

    def __init__(self, rendezvous=None):
        self.rendezvous = None if rendezvous is None else _native.rendezvous_dir(rendezvous)

    def setup(self, worker):
        start_node_service(worker.address, self.rendezvous)

    def teardown(self, worker):
        stop_node_service()


def dask_setup(worker):
    """Entry point of ``dask worker --preload deisa.distributed``."""
    start_node_service(worker.address)


def dask_teardown(worker):
    stop_node_service()


# ---------------------------------------------------------------- blocks read on their node

class NodeBlock:
    """A block held by a cluster node, as a task reads it on that node's worker: the run, the
    block's lease (its node in the high bits) and how to view its bytes."""

    __slots__ = ("session", "lease", "nbytes", "dtype", "shape", "order")

    def __init__(self, session, lease, nbytes, dtype, shape, order):
        self.session, self.lease, self.nbytes = session, lease, nbytes
        self.dtype, self.shape, self.order = dtype, shape, order

    @property
    def deisa_node(self):
        """The index of the node holding the block (where a task reading it must run)."""
        return self.lease >> LEASE_NODE_SHIFT

    def data(self):
        """The block as a read-only numpy array over the node's shared memory (in this worker,
        which must be the one serving the block's node)."""
        with _node_lock:
            node = _node
        if node is None:
            raise RuntimeError(f"a block of node {self.deisa_node} was read in a process without a deisa node service: "
                               "its task did not run on the node's worker")
        lib = _native.lib()
        session = self.session.encode()
        address, nbytes = ctypes.c_void_p(), ctypes.c_int64()
        _native.check(lib.deisa_node_read_block(node[0], session, self.lease, ctypes.byref(address), ctypes.byref(nbytes)))
        view = np.ndarray(self.shape, self.dtype, order=ORDERS[self.order], buffer=_native.memory(address.value, nbytes.value))
        weakref.finalize(view, lib.deisa_node_release_block, node[0], session, self.lease)
        return view

    def __reduce__(self):
        return NodeBlock, (self.session, self.lease, self.nbytes, self.dtype, self.shape, self.order)

    def __repr__(self):
        return f"NodeBlock(node={self.deisa_node}, lease={self.lease}, nbytes={self.nbytes})"


# ---------------------------------------------------------------- the analytics' computes

class Placer:
    """Runs the analytics' computes on Dask distributed, every task on the worker the core's
    partitioner chose (a block-reading task on the worker of the node that holds its block);
    fails with :class:`NodeLost` when a node of the run is lost instead of waiting for it
    forever. ``pinned`` maps each block-reading task placed in the run to its worker."""

    POLL_S = 0.2

    def __init__(self, client, run_handle):
        self.client = client
        self.handle = run_handle
        self.pinned = {}    # key -> worker, for every block-reading task placed in this run

    def nodes(self):
        out = ctypes.c_void_p()
        _native.check(_native.lib().deisa_analytics_nodes(self.handle, ctypes.byref(out)))
        return json.loads(_native.take_string(out))

    def _raise_lost(self):
        lost = [n["lost"] for n in self.nodes() if n["lost"]]
        if lost:
            raise NodeLost("; ".join(lost))

    def get(self, dsk, keys, deisa_partitioning="greedy", deisa_seed=0, **kwargs):
        """A Dask scheduler ``get``: the graph as ``dask.compute`` hands it (optimised, fused).
        Every task is placed on a node's worker by the core's partitioner (deisa.partition):
        a block-reading task on its block's node, the others as ``deisa_partitioning`` says
        ("greedy": where most of their input bytes are; "random", with ``deisa_seed``)."""
        from dask.core import flatten
        from dask.highlevelgraph import HighLevelGraph, MaterializedLayer
        from distributed import wait

        from .partition import graph_arrays, partition_arrays

        if isinstance(dsk, HighLevelGraph):
            dsk = dict(dsk)
        graph = graph_arrays(dsk)
        nodes = sorted((n["node"], n["worker"]) for n in self.nodes() if not n["lost"])
        if not nodes:
            self._raise_lost()
            raise NodeLost("the run has no node service: start the Dask workers with the deisa plugin")
        compact = {index: i for i, (index, _) in enumerate(nodes)}
        pinned = graph.pinned
        for j, node in enumerate(pinned):
            if node >= 0:
                if node not in compact:
                    self._raise_lost()
                    raise NodeLost(f"task {graph.keys[j]!r} reads a block of node {node}, which the run does not know")
                pinned[j] = compact[node]
        placement, _ = partition_arrays(graph, len(nodes), deisa_partitioning, deisa_seed)
        by_worker = {}
        for j, key in enumerate(graph.keys):
            worker = nodes[placement[j]][1]
            by_worker.setdefault(worker, {})[key] = dsk[key]
            if pinned[j] >= 0:
                self.pinned[key] = worker
        layers = {f"deisa-{i}-{id(dsk)}": MaterializedLayer(tasks, annotations={"workers": [worker], "allow_other_workers": False})
                  for i, (worker, tasks) in enumerate(by_worker.items())}
        graph = HighLevelGraph(layers, {name: set() for name in layers})
        futures = self.client.get(graph, keys, sync=False)
        flat = list(flatten(futures)) if isinstance(futures, (list, tuple)) else [futures]
        try:
            while True:
                try:
                    wait(flat, timeout=self.POLL_S)
                    break
                except Exception as e:  # noqa: BLE001 - the wait's timeout (its class differs across versions)
                    if "Timeout" not in type(e).__name__:
                        raise
                # Dask waits forever for a lost worker that held pinned tasks: the head tells.
                self._raise_lost()
            return self.client.gather(futures)
        except Exception:
            self.client.cancel(flat)
            self._raise_lost()  # a task that failed because its node went away: say so
            raise


def local_address_towards(scheduler_address):
    """The address of this host on the network that reaches ``scheduler_address`` (where the
    nodes and ranks can reach the analytics), as 'tcp://ip:0'."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler_address if "://" in scheduler_address else "tcp://" + scheduler_address)
    host = parts.hostname or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect((host, parts.port or 8786))  # no packet is sent: the route picks the address
        ip = s.getsockname()[0]
    return f"tcp://[{ip}]:0" if family == socket.AF_INET6 else f"tcp://{ip}:0"
