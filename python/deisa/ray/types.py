"""deisa-ray's ``deisa.ray.types``: what its users import from it, as Deisa's objects.

``WindowArrayDefinition`` is the seed version's name of a window (``window_size=None``: the
newest array only, which Deisa's callbacks get as a list of one).
"""

from ..array import DeisaArray, to_hdf5
from ..window import Window

CallbackArgs = Window | str  # what register_callback takes for each input

__all__ = ["Window", "DeisaArray", "to_hdf5", "CallbackArgs", "WindowArrayDefinition"]


def WindowArrayDefinition(name, window_size=None, preprocess=None):  # noqa: N802 - deisa-ray's class name
    """The seed version's window: ``Window(name, size=window_size or 1, preprocess=preprocess)``."""
    return Window(name, size=1 if window_size is None else window_size, preprocess=preprocess)
