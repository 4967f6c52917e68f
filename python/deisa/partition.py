"""On which node each task of a compute runs, on a cluster where every node holds its ranks' blocks.

A Dask compute hands its scheduler's ``get`` the task graph of the compute, already optimised
(culled, with low-level fusion: a block read may sit deep inside a fused task, or inside a
:class:`dask.optimization.SubgraphCallable`). :func:`place` decides where each task of it runs:

- a task that reads a block runs on the node that holds the block ("pinned"). A block is any
  object found anywhere inside a task (argument, nested task, list, dict, a SubgraphCallable's
  inner tasks) with an integer attribute ``deisa_node`` (the node's index) and an integer
  attribute ``nbytes``. A task holding blocks of several nodes runs where most of their bytes
  are (ties: the lowest node index);
- any other task is placed as the compute asks, with ``deisa_partitioning=``:
  ``"greedy"`` (the default) puts it on the node that holds most bytes of its inputs (ties: the
  node with the fewest tasks so far, then the lowest index); ``"random"`` on a node drawn
  uniformly from a seed (``deisa_seed=``, default 0).

The graph is walked here, in Python, into a compact form (:func:`graph_arrays`); the placement
itself runs in the C# core (``deisa_graph_partition`` in deisa.h), linear in tasks and
dependencies. A task's output bytes are estimated as those of its blocks, else as the largest
estimate of its inputs.
"""

import array
import ctypes
import re
import types
from collections.abc import Mapping
from operator import index as _integer

from . import _native
from ._abi import PARTITIONING

__all__ = ["graph_arrays", "place", "partitioning", "GraphArrays", "PlacingGet"]


class GraphArrays:
    """A task graph in the compact form of ``deisa_graph_partition``: task ``i`` is ``keys[i]``;
    it depends on tasks ``deps[dep_start[i]:dep_start[i + 1]]`` (each once); ``pinned[i]`` is
    the node of the blocks it reads or -1, ``nbytes[i]`` their bytes (0: not pinned, to be
    estimated). The number arrays are ``array.array`` (int32, and int64 for nbytes)."""

    __slots__ = ("keys", "dep_start", "deps", "pinned", "nbytes")

    def __init__(self, keys, dep_start, deps, pinned, nbytes):
        self.keys, self.dep_start, self.deps, self.pinned, self.nbytes = keys, dep_start, deps, pinned, nbytes

    def __len__(self):
        return len(self.keys)

    def dependencies(self, i):
        """The keys task ``i`` depends on."""
        return [self.keys[j] for j in self.deps[self.dep_start[i]:self.dep_start[i + 1]]]


# Types of leaves that are never blocks (keys are str, bytes, int, float or tuples of them).
_PLAIN = frozenset({type(None), bool, slice, type(Ellipsis), complex, range, types.FunctionType,
                    types.BuiltinFunctionType, type})
_KEYLIKE = frozenset({str, bytes, int, float})


def _subgraph_callable_type():
    try:
        from dask.optimization import SubgraphCallable
    except ImportError:  # pragma: no cover - dask without it
        return ()
    return SubgraphCallable


def _as_dict(dsk):
    if isinstance(dsk, dict):
        return dsk
    if hasattr(dsk, "layers") and hasattr(dsk, "dependencies"):  # a HighLevelGraph
        from dask.utils import ensure_dict

        return ensure_dict(dsk)
    if isinstance(dsk, Mapping):
        return dict(dsk)
    raise TypeError(f"a task graph is a dict or a HighLevelGraph, not {type(dsk).__name__}")


def _flat_keys(keys):
    out, stack = [], [keys]
    while stack:
        k = stack.pop()
        if type(k) is list:
            stack.extend(reversed(k))
        else:
            out.append(k)
    return out


def _block(leaf):
    """(node, nbytes) of a block leaf (integer ``deisa_node`` and ``nbytes``; numpy integers
    count, bools do not), None for any other object."""
    node = getattr(leaf, "deisa_node", None)
    if node is None or isinstance(node, bool):
        return None
    nbytes = getattr(leaf, "nbytes", None)
    if nbytes is None or isinstance(nbytes, bool):
        return None
    try:
        return _integer(node), _integer(nbytes)
    except TypeError:
        return None


