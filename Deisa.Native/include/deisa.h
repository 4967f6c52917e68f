/*
 * deisa.h — C ABI of libdeisa.so, the Native AOT build of Deisa's C# core.
 *
 * Conventions (as in sqlite3.h / duckdb.h):
 *   - Handles are opaque; each one created by a deisa_*_open / _start / _acquire call is
 *     released by exactly one matching _free / _commit / _abandon call.
 *   - Every function returns an int status: DEISA_OK (0) or one of the DEISA_ERR_* codes of
 *     enum deisa_status_code. The message of the last failed call on the calling thread is
 *     deisa_last_error(); deisa_status_string() says what a code means.
 *   - Codes are typed enums (deisa_dtype, deisa_order, ...); sizes, lengths and capacities are
 *     int64_t, numbers of dimensions and of inputs int.
 *   - No call ever aborts or crashes the host on bad input: a NULL, a freed or wrong handle,
 *     a bad shape or a bad code is an error status with a message naming what is wrong.
 *     A handle used after its free, or a handle of another kind (a deisa_bridge* cast to a
 *     deisa_block*), is DEISA_ERR_HANDLE; so is a NULL handle, pointer or out-parameter
 *     that the call needs. (A non-NULL pointer to memory that is not yours cannot be
 *     detected: pointers must be NULL or valid for the sizes given.)
 *   - A call that fails writes NULL into its handle and string out-parameters (never a
 *     stale value) and leaves the handles it was given usable: the process can go on.
 *   - Strings are NUL-terminated UTF-8; bytes that are not UTF-8 are DEISA_ERR_VALUE.
 *     Strings returned through `char **` out-parameters are owned by the caller and freed
 *     with deisa_string_free().
 *   - Blocking calls (connect, send, acquire) wait at most the bridge's timeout.
 *
 * The library carries its own .NET runtime and cannot be unloaded (no dlclose).
 */
#ifndef DEISA_H
#define DEISA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BEGIN GENERATED from Deisa.Native/abi/deisa_abi.json by generate.py: do not edit */

#define DEISA_VERSION "0.2.0"

/* Status returned by every call: DEISA_OK or an error code; deisa_status_string gives its text. */
typedef enum deisa_status_code {
    DEISA_OK = 0,                  /* success */
    DEISA_ERR_VALUE = 1,           /* bad value: shape, position, timestep order, layout */
    DEISA_ERR_TYPE = 2,            /* bad type or dtype */
    DEISA_ERR_CONTRACT = 3,        /* an array or key that was never declared */
    DEISA_ERR_TIMEOUT = 4,         /* a wait ran past its timeout */
    DEISA_ERR_STATE = 5,           /* not valid now (after close, or the logical flow of data was violated) */
    DEISA_ERR_ANALYTICS_LOST = 6,  /* the analytics went away */
    DEISA_ERR_INTERNAL = 7,        /* unexpected failure inside Deisa */
    DEISA_PENDING = 8,             /* not an error: nothing happened within the wait; call again */
    DEISA_ERR_HANDLE = 9,          /* NULL or invalid handle or pointer argument */
    DEISA_ERR_INTERRUPTED = 10     /* the wait was interrupted (deisa_bridge_interrupt, deisa_analytics_interrupt): the handle is disconnected */
} deisa_status_code;

/* Element type of an array. */
typedef enum deisa_dtype {
    DEISA_DTYPE_UNDECLARED = 0,  /* decided by the first block sent at each timestep */
    DEISA_BOOL = 1,              /* bool */
    DEISA_INT8 = 2,              /* int8 */
    DEISA_INT16 = 3,             /* int16 */
    DEISA_INT32 = 4,             /* int32 */
    DEISA_INT64 = 5,             /* int64 */
    DEISA_UINT8 = 6,             /* uint8 */
    DEISA_UINT16 = 7,            /* uint16 */
    DEISA_UINT32 = 8,            /* uint32 */
    DEISA_UINT64 = 9,            /* uint64 */
    DEISA_FLOAT32 = 10,          /* float32 */
    DEISA_FLOAT64 = 11,          /* float64 */
    DEISA_COMPLEX64 = 12,        /* complex64 */
    DEISA_COMPLEX128 = 13        /* complex128 */
} deisa_dtype;

