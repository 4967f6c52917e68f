/*
 * c_abi_bad_calls.c: a table of bad calls through the C ABI of libdeisa.so (docs/specification.md §6).
 *
 * Every row performs one call and states the status it must return and a part of the message
 * deisa_last_error() must then hold. After each row the program checks that the library still
 * answers (a good call succeeds and clears the message), and at the end that a whole good run
 * (analytics started in this process, one bridge, sends, feedback, close) still works.
 *
 * Usage:  c_abi_bad_calls [-v] [directory]
 *   -v: also print each row's status and message.
 *   directory: where the rendezvous directories of the runs are made (default:
 *   $DEISA_RENDEZVOUS, else a new directory under /tmp). Nothing outside it is touched,
 *   except the sweep of dead runs' shared memory that deisa_cleanup always does.
 *
 * Output: one line per check, "ok N - what" or "not ok N - what: got status S, message M",
 * then "1..N" and a summary; the exit status is 1 if any check failed.
 *
 * Build:  cc -Wall -Werror -I$(python -m deisa --include-dir) c_abi_bad_calls.c \
 *             -L$(dirname $(python -m deisa --lib-path)) -ldeisa -Wl,-rpath,... -lpthread
 */
#define _GNU_SOURCE
#include <deisa.h>

#include "event_records.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ the table's machinery */

typedef struct {
    const char *what;   /* what the call does wrong (printed) */
    int (*call)(void);  /* performs exactly one call of the C ABI and returns its status */
    int expect;         /* the status it must return */
    const char *needle; /* parts the message must contain, separated by '|'; NULL: no message */
} row;

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

static int g_checks, g_failed;
static int g_verbose; /* -v: print each row's status and message */

/* One check: prints "ok N - what" or "not ok N - what: detail". */
static int check(int ok, const char *what, const char *fmt, ...)
{
    char detail[2048] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (char *p = detail; *p; p++)
        if (*p == '\n') *p = ' ';
    ++g_checks;
    if (ok)
        printf("ok %d - %s\n", g_checks, what);
    else {
        ++g_failed;
        printf("not ok %d - %s: %s\n", g_checks, what, detail);
    }
    fflush(stdout);
    return ok;
}

static int contains_all(const char *message, const char *needle)
{
    if (message == NULL) return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", needle);
    for (char *part = strtok(buf, "|"); part; part = strtok(NULL, "|"))
        if (strstr(message, part) == NULL) return 0;
    return 1;
}

/* The library still answers: set by each phase (a cheap good call on its live objects). */
static int (*g_alive)(void);

static int alive_basic(void)
{
    return deisa_string_free(NULL) == DEISA_OK && deisa_last_error() == NULL && deisa_version() != NULL;
}

static void run_rows(const char *section, const row *rows, size_t n)
{
    printf("# %s\n", section);
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char message[1500];
        deisa_string_free(NULL); /* a call that succeeds: no message is left from before */
        int status = r->call();
        const char *m = deisa_last_error(); /* valid until the next call: copied at once */
        int has_message = m != NULL;
        snprintf(message, sizeof message, "%s", m ? m : "(NULL)");
        int ok = status == r->expect && (r->needle ? contains_all(m, r->needle) : m == NULL);
        int alive = g_alive();
        if (g_verbose) printf("#   status %d: %s\n", status, message);
        check(ok && alive, r->what, "got status %d (%s), message %s%s%s; expected %d (%s)%s%s%s%s", status,
              deisa_status_string(status), has_message ? "\"" : "", message, has_message ? "\"" : "", r->expect,
              deisa_status_string(r->expect),
              r->needle ? " with a message containing \"" : " and no message",
              r->needle ? r->needle : "", r->needle ? "\"" : "",
              alive ? "" : "; AND the library no longer answers a good call afterwards");
    }
}

/* ------------------------------------------------------------------ the runs' objects */

static char g_root[512];     /* everything this program makes lives under it */
static char g_run[600];      /* the main run's rendezvous directory */
static char g_nowhere[600];  /* a directory that does not exist */
static char g_other[600];    /* rendezvous of the side runs */
static deisa_bridge *g_b0;   /* a bridge that never finds an analytics */
static deisa_bridge *g_b;    /* the main run's bridge */
static deisa_analytics *g_a; /* the main run's analytics (in this process) */
static deisa_block *g_block;
static deisa_feedback *g_fb;
static deisa_bridge *g_stale_bridge;       /* freed handles, kept to use after free */
static deisa_analytics *g_stale_analytics;
static deisa_block *g_stale_block;
static deisa_feedback *g_stale_feedback;

static const int64_t g2[2] = {2, 3};  /* field: global shape */
static const int64_t c2[2] = {2, 3};  /* field: chunk shape */
static const int64_t p2[2] = {0, 0};  /* field: position */
static double g_data[6];

static const char BAD_UTF8[] = "\xff\xfe"; /* not UTF-8 */
static const char OVERLONG[] = "a\xc0\xaf"; /* an overlong '/' */
static const char SURROGATE[] = "\xed\xa0\x80"; /* a UTF-16 surrogate in UTF-8 */

static void fill(double *d, int64_t t)
{
    for (int i = 0; i < 6; i++) d[i] = (double)t * 100 + i;
}

static int send_field(deisa_bridge *b, int64_t t)
{
    fill(g_data, t);
    return deisa_bridge_send(b, "field", g_data, sizeof g_data, DEISA_FLOAT64, 2, c2, DEISA_ORDER_C, t);
}

/* ------------------------------------------------------------------ the analytics' event pump */

typedef struct {
    deisa_analytics *a;
    volatile int stop;
    int wait_status;
    char wait_msg[1024];
    int ended, failed, errors;
    char fail_msg[1024];
    int field_seen[64];   /* per timestep: 1 = the right values, -1 = wrong values */
    int arrays_seen;
} pump_t;

static int json_str(const char *json, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    if (!p) return 0;
    p += strlen(pat);
    size_t i = 0;
    while (p[i] && p[i] != '"' && i + 1 < n) { out[i] = p[i]; i++; }
    out[i] = 0;
    return 1;
}

/* Prints "# session S" for a started analytics: the caller can check its shared memory is gone. */
static void note_session(deisa_analytics *a)
{
    char *json = NULL, session[64] = "";
    if (a && deisa_analytics_info(a, &json) == DEISA_OK && json_str(json, "session", session, sizeof session))
        printf("# session %s\n", session);
    deisa_string_free(json);
}

static void on_array(pump_t *p, const unsigned char *r, int64_t size)
{
    rec_array ar;
    if (!rec_array_read(r, size, &ar) || ar.nblocks < 1) {
        p->errors++;
        return;
    }
    p->arrays_seen++;
    int64_t t = ar.timestep;
    if (ar.name_bytes == 5 && memcmp(ar.name, "field", 5) == 0 && t >= 0 && t < 64) {
        /* The analytics runs in this process: it can read the block where it lies. */
        const double *d = (const double *)(intptr_t)rec_row(r, &ar, 0, ROW_ADDRESS);
        double want[6];
        fill(want, t);
        p->field_seen[t] = rec_row(r, &ar, 0, ROW_NBYTES) == sizeof want && memcmp(d, want, sizeof want) == 0 ? 1 : -1;
    }
    for (int b = 0; b < ar.nblocks; b++)
        if (deisa_analytics_release_block(p->a, rec_row(r, &ar, b, ROW_LEASE)) != DEISA_OK) p->errors++;
}

static void *pump_main(void *arg)
{
    pump_t *p = arg;
    char *layouts = NULL;
    p->wait_status = deisa_analytics_wait_for_simulation(p->a, &layouts);
    if (p->wait_status != DEISA_OK) {
        snprintf(p->wait_msg, sizeof p->wait_msg, "%s", deisa_last_error() ? deisa_last_error() : "(NULL)");
        return NULL;
    }
    deisa_string_free(layouts);
    static int64_t buffer[1 << 13];
    while (!p->stop) {
        int64_t length = 0;
        int s = deisa_analytics_read_events(p->a, 0.1, buffer, sizeof buffer, &length);
        if (s == DEISA_PENDING) continue;
        if (s != DEISA_OK) { p->errors++; break; }
        const unsigned char *records = (const unsigned char *)buffer;
        for (int64_t at = 0; at < length; at += rec_size(records + at)) {
            const unsigned char *r = records + at;
            switch (rec_kind(r)) {
            case DEISA_EVENT_ARRAY: on_array(p, r, rec_size(r)); break;
            case DEISA_EVENT_TIMESTEP_DONE:
                if (deisa_analytics_finish_timestep(p->a, rec_i64(r, 8)) != DEISA_OK) p->errors++;
                break;
            case DEISA_EVENT_FAILED:
                p->failed = 1;
                snprintf(p->fail_msg, sizeof p->fail_msg, "status %d: %.*s", rec_i32(r, 8), rec_i32(r, 12), (const char *)r + 16);
                break;
            case DEISA_EVENT_END: p->ended = 1; break;
            default: break;
            }
        }
        if (p->failed || p->ended) break;
    }
    return NULL;
}

/* Joins a thread, giving up after `seconds` (the check then fails instead of hanging). */
static int join_within(pthread_t th, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)seconds;
    return pthread_timedjoin_np(th, NULL, &ts) == 0;
}

/* ------------------------------------------------------------------ common */

static int common_string_free_null(void) { return deisa_string_free(NULL); }
static int common_bridge_free_null(void) { return deisa_bridge_free(NULL); }
static int common_analytics_free_null(void) { return deisa_analytics_free(NULL); }
static int common_feedback_free_null(void) { return deisa_feedback_free(NULL); }
static int common_set_last_error(void) { return deisa_set_last_error(DEISA_ERR_VALUE, "set by a binding: 42"); }
static int common_set_last_error_null(void) { return deisa_set_last_error(DEISA_ERR_STATE, NULL); }
static int common_set_last_error_ok(void) { return deisa_set_last_error(DEISA_OK, "ignored"); }

/* Every code has its own text; the texts themselves are the ABI description's (checked by the Python test). */
static int common_status_strings(void)
{
    const char *unknown = deisa_status_string(-1);
    if (!unknown || strcmp(unknown, deisa_status_string(1000)) != 0) return -1;
    for (int s = DEISA_OK; s <= DEISA_ERR_HANDLE; s++) {
        const char *text = deisa_status_string(s);
        if (!text || strlen(text) < 5 || strcmp(text, unknown) == 0) return -1;
        for (int o = DEISA_OK; o < s; o++)
            if (strcmp(text, deisa_status_string(o)) == 0) return -1;
    }
    return deisa_last_error() == NULL ? DEISA_OK : -1;
}
static int64_t g_size;
static int size_good(void) { return deisa_size_parse("1.5 KiB", &g_size) == DEISA_OK && g_size == 1536 ? DEISA_OK : -1; }
static int size_null(void) { return deisa_size_parse(NULL, &g_size); }
static int size_null_out(void) { return deisa_size_parse("80MiB", NULL); }
static int size_unit(void) { return deisa_size_parse("5 furlongs", &g_size); }
static int size_number(void) { return deisa_size_parse("1.2.3MB", &g_size); }
static int size_negative(void) { return deisa_size_parse("-80MiB", &g_size); }
static int size_utf8(void) { return deisa_size_parse(BAD_UTF8, &g_size); }
static const char *const g_check_names[2] = {"a", "b"};
static const char *const g_check_twice[2] = {"a", "a"};
static const int g_check_sizes[2] = {1, 3};
static const int g_check_zero[2] = {1, 0};
static int check_callback_good(void) { return deisa_callback_check("cb", 2, g_check_names, g_check_sizes, DEISA_WHEN_OR); }
static int check_callback_none(void) { return deisa_callback_check("cb", 0, g_check_names, g_check_sizes, DEISA_WHEN_AND); }
static int check_callback_twice(void) { return deisa_callback_check("cb", 2, g_check_twice, g_check_sizes, DEISA_WHEN_AND); }
static int check_callback_window(void) { return deisa_callback_check("cb", 2, g_check_names, g_check_zero, DEISA_WHEN_AND); }
static int check_callback_when(void) { return deisa_callback_check("cb", 2, g_check_names, g_check_sizes, (deisa_when)5); }
static int check_callback_null_name(void) { return deisa_callback_check(NULL, 2, g_check_names, g_check_sizes, DEISA_WHEN_AND); }
static int check_callback_null_arrays(void) { return deisa_callback_check("cb", 2, NULL, g_check_sizes, DEISA_WHEN_AND); }
static int check_window_good(void) { return deisa_window_check("a", 4); }
static int check_window_zero(void) { return deisa_window_check("a", 0); }
static int check_window_empty(void) { return deisa_window_check("", 1); }
static int check_window_null(void) { return deisa_window_check(NULL, 1); }

static const row common_rows[] = {
    {"deisa_status_string: a text of its own for each code, \"unknown status\" for others", common_status_strings, DEISA_OK, NULL},
    {"deisa_size_parse: \"1.5 KiB\" is 1536 bytes", size_good, DEISA_OK, NULL},
    {"deisa_size_parse: NULL text", size_null, DEISA_ERR_HANDLE, "text is NULL"},
    {"deisa_size_parse: NULL bytes out-parameter", size_null_out, DEISA_ERR_HANDLE, "bytes (out) is NULL"},
    {"deisa_size_parse: an unknown unit", size_unit, DEISA_ERR_VALUE, "'5 furlongs'|furlongs|byte unit"},
    {"deisa_size_parse: not a number", size_number, DEISA_ERR_VALUE, "'1.2.3MB'|number"},
    {"deisa_size_parse: a negative size", size_negative, DEISA_ERR_VALUE, "'-80MiB'|positive"},
    {"deisa_size_parse: text not UTF-8", size_utf8, DEISA_ERR_VALUE, "text|UTF-8"},
    {"deisa_callback_check: a good callback", check_callback_good, DEISA_OK, NULL},
    {"deisa_callback_check: no input", check_callback_none, DEISA_ERR_VALUE, "'cb'|at least one input"},
    {"deisa_callback_check: an array twice", check_callback_twice, DEISA_ERR_VALUE, "'cb'|'a'|more than once"},
    {"deisa_callback_check: a window of 0 timesteps", check_callback_window, DEISA_ERR_VALUE, "'cb'|'b'|at least 1 timestep|got 0"},
    {"deisa_callback_check: when 5", check_callback_when, DEISA_ERR_VALUE, "'cb'|when|got 5"},
    {"deisa_callback_check: NULL name", check_callback_null_name, DEISA_ERR_HANDLE, "name is NULL"},
    {"deisa_callback_check: NULL arrays", check_callback_null_arrays, DEISA_ERR_HANDLE, "arrays is NULL"},
    {"deisa_window_check: a good window", check_window_good, DEISA_OK, NULL},
    {"deisa_window_check: 0 timesteps", check_window_zero, DEISA_ERR_VALUE, "'a'|at least 1 timestep|got 0"},
    {"deisa_window_check: an empty name", check_window_empty, DEISA_ERR_VALUE, "array name"},
    {"deisa_window_check: NULL array", check_window_null, DEISA_ERR_HANDLE, "array is NULL"},
    {"deisa_string_free(NULL) is accepted", common_string_free_null, DEISA_OK, NULL},
    {"deisa_bridge_free(NULL) is accepted", common_bridge_free_null, DEISA_OK, NULL},
    {"deisa_analytics_free(NULL) is accepted", common_analytics_free_null, DEISA_OK, NULL},
    {"deisa_feedback_free(NULL) is accepted", common_feedback_free_null, DEISA_OK, NULL},
    {"deisa_set_last_error: a binding's message becomes the last error", common_set_last_error, DEISA_ERR_VALUE, "set by a binding: 42"},
    {"deisa_set_last_error with a NULL message", common_set_last_error_null, DEISA_ERR_STATE, "unknown error"},
    {"deisa_set_last_error(DEISA_OK, ...) clears the message", common_set_last_error_ok, DEISA_OK, NULL},
};

/* ------------------------------------------------------------------ deisa_bridge_open */

static deisa_bridge *g_open_out;
static int open_null_out(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, 1, 0, NULL); }
static int open_world_0(void) { return deisa_bridge_open(0, 0, NULL, g_nowhere, 1, 0, &g_open_out); }
static int open_world_neg(void) { return deisa_bridge_open(0, -3, NULL, g_nowhere, 1, 0, &g_open_out); }
static int open_rank_neg(void) { return deisa_bridge_open(-1, 4, NULL, g_nowhere, 1, 0, &g_open_out); }
static int open_rank_past(void) { return deisa_bridge_open(4, 4, NULL, g_nowhere, 1, 0, &g_open_out); }
static int open_rank_huge(void) { return deisa_bridge_open(1 << 30, 4, NULL, g_nowhere, 1, 0, &g_open_out); }
static int open_failure_7(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, 1, 7, &g_open_out); }
static int open_failure_neg(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, 1, -1, &g_open_out); }
static int open_timeout_neg(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, -1, 0, &g_open_out); }
static int open_timeout_nan(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, NAN, 0, &g_open_out); }
static int open_rendezvous_utf8(void) { return deisa_bridge_open(0, 1, NULL, BAD_UTF8, 1, 0, &g_open_out); }
static int open_address_utf8(void) { return deisa_bridge_open(0, 1, OVERLONG, g_nowhere, 1, 0, &g_open_out); }