def graph_arrays(dsk, keys=None):
    """The compact form (:class:`GraphArrays`) of a task graph.

    ``dsk``: a dict or a HighLevelGraph, as ``dask.compute`` gives a scheduler's ``get``.
    ``keys``: the keys wanted (nested lists allowed, as ``get`` receives them); then only the
    tasks they need are kept, and a key that is not in the graph is a ``KeyError``. The tasks
    come in the graph's order.

    A task's dependencies are the keys of the graph it names where Dask would read them (as
    :func:`dask.core.get_dependencies` finds them: inside tasks, lists and dict values), each
    once. It is pinned by the blocks found anywhere inside it, literal tuples and a
    SubgraphCallable's inner tasks included (see the module's documentation).
    """
    dsk = _as_dict(dsk)
    wanted = None
    if keys is not None:
        wanted = _flat_keys(keys)
        for k in wanted:
            if k not in dsk:
                raise KeyError(f"key {k!r} is not in the task graph")
    graph, index = _walk(dsk)
    if wanted is None:
        return graph
    # Graphs are mostly culled already (compute does it): walking every task, then keeping
    # those the keys need, is faster than walking from the keys.
    return _needed(graph, [index[k] for k in wanted])


def _walk(dsk):
    """Every task of ``dsk`` in compact form, and the index of each key."""
    subgraph_type = _subgraph_callable_type()
    out_keys = list(dsk)
    n = len(out_keys)
    index = dict(zip(out_keys, range(n)))
    pinned = array.array("i", [-1]) * n
    nbytes = array.array("q", [0]) * n
    dep_start, deps = array.array("i", [0]), array.array("i")
    get_index = index.get
    never = dict.fromkeys(_PLAIN | _KEYLIKE, True)  # type -> no object of it can be a block
    never_get = never.get
    append_dep, append_start = deps.append, dep_start.append
    tuple_, list_, dict_, str_ = tuple, list, dict, str
    i = -1
    # A task's top level is walked inline (most tasks are a function of keys, literals and
    # blocks); nested tasks, lists and dicts go on a stack. Every branch is written out: this
    # loop runs once per object of the graph, and a call per object would double its time.
    for task in dsk.values():
        i += 1
        blocks = None
        first = len(deps)
        if type(task) is tuple_ and task and callable(task[0]):
            if type(task[0]) is subgraph_type:
                blocks = _inner_blocks(task[0], subgraph_type) or None
            args = task[1:]
        else:
            args = (task,)
        stack = None
        for w in args:
            typ = type(w)
            if typ is tuple_:
                if w and callable(w[0]):
                    if stack is None:
                        stack = [w]
                    else:
                        stack.append(w)
                    continue
                try:
                    j = get_index(w)
                except TypeError:  # holds something unhashable (a slice, a list): not a key
                    j = None
                if j is not None:
                    append_dep(j)
                elif w:
                    inner = _literal_blocks(w)
                    if inner:
                        blocks = (blocks or []) + inner
            elif typ is list_ or typ is dict_:
                if stack is None:
                    stack = [w]
                else:
                    stack.append(w)
            elif typ is str_:
                j = get_index(w)
                if j is not None:
                    append_dep(j)
            else:
                nb = never_get(typ)
                if nb is None:
                    nb = never[typ] = _never_a_block(typ)
                if not nb:
                    b = _block(w)
                    if b is not None:
                        blocks = (blocks or []) + [b]
                        continue
                try:
                    j = get_index(w)
                except TypeError:  # not hashable: a literal (numpy array, set, ...)
                    continue
                if j is not None:
                    append_dep(j)
        if stack is not None:
            pop, extend = stack.pop, stack.extend
            while stack:
                w = pop()
                typ = type(w)
                if typ is tuple_:
                    if w and callable(w[0]):
                        if type(w[0]) is subgraph_type:
                            inner = _inner_blocks(w[0], subgraph_type)
                            if inner:
                                blocks = (blocks or []) + inner
                        extend(w[1:])
                        continue
                    try:
                        j = get_index(w)
                    except TypeError:
                        j = None
                    if j is not None:
                        append_dep(j)
                    elif w:
                        inner = _literal_blocks(w)
                        if inner:
                            blocks = (blocks or []) + inner
                elif typ is list_:
                    extend(w)
                elif typ is dict_:
                    extend(w.values())
                elif typ is str_:
                    j = get_index(w)
                    if j is not None:
                        append_dep(j)
                else:
                    nb = never_get(typ)
                    if nb is None:
                        nb = never[typ] = _never_a_block(typ)
                    if not nb:
                        b = _block(w)
                        if b is not None:
                            blocks = (blocks or []) + [b]
                            continue
                    try:
                        j = get_index(w)
                    except TypeError:
                        continue
                    if j is not None:
                        append_dep(j)
        end = len(deps)
        if end - first > 1:  # each dependency once (x + x names x twice)
            mine = deps[first:]
            if len(set(mine)) < end - first:
                del deps[first:]
                deps.extend(dict.fromkeys(mine))
                end = len(deps)
        append_start(end)
        if blocks is not None:
            pinned[i], nbytes[i] = _pin(blocks)
    return GraphArrays(out_keys, dep_start, deps, pinned, nbytes), index


