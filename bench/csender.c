/*
 * csender.c - a simulation rank calling libdeisa.so's C ABI directly (no Python on the
 * simulation side): measures the core without the Python binding's per-call cost.
 *
 *   csender RANK SIZE MODE N STEPS [PACE_S]
 *
 * The block is N float64 at position RANK of a 1-D array "x". Modes:
 *   rate      STEPS sends back to back (after one warm-up send); reports start/end times and
 *             the CPU time of the loop
 *   zerocopy  per timestep: memcpy of the block (reference), a pause, an empty acquire+commit
 *   memory    resident memory before deisa_bridge_open, after connect, after STEPS sends
 * Prints one line "REPORT {json}" (times in seconds of CLOCK_MONOTONIC, like Python's
 * time.perf_counter).
 */
#define _POSIX_C_SOURCE 200809L
#include <deisa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void pause_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':') { v = atol(line + n + 1); break; }
    fclose(f);
    return v;
}

static void mem_json(char *out, size_t cap) {
    snprintf(out, cap, "{\"VmRSS\": %ld, \"RssAnon\": %ld, \"RssFile\": %ld, \"RssShmem\": %ld}",
             status_kb("VmRSS") * 1024, status_kb("RssAnon") * 1024, status_kb("RssFile") * 1024,
             status_kb("RssShmem") * 1024);
}

static void check(int status, const char *what) {
    if (status != DEISA_OK) {
        fprintf(stderr, "%s failed (%d): %s\n", what, status, deisa_last_error());
        exit(1);
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s RANK SIZE MODE N STEPS [PACE_S]\n", argv[0]);
        return 2;
    }
    int rank = atoi(argv[1]), size = atoi(argv[2]);
    const char *mode = argv[3];
    int64_t n = atoll(argv[4]);
    int steps = atoi(argv[5]);
    double pace = argc > 6 ? atof(argv[6]) : 0.0;
    int64_t global[1] = {n * size}, chunk[1] = {n}, pos[1] = {rank};
    size_t nbytes = (size_t)n * sizeof(double);
    double *block = malloc(nbytes), *dst = malloc(nbytes);
    for (int64_t i = 0; i < n; i++) block[i] = rank + 1.0;
    memset(dst, 1, nbytes);
    char m0[256], m1[256], m2[256];
    mem_json(m0, sizeof m0);

    deisa_bridge *b;
    check(deisa_bridge_open(rank, size, NULL, NULL, 120, DEISA_ON_FAILURE_RAISE, &b), "open");
    check(deisa_bridge_declare_array(b, "x", 1, global, chunk, pos, DEISA_FLOAT64, DEISA_ORDER_C), "declare");
    check(deisa_bridge_connect(b), "connect");
    mem_json(m1, sizeof m1);

    if (strcmp(mode, "rate") == 0) {
        check(deisa_bridge_send(b, "x", block, nbytes, DEISA_FLOAT64, 1, chunk, DEISA_ORDER_C, 0), "send");
        double c0 = cpu_s(), t0 = now();
        for (int t = 1; t <= steps; t++)
            check(deisa_bridge_send(b, "x", block, nbytes, DEISA_FLOAT64, 1, chunk, DEISA_ORDER_C, t), "send");
        double t1 = now(), c1 = cpu_s();
        check(deisa_bridge_close(b, 0, 0), "close");
        printf("REPORT {\"rank\": %d, \"start\": %.9f, \"end\": %.9f, \"blocks\": %d, \"cpu\": %.6f}\n", rank, t0, t1,
               steps, c1 - c0);
    } else if (strcmp(mode, "zerocopy") == 0) {
        double *zc = malloc(steps * sizeof(double)), *ref = malloc(steps * sizeof(double));
        for (int t = 0; t < steps; t++) {
            double s = now();
            memcpy(dst, block, nbytes);
            ref[t] = now() - s;
            pause_s(pace);
            void *data;
            int64_t got;
            deisa_block *blk;
            s = now();
            check(deisa_bridge_acquire(b, "x", t, DEISA_DTYPE_UNDECLARED, &data, &got, &blk), "acquire");
            check(deisa_block_commit(blk), "commit");
            zc[t] = now() - s;
        }
        check(deisa_bridge_close(b, 0, 0), "close");
        double zc_median = median(zc, steps), ref_median = median(ref, steps); /* sorts: zc[0] is the fastest */
        printf("REPORT {\"rank\": %d, \"nbytes\": %zu, \"zerocopy\": %.9f, \"memcpy\": %.9f, \"zerocopy_min\": %.9f}\n",
               rank, nbytes, zc_median, ref_median, zc[0]);
    } else if (strcmp(mode, "memory") == 0) {
        for (int t = 0; t < steps; t++)
            check(deisa_bridge_send(b, "x", block, nbytes, DEISA_FLOAT64, 1, chunk, DEISA_ORDER_C, t), "send");
        mem_json(m2, sizeof m2);
        check(deisa_bridge_close(b, 0, 0), "close");
        printf("REPORT {\"rank\": %d, \"nbytes\": %zu, \"before\": %s, \"connected\": %s, \"after\": %s}\n",
               rank, nbytes, m0, m1, m2);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    fflush(stdout);
    deisa_bridge_free(b);
    free(block);
    free(dst);
    return 0;
}
