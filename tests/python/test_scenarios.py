"""The acceptance scenarios of docs/specification.md §9, with real processes, real shared memory and sockets."""

import shutil

import numpy as np
import pytest

from deisa import Deisa, Window
from conftest import segments_of

pytestmark = pytest.mark.usefixtures("no_leftover_shm")


def test_sum_and_mean(simulation):
    sim = simulation("two_ranks_int32.py")
    d = Deisa(timeout=60)
    seen = []

    @d.register(Window("array"))
    def cb(array):
        a = array[0]
        seen.append((a.t, int(a.sum().compute()), float(a.mean().compute()), a.dtype, a.shape))

    d.execute_callbacks()
    sim.wait()
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    for t, s, m, dtype, shape in seen:
        assert s == 3 * t and m == 1.5 * t
        assert dtype == np.int32 and shape == (1, 2)
    assert segments_of(d.session) == []


def test_window_of_two(simulation):
    sim = simulation("two_ranks_int32.py")
    d = Deisa(timeout=60)
    lengths, diffs = [], []

    @d.register(Window("array", size=2))
    def cb(array):
        lengths.append(len(array))
        if len(array) == 2:
            assert array[0].t + 1 == array[1].t
            diffs.append(int((array[1] - array[0]).sum().compute()))

    d.execute_callbacks()
    sim.wait()
    assert lengths == [1, 2, 2, 2, 2]
    assert diffs == [3, 3, 3, 3]


@pytest.mark.parametrize("every, expected_or, expected_and", [(False, 4, 0), (True, 5, 5)])
def test_or_and_firing(simulation, every, expected_or, expected_and):
    sim = simulation("alternating_arrays.py", args=["--every"] if every else [])
    d = Deisa(timeout=60)
    runs = {"or": [], "and": []}

    @d.register("array1", "array2", when="OR")
    def on_or(array1, array2):
        runs["or"].append((array1[-1].t, array2[-1].t))

    @d.register("array1", "array2", when="AND")
    def on_and(array1, array2):
        runs["and"].append(array1[-1].t)

    d.execute_callbacks()
    sim.wait()
    assert len(runs["or"]) == expected_or
    assert len(runs["and"]) == expected_and
    if not every:
        # Inputs without a new value reuse their last window.
        assert runs["or"] == [(0, 1), (2, 1), (2, 3), (4, 3)]


def test_only_one_timestep(simulation):
    sim = simulation("one_timestep.py")
    d = Deisa(timeout=60)
    seen = []
    d.register_callback(lambda array: seen.append((array[0].t, int(array[0].sum().compute()))), "array")
    d.execute_callbacks()
    sim.wait()
    assert seen == [(3, 9)]


def test_logical_flow_violation(simulation):
    sim = simulation("rank_1_skipping_timestep_1.py")
    d = Deisa(timeout=60)
    seen = []
    d.register_callback(lambda array: seen.append(array[0].t), "array")
    with pytest.raises(RuntimeError, match="logical flow") as e:
        d.execute_callbacks()
    sim.wait()
    msg = str(e.value)
    assert "'array'" in msg and "timestep 1" in msg and "rank 1" in msg
    assert seen == []


def test_send_back_in_time_is_refused(simulation):
    sim = simulation("send_back_in_time.py")
    d = Deisa(timeout=60)
    seen = []
    d.register_callback(lambda array: seen.append((array[0].t, int(array[0].sum().compute()))), "array")
    d.execute_callbacks()
    reports = sim.wait()
    for r in reports:
        assert "timestep 1" in r[0]["error"] and "older" in r[0]["error"]
    assert seen == [(2, 4), (3, 6)]  # nothing lost after the refused send


def test_feedback_same_answer_on_every_rank(simulation):
    sim = simulation("feedback_read_between_sends.py")
    d = Deisa(timeout=60)

    @d.register("array")
    def cb(array):
        t = array[0].t
        if t in (0, 1):
            d.set("foo", t, t)

    d.execute_callbacks()
    reports = sim.wait()
    for (r,) in reports:
        assert r["first"] == 0 and r["missing"] is None and r["second"] == 1
        assert [tuple(e) for e in r["everything"]] == [(0, 0), (1, 1)]


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")
def test_four_ranks_under_mpirun(simulation):
    sim = simulation("four_ranks_under_mpirun.py", ranks=4, mpirun=True)
    d = Deisa(timeout=90)
    seen = []

    @d.register("array")
    def cb(array):
        a = array[0]
        seen.append((a.t, int(a.sum().compute()), a[1, 0].compute().item()))

    d.execute_callbacks()
    sim.wait(timeout=180)
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    for t, s, corner in seen:
        assert s == 10 * t and corner == 3 * t


def test_pool_recycles_over_many_timesteps(simulation):
    sim = simulation("one_rank_240_timesteps_of_4MiB.py", ranks=1)
    d = Deisa(timeout=60, pool_size="80MiB")
    firsts = []

    @d.register("array")
    def cb(array):
        firsts.append(float(array[0][0, 0].compute()))

    d.execute_callbacks()
    sim.wait()
    assert firsts == [float(t) for t in range(240)]
    assert segments_of(d.session) == []
