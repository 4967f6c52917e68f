/*
 * c_analytics_events.c: an analytics written in C, reading a run's events through the C ABI
 * as deisa.h documents them.
 *
 * Two simulation ranks (threads of this process, one bridge each) send two arrays for
 * T timesteps: "température" (4 x 6 float64, blocks of 2 x 6 in Fortran order) and "flags"
 * (2 x 3 x 2 int32, blocks of 1 x 3 x 2 in C order). One callback reads a window of 2 of the
 * first and 1 of the second.
 *
 * The analytics reads the events as packed records (deisa_analytics_read_events, through
 * event_records.h), starting with a buffer too small for an array's record, and checks every
 * field of every record against what the ranks declared and sent, including the blocks'
 * values where they lie in shared memory.
 *
 * Usage:  c_analytics_events DIRECTORY   (the run's rendezvous directory is made there)
 * Output: "ok N - what" or "not ok N - what: detail" per check, then "1..N"; the exit
 * status is 1 if any check failed.
 */
#define _GNU_SOURCE
#include <deisa.h>

#include "event_records.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T 6        /* timesteps */
#define RANKS 2
#define TEMP "temp\xc3\xa9rature" /* 12 bytes of UTF-8: the record pads the name to 16 */

static int g_checks, g_failed;

static void check(int ok, const char *what, const char *fmt, ...)
{
    g_checks++;
    if (ok) {
        printf("ok %d - %s\n", g_checks, what);
        return;
    }
    g_failed++;
    printf("not ok %d - %s: ", g_checks, what);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" (last error: %s)\n", deisa_last_error() ? deisa_last_error() : "none");
}

/* ------------------------------------------------------------------ what the ranks send */

static double temp_value(int rank, int64_t t, int i, int j) { return 1000.0 * (double)t + 100.0 * (2 * rank + i) + j; }
static int32_t flag_value(int rank, int64_t t, int j, int k) { return (int32_t)(100 * t + 10 * rank + 2 * j + k); }

typedef struct {
    int rank;
    const char *rendezvous;
    int status; /* the first failed call's status, DEISA_OK if none */
    char error[512];
} rank_t;

static int failed_call(rank_t *r, int s, const char *what)
{
    if (s != DEISA_OK && r->status == DEISA_OK) {
        r->status = s;
        snprintf(r->error, sizeof r->error, "%s: %s", what, deisa_last_error() ? deisa_last_error() : "(no message)");
    }
    return s != DEISA_OK;
}

static void *rank_main(void *arg)
{
    rank_t *r = arg;
    deisa_bridge *b = NULL;
    const int64_t tg[2] = {4, 6}, tc[2] = {2, 6}, tp[2] = {r->rank, 0};
    const int64_t fg[3] = {2, 3, 2}, fc[3] = {1, 3, 2}, fp[3] = {r->rank, 0, 0};
    if (failed_call(r, deisa_bridge_open(r->rank, RANKS, NULL, r->rendezvous, 30.0, DEISA_ON_FAILURE_RAISE, &b), "open") ||
        failed_call(r, deisa_bridge_declare_array(b, TEMP, 2, tg, tc, tp, DEISA_FLOAT64, DEISA_ORDER_FORTRAN), "declare") ||
        failed_call(r, deisa_bridge_declare_array(b, "flags", 3, fg, fc, fp, DEISA_INT32, DEISA_ORDER_C), "declare") ||
        failed_call(r, deisa_bridge_connect(b), "connect"))
        goto done;
    for (int64_t t = 0; t < T; t++) {
        double temp[12]; /* Fortran order: (i, j) at i + 2 j */
        int32_t flags[6]; /* C order: (0, j, k) at 2 j + k */
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 6; j++) temp[i + 2 * j] = temp_value(r->rank, t, i, j);
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++) flags[2 * j + k] = flag_value(r->rank, t, j, k);
        if (failed_call(r, deisa_bridge_send(b, TEMP, temp, sizeof temp, DEISA_FLOAT64, 2, tc, DEISA_ORDER_FORTRAN, t), "send") ||
            failed_call(r, deisa_bridge_send(b, "flags", flags, sizeof flags, DEISA_INT32, 3, fc, DEISA_ORDER_C, t), "send"))
            goto done;
    }
    failed_call(r, deisa_bridge_close(b, 0, 0), "close");
done:
    deisa_bridge_free(b);
    return NULL;
}

/* ------------------------------------------------------------------ what the analytics sees */

