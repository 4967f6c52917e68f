"""The rendezvous directory under stale runs and strangers (issue 16, points 2 to 5): what dead
runs leave, a dead analytics whose pid was reused, two analytics started at once, and a
directory or record another user controls."""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import PROGRAMS

from deisa import Deisa
from deisa.testing import start_ranks

OLD = time.time() - 3600  # an hour ago: older than any run starting now


def dead_sockets(directory, session):
    """The socket files a crashed run of ``session`` leaves (plain files stand in for them)."""
    paths = [directory / f"analytics-{session}.sock", directory / f"analytics-{session}.blocks.sock"]
    for p in paths:
        p.write_text("")
        os.utime(p, (OLD, OLD))
    return paths


def cleanup(run_dir):
    out = subprocess.run([sys.executable, "-m", "deisa", "cleanup"], capture_output=True, text=True, cwd=run_dir,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cleanup_removes_every_socket_of_dead_runs_even_without_their_record(run_dir):
    directory = run_dir / ".deisa"
    directory.mkdir()
    old = dead_sockets(directory, "0123456789ab") + dead_sockets(directory, "ba9876543210")
    young = directory / "analytics-feedfacecafe.sock"  # a run starting now: not touched
    young.write_text("")
    out = cleanup(run_dir)
    assert [p for p in old if p.exists()] == []
    assert all(str(p) in out for p in old)
    assert young.exists()


def test_cleanup_removes_the_feedback_journals_dead_runs_left(run_dir):
    """A killed analytics leaves its feedback journal for a successor; cleanup removes it."""
    directory = run_dir / ".deisa"
    directory.mkdir()
    journal = directory / "feedback-0123456789ab.journal"
    journal.write_bytes(b"")
    out = cleanup(run_dir)
    assert not journal.exists() and str(journal) in out


def test_status_of_a_directory_without_a_live_run_lists_what_cleanup_would_remove(run_dir):
    directory = run_dir / ".deisa"
    directory.mkdir()
    old = dead_sockets(directory, "0123456789ab")
    journal = directory / "feedback-0123456789ab.journal"
    journal.write_bytes(b"")
    out = subprocess.run([sys.executable, "-m", "deisa", "status"], capture_output=True, text=True, cwd=run_dir,
                         timeout=60)
    assert out.returncode == 1
    assert "no live analytics" in out.stderr and "deisa cleanup" in out.stderr
    assert all(str(p) in out.stderr for p in [*old, journal]), out.stderr
    assert all(p.exists() for p in [*old, journal])  # only listed
    cleanup(run_dir)
    out = subprocess.run([sys.executable, "-m", "deisa", "status"], capture_output=True, text=True, cwd=run_dir,
                         timeout=60)
    assert "no live analytics" in out.stderr and "left" not in out.stderr


def test_a_new_analytics_removes_the_sockets_dead_runs_left(simulation, run_dir):
    directory = run_dir / ".deisa"
    directory.mkdir()
    old = dead_sockets(directory, "0123456789ab")
    sim = simulation("three_timesteps_of_x.py", args=[1])
    d = Deisa(timeout=20)
    seen = []
    d.register_callback(lambda x: seen.append(x[0].t), "x")
    d.execute_callbacks()
    sim.wait()
    assert seen == [0, 1, 2]
    assert [p for p in old if p.exists()] == []


def stale_record(run_dir, pid):
    """The record of an analytics that died, whose pid ``pid`` now belongs to another process."""
    directory = run_dir / ".deisa"
    directory.mkdir(exist_ok=True)
    record = {"session": "0123456789ab", "token": "t" * 48, "address": f"unix:{directory}/analytics-0123456789ab.sock",
              "pid": pid, "host": os.uname().nodename, "pid_start": 1, "cluster": False}
    path = directory / "analytics.json"
    path.write_text(json.dumps(record))
    os.chmod(path, 0o600)
    return path


def test_a_dead_analytics_whose_pid_was_reused_is_not_taken_for_a_live_one(simulation, run_dir):
    """The record's pid belongs to an unrelated live process (started later than the record
    says): a new analytics starts, ranks reach it, and cleanup removes such a record."""
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        path = stale_record(run_dir, unrelated.pid)
        out = cleanup(run_dir)
        assert not path.exists() and str(path) in out

        stale_record(run_dir, unrelated.pid)
        sim = simulation("three_timesteps_of_x.py", args=[1])
        d = Deisa(timeout=20)
        seen = []
        d.register_callback(lambda x: seen.append(int(x[0].sum().compute())), "x")
        d.execute_callbacks()
        sim.wait()
        assert seen == [1, 3, 5]
        assert unrelated.poll() is None, "the unrelated process was left alone"
    finally:
        unrelated.kill()
        unrelated.wait()


def test_a_live_analytics_is_still_recognised_by_its_pid_and_start_time(run_dir, analytics_process, simulation):
    a = analytics_process("analytics_reporting_every_timestep.py")
    sim = simulation("waiting_for_go_after_first_send.py")
    assert a.read_report(timeout=30)["t"] == 0
    record = json.loads((run_dir / ".deisa" / "analytics.json").read_text())
    assert record["pid_start"] > 0
    out = cleanup(run_dir)
    assert (run_dir / ".deisa" / "analytics.json").exists() and "analytics.json" not in out
    (run_dir / "go").touch()
    sim.wait(timeout=30)
    assert a.wait(timeout=30)[-1] == {"end": True}


def test_two_analytics_started_at_once_one_wins(analytics_process, run_dir):
    """Started at the same instant in one directory, exactly one analytics claims it; the other
    fails at once with an error naming the winner (the winner then waits for its ranks)."""
    for attempt in range(3):
        go = run_dir / f"go{attempt}"
        racers = [analytics_process("racing_analytics.py", args=[go]) for _ in range(2)]
        time.sleep(1.0)  # both are waiting for the file
        go.touch()
        reports = [r.read_report(timeout=60) for r in racers]
        for r in racers:
            r.wait(timeout=30)
        lost = [r for r in reports if "another analytics" in (r["error"] or ["", ""])[1]]
        won = [r for r in reports if r not in lost]
        assert len(lost) == 1 and len(won) == 1, reports
        assert f"pid {won[0]['pid']}" in lost[0]["error"][1], reports
        assert lost[0]["seconds"] < won[0]["seconds"] / 2, reports  # at once, not after waiting
        assert won[0]["error"][0] == "TimeoutError", reports
    assert not (run_dir / ".deisa" / "analytics.lock").exists()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
OTHER_UID = 65534  # nobody


@pytest.mark.parametrize("tamper, error", [
    (lambda d: os.chmod(d, 0o777), "writable by other users"),
    (lambda d: os.chmod(d, 0o770), "writable by other users"),
    pytest.param(lambda d: os.chown(d, OTHER_UID, OTHER_UID), "belongs to another user", marks=needs_root),
])
def test_a_directory_others_control_is_refused_by_both_sides(run_dir, tamper, error):
    directory = run_dir / ".deisa"
    directory.mkdir()
    tamper(directory)
    d = Deisa(timeout=5)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(RuntimeError, match=error):
        d.execute_callbacks()
    ranks = start_ranks(PROGRAMS / "opening_a_bridge.py", 1, (10,), cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    out, err = ranks[0].communicate(timeout=60)
    assert error in out + err


@needs_root
def test_a_record_another_user_wrote_is_not_followed(run_dir):
    path = stale_record(run_dir, os.getpid())
    os.chown(path, OTHER_UID, OTHER_UID)
    out = subprocess.run([sys.executable, "-m", "deisa", "status"], capture_output=True, text=True, cwd=run_dir, timeout=60)
    assert out.returncode != 0 and "belongs to another user" in out.stderr
    d = Deisa(timeout=5)
    d.register_callback(lambda x: None, "x")
    with pytest.raises(RuntimeError, match="belongs to another user"):
        d.execute_callbacks()


@pytest.fixture
def other_user():
    """A Unix user created for the test (and removed after): (uid, gid)."""
    if os.geteuid() != 0:
        pytest.skip("creating a second Unix user needs root")
    if shutil.which("useradd") is None or shutil.which("userdel") is None:
        pytest.skip("useradd/userdel are not installed (Debian package passwd)")
    name = f"deisa-t{os.getpid() % 100000}"
    subprocess.run(["userdel", name], capture_output=True)  # a leftover of a killed run
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True, timeout=60)
    try:
        info = pwd.getpwnam(name)
        yield info.pw_uid, info.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=60)


