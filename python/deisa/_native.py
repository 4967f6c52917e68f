"""ctypes binding to libdeisa.so, the Native AOT build of the C# core (see deisa.h)."""

import ctypes
import numbers
import os
import threading
from pathlib import Path

from ._abi import OK, PENDING
from .errors import exception_for

_HERE = Path(__file__).resolve().parent
_lib = None
_lock = threading.Lock()

c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_char_pp = ctypes.POINTER(ctypes.c_char_p)
handle = ctypes.c_void_p


def library_path():
    """Where libdeisa.so is: $DEISA_LIBRARY, else the copy installed inside this package."""
    env = os.environ.get("DEISA_LIBRARY")
    if env:
        return Path(env)
    return _HERE / "lib" / "libdeisa.so"


# Each function's C signature, as deisa.h declares it (tests/python/test_bindings.py checks the two agree).
SIGNATURES = {
    "deisa_last_error": (ctypes.c_void_p, []),
    "deisa_string_free": (ctypes.c_int, [ctypes.c_void_p]),
    "deisa_version": (ctypes.c_char_p, []),
    "deisa_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "deisa_size_parse": (ctypes.c_int, [ctypes.c_char_p, c_int64_p]),
    # simulation side
    "deisa_bridge_open": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_double, ctypes.c_int, ctypes.POINTER(handle)]),
    "deisa_bridge_declare_array": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int, c_int64_p, c_int64_p,
                                                  c_int64_p, ctypes.c_int, ctypes.c_int]),
    "deisa_bridge_connect": (ctypes.c_int, [handle]),
    "deisa_bridge_send": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int,
                                         ctypes.c_int, c_int64_p, ctypes.c_int, ctypes.c_int64]),
    "deisa_bridge_acquire": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_void_p), c_int64_p, ctypes.POINTER(handle)]),
    "deisa_block_commit": (ctypes.c_int, [handle]),
    "deisa_block_abandon": (ctypes.c_int, [handle]),
    "deisa_bridge_get_feedback": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int, ctypes.c_int64,
                                                 ctypes.POINTER(handle), ctypes.POINTER(ctypes.c_int)]),
    "deisa_feedback_count": (ctypes.c_int, [handle, c_int64_p]),
    "deisa_feedback_entry": (ctypes.c_int, [handle, ctypes.c_int64, c_int64_p, ctypes.POINTER(ctypes.c_int),
                                            ctypes.POINTER(ctypes.c_void_p), c_int64_p]),
    "deisa_feedback_free": (ctypes.c_int, [handle]),
    "deisa_bridge_close": (ctypes.c_int, [handle, ctypes.c_int, ctypes.c_int64]),
    "deisa_bridge_free": (ctypes.c_int, [handle]),
    "deisa_bridge_analytics_lost": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_int)]),
    "deisa_bridge_interrupt": (ctypes.c_int, [handle]),
    # analytics side
    "deisa_analytics_start": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                             ctypes.c_int64, ctypes.c_double, ctypes.POINTER(handle)]),
    "deisa_analytics_check": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                             ctypes.c_int64, ctypes.c_double]),
    "deisa_analytics_info": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_callback_check": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_int, c_char_pp, ctypes.POINTER(ctypes.c_int),
                                            ctypes.c_int]),
    "deisa_window_check": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_int]),
    "deisa_analytics_add_callback": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int, c_char_pp,
                                                    ctypes.POINTER(ctypes.c_int), ctypes.c_int,
                                                    ctypes.POINTER(ctypes.c_int)]),
    "deisa_analytics_wait_for_simulation": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_analytics_interrupt": (ctypes.c_int, [handle]),
    "deisa_analytics_read_events": (ctypes.c_int, [handle, ctypes.c_double, ctypes.c_void_p, ctypes.c_int64,
                                                   c_int64_p]),
    "deisa_analytics_finish_timestep": (ctypes.c_int, [handle, ctypes.c_int64]),
    "deisa_analytics_release_block": (ctypes.c_int, [handle, ctypes.c_int64]),
    "deisa_analytics_set_feedback": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int,
                                                    ctypes.c_void_p, ctypes.c_int64]),
    "deisa_analytics_free": (ctypes.c_int, [handle]),
    # dashboard
    "deisa_analytics_serve_dashboard": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.POINTER(handle)]),
    "deisa_dashboard_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(handle)]),
    "deisa_dashboard_url": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_dashboard_free": (ctypes.c_int, [handle]),
    "deisa_analytics_report_callback": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.c_double,
                                                       ctypes.c_char_p]),
    "deisa_analytics_report_picture": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64,
                                                      ctypes.c_int64, ctypes.POINTER(ctypes.c_double), ctypes.c_char_p]),
    "deisa_analytics_report_reduction": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.c_double,
                                                        ctypes.c_double, ctypes.c_double]),
    # Arrow Flight
    "deisa_analytics_serve_flight": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.POINTER(handle)]),
    "deisa_flight_location": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_flight_free": (ctypes.c_int, [handle]),
    # cluster (scale-out)
    "deisa_analytics_start_cluster": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                                     ctypes.c_int64, ctypes.c_double, ctypes.POINTER(handle)]),
    "deisa_analytics_nodes": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_node_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(handle)]),
    "deisa_node_state": (ctypes.c_int, [handle, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_node_read_block": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64, ctypes.POINTER(ctypes.c_void_p),
                                             c_int64_p]),
    "deisa_node_release_block": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_int64]),
    "deisa_node_free": (ctypes.c_int, [handle]),
    "deisa_status": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "deisa_cleanup": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    # task graph partitioning
    "deisa_graph_partition": (ctypes.c_int, [ctypes.c_int64, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                                             ctypes.POINTER(ctypes.c_int), c_int64_p, ctypes.c_int, ctypes.c_int,
                                             ctypes.c_int64, ctypes.POINTER(ctypes.c_int),
                                             ctypes.POINTER(ctypes.c_double)]),
}


