"""Scale-out on Dask distributed (docs/specification.md §5): the node service in the workers,
each block read on the worker of the node holding it, results equal to a single-machine run,
the bytes that cross between nodes, and a node's loss.

The simulated-node tests run each node in network, UTS and mount namespaces of its own
(deisa.simulated_nodes: root only); where namespaces cannot be made they say so and skip.
"""

import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import PROGRAMS

sys.path.insert(0, str(PROGRAMS))
from _support import random_block  # noqa: E402

from deisa import Deisa, Window, to_hdf5  # noqa: E402
from deisa.simulated_nodes import SimulatedNodes, unavailable  # noqa: E402

distributed = pytest.importorskip("distributed")

NO_NAMESPACES = unavailable()
needs_namespaces = pytest.mark.skipif(NO_NAMESPACES is not None, reason=f"no simulated nodes here: {NO_NAMESPACES}")

PROGRAM = str(PROGRAMS / "random_blocks.py")


def expected_field(size, cols, br, bc, t):
    rows = size // cols
    full = np.empty((rows * br, cols * bc))
    for r in range(size):
        i, j = divmod(r, cols)
        full[i * br:(i + 1) * br, j * bc:(j + 1) * bc] = random_block(r, t, (br, bc))
    return full


def reductions(d, results):
    """The analytics of these tests: reductions over one timestep and over a window of two."""

    @d.register(Window("field", size=2))
    def watch(field):
        now = field[-1]
        out = {"sum": now.sum(), "mean0": now.mean(axis=0), "max": now[::2, 1:].max(), "std": now.std()}
        if len(field) == 2:
            out["diff"] = (field[1] - field[0]).sum()
        import dask

        results[now.t] = dict(zip(out, dask.compute(*out.values())))

    return watch


def writers(d, run_dir, last, xarray_means):
    """A callback that writes the array at timestep ``last`` with every writer."""

    @d.register("field")
    def write(field):
        x = field[0]
        if x.t != last:
            return
        x.to_hdf5(run_dir / "field.h5", "/field")
        to_hdf5(run_dir / "both.h5", {"/a": x, "/b": x * 2})
        x.to_zarr(str(run_dir / "field.zarr"))
        xarray_means.append(x.to_xarray(dims=("y", "x")).mean("x").compute().values)
        x.to_netcdf(run_dir / "field.nc", dims=("y", "x"))


def check_written(run_dir, full, xarray_means):
    import h5py
    import zarr

    with h5py.File(run_dir / "field.h5", "r") as f:
        np.testing.assert_array_equal(f["/field"][...], full)
    with h5py.File(run_dir / "both.h5", "r") as f:
        np.testing.assert_array_equal(f["/a"][...], full)
        np.testing.assert_array_equal(f["/b"][...], full * 2)
    np.testing.assert_array_equal(zarr.open(str(run_dir / "field.zarr"), mode="r")[...], full)
    np.testing.assert_allclose(xarray_means[0], full.mean(axis=1), rtol=1e-12)
    import xarray as xr

    with xr.open_dataarray(run_dir / "field.nc") as back:
        np.testing.assert_array_equal(back.values, full)


def check_results(results, size, cols, br, bc, steps):
    assert sorted(results) == list(range(steps))
    for t, got in results.items():
        full = expected_field(size, cols, br, bc, t)
        assert np.isclose(got["sum"], full.sum(), rtol=1e-10)
        np.testing.assert_allclose(got["mean0"], full.mean(axis=0), rtol=1e-10)
        assert got["max"] == full[::2, 1:].max()
        assert np.isclose(got["std"], full.std(), rtol=1e-10)
        if t > 0:
            assert np.isclose(got["diff"], (full - expected_field(size, cols, br, bc, t - 1)).sum(), rtol=1e-9, atol=1e-9)


def single_machine(run_dir, size, cols, br, bc, steps):
    from deisa.testing import start_ranks

    ranks = start_ranks(PROGRAM, size, (cols, br, bc, steps), cwd=run_dir)
    d = Deisa(timeout=60)
    results = {}
    reductions(d, results)
    d.execute_callbacks()
    assert [p.wait(timeout=60) for p in ranks] == [0] * size
    return results