typedef struct {
    int arrays, callbacks, drops, done, ends, failed;
} counts_t;

typedef struct {
    counts_t n;
    int grew;                 /* a record did not fit: DEISA_ERR_VALUE, then it came whole */
    int64_t needed;           /* the capacity that record asked for */
    int bad_sizes;            /* records whose size is not a multiple of 8 or runs past *length */
    int temp_ok[T], flags_ok[T];
    int windows_ok[T];
    int drops_ok;             /* every drop names an array and a timestep that came */
    int end_last;
    char problem[512];        /* the first wrong field seen */
} seen_t;

static void problem(seen_t *s, const char *fmt, ...)
{
    if (s->problem[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->problem, sizeof s->problem, fmt, ap);
    va_end(ap);
}

/* An array record (layout in deisa.h): 1 if every field is what the ranks declared and sent. */
static int check_array(deisa_analytics *a, seen_t *s, const unsigned char *r, int64_t size)
{
    rec_array ar;
    if (!rec_array_read(r, size, &ar) || ar.name_bytes > 64 || ar.ndim > 3 || ar.nblocks != RANKS || ar.timestep < 0 || ar.timestep >= T) {
        problem(s, "array record header: t %lld, ndim %d, n_blocks %d, name_bytes %d, %lld bytes", (long long)ar.timestep, ar.ndim,
                ar.nblocks, ar.name_bytes, (long long)size);
        return 0;
    }
    int64_t t = ar.timestep;
    int ndim = ar.ndim;
    char name[65];
    memcpy(name, ar.name, (size_t)ar.name_bytes);
    name[ar.name_bytes] = 0;
    int is_temp = strcmp(name, TEMP) == 0;
    if (!is_temp && strcmp(name, "flags") != 0) { problem(s, "array record of unknown name '%s'", name); return 0; }
    const int want_ndim = is_temp ? 2 : 3, want_dtype = is_temp ? DEISA_FLOAT64 : DEISA_INT32;
    const int64_t *chunk = is_temp ? (const int64_t[]){2, 6} : (const int64_t[]){1, 3, 2};
    if (ar.dtype != want_dtype || ndim != want_ndim) { problem(s, "%s: dtype %d, ndim %d", name, ar.dtype, ndim); return 0; }
    /* Chunks: 2 blocks along the first dimension, 1 along the others, each of the block's size. */
    int64_t off = ar.chunks_at + 8 * ndim;
    for (int d = 0; d < ndim; d++) {
        int64_t n_chunks = rec_i64(r, ar.chunks_at + 8 * d);
        if (n_chunks != (d == 0 ? RANKS : 1)) { problem(s, "%s: %lld chunks along dimension %d", name, (long long)n_chunks, d); return 0; }
        for (int64_t c = 0; c < n_chunks; c++, off += 8)
            if (rec_i64(r, off) != chunk[d]) { problem(s, "%s: chunk size %lld along dimension %d", name, (long long)rec_i64(r, off), d); return 0; }
    }
    int ok = 1;
    for (int b = 0; b < ar.nblocks; b++) {
        int64_t lease = rec_row(r, &ar, b, ROW_LEASE), address = rec_row(r, &ar, b, ROW_ADDRESS), nbytes = rec_row(r, &ar, b, ROW_NBYTES);
        int64_t rank = rec_row(r, &ar, b, ROW_RANK), order = rec_row(r, &ar, b, ROW_ORDER);
        /* The block of rank k lies at grid position (k, 0[, 0]). */
        int at_right_place = rank >= 0 && rank < RANKS && rec_position(r, &ar, b, 0) == rank;
        for (int d = 1; d < ndim; d++) at_right_place = at_right_place && rec_position(r, &ar, b, d) == 0;
        for (int d = 0; d < ndim; d++) at_right_place = at_right_place && rec_row(r, &ar, b, ROW_SHAPE + d) == chunk[d];
        if (!at_right_place || order != (is_temp ? DEISA_ORDER_FORTRAN : DEISA_ORDER_C) || nbytes != (is_temp ? 96 : 24) || address == 0) {
            problem(s, "%s at %lld, block %d: rank %lld, order %lld, nbytes %lld", name, (long long)t, b, (long long)rank, (long long)order, (long long)nbytes);
            ok = 0;
        } else if (is_temp) {
            /* The analytics runs in this process: it reads the block where it lies. */
            const double *d = (const double *)(intptr_t)address;
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 6; j++)
                    if (d[i + 2 * j] != temp_value((int)rank, t, i, j)) { problem(s, "%s at %lld: rank %lld's value (%d, %d) is %g", name, (long long)t, (long long)rank, i, j, d[i + 2 * j]); ok = 0; }
        } else {
            const int32_t *d = (const int32_t *)(intptr_t)address;
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 2; k++)
                    if (d[2 * j + k] != flag_value((int)rank, t, j, k)) { problem(s, "flags at %lld: rank %lld's value (0, %d, %d) is %d", (long long)t, (long long)rank, j, k, d[2 * j + k]); ok = 0; }
        }
        if (deisa_analytics_release_block(a, lease) != DEISA_OK) { problem(s, "release_block(%lld): %s", (long long)lease, deisa_last_error()); ok = 0; }
    }
    (is_temp ? s->temp_ok : s->flags_ok)[t] = ok ? 1 : -1;
    return ok;
}

