"""Builds libdeisa.so with `dotnet publish` (Native AOT) and ships it inside the package."""

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))
import native_layout  # noqa: E402 - the layout of the native files, shared with build-native.sh


class BuildNative(build_py):
    def run(self):
        native_layout.check_generated()
        super().run()
        out = ROOT / "build" / "native"
        subprocess.check_call(["dotnet", "publish", str(ROOT / "Deisa.Native" / "Deisa.Native.csproj"),
                               "-c", "Release", "-o", str(out), "-nologo", "-v", "quiet"])
        native_layout.install(out, Path(self.build_lib) / "deisa")


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildNative}, distclass=BinaryDistribution)