/* Memory order of a block. A Fortran block a(i, j) is seen by the analytics as arr[i-1, j-1]:
 * shapes and positions are given in the simulation's own index order. */
typedef enum deisa_order {
    DEISA_ORDER_C = 0,        /* row-major: the last index varies fastest */
    DEISA_ORDER_FORTRAN = 1   /* column-major: the first index varies fastest */
} deisa_order;

/* What a bridge does when the analytics goes away. */
typedef enum deisa_on_failure {
    DEISA_ON_FAILURE_WARN = 0,   /* warn once; later sends are no-ops, feedback is "not found" */
    DEISA_ON_FAILURE_RAISE = 1,  /* every later call returns DEISA_ERR_ANALYTICS_LOST */
    DEISA_ON_FAILURE_WAIT = 2    /* keep the blocks of the last max_simulation_ahead timesteps and go on; past them, wait (up to the timeout) for a new analytics in the same rendezvous directory, which gets them */
} deisa_on_failure;

/* When a callback runs for a timestep. */
typedef enum deisa_when {
    DEISA_WHEN_AND = 0,  /* as soon as every input array is complete at the timestep */
    DEISA_WHEN_OR = 1    /* when the timestep closes, if at least one input has a new value */
} deisa_when;

/* Kind of a feedback value. */
typedef enum deisa_feedback_kind {
    DEISA_FEEDBACK_NONE = 0,     /* no bytes */
    DEISA_FEEDBACK_BOOL = 1,     /* 1 byte, 0 or 1 */
    DEISA_FEEDBACK_INT64 = 2,    /* 8 bytes, little-endian */
    DEISA_FEEDBACK_FLOAT64 = 3,  /* 8 bytes, IEEE double */
    DEISA_FEEDBACK_STRING = 4,   /* UTF-8, not NUL-terminated */
    DEISA_FEEDBACK_BYTES = 5,    /* bytes as they are */
    DEISA_FEEDBACK_NDARRAY = 6   /* a numpy array in .npy format */
} deisa_feedback_kind;

/* Kind of a packed event record (deisa_analytics_read_events). */
typedef enum deisa_event_kind {
    DEISA_EVENT_ARRAY = 1,          /* an array is complete at a timestep */
    DEISA_EVENT_CALLBACK = 2,       /* a callback is due, with its windows */
    DEISA_EVENT_DROP = 3,           /* no window holds an (array, timestep) any more */
    DEISA_EVENT_TIMESTEP_DONE = 4,  /* every callback due at a timestep was announced */
    DEISA_EVENT_FAILED = 5,         /* the run cannot go on */
    DEISA_EVENT_END = 6             /* every bridge closed and every timestep was processed */
} deisa_event_kind;

/* How deisa_graph_partition places a task that reads no block (a task that reads a block runs
 * on the node that holds it). */
typedef enum deisa_partitioning {
    DEISA_PARTITION_GREEDY = 0,  /* on the node holding most bytes of its inputs */
    DEISA_PARTITION_RANDOM = 1   /* on a node drawn uniformly from a seed */
} deisa_partitioning;

/* Limits. */
#define DEISA_MAX_NDIM                 32 /* most dimensions an array may have (numpy's limit) */
#define DEISA_MAX_ELEMENTS             (INT64_C(1) << 58) /* most elements an array may have (2^58): its bytes always fit in an int64_t */
#define DEISA_MAX_SEND_BYTES           2147483647 /* most bytes of one deisa_bridge_send (larger blocks: deisa_bridge_acquire) */
#define DEISA_MAX_FEEDBACK_ARRAY_BYTES 1048576 /* most bytes of the data of a numpy array sent as feedback (1 MiB) */
#define DEISA_MAX_FEEDBACK_BYTES       1052672 /* most bytes of one feedback value (an array's data and its .npy header included) */
#define DEISA_MAX_WAIT_S               3600 /* longest wait of one deisa_analytics_read_events call, in seconds */
#define DEISA_LEASE_NODE_SHIFT         40 /* a block's lease carries the index of the node holding it above this bit (0: the analytics' own node) */

/* END GENERATED */

