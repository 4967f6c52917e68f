"""The live dashboard: Deisa(dashboard=...) serves a page from the analytics process.

The end-to-end test runs the heat example's simulation on 4 ranks under mpirun while a real
headless browser (Debian's chromium, through chromedriver and selenium) watches the page,
then checks that what the page shows matches the run, and keeps screenshots in
build/test-results (or $DEISA_TEST_ARTIFACTS).
"""

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import MPI_ENV

from deisa import Deisa, Window

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("DEISA_TEST_ARTIFACTS") or ROOT / "build" / "test-results")
HEAT = ROOT / "examples" / "heat2d_simulation.py"


@pytest.mark.parametrize("option", ["dashboard", "flight"])  # one rule for both (deisa._serve)
@pytest.mark.parametrize("value, error", [(1.5, TypeError), ([8787], TypeError), (70000, ValueError), (-1, ValueError)])
def test_the_serving_arguments_are_checked(option, value, error):
    with pytest.raises(error, match=option):
        Deisa(**{option: value})


def test_an_address_the_dashboard_cannot_serve_on_is_named(run_dir):
    d = Deisa(dashboard="unix:/tmp/dashboard.sock", timeout=5)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(ValueError, match="dashboard address 'unix:/tmp/dashboard.sock' must be 'host:port'"):
        d.execute_callbacks()
    assert d.dashboard is None
    assert not list((run_dir / ".deisa").glob("*.json")), "the run's record was left behind"


