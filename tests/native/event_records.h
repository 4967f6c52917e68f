/*
 * event_records.h: reading the packed records of deisa_analytics_read_events (their layout is
 * deisa.h's), for the test programs written in C. One reader, so that each program checks the
 * events, not its own copy of the layout.
 */
#ifndef EVENT_RECORDS_H
#define EVENT_RECORDS_H

#include <stdint.h>
#include <string.h>

static inline int32_t rec_i32(const unsigned char *p, int64_t off) { int32_t v; memcpy(&v, p + off, 4); return v; }
static inline int64_t rec_i64(const unsigned char *p, int64_t off) { int64_t v; memcpy(&v, p + off, 8); return v; }
static inline int64_t rec_pad8(int64_t n) { return (n + 7) & ~(int64_t)7; }

/* Every record: its kind (deisa_event_kind) and its size in bytes. */
static inline int rec_kind(const unsigned char *r) { return rec_i32(r, 0); }
static inline int64_t rec_size(const unsigned char *r) { return rec_i32(r, 4); }

/* The parts of a DEISA_EVENT_ARRAY record. */
typedef struct {
    int64_t timestep;
    int dtype, ndim, nblocks, name_bytes;
    const char *name;        /* name_bytes bytes of UTF-8, not NUL-terminated */
    int64_t chunks_at;       /* n_chunks[ndim], then the chunk sizes, dimension after dimension */
    int64_t positions_at;    /* position[nblocks][ndim] */
    int64_t rows_at;         /* a row per block */
    int64_t row_bytes;
} rec_array;

/* Reads an array record of `size` bytes; 0 if its fields do not add up to its size. */
static inline int rec_array_read(const unsigned char *r, int64_t size, rec_array *a)
{
    a->timestep = rec_i64(r, 8);
    a->dtype = rec_i32(r, 16);
    a->ndim = rec_i32(r, 20);
    a->nblocks = rec_i32(r, 24);
    a->name_bytes = rec_i32(r, 28);
    if (a->ndim < 1 || a->ndim > 32 || a->nblocks < 0 || a->name_bytes < 0 || 32 + rec_pad8(a->name_bytes) > size) return 0;
    a->name = (const char *)r + 32;
    a->chunks_at = 32 + rec_pad8(a->name_bytes);
    int64_t chunk_sizes = 0;
    for (int d = 0; d < a->ndim; d++) chunk_sizes += rec_i64(r, a->chunks_at + 8 * d);
    a->positions_at = a->chunks_at + 8 * (a->ndim + chunk_sizes);
    a->rows_at = a->positions_at + 8 * (int64_t)a->nblocks * a->ndim;
    a->row_bytes = 8 * (5 + (int64_t)a->ndim);
    return a->rows_at + a->nblocks * a->row_bytes == size;
}

/* The row of block b: its lease, address, nbytes, rank, order (deisa_order), then its shape. */
enum { ROW_LEASE, ROW_ADDRESS, ROW_NBYTES, ROW_RANK, ROW_ORDER, ROW_SHAPE };
static inline int64_t rec_row(const unsigned char *r, const rec_array *a, int b, int field)
{
    return rec_i64(r, a->rows_at + b * a->row_bytes + 8 * field);
}

/* Coordinate d of block b's position in the block grid. */
static inline int64_t rec_position(const unsigned char *r, const rec_array *a, int b, int d)
{
    return rec_i64(r, a->positions_at + 8 * ((int64_t)b * a->ndim + d));
}

#endif