def _declare(lib):
    for name, (restype, argtypes) in SIGNATURES.items():
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes


def lib():
    """The loaded library (loaded once per process; .NET libraries cannot be unloaded)."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                path = library_path()
                if not path.exists():
                    raise ImportError(f"libdeisa.so not found at {path}; reinstall the package "
                                      "(pip install builds it) or set DEISA_LIBRARY")
                loaded = ctypes.CDLL(str(path))
                _declare(loaded)
                _lib = loaded
    return _lib


def last_error():
    p = lib().deisa_last_error()
    return ctypes.string_at(p).decode("utf-8", "replace") if p else "unknown error"


def check(status):
    """Raise the exception of a failed call; return the status otherwise (OK or PENDING)."""
    if status in (OK, PENDING):
        return status
    raise exception_for(status, last_error())


def take_string(ptr):
    """Decode a string the library allocated, and free it."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib().deisa_string_free(ptr.value)


def rendezvous_dir(explicit=None):
    """The rendezvous directory, resolved here: the .NET runtime reads the environment once
    when the library loads, and a process may change it afterwards."""
    return os.path.abspath(explicit or os.environ.get("DEISA_RENDEZVOUS") or ".deisa")


def seconds(timeout, what="timeout"):
    """A timeout in seconds for the C ABI. Python has no "no limit" value (the C ABI's 0), so
    a timeout must be a positive number here."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"{what} must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def size_bytes(text, what):
    """Bytes of a size written as text ("80MiB", "2 GB"), read by the core's one size parser;
    ValueError names ``what`` the size is for."""
    n = ctypes.c_int64()
    try:
        check(lib().deisa_size_parse(text.encode("utf-8"), ctypes.byref(n)))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    return n.value


def int64_array(values):
    values = list(values)
    return (ctypes.c_int64 * len(values))(*values)


def text(s):
    return None if s is None else str(s).encode("utf-8")


_from_memory = ctypes.pythonapi.PyMemoryView_FromMemory
_from_memory.restype = ctypes.py_object
_from_memory.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int)
_PyBUF_READ, _PyBUF_WRITE = 0x100, 0x200


def memory(address, nbytes, writable=False):
    """A memoryview of ``nbytes`` at ``address`` (memory deisa owns: shared memory of a block)."""
    return _from_memory(address, nbytes, _PyBUF_WRITE if writable else _PyBUF_READ)
