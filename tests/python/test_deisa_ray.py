"""Code written for deisa-ray runs on Deisa: its import paths (deisa.ray), names, call shapes and
meanings (docs/deisa-ray.md lists each point and where Deisa deliberately differs)."""

import pytest

import deisa
from deisa import Window


def test_deisa_ray_import_paths_give_deisas_own_objects():
    import deisa.ray
    import deisa.ray.bridge
    import deisa.ray.config
    import deisa.ray.errors
    import deisa.ray.types
    import deisa.ray.window_handler

    assert deisa.ray.Bridge is deisa.ray.bridge.Bridge is deisa.Bridge
    assert deisa.ray.Deisa is deisa.ray.window_handler.Deisa is deisa.Deisa
    assert deisa.ray.types.Window is Window and deisa.ray.types.DeisaArray is deisa.DeisaArray
    assert deisa.ray.types.to_hdf5 is deisa.to_hdf5
    assert deisa.ray.errors.ContractError is deisa.ContractError and deisa.ray.errors.ConfigError is deisa.ConfigError
    assert sorted(deisa.ray.__all__) == ["Bridge", "Deisa", "Timestep"]
    assert isinstance(3, deisa.ray.Timestep)
    # The seed version's window: window_size None is the newest array only.
    assert deisa.ray.types.WindowArrayDefinition("a") == Window("a", 1)
    assert deisa.ray.types.WindowArrayDefinition("a", window_size=3, preprocess=abs) == Window("a", 3, abs)


def test_a_simulation_rank_importing_deisa_ray_does_not_load_dask():
    import subprocess
    import sys

    code = "import sys; from deisa.ray import Bridge; from deisa.ray.bridge import Bridge; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_errors_under_deisa_rays_names():
    from deisa.ray.errors import ConfigError, ContractError

    e = ContractError()
    assert e.message == "Contract not satisfied." == str(e)
    assert ContractError("no such array").message == "no such array"
    assert issubclass(ConfigError, RuntimeError) and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("value, enabled", [(None, False), ("", False), ("0", False), ("Off", False), ("no", False),
                                            ("1", True), ("TRUE", True), ("yes", True), ("on", True)])
def test_deisa_rays_scheduling_switch_is_read_as_deisa_ray_reads_it(monkeypatch, value, enabled):
    from deisa.ray.config import DEISA_DISTRIBUTED_SCHEDULING_ENV, distributed_scheduling_enabled_from_env

    if value is None:
        monkeypatch.delenv(DEISA_DISTRIBUTED_SCHEDULING_ENV, raising=False)
    else:
        monkeypatch.setenv(DEISA_DISTRIBUTED_SCHEDULING_ENV, value)
    assert distributed_scheduling_enabled_from_env() is enabled
    deisa.Deisa(timeout=5)  # accepted


def test_configuration_errors_are_config_errors(monkeypatch):
    from deisa.ray.errors import ConfigError

    monkeypatch.setenv("DEISA_DISTRIBUTED_SCHEDULING", "maybe")
    with pytest.raises(ConfigError, match="DEISA_DISTRIBUTED_SCHEDULING='maybe' is not a switch"):
        deisa.Deisa(timeout=5)
    monkeypatch.delenv("DEISA_DISTRIBUTED_SCHEDULING")
    monkeypatch.setenv("DEISA_POOL_SIZE", "80 furlongs")
    with pytest.raises(ConfigError, match="DEISA_POOL_SIZE"):
        deisa.Deisa(timeout=5)


def test_deisa_ray_code_runs_unchanged(simulation):
    """A deisa-ray simulation and analytics, imports and calls as written for deisa-ray."""
    from deisa.ray.types import Window
    from deisa.ray.window_handler import Deisa

    sim = simulation("deisa_ray_simulation.py", ranks=2)
    d = Deisa()  # deisa-ray's defaults: feedback_queue_size=1024, max_simulation_ahead=1
    d.set("cooling", 0.25, -1)  # before the run, as deisa-ray allows
    seen = []

    def callback(temperature):
        now = temperature[-1]
        seen.append((now.timestep, len(temperature), float(now.sum().compute())))
        d.set("cooling", now.timestep / 10, now.timestep)

    assert d.register_callback(callback, Window("temperature", size=2)) is callback
    assert [c.simulation_callback for c in d.registered_callbacks] == [callback]
    d.execute_callbacks()
    reports = sim.wait()
    assert seen == [(t, min(t + 1, 2), 4 * (0 * 100 + t) + 4 * (100 + t)) for t in range(5)]
    for rank, (r,) in enumerate(reports):
        assert (r["bridge_id"], r["node_id"], r["comm_rank"]) == (rank, True, rank)
        assert r["cooling3"] == 0.3
        history, expected = [tuple(e) for e in r["history"]], [(-1, 0.25)] + [(t, t / 10) for t in range(5)]
        assert history in (expected[:5], expected)  # t = 4's value may come after the rank asked
        assert f"deisa.bridge: Bridge {rank} closed at timestep 5" in sim.stderr(rank)


