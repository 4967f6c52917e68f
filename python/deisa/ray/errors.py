"""deisa-ray's ``deisa.ray.errors``: Deisa's own exceptions under deisa-ray's names."""

from ..errors import ConfigError, ContractError

__all__ = ["ContractError", "ConfigError"]
