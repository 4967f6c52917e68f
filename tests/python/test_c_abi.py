"""The C ABI under bad calls (docs/specification.md §6): tests/native/c_abi_bad_calls.c, compiled with the
system's C compiler against deisa.h and libdeisa.so, makes every bad call in its table;
each must return its status code with a message naming what is wrong, the process must
survive them all and a whole good run must still work at the end.
"""

import glob
import os
import re
import shutil
import sys
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import deisa._native as native
from deisa._abi import STATUS_MESSAGES, STATUS_NAMES
from native_build import ROOT, BuildError, compile_c, compile_native, deisa_paths, find_compiler

SOURCE = ROOT / "tests" / "native" / "c_abi_bad_calls.c"
LINE = re.compile(r"^(ok|not ok) (\d+) - (.*)$")
MESSAGE = re.compile(r"^#   status (-?\d+): (.*)$")


@dataclass
class Row:
    number: int
    ok: bool
    text: str  # the description, and for a failed row ": what went wrong"
    section: str
    status: str = None  # as printed by -v, for rows of the table
    message: str = None


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    rendezvous: Path
    rows: list = field(default_factory=list)
    plan: int = None
    sessions: list = field(default_factory=list)

    def failures(self):
        return [f"not ok {r.number} - {r.text}" for r in self.rows if not r.ok]

    def in_section(self, prefix):
        return [r for r in self.rows if r.section.startswith(prefix)]

    def about(self, function):
        return [r for r in self.rows if re.search(rf"\b{function}\b", r.text)]


def parse(out):
    rows, plan, sessions, section, pending = [], None, [], "", None
    for line in out.splitlines():
        if m := MESSAGE.match(line):
            pending = (STATUS_NAMES.get(int(m.group(1)), m.group(1)), m.group(2))
        elif m := LINE.match(line):
            status, message = pending or (None, None)
            rows.append(Row(int(m.group(2)), m.group(1) == "ok", m.group(3), section, status, message))
            pending = None
        elif line.startswith("# session "):
            sessions.append(line.split()[2])
        elif line.startswith("# ") and not line.startswith("#   "):
            section = line[2:]
        elif re.fullmatch(r"1\.\.\d+", line):
            plan = int(line[3:])
    return rows, plan, sessions


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    if find_compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang)")
    return compile_c([SOURCE], tmp_path_factory.mktemp("c_abi_build") / "c_abi_bad_calls")


@pytest.fixture(scope="module")
def run(program, tmp_path_factory):
    """One run of the program with its own rendezvous directory (never another run's)."""
    rendezvous = tmp_path_factory.mktemp("c_abi_run") / "rendezvous"
    env = dict(os.environ, DEISA_RENDEZVOUS=str(rendezvous))
    env.pop("DEISA_POOL_SIZE", None)
    start = time.monotonic()
    try:
        p = subprocess.run([str(program), "-v"], env=env, cwd=rendezvous.parent, capture_output=True, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"the C program hung (more than 300 s); its last lines:\n{out[-3000:]}")
    result = Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start, rendezvous)
    result.rows, result.plan, result.sessions = parse(p.stdout)
    return result


def test_every_bad_call_returns_its_code_and_message(run):
    failures = run.failures()
    assert not failures, f"{len(failures)} of {len(run.rows)} rows failed:\n" + "\n".join(failures)
    assert run.returncode == 0, f"exit status {run.returncode} although every row passed\n{run.stderr[-3000:]}"


def test_the_process_survives_every_row(run):
    # Killed by a signal (abort, segfault) shows as a negative status; a crash mid-table leaves
    # no plan line, or fewer rows than the plan.
    assert run.returncode >= 0, f"the program died of signal {-run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert run.plan is not None, f"no plan line: the program stopped early:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert [r.number for r in run.rows] == list(range(1, run.plan + 1))
    assert run.plan >= 300, f"the table has only {run.plan} rows"
    for marker in ("Unhandled exception", "Segmentation fault", "Aborted", "core dumped"):
        assert marker not in run.stderr, run.stderr[-3000:]


def test_a_whole_good_run_works_after_the_bad_calls(run):
    final = run.in_section("the process goes on")
    assert len(final) == 12, [r.text for r in final]
    assert all(r.ok for r in final), "\n".join(f"{r.number} {r.text}" for r in final if not r.ok)
    assert final[-1].number == run.plan  # the last thing the program did


def test_last_error_is_thread_local_and_cleared_by_success(run):
    rows = run.in_section("deisa_last_error is thread-local")
    expected = [
        "a new thread sees no message although this thread has one",
        "a bad call on another thread gets its own message",
        "a good call on another thread clears that thread's message",
        "this thread's message is unchanged by the other thread's calls",
        "deisa_last_error() itself leaves the message as it is",
        "deisa_version() leaves the message as it is",
        "a successful call clears the message (NULL)",
        "4 threads x 300 bad calls at once: each thread always reads its own message",
    ]
    assert len(rows) == len(expected) and all(r.text.startswith(e) for r, e in zip(rows, expected)), [r.text for r in rows]
    assert all(r.ok for r in rows), "\n".join(r.text for r in rows if not r.ok)
    # Every row of the table expecting DEISA_OK also checked that no message was left.
    ok_rows = [r for r in run.rows if r.status == "DEISA_OK"]
    assert len(ok_rows) > 40 and all(r.message == "(NULL)" for r in ok_rows)


