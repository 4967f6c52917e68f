"""Where the run's web page (``dashboard=``) and Arrow Flight endpoint (``flight=``) are served."""

import numbers

OFF = False  # not served


def serve_address(value, option):
    """What ``Deisa(option=value)`` asks for: ``OFF``; None for the core's default (a free port
    on loopback); or "host:port". ``True`` is the default, an int a loopback port, a str an
    address (another host must be named: it is then reachable from other machines)."""
    if value is None or value is False:
        return OFF
    if value is True:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if not 0 <= value <= 65535:
            raise ValueError(f"{option} port must be between 0 and 65535, got {value}")
        return f"127.0.0.1:{int(value)}"
    if isinstance(value, str):
        return value
    raise TypeError(f"{option} must be True, a port (int) or an address 'host:port', got {type(value).__name__}")
