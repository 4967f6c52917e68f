"""Exceptions raised by Deisa, and the exception of each of the core's status codes."""

from . import _abi


class ContractError(Exception):
    """An array or input that the other side never declared (e.g. ``send`` of an undeclared array).
    As in deisa-ray, ``message`` holds the message (default "Contract not satisfied.")."""

    def __init__(self, message="Contract not satisfied."):
        super().__init__(message)
        self.message = message


class ConfigError(RuntimeError, ValueError):
    """A configuration value (an argument or an environment variable) deisa cannot use. deisa-ray's
    name for it (a ``RuntimeError``); it is a ``ValueError`` too, as deisa's other bad values."""


class AnalyticsLostError(ConnectionError):
    """The analytics went away while the simulation was running."""


class NodeLost(RuntimeError):
    """A node of a cluster run was lost (its Dask worker, and the blocks it held): the run cannot go on."""


class Terminated(SystemExit):
    """The process was asked to stop (SIGTERM, what batch systems send): raised in the main
    thread, so that the run removes what it owns on the way out; uncaught, the process exits
    with status 143 (128 + SIGTERM) and no traceback."""

    def __init__(self):
        super().__init__(143)


_CLASSES = {"ContractError": ContractError, "ConfigError": ConfigError, "AnalyticsLostError": AnalyticsLostError, "ValueError": ValueError,
            "TypeError": TypeError, "TimeoutError": TimeoutError, "RuntimeError": RuntimeError,
            "KeyboardInterrupt": KeyboardInterrupt}
_EXCEPTIONS = {status: _CLASSES[name] for status, name in _abi.STATUS_EXCEPTIONS.items()}


def exception_for(status, message):
    """The Python exception for a status code and the core's message."""
    return _EXCEPTIONS.get(status, RuntimeError)(message)
