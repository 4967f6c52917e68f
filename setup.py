"""Builds libdeisa.so with `dotnet publish` (Native AOT) and ships it inside the package."""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent


class BuildNative(build_py):
    def run(self):
        super().run()
        out = ROOT / "build" / "native"
        subprocess.check_call(["dotnet", "publish", str(ROOT / "Deisa.Native" / "Deisa.Native.csproj"),
                               "-c", "Release", "-o", str(out), "-nologo", "-v", "quiet"])
        target = Path(self.build_lib) / "deisa"
        (target / "lib").mkdir(parents=True, exist_ok=True)
        (target / "include").mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / "libdeisa.so", target / "lib" / "libdeisa.so")
        shutil.copy2(ROOT / "Deisa.Native" / "include" / "deisa.h", target / "include" / "deisa.h")


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildNative}, distclass=BinaryDistribution)