typedef struct deisa_bridge deisa_bridge;     /* one simulation rank's connection */
typedef struct deisa_block deisa_block;       /* a block being written in shared memory */
typedef struct deisa_feedback deisa_feedback; /* an answer to a feedback query */
typedef struct deisa_analytics deisa_analytics; /* the analytics side of a run */
typedef struct deisa_node deisa_node;         /* a cluster node's node service (in a Dask worker) */
typedef struct deisa_dashboard deisa_dashboard; /* a run's live dashboard (a web page) */
typedef struct deisa_flight deisa_flight;     /* a run's Arrow Flight endpoint (live blocks) */

/* ---------------------------------------------------------------- common */

/* The message of the last call on this thread if it failed, else NULL. Each thread has its
 * own: a call on another thread never changes it. Every call that succeeds (DEISA_OK) or
 * returns DEISA_PENDING clears it; deisa_last_error and deisa_version leave it as it is.
 * The string is owned by the library and valid until the next deisa_* call on this thread:
 * copy it to keep it. */
const char *deisa_last_error(void);

/* Frees a string returned by the library. NULL is accepted. */
int deisa_string_free(char *s);

/* Sets this thread's last-error message and returns `status` unchanged (status 0 clears the
 * message). For language bindings that detect an error themselves, e.g. the Fortran module. */
int deisa_set_last_error(int status, const char *message);

/* What a status code means, e.g. "a wait ran past its timeout" (static storage; "unknown
 * status" for a code that is none). Leaves the last-error message as it is. */
const char *deisa_status_string(int status);

/* Library version, DEISA_VERSION of the header it was built with (static storage). */
const char *deisa_version(void);

/* Bytes of a size written as text, as Dask's parse_bytes reads it: a number (decimal point
 * and exponent allowed), an optional unit (B, kB, MB, GB, TB, PB: powers of 1000; KiB, MiB,
 * GiB, TiB, PiB: powers of 1024; k, M, G, T, P and Ki, Mi, Gi, Ti, Pi alike; any case;
 * spaces ignored), truncated to an integer; a unit alone means one of it. DEISA_ERR_VALUE
 * names the text when it is not a size or not positive. Pool sizes and $DEISA_POOL_SIZE
 * are read this way. */
int deisa_size_parse(const char *text, int64_t *bytes);

/* ---------------------------------------------------------------- simulation side */

/* Creates the bridge of `rank` in a world of `world_size` ranks. `address` (may be NULL)
 * is the analytics' address ("unix:/path" or "tcp://host:port"); NULL reads it from the
 * rendezvous directory `rendezvous` (NULL = $DEISA_RENDEZVOUS or ".deisa"). `timeout_s`
 * bounds every wait (0 = no limit). Nothing is connected until deisa_bridge_connect or the
 * first send. Free with deisa_bridge_free. */
int deisa_bridge_open(int rank, int world_size, const char *address, const char *rendezvous,
                      double timeout_s, deisa_on_failure on_analytics_failure, deisa_bridge **bridge);

/* Declares this rank's block of array `name`: global shape, block (chunk) shape and block
 * position in the block grid, each of `ndim` values (1 to DEISA_MAX_NDIM) in the
 * simulation's index order; `dtype` (DEISA_DTYPE_UNDECLARED lets each timestep's first block
 * decide) and `order`. An array has at most DEISA_MAX_ELEMENTS elements. Call before deisa_bridge_connect
 * (DEISA_ERR_STATE after it, or after close). */
int deisa_bridge_declare_array(deisa_bridge *bridge, const char *name, int ndim,
                               const int64_t *global_shape, const int64_t *chunk_shape,
                               const int64_t *chunk_position, deisa_dtype dtype, deisa_order order);

/* Finds the analytics and registers this rank. Collective over the world without MPI:
 * returns once every rank registered and the layouts are valid (DEISA_ERR_VALUE names the
 * ranks of overlapping, missing or disagreeing blocks), or DEISA_ERR_TIMEOUT naming the
 * ranks that never connected. */
int deisa_bridge_connect(deisa_bridge *bridge);

/* Sends this rank's block of `name` at `timestep`: `nbytes` bytes at `data`, of `dtype`,
 * with shape `shape[ndim]` (must equal the declared chunk shape) in memory order `order`.
 * Copies the block once into shared memory; returns when `data` may be overwritten. Waits
 * (never drops data) while the analytics is max_simulation_ahead timesteps behind or the
 * shared-memory pool is full. Timesteps must not decrease; an (array, timestep) is sent once.
 * `dtype` must be a defined type (not DEISA_DTYPE_UNDECLARED) and nbytes must equal the
 * elements of `shape` times the dtype's size. At most DEISA_MAX_SEND_BYTES per call (larger
 * blocks: deisa_bridge_acquire). On the analytics' node an admitted block exactly as declared
 * is sent without waiting for the analytics; if the analytics then refuses it (its pool stayed
 * full past the timeout), the next call on the bridge, or deisa_bridge_close, returns that
 * error ("an earlier block's send failed: ..."), and that call's own block is not sent. */
