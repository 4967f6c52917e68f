/*
 * C simulation driven by tests/python/test_native_simulations.py under mpirun (rank r of n,
 * timesteps 0..2). Values encode their indices so the analytics checks every element:
 *   grid  int32   (4, 3n), C order, block (4, 3) at (0, r), deisa_bridge_send:
 *                 grid[i][j] = 100 t + 10 i + (3 r + j)
 *   fgrid float64 (3, 4n), Fortran order, block (3, 4) at (0, r), zero copy (acquire/commit):
 *                 element (i, j) at data[i + 3 j] = 1000 t + 10 i + (4 r + j)
 * After the sends of t it reads the feedback of t-1 ("step" int64, "scale" double, "label"
 * text) and prints "FEEDBACK rank t key found value"; at the end the whole history of
 * "step" through deisa_bridge_get_feedback ("HISTORY rank t value ...").
 */
#include <deisa.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int rank = 0;

static void check(int status, const char *what) {
    if (status == DEISA_OK) return;
    printf("FAILED rank %d: %s (%d): %s\n", rank, what, status, deisa_last_error() ? deisa_last_error() : "");
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv) {
    int n;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n);

    deisa_bridge *bridge = NULL;
    check(deisa_bridge_open(rank, n, NULL, NULL, 60, DEISA_ON_FAILURE_RAISE, &bridge), "open");
    int64_t gshape[2] = {4, 3 * n}, gchunk[2] = {4, 3}, pos[2] = {0, rank};
    int64_t fshape[2] = {3, 4 * n}, fchunk[2] = {3, 4};
    check(deisa_bridge_declare_array(bridge, "grid", 2, gshape, gchunk, pos, DEISA_INT32, DEISA_ORDER_C), "declare grid");
    check(deisa_bridge_declare_array(bridge, "fgrid", 2, fshape, fchunk, pos, DEISA_FLOAT64, DEISA_ORDER_FORTRAN),
          "declare fgrid");
    check(deisa_bridge_connect(bridge), "connect");

    for (int64_t t = 0; t < 3; t++) {
        int32_t grid[4][3];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) grid[i][j] = (int32_t)(100 * t + 10 * i + (3 * rank + j));
        check(deisa_bridge_send(bridge, "grid", grid, sizeof grid, DEISA_INT32, 2, gchunk, DEISA_ORDER_C, t), "send");

        void *data;
        int64_t nbytes;
        deisa_block *block;
        check(deisa_bridge_acquire(bridge, "fgrid", t, DEISA_DTYPE_UNDECLARED, &data, &nbytes, &block), "acquire");
        deisa_dtype dtype;
        deisa_order order;
        int ndim;
        int64_t shape[4];
        check(deisa_block_info(block, &dtype, &order, &ndim, shape, 4), "block_info");
        printf("BLOCK %d %d %d %d %lld %lld %lld\n", rank, (int)dtype, (int)order, ndim, (long long)shape[0], (long long)shape[1],
               (long long)nbytes);
        double *f = data;
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 3; i++) f[i + 3 * j] = 1000.0 * t + 10 * i + (4 * rank + j);
        check(deisa_block_commit(block), "commit");

        int64_t step = -1;
        double scale = -1;
        char label[32] = "none";
        int64_t length = 0;
        int found;
        check(deisa_bridge_get_int64(bridge, "step", t - 1, &step, &found), "get_int64");
        printf("FEEDBACK %d %lld step %d %lld\n", rank, (long long)(t - 1), found, (long long)step);
        check(deisa_bridge_get_double(bridge, "scale", t - 1, &scale, &found), "get_double");
        printf("FEEDBACK %d %lld scale %d %.17g\n", rank, (long long)(t - 1), found, scale);
        check(deisa_bridge_get_string(bridge, "label", t - 1, label, sizeof label, &length, &found), "get_string");
        printf("FEEDBACK %d %lld label %d %s %lld\n", rank, (long long)(t - 1), found, found ? label : "-",
               (long long)length);
        fflush(stdout);
    }

    /* A buffer too small: the text is cut (NUL-terminated) and *length tells the full size. */
    char tiny[2];
    int64_t length = 0;
    int found = 0;
    check(deisa_bridge_get_string(bridge, "label", 1, tiny, sizeof tiny, &length, &found), "get_string tiny");
    printf("TINY %d %d %s %lld\n", rank, found, tiny, (long long)length);

    /* Every retained value of "step". */
    deisa_feedback *history = NULL;
    check(deisa_bridge_get_feedback(bridge, "step", 0, 0, &history, &found), "get_feedback");
    int64_t count = 0;
    if (found) check(deisa_feedback_count(history, &count), "feedback_count");
    printf("HISTORY %d", rank);
    for (int64_t k = 0; k < count; k++) {
        int64_t ts, nb;
        deisa_feedback_kind kind;
        const void *value;
        check(deisa_feedback_entry(history, k, &ts, &kind, &value, &nb), "feedback_entry");
        int64_t v = 0;
        if (kind == DEISA_FEEDBACK_INT64 && nb == 8) memcpy(&v, value, 8);
        printf(" %lld:%d:%lld", (long long)ts, kind, (long long)v);
    }
    printf("\n");
    check(deisa_feedback_free(history), "feedback_free");

    check(deisa_bridge_close(bridge, 1, 3), "close");
    check(deisa_bridge_free(bridge), "free");
    printf("DONE %d\n", rank);
    MPI_Finalize();
    return 0;
}
