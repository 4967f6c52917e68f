"""Exceptions raised by Deisa, and the mapping from the core's status codes to them."""


class ContractError(Exception):
    """An array or input that the other side never declared (e.g. ``send`` of an undeclared array)."""


class AnalyticsLostError(ConnectionError):
    """The analytics went away while the simulation was running."""


# Status codes of the C ABI (deisa.h, DeisaStatus in the core).
OK = 0
VALUE = 1
TYPE = 2
CONTRACT = 3
TIMEOUT = 4
STATE = 5
ANALYTICS_LOST = 6
INTERNAL = 7
PENDING = 8
INVALID_HANDLE = 9

_EXCEPTIONS = {
    VALUE: ValueError,
    TYPE: TypeError,
    CONTRACT: ContractError,
    TIMEOUT: TimeoutError,
    STATE: RuntimeError,
    ANALYTICS_LOST: AnalyticsLostError,
    INTERNAL: RuntimeError,
    INVALID_HANDLE: ValueError,
}


def exception_for(status, message):
    """The Python exception for a status code and the core's message."""
    return _EXCEPTIONS.get(status, RuntimeError)(message)