int deisa_bridge_send(deisa_bridge *bridge, const char *name, const void *data, int64_t nbytes,
                      deisa_dtype dtype, int ndim, const int64_t *shape, deisa_order order,
                      int64_t timestep);

/* Zero-copy send, step 1: a buffer in shared memory for this rank's block of `name` at
 * `timestep`. `dtype` may be DEISA_DTYPE_UNDECLARED if the array declared one. Write the
 * block into *data (*nbytes bytes, declared chunk shape and order), then call
 * deisa_block_commit, or deisa_block_abandon to send nothing. *data is valid until then,
 * or until the bridge is closed: closing gives open buffers back unsent (their commit is
 * then DEISA_ERR_STATE, their abandon DEISA_OK). While a buffer is open, a send or acquire
 * of a later timestep is DEISA_ERR_STATE. */
int deisa_bridge_acquire(deisa_bridge *bridge, const char *name, int64_t timestep,
                         deisa_dtype dtype, void **data, int64_t *nbytes, deisa_block **block);

/* What the buffer of `block` holds: its dtype, memory order, number of dimensions and shape
 * (the declared chunk shape, in the simulation's index order). dtype, order and shape may be
 * NULL; shape, if given, has room for `capacity` values (DEISA_ERR_VALUE if fewer than *ndim). */
int deisa_block_info(deisa_block *block, deisa_dtype *dtype, deisa_order *order, int *ndim,
                     int64_t *shape, int64_t capacity);

/* Zero-copy send, step 2: sends the written block and frees the handle. It returns without
 * waiting for the analytics to acknowledge: if the analytics then refuses the commit, the
 * next call on this bridge (a send, an acquire or the close) returns that error. */
int deisa_block_commit(deisa_block *block);

/* Gives the buffer back without sending; frees the handle. */
int deisa_block_abandon(deisa_block *block);

/* Feedback as a number: the value set by the analytics for (key, timestep). *found is 0
 * when none was set. Every rank asking the same question gets the same answer. Bools and
 * integral doubles convert; other kinds are DEISA_ERR_TYPE. */
int deisa_bridge_get_int64(deisa_bridge *bridge, const char *key, int64_t timestep,
                           int64_t *value, int *found);
int deisa_bridge_get_double(deisa_bridge *bridge, const char *key, int64_t timestep,
                            double *value, int *found);

/* Feedback as text: copies at most capacity-1 bytes and a NUL into `buffer`; *length is
 * the full length in bytes (call again with a larger buffer if *length >= capacity).
 * capacity 0 (buffer may then be NULL) only asks the length; capacity < 0 is
 * DEISA_ERR_VALUE. Numbers and bools convert to text; bytes and arrays are DEISA_ERR_TYPE. */
int deisa_bridge_get_string(deisa_bridge *bridge, const char *key, int64_t timestep,
                            char *buffer, int64_t capacity, int64_t *length, int *found);

/* Feedback of any kind. With has_timestep: one entry, the value for (key, timestep).
 * Without: every retained (timestep, value) entry of key. *found is 0 (and *feedback NULL)
 * when there is none. Read with deisa_feedback_count / _entry, free with deisa_feedback_free. */
int deisa_bridge_get_feedback(deisa_bridge *bridge, const char *key, int has_timestep,
                              int64_t timestep, deisa_feedback **feedback, int *found);
int deisa_feedback_count(deisa_feedback *feedback, int64_t *count);
/* Entry `index` (0 <= index < count, else DEISA_ERR_VALUE): its timestep (INT64_MIN for a
 * single-timestep answer), kind and bytes (valid until deisa_feedback_free). Every
 * out-parameter is required; a failed call writes none of them. */
int deisa_feedback_entry(deisa_feedback *feedback, int64_t index, int64_t *timestep,
                         deisa_feedback_kind *kind, const void **data, int64_t *nbytes);
int deisa_feedback_free(deisa_feedback *feedback); /* NULL is accepted */