/* A callback record: the window of "température" holds t-1 and t (t alone at 0), that of "flags" t. */
static void check_callback(seen_t *s, int callback_id, const unsigned char *r, int64_t size)
{
    int64_t t = rec_i64(r, 8);
    int id = rec_i32(r, 16), n_inputs = rec_i32(r, 20);
    if (t < 0 || t >= T || id != callback_id || n_inputs != 2) {
        problem(s, "callback record: t %lld, id %d, n_inputs %d", (long long)t, id, n_inputs);
        return;
    }
    int64_t off = 24;
    int64_t temp_count = rec_i64(r, off), want_count = t == 0 ? 1 : 2;
    int ok = temp_count == want_count;
    for (int64_t i = 0; ok && i < temp_count; i++) ok = rec_i64(r, off + 8 + i * 8) == t - temp_count + 1 + i;
    off += 8 + temp_count * 8;
    ok = ok && off + 16 == size && rec_i64(r, off) == 1 && rec_i64(r, off + 8) == t;
    if (!ok) problem(s, "callback at %lld: windows not [[t-1, t], [t]] or record size %lld", (long long)t, (long long)size);
    s->windows_ok[t] = ok ? 1 : -1;
}

static void on_record(deisa_analytics *a, seen_t *s, int callback_id, const unsigned char *r, int kind, int64_t size)
{
    switch (kind) {
    case DEISA_EVENT_ARRAY:
        s->n.arrays++;
        check_array(a, s, r, size);
        break;
    case DEISA_EVENT_CALLBACK:
        s->n.callbacks++;
        check_callback(s, callback_id, r, size);
        break;
    case DEISA_EVENT_DROP: {
        s->n.drops++;
        int64_t t = rec_i64(r, 8);
        int name_bytes = rec_i32(r, 16);
        int known = (name_bytes == 12 && memcmp(r + 24, TEMP, 12) == 0) || (name_bytes == 5 && memcmp(r + 24, "flags", 5) == 0);
        if (!known || t < 0 || t >= T || size != 24 + rec_pad8(name_bytes)) { s->drops_ok = 0; problem(s, "drop record: t %lld, name_bytes %d", (long long)t, name_bytes); }
        break;
    }
    case DEISA_EVENT_TIMESTEP_DONE:
        s->n.done++;
        if (deisa_analytics_finish_timestep(a, rec_i64(r, 8)) != DEISA_OK) problem(s, "finish_timestep: %s", deisa_last_error());
        break;
    case DEISA_EVENT_FAILED:
        s->n.failed++;
        problem(s, "failed event: status %d, %.*s", rec_i32(r, 8), rec_i32(r, 12), (const char *)r + 16);
        break;
    case DEISA_EVENT_END:
        s->n.ends++;
        break;
    default:
        problem(s, "unknown record kind %d", kind);
    }
}

/* ------------------------------------------------------------------ a run */

