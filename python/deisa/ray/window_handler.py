"""deisa-ray's ``deisa.ray.window_handler``: the analytics side's :class:`deisa.Deisa`."""

from ..analytics import Deisa

__all__ = ["Deisa"]
