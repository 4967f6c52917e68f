"""deisa-ray's ``deisa.ray.types``: what its users import from it, as Deisa's objects.

``WindowArrayDefinition`` is the first (seed) version's window: a ``Window`` of
``window_size`` timesteps (``None``: the newest array only, which a callback registered with a
list of definitions gets bare, as that version gave it).
"""

from ..array import DeisaArray, to_hdf5
from .._first_version import ArrayDefinition
from ..window import Window

CallbackArgs = Window | str  # what register_callback takes for each input

__all__ = ["Window", "DeisaArray", "to_hdf5", "CallbackArgs", "WindowArrayDefinition"]


WindowArrayDefinition = ArrayDefinition
