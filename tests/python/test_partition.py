"""Placing a compute's tasks on the nodes that hold its blocks (deisa.partition, deisa_graph_partition):
real Dask array graphs whose tasks hold block objects (``deisa_node``, ``nbytes``), optimised
with low-level fusion as ``compute`` does, then placed: every task holding a block runs on its
node, the other tasks where their inputs' bytes are (greedy) or where a seeded draw says
(random), and bad input is an error naming what is wrong."""

import ctypes

import dask
import dask.array as da
import numpy as np
import pytest
from dask.core import get_dependencies
from dask.highlevelgraph import HighLevelGraph
from dask.optimization import SubgraphCallable

from deisa import partition
from deisa.partition import GraphArrays, PlacingGet, graph_arrays, partition_arrays, place

NODES = 4


class Blk:
    """A block as a Deisa graph holds it: the node that holds it, its bytes, its data."""

    __slots__ = ("deisa_node", "nbytes", "data")

    def __init__(self, node, data, nbytes=None):
        self.deisa_node, self.data = node, data
        self.nbytes = data.nbytes if nbytes is None else nbytes

    def __repr__(self):
        return f"Blk(node={self.deisa_node}, nbytes={self.nbytes})"


class DictBlock:
    """A block whose attributes live in its instance dict (not slots)."""

    def __init__(self, node, nbytes):
        self.deisa_node, self.nbytes = node, nbytes


def read(block):
    return block.data


