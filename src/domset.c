/*
 * domset.c - the domain-name hash set of domset.h.  Names are hashed from
 * their last byte to their first, so that walking a host backwards yields
 * the hash of each label suffix on the way: a lookup reads the host once.
 */
#include "domset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

/* A list file's table and names run to megabytes: they get pages of their
 * own, handed back whole when the set is freed or grows, so that a reload
 * does not leave the old list in the heap (where a freed block of that
 * size stays, and a process that reloads a large list every hour grows).
 * Small sets use malloc. */
#define PAGES_MIN (64 * 1024)

static void *block_alloc(size_t n)
{
	void *p;

	if (n < PAGES_MIN)
		return ph_calloc(1, n);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "pinhole: out of memory mapping %zu bytes\n", n);
		abort();
	}
	return p;
}

static void block_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n < PAGES_MIN)
		free(p);
	else
		munmap(p, n);
}

/* An empty slot has off == 0: offsets into the arena start at 1. */
struct domset_slot {
	uint32_t hash;
	uint32_t off;
};

/* FNV-1a, 64 bits, fed backwards; finished by a multiply-xorshift so that
 * the low bits (the slot index) depend on every byte. */
#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint64_t fnv_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

static inline uint32_t fnv_finish(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint32_t name_hash(const char *name, size_t len)
{
	uint64_t h = FNV_BASIS;

	while (len > 0)
		h = fnv_step(h, (unsigned char)ph_tolower(name[--len]));
	return fnv_finish(h);
}

/* The entry at off: flags, length, bytes. */
static inline unsigned entry_flags(const struct domset *d, uint32_t off)
{
	return (unsigned char)d->arena[off];
}

static inline size_t entry_len(const struct domset *d, uint32_t off)
{
	return (unsigned char)d->arena[off + 1];
}

static inline const char *entry_name(const struct domset *d, uint32_t off)
{
	return d->arena + off + 2;
}

/* The slot holding name (host bytes, any case), or NULL. */
static const struct domset_slot *find(const struct domset *d, uint32_t hash, const char *name, size_t len)
{
	for (size_t i = hash & d->mask;; i = (i + 1) & d->mask) {
		const struct domset_slot *s = &d->slots[i];

		if (s->off == 0)
			return NULL;
		if (s->hash == hash && entry_len(d, s->off) == len &&
		    ph_memcaseeq(entry_name(d, s->off), len, name, len))
			return s;
	}
}

/* Rehashes into nslots slots (a power of two, more than twice d->n). */
static void rehash(struct domset *d, size_t nslots)
{
	struct domset_slot *slots = block_alloc(nslots * sizeof(*slots));

	for (size_t i = 0; d->slots && i <= d->mask; i++) {
		const struct domset_slot *s = &d->slots[i];
		size_t k;

		if (s->off == 0)
			continue;
		for (k = s->hash & (nslots - 1); slots[k].off; k = (k + 1) & (nslots - 1))
			;
		slots[k] = *s;
	}
	block_free(d->slots, d->slots ? (d->mask + 1) * sizeof(*slots) : 0);
	d->slots = slots;
	d->mask = nslots - 1;
}

static void arena_grow(struct domset *d, size_t cap)
{
	char *arena;

	if (cap < 4096)
		cap = 4096;
	arena = block_alloc(cap);
	if (d->arena)
		memcpy(arena, d->arena, d->arena_len);
	block_free(d->arena, d->arena_cap);
	d->arena = arena;
	d->arena_cap = cap;
}

void domset_reserve(struct domset *d, size_t n, size_t nbytes)
{
	size_t nslots = 16;

	while (nslots < (d->n + n + 1) * 2)
		nslots *= 2;
	if (!d->slots || nslots > d->mask + 1)
		rehash(d, nslots);
	if (d->arena_len + nbytes + 2 * n + 1 > d->arena_cap)
		arena_grow(d, d->arena_len + nbytes + 2 * n + 1);
}

void domset_add(struct domset *d, const char *name, size_t len, unsigned what)
{
	uint32_t hash = name_hash(name, len);
	struct domset_slot *s;
	size_t i;

	if (len == 0 || len > 255)
		return;
	if (d->slots) {
		s = (struct domset_slot *)find(d, hash, name, len);
		if (s) {
			d->arena[s->off] = (char)(entry_flags(d, s->off) | what);
			return;
		}
	}
	/* At most half full: probes stay short, hits and misses alike. */
	if (!d->slots || (d->n + 1) * 2 > d->mask + 1)
		rehash(d, d->slots ? (d->mask + 1) * 2 : 16);
	if (d->arena_len == 0)
		d->arena_len = 1; /* offset 0 marks an empty slot */
	if (d->arena_len + len + 2 > UINT32_MAX)
		return; /* 4 GiB of names: cannot come from a 16 MiB file */
	if (d->arena_len + len + 2 > d->arena_cap)
		arena_grow(d, PH_MAX(d->arena_len + len + 2, d->arena_cap * 2));
	d->arena[d->arena_len] = (char)what;
	d->arena[d->arena_len + 1] = (char)len;
	memcpy(d->arena + d->arena_len + 2, name, len);
	for (i = hash & d->mask; d->slots[i].off; i = (i + 1) & d->mask)
		;
	d->slots[i].hash = hash;
	d->slots[i].off = (uint32_t)d->arena_len;
	d->arena_len += len + 2;
	d->n++;
}

/* Whether name (host bytes) is stored with one of the flags want. */
static bool has(const struct domset *d, uint64_t h, const char *name, size_t len, unsigned want)
{
	const struct domset_slot *s;

	if (len == 0 || len > 255)
		return false;
	s = find(d, fnv_finish(h), name, len);
	return s && (entry_flags(d, s->off) & want);
}

bool domset_match(const struct domset *d, const char *host)
{
	uint64_t h = FNV_BASIS;
	size_t len;

	if (!d || d->n == 0 || !host)
		return false;
	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	/* Backwards: at each dot with at least one byte before it, h is the
	 * hash of the suffix after it (a.b.example: b.example, example). */
	for (size_t i = len; i-- > 0;) {
		char c = ph_tolower(host[i]);

		if (c == '.' && i > 0 && has(d, h, host + i + 1, len - i - 1, DOMSET_SUBDOMAINS | DOMSET_TREE))
			return true;
		h = fnv_step(h, (unsigned char)c);
	}
	return has(d, h, host, len, DOMSET_EXACT | DOMSET_TREE);
}

size_t domset_bytes(const struct domset *d)
{
	return (d->slots ? (d->mask + 1) * sizeof(*d->slots) : 0) + d->arena_cap;
}

void domset_free(struct domset *d)
{
	block_free(d->slots, d->slots ? (d->mask + 1) * sizeof(*d->slots) : 0);
	block_free(d->arena, d->arena_cap);
	memset(d, 0, sizeof(*d));
}
