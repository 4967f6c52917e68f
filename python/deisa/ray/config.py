"""deisa-ray's ``deisa.ray.config``: the switch of its distributed scheduling, read from the
environment. Deisa reads it too, to refuse what deisa-ray refuses; it changes nothing in Deisa,
whose computes always read each block on its node when the run is on a cluster."""

import os

from ..errors import ConfigError

DEISA_DISTRIBUTED_SCHEDULING_ENV = "DEISA_DISTRIBUTED_SCHEDULING"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

__all__ = ["DEISA_DISTRIBUTED_SCHEDULING_ENV", "distributed_scheduling_enabled_from_env"]


def distributed_scheduling_enabled_from_env():
    """True for 1/true/yes/on, False when unset or ""/0/false/no/off (any case); else ConfigError."""
    value = os.environ.get(DEISA_DISTRIBUTED_SCHEDULING_ENV)
    if value is None or value.strip().lower() in _FALSE:
        return False
    if value.strip().lower() in _TRUE:
        return True
    raise ConfigError(f"${DEISA_DISTRIBUTED_SCHEDULING_ENV}={value!r} is not a switch: use one of "
                      f"{', '.join(repr(v) for v in _TRUE + _FALSE[1:])}")
