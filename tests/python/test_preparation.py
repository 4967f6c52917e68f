"""prepare= and preparation_advance= on register_callback (docs/specification.md §5): the
preparation of a timestep runs ahead of its data, on an array of its final shape, and its
result reaches the callback."""

import sys

import numpy as np
import pytest

from conftest import PROGRAMS

sys.path.insert(0, str(PROGRAMS))
from _support import random_block  # noqa: E402

from deisa import Deisa  # noqa: E402
from deisa.testing import start_ranks  # noqa: E402

PROGRAM = str(PROGRAMS / "random_blocks.py")


def test_preparation_runs_ahead_of_the_data_and_reaches_the_callback(run_dir):
    size, cols, br, bc, steps = 2, 2, 16, 8, 8
    ranks = start_ranks(PROGRAM, size, (cols, br, bc, steps, 0.1), cwd=run_dir)
    d = Deisa(timeout=60)
    order, got = [], {}

    def prepare(field, timestep):
        order.append(("prepare", timestep))
        assert field.shape == (br, cols * bc) and field.chunks == ((br,), (bc,) * cols) and field.dtype == np.float64
        return timestep, field.sum(), field[:, ::2].max()

    @d.register("field", prepare=prepare, preparation_advance=2)
    def watch(field, preparation_result):
        t, total, top = preparation_result
        got[field[0].t] = (t, float(total.compute()), float(top.compute()))
        order.append(("callback", field[0].t))

    d.execute_callbacks()
    assert [p.wait(timeout=60) for p in ranks] == [0] * size
    for t in range(steps):
        full = np.hstack([random_block(r, t, (br, bc)) for r in range(size)])
        assert got[t][0] == t
        assert np.isclose(got[t][1], full.sum()) and got[t][2] == full[:, ::2].max()
    # Each timestep prepared once, and from t = 2 on before the callback of t - 1 ran: ahead of its data.
    prepared = [t for kind, t in order if kind == "prepare"]
    assert sorted(set(prepared) & set(range(steps))) == list(range(steps))
    assert len([t for t in prepared if t < steps]) == steps
    for t in range(2, steps):
        assert order.index(("prepare", t)) < order.index(("callback", t - 1)), order


def test_a_failing_preparation_goes_to_the_exception_handler(run_dir):
    ranks = start_ranks(PROGRAM, 2, (2, 4, 4, 3), cwd=run_dir)
    d = Deisa(timeout=60)
    handled, results = [], []

    def prepare(field, timestep):
        raise ValueError(f"cannot prepare {timestep}")

    d.register_callback(lambda field, preparation_result: results.append(preparation_result), "field",
                        prepare=prepare, exception_handler=handled.append)
    d.execute_callbacks()
    assert [p.wait(timeout=60) for p in ranks] == [0, 0]
    assert results == [None, None, None]
    assert {str(e) for e in handled} >= {"cannot prepare 0", "cannot prepare 1", "cannot prepare 2"}


@pytest.mark.parametrize("kwargs, error", [
    (dict(prepare=3), TypeError),
    (dict(prepare=lambda a, timestep: 0, preparation_advance=0), ValueError),
    (dict(prepare=lambda a, timestep: 0, preparation_advance=1.5), TypeError),
    (dict(prepare=lambda a, timestep: 0, preparation_advance=65), ValueError),
])
def test_bad_preparation_settings_are_refused(kwargs, error):
    with pytest.raises(error, match="prepar"):
        Deisa().register_callback(lambda field, preparation_result: None, "field", **kwargs)
