"""A restartable analytics (issue 16, point 7): with on_analytics_failure="wait", the ranks of a
simulation whose analytics was killed keep their blocks of the last max_simulation_ahead
timesteps and go on while they can; a new analytics started in the same directory takes the
running simulation over, gets those blocks (nothing unprocessed is lost) and the feedback the
killed one had set; without one, the wait ends with a clear error after the timeout."""

import glob
import json
import signal
import time

from conftest import launch_ranks

N = 2 * 1000  # elements of "x": 2 ranks x 1000


def reports_until(analytics, predicate, timeout=60):
    seen = []
    while True:
        r = analytics.read_report(timeout=timeout)
        seen.append(r)
        if predicate(r):
            return seen


def test_a_new_analytics_takes_the_running_simulation_over(run_dir, analytics_process):
    first = analytics_process("analytics_setting_feedback.py")
    sim = launch_ranks(run_dir, "sending_with_the_wait_policy.py", 2, (60, 60))
    killed = reports_until(first, lambda r: r.get("t", -1) >= 5)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    session = killed[0]["session"]
    time.sleep(2.0)
    assert all(p.poll() is None for p in sim.procs), "the ranks wait for a new analytics"
    assert glob.glob(str(run_dir / ".deisa" / "feedback-*.journal")), "the killed analytics' feedback journal"

    second = analytics_process("analytics_setting_feedback.py")
    taken = second.wait(timeout=120)
    outcome = sim.wait(timeout=60)

    assert taken[-1] == {"end": True}
    by_first = [r["t"] for r in killed]
    by_second = [r["t"] for r in taken if "t" in r]
    assert by_first == list(range(len(by_first)))
    # From a timestep the first may not have processed on, every timestep, in order, once.
    assert by_first[-1] + 1 - 2 <= by_second[0] <= by_first[-1] + 1, (by_first, by_second)
    assert by_second == list(range(by_second[0], 60))
    assert all(r["sum"] == r["t"] * N for r in taken if "t" in r)  # the held blocks, as sent
    for reports in outcome:
        assert reports[-1] == {"done": True}
        # The feedback of both analytics: the second inherited the first's (asked right after
        # the last send, the newest values may not be set yet).
        expected, seen = sorted(set(by_first) | set(by_second)), reports[-2]["feedback"]
        assert len(by_first) < len(seen) and seen == expected[:len(seen)], (expected, seen)
    assert "a new analytics took over" in sim.stderr(0)
    left = sorted(p.name for p in (run_dir / ".deisa").iterdir())
    assert left == [], left
    assert glob.glob(f"/dev/shm/deisa-{session}-*") == []


def test_without_a_new_analytics_the_wait_ends_with_a_clear_error(run_dir, analytics_process):
    first = analytics_process("analytics_setting_feedback.py")
    sim = launch_ranks(run_dir, "sending_with_the_wait_policy.py", 2, (60, 5))  # timeout 5 s
    reports_until(first, lambda r: r.get("t", -1) >= 2)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    started = time.monotonic()
    outcome = sim.wait(timeout=60, check=False)
    assert time.monotonic() - started < 30
    for reports in outcome:
        name, message = reports[-1]["raised"]
        assert name == "TimeoutError"
        assert "no new analytics took over within 5 s" in message and "on_analytics_failure='wait'" in message, message
        assert "were not analysed" in message