def _header_functions():
    include, _ = deisa_paths()
    text = (include / "deisa.h").read_text()
    return sorted(set(re.findall(r"^\s*(?:const\s+)?\w+\s*\**\s*(deisa_\w+)\s*\(", text, re.M)))


def test_every_exported_function_has_rows(run):
    functions = _header_functions()
    assert len(functions) >= 30, functions
    missing = [f for f in functions if not run.about(f)]
    assert not missing, f"functions of deisa.h without a row in the table: {missing}"
    # Each function taking a handle or pointer is called with a bad one at least once.
    no_bad_call = [f for f in functions
                   if f not in ("deisa_last_error", "deisa_version", "deisa_status_string", "deisa_string_free",
                                "deisa_set_last_error")
                   and not any(r.status not in (None, "DEISA_OK") for r in run.about(f))]
    assert not no_bad_call, f"functions never called badly: {no_bad_call}"


def test_header_and_library_export_the_same_functions():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    _, libdir = deisa_paths()
    out = subprocess.run([nm, "-D", "--defined-only", str(libdir / "libdeisa.so")], capture_output=True, text=True,
                         check=True).stdout
    exported = sorted({m.split("@")[0] for m in re.findall(r"\bT (deisa_\S+)", out)})
    assert exported == _header_functions()


def test_every_error_code_is_exercised_and_no_message_is_vague(run):
    statuses = {r.status for r in run.rows if r.status}
    for code in ("DEISA_ERR_HANDLE", "DEISA_ERR_VALUE", "DEISA_ERR_TYPE", "DEISA_ERR_CONTRACT", "DEISA_ERR_TIMEOUT",
                 "DEISA_ERR_STATE", "DEISA_ERR_ANALYTICS_LOST", "DEISA_OK"):
        assert code in statuses, f"no row returns {code}"
    # An internal error is a bug in Deisa, never the answer to a bad argument.
    internal = [f"{r.number} {r.text}: {r.message}" for r in run.rows if r.status == "DEISA_ERR_INTERNAL"]
    assert not internal, "\n".join(internal)
    # (deisa_set_last_error's rows carry the caller's own message.)
    errors = [r for r in run.rows if r.status and r.status != "DEISA_OK" and "deisa_set_last_error" not in r.text]
    assert len(errors) > 200
    short = [f"{r.number} {r.text}: {r.message!r}" for r in errors if r.message in (None, "(NULL)") or len(r.message) < 8
             or r.message.startswith(("failed with status", "unknown error", "internal error"))]
    assert not short, "\n".join(short)


def test_handle_kinds_are_named_in_messages(run):
    rows = [r for r in run.rows if "a bridge handle" in r.text or "an analytics handle" in r.text]
    assert len(rows) >= 8
    for r in rows:
        assert r.ok and "was passed where a" in r.message, f"{r.number} {r.text}: {r.message}"


def test_runs_leave_no_shared_memory_or_rendezvous_files(run):
    assert len(run.sessions) >= 3, run.sessions
    left = [p for s in run.sessions for p in glob.glob(f"/dev/shm/deisa-{s}-*")]
    assert not left, f"shared memory left behind: {left}"
    records = [str(p) for p in run.rendezvous.rglob("analytics*")]
    assert not records, f"rendezvous files left behind: {records}"


def test_it_also_builds_with_clang(tmp_path):
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("no clang")
    assert compile_c([SOURCE], tmp_path / "with_clang", compiler=clang).is_file()


def test_compile_errors_carry_the_compilers_output(tmp_path):
    bad = Path(__file__).resolve().parent / "programs" / "calling_a_missing_function.c"
    with pytest.raises(BuildError) as e:
        compile_c([bad], tmp_path / "bad")
    assert "deisa_no_such_function" in str(e.value) and bad.name in str(e.value)
    with pytest.raises(BuildError, match="compiler not found"):
        compile_native(tmp_path / "no-such-compiler", [bad], tmp_path / "bad")


def test_cleanup_removes_dead_segments_but_spares_young_ones(tmp_path):
    """deisa_cleanup sweeps the shared memory of dead runs, but not a segment so young that a
    starting run may not have mapped it yet (the table's own cleanup row must never break a
    run starting at the same moment)."""
    import secrets

    old = Path(f"/dev/shm/deisa-{secrets.token_hex(6)}-0")
    young = Path(f"/dev/shm/deisa-{secrets.token_hex(6)}-0")
    try:
        for p in (old, young):
            p.write_bytes(b"\0" * 4096)
            p.chmod(0o600)
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p))
        r = subprocess.run([sys.executable, "-m", "deisa", "cleanup", "--rendezvous", str(tmp_path / "nowhere")],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert f"removed {old}" in r.stdout and not old.exists()
        assert str(young) not in r.stdout and young.exists()
    finally:
        for p in (old, young):
            p.unlink(missing_ok=True)


def test_each_status_string_is_the_one_of_the_abi_description():
    lib = native.lib()
    assert {s: lib.deisa_status_string(s).decode() for s in STATUS_MESSAGES} == STATUS_MESSAGES
    assert lib.deisa_status_string(len(STATUS_MESSAGES)).decode() == "unknown status"
    assert lib.deisa_status_string(-1).decode() == "unknown status"
