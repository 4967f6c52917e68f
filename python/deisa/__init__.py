"""Deisa: in situ analytics of MPI simulations with Dask, on a C# core.

Simulation side: :class:`Bridge`. Analytics side: :class:`Deisa`, :class:`Window`,
:class:`DeisaArray`.
"""

from .analytics import Deisa
from .array import DeisaArray, to_hdf5
from .bridge import Bridge
from .errors import AnalyticsLostError, ContractError
from .window import Window

__all__ = ["Bridge", "Deisa", "Window", "DeisaArray", "ContractError", "AnalyticsLostError", "to_hdf5"]
__version__ = "0.1.0"
