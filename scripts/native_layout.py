"""Lays out the native files inside the Python package directory ``deisa/``:

    lib/libdeisa.so                 the Native AOT library
    lib/libdeisa_fortran.a          the Fortran module compiled by this machine's gfortran
    lib/cmake/Deisa/*.cmake         find_package(Deisa)
    lib/pkgconfig/deisa*.pc         pkg-config deisa / deisa-fortran
    include/deisa.h, deisa.f90      the C header and the Fortran module source
    include/fortran/deisa.mod       the compiled Fortran module (gfortran of this machine)

Used by setup.py (wheel) and scripts/build-native.sh (checkout):
``python3 scripts/native_layout.py BUILD_NATIVE_DIR PACKAGE_DIR``.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE = ROOT / "Deisa.Native"
VERSION = json.loads((NATIVE / "abi" / "deisa_abi.json").read_text())["version"]


def _replace(src, dst):
    """Copy, then rename over ``dst``: processes that mapped the old file keep it intact."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def _versioned(src, dst):
    """A CMake or pkg-config file with the ABI's version in place of @DEISA_VERSION@."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.write_text(src.read_text().replace("@DEISA_VERSION@", VERSION))
    os.replace(tmp, dst)


def check_generated():
    """Stops the build when a file generated from the ABI's description is stale."""
    result = subprocess.run([sys.executable, str(NATIVE / "abi" / "generate.py"), "--check"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"deisa: {result.stderr.strip()}")


def compile_fortran_module(lib, modules):
    """deisa.mod and libdeisa_fortran.a for this machine's gfortran; False without gfortran."""
    gfortran = shutil.which("gfortran")
    if gfortran is None:
        print("deisa: gfortran not found; the Fortran module ships as source only")
        return False
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.check_call([gfortran, "-O2", "-fPIC", "-J", str(tmp), "-c",
                               str(NATIVE / "fortran" / "deisa.f90"), "-o", str(tmp / "deisa.o")])
        subprocess.check_call(["ar", "rcs", str(tmp / "libdeisa_fortran.a"), str(tmp / "deisa.o")])
        _replace(tmp / "deisa.mod", modules / "deisa.mod")
        _replace(tmp / "libdeisa_fortran.a", lib / "libdeisa_fortran.a")
    return True


def install(native_build, package):
    """Copy the library built into ``native_build`` and the native files into ``package``."""
    lib, include = Path(package) / "lib", Path(package) / "include"
    _replace(Path(native_build) / "libdeisa.so", lib / "libdeisa.so")
    _replace(NATIVE / "include" / "deisa.h", include / "deisa.h")
    _replace(NATIVE / "fortran" / "deisa.f90", include / "deisa.f90")
    for f in sorted((NATIVE / "cmake").glob("*.cmake")):
        _versioned(f, lib / "cmake" / "Deisa" / f.name)
    _versioned(NATIVE / "pkgconfig" / "deisa.pc", lib / "pkgconfig" / "deisa.pc")
    if compile_fortran_module(lib, include / "fortran"):
        _versioned(NATIVE / "pkgconfig" / "deisa-fortran.pc", lib / "pkgconfig" / "deisa-fortran.pc")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    install(sys.argv[1], sys.argv[2])
