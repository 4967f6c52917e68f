"""Figure 9d: placing the tasks of a compute on the nodes of a cluster (deisa.partition).

The graph is shaped like an array reduction as Dask makes it, (x + 1).sum() over blocks held
by 4 nodes: a read task per block (pinned to its node, holding a block object with
``deisa_node`` and ``nbytes``), an elementwise task and a partial sum per block, then a tree of
combines of 4 inputs each; the graph lists the aggregate first and the reads last, as Dask's
optimised graphs do (so that the core has to order it). For 10k, 100k and 1M tasks it
measures, on the same graph:

- the C# core's partitioner (``deisa_graph_partition``'s own elapsed time, median of runs);
- the Python walk that turns the graph into the core's compact form (``graph_arrays``), and
  ``place`` end to end (walk, core, and the ``{key: node}`` dict);
- the seed's greedy partitioning (deisa-ray's ``greedy_partitioning``), reimplemented in
  Python below: it places a task by the most common node among its dependencies, counting
  dependencies, not bytes.

Each placement's cross-node traffic (the estimated bytes of every dependency placed on
another node than its task) is shown too.

    python bench/fig_partition.py [--quick]
"""

import argparse
import operator
import random
import sys
import time
from collections import Counter

from common import PACKAGE, median
from table import Row, fmt_ratio, text_table

if PACKAGE not in sys.path:
    sys.path.insert(0, PACKAGE)

NODES = 4
BLOCK_BYTES = 8 * 2 ** 20  # each block: 8 MiB
TARGET_MS = 50.0           # 1M tasks inside the core
TARGET_RATIO = 50.0        # the seed's greedy in Python / the core


class BenchBlock:
    """A block as the graph holds it: the node that holds it and its bytes."""

    __slots__ = ("deisa_node", "nbytes")

    def __init__(self, node, nbytes):
        self.deisa_node, self.nbytes = node, nbytes


def read_block(block):
    return block.nbytes


def partial_sum(x):
    return x


def combine(parts):
    return sum(parts)


