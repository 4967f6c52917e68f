#!/usr/bin/env bash
# Builds libdeisa.so (Native AOT) and puts it where the Python package finds it in a checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet publish Deisa.Native/Deisa.Native.csproj -c Release -o build/native -nologo -v quiet "$@"
mkdir -p python/deisa/lib
# Replace atomically: processes still running keep the old file mapped.
cp build/native/libdeisa.so python/deisa/lib/.libdeisa.so.tmp
mv -f python/deisa/lib/.libdeisa.so.tmp python/deisa/lib/libdeisa.so
