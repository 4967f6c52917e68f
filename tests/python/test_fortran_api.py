"""The Fortran module cannot be misused (docs/specification.md §6): ierr is always last, timesteps
are integer(int64) and dtypes type(deisa_dtype), so a call that puts an argument in ierr's place,
or ierr in another's, does not compile. Each program of tests/native/fortran_api/ makes one such
call; correct_calls.f90 makes them right and must compile."""

import shutil
import subprocess
from pathlib import Path

import pytest

from native_build import deisa_cli

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "native" / "fortran_api"

pytestmark = pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")


def compile_program(source):
    """gfortran's answer to ``source`` checked against the package's compiled module `deisa`."""
    modules = deisa_cli("--include-dir") / "fortran"
    return subprocess.run(["gfortran", "-std=f2018", "-Wall", "-Werror", "-fsyntax-only", f"-I{modules}", str(source)],
                          capture_output=True, text=True, timeout=120)


def test_the_calls_made_right_compile():
    result = compile_program(PROGRAMS / "correct_calls.f90")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("program", sorted(p.name for p in PROGRAMS.glob("*.f90") if p.name != "correct_calls.f90"))
def test_a_misused_call_does_not_compile(program):
    result = compile_program(PROGRAMS / program)
    assert result.returncode != 0, f"{program} compiled"
    # Refused for the call, not for something else in the program.
    assert "There is no specific subroutine for the generic" in result.stderr, result.stderr
