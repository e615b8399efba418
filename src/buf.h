/*
 * buf.h - byte buffers for connections.  A buffer is taken from its worker's
 * free list only while it holds bytes and goes back as soon as it is empty,
 * so an idle connection or tunnel owns no buffer at all.
 */
#ifndef PINHOLE_BUF_H
#define PINHOLE_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_SIZE (32 * 1024)

struct buf {
	char *base;     /* NULL when not allocated */
	uint32_t start; /* first unconsumed byte */
	uint32_t end;   /* one past the last byte */
	uint32_t cap;
};

static inline size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}
static inline char *buf_data(const struct buf *b)
{
	return b->base + b->start;
}
static inline size_t buf_room(const struct buf *b)
{
	return b->cap - b->end;
}

/* Makes sure b has memory and at least some room at its end (compacting or
 * growing up to max bytes).  Returns the room available, 0 when b holds max
 * bytes already. */
size_t buf_reserve(struct buf *b, size_t max);
/* Drops n bytes from the front; releases the memory when b becomes empty. */
void buf_consume(struct buf *b, size_t n);
/* Appends bytes (growing as needed, unbounded: for heads pinhole builds). */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases the memory whatever it holds. */
void buf_release(struct buf *b);

/* Per-thread pool statistics, for the benchmark and /metrics. */
size_t buf_pool_idle(void);
/* Frees this thread's idle blocks (at thread exit). */
void buf_pool_drain(void);

#endif