/* 1 in *lost once the analytics went away. */
int deisa_bridge_analytics_lost(deisa_bridge *bridge, int *lost);

/* Ends the call the bridge is waiting in (connect, send, acquire, get, close), called from
 * another thread while the rank's thread waits: for a signal, the thread that handles it
 * (sigwait) — never a signal handler itself, the call is not async-signal-safe. The waiting
 * call returns DEISA_ERR_INTERRUPTED, the bridge is disconnected (the analytics sees the rank
 * gone) and every later call but close and free returns DEISA_ERR_INTERRUPTED. Called when
 * no call waits, it disconnects all the same. The Python package does this on Ctrl-C. */
int deisa_bridge_interrupt(deisa_bridge *bridge);

/* The simulation is finished on this rank (idempotent). `timestep`, if has_timestep, is
 * the timestep the simulation ended at. The analytics ends once every rank closed. Open
 * zero-copy buffers are given back unsent. Afterwards send, acquire, get and declare are
 * DEISA_ERR_STATE. */
int deisa_bridge_close(deisa_bridge *bridge, int has_timestep, int64_t timestep);

/* Closes if needed and frees the bridge. NULL is accepted. */
int deisa_bridge_free(deisa_bridge *bridge);

/* ---------------------------------------------------------------- analytics side
 * Used by the Python package; C programs rarely need it. Events come as packed records
 * (deisa_analytics_read_events). */

/* Starts the analytics of a run: listens on `address` (NULL = a Unix socket in the
 * rendezvous directory) and publishes the rendezvous record. pool_bytes 0 = default
 * ($DEISA_POOL_SIZE or half of /dev/shm, at most 4 GiB). Free with deisa_analytics_free.
 * DEISA_ERR_STATE if a live analytics (of any process, this one included) already uses the
 * rendezvous directory. */
int deisa_analytics_start(const char *address, const char *rendezvous, int max_simulation_ahead,
                          int feedback_queue_size, int64_t pool_bytes, double timeout_s,
                          deisa_analytics **analytics);
/* Checks the settings of deisa_analytics_start as it does (max_simulation_ahead and
 * feedback_queue_size at least 1, pool_bytes not negative, timeout_s a number, a valid
 * address), without starting anything. For bindings that take the settings early. */
int deisa_analytics_check(const char *address, const char *rendezvous, int max_simulation_ahead,
                          int feedback_queue_size, int64_t pool_bytes, double timeout_s);
/* {"session", "address", "rendezvous", "pool_bytes", "token"} as JSON ("token": the session
 * token, which the dashboard and the Arrow Flight endpoint ask for). */
int deisa_analytics_info(deisa_analytics *analytics, char **json);
/* Checks a callback's registration, as deisa_analytics_add_callback does, without a run: at
 * least one input, each array once, non-empty names, windows of at least one timestep, a
 * defined `when`. For bindings that register callbacks before the analytics starts. */
int deisa_callback_check(const char *name, int n_inputs, const char *const *arrays,
                         const int *window_sizes, deisa_when when);
/* Checks one window, as deisa_callback_check does for each input: a non-empty array name
 * and at least one timestep. */
int deisa_window_check(const char *array, int size);
/* Registers a callback on n_inputs arrays with their window sizes (checked as by
 * deisa_callback_check); *id is its index, in registration order. */
int deisa_analytics_add_callback(deisa_analytics *analytics, const char *name, int n_inputs,
                                 const char *const *arrays, const int *window_sizes,
                                 deisa_when when, int *id);
/* Waits for every rank to register; returns the layouts as JSON. DEISA_ERR_CONTRACT if a
 * callback asks for an array no rank declared. */
int deisa_analytics_wait_for_simulation(deisa_analytics *analytics, char **json);
/* Ends deisa_analytics_wait_for_simulation waiting on another thread (not in a signal
 * handler; see deisa_bridge_interrupt) with DEISA_ERR_INTERRUPTED; an event read ends at its
 * own wait's end. Every later wait returns DEISA_ERR_INTERRUPTED: free the run, which tells
 * the ranks and removes what it owns. */
