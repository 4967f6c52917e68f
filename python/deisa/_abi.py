"""The C ABI's constants (deisa.h), GENERATED from Deisa.Native/abi/deisa_abi.json by
Deisa.Native/abi/generate.py: edit that file, not this one."""

VERSION = "0.2.0"

# Status returned by every call: DEISA_OK or an error code; deisa_status_string gives its text.
OK = 0
ERR_VALUE = 1
ERR_TYPE = 2
ERR_CONTRACT = 3
ERR_TIMEOUT = 4
ERR_STATE = 5
ERR_ANALYTICS_LOST = 6
ERR_INTERNAL = 7
PENDING = 8
ERR_HANDLE = 9
ERR_INTERRUPTED = 10

# Element type of an array.
DTYPE_UNDECLARED = 0
BOOL = 1
INT8 = 2
INT16 = 3
INT32 = 4
INT64 = 5
UINT8 = 6
UINT16 = 7
UINT32 = 8
UINT64 = 9
FLOAT32 = 10
FLOAT64 = 11
COMPLEX64 = 12
COMPLEX128 = 13

# Memory order of a block. A Fortran block a(i, j) is seen by the analytics as arr[i-1, j-1]:
# shapes and positions are given in the simulation's own index order.
ORDER_C = 0
ORDER_FORTRAN = 1

# What a bridge does when the analytics goes away.
ON_FAILURE_WARN = 0
ON_FAILURE_RAISE = 1
ON_FAILURE_WAIT = 2

# When a callback runs for a timestep.
WHEN_AND = 0
WHEN_OR = 1

# Kind of a feedback value.
FEEDBACK_NONE = 0
FEEDBACK_BOOL = 1
FEEDBACK_INT64 = 2
FEEDBACK_FLOAT64 = 3
FEEDBACK_STRING = 4
FEEDBACK_BYTES = 5
FEEDBACK_NDARRAY = 6

# Kind of a packed event record (deisa_analytics_read_events).
EVENT_ARRAY = 1
EVENT_CALLBACK = 2
EVENT_DROP = 3
EVENT_TIMESTEP_DONE = 4
EVENT_FAILED = 5
EVENT_END = 6

# How deisa_graph_partition places a task that reads no block (a task that reads a block runs on
# the node that holds it).
PARTITION_GREEDY = 0
PARTITION_RANDOM = 1

STATUS_NAMES = {
    0: "DEISA_OK",
    1: "DEISA_ERR_VALUE",
    2: "DEISA_ERR_TYPE",
    3: "DEISA_ERR_CONTRACT",
    4: "DEISA_ERR_TIMEOUT",
    5: "DEISA_ERR_STATE",
    6: "DEISA_ERR_ANALYTICS_LOST",
    7: "DEISA_ERR_INTERNAL",
    8: "DEISA_PENDING",
    9: "DEISA_ERR_HANDLE",
    10: "DEISA_ERR_INTERRUPTED",
}

STATUS_MESSAGES = {
    0: "success",
    1: "bad value: shape, position, timestep order, layout",
    2: "bad type or dtype",
    3: "an array or key that was never declared",
    4: "a wait ran past its timeout",
    5: "not valid now (after close, or the logical flow of data was violated)",
    6: "the analytics went away",
    7: "unexpected failure inside Deisa",
    8: "not an error: nothing happened within the wait; call again",
    9: "NULL or invalid handle or pointer argument",
    10: "the wait was interrupted (deisa_bridge_interrupt, deisa_analytics_interrupt): the handle is disconnected",
}

# The Python exception of each error status (by name: errors.py defines the classes).
STATUS_EXCEPTIONS = {
    1: "ValueError",
    2: "TypeError",
    3: "ContractError",
    4: "TimeoutError",
    5: "RuntimeError",
    6: "AnalyticsLostError",
    7: "RuntimeError",
    9: "ValueError",
    10: "KeyboardInterrupt",
}

# dtype code -> (numpy name, bytes per element)
DTYPES = {
    1: ("bool", 1),
    2: ("int8", 1),
    3: ("int16", 2),
    4: ("int32", 4),
    5: ("int64", 8),
    6: ("uint8", 1),
    7: ("uint16", 2),
    8: ("uint32", 4),
    9: ("uint64", 8),
    10: ("float32", 4),
    11: ("float64", 8),
    12: ("complex64", 8),
    13: ("complex128", 16),
}

# memory order code -> numpy's order letter
ORDERS = {
    0: "C",
    1: "F",
}

# the Python argument -> its code
ON_FAILURE = {
    "warn": 0,
    "raise": 1,
    "wait": 2,
}

# the Python argument -> its code
WHEN = {
    "AND": 0,
    "OR": 1,
}

# the Python argument -> its code
FEEDBACK = {
}

# the Python argument -> its code
EVENT = {
}

# the Python argument -> its code
PARTITIONING = {
    "greedy": 0,
    "random": 1,
}

# Limits
MAX_NDIM = 32  # most dimensions an array may have (numpy's limit)
MAX_ELEMENTS = 288230376151711744  # most elements an array may have (2^58): its bytes always fit in an int64_t
MAX_SEND_BYTES = 2147483647  # most bytes of one deisa_bridge_send (larger blocks: deisa_bridge_acquire)
MAX_FEEDBACK_ARRAY_BYTES = 1048576  # most bytes of the data of a numpy array sent as feedback (1 MiB)
MAX_FEEDBACK_BYTES = 1052672  # most bytes of one feedback value (an array's data and its .npy header included)
MAX_WAIT_S = 3600  # longest wait of one deisa_analytics_read_events call, in seconds
LEASE_NODE_SHIFT = 40  # a block's lease carries the index of the node holding it above this bit (0: the analytics' own node)
