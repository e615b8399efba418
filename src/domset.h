/*
 * domset.h - a set of domain names matched at a cost that does not grow
 * with the set: a hash table of names, each marked exact, subdomains-only
 * (*.x) or tree (.x).  A host is looked up once whole and once per label
 * suffix (www.a.example: www.a.example, a.example, example), so a lookup
 * costs one pass over the host and one probe per label, whether the set
 * holds ten names or a million.  Built once, then read by any number of
 * threads without locks.  The patterns' syntax is acl.c's.
 */
#ifndef PINHOLE_DOMSET_H
#define PINHOLE_DOMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a stored name matches; a name may carry several. */
enum {
	DOMSET_EXACT = 1,      /* the name itself */
	DOMSET_SUBDOMAINS = 2, /* any name below it, not the name itself */
	DOMSET_TREE = 4,       /* the name and any name below it */
};

struct domset_slot;

struct domset {
	struct domset_slot *slots; /* open addressing, linear probing; NULL while empty */
	size_t mask;               /* number of slots - 1 (a power of two) */
	size_t n;                  /* names stored */
	char *arena;               /* each name: its flags, its length, its bytes */
	size_t arena_len, arena_cap;
};

/* Adds name[0..len) (lower-case, no trailing dot, 1 to 255 bytes) with the
 * flags what (DOMSET_*); a name added again gets the union of the flags. */
void domset_add(struct domset *d, const char *name, size_t len, unsigned what);
/* Makes room for n more names of nbytes bytes in all, so that a set built
 * from a file of known size grows once (no rehash, no doubled arena). */
void domset_reserve(struct domset *d, size_t n, size_t nbytes);
/* Whether host matches a name of the set: the host itself an exact or tree
 * name, or one of its label suffixes a subdomains or tree name.  Case does
 * not matter and one trailing dot is ignored, as in acl_domain_match. */
bool domset_match(const struct domset *d, const char *host);
/* Bytes the set holds (table and names), for the benchmark and tests. */
size_t domset_bytes(const struct domset *d);
void domset_free(struct domset *d);

#endif
