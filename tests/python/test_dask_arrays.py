"""DeisaArray (docs/specification.md §4): standard Dask operations, writers, zero-copy read-only blocks,
unequal blocks, preprocess, and arrays kept after the run."""

import glob

import dask
import dask.array as da
import h5py
import numpy as np
import pytest

import deisa
from conftest import blocks_of, launch_ranks, segments_of
from deisa import Deisa, DeisaArray, Window
from programs._support import DTYPES, dtype_values

pytestmark = pytest.mark.usefixtures("no_leftover_shm")

STEPS = 3


def matrix(t):
    """The matrix tall_skinny_matrix.py sends at timestep ``t``: (64, 8), in row blocks of 32."""
    return np.random.default_rng(t).standard_normal((64, 8))


def _try(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return ("error", f"{type(e).__name__}: {e}")


def operations(m, w, out_dir):
    """Every operation of the test, on the DeisaArray ``m`` (and the window ``w``); results
    are numpy values or ("error", message)."""
    t = m.t
    ops = {
        "sum": lambda: m.sum().compute(),
        "mean": lambda: m.mean().compute(),
        "min": lambda: m.min().compute(),
        "max": lambda: m.max().compute(),
        "std": lambda: m.std().compute(),
        "sum axis 0": lambda: m.sum(axis=0).compute(),
        "slice": lambda: m[10:40, 2:5].compute(),
        "strided slice": lambda: m[::3, -1].compute(),
        "fancy index": lambda: m[[0, 33, 63]].compute(),
        "transpose": lambda: m.T.compute(),
        "matmul": lambda: (m.T @ m).compute(),
        "rechunk": lambda: (m.rechunk((16, 4)).chunks, m.rechunk((16, 4)).compute()),
        "concatenate": lambda: da.concatenate([m, m * 2], axis=0).compute(),
        "where": lambda: da.where(m > 0, m, 0).compute(),
        "clip": lambda: m.clip(-0.5, 0.5).compute(),
        "sqrt": lambda: da.sqrt(abs(m)).compute(),
        "svd": lambda: [x.compute() for x in da.linalg.svd(m)],
        "qr": lambda: [x.compute() for x in da.linalg.qr(m)],
        "fft": lambda: da.fft.fft(m, axis=1).compute(),
        "persist": lambda: _persisted(m),
        "window difference": lambda: (w[-1] - w[0]).compute() if len(w) == 2 else None,
        "window stack": lambda: da.stack(w).sum(axis=0).compute(),
        "numpy function": lambda: np.mean(m).compute() if hasattr(np.mean(m), "compute") else np.mean(m),
        "astype": lambda: m.astype(np.float32).compute(),
        "map_blocks": lambda: m.map_blocks(lambda b: b + 1, dtype=m.dtype).compute(),
        "store to hdf5": lambda: m.to_hdf5(str(out_dir / f"m{t}.h5"), "/data"),
        "module to_hdf5": lambda: deisa.to_hdf5(str(out_dir / f"both{t}.h5"), {"/m": m, "/twice": m * 2}),
        "to_zarr": lambda: m.to_zarr(str(out_dir / f"m{t}.zarr")),
        "to_xarray": lambda: _xarray(m),
        "to_xarray with coordinates": lambda: _xarray_coords(m),
        "to_netcdf": lambda: _netcdf(m, out_dir / f"m{t}.nc"),
        "window to_xarray": lambda: _window_xarray(w),
        "dask.compute of two": lambda: dask.compute(m.sum(), w[0].sum()),
        "attributes": lambda: (m.t, m.timestep, m.name, m.shape, m.chunks, str(m.dtype), isinstance(m, DeisaArray),
                               isinstance(m, da.Array)),
    }
    return {k: _try(fn) for k, fn in ops.items()}


def _persisted(m):
    p = m.persist()
    return type(p).__name__, getattr(p, "t", None), p.sum().compute(), (p - m).sum().compute()


def _xarray(m):
    x = m.to_xarray(dims=("row", "col"))
    return x.dims, dict(x.attrs), x.name, float(x.sum().compute()), type(x.data).__name__


def _xarray_coords(m):
    x = m.to_xarray(dims=("row", "col"), coords={"row": np.arange(64) * 0.5}, attrs={"units": "K"})
    return (dict(x.attrs), x.coords["row"].values[[0, -1]].tolist(), int(x.coords["timestep"]),
            float(x.sel(row=1.0).sum().compute()), type(x.data).__name__)


def _netcdf(m, path):
    import xarray as xr

    m.to_netcdf(path, dims=("row", "col"), attrs={"units": "K"})
    with xr.open_dataarray(path) as back:
        return back.name, back.dims, dict(back.attrs), int(back.coords["timestep"]), back.values.copy()


def _window_xarray(w):
    x = deisa.to_xarray(w, dims=("row", "col"))
    return x.dims, x.coords["timestep"].values.tolist(), x.shape, float(x.isel(timestep=-1).sum().compute()), \
        "timestep" in x.attrs


def _block_flags(arr):
    out = []
    for b in blocks_of(arr):
        try:
            b[0, 0] = 12345.0
            wrote = "no error"
        except ValueError as e:
            wrote = f"ValueError: {e}"
        out.append({"writeable": bool(b.flags.writeable), "write": wrote, "c": bool(b.flags.c_contiguous),
                    "f": bool(b.flags.f_contiguous), "shape": b.shape, "owndata": bool(b.flags.owndata)})
    return out


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    """One run of programs/tall_skinny_matrix.py; every operation computed inside the callbacks."""
    run_dir = tmp_path_factory.mktemp("dask")
    out_dir = run_dir / "out"
    out_dir.mkdir()
    rendezvous = str(run_dir / ".deisa")
    sim = launch_ranks(run_dir, "tall_skinny_matrix.py", ranks=2, args=[STEPS], env={"DEISA_RENDEZVOUS": rendezvous})
    d = Deisa(timeout=30, rendezvous=rendezvous)
    results, flags, fortran, failures, pre = {}, {}, {}, [], {"calls": [], "seen": {}}

    @d.register(Window("m", size=2), exception_handler=failures.append)
    def on_m(m):
        results[m[-1].t] = operations(m[-1], m, out_dir)
        flags[m[-1].t] = _block_flags(m[-1])

    @d.register(Window("f"), exception_handler=failures.append)
    def on_f(f):
        fortran[f[0].t] = (f[0].compute(), _block_flags(f[0]))

    def double(block):
        pre["calls"].append((type(block).__name__, block.shape, bool(block.flags.writeable)))
        return block * 2

    @d.register(Window("m", preprocess=double), exception_handler=failures.append)
    def on_preprocessed(m):
        a = m[0]
        pre["seen"][a.t] = (a.compute(), a.sum().compute(), a.chunks)

    @d.register(Window("f", preprocess=lambda b: b[:, :4].astype(np.float32)), exception_handler=failures.append)
    def on_reshaped(f):
        a = f[0]
        pre.setdefault("reshaped", {})[a.t] = (a.compute(), a.chunks, a.shape, a.dtype)

    try:
        d.execute_callbacks()
        sim.wait(timeout=60)
    finally:
        for p in sim.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert not failures, failures
    assert segments_of(d.session) == [], "shared memory left behind"
    return {"results": results, "flags": flags, "fortran": fortran, "pre": pre, "out": out_dir, "session": d.session}


def _value(run, t, op):
    status, value = run["results"][t][op]
    assert status == "ok", f"timestep {t}: {op} failed: {value}"
    return value


EXPECTED = {
    "sum": lambda M, P: M.sum(),
    "mean": lambda M, P: M.mean(),
    "min": lambda M, P: M.min(),
    "max": lambda M, P: M.max(),
    "std": lambda M, P: M.std(),
    "sum axis 0": lambda M, P: M.sum(axis=0),
    "slice": lambda M, P: M[10:40, 2:5],
    "strided slice": lambda M, P: M[::3, -1],
    "fancy index": lambda M, P: M[[0, 33, 63]],
    "transpose": lambda M, P: M.T,
    "matmul": lambda M, P: M.T @ M,
    "concatenate": lambda M, P: np.concatenate([M, M * 2], axis=0),
    "where": lambda M, P: np.where(M > 0, M, 0),
    "clip": lambda M, P: M.clip(-0.5, 0.5),
    "sqrt": lambda M, P: np.sqrt(abs(M)),
    "fft": lambda M, P: np.fft.fft(M, axis=1),
    "window stack": lambda M, P: M + (P if P is not None else 0),
    "numpy function": lambda M, P: np.mean(M),
    "astype": lambda M, P: M.astype(np.float32),
    "map_blocks": lambda M, P: M + 1,
}


@pytest.mark.parametrize("op", list(EXPECTED))
def test_operation_gives_numpy_result(matrix_run, op):
    for t in range(STEPS):
        M = matrix(t)
        P = matrix(t - 1) if t > 0 else None
        np.testing.assert_allclose(_value(matrix_run, t, op), EXPECTED[op](M, P), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{op} at timestep {t}")


def test_rechunk(matrix_run):
    for t in range(STEPS):
        chunks, values = _value(matrix_run, t, "rechunk")
        assert chunks == ((16, 16, 16, 16), (4, 4))
        np.testing.assert_array_equal(values, matrix(t))


def test_svd_of_tall_skinny_array(matrix_run):
    for t in range(STEPS):
        u, s, v = _value(matrix_run, t, "svd")
        M = matrix(t)
        assert u.shape == (64, 8) and s.shape == (8,) and v.shape == (8, 8)
        np.testing.assert_allclose(s, np.linalg.svd(M, compute_uv=False), rtol=1e-10)
        np.testing.assert_allclose((u * s) @ v, M, atol=1e-10)


def test_qr_of_tall_skinny_array(matrix_run):
    for t in range(STEPS):
        q, r = _value(matrix_run, t, "qr")
        np.testing.assert_allclose(q @ r, matrix(t), atol=1e-10)
        np.testing.assert_allclose(q.T @ q, np.eye(8), atol=1e-10)


def test_persist_keeps_a_usable_deisa_array(matrix_run):
    for t in range(STEPS):
        kind, pt, total, diff = _value(matrix_run, t, "persist")
        assert kind == "DeisaArray" and pt == t
        assert total == pytest.approx(matrix(t).sum()) and diff == 0


def test_arrays_of_different_timesteps_combine(matrix_run):
    assert _value(matrix_run, 0, "window difference") is None
    for t in range(1, STEPS):
        np.testing.assert_allclose(_value(matrix_run, t, "window difference"), matrix(t) - matrix(t - 1))
        total, previous = _value(matrix_run, t, "dask.compute of two")
        assert total == pytest.approx(matrix(t).sum()) and previous == pytest.approx(matrix(t - 1).sum())


def test_timestep_and_name(matrix_run):
    names = set()
    for t in range(STEPS):
        tt, timestep, name, shape, chunks, dtype, is_deisa, is_dask = _value(matrix_run, t, "attributes")
        assert tt == t and timestep == t
        assert "m" in name and str(t) in name
        assert shape == (64, 8) and chunks == ((32, 32), (8,)) and dtype == "float64"
        assert is_deisa and is_dask
        names.add(name)
    assert len(names) == STEPS


def test_to_hdf5(matrix_run):
    for t in range(STEPS):
        assert _value(matrix_run, t, "store to hdf5") is None
        with h5py.File(matrix_run["out"] / f"m{t}.h5", "r") as f:
            np.testing.assert_array_equal(f["/data"][...], matrix(t))


def test_module_to_hdf5_writes_several_arrays(matrix_run):
    for t in range(STEPS):
        _value(matrix_run, t, "module to_hdf5")
        with h5py.File(matrix_run["out"] / f"both{t}.h5", "r") as f:
            np.testing.assert_array_equal(f["/m"][...], matrix(t))
            np.testing.assert_array_equal(f["/twice"][...], 2 * matrix(t))


def test_to_zarr(matrix_run):
    import zarr

    for t in range(STEPS):
        _value(matrix_run, t, "to_zarr")
        z = zarr.open(str(matrix_run["out"] / f"m{t}.zarr"), mode="r")
        np.testing.assert_array_equal(z[...], matrix(t))


def test_to_xarray(matrix_run):
    for t in range(STEPS):
        dims, attrs, name, total, kind = _value(matrix_run, t, "to_xarray")
        assert dims == ("row", "col")
        assert attrs["timestep"] == t
        assert name == "m"
        assert total == pytest.approx(matrix(t).sum())


def test_to_xarray_with_coordinates_and_attributes(matrix_run):
    for t in range(STEPS):
        attrs, row_ends, timestep, row_sum, kind = _value(matrix_run, t, "to_xarray with coordinates")
        assert attrs == {"timestep": t, "deisa_array": "m", "deisa_chunks": "32,32 x 8", "units": "K"}
        assert (row_ends, timestep) == ([0.0, 31.5], t)
        assert row_sum == pytest.approx(matrix(t)[2].sum())  # the row whose coordinate is 1.0
        assert kind == "DeisaArray"  # still lazy: the Dask array itself


def test_to_netcdf_writes_the_array_with_its_coordinates_and_attributes(matrix_run):
    for t in range(STEPS):
        name, dims, attrs, timestep, values = _value(matrix_run, t, "to_netcdf")
        assert (name, dims, timestep) == ("m", ("row", "col"), t)
        assert attrs["units"] == "K" and attrs["deisa_array"] == "m"
        np.testing.assert_array_equal(values, matrix(t))


def test_a_window_becomes_one_xarray_along_time(matrix_run):
    for t in range(STEPS):
        dims, timesteps, shape, last_sum, timestep_attr = _value(matrix_run, t, "window to_xarray")
        assert dims == ("timestep", "row", "col")
        assert timesteps == list(range(max(0, t - 1), t + 1))  # the window of 2, oldest first
        assert shape == (len(timesteps), 64, 8)
        assert last_sum == pytest.approx(matrix(t).sum())
        assert timestep_attr is False  # a coordinate per timestep instead


def test_blocks_are_read_only_views(matrix_run):
    for t in range(STEPS):
        flags = matrix_run["flags"][t]
        assert len(flags) == 2
        for f in flags:
            assert f["writeable"] is False
            assert f["write"].startswith("ValueError")
            assert f["owndata"] is False  # a view of shared memory, not a copy
            assert f["shape"] == (32, 8)


def test_fortran_blocks_arrive_as_fortran_ordered_views(matrix_run):
    for t in range(STEPS):
        values, flags = matrix_run["fortran"][t]
        np.testing.assert_array_equal(values, matrix(t))
        for f in flags:
            assert f["f"] and not f["c"] and not f["writeable"] and not f["owndata"]


def test_preprocess_is_applied_to_every_block(matrix_run):
    pre = matrix_run["pre"]
    assert sorted(pre["seen"]) == list(range(STEPS))
    for t, (values, total, chunks) in pre["seen"].items():
        np.testing.assert_array_equal(values, 2 * matrix(t))
        assert total == pytest.approx(2 * matrix(t).sum())
        assert chunks == ((32, 32), (8,))
    assert len(pre["calls"]) >= 2 * STEPS
    assert all(c == ("ndarray", (32, 8), False) for c in pre["calls"]), pre["calls"]
    # the plain window of the same array is not affected
    for t in range(STEPS):
        assert _value(matrix_run, t, "sum") == pytest.approx(matrix(t).sum())


def test_preprocess_may_change_block_shape_and_dtype(matrix_run):
    reshaped = matrix_run["pre"]["reshaped"]
    assert sorted(reshaped) == list(range(STEPS))
    for t, (values, chunks, shape, dtype) in reshaped.items():
        assert chunks == ((32, 32), (4,)) and shape == (64, 4) and dtype == np.float32
        np.testing.assert_array_equal(values, matrix(t)[:, :4].astype(np.float32))


# -------------------------------------------------------------------- unequal blocks

def test_unequal_block_sizes(simulation, run_dir):
    sim = simulation("unequal_blocks.py", ranks=3)
    d = Deisa(timeout=30)
    seen, errors = {}, []

    @d.register("u", "v", exception_handler=errors.append)
    def cb(u, v):
        u, v = u[0], v[0]
        t = u.t
        seen[t] = {
            "u chunks": u.chunks, "u": u.compute(), "u sum": int(u.sum().compute()), "u slice": u[30:40].compute(),
            "v chunks": v.chunks, "v": v.compute(), "v mean axis 1": v.mean(axis=1).compute(),
            "rechunked": u.rechunk(25).compute(),
            "hdf5": u.to_hdf5(str(run_dir / f"u{t}.h5"), "/u"),
        }

    d.execute_callbacks()
    sim.wait()
    assert not errors, errors
    assert sorted(seen) == [0, 1]
    for t, s in seen.items():
        U = np.arange(100) + 1000 * t
        V = np.arange(300).reshape(3, 100) * (t + 1)
        assert s["u chunks"] == ((34, 33, 33),) and s["v chunks"] == ((3,), (34, 33, 33))
        np.testing.assert_array_equal(s["u"], U)
        assert s["u"].dtype == np.int32
        assert s["u sum"] == U.sum()
        np.testing.assert_array_equal(s["u slice"], U[30:40])
        np.testing.assert_array_equal(s["v"], V)
        np.testing.assert_allclose(s["v mean axis 1"], V.mean(axis=1))
        np.testing.assert_array_equal(s["rechunked"], U)
        with h5py.File(run_dir / f"u{t}.h5", "r") as f:
            np.testing.assert_array_equal(f["/u"][...], U)


def test_to_zarr_with_unequal_blocks(simulation, run_dir):
    """dask.array.to_zarr refuses irregular chunks such as (34, 33, 33): DeisaArray.to_zarr
    must still write them."""
    import zarr

    sim = simulation("unequal_blocks.py", ranks=3)
    d = Deisa(timeout=30)
    errors = []

    @d.register("u", exception_handler=errors.append)
    def cb(u):
        u[0].to_zarr(str(run_dir / f"u{u[0].t}.zarr"))

    d.execute_callbacks()
    sim.wait()
    assert not errors, errors
    for t in range(2):
        np.testing.assert_array_equal(zarr.open(str(run_dir / f"u{t}.zarr"), mode="r")[...], np.arange(100) + 1000 * t)


# -------------------------------------------------------------------- arrays kept after the run

def test_arrays_kept_after_the_run_stay_valid(simulation, analytics_process):
    sim = simulation("two_by_four_float64.py")
    a = analytics_process("analytics_keeping_arrays_after_the_run.py")
    reports = a.wait(timeout=60)
    sim.wait()
    assert a.returncode == 0, f"the analytics crashed ({a.returncode}):\n{a.stderr}"
    session = reports[0]["session"]
    values = {int(k): v for k, v in reports[1]["values"].items()}
    assert sorted(values) == [0, 1, 2, 3]
    for t, v in values.items():
        expected = np.arange(8).reshape(2, 4) % 4 + np.array([[0], [10]]) + 100 * t
        np.testing.assert_array_equal(v, expected)
        assert reports[1]["during"][str(t)] == expected.sum()
    for t, s in enumerate(reports[1]["slices"]):
        np.testing.assert_array_equal(s, (np.arange(8).reshape(2, 4) % 4 + np.array([[0], [10]]) + 100 * t)[1:3])
    assert reports[1]["after_run"] == [], "segments still in /dev/shm after execute_callbacks returned"
    assert reports[2] == {"done": True}
    assert glob.glob(f"/dev/shm/deisa-{session}-*") == []


def test_arrays_kept_in_process_after_the_run(simulation):
    """Same, in the test process: views kept after the run are readable, then released."""
    import gc

    sim = simulation("three_timesteps_of_x.py", args=[10])
    d = Deisa(timeout=20)
    kept = []
    d.register_callback(lambda x: kept.append(x[0]), "x")
    d.execute_callbacks()
    sim.wait()
    gc.collect()
    assert glob.glob(f"/dev/shm/deisa-{d.session}-*") == []
    assert [a.compute().tolist() for a in kept] == [[0, 1], [10, 11], [20, 21]]
    del kept
    gc.collect()


# -------------------------------------------------------------------- dtypes and layouts

def test_every_dtype_arrives_intact(simulation):
    sim = simulation("every_dtype.py")
    d = Deisa(timeout=30)
    seen = {}
    names = DTYPES + [n + "-declared" for n in DTYPES]

    def cb(**arrays):
        for name, w in arrays.items():
            seen[(name, w[0].t)] = (w[0].dtype, w[0].compute())

    d.register_callback(cb, *names)
    d.execute_callbacks()
    sim.wait()
    assert len(seen) == 2 * len(names)
    for (name, t), (dtype, values) in seen.items():
        expected = dtype_values(name.replace("-declared", ""), t)
        assert dtype == expected.dtype, name
        assert values.dtype == expected.dtype, name
        np.testing.assert_array_equal(values, expected, err_msg=f"{name} at timestep {t}")


def test_two_dimensional_grid_of_unequal_blocks(simulation):
    """A 2 x 2 grid over (5, 7): rows of 3 and 2 cells, columns of 4 and 3 cells."""
    sim = simulation("grid_of_unequal_blocks.py", ranks=4)
    d = Deisa(timeout=30)
    seen = {}

    @d.register("g", "gf")
    def cb(g, gf):
        g, gf = g[0], gf[0]
        seen[g.t] = (g.chunks, g.compute(), gf.compute(), g[2:4, 3:5].compute(), g.sum(axis=1).compute(),
                     [b.shape for b in blocks_of(g)])

    d.execute_callbacks()
    sim.wait()
    assert sorted(seen) == [0, 1]
    for t, (chunks, values, fvalues, middle, rowsum, shapes) in seen.items():
        G = np.arange(35, dtype=np.float32).reshape(5, 7) + 100 * t
        assert chunks == ((3, 2), (4, 3))
        assert sorted(shapes) == sorted([(3, 4), (3, 3), (2, 4), (2, 3)])
        np.testing.assert_array_equal(values, G)
        np.testing.assert_array_equal(fvalues, G)
        np.testing.assert_array_equal(middle, G[2:4, 3:5])
        np.testing.assert_allclose(rowsum, G.sum(axis=1))


def test_three_dimensional_fortran_blocks(simulation):
    sim = simulation("three_dimensional_fortran_blocks.py")
    d = Deisa(timeout=30)
    seen = []
    d.register_callback(lambda c: seen.append((c[0].compute(), [bl.flags.f_contiguous for bl in blocks_of(c[0])])), "c")
    d.execute_callbacks()
    sim.wait()
    (values, fortran), = seen
    np.testing.assert_array_equal(values, np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    assert fortran == [True, True]


# -------------------------------------------------------------------- views outlive their window

def test_kept_views_are_never_overwritten_by_later_timesteps(simulation):
    """Arrays kept by the analytics past their window hold their shared memory: later
    timesteps, with a pool that must recycle memory, never write into it."""
    sim = simulation("twelve_timesteps_of_256KiB.py")
    # one timestep is 2 x 256 KiB; the pool holds 6 of them: 3 kept + those in flight
    d = Deisa(timeout=30, pool_size="3MiB")
    kept, checks = [], []

    @d.register("x")
    def cb(x):
        if x[0].t in (0, 4, 8):
            kept.append(x[0])
        checks.append([(a.t, float(a[0].min().compute()), float(a[1].max().compute())) for a in kept])

    d.execute_callbacks()
    sim.wait()
    assert len(checks) == 12
    for seen in checks:
        for t, low, high in seen:
            assert (low, high) == (10 * t, 10 * t + 1), f"kept array of timestep {t} was overwritten: {seen}"
    del kept


# -------------------------------------------------------------------- timesteps at any stride

def test_timesteps_at_changing_strides_arrive_intact(simulation):
    """The analytics builds each array's next timestep ahead, guessing it from the last stride;
    every guess, right (1 -> 2, 5 -> 8) or wrong (8 -> 9, 9 -> 20), gives the right blocks in
    the right places, in windows too."""
    steps = [0, 1, 2, 5, 8, 9, 20, 21]
    sim = simulation("timesteps_at_changing_strides.py", ranks=3, args=steps)
    d = Deisa(timeout=30)
    seen = []

    @d.register(Window("x", size=2))
    def cb(x):
        seen.append([(a.t, a.compute().tolist()) for a in x])

    d.execute_callbacks()
    sim.wait()
    expected = []
    for i, t in enumerate(steps):
        window = steps[max(0, i - 1):i + 1]
        expected.append([(s, [[s * 10 + r] * 4 for r in range(3)]) for s in window])
    assert seen == expected


# -------------------------------------------------------------------- a block and its lease

class _Released:
    def __init__(self):
        self.leases = []

    def __call__(self, lease):
        self.leases.append(lease)


def _placed_block(data, release, lease=7):
    """A block over ``data`` as an array event places it: its row in its timestep's table."""
    import struct

    from deisa.array import Block, BlockTable

    table = BlockTable(data.dtype, data.ndim)
    table.place(struct.pack(f"=5q{data.ndim}q", lease, data.ctypes.data, data.nbytes, 0, 0, *data.shape), release)
    return Block(table, 0)


def test_a_block_never_read_gives_its_lease_back_when_it_goes():
    data, released = np.arange(6.0).reshape(2, 3), _Released()
    b = _placed_block(data, released)
    assert released.leases == []
    del b
    assert released.leases == [7]


def test_a_block_read_gives_its_lease_back_when_its_last_view_goes():
    data, released = np.arange(6.0).reshape(2, 3), _Released()
    b = _placed_block(data, released)
    view = b.data()
    part = view[1:]
    assert view is b.data() and part.tolist() == [[3.0, 4.0, 5.0]] and not view.flags.writeable
    del b, view
    assert released.leases == []  # a view derived from the block is still alive
    del part
    assert released.leases == [7]


def test_arrays_of_later_timesteps_are_built_like_the_first_and_are_the_same_to_dask(monkeypatch):
    """After the first timestep of an array, its arrays are built without Dask's constructor
    (copying the first's chunks, meta and annotations); both ways give the same array, which
    computes the same values, and array plugins still see every array."""
    from deisa import array as deisa_array

    monkeypatch.setattr(deisa_array, "_LIKE", deisa_array._ArraysLike())
    constructed = []
    new = DeisaArray.__new__

    def counting(cls, *args, **kwargs):
        constructed.append(kwargs.get("timestep"))
        return new(cls, *args, **kwargs)

    monkeypatch.setattr(DeisaArray, "__new__", counting)
    data = np.arange(12.0)
    keep = []

    def arrays(ts):
        out = []
        for t in ts:
            parts = [data[i * 4:(i + 1) * 4] + t for i in range(3)]
            keep.append(parts)
            blocks = {(i,): _placed_block(p, _Released(), lease=i) for i, p in enumerate(parts)}
            out.append(deisa_array.assemble("x", t, data.dtype, ((4, 4, 4),), blocks, "s"))
        return out

    a0, a1, a2, a3 = arrays(range(4))
    assert constructed == [0, 1]  # the first; the second also by the constructor, once, to check the shortcut
    assert deisa_array._LIKE.checked is True
    for t, a in enumerate((a0, a1, a2, a3)):
        assert type(a) is DeisaArray and a.t == t and a.array_name == "x" and a.chunks == ((4, 4, 4),)
        assert a.sum().compute() == (data + t).sum() and a[5].compute() == 5 + t
    seen = []
    with dask.config.set(array_plugins=[lambda x: seen.append(x.name)]):
        arrays([4])
    assert seen == ["x-t4-s"] and constructed[-1] == 4  # plugins configured: the constructor, which calls them


class _FakeLib:
    """Stands in for libdeisa.so's release call (this test isolates the Python side's leases)."""

    def __init__(self):
        self.released = []

    def deisa_analytics_release_block(self, handle, lease):
        self.released.append(lease)


def test_blocks_a_computes_cycle_kept_into_the_old_generation_come_back_at_the_next_collect():
    """A Dask compute's reference cycle (dask.base's recursive closure) that its own
    allocations promoted to the old generation holds the blocks until a full collection:
    Leases.collect runs one at once instead of waiting for a quarter of the pool; the next one
    waits twenty times its cost."""
    import gc

    from deisa._leases import Leases

    lib = _FakeLib()
    leases = Leases(lib, 1, pool_bytes=1 << 40)
    data = np.arange(512.0)
    x = da.from_array(data, chunks=256)  # stands for the array the blocks are in
    block = _placed_block(data, leases.release, lease=11)
    cycle = [block, x]
    cycle.append(cycle)  # a cycle holding the block
    gc.collect(1)  # alive: promoted to the old generation
    leases.dropped({(0,): block})  # no window holds it any more
    del block, cycle
    gc.collect(1)
    assert lib.released == []  # young collections do not find it
    leases.collect()
    assert lib.released == [11] and leases.pending == {}
    assert leases._next_full > 0  # the next full collection waits


def test_a_block_pickles_as_its_data_without_its_lease():
    import pickle

    data, released = np.arange(4.0), _Released()
    b = _placed_block(data, released)
    copy = pickle.loads(pickle.dumps(b))
    assert copy.data().tolist() == [0.0, 1.0, 2.0, 3.0] and not copy.holds_lease()
    del copy
    assert released.leases == []
    del b
    assert released.leases == [7]


# -------------------------------------------------------------------- Dask distributed

@pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning")  # Debian's tornado
def test_callbacks_compute_on_a_dask_distributed_cluster(simulation):
    """With ``scheduler=`` the callbacks' computations run on a Dask distributed cluster whose
    workers are other processes: the blocks travel to them as their data."""
    from distributed import LocalCluster

    sim = simulation("two_ranks_float64_vectors.py")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        d = Deisa(timeout=60, scheduler=cluster.scheduler_address)
        seen = []

        @d.register(Window("x", size=2))
        def cb(x):
            seen.append((x[-1].t, x[-1].compute().tolist(), float((x[-1] - x[0]).sum().compute())))

        d.execute_callbacks()
        sim.wait()
        ran_there = cluster.scheduler.transition_counter
    assert seen == [(t, [float(i + 10 * t) for i in range(8)], 80.0 if t else 0.0) for t in range(3)]
    assert ran_there > 0, "the computations did not go through the cluster's scheduler"
