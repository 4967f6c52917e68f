#!/usr/bin/env bash
# Installs everything Deisa needs on a fresh Debian machine with the .NET SDK: Debian
# packages (Python stack, Open MPI, clang for Native AOT, gfortran and CMake for the C and
# Fortran examples, iproute2 for the simulated cluster nodes, chromium for the dashboard's
# test), then a virtual environment in .venv with the package installed (pip builds
# libdeisa.so with dotnet publish).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(python3 python3-venv python3-pip python3-setuptools python3-wheel python3-numpy python3-dask
          python3-distributed python3-mpi4py python3-h5py python3-xarray python3-netcdf4 python3-zarr python3-matplotlib
          python3-pytest openmpi-bin libopenmpi-dev clang zlib1g-dev gfortran cmake pkg-config make
          iproute2 util-linux  # ip, unshare, nsenter: the simulated nodes of the scale-out tests
          passwd  # useradd, userdel: the second Unix user of the security tests
          chromium chromium-driver python3-selenium)  # a real browser for the dashboard's test
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
echo "setup: building libdeisa.so and installing the Python package into .venv"
.venv/bin/python -m pip install --no-build-isolation --no-deps --no-index --quiet --disable-pip-version-check . 
echo "setup: done ($(.venv/bin/python -c 'import deisa, deisa._native as n; print(n.library_path())'))"