def blocks_array(name, shape, chunks, node_of=None, nbytes_of=None, seed=0):
    """A dask array whose every block is a task ``(read, Blk)``; block i (in C order of the block
    grid) lives on node ``node_of(i)`` (default i % NODES) and claims ``nbytes_of(i)`` bytes."""
    rng = np.random.default_rng(seed)
    grid = tuple(s // c for s, c in zip(shape, chunks))
    layer = {}
    for i, pos in enumerate(np.ndindex(*grid)):
        node = node_of(i) if node_of else i % NODES
        data = rng.random(chunks)
        layer[(name,) + pos] = (read, Blk(node, data, nbytes_of(i) if nbytes_of else None))
    graph = HighLevelGraph.from_collections(name, layer, dependencies=())
    return da.Array(graph, name, tuple((c,) * n for c, n in zip(chunks, grid)), dtype=float,
                    meta=np.empty((0,) * len(shape)))


def optimized(expr):
    """The graph ``compute`` hands the scheduler: Dask's array optimisation, with fusion."""
    keys = expr.__dask_keys__()
    return expr.__dask_optimize__(expr.__dask_graph__(), keys), keys


def blocks_in(obj):
    """Every Blk inside a task, found independently of deisa.partition (recursively, looking
    into tuples, lists, dicts and SubgraphCallables)."""
    if isinstance(obj, (Blk, DictBlock)):
        return [obj]
    if isinstance(obj, SubgraphCallable):
        return [b for v in obj.dsk.values() for b in blocks_in(v)]
    if isinstance(obj, (tuple, list)):
        return [b for v in obj for b in blocks_in(v)]
    if isinstance(obj, dict):
        return [b for v in obj.values() for b in blocks_in(v)]
    return []


def expected_node(blocks):
    per_node = {}
    for b in blocks:
        per_node[b.deisa_node] = per_node.get(b.deisa_node, 0) + b.nbytes
    return min(per_node, key=lambda k: (-per_node[k], k))


def expressions():
    x = blocks_array("x", (16, 16), (4, 4))
    y = blocks_array("y", (16, 16), (4, 4), node_of=lambda i: (i * 3) % NODES, seed=1)
    return {
        "sum": x.sum(),
        "(x + y.T).mean(axis=0)": (x + y.T).mean(axis=0),
        "slicing": (x[1:13, ::2] + 1)[::3],
        "rechunk": x.rechunk((8, 8)).sum(),
        "std of slices": (x[::2] + y[1::2]).std(),
        "split_every=2": (2 * x).sum(split_every=2),
    }


EXPRESSIONS = sorted(expressions())


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_dependencies_are_those_dask_reads(name):
    dsk, _ = optimized(expressions()[name])
    g = graph_arrays(dsk)
    assert g.keys == list(dsk)
    assert len(g.dep_start) == len(dsk) + 1 and g.dep_start[-1] == len(g.deps)
    for i, key in enumerate(g.keys):
        assert sorted(g.dependencies(i), key=str) == sorted(get_dependencies(dsk, key), key=str), key


@pytest.mark.parametrize("how", ["greedy", "random"])
@pytest.mark.parametrize("name", EXPRESSIONS)
def test_every_task_holding_a_block_runs_on_its_node(name, how):
    dsk, keys = optimized(expressions()[name])
    placement = place(dsk, NODES, how, seed=3, keys=keys)
    assert set(placement) == set(dsk)
    assert set(placement.values()) <= set(range(NODES))
    holding = {k: blocks_in(v) for k, v in dsk.items()}
    holding = {k: b for k, b in holding.items() if b}
    assert len(holding) >= 8
    wrong = {k: (placement[k], expected_node(b)) for k, b in holding.items() if placement[k] != expected_node(b)}
    assert not wrong
    # Blocks are found inside fused tasks, not only in bare reads.
    if name != "rechunk":
        assert any(len(v) > 2 or not (type(v) is tuple and v[0] is read) for k, v in dsk.items() if k in holding)


def test_fused_tasks_reading_blocks_of_two_nodes_go_where_most_bytes_are():
    x = blocks_array("x", (8, 8), (4, 4), node_of=lambda i: 0, nbytes_of=lambda i: 100)
    y = blocks_array("y", (8, 8), (4, 4), node_of=lambda i: 1, nbytes_of=lambda i: 300)
    dsk, keys = optimized((x + y).sum(axis=0))
    fused = {k: blocks_in(v) for k, v in dsk.items() if len(blocks_in(v)) == 2}
    assert len(fused) == 4  # each x + y block pair read by one fused task
    placement = place(dsk, 2, keys=keys)
    assert all(placement[k] == 1 for k in fused)  # 300 bytes on node 1 against 100 on node 0


def test_blocks_anywhere_inside_a_task_pin_it():
    f = lambda *a: None  # noqa: E731
    inner = SubgraphCallable({"out": (read, Blk(2, np.zeros(3)))}, "out", ())
    nested = SubgraphCallable({"o": (inner,)}, "o", ())
    dsk = {
        "in-subgraph": (inner,),
        "in-nested-subgraph": (nested,),
        "in-list": (f, [1, [(read, Blk(3, np.zeros(2)))]]),
        "in-dict-value": (f, (dict, [["a", DictBlock(1, 10)]])),
        "in-literal-tuple": (f, (slice(0, 1), (Blk(2, np.zeros(1)),))),
        "as-the-value": Blk(3, np.zeros(1)),
        "several": (f, Blk(0, np.zeros(1), 100), Blk(1, np.zeros(1), 150), Blk(0, np.zeros(1), 100)),
        "tie": (f, Blk(3, np.zeros(1), 100), Blk(1, np.zeros(1), 100)),
        "not-a-block": (f, "in-list", np.zeros(3), {"deisa_node": 1}),
    }
    g = graph_arrays(dsk)
    pins = dict(zip(g.keys, g.pinned))
    assert pins == {"in-subgraph": 2, "in-nested-subgraph": 2, "in-list": 3, "in-dict-value": 1,
                    "in-literal-tuple": 2, "as-the-value": 3, "several": 0, "tie": 1, "not-a-block": -1}
    sizes = dict(zip(g.keys, g.nbytes))
    assert sizes["several"] == 350 and sizes["in-dict-value"] == 10 and sizes["not-a-block"] == 0
    assert g.dependencies(g.keys.index("not-a-block")) == ["in-list"]
    placement = place(dsk, NODES)
    assert all(placement[k] == p for k, p in pins.items() if p >= 0)
    assert placement["not-a-block"] == 3  # its one input's node


def test_objects_that_only_look_like_blocks_do_not_pin():
    class NoBytes:
        deisa_node = 1

    class TextNode:
        deisa_node, nbytes = "1", 10

    class BoolNode:
        deisa_node, nbytes = True, 10

    g = graph_arrays({"a": (read, NoBytes()), "b": (read, TextNode()), "c": (read, BoolNode())})
    assert list(g.pinned) == [-1, -1, -1]


def estimates(g):
    """Each task's estimated output bytes, computed here independently: its blocks' bytes, else
    the largest estimate of its inputs."""
    est = {}

    def of(i):
        if i not in est:
            deps = g.deps[g.dep_start[i]:g.dep_start[i + 1]]
            est[i] = g.nbytes[i] or max((of(d) for d in deps), default=0)
        return est[i]

    for i in range(len(g)):
        of(i)
    return est


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_greedy_puts_every_other_task_where_most_input_bytes_are(name):
    dsk, keys = optimized(expressions()[name])
    g = graph_arrays(dsk)
    placement = place(dsk, NODES)
    est = estimates(g)
    checked = 0
    for i, key in enumerate(g.keys):
        deps = g.deps[g.dep_start[i]:g.dep_start[i + 1]]
        if g.pinned[i] >= 0 or not deps:
            continue
        on = {}
        for d in deps:
            on[placement[g.keys[d]]] = on.get(placement[g.keys[d]], 0) + est[d]
        assert on.get(placement[key], -1) == max(on.values()), (key, placement[key], on)
        checked += 1
    assert checked >= 1


def test_a_reductions_combine_follows_bytes_not_the_number_of_inputs():
    # One big block on node 0, three small ones on node 1: counting inputs says node 1.
    x = blocks_array("x", (16,), (4,), node_of=lambda i: 0 if i == 0 else 1,
                     nbytes_of=lambda i: 10_000_000 if i == 0 else 1_000_000)
    dsk, keys = optimized(x.sum(split_every=4))
    placement = place(dsk, 2, keys=keys)
    (aggregate,) = [k for k in dsk if "aggregate" in str(k)]
    assert len(get_dependencies(dsk, aggregate)) == 4
    assert placement[aggregate] == 0
    # With equal blocks, the three on node 1 win.
    y = blocks_array("y", (16,), (4,), node_of=lambda i: 0 if i == 0 else 1)
    dsk, keys = optimized(y.sum(split_every=4))
    (aggregate,) = [k for k in dsk if "aggregate" in str(k)]
    assert place(dsk, 2, keys=keys)[aggregate] == 1


def test_random_is_seeded_and_spreads_over_the_nodes():
    x = blocks_array("x", (64,), (1,))  # 64 pinned reads
    z = da.ones((512,), chunks=1)       # 512 tasks reading no block
    dsk, keys = optimized(da.concatenate([x, z[:64] * 2]).sum(split_every=64))
    first = place(dsk, NODES, "random", seed=11, keys=keys)
    assert first == place(dsk, NODES, "random", seed=11, keys=keys)
    other = place(dsk, NODES, "random", seed=12, keys=keys)
    free = [k for k in dsk if not blocks_in(dsk[k])]
    assert len(free) >= 64
    assert any(first[k] != other[k] for k in free)
    counts = np.bincount([first[k] for k in free], minlength=NODES)
    assert counts.min() >= len(free) // NODES // 3, counts
    # Pinned tasks stay on their nodes whatever the seed.
    for k, v in dsk.items():
        if blocks_in(v):
            assert first[k] == other[k] == expected_node(blocks_in(v))
    # Seeds beyond 64 bits wrap, negative seeds are fine.
    assert place(dsk, NODES, "random", seed=-1, keys=keys) == place(dsk, NODES, "random", seed=2 ** 64 - 1, keys=keys)


def test_greedy_spreads_tasks_without_inputs_over_the_nodes():
    dsk, keys = optimized(da.ones((16,), chunks=1) + 1)
    placement = place(dsk, NODES, keys=keys)
    assert sorted(np.bincount(list(placement.values()), minlength=NODES)) == [4, 4, 4, 4]


def test_the_partitioning_is_chosen_per_compute():
    x = blocks_array("x", (32, 32), (4, 4))
    expr = (x + da.ones((32, 32), chunks=(4, 4))).sum()
    get = PlacingGet(NODES)
    assert np.isclose(expr.compute(scheduler=get), sum(b.data.sum() for b in _blocks_of(x)) + 32 * 32)
    greedy = get.placement
    assert expr.compute(scheduler=get, deisa_partitioning="greedy") is not None and get.placement == greedy
    expr.compute(scheduler=get, deisa_partitioning="random", deisa_seed=5)
    random_ = get.placement
    assert random_ != greedy and set(random_) == set(greedy)
    with pytest.raises(ValueError, match=r"deisa_partitioning must be one of \['greedy', 'random'\], got 'fast'"):
        expr.compute(scheduler=get, deisa_partitioning="fast")


def _blocks_of(x):
    return [b for v in dict(x.__dask_graph__()).values() for b in blocks_in(v)]


def test_keys_keep_only_the_tasks_they_need():
    x = blocks_array("x", (8, 8), (4, 4))
    dsk = dict(x.__dask_graph__())
    dsk["unused"] = (sum, [("x", 0, 0), ("x", 0, 1)])
    dsk["total"] = (sum, [("x", 1, 0), ("x", 1, 1)])
    g = graph_arrays(dsk, keys=[["total"]])
    assert g.keys == [k for k in dsk if k in {"total", ("x", 1, 0), ("x", 1, 1)}]  # in the graph's order
    total = g.keys.index("total")
    assert total == 2 and sorted(g.dependencies(2)) == [("x", 1, 0), ("x", 1, 1)]
    assert list(g.dep_start) == [0, 0, 0, 2] and sorted(g.deps) == [0, 1]
    assert [g.pinned[g.keys.index(("x", 1, i))] for i in range(2)] == [2, 3]
    assert list(g.nbytes) == [128, 128, 0] and g.pinned[2] == -1
    everything = graph_arrays(dsk, keys=list(dsk))
    assert everything.keys == list(dsk) and list(everything.deps) == list(graph_arrays(dsk).deps)
    assert set(place(dsk, NODES, keys=["total"])) == {"total", ("x", 1, 0), ("x", 1, 1)}
    with pytest.raises(KeyError, match="'missing' is not in the task graph"):
        graph_arrays(dsk, keys=["missing"])


def test_a_high_level_graph_is_read_as_its_tasks():
    x = blocks_array("x", (8, 8), (4, 4))
    s = x.sum()
    hlg = s.__dask_graph__()
    assert isinstance(hlg, HighLevelGraph)
    placement = place(hlg, NODES)
    assert placement == place(dict(hlg), NODES)
    assert [placement[("x", i, j)] for i in range(2) for j in range(2)] == [0, 1, 2, 3]


def test_bad_input_is_an_error_naming_what_is_wrong():
    x = blocks_array("x", (8, 8), (4, 4))
    dsk, keys = optimized(x.sum())
    with pytest.raises(ValueError, match=r"n_nodes must be at least 1 \(got 0\)"):
        place(dsk, 0)
    with pytest.raises(ValueError, match=r"task \('x-sum-\w+', \d, \d\) holds a block of node [23], but there are 2 nodes \(0 to 1\)"):
        place(dsk, 2)
    with pytest.raises(ValueError, match="deisa_partitioning must be one of"):
        place(dsk, NODES, how="fastest")
    with pytest.raises(TypeError, match="n_nodes must be an int"):
        place(dsk, 2.0)
    with pytest.raises(TypeError, match="a task graph is a dict or a HighLevelGraph, not list"):
        place([1, 2], NODES)
    f = lambda *a: None  # noqa: E731
    with pytest.raises(ValueError, match=r"the task graph has a cycle through task '[abc]': '.' -> '.' -> '.' -> '.' \(each"):
        place({"a": (f, "b"), "b": (f, "c"), "c": (f, "a"), "d": (f, "a")}, NODES)
    with pytest.raises(ValueError, match="task 'a' depends on itself"):
        place({"a": (f, "a")}, NODES)


def test_the_core_checks_the_compact_form():
    import array

    def graph(dep_start, deps, pinned, nbytes):
        return GraphArrays(list(range(len(pinned))), array.array("i", dep_start), array.array("i", deps),
                           array.array("i", pinned), array.array("q", nbytes))

    with pytest.raises(ValueError, match=r"task 1 depends on task 5 \(deps\[0\]\), which is not a task index 0 to 1"):
        partition_arrays(graph([0, 0, 1], [5], [-1, -1], [0, 0]), 2)
    with pytest.raises(ValueError, match=r"nbytes\[0\] is negative \(-4\)"):
        partition_arrays(graph([0, 0, 0], [], [-1, -1], [-4, 0]), 2)
    with pytest.raises(ValueError, match=r"dep_start decreases at task 1: dep_start\[1\] = 1, dep_start\[2\] = 0"):
        partition_arrays(graph([0, 1, 0, 1], [1], [-1, -1, -1], [0, 0, 0]), 2)
    node, ms = partition_arrays(graph([0, 0, 1], [0], [1, -1], [8, 0]), 2)
    assert list(node) == [1, 1] and ms >= 0
    # Through ctypes directly: NULL arrays are named.
    lib = __import__("deisa._native", fromlist=["lib"]).lib()
    status = lib.deisa_graph_partition(1, None, None, None, None, 1, 0, 0, None, None)
    assert status == partition._native.lib().deisa_graph_partition(1, None, None, None, None, 1, 0, 0, None, None) == 9
    assert "dep_start is NULL" in partition._native.last_error()
    start = (ctypes.c_int * 2)(0, 0)
    assert lib.deisa_graph_partition(1, start, None, None, None, 1, 0, 0, None, None) == 9
    assert "pinned is NULL" in partition._native.last_error()


def test_an_empty_graph_places_nothing():
    assert place({}, 3) == {}