def test_deisa_rays_ray_options_are_refused_with_what_they_did_there(run_dir):
    from deisa.ray.bridge import Bridge
    from deisa.testing import Comm

    meta = {"x": {"global_shape": (1,), "chunk_shape": (1,), "chunk_position": (0,)}}
    with pytest.raises(TypeError, match="object_store_memory_timeout_s is deisa-ray's wait for room in Ray's object store"):
        Bridge(Comm(0, 1), meta, object_store_memory_timeout_s=5)
    with pytest.raises(TypeError, match="_node_id is deisa-ray's Ray node id"):
        Bridge(Comm(0, 1), meta, _node_id="n")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nonsense'"):
        Bridge(Comm(0, 1), meta, nonsense=1)
    with pytest.raises(TypeError, match="deisa-ray's first version took the rank's id here, with system_metadata"):
        Bridge(0, meta)
    with pytest.raises(TypeError, match="needs system_metadata with 'nb_ranks'"):
        Bridge(id=0, arrays_metadata=meta, system_metadata={"ray_address": "auto"})


def test_deisa_rays_first_version_code_runs_unchanged(simulation):
    """A simulation and analytics written for deisa-ray's first version (the seed's): the
    analytics registers one callback with a list of WindowArrayDefinition, max_iterations and
    prepare_iteration, is called with timestep= (an array bare without window_size), and sets
    feedback without a timestep."""
    from deisa.ray.types import WindowArrayDefinition
    from deisa.ray.window_handler import Deisa

    sim = simulation("deisa_ray_first_version_simulation.py", ranks=2)
    d = Deisa()
    seen, prepared = [], {}

    def prepare_iteration(temperature, timestep):
        prepared[timestep] = temperature.shape
        return timestep * 1000

    def simulation_callback(temperature, pressure, timestep, preparation_result):
        seen.append((timestep, len(temperature), [float(a.sum().compute()) for a in temperature],
                     pressure.tolist() if hasattr(pressure, "tolist") else list(pressure.compute()), preparation_result))
        d.set(key="cooling", value=timestep / 10)

    d.register_callback(simulation_callback,
                        [WindowArrayDefinition("temperature", window_size=2), WindowArrayDefinition("pressure")],
                        max_iterations=4, prepare_iteration=prepare_iteration, preparation_advance=2)
    assert [c.simulation_callback for c in d.registered_callbacks] == [simulation_callback]
    d.execute_callbacks()
    (r0,), (r1,) = sim.wait()
    total = lambda t: 4 * (0 * 100 + t) + 4 * (100 + t)  # noqa: E731
    assert [s[0] for s in seen] == [0, 1, 2, 3]  # max_iterations
    for t, n, sums, pressure, prepared_result in seen:
        assert n == min(t + 1, 2) and sums == [total(u) for u in range(t - n + 1, t + 1)]
        assert pressure == [t, t] and prepared_result == t * 1000
    assert set(prepared) >= {0, 1, 2, 3} and prepared[0] == (2, 4)
    assert r0["cooling"] == r1["cooling"] == 0.3  # the newest value, as the first version's get(name=) gave it
    assert r0["missing"] == "none"


def test_deisa_rays_first_version_calls_that_need_what_they_cannot_have(run_dir):
    from deisa.ray.types import WindowArrayDefinition
    from deisa.ray.window_handler import Deisa

    d = Deisa(timeout=5)
    with pytest.raises(TypeError, match="set\\(\\) needs a timestep outside a callback"):
        d.set(key="cooling", value=1.0)
    with pytest.raises(NotImplementedError, match="chunked feedback"):
        d.set(key="cooling", value=1.0, timestep=0, chunked=True)
    with pytest.raises(TypeError, match="max_iterations and prepare_iteration go with a list"):
        d.register_callback(print, "x", max_iterations=3)

    def cb(x, timestep):
        pass

    d.register_callback(cb, [WindowArrayDefinition("x")])
    d.unregister_callback(cb)
    assert d.registered_callbacks == []
    with pytest.raises(ValueError, match="is not a registered callback"):
        d.unregister_callback(cb)