def reduction_graph(n_tasks, nodes=NODES):
    """A graph of about n_tasks tasks: blocks B with 3 tasks each and a 4-ary combine tree
    (B/3 combines), the blocks of each node contiguous (ranks of a node hold neighbouring
    blocks). Returned with the aggregate's key."""
    blocks = max(4, round(n_tasks / (3 + 1 / 3)))
    layers = []
    reads = {("x", b): (read_block, BenchBlock(b * nodes // blocks, BLOCK_BYTES)) for b in range(blocks)}
    adds = {("add", b): (operator.add, ("x", b), 1) for b in range(blocks)}
    partials = {("sum-partial", b): (partial_sum, ("add", b)) for b in range(blocks)}
    layers += [reads, adds, partials]
    level, names, depth = list(partials), [], 0
    while len(level) > 1:
        name = f"sum-combine-{depth}"
        nxt = {}
        for i in range(0, len(level), 4):
            nxt[(name, i // 4)] = (combine, level[i:i + 4])
        layers.append(nxt)
        level, depth = list(nxt), depth + 1
    dsk = {}
    for layer in reversed(layers):  # the aggregate first, the reads last
        dsk.update(layer)
    return dsk, level[0]


# -- the seed's greedy ----------------------------------------------------------------------

def _seed_block_node(task):
    """The seed looks for its chunk reference at the top of a task only (the task itself, or
    one of the task's direct arguments), never inside nested or fused tasks."""
    if getattr(task, "deisa_node", None) is not None:
        return task.deisa_node
    if type(task) is tuple and task and callable(task[0]):
        for arg in task[1:]:
            node = getattr(arg, "deisa_node", None)
            if node is not None:
                return node
    return None


def seed_greedy(dsk, n_nodes, rng=None):
    """deisa-ray's greedy partitioning, in its own terms: every task gets -1 ("not placed"),
    then each key is explored, depth first and memoised. A task without dependencies holding
    a block goes to the block's node; one without dependencies and without block to a node
    chosen at random; any other to the node that most of its dependencies were placed on
    (Counter.most_common: a count of dependencies, whatever their bytes; ties to the node
    met first). Like the seed, it asks dask.core.get_dependencies for a task's dependencies
    twice (once to test for none, once to explore them). (The seed also shuffles a list of
    n nodes that greedy never reads; that dead work is left out here.)"""
    from dask.core import get_dependencies

    rng = rng or random.Random(0)
    node_ids = list(range(n_nodes))
    placed = {k: -1 for k in dsk}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))

    def explore(key):
        if placed[key] != -1:
            return placed[key]
        deps = get_dependencies(dsk, key)
        task = dsk[key]
        block_node = _seed_block_node(task) if not deps else None
        if block_node is not None:
            placed[key] = block_node
        elif not deps:
            placed[key] = rng.choice(node_ids)
        else:
            voted = [explore(d) for d in get_dependencies(dsk, key)]
            placed[key] = Counter(voted).most_common(1)[0][0]
        return placed[key]

    try:
        for key in dsk:
            explore(key)
    finally:
        sys.setrecursionlimit(limit)
    return placed


# -- measuring ------------------------------------------------------------------------------

def cross_node_bytes(graph, node):
    """Estimated bytes that cross nodes: for every dependency placed on another node than its
    task, the dependency's output estimate (its blocks' bytes, else the largest of its inputs';
    the same rule as the core's)."""
    n = len(graph.keys)
    start, deps, given = graph.dep_start, graph.deps, graph.nbytes
    order, seen = [], [False] * n
    for root in range(n):  # dependency order, depth first (the graph lists dependents first)
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, iter(deps[start[root]:start[root + 1]]))]
        while stack:
            t, pending = stack[-1]
            for d in pending:
                if not seen[d]:
                    seen[d] = True
                    stack.append((d, iter(deps[start[d]:start[d + 1]])))
                    break
            else:
                stack.pop()
                order.append(t)
    estimate = [0] * n
    total = 0
    for t in order:
        inputs = deps[start[t]:start[t + 1]]
        estimate[t] = given[t] or max((estimate[d] for d in inputs), default=0)
        total += sum(estimate[d] for d in inputs if node[d] != node[t])
    return total


def timed(fn, *args, repeat=1):
    """(median seconds, last result) of calling fn(*args) repeat times."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return median(times), out


def measure(n_tasks, seed_repeat=1):
    from deisa import partition

    dsk, _ = reduction_graph(n_tasks)
    walk_s, graph = timed(partition.graph_arrays, dsk, repeat=3 if n_tasks <= 100_000 else 2)
    core_ms = []
    node = None
    for _ in range(7 if n_tasks <= 100_000 else 5):
        node, ms = partition.partition_arrays(graph, NODES, "greedy")
        core_ms.append(ms)
    place_s, placement = timed(partition.place, dsk, NODES, repeat=1)
    seed_s, seed_placement = timed(seed_greedy, dsk, NODES, repeat=seed_repeat)
    # Both respect the blocks; both place every task.
    index = {k: i for i, k in enumerate(graph.keys)}
    for i, p in enumerate(graph.pinned):
        if p >= 0 and (node[i] != p or seed_placement[graph.keys[i]] != p):
            raise AssertionError(f"task {graph.keys[i]!r} not on its block's node {p}")
    assert placement == {k: node[i] for k, i in index.items()}
    seed_nodes = [seed_placement[k] for k in graph.keys]
    return {"tasks": len(graph), "core_ms": median(core_ms), "walk_ms": walk_s * 1e3, "place_ms": place_s * 1e3,
            "seed_ms": seed_s * 1e3, "cross": cross_node_bytes(graph, node), "seed_cross": cross_node_bytes(graph, seed_nodes)}


def fig9_partition(quick):
    """Figure 9d: rows (1M tasks in the core; core against the seed's greedy) and a table."""
    sizes = [10_000, 100_000] + ([] if quick else [1_000_000])
    results = [measure(n, seed_repeat=3 if n <= 10_000 else 1) for n in sizes]
    headers = ["tasks", "C# core", "Python walk", "place() end to end", "seed greedy (Python)", "seed / core",
               "seed / place()", "cross-node bytes: deisa / seed"]
    table = []
    for r in results:
        table.append([f"{r['tasks']:,}", f"{r['core_ms']:.1f} ms", f"{r['walk_ms']:.0f} ms", f"{r['place_ms']:.0f} ms",
                      f"{r['seed_ms']:.0f} ms", fmt_ratio(r["seed_ms"] / r["core_ms"]),
                      fmt_ratio(r["seed_ms"] / r["place_ms"]),
                      f"{r['cross'] / 2 ** 30:.2f} / {r['seed_cross'] / 2 ** 30:.2f} GiB"])
    big = results[-1]
    what = f"{big['tasks']:,}-task array reduction on {NODES} nodes"
    rows = [
        Row("9d", f"Partitioning a {what}, inside the C# core", f"{big['core_ms']:.1f} ms", "—", "—",
            f"≤ {TARGET_MS:.0f} ms" if not quick else "— (quick: 100k tasks)",
            (big["core_ms"] <= TARGET_MS) if not quick else None),
        Row("9d·seed", f"…against the seed's greedy in Python on the same graph (seed / core)",
            f"{big['core_ms']:.1f} ms", f"{big['seed_ms']:.0f} ms", big["seed_ms"] / big["core_ms"],
            f"≥ {TARGET_RATIO:.0f}×", big["seed_ms"] / big["core_ms"] >= TARGET_RATIO),
    ]
    title = (f"9d. Task placement on {NODES} nodes, (x + 1).sum() over 8 MiB blocks (read, add, partial sum per "
             "block; combines of 4): the core's partitioner (median elapsed time inside the core), the Python "
             "walk into its compact form, place() end to end, and the seed's greedy in Python on the same graph")
    return rows + [(title, headers, table)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10k and 100k tasks only")
    args = ap.parse_args(argv)
    out = fig9_partition(args.quick)
    rows = [o for o in out if isinstance(o, Row)]
    from table import HEADER, cells

    print(text_table(HEADER, [cells(r) for r in rows]))
    for title, headers, trs in (o for o in out if isinstance(o, tuple)):
        print()
        print(title)
        print(text_table(headers, trs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
