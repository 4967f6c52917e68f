/*
 * A 2-D heat-equation simulation in C (MPI) that hands its field to Deisa every timestep:
 * the same model as examples/heat2d_simulation.py, watched by the same Python analytics
 * (examples/heat_analytics.py).
 *
 * The plate u[row][column] is split over the ranks with a 2-D Cartesian decomposition
 * (MPI_Dims_create; blocks may differ in size by one cell). Each rank advances its block with
 * an explicit 5-point stencil, exchanging one-cell halos with its neighbours. Every timestep
 * it writes its block straight into shared memory (deisa_bridge_acquire / deisa_block_commit:
 * the zero-copy path) as "temperature", and reads the analytics' "cooling" feedback, a factor
 * applied to the heaters' power.
 *
 *   mpirun -np 4 heat2d_c --steps 150 --size 256
 */
#include <deisa.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEATER_POWER 0.5 /* degrees per iteration at a heater's centre */
#define LOSS 2e-3        /* fraction of its temperature a cell loses to the ambient per iteration */
#define DIFFUSION 0.2    /* alpha dt / dx^2; the explicit scheme is stable up to 0.25 */

/* Heaters as (row, column, radius) in fractions of the plate's sides. */
static const double HEATERS[3][3] = {{0.5, 0.5, 0.06}, {0.25, 0.7, 0.04}, {0.72, 0.25, 0.05}};

/* This rank's block with a one-cell ghost frame: ny x nx interior cells. */
typedef struct {
    int ny, nx;
    double *u;      /* (ny + 2) x (nx + 2), row-major */
    double *next;   /* the same, for the update */
    double *source; /* ny x nx heater power */
} plate;

#define U(p, i, j) ((p)->u[(size_t)(i) * ((p)->nx + 2) + (j)])

static int rank_ = 0;

/* Stops every rank with Deisa's message when a call failed. */
static void check(int status, const char *what) {
    if (status == DEISA_OK) return;
    const char *message = deisa_last_error();
    fprintf(stderr, "simulation: rank %d: deisa %s failed (%d): %s\n", rank_, what, status, message ? message : "");
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void usage(const char *bad) {
    fprintf(stderr, "usage: heat2d_c [--steps N] [--size N | --size NY NX] [--substeps N] [--timeout SECONDS]; "
                    "bad argument: %s\n", bad);
    MPI_Abort(MPI_COMM_WORLD, 2);
}

static long parse_long(const char *s) {
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v <= 0) usage(s ? s : "(missing value)");
    return v;
}

/* Size and 0-based offset of block `index` when n cells are split into `parts` near-equal blocks. */
static void split(int n, int parts, int index, int *size, int *offset) {
    int base = n / parts, extra = n % parts;
    *size = base + (index < extra);
    *offset = index * base + (index < extra ? index : extra);
}

/* Heater power per cell of this block: round Gaussian spots placed relative to the global plate. */
static void heater_source(plate *p, const int offset[2], const int global[2]) {
    double scale = global[0] < global[1] ? global[0] : global[1];
    for (int i = 0; i < p->ny; i++)
        for (int j = 0; j < p->nx; j++) {
            double s = 0;
            for (int h = 0; h < 3; h++) {
                double dr = offset[0] + i - HEATERS[h][0] * global[0], dc = offset[1] + j - HEATERS[h][1] * global[1];
                double d2 = dr * dr + dc * dc, r = HEATERS[h][2] * scale;
                s += exp(-d2 / (2 * r * r));
            }
            p->source[(size_t)i * p->nx + j] = HEATER_POWER * s;
        }
}

/* Fills the ghost frame from the four neighbours; ghost cells with no neighbour (MPI_PROC_NULL
 * at the plate's edges) keep the fixed edge temperature 0. */
static void exchange_halos(MPI_Comm cart, plate *p, double *sendbuf, double *recvbuf) {
    int north, south, west, east, ny = p->ny, nx = p->nx;
    MPI_Cart_shift(cart, 0, 1, &north, &south);
    MPI_Cart_shift(cart, 1, 1, &west, &east);
    /* Rows are contiguous: send and receive in place. */
    MPI_Sendrecv(&U(p, ny, 1), nx, MPI_DOUBLE, south, 0, &U(p, 0, 1), nx, MPI_DOUBLE, north, 0, cart, MPI_STATUS_IGNORE);
    MPI_Sendrecv(&U(p, 1, 1), nx, MPI_DOUBLE, north, 1, &U(p, ny + 1, 1), nx, MPI_DOUBLE, south, 1, cart,
                 MPI_STATUS_IGNORE);
    /* Columns are strided: go through contiguous buffers. */
    for (int side = 0; side < 2; side++) {
        int send_col = side == 0 ? nx : 1, recv_col = side == 0 ? 0 : nx + 1;
        int dest = side == 0 ? east : west, src = side == 0 ? west : east;
        for (int i = 0; i < ny; i++) sendbuf[i] = U(p, i + 1, send_col);
        MPI_Sendrecv(sendbuf, ny, MPI_DOUBLE, dest, 2 + side, recvbuf, ny, MPI_DOUBLE, src, 2 + side, cart,
                     MPI_STATUS_IGNORE);
        if (src != MPI_PROC_NULL)
            for (int i = 0; i < ny; i++) U(p, i + 1, recv_col) = recvbuf[i];
    }
}