int deisa_analytics_interrupt(deisa_analytics *analytics);
/* The run's next events as packed records written into `buffer` (capacity bytes): waits up to
 * wait_s seconds (<= 0 polls, at most DEISA_MAX_WAIT_S, NaN is DEISA_ERR_VALUE) for the first,
 * then takes every one already queued behind it that fits, in order (an array's event and
 * the callbacks it makes due come in one call; the run's last event, end or failed, ends a
 * batch). *length is the bytes written; with DEISA_PENDING (no event within the wait) it is 0.
 * A first record larger than capacity stays queued: DEISA_ERR_VALUE, and *length is the
 * capacity it needs. capacity < 0 is DEISA_ERR_VALUE; buffer may be NULL only with
 * capacity 0.
 *
 * Records are in native byte order, each a multiple of 8 bytes long (every field aligned
 * when the buffer is 8-byte aligned), and start with an int32 kind and the int32 size of the
 * whole record. Names and messages are UTF-8, not NUL-terminated, zero-padded to 8 bytes.
 *   DEISA_EVENT_ARRAY (an array is complete at a timestep; the analytics holds a lease on
 *       each block until it releases it): int64 timestep; int32 dtype (deisa_dtype), ndim,
 *       n_blocks, name_bytes; name; int64 n_chunks[ndim]; int64 chunk sizes, dimension after
 *       dimension; int64 position[n_blocks][ndim] (in the block grid); then a row per block,
 *       in the same order: int64 lease, address (in this process), nbytes, rank, order
 *       (deisa_order), shape[ndim]. From dtype to the rows, the record is the same at every
 *       timestep of an array whose dtype does not change.
 *   DEISA_EVENT_CALLBACK (run a callback): int64 timestep; int32 callback id, n_inputs; then
 *       per input, in the order given to add_callback: int64 count, timesteps[count] (its
 *       window, oldest first)
 *   DEISA_EVENT_DROP (no window holds the array at the timestep any more: release its
 *       blocks once no view of them is alive): int64 timestep; int32 name_bytes, 0; name
 *   DEISA_EVENT_TIMESTEP_DONE (every callback due at the timestep was announced: call
 *       deisa_analytics_finish_timestep once they ran): int64 timestep
 *   DEISA_EVENT_FAILED (the run cannot go on): int32 status, message_bytes; message
 *   DEISA_EVENT_END (every bridge closed, every timestep processed): nothing more */
int deisa_analytics_read_events(deisa_analytics *analytics, double wait_s, void *buffer,
                                int64_t capacity, int64_t *length);
/* Every callback announced for `timestep` has run. A timestep that is not waiting for this
 * is ignored (DEISA_OK), as is a lease that is not held in release_block: both are
 * notifications that may arrive late. */
int deisa_analytics_finish_timestep(deisa_analytics *analytics, int64_t timestep);
/* No view of the block with this lease is alive any more. */
int deisa_analytics_release_block(deisa_analytics *analytics, int64_t lease);
/* Feedback for the simulation; per key, timesteps strictly increase. */
int deisa_analytics_set_feedback(deisa_analytics *analytics, const char *key, int64_t timestep,
                                 deisa_feedback_kind kind, const void *data, int64_t nbytes);
/* Ends the run: removes its socket, rendezvous record and shared memory. NULL is accepted. */
int deisa_analytics_free(deisa_analytics *analytics);

/* ---------------------------------------------------------------- dashboard
 * A web page that shows a run live: ranks and nodes, arrays, timesteps received and
 * processed, how far the simulation is ahead, the shared-memory pool, callbacks' times,
 * feedback values, errors, and pictures of arrays. Its tables travel as Apache Arrow IPC
 * streams (GET /api/NAME); the page and Arrow's JavaScript reader are in this library, so it
 * needs no internet. Every request needs the session token: the URL deisa_dashboard_url gives
 * carries it once (the page then keeps it in an HTTP-only cookie), or send
 * "Authorization: Bearer TOKEN". */

/* Serves the run's dashboard at `address` ("host:port"; NULL = "127.0.0.1:0", a free port on
 * loopback; another host must be given explicitly). Once the run is freed the dashboard
 * shows the run as it ended, until deisa_dashboard_free. */
int deisa_analytics_serve_dashboard(deisa_analytics *analytics, const char *address, deisa_dashboard **dashboard);
/* Serves the dashboard of the live run of a rendezvous directory (NULL = default) from this
 * process, at `address` as in deisa_analytics_serve_dashboard: its tables come from the run's
 * control server (pictures and reductions only if that run makes them, i.e. serves a
 * dashboard itself). DEISA_ERR_STATE if the directory has no live analytics. Once the run has
 * ended, the tables are DEISA_ERR_ANALYTICS_LOST (HTTP 503). */