/* A connect waiting for an analytics that never comes (timeout 60 s), interrupted from another
 * thread after 0.2 s: it returns DEISA_ERR_INTERRUPTED within 5 s, and so does every later call. */
static void *interrupt_later(void *bridge)
{
    usleep(200 * 1000);
    deisa_bridge_interrupt((deisa_bridge *)bridge);
    return NULL;
}
static char g_interrupt_msg[512];
static int open_interrupted_connect(void)
{
    deisa_bridge *b = NULL;
    int s = deisa_bridge_open(0, 1, NULL, g_nowhere, 60, DEISA_ON_FAILURE_RAISE, &b);
    if (s != DEISA_OK) return -1;
    pthread_t th;
    pthread_create(&th, NULL, interrupt_later, b);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = deisa_bridge_connect(b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    snprintf(g_interrupt_msg, sizeof g_interrupt_msg, "%s", deisa_last_error() ? deisa_last_error() : "");
    pthread_join(th, NULL);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int again = deisa_bridge_connect(b);
    deisa_bridge_free(b);
    if (waited > 5.0 || again != DEISA_ERR_INTERRUPTED) return -1;
    deisa_set_last_error(s, g_interrupt_msg);
    return s;
}
static int open_failure_wait(void)
{
    deisa_bridge *b = NULL;
    int s = deisa_bridge_open(0, 1, NULL, g_nowhere, 1, DEISA_ON_FAILURE_WAIT, &b);
    if (s == DEISA_OK && (b == NULL || deisa_bridge_free(b) != DEISA_OK)) return -1;
    return s;
}
static int interrupt_null_bridge(void) { return deisa_bridge_interrupt(NULL); }
static int interrupt_null_analytics(void) { return deisa_analytics_interrupt(NULL); }

static const row open_rows[] = {
    {"deisa_bridge_interrupt: a connect waiting 60 s for an analytics ends within 5 s, and every later call", open_interrupted_connect,
     DEISA_ERR_INTERRUPTED, "rank 0|interrupted"},
    {"deisa_bridge_open: on_analytics_failure DEISA_ON_FAILURE_WAIT is accepted", open_failure_wait, DEISA_OK, NULL},
    {"deisa_bridge_interrupt: NULL bridge", interrupt_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_analytics_interrupt: NULL analytics", interrupt_null_analytics, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_bridge_open: NULL bridge out-parameter", open_null_out, DEISA_ERR_HANDLE, "bridge (out) is NULL"},
    {"deisa_bridge_open: world_size 0", open_world_0, DEISA_ERR_VALUE, "world size|got 0"},
    {"deisa_bridge_open: world_size -3", open_world_neg, DEISA_ERR_VALUE, "world size|got -3"},
    {"deisa_bridge_open: rank -1", open_rank_neg, DEISA_ERR_VALUE, "rank -1|world of size 4"},
    {"deisa_bridge_open: rank == world_size", open_rank_past, DEISA_ERR_VALUE, "rank 4|world of size 4"},
    {"deisa_bridge_open: rank 1<<30", open_rank_huge, DEISA_ERR_VALUE, "rank 1073741824"},
    {"deisa_bridge_open: on_analytics_failure 7", open_failure_7, DEISA_ERR_VALUE, "on_analytics_failure|got 7"},
    {"deisa_bridge_open: on_analytics_failure -1", open_failure_neg, DEISA_ERR_VALUE, "on_analytics_failure|got -1"},
    {"deisa_bridge_open: negative timeout", open_timeout_neg, DEISA_ERR_VALUE, "timeout"},
    {"deisa_bridge_open: NaN timeout", open_timeout_nan, DEISA_ERR_VALUE, "timeout"},
    {"deisa_bridge_open: rendezvous not UTF-8", open_rendezvous_utf8, DEISA_ERR_VALUE, "rendezvous|UTF-8"},
    {"deisa_bridge_open: address not UTF-8 (overlong encoding)", open_address_utf8, DEISA_ERR_VALUE, "address|UTF-8"},
};

/* ------------------------------------------------------------------ deisa_bridge_declare_array (no analytics yet) */

#define DECL(b, name, nd, g, c, p, dt, o) deisa_bridge_declare_array((b), (name), (nd), (g), (c), (p), (dt), (o))
static const int64_t one[1] = {1};
static int open_b0(void) { return deisa_bridge_open(0, 1, NULL, g_nowhere, 0.5, DEISA_ON_FAILURE_RAISE, &g_b0); }
static int decl_null_bridge(void) { return DECL(NULL, "bad", 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_bogus_bridge(void) { return DECL((deisa_bridge *)(intptr_t)0x12345, "bad", 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_null_name(void) { return DECL(g_b0, NULL, 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_empty_name(void) { return DECL(g_b0, "", 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_bad_utf8(void) { return DECL(g_b0, BAD_UTF8, 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_surrogate(void) { return DECL(g_b0, SURROGATE, 2, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_ndim_0(void) { return DECL(g_b0, "bad", 0, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_ndim_neg(void) { return DECL(g_b0, "bad", -1, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_ndim_huge(void) { return DECL(g_b0, "bad", 1 << 30, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_ndim_33(void) { return DECL(g_b0, "bad", 33, g2, c2, p2, DEISA_FLOAT64, 0); }
static int decl_null_global(void) { return DECL(g_b0, "bad", 2, NULL, c2, p2, DEISA_FLOAT64, 0); }
static int decl_null_chunk(void) { return DECL(g_b0, "bad", 2, g2, NULL, p2, DEISA_FLOAT64, 0); }
static int decl_null_position(void) { return DECL(g_b0, "bad", 2, g2, c2, NULL, DEISA_FLOAT64, 0); }
static int decl_global_0(void) { int64_t g[2] = {0, 3}; return DECL(g_b0, "bad", 2, g, c2, p2, DEISA_FLOAT64, 0); }
static int decl_global_neg(void) { int64_t g[2] = {2, -3}; return DECL(g_b0, "bad", 2, g, c2, p2, DEISA_FLOAT64, 0); }
static int decl_chunk_0(void) { int64_t c[2] = {2, 0}; return DECL(g_b0, "bad", 2, g2, c, p2, DEISA_FLOAT64, 0); }
static int decl_chunk_neg(void) { int64_t c[2] = {-2, 3}; return DECL(g_b0, "bad", 2, g2, c, p2, DEISA_FLOAT64, 0); }
static int decl_chunk_big(void) { int64_t c[2] = {2, 4}; return DECL(g_b0, "bad", 2, g2, c, p2, DEISA_FLOAT64, 0); }
static int decl_pos_neg(void) { int64_t p[2] = {0, -1}; return DECL(g_b0, "bad", 2, g2, c2, p, DEISA_FLOAT64, 0); }
static int decl_pos_out(void) { int64_t p[2] = {1, 0}; return DECL(g_b0, "bad", 2, g2, c2, p, DEISA_FLOAT64, 0); }
static int decl_pos_huge(void) { int64_t p[2] = {0, INT64_MAX}; return DECL(g_b0, "bad", 2, g2, c2, p, DEISA_FLOAT64, 0); }
static int decl_dtype_99(void) { return DECL(g_b0, "bad", 2, g2, c2, p2, 99, 0); }
static int decl_dtype_neg(void) { return DECL(g_b0, "bad", 2, g2, c2, p2, -1, 0); }
static int decl_order_99(void) { return DECL(g_b0, "bad", 2, g2, c2, p2, DEISA_FLOAT64, 99); }
static int decl_order_neg(void) { return DECL(g_b0, "bad", 2, g2, c2, p2, DEISA_FLOAT64, -1); }
static int decl_overflow(void)
{
    int64_t g[2] = {INT64_C(1) << 62, INT64_C(1) << 62};
    return DECL(g_b0, "bad", 2, g, g, p2, DEISA_FLOAT64, 0);
}
static int decl_bytes_overflow(void)
{
    /* 2^60 elements fit in int64; 2^60 complex128 elements of 16 bytes do not */
    int64_t g[1] = {INT64_C(1) << 60};
    return DECL(g_b0, "bad", 1, g, g, (int64_t[1]){0}, DEISA_COMPLEX128, 0);
}
static int decl_good(void) { return DECL(g_b0, "field", 2, g2, c2, p2, DEISA_FLOAT64, DEISA_ORDER_C); }
static int decl_twice(void) { return DECL(g_b0, "field", 1, one, one, (int64_t[1]){0}, DEISA_INT32, DEISA_ORDER_C); }
static int connect_no_analytics(void) { return deisa_bridge_connect(g_b0); }
static int send_no_analytics(void) { return send_field(g_b0, 0); }
static int close_b0(void) { return deisa_bridge_close(g_b0, 0, 0); }
static int close_b0_again(void) { return deisa_bridge_close(g_b0, 1, 5); }
static int decl_after_close(void) { return DECL(g_b0, "other", 1, one, one, (int64_t[1]){0}, DEISA_INT32, 0); }
static int send_after_close_b0(void) { return send_field(g_b0, 1); }
static int connect_after_close_b0(void) { return deisa_bridge_connect(g_b0); }
static int free_b0(void) { int s = deisa_bridge_free(g_b0); g_stale_bridge = g_b0; g_b0 = NULL; return s; }

static const row declare_rows[] = {
    {"deisa_bridge_open: a bridge whose rendezvous directory does not exist (nothing connects yet)", open_b0, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: NULL bridge", decl_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_bridge_declare_array: a pointer that is no handle (0x12345)", decl_bogus_bridge, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_declare_array: NULL name", decl_null_name, DEISA_ERR_HANDLE, "name is NULL"},
    {"deisa_bridge_declare_array: empty name", decl_empty_name, DEISA_ERR_VALUE, "name|non-empty"},
    {"deisa_bridge_declare_array: name not UTF-8", decl_bad_utf8, DEISA_ERR_VALUE, "name|UTF-8"},
    {"deisa_bridge_declare_array: name with an encoded UTF-16 surrogate", decl_surrogate, DEISA_ERR_VALUE, "name|UTF-8"},
    {"deisa_bridge_declare_array: ndim 0", decl_ndim_0, DEISA_ERR_VALUE, "dimensions|got 0"},
    {"deisa_bridge_declare_array: ndim -1", decl_ndim_neg, DEISA_ERR_VALUE, "dimensions|got -1"},
    {"deisa_bridge_declare_array: ndim 1<<30", decl_ndim_huge, DEISA_ERR_VALUE, "dimensions|got 1073741824"},
    {"deisa_bridge_declare_array: ndim 33", decl_ndim_33, DEISA_ERR_VALUE, "dimensions|got 33"},
    {"deisa_bridge_declare_array: NULL global_shape", decl_null_global, DEISA_ERR_HANDLE, "global_shape is NULL"},
    {"deisa_bridge_declare_array: NULL chunk_shape", decl_null_chunk, DEISA_ERR_HANDLE, "chunk_shape is NULL"},
    {"deisa_bridge_declare_array: NULL chunk_position", decl_null_position, DEISA_ERR_HANDLE, "chunk_position is NULL"},
    {"deisa_bridge_declare_array: global_shape (0, 3)", decl_global_0, DEISA_ERR_VALUE, "'bad'|global_shape (0, 3)|positive"},
    {"deisa_bridge_declare_array: global_shape (2, -3)", decl_global_neg, DEISA_ERR_VALUE, "'bad'|global_shape (2, -3)|positive"},
    {"deisa_bridge_declare_array: chunk_shape (2, 0)", decl_chunk_0, DEISA_ERR_VALUE, "'bad'|chunk_shape (2, 0)|positive"},
    {"deisa_bridge_declare_array: chunk_shape (-2, 3)", decl_chunk_neg, DEISA_ERR_VALUE, "'bad'|chunk_shape (-2, 3)|positive"},
    {"deisa_bridge_declare_array: chunk larger than global", decl_chunk_big, DEISA_ERR_VALUE, "chunk_shape (2, 4)|larger than global_shape (2, 3)"},
    {"deisa_bridge_declare_array: negative chunk_position", decl_pos_neg, DEISA_ERR_VALUE, "chunk_position (0, -1)|negative"},
    {"deisa_bridge_declare_array: chunk_position out of the block grid", decl_pos_out, DEISA_ERR_VALUE, "chunk_position (1, 0)|outside the block grid"},
    {"deisa_bridge_declare_array: chunk_position INT64_MAX", decl_pos_huge, DEISA_ERR_VALUE, "chunk_position|outside the block grid"},
    {"deisa_bridge_declare_array: dtype 99", decl_dtype_99, DEISA_ERR_TYPE, "'bad'|dtype|99"},
    {"deisa_bridge_declare_array: dtype -1", decl_dtype_neg, DEISA_ERR_TYPE, "'bad'|dtype|-1"},
    {"deisa_bridge_declare_array: order 99", decl_order_99, DEISA_ERR_VALUE, "'bad'|order|99"},
    {"deisa_bridge_declare_array: order -1", decl_order_neg, DEISA_ERR_VALUE, "'bad'|order|-1"},
    {"deisa_bridge_declare_array: global_shape of 2^124 elements (overflows int64)", decl_overflow, DEISA_ERR_VALUE, "'bad'|too large"},
    {"deisa_bridge_declare_array: 2^60 complex128 elements (bytes overflow int64)", decl_bytes_overflow, DEISA_ERR_VALUE, "'bad'|too large"},
    {"deisa_bridge_declare_array: a good declaration", decl_good, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: the same name twice", decl_twice, DEISA_ERR_VALUE, "'field'|twice"},
    {"deisa_bridge_connect: no analytics (timeout 0.5 s)", connect_no_analytics, DEISA_ERR_TIMEOUT, "rank 0|no live analytics"},
    {"deisa_bridge_send: no analytics (the first send connects; timeout 0.5 s)", send_no_analytics, DEISA_ERR_TIMEOUT, "no live analytics"},
    {"deisa_bridge_close: a bridge that never connected", close_b0, DEISA_OK, NULL},
    {"deisa_bridge_close: twice (idempotent)", close_b0_again, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: after close", decl_after_close, DEISA_ERR_STATE, "closed"},
    {"deisa_bridge_send: after close", send_after_close_b0, DEISA_ERR_STATE, "closed"},
    {"deisa_bridge_connect: after close", connect_after_close_b0, DEISA_ERR_STATE, "closed"},
    {"deisa_bridge_free: a closed bridge", free_b0, DEISA_OK, NULL},
};

/* ------------------------------------------------------------------ use after free: every call taking a bridge */

static int64_t g_i64;
static double g_f64;
static int g_int;
static deisa_dtype g_dtype;
static deisa_order g_order;
static deisa_feedback_kind g_kind;
static char g_text[64];
static void *g_ptr;
static const void *g_cptr;

static int uaf_free(void) { return deisa_bridge_free(g_stale_bridge); }
static int uaf_declare(void) { return DECL(g_stale_bridge, "x", 1, one, one, (int64_t[1]){0}, DEISA_INT32, 0); }
static int uaf_connect(void) { return deisa_bridge_connect(g_stale_bridge); }
static int uaf_send(void) { return send_field(g_stale_bridge, 0); }
static int uaf_acquire(void) { deisa_block *b; return deisa_bridge_acquire(g_stale_bridge, "field", 0, 0, &g_ptr, &g_i64, &b); }
static int uaf_get_int64(void) { return deisa_bridge_get_int64(g_stale_bridge, "k", 0, &g_i64, &g_int); }
static int uaf_get_double(void) { return deisa_bridge_get_double(g_stale_bridge, "k", 0, &g_f64, &g_int); }
static int uaf_get_string(void) { return deisa_bridge_get_string(g_stale_bridge, "k", 0, g_text, sizeof g_text, &g_i64, &g_int); }
static int uaf_get_feedback(void) { deisa_feedback *f; return deisa_bridge_get_feedback(g_stale_bridge, "k", 0, 0, &f, &g_int); }
static int uaf_lost(void) { return deisa_bridge_analytics_lost(g_stale_bridge, &g_int); }
static int uaf_close(void) { return deisa_bridge_close(g_stale_bridge, 0, 0); }
static int uaf_interrupt(void) { return deisa_bridge_interrupt(g_stale_bridge); }

static const row bridge_uaf_rows[] = {
    {"deisa_bridge_free: a freed bridge (double free)", uaf_free, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_declare_array: a freed bridge", uaf_declare, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_connect: a freed bridge", uaf_connect, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_send: a freed bridge", uaf_send, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_acquire: a freed bridge", uaf_acquire, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_get_int64: a freed bridge", uaf_get_int64, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_get_double: a freed bridge", uaf_get_double, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_get_string: a freed bridge", uaf_get_string, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_get_feedback: a freed bridge", uaf_get_feedback, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_analytics_lost: a freed bridge", uaf_lost, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_close: a freed bridge", uaf_close, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
    {"deisa_bridge_interrupt: a freed bridge", uaf_interrupt, DEISA_ERR_HANDLE, "bridge is not a valid handle"},
};

/* ------------------------------------------------------------------ tools */

static char *g_json;
static int status_nowhere(void)
{
    g_json = (char *)(intptr_t)0x1; /* a failed call must write NULL, not leave this */
    int s = deisa_status(g_nowhere, &g_json);
    return s != DEISA_OK && g_json != NULL ? -1 : s;
}
static int status_null_out(void) { return deisa_status(g_nowhere, NULL); }
static int status_bad_utf8(void) { return deisa_status(BAD_UTF8, &g_json); }
static int cleanup_null_out(void) { return deisa_cleanup(g_nowhere, NULL); }
static int cleanup_bad_utf8(void) { return deisa_cleanup(BAD_UTF8, &g_json); }
static int cleanup_nowhere(void)
{
    g_json = NULL;
    int s = deisa_cleanup(g_nowhere, &g_json);
    /* a JSON list of what was removed (dead runs' leftovers), never NULL */
    if (s == DEISA_OK && (g_json == NULL || g_json[0] != '[')) s = -1;
    deisa_string_free(g_json);
    g_json = NULL;
    return s;
}

static const row tool_rows[] = {
    {"deisa_status: a rendezvous directory that does not exist (json set to NULL)", status_nowhere, DEISA_ERR_STATE, "no live analytics|does-not-exist"},
    {"deisa_status: NULL json out-parameter", status_null_out, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_status: rendezvous not UTF-8", status_bad_utf8, DEISA_ERR_VALUE, "rendezvous|UTF-8"},
    {"deisa_cleanup: NULL json out-parameter", cleanup_null_out, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_cleanup: rendezvous not UTF-8", cleanup_bad_utf8, DEISA_ERR_VALUE, "rendezvous|UTF-8"},
    {"deisa_cleanup: a directory that does not exist (nothing of it to remove; a JSON list)", cleanup_nowhere, DEISA_OK, NULL},
};

/* ------------------------------------------------------------------ deisa_analytics_start */

static deisa_analytics *g_start_out;
#define POOL (INT64_C(16) << 20)
static int start_null_out(void) { return deisa_analytics_start(NULL, g_run, 1, 16, POOL, 30, NULL); }
static int start_ahead_0(void) { return deisa_analytics_start(NULL, g_run, 0, 16, POOL, 30, &g_start_out); }
static int start_ahead_neg(void) { return deisa_analytics_start(NULL, g_run, -2, 16, POOL, 30, &g_start_out); }
static int start_queue_0(void) { return deisa_analytics_start(NULL, g_run, 1, 0, POOL, 30, &g_start_out); }
static int start_queue_neg(void) { return deisa_analytics_start(NULL, g_run, 1, -5, POOL, 30, &g_start_out); }
static int start_pool_neg(void) { return deisa_analytics_start(NULL, g_run, 1, 16, -1, 30, &g_start_out); }
static int start_timeout_nan(void) { return deisa_analytics_start(NULL, g_run, 1, 16, POOL, NAN, &g_start_out); }
static int start_timeout_neg(void) { return deisa_analytics_start(NULL, g_run, 1, 16, POOL, -1, &g_start_out); }
static int start_bad_address(void) { return deisa_analytics_start("carrier-pigeon://roof", g_run, 1, 16, POOL, 30, &g_start_out); }
static int start_address_utf8(void) { return deisa_analytics_start(BAD_UTF8, g_run, 1, 16, POOL, 30, &g_start_out); }
static int start_rendezvous_utf8(void) { return deisa_analytics_start(NULL, OVERLONG, 1, 16, POOL, 30, &g_start_out); }
static int start_unlistenable(void)
{
    char address[700];
    snprintf(address, sizeof address, "unix:%s/no/such/dir/sock", g_nowhere);
    return deisa_analytics_start(address, g_run, 1, 16, POOL, 30, &g_start_out);
}
static int start_good(void)
{
    int s = deisa_analytics_start(NULL, g_run, 1, 4, POOL, 30, &g_a);
    note_session(g_a);
    return s;
}
static int start_second(void)
{
    g_start_out = NULL;
    int s = deisa_analytics_start(NULL, g_run, 1, 16, POOL, 30, &g_start_out);
    if (s == DEISA_OK) deisa_analytics_free(g_start_out); /* wrongly started: do not keep it */
    return s;
}

static int cluster_unix(void) { return deisa_analytics_start_cluster(NULL, g_run, 1, 16, POOL, 30, &g_start_out); }
static int cluster_null_out(void) { return deisa_analytics_start_cluster("tcp://127.0.0.1:0", g_run, 1, 16, POOL, 30, NULL); }
static int check_good(void) { return deisa_analytics_check(NULL, g_run, 2, 16, POOL, 30); }
static int check_ahead_0(void) { return deisa_analytics_check(NULL, g_run, 0, 16, POOL, 30); }
static int check_queue_0(void) { return deisa_analytics_check(NULL, g_run, 1, 0, POOL, 30); }
static int check_pool_neg(void) { return deisa_analytics_check(NULL, g_run, 1, 16, -1, 30); }
static int check_timeout_nan(void) { return deisa_analytics_check(NULL, g_run, 1, 16, POOL, NAN); }
static int check_bad_address(void) { return deisa_analytics_check("carrier-pigeon://roof", g_run, 1, 16, POOL, 30); }

/* ------------------------------------------------------------------ a node service (as a Dask worker runs it) */

static deisa_node *g_node;
static deisa_node *g_node_out;
static void *g_address;
static int64_t g_nbytes;
static int node_null_out(void) { return deisa_node_open(g_nowhere, "tcp://10.0.0.1:1234", NULL); }
static int node_null_worker(void) { return deisa_node_open(g_nowhere, NULL, &g_node_out); }
static int node_empty_worker(void) { return deisa_node_open(g_nowhere, "", &g_node_out); }
static int node_open_good(void) { return deisa_node_open(g_nowhere, "tcp://10.0.0.1:1234", &g_node); }
static int node_state_null(void) { return deisa_node_state(NULL, &g_json); }
static int node_state_null_json(void) { return deisa_node_state(g_node, NULL); }
static int node_state_good(void)
{
    char *json = NULL;
    int s = deisa_node_state(g_node, &json);
    if (s == DEISA_OK && (json == NULL || strstr(json, "waiting for a cluster run") == NULL || strstr(json, "\"session\":null") == NULL)) s = -1;
    deisa_string_free(json);
    return s;
}
static int node_read_null_session(void) { return deisa_node_read_block(g_node, NULL, 1, &g_address, &g_nbytes); }
static int node_read_null_address(void) { return deisa_node_read_block(g_node, "abc", 1, NULL, &g_nbytes); }
static int node_read_unserved(void) { return deisa_node_read_block(g_node, "abc", (INT64_C(1) << DEISA_LEASE_NODE_SHIFT) | 7, &g_address, &g_nbytes); }
static int node_release_null(void) { return deisa_node_release_block(NULL, "abc", 1); }
static int node_release_unserved(void) { return deisa_node_release_block(g_node, "abc", 1); }
static int node_free_bogus(void) { return deisa_node_free((deisa_node *)(intptr_t)0x777); }
static int node_free_good(void) { return deisa_node_free(g_node); }
static int node_state_freed(void) { return deisa_node_state(g_node, &g_json); }

static const row node_rows[] = {
    {"deisa_node_open: NULL node out-parameter", node_null_out, DEISA_ERR_HANDLE, "node (out) is NULL"},
    {"deisa_node_open: NULL worker", node_null_worker, DEISA_ERR_HANDLE, "worker is NULL"},
    {"deisa_node_open: an empty worker address", node_empty_worker, DEISA_ERR_VALUE, "worker"},
    {"deisa_node_open: a good open (watching a directory with no run)", node_open_good, DEISA_OK, NULL},
    {"deisa_node_state: NULL node", node_state_null, DEISA_ERR_HANDLE, "node is NULL"},
    {"deisa_node_state: NULL json out-parameter", node_state_null_json, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_node_state: waiting, serving no run", node_state_good, DEISA_OK, NULL},
    {"deisa_node_read_block: NULL session", node_read_null_session, DEISA_ERR_HANDLE, "session is NULL"},
    {"deisa_node_read_block: NULL address out-parameter", node_read_null_address, DEISA_ERR_HANDLE, "address (out) is NULL"},
    {"deisa_node_read_block: a run this service does not serve", node_read_unserved, DEISA_ERR_STATE, "does not serve run abc"},
    {"deisa_node_release_block: NULL node", node_release_null, DEISA_ERR_HANDLE, "node is NULL"},
    {"deisa_node_release_block: a run it does not serve (a late notice: ignored)", node_release_unserved, DEISA_OK, NULL},
    {"deisa_node_free: a pointer that is no handle", node_free_bogus, DEISA_ERR_HANDLE, "node is not a valid handle"},
    {"deisa_node_free: a good free", node_free_good, DEISA_OK, NULL},
    {"deisa_node_state: a freed node", node_state_freed, DEISA_ERR_HANDLE, "node is not a valid handle"},
};

static const row start_rows[] = {
    {"deisa_analytics_check: good settings", check_good, DEISA_OK, NULL},
    {"deisa_analytics_check: max_simulation_ahead 0", check_ahead_0, DEISA_ERR_VALUE, "max_simulation_ahead|got 0"},
    {"deisa_analytics_check: feedback_queue_size 0", check_queue_0, DEISA_ERR_VALUE, "feedback_queue_size|got 0"},
    {"deisa_analytics_check: pool_bytes -1", check_pool_neg, DEISA_ERR_VALUE, "pool|-1"},
    {"deisa_analytics_check: NaN timeout", check_timeout_nan, DEISA_ERR_VALUE, "timeout"},
    {"deisa_analytics_check: an address of an unknown scheme", check_bad_address, DEISA_ERR_VALUE, "carrier-pigeon://roof"},
    {"deisa_analytics_start: NULL analytics out-parameter", start_null_out, DEISA_ERR_HANDLE, "analytics (out) is NULL"},
    {"deisa_analytics_start: max_simulation_ahead 0", start_ahead_0, DEISA_ERR_VALUE, "max_simulation_ahead|got 0"},
    {"deisa_analytics_start: max_simulation_ahead -2", start_ahead_neg, DEISA_ERR_VALUE, "max_simulation_ahead|got -2"},
    {"deisa_analytics_start: feedback_queue_size 0", start_queue_0, DEISA_ERR_VALUE, "feedback_queue_size|got 0"},
    {"deisa_analytics_start: feedback_queue_size -5", start_queue_neg, DEISA_ERR_VALUE, "feedback_queue_size|got -5"},
    {"deisa_analytics_start: pool_bytes -1", start_pool_neg, DEISA_ERR_VALUE, "pool|-1"},
    {"deisa_analytics_start: NaN timeout", start_timeout_nan, DEISA_ERR_VALUE, "timeout"},
    {"deisa_analytics_start: negative timeout", start_timeout_neg, DEISA_ERR_VALUE, "timeout"},
    {"deisa_analytics_start: an address of an unknown scheme", start_bad_address, DEISA_ERR_VALUE, "carrier-pigeon://roof"},
    {"deisa_analytics_start: address not UTF-8", start_address_utf8, DEISA_ERR_VALUE, "address|UTF-8"},
    {"deisa_analytics_start: rendezvous not UTF-8", start_rendezvous_utf8, DEISA_ERR_VALUE, "rendezvous|UTF-8"},
    {"deisa_analytics_start: a socket in a directory that does not exist", start_unlistenable, DEISA_ERR_VALUE, "cannot listen|no/such/dir"},
    {"deisa_analytics_start_cluster: no TCP address (the nodes could not reach it)", cluster_unix, DEISA_ERR_VALUE, "on a cluster|TCP"},
    {"deisa_analytics_start_cluster: NULL analytics out-parameter", cluster_null_out, DEISA_ERR_HANDLE, "analytics (out) is NULL"},
    {"deisa_analytics_start: a good start", start_good, DEISA_OK, NULL},
    {"deisa_analytics_start: a second analytics on a live run's rendezvous directory", start_second, DEISA_ERR_STATE, "another analytics|is running"},
};

/* ------------------------------------------------------------------ the analytics before the simulation connects */

static int g_cb_id = -1;
static const char *const g_names1[1] = {"field"};
static const char *const g_names2[2] = {"field", "field"};
static const char *const g_names_null[1] = {NULL};
static const char *const g_names_empty[1] = {""};
static const char *const g_names_utf8[1] = {BAD_UTF8};
static const int g_w1[1] = {1};
static const int g_w2[2] = {1, 2};
static const int g_w0[1] = {0};
static const int g_wneg[1] = {-4};
static const int g_wgood[1] = {2};
static int info_null_json(void) { return deisa_analytics_info(g_a, NULL); }
static int info_null(void) { return deisa_analytics_info(NULL, &g_json); }
static int info_bogus(void) { return deisa_analytics_info((deisa_analytics *)(intptr_t)0x777, &g_json); }
static int info_good(void)
{
    char *json = NULL;
    int s = deisa_analytics_info(g_a, &json);
    if (s == DEISA_OK && (json == NULL || strstr(json, "\"session\"") == NULL)) s = -1;
    deisa_string_free(json);
    return s;
}
static int cb_null_analytics(void) { return deisa_analytics_add_callback(NULL, "cb", 1, g_names1, g_w1, 0, &g_int); }
static int cb_inputs_0(void) { return deisa_analytics_add_callback(g_a, "cb", 0, g_names1, g_w1, 0, &g_int); }
static int cb_inputs_neg(void) { return deisa_analytics_add_callback(g_a, "cb", -1, g_names1, g_w1, 0, &g_int); }
static int cb_null_arrays(void) { return deisa_analytics_add_callback(g_a, "cb", 1, NULL, g_w1, 0, &g_int); }
static int cb_null_sizes(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, NULL, 0, &g_int); }
static int cb_null_array_name(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names_null, g_w1, 0, &g_int); }
static int cb_empty_array_name(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names_empty, g_w1, 0, &g_int); }
static int cb_utf8_array_name(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names_utf8, g_w1, 0, &g_int); }
static int cb_twice(void) { return deisa_analytics_add_callback(g_a, "cb", 2, g_names2, g_w2, 0, &g_int); }
static int cb_window_0(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, g_w0, 0, &g_int); }
static int cb_window_neg(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, g_wneg, 0, &g_int); }
static int cb_when_7(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, g_w1, 7, &g_int); }
static int cb_when_neg(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, g_w1, -1, &g_int); }
static int cb_null_name(void) { return deisa_analytics_add_callback(g_a, NULL, 1, g_names1, g_w1, 0, &g_int); }
static int cb_null_id(void) { return deisa_analytics_add_callback(g_a, "cb", 1, g_names1, g_w1, 0, NULL); }
static int cb_good(void) { return deisa_analytics_add_callback(g_a, "watch", 1, g_names1, g_wgood, 0, &g_cb_id); }
static int nodes_null_json(void) { return deisa_analytics_nodes(g_a, NULL); }
static int nodes_null(void) { return deisa_analytics_nodes(NULL, &g_json); }
static int nodes_good(void)
{
    char *json = NULL;
    int s = deisa_analytics_nodes(g_a, &json);
    if (s == DEISA_OK && (json == NULL || strcmp(json, "[]") != 0)) s = -1; /* one machine: no node services */
    deisa_string_free(json);
    return s;
}
static int wait_null_json(void) { return deisa_analytics_wait_for_simulation(g_a, NULL); }
static int wait_null(void) { return deisa_analytics_wait_for_simulation(NULL, &g_json); }

static const row analytics_rows[] = {
    {"deisa_analytics_info: NULL json out-parameter", info_null_json, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_analytics_info: NULL analytics", info_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_info: a pointer that is no handle", info_bogus, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_info: a good call", info_good, DEISA_OK, NULL},
    {"deisa_analytics_add_callback: NULL analytics", cb_null_analytics, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_add_callback: n_inputs 0", cb_inputs_0, DEISA_ERR_VALUE, "at least one input"},
    {"deisa_analytics_add_callback: n_inputs -1", cb_inputs_neg, DEISA_ERR_VALUE, "n_inputs|got -1"},
    {"deisa_analytics_add_callback: NULL arrays", cb_null_arrays, DEISA_ERR_HANDLE, "arrays is NULL"},
    {"deisa_analytics_add_callback: NULL window_sizes", cb_null_sizes, DEISA_ERR_HANDLE, "window_sizes is NULL"},
    {"deisa_analytics_add_callback: arrays[0] NULL", cb_null_array_name, DEISA_ERR_HANDLE, "arrays[0] is NULL"},
    {"deisa_analytics_add_callback: empty array name", cb_empty_array_name, DEISA_ERR_VALUE, "'cb'|array name"},
    {"deisa_analytics_add_callback: array name not UTF-8", cb_utf8_array_name, DEISA_ERR_VALUE, "arrays[0]|UTF-8"},
    {"deisa_analytics_add_callback: the same array twice", cb_twice, DEISA_ERR_VALUE, "'field'|more than once"},
    {"deisa_analytics_add_callback: window size 0", cb_window_0, DEISA_ERR_VALUE, "'field'|at least 1 timestep|got 0"},
    {"deisa_analytics_add_callback: window size -4", cb_window_neg, DEISA_ERR_VALUE, "'field'|at least 1 timestep|got -4"},
    {"deisa_analytics_add_callback: when 7", cb_when_7, DEISA_ERR_VALUE, "when|got 7"},
    {"deisa_analytics_add_callback: when -1", cb_when_neg, DEISA_ERR_VALUE, "when|got -1"},
    {"deisa_analytics_add_callback: NULL name", cb_null_name, DEISA_ERR_HANDLE, "name is NULL"},
    {"deisa_analytics_add_callback: NULL id out-parameter", cb_null_id, DEISA_ERR_HANDLE, "id (out) is NULL"},
    {"deisa_analytics_add_callback: a good callback (window of 2 on 'field')", cb_good, DEISA_OK, NULL},
    {"deisa_analytics_nodes: NULL json out-parameter", nodes_null_json, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_analytics_nodes: NULL analytics", nodes_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_nodes: a run on one machine has none (an empty list)", nodes_good, DEISA_OK, NULL},
    {"deisa_analytics_wait_for_simulation: NULL json out-parameter", wait_null_json, DEISA_ERR_HANDLE, "json (out) is NULL"},
    {"deisa_analytics_wait_for_simulation: NULL analytics", wait_null, DEISA_ERR_HANDLE, "analytics is NULL"},
};

/* ------------------------------------------------------------------ a live run: one bridge, the analytics in this process */

static int open_b(void) { return deisa_bridge_open(0, 1, NULL, g_run, 30, DEISA_ON_FAILURE_RAISE, &g_b); }
static int decl_b_field(void) { return DECL(g_b, "field", 2, g2, c2, p2, DEISA_FLOAT64, DEISA_ORDER_C); }
static int decl_b_any(void)
{
    int64_t g[1] = {4};
    return DECL(g_b, "any", 1, g, g, (int64_t[1]){0}, DEISA_DTYPE_UNDECLARED, DEISA_ORDER_FORTRAN);
}
static int decl_b_huge(void)
{
    int64_t g[1] = {INT64_C(1) << 37}; /* 1 TiB of float64: its dtype comes with the block */
    return DECL(g_b, "huge", 1, g, g, (int64_t[1]){0}, DEISA_DTYPE_UNDECLARED, DEISA_ORDER_C);
}
static pump_t g_pump;
static pthread_t g_pump_thread;
static int connect_b(void) { return deisa_bridge_connect(g_b); }

static const row connect_rows[] = {
    {"deisa_bridge_open: the live run's bridge", open_b, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: 'field' (2, 3) float64", decl_b_field, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: 'any' (4,) dtype decided by each timestep's block", decl_b_any, DEISA_OK, NULL},
    {"deisa_bridge_declare_array: 'huge' (2^37,), dtype decided by the block", decl_b_huge, DEISA_OK, NULL},
    {"deisa_bridge_connect: meets the analytics", connect_b, DEISA_OK, NULL},
};

static int alive_live(void)
{
    int lost = -1;
    return deisa_bridge_analytics_lost(g_b, &lost) == DEISA_OK && lost == 0 && deisa_last_error() == NULL;
}

static const int64_t s32[2] = {3, 2};
static const int64_t s6[1] = {6};
static int decl_after_connect(void) { return DECL(g_b, "late", 1, one, one, (int64_t[1]){0}, DEISA_INT32, 0); }
static int connect_again(void) { return deisa_bridge_connect(g_b); }
#define SEND(b, name, data, n, dt, nd, shape, order, t) deisa_bridge_send((b), (name), (data), (n), (dt), (nd), (shape), (order), (t))
static int send_null_bridge(void) { return SEND(NULL, "field", g_data, 48, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_null_name(void) { return SEND(g_b, NULL, g_data, 48, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_bad_utf8(void) { return SEND(g_b, BAD_UTF8, g_data, 48, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_undeclared(void) { return SEND(g_b, "pressure", g_data, 48, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_null_data(void) { return SEND(g_b, "field", NULL, 48, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_nbytes_neg(void) { return SEND(g_b, "field", g_data, -8, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_nbytes_short(void) { return SEND(g_b, "field", g_data, 40, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_nbytes_long(void) { return SEND(g_b, "field", g_data, 47, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_nbytes_huge(void) { return SEND(g_b, "field", g_data, INT64_C(1) << 40, DEISA_FLOAT64, 2, c2, 0, 0); }
static int send_wrong_dtype(void) { return SEND(g_b, "field", g_data, 24, DEISA_INT32, 2, c2, 0, 0); }
static int send_dtype_99(void) { return SEND(g_b, "field", g_data, 48, 99, 2, c2, 0, 0); }
static int send_dtype_neg(void) { return SEND(g_b, "field", g_data, 48, -1, 2, c2, 0, 0); }
static int send_dtype_0(void) { return SEND(g_b, "field", g_data, 48, DEISA_DTYPE_UNDECLARED, 2, c2, 0, 0); }
static int send_wrong_shape(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 2, s32, 0, 0); }
static int send_wrong_ndim(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 1, s6, 0, 0); }
static int send_negative_length(void) { int64_t s[2] = {2, -3}; return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 2, s, 0, 0); }
static int send_ndim_0(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 0, c2, 0, 0); }
static int send_ndim_huge(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 1 << 30, c2, 0, 0); }
static int send_null_shape(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 2, NULL, 0, 0); }
static int send_order_5(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 2, c2, 5, 0); }
static int send_order_neg(void) { return SEND(g_b, "field", g_data, 48, DEISA_FLOAT64, 2, c2, -1, 0); }
static int send_t0(void) { return send_field(g_b, 0); }
static int send_t0_again(void) { return send_field(g_b, 0); }
static int send_t2(void) { return send_field(g_b, 2); }
static int send_t1(void) { return send_field(g_b, 1); }
static int send_any_dtype_int8(void)
{
    int8_t d[4] = {1, 2, 3, 4};
    return SEND(g_b, "any", d, 4, DEISA_INT8, 1, (int64_t[1]){4}, DEISA_ORDER_FORTRAN, 2);
}
static int acq_null_bridge(void) { return deisa_bridge_acquire(NULL, "field", 3, 0, &g_ptr, &g_i64, &g_block); }
static int acq_null_name(void) { return deisa_bridge_acquire(g_b, NULL, 3, 0, &g_ptr, &g_i64, &g_block); }
static int acq_null_data(void) { return deisa_bridge_acquire(g_b, "field", 3, 0, NULL, &g_i64, &g_block); }
static int acq_null_nbytes(void) { return deisa_bridge_acquire(g_b, "field", 3, 0, &g_ptr, NULL, &g_block); }
static int acq_null_block(void) { return deisa_bridge_acquire(g_b, "field", 3, 0, &g_ptr, &g_i64, NULL); }
static int acq_undeclared(void)
{
    g_ptr = &g_int; /* a failed call must write NULL into the out-parameters */
    g_block = (deisa_block *)(intptr_t)0x1;
    int s = deisa_bridge_acquire(g_b, "pressure", 3, 0, &g_ptr, &g_i64, &g_block);
    return s != DEISA_OK && (g_ptr != NULL || g_block != NULL) ? -1 : s;
}
static int acq_dtype_99(void) { return deisa_bridge_acquire(g_b, "field", 3, 99, &g_ptr, &g_i64, &g_block); }
static int acq_dtype_neg(void) { return deisa_bridge_acquire(g_b, "field", 3, -1, &g_ptr, &g_i64, &g_block); }
static int acq_wrong_dtype(void) { return deisa_bridge_acquire(g_b, "field", 3, DEISA_INT16, &g_ptr, &g_i64, &g_block); }
static int acq_no_dtype(void) { return deisa_bridge_acquire(g_b, "any", 3, DEISA_DTYPE_UNDECLARED, &g_ptr, &g_i64, &g_block); }
static int acq_older(void) { return deisa_bridge_acquire(g_b, "field", 1, 0, &g_ptr, &g_i64, &g_block); }
static int acq_same(void) { return deisa_bridge_acquire(g_b, "field", 2, 0, &g_ptr, &g_i64, &g_block); }
static int acq_too_big(void) { return deisa_bridge_acquire(g_b, "huge", 3, DEISA_FLOAT64, &g_ptr, &g_i64, &g_block); }
static int acq_good(int64_t t)
{
    g_block = NULL;
    g_ptr = NULL;
    int s = deisa_bridge_acquire(g_b, "field", t, DEISA_DTYPE_UNDECLARED, &g_ptr, &g_i64, &g_block);
    if (s == DEISA_OK) {
        if (g_ptr == NULL || g_i64 != 48 || g_block == NULL) return -1;
        fill(g_ptr, t);
    }
    return s;
}
static int acq_t3(void) { return acq_good(3); }
static int info_block(void)
{
    deisa_dtype dt = DEISA_DTYPE_UNDECLARED;
    deisa_order order = DEISA_ORDER_FORTRAN;
    int nd = -1;
    int64_t shape[2] = {0, 0};
    int s = deisa_block_info(g_block, &dt, &order, &nd, shape, 2);
    if (s == DEISA_OK && (dt != DEISA_FLOAT64 || order != DEISA_ORDER_C || nd != 2 || shape[0] != 2 || shape[1] != 3)) return -1;
    return s;
}
static int info_block_null(void) { return deisa_block_info(NULL, &g_dtype, &g_order, &g_int, NULL, 0); }
static int info_block_null_ndim(void) { return deisa_block_info(g_block, &g_dtype, &g_order, NULL, NULL, 0); }
static int info_block_small(void) { int64_t s[1]; return deisa_block_info(g_block, NULL, NULL, &g_int, s, 1); }
static int info_block_neg(void) { int64_t s[1]; return deisa_block_info(g_block, NULL, NULL, &g_int, s, -1); }
static int commit_t3(void) { int s = deisa_block_commit(g_block); g_stale_block = g_block; g_block = NULL; return s; }
static int commit_twice(void) { return deisa_block_commit(g_stale_block); }
static int abandon_after_commit(void) { return deisa_block_abandon(g_stale_block); }
static int info_after_commit(void) { return deisa_block_info(g_stale_block, NULL, NULL, &g_int, NULL, 0); }
static int commit_null(void) { return deisa_block_commit(NULL); }
static int abandon_null(void) { return deisa_block_abandon(NULL); }
static int acq_t4(void) { return acq_good(4); }
static int abandon_t4(void) { int s = deisa_block_abandon(g_block); g_stale_block = g_block; g_block = NULL; return s; }
static int abandon_twice(void) { return deisa_block_abandon(g_stale_block); }
static int commit_after_abandon(void) { return deisa_block_commit(g_stale_block); }
static int acq_t5(void) { return acq_good(5); }
static int send_past_open_block(void) { return send_field(g_b, 6); }
static int commit_t5(void) { int s = deisa_block_commit(g_block); g_block = NULL; return s; }
static int block_as_bridge(void) { return deisa_block_commit((deisa_block *)g_b); }
static int abandon_bridge(void) { return deisa_block_abandon((deisa_block *)g_b); }
static int info_bridge(void) { return deisa_block_info((deisa_block *)g_b, NULL, NULL, &g_int, NULL, 0); }
static int feedback_bridge(void) { return deisa_feedback_count((deisa_feedback *)g_b, &g_i64); }
static int feedback_free_bridge(void) { return deisa_feedback_free((deisa_feedback *)g_b); }
static int analytics_bridge(void) { return deisa_analytics_info((deisa_analytics *)g_b, &g_json); }
static int analytics_free_bridge(void) { return deisa_analytics_free((deisa_analytics *)g_b); }
static int bridge_analytics(void) { return send_field((deisa_bridge *)g_a, 7); }
static int bridge_free_analytics(void) { return deisa_bridge_free((deisa_bridge *)g_a); }

static const row send_rows[] = {
    {"deisa_bridge_declare_array: after connect", decl_after_connect, DEISA_ERR_STATE, "'late'|after the bridge connected"},
    {"deisa_bridge_connect: again (idempotent)", connect_again, DEISA_OK, NULL},
    {"deisa_bridge_send: NULL bridge", send_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_bridge_send: NULL name", send_null_name, DEISA_ERR_HANDLE, "name is NULL"},
    {"deisa_bridge_send: name not UTF-8", send_bad_utf8, DEISA_ERR_VALUE, "name|UTF-8"},
    {"deisa_bridge_send: an undeclared array (the message lists the declared ones)", send_undeclared, DEISA_ERR_CONTRACT, "'pressure'|declared arrays|'field'|'any'|'huge'"},
    {"deisa_bridge_send: NULL data", send_null_data, DEISA_ERR_HANDLE, "data is NULL"},
    {"deisa_bridge_send: nbytes -8", send_nbytes_neg, DEISA_ERR_VALUE, "'field'|nbytes|-8"},
    {"deisa_bridge_send: nbytes 40 for (2, 3) float64", send_nbytes_short, DEISA_ERR_VALUE, "'field'|40 bytes|expected 48"},
    {"deisa_bridge_send: nbytes 47 (not a whole number of float64)", send_nbytes_long, DEISA_ERR_VALUE, "'field'|47 bytes|expected 48"},
    {"deisa_bridge_send: nbytes 2^40", send_nbytes_huge, DEISA_ERR_VALUE, "'field'|1099511627776"},
    {"deisa_bridge_send: int32 block for a float64 array", send_wrong_dtype, DEISA_ERR_TYPE, "'field'|float64|int32"},
    {"deisa_bridge_send: dtype 99", send_dtype_99, DEISA_ERR_TYPE, "'field'|dtype|99"},
    {"deisa_bridge_send: dtype -1", send_dtype_neg, DEISA_ERR_TYPE, "'field'|dtype|-1"},
    {"deisa_bridge_send: dtype DEISA_DTYPE_UNDECLARED", send_dtype_0, DEISA_ERR_TYPE, "'field'|dtype"},
    {"deisa_bridge_send: shape (3, 2) for chunk (2, 3)", send_wrong_shape, DEISA_ERR_VALUE, "'field'|(3, 2)|(2, 3)"},
    {"deisa_bridge_send: shape (6,) for chunk (2, 3)", send_wrong_ndim, DEISA_ERR_VALUE, "'field'|(6,)|(2, 3)"},
    {"deisa_bridge_send: shape (2, -3) for chunk (2, 3)", send_negative_length, DEISA_ERR_VALUE, "'field'|(2, -3)|(2, 3)"},
    {"deisa_bridge_send: ndim 0", send_ndim_0, DEISA_ERR_VALUE, "dimensions|got 0"},
    {"deisa_bridge_send: ndim 1<<30", send_ndim_huge, DEISA_ERR_VALUE, "dimensions|got 1073741824"},
    {"deisa_bridge_send: NULL shape", send_null_shape, DEISA_ERR_HANDLE, "shape is NULL"},
    {"deisa_bridge_send: order 5", send_order_5, DEISA_ERR_VALUE, "memory order|5"},
    {"deisa_bridge_send: order -1", send_order_neg, DEISA_ERR_VALUE, "memory order|-1"},
    {"deisa_bridge_send: a good send at timestep 0", send_t0, DEISA_OK, NULL},
    {"deisa_bridge_send: the same (array, timestep) twice", send_t0_again, DEISA_ERR_VALUE, "'field'|already sent at timestep 0"},
    {"deisa_bridge_send: a good send at timestep 2", send_t2, DEISA_OK, NULL},
    {"deisa_bridge_send: timestep 1 after 2 (decreasing)", send_t1, DEISA_ERR_VALUE, "timestep 1|older than timestep 2"},
    {"deisa_bridge_send: an array of undeclared dtype, its block decides (int8)", send_any_dtype_int8, DEISA_OK, NULL},
    {"deisa_bridge_acquire: NULL bridge", acq_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_bridge_acquire: NULL name", acq_null_name, DEISA_ERR_HANDLE, "name is NULL"},
    {"deisa_bridge_acquire: NULL data out-parameter", acq_null_data, DEISA_ERR_HANDLE, "data (out) is NULL"},
    {"deisa_bridge_acquire: NULL nbytes out-parameter", acq_null_nbytes, DEISA_ERR_HANDLE, "nbytes (out) is NULL"},
    {"deisa_bridge_acquire: NULL block out-parameter", acq_null_block, DEISA_ERR_HANDLE, "block (out) is NULL"},
    {"deisa_bridge_acquire: an undeclared array (data and block out-parameters set to NULL)", acq_undeclared, DEISA_ERR_CONTRACT, "'pressure'|declared arrays|'field'"},
    {"deisa_bridge_acquire: dtype 99", acq_dtype_99, DEISA_ERR_TYPE, "'field'|dtype|99"},
    {"deisa_bridge_acquire: dtype -1", acq_dtype_neg, DEISA_ERR_TYPE, "'field'|dtype|-1"},
    {"deisa_bridge_acquire: int16 for a float64 array", acq_wrong_dtype, DEISA_ERR_TYPE, "'field'|float64|int16"},
    {"deisa_bridge_acquire: no dtype for an array declared without one", acq_no_dtype, DEISA_ERR_TYPE, "'any'|no declared dtype"},
    {"deisa_bridge_acquire: timestep 1 after 2 (decreasing)", acq_older, DEISA_ERR_VALUE, "timestep 1|older than timestep 2"},
    {"deisa_bridge_acquire: (array, timestep) already sent", acq_same, DEISA_ERR_VALUE, "'field'|already sent at timestep 2"},
    {"deisa_bridge_acquire: a block larger than the shared-memory pool", acq_too_big, DEISA_ERR_VALUE, "'huge'|does not fit|pool"},
    {"deisa_bridge_acquire: a good buffer at timestep 3", acq_t3, DEISA_OK, NULL},
    {"deisa_block_info: the buffer's dtype, order and shape", info_block, DEISA_OK, NULL},
    {"deisa_block_info: NULL block", info_block_null, DEISA_ERR_HANDLE, "block is NULL"},
    {"deisa_block_info: NULL ndim out-parameter", info_block_null_ndim, DEISA_ERR_HANDLE, "ndim (out) is NULL"},
    {"deisa_block_info: shape capacity 1 for 2 dimensions", info_block_small, DEISA_ERR_VALUE, "2 dimensions|capacity is 1"},
    {"deisa_block_info: shape capacity -1", info_block_neg, DEISA_ERR_VALUE, "capacity"},
    {"deisa_block_commit: a good commit", commit_t3, DEISA_OK, NULL},
    {"deisa_block_commit: twice", commit_twice, DEISA_ERR_HANDLE, "block is not a valid handle"},
    {"deisa_block_abandon: after commit", abandon_after_commit, DEISA_ERR_HANDLE, "block is not a valid handle"},
    {"deisa_block_info: after commit", info_after_commit, DEISA_ERR_HANDLE, "block is not a valid handle"},
    {"deisa_block_commit: NULL block", commit_null, DEISA_ERR_HANDLE, "block is NULL"},
    {"deisa_block_abandon: NULL block", abandon_null, DEISA_ERR_HANDLE, "block is NULL"},
    {"deisa_bridge_acquire: a good buffer at timestep 4", acq_t4, DEISA_OK, NULL},
    {"deisa_block_abandon: a good abandon", abandon_t4, DEISA_OK, NULL},
    {"deisa_block_abandon: twice", abandon_twice, DEISA_ERR_HANDLE, "block is not a valid handle"},
    {"deisa_block_commit: after abandon", commit_after_abandon, DEISA_ERR_HANDLE, "block is not a valid handle"},
    {"deisa_bridge_acquire: a good buffer at timestep 5", acq_t5, DEISA_OK, NULL},
    {"deisa_bridge_send: timestep 6 while the buffer of timestep 5 is open", send_past_open_block, DEISA_ERR_STATE, "commit or abandon|timestep 5"},
    {"deisa_block_commit: the buffer of timestep 5", commit_t5, DEISA_OK, NULL},
    {"deisa_block_commit: a bridge handle", block_as_bridge, DEISA_ERR_HANDLE, "block|bridge"},
    {"deisa_block_abandon: a bridge handle", abandon_bridge, DEISA_ERR_HANDLE, "block|bridge"},
    {"deisa_block_info: a bridge handle", info_bridge, DEISA_ERR_HANDLE, "block|bridge"},
    {"deisa_feedback_count: a bridge handle", feedback_bridge, DEISA_ERR_HANDLE, "feedback|bridge"},
    {"deisa_feedback_free: a bridge handle (the bridge survives)", feedback_free_bridge, DEISA_ERR_HANDLE, "feedback|bridge"},
    {"deisa_analytics_info: a bridge handle", analytics_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
    {"deisa_analytics_free: a bridge handle (the bridge survives)", analytics_free_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
    {"deisa_bridge_send: an analytics handle", bridge_analytics, DEISA_ERR_HANDLE, "bridge|analytics"},
    {"deisa_bridge_free: an analytics handle (the analytics survives)", bridge_free_analytics, DEISA_ERR_HANDLE, "bridge|analytics"},
};

/* ------------------------------------------------------------------ feedback */

#define SETF(a, key, t, kind, data, n) deisa_analytics_set_feedback((a), (key), (t), (kind), (data), (n))
static const double d_half = 0.5;
static const int64_t i_seven = 7;
static const double d_three = 3.0;
static int setf_null(void) { return SETF(NULL, "cooling", 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_null_key(void) { return SETF(g_a, NULL, 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_empty_key(void) { return SETF(g_a, "", 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_utf8_key(void) { return SETF(g_a, BAD_UTF8, 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_kind_99(void) { return SETF(g_a, "cooling", 0, 99, &d_half, 8); }
static int setf_kind_neg(void) { return SETF(g_a, "cooling", 0, -1, &d_half, 8); }
static int setf_short(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_INT64, &i_seven, 3); }
static int setf_nbytes_neg(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_BYTES, &i_seven, -1); }
static int setf_nbytes_huge(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_BYTES, &i_seven, INT64_C(2) << 20); }
static int setf_null_data(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_FLOAT64, NULL, 8); }
static int setf_cooling_0(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_cooling_0_again(void) { return SETF(g_a, "cooling", 0, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_cooling_1(void) { return SETF(g_a, "cooling", 1, DEISA_FEEDBACK_FLOAT64, &d_three, 8); }
static int setf_cooling_older(void) { return SETF(g_a, "cooling", -5, DEISA_FEEDBACK_FLOAT64, &d_half, 8); }
static int setf_label(void) { return SETF(g_a, "label", 0, DEISA_FEEDBACK_STRING, "hot", 3); }
static int setf_count(void) { return SETF(g_a, "count", 0, DEISA_FEEDBACK_INT64, &i_seven, 8); }
static int setf_blob(void) { return SETF(g_a, "blob", 0, DEISA_FEEDBACK_BYTES, "\x01\x02", 2); }
static int setf_none(void) { return SETF(g_a, "nothing", 0, DEISA_FEEDBACK_NONE, NULL, 0); }

#define GETI(b, key, t, v, f) deisa_bridge_get_int64((b), (key), (t), (v), (f))
#define GETD(b, key, t, v, f) deisa_bridge_get_double((b), (key), (t), (v), (f))
#define GETS(b, key, t, buf, cap, len, f) deisa_bridge_get_string((b), (key), (t), (buf), (cap), (len), (f))
static int geti_null_bridge(void) { return GETI(NULL, "count", 0, &g_i64, &g_int); }
static int geti_null_key(void) { return GETI(g_b, NULL, 0, &g_i64, &g_int); }
static int geti_empty_key(void) { return GETI(g_b, "", 0, &g_i64, &g_int); }
static int geti_utf8_key(void) { return GETI(g_b, BAD_UTF8, 0, &g_i64, &g_int); }
static int geti_null_value(void) { return GETI(g_b, "count", 0, NULL, &g_int); }
static int geti_null_found(void) { return GETI(g_b, "count", 0, &g_i64, NULL); }
static int geti_string(void) { return GETI(g_b, "label", 0, &g_i64, &g_int); }
static int geti_fraction(void) { return GETI(g_b, "cooling", 0, &g_i64, &g_int); }
static int geti_good(void)
{
    g_i64 = 0;
    g_int = -1;
    int s = GETI(g_b, "count", 0, &g_i64, &g_int);
    return s == DEISA_OK && (g_i64 != 7 || g_int != 1) ? -1 : s;
}
static int geti_integral_double(void)
{
    g_int = -1;
    int s = GETI(g_b, "cooling", 1, &g_i64, &g_int);
    return s == DEISA_OK && (g_i64 != 3 || g_int != 1) ? -1 : s;
}
static int geti_missing(void)
{
    g_int = -1;
    int s = GETI(g_b, "never-set", 0, &g_i64, &g_int);
    return s == DEISA_OK && g_int != 0 ? -1 : s;
}
static int getd_null_value(void) { return GETD(g_b, "cooling", 0, NULL, &g_int); }
static int getd_null_found(void) { return GETD(g_b, "cooling", 0, &g_f64, NULL); }
static int getd_null_key(void) { return GETD(g_b, NULL, 0, &g_f64, &g_int); }
static int getd_string(void) { return GETD(g_b, "label", 0, &g_f64, &g_int); }
static int getd_bytes(void) { return GETD(g_b, "blob", 0, &g_f64, &g_int); }
static int getd_good(void)
{
    g_f64 = 0;
    g_int = -1;
    int s = GETD(g_b, "cooling", 0, &g_f64, &g_int);
    return s == DEISA_OK && (g_f64 != 0.5 || g_int != 1) ? -1 : s;
}
static int gets_cap_neg(void) { return GETS(g_b, "label", 0, g_text, -1, &g_i64, &g_int); }
static int gets_null_buffer(void) { return GETS(g_b, "label", 0, NULL, 16, &g_i64, &g_int); }
static int gets_null_length(void) { return GETS(g_b, "label", 0, g_text, sizeof g_text, NULL, &g_int); }
static int gets_null_found(void) { return GETS(g_b, "label", 0, g_text, sizeof g_text, &g_i64, NULL); }
static int gets_null_key(void) { return GETS(g_b, NULL, 0, g_text, sizeof g_text, &g_i64, &g_int); }
static int gets_bytes(void) { return GETS(g_b, "blob", 0, g_text, sizeof g_text, &g_i64, &g_int); }
static int gets_size_query(void)
{
    g_i64 = -1;
    g_int = -1;
    int s = GETS(g_b, "label", 0, NULL, 0, &g_i64, &g_int);
    return s == DEISA_OK && (g_i64 != 3 || g_int != 1) ? -1 : s;
}
static int gets_truncated(void)
{
    char buf[2] = {'x', 'x'};
    g_i64 = -1;
    int s = GETS(g_b, "label", 0, buf, 2, &g_i64, &g_int);
    return s == DEISA_OK && (g_i64 != 3 || buf[0] != 'h' || buf[1] != 0) ? -1 : s;
}
static int gets_good(void)
{
    memset(g_text, 'x', sizeof g_text);
    int s = GETS(g_b, "label", 0, g_text, sizeof g_text, &g_i64, &g_int);
    return s == DEISA_OK && (strcmp(g_text, "hot") != 0 || g_i64 != 3 || g_int != 1) ? -1 : s;
}
static int getf_null_bridge(void) { return deisa_bridge_get_feedback(NULL, "cooling", 1, 0, &g_fb, &g_int); }
static int getf_null_key(void) { return deisa_bridge_get_feedback(g_b, NULL, 1, 0, &g_fb, &g_int); }
static int getf_null_out(void) { return deisa_bridge_get_feedback(g_b, "cooling", 1, 0, NULL, &g_int); }
static int getf_null_found(void) { return deisa_bridge_get_feedback(g_b, "cooling", 1, 0, &g_fb, NULL); }
static int getf_missing(void)
{
    g_fb = (deisa_feedback *)(intptr_t)1;
    g_int = -1;
    int s = deisa_bridge_get_feedback(g_b, "never-set", 0, 0, &g_fb, &g_int);
    return s == DEISA_OK && (g_fb != NULL || g_int != 0) ? -1 : s;
}
static int getf_history(void)
{
    g_fb = NULL;
    int s = deisa_bridge_get_feedback(g_b, "cooling", 0, 0, &g_fb, &g_int);
    return s == DEISA_OK && (g_fb == NULL || g_int != 1) ? -1 : s;
}
static int fcount_good(void)
{
    int64_t n = -1;
    int s = deisa_feedback_count(g_fb, &n);
    return s == DEISA_OK && n != 2 ? -1 : s;
}
static int fcount_null(void) { return deisa_feedback_count(NULL, &g_i64); }
static int fcount_null_out(void) { return deisa_feedback_count(g_fb, NULL); }
#define ENTRY(f, i, t, k, d, n) deisa_feedback_entry((f), (i), (t), (k), (d), (n))
static int fentry_neg(void) { return ENTRY(g_fb, -1, &g_i64, &g_kind, &g_cptr, &g_i64); }
static int fentry_past(void) { return ENTRY(g_fb, 2, &g_i64, &g_kind, &g_cptr, &g_i64); }
static int fentry_huge(void) { return ENTRY(g_fb, INT64_C(1) << 40, &g_i64, &g_kind, &g_cptr, &g_i64); }
static int fentry_null(void) { return ENTRY(NULL, 0, &g_i64, &g_kind, &g_cptr, &g_i64); }
static int fentry_null_t(void) { return ENTRY(g_fb, 0, NULL, &g_kind, &g_cptr, &g_i64); }
static int fentry_null_kind(void) { return ENTRY(g_fb, 0, &g_i64, NULL, &g_cptr, &g_i64); }
static int fentry_null_data(void) { return ENTRY(g_fb, 0, &g_i64, &g_kind, NULL, &g_i64); }
static int fentry_null_nbytes(void) { return ENTRY(g_fb, 0, &g_i64, &g_kind, &g_cptr, NULL); }
static int fentry_good(void)
{
    int64_t t = -9, n = -1;
    deisa_feedback_kind kind = DEISA_FEEDBACK_NONE;
    const void *d = NULL;
    int s = ENTRY(g_fb, 1, &t, &kind, &d, &n);
    double v = 0;
    if (s == DEISA_OK && d) memcpy(&v, d, sizeof v);
    return s == DEISA_OK && (t != 1 || kind != DEISA_FEEDBACK_FLOAT64 || n != 8 || v != 3.0) ? -1 : s;
}
static int ffree_good(void) { int s = deisa_feedback_free(g_fb); g_stale_feedback = g_fb; g_fb = NULL; return s; }
static int ffree_twice(void) { return deisa_feedback_free(g_stale_feedback); }
static int fcount_freed(void) { return deisa_feedback_count(g_stale_feedback, &g_i64); }
static int fentry_freed(void) { return ENTRY(g_stale_feedback, 0, &g_i64, &g_kind, &g_cptr, &g_i64); }
static int lost_null(void) { return deisa_bridge_analytics_lost(g_b, NULL); }
static int lost_null_bridge(void) { return deisa_bridge_analytics_lost(NULL, &g_int); }

static const row feedback_rows[] = {
    {"deisa_analytics_set_feedback: NULL analytics", setf_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_set_feedback: NULL key", setf_null_key, DEISA_ERR_HANDLE, "key is NULL"},
    {"deisa_analytics_set_feedback: empty key", setf_empty_key, DEISA_ERR_VALUE, "key|non-empty"},
    {"deisa_analytics_set_feedback: key not UTF-8", setf_utf8_key, DEISA_ERR_VALUE, "key|UTF-8"},
    {"deisa_analytics_set_feedback: kind 99", setf_kind_99, DEISA_ERR_TYPE, "kind|99"},
    {"deisa_analytics_set_feedback: kind -1", setf_kind_neg, DEISA_ERR_TYPE, "kind|-1"},
    {"deisa_analytics_set_feedback: an int64 of 3 bytes", setf_short, DEISA_ERR_VALUE, "Int64|8 bytes|got 3"},
    {"deisa_analytics_set_feedback: nbytes -1", setf_nbytes_neg, DEISA_ERR_VALUE, "nbytes|-1"},
    {"deisa_analytics_set_feedback: nbytes 2 MiB", setf_nbytes_huge, DEISA_ERR_VALUE, "2097152 bytes|limit"},
    {"deisa_analytics_set_feedback: NULL data with nbytes 8", setf_null_data, DEISA_ERR_HANDLE, "data is NULL"},
    {"deisa_analytics_set_feedback: 'cooling' = 0.5 at timestep 0", setf_cooling_0, DEISA_OK, NULL},
    {"deisa_analytics_set_feedback: 'cooling' at timestep 0 again", setf_cooling_0_again, DEISA_ERR_VALUE, "'cooling'|already been set for timestep 0"},
    {"deisa_analytics_set_feedback: 'cooling' = 3.0 at timestep 1", setf_cooling_1, DEISA_OK, NULL},
    {"deisa_analytics_set_feedback: 'cooling' at an older timestep", setf_cooling_older, DEISA_ERR_VALUE, "'cooling'|timestep -5 is older than timestep 1"},
    {"deisa_analytics_set_feedback: 'label' = \"hot\"", setf_label, DEISA_OK, NULL},
    {"deisa_analytics_set_feedback: 'count' = 7", setf_count, DEISA_OK, NULL},
    {"deisa_analytics_set_feedback: 'blob' = 2 bytes", setf_blob, DEISA_OK, NULL},
    {"deisa_analytics_set_feedback: 'nothing' = None (NULL data, 0 bytes)", setf_none, DEISA_OK, NULL},
    {"deisa_bridge_get_int64: NULL bridge", geti_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_bridge_get_int64: NULL key", geti_null_key, DEISA_ERR_HANDLE, "key is NULL"},
    {"deisa_bridge_get_int64: empty key", geti_empty_key, DEISA_ERR_VALUE, "key|non-empty"},
    {"deisa_bridge_get_int64: key not UTF-8", geti_utf8_key, DEISA_ERR_VALUE, "key|UTF-8"},
    {"deisa_bridge_get_int64: NULL value out-parameter", geti_null_value, DEISA_ERR_HANDLE, "value (out) is NULL"},
    {"deisa_bridge_get_int64: NULL found out-parameter", geti_null_found, DEISA_ERR_HANDLE, "found (out) is NULL"},
    {"deisa_bridge_get_int64: a string value", geti_string, DEISA_ERR_TYPE, "'label'|not an integer"},
    {"deisa_bridge_get_int64: 0.5", geti_fraction, DEISA_ERR_TYPE, "'cooling'|not an integer"},
    {"deisa_bridge_get_int64: 'count' is 7", geti_good, DEISA_OK, NULL},
    {"deisa_bridge_get_int64: an integral double converts (3.0)", geti_integral_double, DEISA_OK, NULL},
    {"deisa_bridge_get_int64: a key never set: found 0", geti_missing, DEISA_OK, NULL},
    {"deisa_bridge_get_double: NULL value out-parameter", getd_null_value, DEISA_ERR_HANDLE, "value (out) is NULL"},
    {"deisa_bridge_get_double: NULL found out-parameter", getd_null_found, DEISA_ERR_HANDLE, "found (out) is NULL"},
    {"deisa_bridge_get_double: NULL key", getd_null_key, DEISA_ERR_HANDLE, "key is NULL"},
    {"deisa_bridge_get_double: a string value", getd_string, DEISA_ERR_TYPE, "'label'|not a number"},
    {"deisa_bridge_get_double: a bytes value", getd_bytes, DEISA_ERR_TYPE, "'blob'|not a number"},
    {"deisa_bridge_get_double: 'cooling' is 0.5", getd_good, DEISA_OK, NULL},
    {"deisa_bridge_get_string: capacity -1", gets_cap_neg, DEISA_ERR_VALUE, "capacity|got -1"},
    {"deisa_bridge_get_string: NULL buffer with capacity 16", gets_null_buffer, DEISA_ERR_HANDLE, "buffer is NULL"},
    {"deisa_bridge_get_string: NULL length out-parameter", gets_null_length, DEISA_ERR_HANDLE, "length (out) is NULL"},
    {"deisa_bridge_get_string: NULL found out-parameter", gets_null_found, DEISA_ERR_HANDLE, "found (out) is NULL"},
    {"deisa_bridge_get_string: NULL key", gets_null_key, DEISA_ERR_HANDLE, "key is NULL"},
    {"deisa_bridge_get_string: a bytes value", gets_bytes, DEISA_ERR_TYPE, "'blob'|not text"},
    {"deisa_bridge_get_string: capacity 0 and NULL buffer ask the length", gets_size_query, DEISA_OK, NULL},
    {"deisa_bridge_get_string: capacity 2 truncates to \"h\"", gets_truncated, DEISA_OK, NULL},
    {"deisa_bridge_get_string: 'label' is \"hot\"", gets_good, DEISA_OK, NULL},
    {"deisa_bridge_get_feedback: NULL bridge", getf_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
    {"deisa_bridge_get_feedback: NULL key", getf_null_key, DEISA_ERR_HANDLE, "key is NULL"},
    {"deisa_bridge_get_feedback: NULL feedback out-parameter", getf_null_out, DEISA_ERR_HANDLE, "feedback (out) is NULL"},
    {"deisa_bridge_get_feedback: NULL found out-parameter", getf_null_found, DEISA_ERR_HANDLE, "found (out) is NULL"},
    {"deisa_bridge_get_feedback: a key never set: found 0, feedback NULL", getf_missing, DEISA_OK, NULL},
    {"deisa_bridge_get_feedback: every entry of 'cooling'", getf_history, DEISA_OK, NULL},
    {"deisa_feedback_count: 2 entries", fcount_good, DEISA_OK, NULL},
    {"deisa_feedback_count: NULL feedback", fcount_null, DEISA_ERR_HANDLE, "feedback is NULL"},
    {"deisa_feedback_count: NULL count out-parameter", fcount_null_out, DEISA_ERR_HANDLE, "count (out) is NULL"},
    {"deisa_feedback_entry: index -1", fentry_neg, DEISA_ERR_VALUE, "entry -1|out of range|count 2"},
    {"deisa_feedback_entry: index == count", fentry_past, DEISA_ERR_VALUE, "entry 2|out of range|count 2"},
    {"deisa_feedback_entry: index 2^40", fentry_huge, DEISA_ERR_VALUE, "entry 1099511627776|out of range"},
    {"deisa_feedback_entry: NULL feedback", fentry_null, DEISA_ERR_HANDLE, "feedback is NULL"},
    {"deisa_feedback_entry: NULL timestep out-parameter", fentry_null_t, DEISA_ERR_HANDLE, "timestep (out) is NULL"},
    {"deisa_feedback_entry: NULL kind out-parameter", fentry_null_kind, DEISA_ERR_HANDLE, "kind (out) is NULL"},
    {"deisa_feedback_entry: NULL data out-parameter", fentry_null_data, DEISA_ERR_HANDLE, "data (out) is NULL"},
    {"deisa_feedback_entry: NULL nbytes out-parameter", fentry_null_nbytes, DEISA_ERR_HANDLE, "nbytes (out) is NULL"},
    {"deisa_feedback_entry: entry 1 is (1, float64 3.0)", fentry_good, DEISA_OK, NULL},
    {"deisa_feedback_free: a good free", ffree_good, DEISA_OK, NULL},
    {"deisa_feedback_free: twice", ffree_twice, DEISA_ERR_HANDLE, "feedback is not a valid handle"},
    {"deisa_feedback_count: a freed feedback", fcount_freed, DEISA_ERR_HANDLE, "feedback is not a valid handle"},
    {"deisa_feedback_entry: a freed feedback", fentry_freed, DEISA_ERR_HANDLE, "feedback is not a valid handle"},
    {"deisa_bridge_analytics_lost: NULL lost out-parameter", lost_null, DEISA_ERR_HANDLE, "lost (out) is NULL"},
    {"deisa_bridge_analytics_lost: NULL bridge", lost_null_bridge, DEISA_ERR_HANDLE, "bridge is NULL"},
};

/* ------------------------------------------------------------------ the analytics while data flows */

static int cb_after_data(void) { return deisa_analytics_add_callback(g_a, "late", 1, g_names1, g_w1, 0, &g_int); }
static int64_t g_records[64];
static int reads_null_length(void) { return deisa_analytics_read_events(g_a, 0, g_records, sizeof g_records, NULL); }
static int reads_nan(void) { return deisa_analytics_read_events(g_a, NAN, g_records, sizeof g_records, &g_i64); }
static int reads_null(void) { return deisa_analytics_read_events(NULL, 0, g_records, sizeof g_records, &g_i64); }
static int reads_bridge(void) { return deisa_analytics_read_events((deisa_analytics *)g_b, 0, g_records, sizeof g_records, &g_i64); }
static int reads_negative(void) { return deisa_analytics_read_events(g_a, 0, g_records, -8, &g_i64); }
static int reads_null_buffer(void) { return deisa_analytics_read_events(g_a, 0, NULL, 64, &g_i64); }
static int finish_null(void) { return deisa_analytics_finish_timestep(NULL, 0); }
static int finish_bogus(void) { return deisa_analytics_finish_timestep((deisa_analytics *)(intptr_t)0x4242, 0); }
static int release_null(void) { return deisa_analytics_release_block(NULL, 1); }
static int release_bridge(void) { return deisa_analytics_release_block((deisa_analytics *)g_b, 1); }

static const row live_analytics_rows[] = {
    {"deisa_analytics_add_callback: after data started to arrive", cb_after_data, DEISA_ERR_STATE, "'late'|after data started"},
    {"deisa_analytics_read_events: NULL length out-parameter", reads_null_length, DEISA_ERR_HANDLE, "length (out) is NULL"},
    {"deisa_analytics_read_events: NaN wait", reads_nan, DEISA_ERR_VALUE, "wait"},
    {"deisa_analytics_read_events: NULL analytics", reads_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_read_events: a bridge handle", reads_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
    {"deisa_analytics_read_events: negative capacity", reads_negative, DEISA_ERR_VALUE, "capacity|-8"},
    {"deisa_analytics_read_events: NULL buffer of 64 bytes", reads_null_buffer, DEISA_ERR_HANDLE, "buffer is NULL"},
    {"deisa_analytics_finish_timestep: NULL analytics", finish_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_finish_timestep: a pointer that is no handle", finish_bogus, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_release_block: NULL analytics", release_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_release_block: a bridge handle", release_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
};

/* ------------------------------------------------------------------ the dashboard of the live run */

static deisa_dashboard *g_dash, *g_stale_dash;
static const double picture[4] = {1, 2, 3, 4};
static int dash_null(void) { return deisa_analytics_serve_dashboard(NULL, NULL, &g_dash); }
static int dash_null_out(void) { return deisa_analytics_serve_dashboard(g_a, NULL, NULL); }
static int dash_unix(void) { return deisa_analytics_serve_dashboard(g_a, "unix:/tmp/dashboard.sock", &g_dash); }
static int dash_nonsense(void) { return deisa_analytics_serve_dashboard(g_a, "nonsense", &g_dash); }
static int dash_utf8(void) { return deisa_analytics_serve_dashboard(g_a, BAD_UTF8, &g_dash); }
static int dash_bridge(void) { return deisa_analytics_serve_dashboard((deisa_analytics *)g_b, NULL, &g_dash); }
static int dash_good(void) { return deisa_analytics_serve_dashboard(g_a, NULL, &g_dash); }
static int url_null(void) { char *u; return deisa_dashboard_url(NULL, &u); }
static int url_null_out(void) { return deisa_dashboard_url(g_dash, NULL); }
static int url_analytics(void) { char *u; return deisa_dashboard_url((deisa_dashboard *)g_a, &u); }
static int url_good(void)
{
    char *u = NULL;
    int s = deisa_dashboard_url(g_dash, &u);
    int ok = u && strncmp(u, "http://127.0.0.1:", 17) == 0 && strstr(u, "/?token=") != NULL;
    deisa_string_free(u);
    return s == DEISA_OK && !ok ? -1 : s;
}
static int rcb_null(void) { return deisa_analytics_report_callback(NULL, "cb", 0, 0.1, NULL); }
static int rcb_null_name(void) { return deisa_analytics_report_callback(g_a, NULL, 0, 0.1, NULL); }
static int rcb_negative(void) { return deisa_analytics_report_callback(g_a, "cb", 0, -1.0, NULL); }
static int rcb_nan(void) { return deisa_analytics_report_callback(g_a, "cb", 0, NAN, NULL); }
static int rcb_utf8_error(void) { return deisa_analytics_report_callback(g_a, "cb", 0, 0.1, BAD_UTF8); }
static int rcb_good(void) { return deisa_analytics_report_callback(g_a, "cb", 0, 0.1, NULL); }
static int rcb_failed(void) { return deisa_analytics_report_callback(g_a, "cb", 1, 0.1, "ValueError: boom"); }
static int pic_null(void) { return deisa_analytics_report_picture(NULL, "field", 0, 2, 2, picture, NULL); }
static int pic_null_name(void) { return deisa_analytics_report_picture(g_a, NULL, 0, 2, 2, picture, NULL); }
static int pic_no_rows(void) { return deisa_analytics_report_picture(g_a, "field", 0, 0, 4, picture, NULL); }
static int pic_huge(void) { return deisa_analytics_report_picture(g_a, "field", 0, INT64_C(1) << 40, INT64_C(1) << 40, picture, NULL); }
static int pic_null_values(void) { return deisa_analytics_report_picture(g_a, "field", 0, 2, 2, NULL, NULL); }
static int pic_good(void) { return deisa_analytics_report_picture(g_a, "field", 0, 2, 2, picture, "[:, :]"); }
static int red_null(void) { return deisa_analytics_report_reduction(NULL, "field", 0, 1, 0, 2); }
static int red_null_name(void) { return deisa_analytics_report_reduction(g_a, NULL, 0, 1, 0, 2); }
static int red_good(void) { return deisa_analytics_report_reduction(g_a, "field", 0, 1, 0, 2); }
static int dfree_analytics(void) { return deisa_dashboard_free((deisa_dashboard *)g_a); }
static int dfree_good(void) { int s = deisa_dashboard_free(g_dash); g_stale_dash = g_dash; g_dash = NULL; return s; }
static int dfree_twice(void) { return deisa_dashboard_free(g_stale_dash); }
static int durl_freed(void) { char *u; return deisa_dashboard_url(g_stale_dash, &u); }
static int dfree_null(void) { return deisa_dashboard_free(NULL); }
static deisa_dashboard *g_other_dash;
static int dopen_null_out(void) { return deisa_dashboard_open(g_run, NULL, NULL); }
static int dopen_nowhere(void) { return deisa_dashboard_open(g_nowhere, NULL, &g_other_dash); }
static int dopen_bad_address(void) { return deisa_dashboard_open(g_run, "127.0.0.1:http", &g_other_dash); }
static int dopen_good(void)
{
    int s = deisa_dashboard_open(g_run, "127.0.0.1:0", &g_other_dash);
    char *u = NULL;
    int ok = s == DEISA_OK && deisa_dashboard_url(g_other_dash, &u) == DEISA_OK && u && strstr(u, "?token=");
    deisa_string_free(u);
    return s == DEISA_OK && !ok ? -1 : s;
}
static int dopen_free(void) { int s = deisa_dashboard_free(g_other_dash); g_other_dash = NULL; return s; }

/* ------------------------------------------------------------------ Arrow Flight of the live run */

static deisa_flight *g_flight, *g_stale_flight;
static int fl_null(void) { return deisa_analytics_serve_flight(NULL, NULL, &g_flight); }
static int fl_null_out(void) { return deisa_analytics_serve_flight(g_a, NULL, NULL); }
static int fl_unix(void) { return deisa_analytics_serve_flight(g_a, "unix:/tmp/flight.sock", &g_flight); }
static int fl_port(void) { return deisa_analytics_serve_flight(g_a, "127.0.0.1:99999", &g_flight); }
static int fl_utf8(void) { return deisa_analytics_serve_flight(g_a, BAD_UTF8, &g_flight); }
static int fl_bridge(void) { return deisa_analytics_serve_flight((deisa_analytics *)g_b, NULL, &g_flight); }
static int fl_good(void) { return deisa_analytics_serve_flight(g_a, NULL, &g_flight); }
static int floc_null(void) { char *u; return deisa_flight_location(NULL, &u); }
static int floc_null_out(void) { return deisa_flight_location(g_flight, NULL); }
static int floc_dashboard(void) { char *u; return deisa_flight_location((deisa_flight *)g_a, &u); }
static int floc_good(void)
{
    char *u = NULL;
    int s = deisa_flight_location(g_flight, &u);
    int ok = u && strncmp(u, "grpc+tcp://127.0.0.1:", 21) == 0 && atoi(u + 21) > 0;
    deisa_string_free(u);
    return s == DEISA_OK && !ok ? -1 : s;
}
static int flfree_analytics(void) { return deisa_flight_free((deisa_flight *)g_a); }
static int flfree_good(void) { int s = deisa_flight_free(g_flight); g_stale_flight = g_flight; g_flight = NULL; return s; }
static int flfree_twice(void) { return deisa_flight_free(g_stale_flight); }
static int floc_freed(void) { char *u; return deisa_flight_location(g_stale_flight, &u); }
static int flfree_null(void) { return deisa_flight_free(NULL); }

static const row flight_rows[] = {
    {"deisa_analytics_serve_flight: NULL analytics", fl_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_serve_flight: NULL out-parameter", fl_null_out, DEISA_ERR_HANDLE, "flight (out) is NULL"},
    {"deisa_analytics_serve_flight: a Unix socket address", fl_unix, DEISA_ERR_VALUE, "'unix:/tmp/flight.sock'|host:port"},
    {"deisa_analytics_serve_flight: a port out of range", fl_port, DEISA_ERR_VALUE, "99999"},
    {"deisa_analytics_serve_flight: address not UTF-8", fl_utf8, DEISA_ERR_VALUE, "address|UTF-8"},
    {"deisa_analytics_serve_flight: a bridge handle", fl_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
    {"deisa_analytics_serve_flight: on a free loopback port", fl_good, DEISA_OK, NULL},
    {"deisa_flight_location: NULL flight", floc_null, DEISA_ERR_HANDLE, "flight is NULL"},
    {"deisa_flight_location: NULL out-parameter", floc_null_out, DEISA_ERR_HANDLE, "location (out) is NULL"},
    {"deisa_flight_location: an analytics handle", floc_dashboard, DEISA_ERR_HANDLE, "flight|deisa_analytics"},
    {"deisa_flight_location: grpc+tcp://127.0.0.1:PORT", floc_good, DEISA_OK, NULL},
    {"deisa_flight_free: an analytics handle (the analytics survives)", flfree_analytics, DEISA_ERR_HANDLE, "flight|deisa_analytics"},
    {"deisa_flight_free: the endpoint", flfree_good, DEISA_OK, NULL},
    {"deisa_flight_free: again", flfree_twice, DEISA_ERR_HANDLE, "flight is not a valid handle"},
    {"deisa_flight_location: a freed endpoint", floc_freed, DEISA_ERR_HANDLE, "flight is not a valid handle"},
    {"deisa_flight_free: NULL", flfree_null, DEISA_OK, NULL},
};

static const row dashboard_rows[] = {
    {"deisa_analytics_serve_dashboard: NULL analytics", dash_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_serve_dashboard: NULL out-parameter", dash_null_out, DEISA_ERR_HANDLE, "dashboard (out) is NULL"},
    {"deisa_analytics_serve_dashboard: a Unix socket address", dash_unix, DEISA_ERR_VALUE, "'unix:/tmp/dashboard.sock' must be 'host:port'"},
    {"deisa_analytics_serve_dashboard: an address without a port", dash_nonsense, DEISA_ERR_VALUE, "'nonsense'|tcp://host:port"},
    {"deisa_analytics_serve_dashboard: address not UTF-8", dash_utf8, DEISA_ERR_VALUE, "address|UTF-8"},
    {"deisa_analytics_serve_dashboard: a bridge handle", dash_bridge, DEISA_ERR_HANDLE, "analytics|bridge"},
    {"deisa_analytics_serve_dashboard: on a free loopback port", dash_good, DEISA_OK, NULL},
    {"deisa_dashboard_url: NULL dashboard", url_null, DEISA_ERR_HANDLE, "dashboard is NULL"},
    {"deisa_dashboard_url: NULL out-parameter", url_null_out, DEISA_ERR_HANDLE, "url (out) is NULL"},
    {"deisa_dashboard_url: an analytics handle", url_analytics, DEISA_ERR_HANDLE, "dashboard|deisa_analytics"},
    {"deisa_dashboard_url: http://127.0.0.1:PORT/?token=...", url_good, DEISA_OK, NULL},
    {"deisa_analytics_report_callback: NULL analytics", rcb_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_report_callback: NULL callback", rcb_null_name, DEISA_ERR_HANDLE, "callback is NULL"},
    {"deisa_analytics_report_callback: -1 seconds", rcb_negative, DEISA_ERR_VALUE, "seconds|-1"},
    {"deisa_analytics_report_callback: NaN seconds", rcb_nan, DEISA_ERR_VALUE, "seconds|NaN"},
    {"deisa_analytics_report_callback: error not UTF-8", rcb_utf8_error, DEISA_ERR_VALUE, "error|UTF-8"},
    {"deisa_analytics_report_callback: a run that succeeded", rcb_good, DEISA_OK, NULL},
    {"deisa_analytics_report_callback: a run that failed", rcb_failed, DEISA_OK, NULL},
    {"deisa_analytics_report_picture: NULL analytics", pic_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_report_picture: NULL array", pic_null_name, DEISA_ERR_HANDLE, "array is NULL"},
    {"deisa_analytics_report_picture: 0 rows", pic_no_rows, DEISA_ERR_VALUE, "rows × columns|0 × 4"},
    {"deisa_analytics_report_picture: 2^40 x 2^40 values", pic_huge, DEISA_ERR_VALUE, "1099511627776 × 1099511627776"},
    {"deisa_analytics_report_picture: NULL values", pic_null_values, DEISA_ERR_HANDLE, "values is NULL"},
    {"deisa_analytics_report_picture: 2 x 2", pic_good, DEISA_OK, NULL},
    {"deisa_analytics_report_reduction: NULL analytics", red_null, DEISA_ERR_HANDLE, "analytics is NULL"},
    {"deisa_analytics_report_reduction: NULL array", red_null_name, DEISA_ERR_HANDLE, "array is NULL"},
    {"deisa_analytics_report_reduction: a point", red_good, DEISA_OK, NULL},
    {"deisa_dashboard_free: an analytics handle (the analytics survives)", dfree_analytics, DEISA_ERR_HANDLE, "dashboard|deisa_analytics"},
    {"deisa_dashboard_free: the dashboard", dfree_good, DEISA_OK, NULL},
    {"deisa_dashboard_free: again", dfree_twice, DEISA_ERR_HANDLE, "dashboard is not a valid handle"},
    {"deisa_dashboard_url: a freed dashboard", durl_freed, DEISA_ERR_HANDLE, "dashboard is not a valid handle"},
    {"deisa_dashboard_free: NULL", dfree_null, DEISA_OK, NULL},
    {"deisa_dashboard_open: NULL out-parameter", dopen_null_out, DEISA_ERR_HANDLE, "dashboard (out) is NULL"},
    {"deisa_dashboard_open: a directory without a live analytics", dopen_nowhere, DEISA_ERR_STATE, "no live analytics"},
    {"deisa_dashboard_open: a port that is no number", dopen_bad_address, DEISA_ERR_VALUE, "'127.0.0.1:http'"},
    {"deisa_dashboard_open: the live run's, on a free loopback port", dopen_good, DEISA_OK, NULL},
    {"deisa_dashboard_free: the other process's kind of dashboard", dopen_free, DEISA_OK, NULL},
};

/* ------------------------------------------------------------------ close, then everything after it */

static int acq_t9(void) { return acq_good(9); }
static int close_b(void) { return deisa_bridge_close(g_b, 1, 10); }
static int commit_after_close(void) { int s = deisa_block_commit(g_block); g_stale_block = g_block; g_block = NULL; return s; }
static int close_b_again(void) { return deisa_bridge_close(g_b, 0, 0); }
static int send_after_close(void) { return send_field(g_b, 11); }
static int acq_after_close(void) { return deisa_bridge_acquire(g_b, "field", 11, 0, &g_ptr, &g_i64, &g_block); }
static int get_after_close(void) { return GETI(g_b, "count", 0, &g_i64, &g_int); }
static int getf_after_close(void) { return deisa_bridge_get_feedback(g_b, "count", 0, 0, &g_fb, &g_int); }
static int decl_after_close_b(void) { return DECL(g_b, "late", 1, one, one, (int64_t[1]){0}, DEISA_INT32, 0); }

static const row close_rows[] = {
    {"deisa_bridge_acquire: a buffer at timestep 9, left open", acq_t9, DEISA_OK, NULL},
    {"deisa_bridge_close: ends the simulation at timestep 10 (the open buffer is given back)", close_b, DEISA_OK, NULL},
    {"deisa_block_commit: the buffer left open at close", commit_after_close, DEISA_ERR_STATE, "'field'|timestep 9|given back unsent|closed"},
    {"deisa_bridge_close: twice (idempotent)", close_b_again, DEISA_OK, NULL},
    {"deisa_bridge_send: after close", send_after_close, DEISA_ERR_STATE, "after the bridge was closed"},
    {"deisa_bridge_acquire: after close", acq_after_close, DEISA_ERR_STATE, "after the bridge was closed"},
    {"deisa_bridge_get_int64: after close", get_after_close, DEISA_ERR_STATE, "after the bridge was closed"},
    {"deisa_bridge_get_feedback: after close", getf_after_close, DEISA_ERR_STATE, "after the bridge was closed"},
    {"deisa_bridge_declare_array: after close (a bridge that had connected)", decl_after_close_b, DEISA_ERR_STATE, "'late'|after the bridge"},
};

static int afree_good(void) { int s = deisa_analytics_free(g_a); g_stale_analytics = g_a; g_a = NULL; return s; }
static int afree_twice(void) { return deisa_analytics_free(g_stale_analytics); }
static int ainfo_freed(void) { return deisa_analytics_info(g_stale_analytics, &g_json); }
static int acb_freed(void) { return deisa_analytics_add_callback(g_stale_analytics, "cb", 1, g_names1, g_w1, 0, &g_int); }
static int await_freed(void) { return deisa_analytics_wait_for_simulation(g_stale_analytics, &g_json); }
static int areads_freed(void) { return deisa_analytics_read_events(g_stale_analytics, 0, g_records, sizeof g_records, &g_i64); }
static int afinish_freed(void) { return deisa_analytics_finish_timestep(g_stale_analytics, 0); }
static int arelease_freed(void) { return deisa_analytics_release_block(g_stale_analytics, 1); }
static int aset_freed(void) { return SETF(g_stale_analytics, "k", 99, DEISA_FEEDBACK_INT64, &i_seven, 8); }
static int bfree_good(void) { int s = deisa_bridge_free(g_b); g_stale_bridge = g_b; g_b = NULL; return s; }
static int block_uaf_commit(void) { return deisa_block_commit(g_stale_block); }

static const row free_rows[] = {
    {"deisa_analytics_free: a good free", afree_good, DEISA_OK, NULL},
    {"deisa_analytics_free: twice", afree_twice, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_info: a freed analytics", ainfo_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_add_callback: a freed analytics", acb_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_wait_for_simulation: a freed analytics", await_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_read_events: a freed analytics", areads_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_finish_timestep: a freed analytics", afinish_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_release_block: a freed analytics", arelease_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_analytics_set_feedback: a freed analytics", aset_freed, DEISA_ERR_HANDLE, "analytics is not a valid handle"},
    {"deisa_bridge_free: a closed bridge of a finished run", bfree_good, DEISA_OK, NULL},
    {"deisa_block_commit: a block of a freed bridge, already committed", block_uaf_commit, DEISA_ERR_HANDLE, "block is not a valid handle"},
};

/* ------------------------------------------------------------------ side runs: errors only a run can give */

typedef struct {
    deisa_bridge *b;
    int status;
    char msg[1024];
} connector_t;

static void *connect_main(void *arg)
{
    connector_t *c = arg;
    c->status = deisa_bridge_connect(c->b);
    snprintf(c->msg, sizeof c->msg, "%s", deisa_last_error() ? deisa_last_error() : "(NULL)");
    return NULL;
}

/* A callback asks for an array no rank declared: wait_for_simulation says which. */
static int side_contract(void)
{
    deisa_analytics *a = NULL;
    deisa_bridge *b = NULL;
    static const char *const nope[1] = {"nope"};
    int s = deisa_analytics_start(NULL, g_other, 1, 16, POOL, 20, &a);
    if (s != DEISA_OK) return 100 + s;
    note_session(a);
    if ((s = deisa_analytics_add_callback(a, "wants_nope", 1, nope, g_w1, 0, &g_int)) != DEISA_OK) return 200 + s;
    if ((s = deisa_bridge_open(0, 1, NULL, g_other, 20, DEISA_ON_FAILURE_WARN, &b)) != DEISA_OK) return 300 + s;
    if ((s = DECL(b, "field", 2, g2, c2, p2, DEISA_FLOAT64, 0)) != DEISA_OK) return 400 + s;
    connector_t c = {b, -1, ""};
    pthread_t th;
    pthread_create(&th, NULL, connect_main, &c);
    char *json = NULL;
    int status = deisa_analytics_wait_for_simulation(a, &json); /* the row's call */
    char message[1024];
    snprintf(message, sizeof message, "%s", deisa_last_error() ? deisa_last_error() : "");
    if (!join_within(th, 30)) return 500;
    deisa_bridge_free(b);
    deisa_analytics_free(a);
    deisa_set_last_error(status, message); /* the row checks the call's message */
    return status;
}

/* One timestep of the node's blocks cannot fit the pool: every side is told at connect. */
static int side_pool(void)
{
    deisa_analytics *a = NULL;
    deisa_bridge *b = NULL;
    int s = deisa_analytics_start(NULL, g_other, 1, 16, POOL, 20, &a);
    if (s != DEISA_OK) return 100 + s;
    note_session(a);
    if ((s = deisa_bridge_open(0, 1, NULL, g_other, 20, DEISA_ON_FAILURE_WARN, &b)) != DEISA_OK) return 300 + s;
    /* two arrays of 2^62 bytes each: their sum overflows int64 */
    int64_t g[1] = {INT64_C(1) << 58};
    if ((s = DECL(b, "big1", 1, g, g, (int64_t[1]){0}, DEISA_COMPLEX128, 0)) != DEISA_OK) return 400 + s;
    if ((s = DECL(b, "big2", 1, g, g, (int64_t[1]){0}, DEISA_COMPLEX128, 0)) != DEISA_OK) return 400 + s;
    pthread_t th;
    pump_t p = {0};
    p.a = a;
    pthread_create(&th, NULL, pump_main, &p);
    int status = deisa_bridge_connect(b); /* the row's call */
    char message[1024];
    snprintf(message, sizeof message, "%s", deisa_last_error() ? deisa_last_error() : "");
    p.stop = 1;
    if (!join_within(th, 30)) return 500;
    deisa_bridge_free(b);
    deisa_analytics_free(a);
    if (p.wait_status != status) {
        snprintf(message + strlen(message), sizeof message - strlen(message), " [the analytics got %d: %.400s]", p.wait_status, p.wait_msg);
        status = 600;
    }
    deisa_set_last_error(status, message);
    return status;
}

static void *wait_only(void *arg)
{
    pump_t *p = arg;
    char *json = NULL;
    p->wait_status = deisa_analytics_wait_for_simulation(p->a, &json);
    deisa_string_free(json);
    return NULL;
}

/* The analytics never finishes timestep 0: the send of timestep 1 waits, then times out. */
static int side_backpressure(void)
{
    deisa_analytics *a = NULL;
    deisa_bridge *b = NULL;
    int s = deisa_analytics_start(NULL, g_other, 1, 16, POOL, 20, &a);
    if (s != DEISA_OK) return 100 + s;
    note_session(a);
    if ((s = deisa_analytics_add_callback(a, "never_done", 1, g_names1, g_w1, 0, &g_int)) != DEISA_OK) return 200 + s;
    if ((s = deisa_bridge_open(0, 1, NULL, g_other, 1.0, DEISA_ON_FAILURE_RAISE, &b)) != DEISA_OK) return 300 + s;
    if ((s = DECL(b, "field", 2, g2, c2, p2, DEISA_FLOAT64, 0)) != DEISA_OK) return 400 + s;
    pump_t p = {0};
    p.a = a;
    pthread_t th;
    pthread_create(&th, NULL, wait_only, &p);
    s = deisa_bridge_connect(b);
    if (!join_within(th, 30)) return 500;
    if (s != DEISA_OK) return 600 + s;
    if ((s = send_field(b, 0)) != DEISA_OK) return 700 + s;
    int status = send_field(b, 1); /* the row's call */
    char message[1024];
    snprintf(message, sizeof message, "%s", deisa_last_error() ? deisa_last_error() : "");
    deisa_bridge_free(b);
    deisa_analytics_free(a);
    deisa_set_last_error(status, message);
    return status;
}

/* The analytics goes away after timestep 0: the next send reports it (policy `raise`) or is a
 * no-op (policy `warn`, deisa_bridge_analytics_lost then says 1). */
static int side_lost(int policy)
{
    deisa_analytics *a = NULL;
    deisa_bridge *b = NULL;
    int s = deisa_analytics_start(NULL, g_other, 1, 16, POOL, 20, &a);
    if (s != DEISA_OK) return 100 + s;
    note_session(a);
    if ((s = deisa_bridge_open(0, 1, NULL, g_other, 10, policy, &b)) != DEISA_OK) return 300 + s;
    if ((s = DECL(b, "field", 2, g2, c2, p2, DEISA_FLOAT64, 0)) != DEISA_OK) return 400 + s;
    pump_t p = {0};
    p.a = a;
    pthread_t th;
    pthread_create(&th, NULL, pump_main, &p);
    s = deisa_bridge_connect(b);
    if (s != DEISA_OK) return 600 + s;
    if ((s = send_field(b, 0)) != DEISA_OK) return 700 + s;
    p.stop = 1;
    if (!join_within(th, 30)) return 500;
    if ((s = deisa_analytics_free(a)) != DEISA_OK) return 800 + s;
    int status = send_field(b, 1); /* the row's call */
    char message[1024];
    snprintf(message, sizeof message, "%s", deisa_last_error() ? deisa_last_error() : "");
    int lost = -1;
    if (deisa_bridge_analytics_lost(b, &lost) != DEISA_OK || lost != 1) {
        snprintf(message, sizeof message, "deisa_bridge_analytics_lost says %d after the send", lost);
        status = 900;
    }
    if (deisa_bridge_free(b) != DEISA_OK && status == DEISA_OK) status = 1000;
    deisa_set_last_error(status, status == DEISA_OK ? NULL : message);
    return status;
}
static int side_lost_raise(void) { return side_lost(DEISA_ON_FAILURE_RAISE); }
static int side_lost_warn(void) { return side_lost(DEISA_ON_FAILURE_WARN); }

static const row side_rows[] = {
    {"deisa_bridge_send: back-pressure longer than the bridge's timeout (1 s)", side_backpressure, DEISA_ERR_TIMEOUT, "timestep 1"},
    {"deisa_bridge_send: the analytics went away (on_analytics_failure raise)", side_lost_raise, DEISA_ERR_ANALYTICS_LOST, "rank 0"},
    {"deisa_bridge_send: the analytics went away (on_analytics_failure warn: a no-op, lost = 1)", side_lost_warn, DEISA_OK, NULL},
    {"deisa_analytics_wait_for_simulation: a callback on an array no rank declared", side_contract, DEISA_ERR_CONTRACT, "'wants_nope'|'nope'|never declared|'field'"},
    {"deisa_bridge_connect: blocks of 2^63 bytes in all, more than the pool", side_pool, DEISA_ERR_VALUE, "pool|smaller than one timestep"},
};

/* ------------------------------------------------------------------ thread-local messages */

typedef struct {
    int fresh_null;       /* a new thread starts with no message */
    int own_message;      /* its bad call gives its own message */
    int cleared;          /* its good call clears it */
    int index, mismatches;
} tl_t;

static void *tl_main(void *arg)
{
    tl_t *t = arg;
    t->fresh_null = deisa_last_error() == NULL;
    int s = deisa_feedback_count((deisa_feedback *)(intptr_t)0x9990, &g_i64);
    t->own_message = s == DEISA_ERR_HANDLE && deisa_last_error() && strstr(deisa_last_error(), "feedback") != NULL;
    t->cleared = deisa_string_free(NULL) == DEISA_OK && deisa_last_error() == NULL;
    return NULL;
}

static void *tl_stress(void *arg)
{
    tl_t *t = arg;
    deisa_bridge *b = NULL;
    if (deisa_bridge_open(0, 1, NULL, g_nowhere, 1, 0, &b) != DEISA_OK) { t->mismatches = -1; return NULL; }
    for (int i = 0; i < 300; i++) {
        char name[64];
        snprintf(name, sizeof name, "thread%d_iteration%d", t->index, i);
        int64_t g[1] = {-1};
        int s = DECL(b, name, 1, g, g, (int64_t[1]){0}, DEISA_INT32, 0);
        const char *m = deisa_last_error();
        if (s != DEISA_ERR_VALUE || m == NULL || strstr(m, name) == NULL) t->mismatches++;
        if (deisa_bridge_analytics_lost(b, &g_int) != DEISA_OK || deisa_last_error() != NULL) t->mismatches++;
    }
    deisa_bridge_free(b);
    return NULL;
}

static void thread_checks(void)
{
    printf("# deisa_last_error is thread-local; a successful call clears it\n");
    int s = DECL(NULL, "x", 1, one, one, (int64_t[1]){0}, DEISA_INT32, 0);
    const char *mine = deisa_last_error();
    char copy[512];
    snprintf(copy, sizeof copy, "%s", mine ? mine : "");
    tl_t t = {0};
    pthread_t th;
    pthread_create(&th, NULL, tl_main, &t);
    pthread_join(th, NULL);
    check(t.fresh_null, "a new thread sees no message although this thread has one", "deisa_last_error() was not NULL on a new thread");
    check(t.own_message, "a bad call on another thread gets its own message", "wrong status or message on the other thread");
    check(t.cleared, "a good call on another thread clears that thread's message", "the message was not cleared");
    const char *after = deisa_last_error();
    check(s == DEISA_ERR_HANDLE && after == mine && after && strcmp(after, copy) == 0 && strstr(after, "bridge is NULL"),
          "this thread's message is unchanged by the other thread's calls", "status %d, message before \"%s\", after \"%s\"", s, copy,
          after ? after : "(NULL)");
    check(deisa_last_error() == after, "deisa_last_error() itself leaves the message as it is", "the pointer changed");
    (void)deisa_version();
    check(deisa_last_error() == after, "deisa_version() leaves the message as it is", "the pointer changed");
    check(deisa_bridge_free(NULL) == DEISA_OK && deisa_last_error() == NULL, "a successful call clears the message (NULL)",
          "deisa_last_error() is \"%s\" after a successful call", deisa_last_error() ? deisa_last_error() : "");

    enum { N = 4 };
    tl_t ts[N] = {{0}};
    pthread_t ths[N];
    for (int i = 0; i < N; i++) {
        ts[i].index = i;
        pthread_create(&ths[i], NULL, tl_stress, &ts[i]);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(ths[i], NULL);
        bad += ts[i].mismatches;
    }
    check(bad == 0, "4 threads x 300 bad calls at once: each thread always reads its own message", "%d mismatches", bad);
}

/* ------------------------------------------------------------------ the good run at the end */

static pump_t g_pump2;
static int final_start(void)
{
    int s = deisa_analytics_start(NULL, g_run, 1, 16, POOL, 30, &g_a);
    note_session(g_a);
    return s;
}
static int final_callback(void) { return deisa_analytics_add_callback(g_a, "watch", 1, g_names1, g_w1, 1, &g_cb_id); }
static int final_open(void) { return deisa_bridge_open(0, 1, NULL, g_run, 30, DEISA_ON_FAILURE_RAISE, &g_b); }
static int final_declare(void) { return DECL(g_b, "field", 2, g2, c2, p2, DEISA_FLOAT64, DEISA_ORDER_C); }
static int final_connect(void)
{
    g_pump2.a = g_a;
    pthread_create(&g_pump_thread, NULL, pump_main, &g_pump2);
    return deisa_bridge_connect(g_b);
}
static int final_send(void) { return send_field(g_b, 7); }
static int final_send2(void) { return send_field(g_b, 8); }
static int final_feedback(void)
{
    int s = SETF(g_a, "done", 8, DEISA_FEEDBACK_INT64, &i_seven, 8);
    if (s != DEISA_OK) return s;
    g_int = -1;
    s = GETI(g_b, "done", 8, &g_i64, &g_int);
    return s == DEISA_OK && (g_i64 != 7 || g_int != 1) ? -1 : s;
}
static int final_close(void) { return deisa_bridge_close(g_b, 0, 0); }
static int final_end(void)
{
    if (!join_within(g_pump_thread, 30)) { g_pump2.stop = 1; return -2; }
    return g_pump2.ended && !g_pump2.failed && !g_pump2.errors && g_pump2.field_seen[7] == 1 && g_pump2.field_seen[8] == 1 ? DEISA_OK : -1;
}
static int final_free_bridge(void) { int s = deisa_bridge_free(g_b); g_b = NULL; return s; }
static int final_free_analytics(void) { int s = deisa_analytics_free(g_a); g_a = NULL; return s; }

static const row final_rows[] = {
    {"a new analytics on the same rendezvous directory", final_start, DEISA_OK, NULL},
    {"its callback (OR, window 1 on 'field')", final_callback, DEISA_OK, NULL},
    {"a new bridge", final_open, DEISA_OK, NULL},
    {"declares 'field'", final_declare, DEISA_OK, NULL},
    {"connects", final_connect, DEISA_OK, NULL},
    {"sends timestep 7", final_send, DEISA_OK, NULL},
    {"sends timestep 8", final_send2, DEISA_OK, NULL},
    {"feedback set by the analytics reaches the bridge", final_feedback, DEISA_OK, NULL},
    {"closes", final_close, DEISA_OK, NULL},
    {"the analytics saw both blocks with their values, then the end of the run", final_end, DEISA_OK, NULL},
    {"frees the bridge", final_free_bridge, DEISA_OK, NULL},
    {"frees the analytics", final_free_analytics, DEISA_OK, NULL},
};

/* ------------------------------------------------------------------ task graph partitioning */

/* A reduction of 4 block reads on 2 nodes: 0 and 1 on node 0 (100 bytes each), 2 and 3 on
 * node 1 (10 bytes each); task 4 combines 0 and 2, task 5 combines 1 and 3, task 6 combines
 * 4 and 5. Listed with the combines first, so that the library has to order the graph. */
static const int gp_start[8] = {0, 2, 4, 6, 6, 6, 6, 6};
static const int gp_deps[6] = {1, 2, 3, 5, 4, 6}; /* combine 0 <- 1, 2; 1 <- 3, 5; 2 <- 4, 6 */
static const int gp_pinned[7] = {-1, -1, -1, 0, 0, 1, 1};
static const int64_t gp_bytes[7] = {0, 0, 0, 100, 100, 10, 10};
static const int gp_cycle_deps[6] = {1, 2, 3, 5, 4, 0}; /* task 2 depends on task 0, which depends on 2 */
static const int gp_bad_dep[6] = {1, 2, 3, 5, 4, 9};
static const int gp_bad_pin[7] = {-1, -1, -1, 0, 0, 1, 2};
static const int64_t gp_negative[7] = {0, 0, 0, 100, -1, 10, 10};
static int gp_node[7];
static double gp_ms;

static int gp_call(const int *start, const int *deps, const int *pinned, const int64_t *bytes, int nodes, int mode)
{
    for (int i = 0; i < 7; i++) gp_node[i] = 77;
    int s = deisa_graph_partition(7, start, deps, pinned, bytes, nodes, (deisa_partitioning)mode, 5, gp_node, &gp_ms);
    /* a failed call writes nothing */
    if (s != DEISA_OK)
        for (int i = 0; i < 7; i++)
            if (gp_node[i] != 77) return -1;
    return s;
}
static int gp_greedy(void)
{
    gp_ms = -1;
    int s = gp_call(gp_start, gp_deps, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY);
    /* pinned reads on their nodes; each combine where most of its input bytes are */
    static const int expect[7] = {0, 0, 0, 0, 0, 1, 1};
    if (s == DEISA_OK && (memcmp(gp_node, expect, sizeof expect) != 0 || gp_ms < 0)) return -1;
    return s;
}
static int gp_random(void)
{
    int s = gp_call(gp_start, gp_deps, gp_pinned, gp_bytes, 3, DEISA_PARTITION_RANDOM);
    if (s != DEISA_OK) return s;
    for (int i = 0; i < 7; i++)
        if (gp_node[i] < 0 || gp_node[i] > 2 || (gp_pinned[i] >= 0 && gp_node[i] != gp_pinned[i])) return -1;
    return s;
}
static int gp_empty(void) { return deisa_graph_partition(0, gp_start, NULL, NULL, NULL, 1, DEISA_PARTITION_GREEDY, 0, NULL, NULL); }
static int gp_negative_count(void) { return deisa_graph_partition(-1, gp_start, gp_deps, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY, 0, gp_node, NULL); }
static int gp_null_start(void) { return gp_call(NULL, gp_deps, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_null_deps(void) { return gp_call(gp_start, NULL, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_null_pinned(void) { return gp_call(gp_start, gp_deps, NULL, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_null_bytes(void) { return gp_call(gp_start, gp_deps, gp_pinned, NULL, 2, DEISA_PARTITION_GREEDY); }
static int gp_null_out(void) { return deisa_graph_partition(7, gp_start, gp_deps, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY, 0, NULL, NULL); }
static int gp_cycle(void) { return gp_call(gp_start, gp_cycle_deps, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_dep_out_of_range(void) { return gp_call(gp_start, gp_bad_dep, gp_pinned, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_pin_out_of_range(void) { return gp_call(gp_start, gp_deps, gp_bad_pin, gp_bytes, 2, DEISA_PARTITION_GREEDY); }
static int gp_negative_bytes(void) { return gp_call(gp_start, gp_deps, gp_pinned, gp_negative, 2, DEISA_PARTITION_GREEDY); }
static int gp_no_node(void) { return gp_call(gp_start, gp_deps, gp_pinned, gp_bytes, 0, DEISA_PARTITION_GREEDY); }
static int gp_bad_mode(void) { return gp_call(gp_start, gp_deps, gp_pinned, gp_bytes, 2, 9); }

static const row graph_rows[] = {
    {"deisa_graph_partition: greedy places a reduction (pins, then bytes)", gp_greedy, DEISA_OK, NULL},
    {"deisa_graph_partition: random keeps pinned tasks on their nodes", gp_random, DEISA_OK, NULL},
    {"deisa_graph_partition: an empty graph (arrays but dep_start may be NULL)", gp_empty, DEISA_OK, NULL},
    {"deisa_graph_partition: a negative n_tasks", gp_negative_count, DEISA_ERR_VALUE, "n_tasks must be 0 to|got -1"},
    {"deisa_graph_partition: NULL dep_start", gp_null_start, DEISA_ERR_HANDLE, "dep_start is NULL"},
    {"deisa_graph_partition: NULL deps while there are dependencies", gp_null_deps, DEISA_ERR_HANDLE, "deps is NULL"},
    {"deisa_graph_partition: NULL pinned", gp_null_pinned, DEISA_ERR_HANDLE, "pinned is NULL"},
    {"deisa_graph_partition: NULL nbytes", gp_null_bytes, DEISA_ERR_HANDLE, "nbytes is NULL"},
    {"deisa_graph_partition: NULL node_out", gp_null_out, DEISA_ERR_HANDLE, "node_out is NULL"},
    {"deisa_graph_partition: a cycle", gp_cycle, DEISA_ERR_VALUE, "cycle through task| -> 0| -> 2"},
    {"deisa_graph_partition: a dependency that is no task", gp_dep_out_of_range, DEISA_ERR_VALUE, "task 2 depends on task 9"},
    {"deisa_graph_partition: a block on a node that is not there", gp_pin_out_of_range, DEISA_ERR_VALUE, "pinned[6] is node 2|2 nodes"},
    {"deisa_graph_partition: negative bytes", gp_negative_bytes, DEISA_ERR_VALUE, "nbytes[4] is negative"},
    {"deisa_graph_partition: no node", gp_no_node, DEISA_ERR_VALUE, "n_nodes must be at least 1"},
    {"deisa_graph_partition: an unknown mode", gp_bad_mode, DEISA_ERR_VALUE, "mode must be greedy (0) or random (1)|got 9"},
};

/* ------------------------------------------------------------------ main */

static int out_null_after_failure(void)
{
    g_open_out = (deisa_bridge *)(intptr_t)0x1;
    int s = deisa_bridge_open(0, 0, NULL, g_nowhere, 1, 0, &g_open_out);
    int ok1 = s == DEISA_ERR_VALUE && g_open_out == NULL;
    g_start_out = (deisa_analytics *)(intptr_t)0x1;
    s = deisa_analytics_start(NULL, g_run, 0, 16, POOL, 30, &g_start_out);
    return ok1 && s == DEISA_ERR_VALUE && g_start_out == NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        g_verbose = 1;
        argv++;
        argc--;
    }
    const char *base = argc > 1 ? argv[1] : getenv("DEISA_RENDEZVOUS");
    if (base && *base) {
        snprintf(g_root, sizeof g_root, "%s", base);
        mkdir(g_root, 0700);
    } else {
        snprintf(g_root, sizeof g_root, "/tmp/deisa-c-abi-XXXXXX");
        if (!mkdtemp(g_root)) { perror("mkdtemp"); return 2; }
    }
    snprintf(g_run, sizeof g_run, "%s/run", g_root);
    snprintf(g_other, sizeof g_other, "%s/side", g_root);
    snprintf(g_nowhere, sizeof g_nowhere, "%s/does-not-exist", g_root);
    printf("# libdeisa %s; runs under %s\n", deisa_version(), g_root);

    g_alive = alive_basic;
    check(deisa_version() != NULL && strchr(deisa_version(), '.') != NULL, "deisa_version() is a version string",
          "got %s", deisa_version() ? deisa_version() : "(NULL)");
    check(deisa_last_error() == NULL, "deisa_last_error() is NULL before any call", "got \"%s\"", deisa_last_error());
    run_rows("common", ROWS(common_rows));
    run_rows("deisa_bridge_open", ROWS(open_rows));
    check(out_null_after_failure(), "a failed deisa_bridge_open / deisa_analytics_start sets its handle out-parameter to NULL",
          "the out-parameter was left as it was");
    run_rows("a bridge without analytics: declare, connect, close", ROWS(declare_rows));
    run_rows("use after free of a bridge", ROWS(bridge_uaf_rows));
    run_rows("tools", ROWS(tool_rows));
    run_rows("a node service", ROWS(node_rows));
    run_rows("task graph partitioning", ROWS(graph_rows));
    run_rows("deisa_analytics_start", ROWS(start_rows));
    if (g_a == NULL) {
        printf("# the analytics did not start: the live-run rows cannot run\n");
        check(0, "the live run", "deisa_analytics_start failed: %s", deisa_last_error() ? deisa_last_error() : "");
        goto end;
    }
    run_rows("the analytics before the simulation connects", ROWS(analytics_rows));
    g_pump.a = g_a;
    pthread_create(&g_pump_thread, NULL, pump_main, &g_pump);
    run_rows("a live run: connect", ROWS(connect_rows));
    if (g_b == NULL) {
        check(0, "the live run", "the bridge did not open");
        goto end;
    }
    g_alive = alive_live;
    run_rows("a live run: send and zero-copy buffers", ROWS(send_rows));
    run_rows("a live run: feedback", ROWS(feedback_rows));
    run_rows("a live run: the analytics side", ROWS(live_analytics_rows));
    run_rows("a live run: the dashboard", ROWS(dashboard_rows));
    run_rows("a live run: Arrow Flight", ROWS(flight_rows));
    g_alive = alive_basic;
    run_rows("a live run: close", ROWS(close_rows));
    {
        int joined = join_within(g_pump_thread, 30);
        if (!joined) g_pump.stop = 1;
        check(joined && g_pump.ended && !g_pump.failed, "the analytics of the live run ended normally after close",
              "joined %d, ended %d, failed %d (%s), errors %d", joined, g_pump.ended, g_pump.failed, g_pump.fail_msg, g_pump.errors);
        int want[] = {0, 2, 3, 5};
        int data_ok = !g_pump.errors;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) data_ok = data_ok && g_pump.field_seen[want[i]] == 1;
        check(data_ok && g_pump.field_seen[4] == 0 && g_pump.field_seen[1] == 0 && g_pump.field_seen[6] == 0,
              "the analytics got exactly the good blocks (t = 0, 2, 3 sent or committed, 5 committed; not 1, 4, 6) with their values",
              "seen t0..t6: %d %d %d %d %d %d %d, errors %d", g_pump.field_seen[0], g_pump.field_seen[1], g_pump.field_seen[2],
              g_pump.field_seen[3], g_pump.field_seen[4], g_pump.field_seen[5], g_pump.field_seen[6], g_pump.errors);
    }
    run_rows("after the run: use after free", ROWS(free_rows));
    run_rows("side runs", ROWS(side_rows));
    thread_checks();
    run_rows("the process goes on: a whole good run after all the bad calls", ROWS(final_rows));
end:
    printf("1..%d\n", g_checks);
    printf("# %d checks, %d failed\n", g_checks, g_failed);
    return g_failed ? 1 : 0;
}
