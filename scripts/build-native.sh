#!/usr/bin/env bash
# Builds libdeisa.so (Native AOT) and lays out the native files (library, deisa.h, Fortran
# module, CMake and pkg-config files) where the Python package finds them in a checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 Deisa.Native/abi/generate.py --check
dotnet publish Deisa.Native/Deisa.Native.csproj -c Release -o build/native -nologo -v quiet "$@"
python3 scripts/native_layout.py build/native python/deisa
