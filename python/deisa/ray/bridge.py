"""deisa-ray's ``deisa.ray.bridge``: the simulation side's :class:`deisa.Bridge`."""

from ..bridge import Bridge

__all__ = ["Bridge"]
