/*
 * buf.c - connection buffers with a per-thread free list of BUF_SIZE blocks
 * (no lock: each worker thread has its own).  Larger buffers, needed only
 * for request heads up to max-header-size, come from malloc.
 */
#include "buf.h"
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_KEEP 64 /* free blocks kept per thread */

static _Thread_local void *pool[POOL_KEEP];
static _Thread_local size_t pool_n;

static char *block_get(void)
{
	if (pool_n)
		return pool[--pool_n];
	return ph_malloc(BUF_SIZE);
}

static void block_put(char *p, uint32_t cap)
{
	if (cap == BUF_SIZE && pool_n < POOL_KEEP)
		pool[pool_n++] = p;
	else
		free(p);
}

void buf_pool_drain(void)
{
	while (pool_n)
		free(pool[--pool_n]);
}

size_t buf_pool_idle(void)
{
	return pool_n;
}

size_t buf_reserve(struct buf *b, size_t max)
{
	if (!b->base) {
		b->base = block_get();
		b->cap = BUF_SIZE;
		b->start = b->end = 0;
	}
	if (buf_room(b) > 0)
		return buf_room(b);
	if (b->start > 0) {
		size_t n = buf_len(b);

		memmove(b->base, buf_data(b), n);
		b->start = 0;
		b->end = (uint32_t)n;
		return buf_room(b);
	}
	if (b->cap >= max)
		return 0;
	size_t cap = PH_MIN((size_t)b->cap * 2, max);
	char *p = ph_malloc(cap);

	memcpy(p, b->base, b->end);
	block_put(b->base, b->cap);
	b->base = p;
	b->cap = (uint32_t)cap;
	return buf_room(b);
}

void buf_release(struct buf *b)
{
	if (b->base)
		block_put(b->base, b->cap);
	b->base = NULL;
	b->start = b->end = b->cap = 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->start += (uint32_t)n;
	if (b->start >= b->end)
		buf_release(b);
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	while (n > 0) {
		size_t room = buf_reserve(b, SIZE_MAX / 2);
		size_t k = PH_MIN(room, n);

		memcpy(b->base + b->end, p, k);
		b->end += (uint32_t)k;
		p = (const char *)p + k;
		n -= k;
	}
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		buf_append(b, tmp, (size_t)n);
		return;
	}
	char *big = ph_malloc((size_t)n + 1);

	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_append(b, big, (size_t)n);
	free(big);
}