def _needed(graph, roots):
    """The part of ``graph`` that the tasks ``roots`` need (they and, recursively, their
    dependencies), in the graph's order; ``graph`` itself when that is all of it."""
    n = len(graph.keys)
    start, deps = graph.dep_start, graph.deps
    needed = bytearray(n)
    stack = list(roots)
    pop, extend = stack.pop, stack.extend
    while stack:
        t = pop()
        if not needed[t]:
            needed[t] = 1
            extend(deps[start[t]:start[t + 1]])
    if needed.find(0) < 0:
        return graph
    kept = [t for t in range(n) if needed[t]]
    renumbered = array.array("i", [-1]) * n
    for new, t in enumerate(kept):
        renumbered[t] = new
    dep_start, new_deps = array.array("i", [0]), array.array("i")
    for t in kept:
        new_deps.extend([renumbered[d] for d in deps[start[t]:start[t + 1]]])
        dep_start.append(len(new_deps))
    return GraphArrays([graph.keys[t] for t in kept], dep_start, new_deps,
                       array.array("i", [graph.pinned[t] for t in kept]),
                       array.array("q", [graph.nbytes[t] for t in kept]))


def _never_a_block(typ):
    """Whether no object of ``typ`` can be a block: it has no ``deisa_node`` of its own and
    its objects cannot be given one (no instance dict)."""
    return getattr(typ, "__dictoffset__", 0) == 0 and not hasattr(typ, "deisa_node")


def _pin(blocks):
    """The node of a task holding these blocks, and their bytes: one block's node, or the node
    with most of the bytes (ties: the lowest index)."""
    if len(blocks) == 1:
        node, nbytes = blocks[0]
        return node, max(nbytes, 0)
    per_node = {}
    total = 0
    for node, nbytes in blocks:
        nbytes = max(nbytes, 0)
        per_node[node] = per_node.get(node, 0) + nbytes
        total += nbytes
    best = min(per_node, key=lambda k: (-per_node[k], k))
    return best, total


def _literal_blocks(value):
    """Blocks inside a literal (a tuple that is neither a task nor a key): no dependencies are
    read there (Dask does not either), but a block there is still read by the task."""
    found = []
    stack = [value]
    while stack:
        w = stack.pop()
        typ = type(w)
        if typ is tuple or typ is list:
            stack.extend(w)
        elif typ is dict:
            stack.extend(w.values())
        elif typ not in _PLAIN and typ not in _KEYLIKE:
            b = _block(w)
            if b is not None:
                found.append(b)
    return found


def _inner_blocks(subgraph, subgraph_type):
    """Blocks inside a SubgraphCallable's inner tasks (and in nested SubgraphCallables)."""
    found = []
    stack = list(subgraph.dsk.values())
    while stack:
        w = stack.pop()
        typ = type(w)
        if typ is tuple or typ is list:
            stack.extend(w)
        elif typ is dict:
            stack.extend(w.values())
        elif typ is subgraph_type:
            stack.extend(w.dsk.values())
        elif typ not in _PLAIN and typ not in _KEYLIKE:
            b = _block(w)
            if b is not None:
                found.append(b)
    return found