/* `iterations` explicit Euler steps of du/dt = laplacian(u) + heating * source - loss * u. */
static void advance(MPI_Comm cart, plate *p, double heating, int iterations, double *sendbuf, double *recvbuf) {
    size_t stride = (size_t)p->nx + 2;
    for (int k = 0; k < iterations; k++) {
        exchange_halos(cart, p, sendbuf, recvbuf);
        memcpy(p->next, p->u, stride * (p->ny + 2) * sizeof(double));
        for (int i = 1; i <= p->ny; i++)
            for (int j = 1; j <= p->nx; j++) {
                double c = U(p, i, j);
                double laplacian = U(p, i - 1, j) + U(p, i + 1, j) + U(p, i, j - 1) + U(p, i, j + 1) - 4 * c;
                p->next[i * stride + j] =
                    c + (DIFFUSION * laplacian + heating * p->source[(size_t)(i - 1) * p->nx + j - 1] - LOSS * c);
            }
        double *swap = p->u;
        p->u = p->next;
        p->next = swap;
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int steps = 150, substeps = 10, global[2] = {256, 256};
    double timeout = 300;
    for (int k = 1; k < argc; k++) {
        const char *next = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(argv[k], "--steps")) steps = (int)parse_long(next), k++;
        else if (!strcmp(argv[k], "--substeps")) substeps = (int)parse_long(next), k++;
        else if (!strcmp(argv[k], "--timeout")) timeout = (double)parse_long(next), k++;
        else if (!strcmp(argv[k], "--size")) {
            global[0] = global[1] = (int)parse_long(next), k++;
            if (k + 1 < argc && argv[k + 1][0] != '-') global[1] = (int)parse_long(argv[++k]);
        } else usage(argv[k]);
    }

    int nranks, dims[2] = {0, 0}, periods[2] = {0, 0}, coords[2], block[2], offset[2];
    MPI_Comm cart;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Dims_create(nranks, 2, dims);
    if (dims[0] > global[0] || dims[1] > global[1]) {
        fprintf(stderr, "a %dx%d decomposition does not fit a %dx%d grid\n", dims[0], dims[1], global[0], global[1]);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
    MPI_Comm_rank(cart, &rank_);
    MPI_Cart_coords(cart, rank_, 2, coords);
    for (int d = 0; d < 2; d++) split(global[d], dims[d], coords[d], &block[d], &offset[d]);

    plate p = {block[0], block[1], NULL, NULL, NULL};
    size_t cells = (size_t)(p.ny + 2) * (p.nx + 2);
    p.u = calloc(cells, sizeof(double));
    p.next = calloc(cells, sizeof(double));
    p.source = calloc((size_t)p.ny * p.nx, sizeof(double));
    double *sendbuf = malloc(sizeof(double) * p.ny), *recvbuf = malloc(sizeof(double) * p.ny);
    if (!p.u || !p.next || !p.source || !sendbuf || !recvbuf) {
        fprintf(stderr, "simulation: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    heater_source(&p, offset, global);
    double heating = 1;
    if (rank_ == 0) {
        printf("simulation: %dx%d plate on %d ranks (%dx%d blocks), %d timesteps (C)\n", global[0], global[1], nranks,
               dims[0], dims[1], steps);
        fflush(stdout);
    }

    /* Shapes and positions in C index order: u[i][j] is temperature[i, j] in the analytics. */
    int64_t global_shape[2] = {global[0], global[1]}, chunk_shape[2] = {block[0], block[1]};
    int64_t position[2] = {coords[0], coords[1]};
    deisa_bridge *bridge = NULL;
    check(deisa_bridge_open(rank_, nranks, NULL, NULL, timeout, DEISA_ON_FAILURE_WARN, &bridge), "open");
    check(deisa_bridge_declare_array(bridge, "temperature", 2, global_shape, chunk_shape, position, DEISA_FLOAT64,
                                     DEISA_ORDER_C),
          "declare_array");
    check(deisa_bridge_connect(bridge), "connect");

    for (int t = 0; t < steps; t++) {
        /* Zero copy: write the interior straight into shared memory, then hand it over. */
        void *data;
        int64_t nbytes;
        deisa_block *blk;
        check(deisa_bridge_acquire(bridge, "temperature", t, DEISA_FLOAT64, &data, &nbytes, &blk), "acquire");
        double *out = data;
        for (int i = 0; i < p.ny; i++) memcpy(out + (size_t)i * p.nx, &U(&p, i + 1, 1), sizeof(double) * p.nx);
        check(deisa_block_commit(blk), "commit");

        /* commit(t) returned, so the callbacks of t-1 have finished (max_simulation_ahead=1)
         * and their feedback is there. Every rank gets the same answer. */
        double factor;
        int found;
        check(deisa_bridge_get_double(bridge, "cooling", t - 1, &factor, &found), "get_double");
        if (found && factor != heating) {
            if (rank_ == 0) {
                printf("simulation: timestep %d: feedback for timestep %d: %s, heater power x%g\n", t, t - 1,
                       factor < heating ? "cooling" : "heating again", factor);
                fflush(stdout);
            }
            heating = factor;
        }
        advance(cart, &p, heating, substeps, sendbuf, recvbuf);
    }

    check(deisa_bridge_close(bridge, 0, 0), "close");
    check(deisa_bridge_free(bridge), "free");
    if (rank_ == 0) {
        printf("simulation: done, %d timesteps sent\n", steps);
        fflush(stdout);
    }
    free(p.u), free(p.next), free(p.source), free(sendbuf), free(recvbuf);
    MPI_Comm_free(&cart);
    MPI_Finalize();
    return 0;
}
