"""deisa-ray's import paths, so that code written for deisa-ray runs unchanged on Deisa.

``from deisa.ray import Bridge, Deisa``, ``from deisa.ray.bridge import Bridge``,
``from deisa.ray.window_handler import Deisa``, ``from deisa.ray.types import Window,
DeisaArray, to_hdf5``, ``from deisa.ray.errors import ContractError, ConfigError`` and
``deisa.ray.config`` give Deisa's own objects: there is no second implementation. What maps to
what, and where Deisa deliberately differs, is in docs/deisa-ray.md.

As ``deisa`` itself, the analytics side is imported on first use: a simulation rank doing
``from deisa.ray import Bridge`` does not load Dask.
"""

import importlib
import typing

from ..bridge import Bridge

Timestep = typing.Hashable  # deisa-ray's type of a timestep (Deisa's are integers)

__all__ = ["Bridge", "Deisa", "Timestep"]


def __getattr__(name):
    if name == "Deisa":
        value = importlib.import_module("..analytics", __name__).Deisa
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deisa.ray' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
