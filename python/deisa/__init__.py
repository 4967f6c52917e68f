"""Deisa: in situ analytics of MPI simulations with Dask, on a C# core.

Simulation side: :class:`Bridge`. Analytics side: :class:`Deisa`, :class:`Window`,
:class:`DeisaArray`.

The analytics side is imported on first use: a simulation rank doing ``from deisa import
Bridge`` does not load Dask (about 100 MB of resident memory per rank).
"""

import importlib

from ._abi import VERSION as __version__
from .bridge import Bridge
from .errors import AnalyticsLostError, ConfigError, ContractError, NodeLost, Terminated

__all__ = ["Bridge", "Deisa", "Window", "DeisaArray", "ContractError", "ConfigError", "AnalyticsLostError", "NodeLost", "Terminated", "to_hdf5",
           "to_xarray"]

_LAZY = {"Deisa": ".analytics", "DeisaArray": ".array", "to_hdf5": ".array", "to_xarray": ".array", "Window": ".window"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deisa' has no attribute '{name}'")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
