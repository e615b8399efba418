/*
 * lru.c - the bounded hash table with an order of use (see lru.h).
 */
#include "lru.h"

#include <stdlib.h>

uint64_t lru_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

int lru_init(struct lru *t, size_t max)
{
	size_t nb = 16;

	while (nb < max && nb < ((size_t)1 << 20))
		nb <<= 1;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	t->nbuckets = nb;
	t->n = 0;
	t->max = max;
	list_init(&t->recency);
	return 0;
}

void lru_free(struct lru *t, void (*free_node)(struct lru_node *))
{
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &t->recency)
	{
		list_del(l);
		if (free_node)
			free_node(list_entry(l, struct lru_node, recency));
	}
	free(t->buckets);
	t->buckets = NULL;
	t->n = 0;
}

static struct lru_node **bucket(const struct lru *t, uint64_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

struct lru_node *lru_find(const struct lru *t, uint64_t hash, bool (*eq)(const struct lru_node *, const void *),
                          const void *key)
{
	for (struct lru_node *n = *bucket(t, hash); n; n = n->hnext)
		if (n->hash == hash && eq(n, key))
			return n;
	return NULL;
}

void lru_touch(struct lru *t, struct lru_node *n)
{
	list_del(&n->recency);
	list_add_front(&t->recency, &n->recency);
}

void lru_insert(struct lru *t, struct lru_node *n, uint64_t hash)
{
	struct lru_node **b = bucket(t, hash);

	n->hash = hash;
	n->hnext = *b;
	*b = n;
	list_add_front(&t->recency, &n->recency);
	t->n++;
}

void lru_remove(struct lru *t, struct lru_node *n)
{
	struct lru_node **pp = bucket(t, n->hash);

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	n->hnext = NULL;
	list_del(&n->recency);
	t->n--;
}

struct lru_node *lru_oldest(const struct lru *t)
{
	struct list *l = list_last(&t->recency);

	return l ? list_entry(l, struct lru_node, recency) : NULL;
}