int deisa_dashboard_open(const char *rendezvous, const char *address, deisa_dashboard **dashboard);
/* The page's URL, with the token (free it with deisa_string_free). */
int deisa_dashboard_url(deisa_dashboard *dashboard, char **url);
/* Stops serving. NULL is accepted. */
int deisa_dashboard_free(deisa_dashboard *dashboard);
/* For the dashboard: callback `callback` ran at `timestep` for `seconds`; `error` is the
 * failure's message, or NULL if it succeeded. */
int deisa_analytics_report_callback(deisa_analytics *analytics, const char *callback, int64_t timestep,
                                    double seconds, const char *error);
/* For the dashboard: the newest picture of `array`, a 2-D slice of it at `timestep` of rows x
 * columns doubles, row by row (1 to 2^20 values, copied); `slice` says which (may be NULL).
 * At most 16 arrays have pictures: another one is DEISA_ERR_VALUE. */
int deisa_analytics_report_picture(deisa_analytics *analytics, const char *array, int64_t timestep, int64_t rows,
                                   int64_t columns, const double *values, const char *slice);
/* For the dashboard: `array`'s mean, min and max at `timestep`, a point of its line over time. */
int deisa_analytics_report_reduction(deisa_analytics *analytics, const char *array, int64_t timestep, double mean,
                                     double min, double max);

/* ---------------------------------------------------------------- Arrow Flight
 * Live blocks for Arrow Flight clients (gRPC over HTTP/2, TCP). ListFlights lists every array
 * at every timestep the run holds now: those the callbacks' windows hold and, from the moment
 * the endpoint is served, each array's newest complete timestep, kept until a newer one is
 * complete (the pool then holds one timestep of each array more). A flight's descriptor is the
 * path [array, timestep] (or [array, timestep, block] for one block); it has one endpoint per
 * node that holds some of its blocks: without a location for the analytics' own node (read at
 * this endpoint), with the node's own endpoint for a cluster node (each node service serves its
 * blocks, on its Dask worker's host). A ticket (opaque) streams one record batch per block in
 * the layout's order, one column "values" over the block's shared memory (the only copy is
 * gRPC's write to the socket), the block's place as JSON application metadata ("block";
 * "position", its index in the grid of blocks; "offset", the index of its first element;
 * "shape", "order", "rank"), the array's dtype, global shape and chunks in the schema's
 * metadata. A ticket whose blocks were let go is NOT_FOUND. Every call needs
 * "authorization: Bearer TOKEN" (the session token: deisa_analytics_info's "token"). */

/* Serves the run's live blocks at `address` ("host:port"; NULL = "127.0.0.1:0", a free port on
 * loopback; another host must be given explicitly), until deisa_flight_free or the run ends. */
int deisa_analytics_serve_flight(deisa_analytics *analytics, const char *address, deisa_flight **flight);
/* The endpoint's location, "grpc+tcp://HOST:PORT" (free it with deisa_string_free). */
int deisa_flight_location(deisa_flight *flight, char **location);
/* Stops serving. NULL is accepted. */
int deisa_flight_free(deisa_flight *flight);

/* ---------------------------------------------------------------- cluster (scale-out)
 * On a cluster the ranks' blocks stay on their node: each node runs one node service, inside
 * a Dask worker of that node (the Python package's worker plugin opens it). It holds the
 * node's shared-memory pool, serves the node's ranks, and tells the head only where each
 * block lies. A block's lease carries its node's index (DEISA_LEASE_NODE_SHIFT); in the
 * events of a cluster run, the address of another node's block is 0: it is read on its node
 * with deisa_node_read_block. */

/* As deisa_analytics_start, for a run whose ranks' blocks are held by the nodes' node
 * services. `address` must be TCP (the nodes and ranks connect to it from their nodes). */
int deisa_analytics_start_cluster(const char *address, const char *rendezvous, int max_simulation_ahead,
                                  int feedback_queue_size, int64_t pool_bytes, double timeout_s,
                                  deisa_analytics **analytics);