def test_local_cluster_reads_each_block_on_the_worker_of_its_node(run_dir):
    """Two workers on one machine (one node): one node service serves the run, every block is
    read by a task placed on its worker, results equal the single-machine run's; a preparation
    made ahead of the data computes on the cluster too."""
    size, cols, br, bc, steps = 4, 2, 64, 48, 4
    alone = single_machine(run_dir, size, cols, br, bc, steps)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        from deisa.testing import start_ranks

        ranks = start_ranks(PROGRAM, size, (cols, br, bc, steps), cwd=run_dir)
        d = Deisa(scheduler=client, timeout=60)
        results, prepared = {}, {}
        reductions(d, results)

        @d.register("field", prepare=lambda field, timestep: field.sum(), preparation_advance=2)
        def total(field, preparation_result):
            prepared[field[0].t] = float(preparation_result.compute())

        means = []
        writers(d, run_dir, steps - 1, means)

        with distributed.get_task_stream(client) as stream:
            d.execute_callbacks()
        assert [p.wait(timeout=60) for p in ranks] == [0] * size
        states = client.run(lambda: __import__("deisa.distributed").distributed.node_state())
    check_results(results, size, cols, br, bc, steps)
    for t in alone:
        for k in alone[t]:
            np.testing.assert_allclose(results[t][k], alone[t][k], rtol=1e-12)
        assert np.isclose(prepared[t], alone[t]["sum"], rtol=1e-12)
    check_written(run_dir, expected_field(size, cols, br, bc, steps - 1), means)
    # One worker served the run, the other stood by; every block-reading task ran on the first.
    served = [w for w, s in states.items() if not s["state"].startswith("standing by")]
    assert len(served) == 1, states
    assert any("standing by" in s["state"] for s in states.values()), states
    assert d.placer.pinned and set(d.placer.pinned.values()) == set(served)
    assert_block_reads_ran_where_placed(stream, d.placer.pinned, size * steps)


def assert_block_reads_ran_where_placed(stream, pinned, at_least):
    """Every block-reading task that ran (Dask's task stream) ran on the worker it was placed
    on; at least ``at_least`` of them ran (a task whose result the scheduler still held from
    an earlier compute of the same key does not run again)."""
    placed = {stringify(k): w for k, w in pinned.items()}
    reads = [(r["key"], r["worker"]) for r in stream.data if stringify(r["key"]) in placed]
    assert len(reads) >= at_least, f"{len(reads)} block reads ran, expected at least {at_least}"
    wrong = [(key, worker, placed[stringify(key)]) for key, worker in reads if worker != placed[stringify(key)]]
    assert not wrong, f"block reads that ran on another worker than their node's (task, ran on, placed on): {wrong}"


def stringify(key):
    from dask.utils import stringify as s

    return s(key)


@pytest.fixture
def nodes_of(run_dir):
    """Starts SimulatedNodes(count, ...) for a test; tears them down whatever happens."""
    started = []

    def start(count, **kwargs):
        nodes = SimulatedNodes(count, cwd=run_dir, **kwargs)
        started.append(nodes)
        return nodes.__enter__()

    yield start
    for nodes in started:
        nodes.close()


@needs_namespaces
def test_simulated_nodes_give_the_single_machine_results_with_local_reads(run_dir, nodes_of):
    """Three nodes of two ranks: every block-reading task runs on its node's worker (with the
    other tasks placed greedily or at random), results equal the single-machine run's, the
    reductions move a small fraction of the data, and the writers (HDF5, Zarr, xarray) give one
    file or store read normally."""
    size, cols, br, bc, steps = 6, 3, 512, 512, 4   # 2 MiB blocks, 12 MiB per timestep
    alone = single_machine(run_dir, size, cols, br, bc, steps)
    nodes = nodes_of(3)
    before = nodes.traffic()
    ranks = nodes.start_ranks(PROGRAM, size, (cols, br, bc, steps))
    client = distributed.Client(nodes.scheduler_address)
    try:
        d = Deisa(scheduler=client, timeout=60)
        results, means, randomly = {}, [], {}
        reductions(d, results)
        writers(d, run_dir, steps - 1, means)

        @d.register("field")
        def placed_at_random(field):  # the other tasks drawn at random: block reads stay on their node
            randomly[field[0].t] = float(field[0].sum().compute(deisa_partitioning="random", deisa_seed=field[0].t))

        with distributed.get_task_stream(client) as stream:
            d.execute_callbacks()
        assert [p.wait(timeout=60) for p in ranks] == [0] * size
        hosts = {w: i["host"] for w, i in client.scheduler_info()["workers"].items()}
    finally:
        client.close()
    after = nodes.traffic()
    check_results(results, size, cols, br, bc, steps)
    for t in alone:
        for k in alone[t]:
            np.testing.assert_allclose(results[t][k], alone[t][k], rtol=1e-12)
    check_written(run_dir, expected_field(size, cols, br, bc, steps - 1), means)
    assert all(np.isclose(randomly[t], results[t]["sum"], rtol=1e-12) for t in range(steps))
    # Where each block-reading task ran: on its node's worker, never elsewhere.
    assert set(d.placer.pinned.values()) == set(hosts), "every node's worker read its own blocks"
    assert_block_reads_ran_where_placed(stream, d.placer.pinned, size * steps)
    # The bytes that crossed between namespaces (to other nodes, the scheduler, the analytics).
    data = size * br * bc * 8 * steps
    moved = sum(after[i][0] - before[i][0] + after[i][1] - before[i][1] for i in range(3))
    assert moved < 0.05 * data, f"{moved} bytes crossed between nodes for {data} bytes of blocks"