/* Starts an analytics and the ranks, reads every event until "end"; 0 if the run could not be made. */
static int run(const char *rendezvous, seen_t *s, rank_t ranks[RANKS])
{
    deisa_analytics *a = NULL;
    const char *names[2] = {TEMP, "flags"};
    const int windows[2] = {2, 1};
    int callback_id = -1;
    memset(s, 0, sizeof *s);
    s->drops_ok = 1;
    if (deisa_analytics_start(NULL, rendezvous, 2, 16, INT64_C(16) << 20, 30, &a) != DEISA_OK ||
        deisa_analytics_add_callback(a, "watch", 2, names, windows, 0, &callback_id) != DEISA_OK) {
        check(0, "the analytics starts", "%s", "start or add_callback failed");
        deisa_analytics_free(a);
        return 0;
    }
    pthread_t threads[RANKS];
    for (int k = 0; k < RANKS; k++) {
        ranks[k] = (rank_t){.rank = k, .rendezvous = rendezvous, .status = DEISA_OK};
        pthread_create(&threads[k], NULL, rank_main, &ranks[k]);
    }
    char *layouts = NULL;
    int waited = deisa_analytics_wait_for_simulation(a, &layouts);
    deisa_string_free(layouts);

    int64_t capacity = 16; /* smaller than any array record: the first one must ask for more */
    unsigned char *buffer = malloc((size_t)capacity);
    int idle = 0; /* seconds without an event: a run that stops sending fails the checks, not the caller's timeout */
    while (waited == DEISA_OK && !s->n.ends && !s->n.failed && idle < 60) {
        int64_t length = -1;
        int st = deisa_analytics_read_events(a, 1.0, buffer, capacity, &length);
        if (st == DEISA_PENDING) { idle++; continue; }
        idle = 0;
        if (st == DEISA_ERR_VALUE && length > capacity) { /* the record stays queued: grow and read it */
            s->grew++;
            s->needed = length;
            capacity = length;
            buffer = realloc(buffer, (size_t)capacity);
            continue;
        }
        if (st != DEISA_OK) { problem(s, "read_events: status %d: %s", st, deisa_last_error()); break; }
        for (int64_t at = 0; at < length;) {
            int kind = rec_i32(buffer, at);
            int64_t size = rec_i32(buffer, at + 4);
            if (size < 8 || size % 8 != 0 || at + size > length) { s->bad_sizes++; break; }
            if (s->n.ends) s->end_last = 0; /* nothing may follow the end */
            on_record(a, s, callback_id, buffer + at, kind, size);
            if (kind == DEISA_EVENT_END) s->end_last = at + size == length;
            at += size;
        }
    }
    free(buffer);
    for (int k = 0; k < RANKS; k++) pthread_join(threads[k], NULL);
    check(waited == DEISA_OK, "every rank registered",
          "wait_for_simulation returned %d", waited);
    for (int k = 0; k < RANKS; k++) {
        char what[64];
        snprintf(what, sizeof what, "rank %d's every call succeeded", k);
        check(ranks[k].status == DEISA_OK, what, "%s", ranks[k].error);
    }
    deisa_analytics_free(a);
    return waited == DEISA_OK;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: c_analytics_events DIRECTORY\n");
        return 2;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/records", argv[1]);
    mkdir(argv[1], 0700);
    setvbuf(stdout, NULL, _IOLBF, 0);

    static seen_t rec;
    rank_t ranks[RANKS];
    if (run(dir, &rec, ranks)) {
        check(rec.grew >= 1 && rec.needed > 16, "a record larger than the buffer stays queued and says the capacity it needs",
              "grew %d times, needed %lld", rec.grew, (long long)rec.needed);
        check(rec.bad_sizes == 0, "every record's size is a multiple of 8 within the bytes written", "%d bad", rec.bad_sizes);
        int temp = 1, flags = 1, windows = 1;
        for (int t = 0; t < T; t++) {
            temp = temp && rec.temp_ok[t] == 1;
            flags = flags && rec.flags_ok[t] == 1;
            windows = windows && rec.windows_ok[t] == 1;
        }
        check(temp, "'température' (Fortran order, non-ASCII name): every timestep's record has its layout, rows and values", "%s", rec.problem);
        check(flags, "'flags' (3-D, int32): every timestep's record has its layout, rows and values", "%s", rec.problem);
        check(windows, "a callback record per timestep, its windows in the callback's input order, oldest first", "%s", rec.problem);
        check(rec.n.arrays == 2 * T && rec.n.callbacks == T && rec.n.done == T, "one record per array and timestep, a callback and a timestep_done per timestep",
              "%d arrays, %d callbacks, %d timestep_done", rec.n.arrays, rec.n.callbacks, rec.n.done);
        check(rec.n.drops > 0 && rec.drops_ok, "drop records name an array and a timestep that came", "%d drops: %s", rec.n.drops, rec.problem);
        check(rec.n.ends == 1 && rec.end_last && rec.n.failed == 0, "the run ends with one end record, last", "%d ends, last %d, %d failed: %s",
              rec.n.ends, rec.end_last, rec.n.failed, rec.problem);
    }
    printf("1..%d\n", g_checks);
    return g_failed ? 1 : 0;
}
