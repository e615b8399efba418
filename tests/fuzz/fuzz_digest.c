/*
 * fuzz_digest.c - libFuzzer target for digest_parse(), the parser of the
 * Proxy-Authorization Digest parameters: aborts when an accepted list
 * breaks what digest.h promises (values NUL-terminated inside the
 * parameters, required ones present, nc and response well-formed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const struct digest_params *p, const struct digest_value *v, bool required)
{
	if (!v->s) {
		FUZZ_ASSERT(!required);
		return;
	}
	FUZZ_ASSERT(v->s >= p->store && v->s + v->len < p->store + sizeof(p->store));
	FUZZ_ASSERT(strlen(v->s) == v->len);
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct digest_params p, q;
	const char *why = NULL, *why2 = NULL;
	int rc = digest_parse((const char *)data, size, &p, &why);
	int rc2 = digest_parse((const char *)data, size, &q, &why2);

	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(rc == rc2);
	if (rc < 0) {
		FUZZ_ASSERT(why && strlen(why) < 200);
		FUZZ_ASSERT(strcmp(why, why2) == 0);
		return 0;
	}
	FUZZ_ASSERT(size <= DIGEST_CRED_MAX);
	FUZZ_ASSERT(!p.username.s != !p.username_star.s);
	check_value(&p, &p.username, false);
	check_value(&p, &p.username_star, false);
	check_value(&p, &p.realm, true);
	check_value(&p, &p.nonce, true);
	check_value(&p, &p.uri, true);
	check_value(&p, &p.response, true);
	check_value(&p, &p.algorithm, false);
	check_value(&p, &p.cnonce, true);
	check_value(&p, &p.opaque, false);
	check_value(&p, &p.qop, true);
	check_value(&p, &p.nc, true);
	check_value(&p, &p.userhash_text, false);
	FUZZ_ASSERT(p.nc.len == 8 && all_hex(p.nc.s, 8));
	FUZZ_ASSERT(p.nc_value == (uint32_t)strtoul(p.nc.s, NULL, 16));
	FUZZ_ASSERT(p.response.len > 0 && all_hex(p.response.s, p.response.len));
	FUZZ_ASSERT(p.cnonce.len > 0);
	FUZZ_ASSERT(!p.userhash || !p.username_star.s);
	if (p.username.s)
		FUZZ_ASSERT(p.username.len > 0);
	if (p.username_star.s)
		FUZZ_ASSERT(p.username_star.len > 0 && !p.username_star.quoted);
	FUZZ_ASSERT(q.username.len == p.username.len && q.nonce.len == p.nonce.len && q.uri.len == p.uri.len);
	FUZZ_ASSERT(memcmp(q.uri.s, p.uri.s, p.uri.len) == 0);
	return 0;
}