/* The run's node services as a JSON list of {"node", "host", "worker", "ranks", "lost"}:
 * node is the index in the blocks' leases, worker the Dask worker's address, ranks those
 * registered from the node's host, lost null while the node runs, else the run's error that
 * names it. */
int deisa_analytics_nodes(deisa_analytics *analytics, char **json);
/* Starts a node service in the worker at `worker` (its Dask address): it watches the
 * rendezvous directory (NULL = default) for cluster runs, and serves each one if it is the
 * first of its node to claim it (one node service per node and run; the others stand by).
 * Free with deisa_node_free. */
int deisa_node_open(const char *rendezvous, const char *worker, deisa_node **node);
/* {"state", "session", "node"} as JSON: what the service does (a line of text), the run it
 * serves and its node index (null when it serves none). */
int deisa_node_state(deisa_node *node, char **json);
/* A read-only view of the block of `lease` of run `session`, held by this node: *address in
 * this process and *nbytes. The view holds a lease of its own: give it back with
 * deisa_node_release_block. DEISA_ERR_STATE if this service does not hold the block (another
 * node's, or a run it does not serve, or a block no window holds any more). */
int deisa_node_read_block(deisa_node *node, const char *session, int64_t lease, void **address,
                          int64_t *nbytes);
/* A view of deisa_node_read_block is gone. */
int deisa_node_release_block(deisa_node *node, const char *session, int64_t lease);
/* Stops the service: the run it serves sees its node leave, the node's shared memory is
 * removed. NULL is accepted. */
int deisa_node_free(deisa_node *node);

/* ---------------------------------------------------------------- tools */

/* The live run of a rendezvous directory (NULL = default) as JSON. */
int deisa_status(const char *rendezvous, char **json);
/* Removes shared memory and rendezvous files of dead runs; the removed paths as a JSON list
 * (a directory that does not exist has nothing to remove; dead runs' shared memory is
 * swept whatever the directory, except segments less than 10 s old, which a starting run
 * may be setting up). deisa_status of a directory without a live analytics is
 * DEISA_ERR_STATE. */
int deisa_cleanup(const char *rendezvous, char **json);

/* ---------------------------------------------------------------- task graph partitioning
 * For the analytics on a cluster, where every node runs a node service and holds the blocks
 * of its ranks: on which node each task of a compute's task graph (optimised, possibly
 * fused) runs. Used by the Python package (deisa.partition); C programs rarely need it. */

/* Places the n_tasks tasks of a graph on n_nodes nodes: node_out[i] (0 to n_nodes-1) is the
 * node of task i. The graph is in compact form, its tasks numbered 0 to n_tasks-1 in any
 * order: task i depends on tasks deps[dep_start[i]] to deps[dep_start[i+1]-1] (dep_start
 * has n_tasks+1 entries, starts at 0 and never decreases; deps has dep_start[n_tasks]
 * entries, each a task index; a task listed twice counts twice). A cycle is DEISA_ERR_VALUE
 * naming a task on it.
 *   pinned[i]: the node holding a block that task i reads, or -1. A pinned task runs there.
 *   nbytes[i]: the estimated bytes of task i's output, >= 0 (a block read: the block's
 *       bytes); 0 estimates it as the largest estimate of the task's inputs.
 *   mode: how a task that is not pinned is placed. DEISA_PARTITION_GREEDY: on the node that
 *       holds most bytes of its inputs (ties: the node with the fewest tasks placed so far,
 *       then the lowest index); a task without inputs on the node with the fewest tasks.
 *       DEISA_PARTITION_RANDOM: on a node drawn uniformly, from `seed`.
 *   The same arguments give the same placement, in either mode.
 *   *elapsed_ms_out (may be NULL): the milliseconds the call spent.
 * Time and memory are linear in tasks and dependencies. Errors name what is wrong:
 * DEISA_ERR_VALUE for a length, offset, index, byte count, node, node count or mode;
 * DEISA_ERR_HANDLE for a NULL array that is needed (all but dep_start may be NULL when
 * n_tasks is 0, deps when there are no dependencies). A failed call writes nothing. */
int deisa_graph_partition(int64_t n_tasks, const int *dep_start, const int *deps, const int *pinned,
                          const int64_t *nbytes, int n_nodes, deisa_partitioning mode, int64_t seed,
                          int *node_out, double *elapsed_ms_out);

#ifdef __cplusplus
}
#endif

#endif /* DEISA_H */