def test_a_record_planted_by_another_user_is_never_followed(other_user):
    """Another user, in a directory both may write (as /tmp), makes .deisa/ with the record of
    a live analytics of hers, listening on her socket: the ranks and the analytics of this
    user refuse the directory, naming why, and nothing connects to her socket."""
    uid, gid = other_user
    shared = tempfile.mkdtemp(prefix="deisa-shared-", dir="/tmp")
    try:
        os.chmod(shared, 0o1777)  # world-writable and sticky, as /tmp
        planter = subprocess.Popen(["/usr/bin/python3", str(PROGRAMS / "planting_a_record.py"), shared, "15"], user=uid,
                                   group=gid, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert planter.stdout.readline().startswith('REPORT {"ready"'), planter.stderr.read()
            assert os.stat(os.path.join(shared, ".deisa")).st_uid == uid
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
            env.pop("DEISA_RENDEZVOUS", None)
            ranks = start_ranks(PROGRAMS / "opening_a_bridge.py", 1, (10,), cwd=shared, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
            out, err = ranks[0].communicate(timeout=60)
            assert "belongs to another user" in out + err, out + err
            analytics = subprocess.run([sys.executable, "-c", "from deisa import Deisa; d = Deisa(timeout=5); "
                                        "d.register_callback(lambda x: None, 'x'); d.execute_callbacks()"],
                                       cwd=shared, env=env, capture_output=True, text=True, timeout=60)
            assert analytics.returncode != 0 and "belongs to another user" in analytics.stderr, analytics.stderr
        finally:
            planter.kill()
            rest, _ = planter.communicate(timeout=30)
        assert "connected" not in rest
    finally:
        shutil.rmtree(shared, ignore_errors=True)
