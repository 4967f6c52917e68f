"""An analytics written in C (tests/native/c_analytics_events.c), compiled against deisa.h and
libdeisa.so: it reads a two-rank run's events as the packed records deisa.h documents
(deisa_analytics_read_events), checking every field and the blocks' values in shared memory.
"""

import glob
import os
import re
import subprocess

import pytest

from native_build import ROOT, compile_c, find_compiler

SOURCE = ROOT / "tests" / "native" / "c_analytics_events.c"
CHECKS = 11  # the program's checks: a run that skips some must not pass


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang)")
    program = compile_c([SOURCE], tmp_path_factory.mktemp("c_analytics_build") / "c_analytics_events")
    directory = tmp_path_factory.mktemp("c_analytics_run") / "rendezvous"
    env = {k: v for k, v in os.environ.items() if k not in ("DEISA_POOL_SIZE", "DEISA_RENDEZVOUS")}
    before = set(glob.glob("/dev/shm/deisa-*"))
    try:
        p = subprocess.run([str(program), str(directory)], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the C analytics hung (more than 120 s); its output:\n{e.stdout}")
    return p, set(glob.glob("/dev/shm/deisa-*")) - before


def test_every_check_of_the_c_analytics_passes(run):
    p, _ = run
    rows = re.findall(r"^(ok|not ok) (\d+) - (.*)$", p.stdout, re.M)
    failed = [f"{n} {text}" for status, n, text in rows if status != "ok"]
    assert not failed, "\n".join(failed) + f"\nstderr:\n{p.stderr[-3000:]}"
    assert len(rows) == CHECKS, p.stdout
    assert f"1..{CHECKS}" in p.stdout.splitlines()
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_runs_leave_no_shared_memory(run):
    _, left = run
    assert not left, f"segments left in /dev/shm: {sorted(left)}"
