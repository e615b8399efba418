/*
 * lru.h - the one bounded table: a hash table of intrusive nodes that also
 * keeps them in order of use, so the least recently used one is at hand
 * when the table is full.  The minted-certificate cache (tlsca.c) and the
 * report's client table (webrtc.c) are made of it.
 *
 * Intrusive, like list.h: an element embeds a struct lru_node and the table
 * never allocates one or frees one.  The caller hashes its key (lru_hash)
 * and says what equal means; the table decides nothing about eviction
 * either: lru_full tells, lru_oldest names the victim, the caller removes
 * and frees it.  No locking: the owner holds its own lock.
 */
#ifndef PINHOLE_LRU_H
#define PINHOLE_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"

struct lru_node {
	struct lru_node *hnext; /* bucket chain */
	struct list recency;    /* most recently used first */
	uint64_t hash;
};

struct lru {
	struct lru_node **buckets;
	size_t nbuckets; /* a power of two */
	size_t n, max;
	struct list recency;
};

/* FNV-1a of n bytes, continuing from h (start with LRU_HASH_INIT). */
#define LRU_HASH_INIT 0xcbf29ce484222325ULL
uint64_t lru_hash(uint64_t h, const void *p, size_t n);

/* A table for up to max elements (buckets: the next power of two, at most
 * 2^20).  Returns 0, or -1 when out of memory. */
int lru_init(struct lru *t, size_t max);
/* Frees the buckets; each element still in the table is handed to
 * free_node (may be NULL when the caller owns them elsewhere). */
void lru_free(struct lru *t, void (*free_node)(struct lru_node *));

/* The element with this hash that eq(node, key) accepts, or NULL.  Does not
 * change the order of use (lru_touch does). */
struct lru_node *lru_find(const struct lru *t, uint64_t hash, bool (*eq)(const struct lru_node *, const void *),
                          const void *key);
/* Marks n as the most recently used. */
void lru_touch(struct lru *t, struct lru_node *n);
/* Adds n as the most recently used; the caller checked lru_full first. */
void lru_insert(struct lru *t, struct lru_node *n, uint64_t hash);
/* Takes n out of the table; the caller frees it. */
void lru_remove(struct lru *t, struct lru_node *n);
/* The least recently used element, or NULL when empty. */
struct lru_node *lru_oldest(const struct lru *t);

static inline bool lru_full(const struct lru *t)
{
	return t->n >= t->max;
}

#endif