@needs_namespaces
def test_two_workers_on_a_node_elect_one_node_service(run_dir, nodes_of):
    nodes = nodes_of(2, workers_per_node=2)
    size, cols, br, bc, steps = 4, 2, 32, 32, 3
    ranks = nodes.start_ranks(PROGRAM, size, (cols, br, bc, steps))
    client = distributed.Client(nodes.scheduler_address)
    try:
        d = Deisa(scheduler=client, timeout=60)
        results = {}
        reductions(d, results)
        d.execute_callbacks()
        assert [p.wait(timeout=60) for p in ranks] == [0] * size
        states = client.run(lambda: __import__("deisa.distributed").distributed.node_state())
        hosts = {w: i["host"] for w, i in client.scheduler_info()["workers"].items()}
    finally:
        client.close()
    check_results(results, size, cols, br, bc, steps)
    # Per node, one worker served the run (it may still be ending it) and the other stood by.
    for host in set(hosts.values()):
        on_host = [states[w]["state"] for w, h in hosts.items() if h == host]
        assert sorted(st.startswith("standing by") for st in on_host) == [False, True], (host, on_host)
    assert len(set(d.placer.pinned.values())) == 2


@needs_namespaces
def test_a_lost_node_is_an_error_naming_it_never_a_hang(run_dir, nodes_of):
    """Node 1 (its worker and its ranks) is killed at timestep 3: execute_callbacks raises an
    error naming the node, its worker and its ranks within seconds; node 0's ranks carry on
    (the dead analytics policy: a warning) and end normally; the killed node leaves nothing in
    its /dev/shm."""
    nodes = nodes_of(2)
    size, cols, br, bc, steps = 4, 2, 32, 32, 200
    ranks = nodes.start_ranks(PROGRAM, size, (cols, br, bc, steps, 0.05))
    client = distributed.Client(nodes.scheduler_address)
    worker1 = next(w for w, i in client.scheduler_info()["workers"].items() if i["host"] == nodes.address(1))
    seen, killed, status, shm = [], [], [], []
    try:
        d = Deisa(scheduler=client, timeout=60)

        @d.register("field")
        def watch(field):
            seen.append(field[0].t)
            field[0].sum().compute()
            if field[0].t == 3:
                shm.append([shm_of(nodes, i) for i in (0, 1)])
                status.append(subprocess.run([sys.executable, "-m", "deisa", "status"], capture_output=True, text=True,
                                             cwd=run_dir, timeout=60))
                nodes.kill_node(1)
                killed.append(time.monotonic())

        with pytest.raises(RuntimeError) as failure:
            d.execute_callbacks()
        elapsed = time.monotonic() - killed[0]
    finally:
        client.close()
    # While it ran, `deisa status` showed each node, its worker, its ranks and its pool.
    shown = status[0].stdout
    assert status[0].returncode == 0, status[0].stderr
    for i, ranks_of_node in enumerate(["0, 1", "2, 3"]):
        line = next(line for line in shown.splitlines() if f" node{i} " in line)
        assert f"ranks {ranks_of_node};" in line and "shared memory pool:" in line and "in use by" in line, shown
    message = str(failure.value)
    assert "node node1 was lost" in message and worker1 in message and "ranks 2, 3" in message, message
    assert elapsed < 20, f"the loss was reported {elapsed:.1f} s after it"
    assert seen[:4] == [0, 1, 2, 3]
    # Node 0's ranks carry on without the analytics and end normally.
    assert [p.wait(timeout=60) for p in ranks[:2]] == [0, 0]
    # The nodes' blocks were in anonymous shared memory: nothing of the run was in /dev/shm while
    # it ran, and nothing is left there by the killed node.
    assert shm[0] == [[], []], shm
    assert shm_of(nodes, 1) == [] and shm_of(nodes, 0) == []


def shm_of(nodes, node):
    """The deisa files in node ``node``'s /dev/shm."""
    out = subprocess.run(nodes.command(node, ["ls", "-a", "/dev/shm"]), capture_output=True, text=True, check=True).stdout
    return [f for f in out.split() if f.startswith("deisa-")]


@needs_namespaces
def test_mpirun_across_simulated_nodes(run_dir, nodes_of):
    """A real MPI job across two simulated nodes (mpirun starts its daemons through the nodes'
    namespaces): ranks 0, 1 on node0 and 2, 3 on node1, the analytics on their Dask cluster."""
    nodes = nodes_of(2)
    sim = nodes.mpirun([sys.executable, PROGRAMS / "four_ranks_under_mpirun.py"], 4,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = distributed.Client(nodes.scheduler_address)
    try:
        d = Deisa(scheduler=client, timeout=90)
        seen = []

        @d.register("array")
        def cb(array):
            a = array[0]
            seen.append((a.t, int(a.sum().compute()), a[1, 0].compute().item()))

        d.execute_callbacks()
        out, err = sim.communicate(timeout=120)
        assert sim.returncode == 0, err
        placed = set(d.placer.pinned.values())
    finally:
        client.close()
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    for t, s, corner in seen:
        assert s == 10 * t and corner == 3 * t
    assert len(placed) == 2, "the blocks were read on both nodes"
