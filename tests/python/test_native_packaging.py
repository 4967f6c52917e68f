"""What native users get from the Python package (docs/specification.md §1, §6): header, Fortran module,
CMake package config and pkg-config files, found through ``python -m deisa``."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import deisa._native as native
from native_build import deisa_cli

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"


def test_no_file_generated_from_the_abi_description_is_stale():
    # deisa.h's constants, the Fortran module, python/deisa/_abi.py and AbiConstants.g.cs.
    result = subprocess.run([sys.executable, str(ROOT / "Deisa.Native" / "abi" / "generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_stale_check_sees_a_changed_file(tmp_path):
    # A copy of the generator and its sources, one generated file edited by hand: --check fails, naming it.
    copy = tmp_path / "repo"
    for rel in ("Deisa.Native/abi", "Deisa.Native/fortran", "Deisa.Native/include"):
        shutil.copytree(ROOT / rel, copy / rel)
    for rel in ("python/deisa/_abi.py", "Deisa.Core/Model/AbiConstants.g.cs"):
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, copy / rel)
    abi = copy / "python" / "deisa" / "_abi.py"
    abi.write_text(abi.read_text().replace("ERR_TIMEOUT = 4", "ERR_TIMEOUT = 40"))
    result = subprocess.run([sys.executable, str(copy / "Deisa.Native" / "abi" / "generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "_abi.py is stale" in result.stderr, result.stderr


def test_the_package_ships_header_module_and_build_files():
    include, cmake, pc = deisa_cli("--include-dir"), deisa_cli("--cmake-dir"), deisa_cli("--pkgconfig-dir")
    assert (include / "deisa.h").read_text() == (ROOT / "Deisa.Native" / "include" / "deisa.h").read_text()
    assert (include / "deisa.f90").read_text() == (ROOT / "Deisa.Native" / "fortran" / "deisa.f90").read_text()
    assert (include / "fortran" / "deisa.mod").stat().st_size > 0
    assert {p.name for p in cmake.iterdir()} >= {"DeisaConfig.cmake", "DeisaConfigVersion.cmake"}
    assert {p.name for p in pc.iterdir()} >= {"deisa.pc", "deisa-fortran.pc"}


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config not installed")
def test_pkg_config_gives_the_library_version_and_flags():
    env = dict(os.environ, PKG_CONFIG_PATH=str(deisa_cli("--pkgconfig-dir")))
    version = subprocess.run(["pkg-config", "--modversion", "deisa"], env=env, capture_output=True, text=True, check=True)
    assert version.stdout.strip() == native.lib().deisa_version().decode()
    libs = subprocess.run(["pkg-config", "--libs", "deisa-fortran"], env=env, capture_output=True, text=True, check=True)
    flags = libs.stdout.split()
    # The Fortran module's archive comes before the library it calls.
    assert flags.index("-ldeisa_fortran") < flags.index("-ldeisa")


@pytest.mark.skipif(shutil.which("c++") is None, reason="no C++ compiler")
def test_the_header_compiles_as_c_and_cplusplus():
    src = PROGRAMS / "header_user.c"
    include = str(deisa_cli("--include-dir"))
    for compiler, extra in (("cc", ["-std=c99", "-pedantic"]), ("c++", ["-x", "c++", "-std=c++11", "-pedantic"])):
        result = subprocess.run([compiler, *extra, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", include, str(src)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{compiler}: {result.stderr}"


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
@pytest.mark.parametrize("wanted, found", [("0.2", True), ("1.0", False)])
def test_find_package_checks_the_version(tmp_path, wanted, found):
    configure = subprocess.run(["cmake", "-S", str(PROGRAMS / "find_package_probe"), "-B", str(tmp_path / "build"),
                                f"-DDEISA_VERSION_WANTED={wanted}", f"-DDeisa_DIR={deisa_cli('--cmake-dir')}"],
                               capture_output=True, text=True)
    if not found:
        assert configure.returncode != 0
        assert native.lib().deisa_version().decode() in configure.stderr and "Deisa" in configure.stderr
        return
    assert configure.returncode == 0, configure.stderr
    subprocess.run(["cmake", "--build", str(tmp_path / "build")], capture_output=True, check=True)
    run = subprocess.run([str(tmp_path / "build" / "probe")], capture_output=True, text=True)
    assert run.stdout.strip() == native.lib().deisa_version().decode()