def partitioning(how):
    """The C ABI's code of a partitioning name ("greedy" or "random"); ValueError otherwise."""
    try:
        return PARTITIONING[how]
    except (KeyError, TypeError):
        raise ValueError(f"deisa_partitioning must be one of {sorted(PARTITIONING)}, got {how!r}") from None


def _pointer(arr, ctype):
    if len(arr) == 0:
        return None
    return (ctype * len(arr)).from_buffer(arr)


def partition_arrays(graph, n_nodes, how="greedy", seed=0):
    """Runs the core's partitioner on a :class:`GraphArrays`: (the node of each task as an
    ``array.array`` of int32, the milliseconds the core spent)."""
    mode = partitioning(how)
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, int):
        raise TypeError(f"n_nodes must be an int, got {type(n_nodes).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not -2 ** 31 <= n_nodes < 2 ** 31:
        raise ValueError(f"n_nodes must be at least 1 and fit in a C int (got {n_nodes})")
    seed &= 2 ** 64 - 1
    if seed >= 2 ** 63:
        seed -= 2 ** 64  # the same 64 bits, as C's int64_t
    n = len(graph.keys)
    node = array.array("i", bytes(4 * n))
    elapsed = ctypes.c_double()
    try:
        _native.check(_native.lib().deisa_graph_partition(
            n, _pointer(graph.dep_start, ctypes.c_int), _pointer(graph.deps, ctypes.c_int),
            _pointer(graph.pinned, ctypes.c_int), _pointer(graph.nbytes, ctypes.c_int64), n_nodes, mode, seed,
            _pointer(node, ctypes.c_int), ctypes.byref(elapsed)))
    except ValueError as e:
        raise ValueError(_with_keys(str(e), graph.keys)) from None
    return node, elapsed.value


def _with_keys(message, keys):
    """The core's message with the tasks it numbers named by their keys."""
    def name(number):
        i = int(number)
        return repr(keys[i]) if 0 <= i < len(keys) else number

    message = re.sub(r"pinned\[(\d+)\] is node", lambda m: f"task {name(m.group(1))} holds a block of node", message)
    # "task 3", and the tasks of a cycle: ": 3 -> 7 -> 3"
    return re.sub(r"(?<=task )\d+|(?<=: )\d+(?= -> )|(?<= -> )\d+", lambda m: name(m.group(0)), message)


def place(dsk, n_nodes, how="greedy", seed=0, keys=None):
    """``{key: node}`` for every task of ``dsk`` (of those ``keys`` need, if given) on
    ``n_nodes`` nodes (0 to n_nodes-1): a task holding a block on that block's node, any other
    as ``how`` says ("greedy" or "random", with ``seed``). ValueError names a bad
    ``n_nodes``, ``how``, a block's node out of range or a cycle."""
    partitioning(how)  # a bad name is an error before the walk
    graph = graph_arrays(dsk, keys)
    node, _ = partition_arrays(graph, n_nodes, how, seed)
    return dict(zip(graph.keys, node))


class PlacingGet:
    """A scheduler ``get`` that places every compute's tasks, then runs them with another
    ``get`` (default: Dask's threaded scheduler, on this machine). The placement of the last
    compute is :attr:`placement`. The partitioning is chosen per compute::

        get = PlacingGet(n_nodes=4)
        x.sum().compute(scheduler=get, deisa_partitioning="random", deisa_seed=3)

    ``deisa_partitioning`` is "greedy" (the default) or "random"; ``deisa_seed`` the random
    mode's seed (default 0).
    """

    def __init__(self, n_nodes, run=None):
        self.n_nodes = n_nodes
        self.run = run
        self.placement = None

    def __call__(self, dsk, keys, deisa_partitioning="greedy", deisa_seed=0, **kwargs):
        self.placement = place(dsk, self.n_nodes, deisa_partitioning, deisa_seed, keys=keys)
        run = self.run
        if run is None:
            import dask.threaded

            run = dask.threaded.get
        return run(dsk, keys, **kwargs)