def get(url, token=None, host=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def run_heat(d, run_dir, steps, size=(96, 64), ended=None):
    """The heat example's simulation on 4 ranks under mpirun, with ``d.execute_callbacks()`` in
    this thread; ``ended()`` runs when the run ended, however it ended. Checks the simulation succeeded."""
    sim = subprocess.Popen(["mpirun", "--oversubscribe", "-np", "4", sys.executable, str(HEAT), "--steps", str(steps),
                            "--size", *map(str, size), "--substeps", "4", "--timeout", "60"],
                           cwd=run_dir, env=dict(os.environ, **MPI_ENV), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        d.execute_callbacks()
        out, _ = sim.communicate(timeout=60)
    finally:
        if ended is not None:
            ended()
        if sim.poll() is None:
            sim.kill()
    assert sim.returncode == 0, out


def test_the_page_and_its_tables_need_the_session_token(run_dir):
    steps = 4
    d = Deisa(dashboard=True, timeout=60)
    seen = []
    d.register_callback(lambda temperature: seen.append(1), Window("temperature"))
    run_heat(d, run_dir, steps)
    try:
        url = d.dashboard.url
        base, token = url.split("/?token=")
        assert base.startswith("http://127.0.0.1:")
        # After the run, the page still shows it (as it ended), to the token alone.
        assert get(base + "/api/run")[0] == 401
        assert get(base + "/")[0] == 401
        status, kind, body = get(base + "/api/run", token)
        assert status == 200 and kind == "application/vnd.apache.arrow.stream"
        assert body[:4] == b"\xff\xff\xff\xff"  # an Arrow IPC stream starts with a continuation marker
        assert b"ended: the analytics has finished" in body
        assert get(base + "/api/run", token, host="attacker.example")[0] == 403
        assert get(base + "/?token=not-the-token")[0] == 401
        # The URL's token becomes a cookie, and the page is served to that cookie.
        connection = http.client.HTTPConnection(base[len("http://"):], timeout=10)
        connection.request("GET", "/?token=" + token)
        entry = connection.getresponse()
        entry.read()
        assert (entry.status, entry.getheader("Location")) == (302, "/")
        cookie = entry.getheader("Set-Cookie").split(";")[0]
        connection.request("GET", "/", headers={"Cookie": cookie})
        page = connection.getresponse()
        assert page.status == 200 and b"deisa dashboard" in page.read()
        connection.close()
        assert len(seen) == steps
    finally:
        d.dashboard.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(base + "/api/run", timeout=5)


def chrome():
    """A headless chromium through chromedriver (as root: no sandbox)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser and driver, "chromium and chromium-driver are needed (scripts/setup.sh installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1500"):
        options.add_argument(a)
    return webdriver.Chrome(service=Service(driver), options=options)


def wait_until(what, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# What the page shows, read in one go in the page (its tables are rebuilt at each refresh).
PAGE_STATE = """
const text = id => document.getElementById(id).textContent;
const cells = id => [...document.querySelectorAll('#' + id + ' tbody tr')].map(tr => [...tr.cells].map(td => td.textContent));
const ids = ['state', 'ranks-connected', 'world-size', 'ranks-registered', 'ranks-closed', 'ranks-lost', 'timesteps-processed',
             'last-processed', 'newest-received', 'nodes-count', 'arrays-count', 'errors-count', 'pool', 'message'];
const state = Object.fromEntries(ids.map(id => [id, text(id)]));
for (const t of ['arrays', 'callbacks', 'feedback', 'errors', 'nodes']) state[t] = cells(t);
state.ranks = [...document.querySelectorAll('#ranks .rank')].map(e => e.dataset.state);
state.refreshes = Number(document.body.dataset.refreshes || 0);
const card = document.querySelector('.picture[data-array="temperature"]');
if (card) {
  const c = card.querySelector('canvas.heatmap');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) colours.add(d[i] * 65536 + d[i + 1] * 256 + d[i + 2]);
  state.picture = {timestep: card.dataset.timestep, slice: card.querySelector('.slice').textContent,
                   scale: [...card.querySelectorAll('.scale span')].map(s => s.textContent),
                   points: Number(card.dataset.points), width: c.width, height: c.height, colours: colours.size};
}
return state;
"""


def page(drv):
    return drv.execute_script(PAGE_STATE)


def test_a_browser_sees_the_run_live_and_as_it_ended(run_dir):
    steps, shape = 40, (96, 64)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    d = Deisa(dashboard=True, timeout=60)
    truth = {}  # timestep -> (mean, min, max) of the temperature, as the callback computed it
    cooling = {}

    def watch(temperature):
        t = temperature[-1].timestep
        field = temperature[-1].compute()
        truth[t] = (float(field.mean()), float(field.min()), float(field.max()))
        cooling[t] = 0.5 + t / 100
        d.set("cooling", cooling[t], t)
        time.sleep(0.05)
        if t == steps // 2:  # the run waits here until the browser saw it live
            live_seen.wait(60)

    def failing(temperature):
        if temperature[-1].timestep % 10 == 5:
            raise ArithmeticError(f"no luck at {temperature[-1].timestep}")

    d.register_callback(watch, Window("temperature"))
    d.register_callback(failing, Window("temperature"), exception_handler=lambda e: None)
    seen, failure, run_ended, live_seen = {}, [], threading.Event(), threading.Event()

    def browse():
        drv = None
        try:
            url = wait_until("the dashboard", lambda: d.dashboard and d.dashboard.url)
            drv = chrome()
            drv.get(url)
            assert drv.current_url.endswith("/"), drv.current_url  # the token went into a cookie
            def running():
                p = page(drv)
                return p if p["state"] == "running" and int(p["timesteps-processed"]) >= 3 else None

            def ended():
                p = page(drv)
                return p["state"].startswith("ended") and p["timesteps-processed"] == str(steps)

            live = wait_until("the run, live on the page", running)
            seen["live processed"] = int(live["timesteps-processed"])
            seen["live world"] = live["world-size"]
            drv.save_screenshot(str(ARTIFACTS / "dashboard-live.png"))
            live_seen.set()
            run_ended.wait(120)
            wait_until("the ended run on the page", ended, timeout=15)
            time.sleep(1.5)  # one more refresh: the pictures drawn from the last tables
            seen.update(page(drv))
            drv.save_screenshot(str(ARTIFACTS / "dashboard.png"))
        except BaseException as e:  # noqa: BLE001 - reported by the test's thread
            failure.append(e)
            live_seen.set()
            if drv is not None:
                drv.save_screenshot(str(ARTIFACTS / "dashboard-failure.png"))
        finally:
            if drv is not None:
                drv.quit()

    browser = threading.Thread(target=browse, daemon=True)
    browser.start()
    time.sleep(0.5)
    try:
        run_heat(d, run_dir, steps, shape, ended=run_ended.set)
    finally:
        browser.join(90)
        d.dashboard.close()
    assert not failure, failure[0]

    # Live: the page followed the run while it went on.
    assert 3 <= seen["live processed"] <= steps // 2 + 1 and seen["live world"] == "4"
    # As it ended: every number matches the run.
    assert seen["state"] == "ended: the analytics has finished"
    assert (seen["ranks-connected"], seen["world-size"], seen["ranks-registered"], seen["ranks-closed"],
            seen["ranks-lost"]) == ("0", "4", "4", "4", "0")
    assert seen["ranks"] == ["closed"] * 4
    assert (seen["timesteps-processed"], seen["last-processed"], seen["newest-received"]) == (str(steps), str(steps - 1),
                                                                                              str(steps - 1))
    assert (seen["nodes-count"], seen["arrays-count"]) == ("1", "1")
    assert seen["arrays"] == [["temperature", "float64", "96 × 64", "4", "2×48 × 2×32", str(steps - 1)]]
    callbacks = {row[0]: row for row in seen["callbacks"]}
    failures = [t for t in range(steps) if t % 10 == 5]
    assert callbacks[watch.__qualname__][1:3] == [str(steps), "0"]
    assert callbacks[failing.__qualname__][1:3] == [str(steps), str(len(failures))]
    assert seen["feedback"] == [["cooling", str(steps - 1), repr(cooling[steps - 1])]]
    assert seen["errors-count"] == str(len(failures))
    assert [(row[1], row[2], row[3]) for row in seen["errors"]] == [
        (f"callback {failing.__qualname__}", str(t), f"ArithmeticError: no luck at {t}") for t in reversed(failures)]
    assert seen["message"] == ""
    # The picture: the whole 96 x 64 plate at a timestep of the run, coloured, its scale the
    # field's min and max at that timestep; the line has a point per timestep reduced.
    picture = seen["picture"]
    assert picture["slice"] == "[:, :] (96 × 64)"
    t = int(picture["timestep"])
    assert 0 <= t < steps
    low, high = truth[t][1], truth[t][2]
    assert [float(x) for x in picture["scale"]] == pytest.approx([low, high], rel=1e-3, abs=1e-12)
    assert (picture["width"], picture["height"]) == (64, 96) and picture["colours"] > 20
    assert 1 <= picture["points"] <= steps
    assert seen["refreshes"] >= 3
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000


def test_the_pictures_keep_to_their_budget(run_dir):
    """The pictures and points keep to their budget of time and to their periods."""
    from deisa.dashboard import ArrayPictures, _slice_of

    assert _slice_of((10, 600, 300), 256) == ((5, slice(None, None, 3), slice(None, None, 2)), "[5, ::3, ::2]")
    assert _slice_of((7,), 256) == ((slice(None, None, 1),), "[:]")

    calls = []

    class Lib:
        def deisa_analytics_report_picture(self, *a):
            calls.append(("picture", a[2], a[3], a[4]))
            return 0

        def deisa_analytics_report_reduction(self, *a):
            calls.append(("reduction", a[2], a[3]))
            return 0

    import dask
    import dask.array as da

    x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    built = []

    def array_of(name):
        built.append(name)
        return x

    # A share of 0: the first point finds the budget unspent, the next ones spent.
    pictures = ArrayPictures(Lib(), None, lambda *xs: dask.compute(*xs, scheduler="sync"), share=0.0, point_period=0)
    pictures.timestep_done(0, ["x"], array_of)
    pictures.timestep_done(1, ["x"], array_of)
    assert calls == [("picture", 0, 3, 4), ("reduction", 0, 5.5)]
    assert built == ["x"]  # the array is built only when a point of it is due
    # Within the budget, a point every point_period at most, and a picture every period.
    calls.clear()
    pictures = ArrayPictures(Lib(), None, lambda *xs: dask.compute(*xs, scheduler="sync"), share=1.0,
                             period=3600, point_period=3600)
    for t in range(3):
        pictures.timestep_done(t, ["x"], array_of)
    assert calls == [("picture", 0, 3, 4), ("reduction", 0, 5.5)]


def test_deisa_dashboard_serves_a_running_session_from_another_process(run_dir):
    """``deisa dashboard`` in another process reads the run's tables through its control server."""
    steps = 6
    d = Deisa(timeout=60)  # no dashboard of its own: the other process serves one
    checked, seen, failure = threading.Event(), {}, []

    def watch(temperature):
        if temperature[-1].timestep == 2:  # the run waits here until the other process saw it
            checked.wait(60)

    d.register_callback(watch, Window("temperature"))

    def serve_and_read():
        cli = None
        try:
            wait_until("the run to start", lambda: d.session is not None)
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            cli = subprocess.Popen([sys.executable, "-m", "deisa", "dashboard"], cwd=run_dir, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = cli.stdout.readline()
            assert line.startswith("deisa: dashboard at http://127.0.0.1:"), line + cli.stderr.read()
            base, token = line.split()[-1].split("/?token=")
            assert get(base + "/api/run")[0] == 401

            def processed():
                status, _, body = get(base + "/api/run", token)
                return status == 200 and b"running" in body and body

            body = wait_until("the run through the other process", processed)
            seen["run"] = body
            seen["callbacks"] = get(base + "/api/callbacks", token)
            cli.send_signal(signal.SIGTERM)
            seen["exit"] = cli.wait(30)
        except BaseException as e:  # noqa: BLE001 - reported by the test's thread
            failure.append(e)
        finally:
            checked.set()
            if cli is not None and cli.poll() is None:
                cli.kill()

    helper = threading.Thread(target=serve_and_read, daemon=True)
    helper.start()
    try:
        run_heat(d, run_dir, steps, ended=checked.set)
    finally:
        helper.join(60)
    assert not failure, failure[0]
    assert d.session.encode() in seen["run"]  # the tables of this very run
    status, kind, _ = seen["callbacks"]
    assert (status, kind) == (200, "application/vnd.apache.arrow.stream")
    assert seen["exit"] == 0


def test_deisa_dashboard_without_a_live_run_says_so(run_dir):
    r = subprocess.run([sys.executable, "-m", "deisa", "dashboard", "--rendezvous", str(run_dir / "nothing")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "no live analytics" in r.stderr
