/*
 * fuzz_helper_reply.c - libFuzzer target for helper_parse_reply() (the first
 * byte picks stateful or not; the rest is what a helper wrote) and for
 * helper_url_encode().  Aborts when an invariant of helper.h breaks: strings
 * inside the store, no control characters, len + 8 bytes of store enough.
 */
#include "common.h"
#include "helper.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char store[HELPER_LINE_MAX + 8];

/* A field is NULL, one of the parser's static messages, or a NUL-terminated
 * string inside the store; returns its length. */
static size_t check_str(const char *s, const char *st, size_t cap, bool allow_static)
{
	if (!s)
		return 0;
	if (s >= st && s < st + cap) {
		size_t n = strnlen(s, (size_t)(st + cap - s));

		FUZZ_ASSERT(n < (size_t)(st + cap - s));
		return n;
	}
	FUZZ_ASSERT(allow_static);
	return strlen(s);
}

static void check_clean(const char *s)
{
	for (; s && *s; s++)
		FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void check_reply(const struct helper_reply *r, bool stateful, const char *st, size_t cap)
{
	check_str(r->user, st, cap, false);
	check_str(r->token, st, cap, false);
	check_str(r->ha1, st, cap, false);
	check_str(r->message, st, cap, true);
	check_clean(r->user);
	check_clean(r->token);
	check_clean(r->ha1);
	check_clean(r->message);
	FUZZ_ASSERT(!r->user || r->user[0]);
	if (!stateful)
		FUZZ_ASSERT(r->code == HELPER_OK || r->code == HELPER_ERR || r->code == HELPER_BH);
	if (r->code == HELPER_TT)
		FUZZ_ASSERT(r->token && r->token[0]);
	if (r->code == HELPER_AF || r->code == HELPER_LD)
		FUZZ_ASSERT(r->user);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct helper_reply r, r2;
	const char *why = NULL;

	if (size < 1 || size - 1 > HELPER_LINE_MAX)
		return 0;
	bool stateful = data[0] & 1;
	size_t len = size - 1;
	/* A copy of exactly len bytes: ASan sees any read past the line. */
	char *line = malloc(len ? len : 1);
	char *tight = malloc(len + 8);

	memcpy(line, data + 1, len);
	int rc = helper_parse_reply(line, len, stateful, &r, store, sizeof(store), &why);

	FUZZ_ASSERT(rc == PH_OK || rc == PH_ERROR);
	if (rc == PH_OK) {
		FUZZ_ASSERT(why == NULL);
		check_reply(&r, stateful, store, sizeof(store));
		/* len + 8 bytes of store always suffice, and give the same answer. */
		FUZZ_ASSERT(helper_parse_reply(line, len, stateful, &r2, tight, len + 8, &why) == PH_OK);
		check_reply(&r2, stateful, tight, len + 8);
		FUZZ_ASSERT(r.code == r2.code && same(r.user, r2.user) && same(r.token, r2.token) &&
		            same(r.message, r2.message) && same(r.ha1, r2.ha1));
	} else {
		FUZZ_ASSERT(why && why[0]);
		FUZZ_ASSERT(helper_parse_reply(line, len, stateful, &r2, tight, len + 8, &why) == PH_ERROR);
	}

	/* The request side: every byte encoded or safe; a short buffer gets
	 * a prefix of whole escapes, always terminated. */
	if (len <= 4096) {
		size_t need = helper_url_encode(line, len, NULL, 0);
		char *enc = malloc(need + 1);
		char part[17];

		FUZZ_ASSERT(helper_url_encode(line, len, enc, need + 1) == need);
		FUZZ_ASSERT(strlen(enc) == need && need >= len && need <= 3 * len);
		for (size_t i = 0; i < need; i++)
			FUZZ_ASSERT((unsigned char)enc[i] > 0x20 && (unsigned char)enc[i] < 0x7f &&
			            !strchr("<>\"#{}|\\^~[]`' ", enc[i]));
		helper_url_encode(line, len, part, sizeof(part));
		size_t plen = strlen(part);

		FUZZ_ASSERT(plen < sizeof(part) && memcmp(part, enc, plen) == 0);
		FUZZ_ASSERT(plen == need || sizeof(part) - plen <= 3);
		if (plen > 0)
			FUZZ_ASSERT(part[plen - 1] != '%' && (plen < 2 || part[plen - 2] != '%'));
		free(enc);
	}
	free(tight);
	free(line);
	return 0;
}
