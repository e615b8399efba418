/*
 * fuzz_negotiate.c - libFuzzer target for negotiate_ticket_sname(), the one
 * parser in auth/negotiate.c that reads client bytes itself (everything else
 * goes to GSSAPI): aborts when a name comes back that is not what
 * negotiate.h promises, or when the answer depends on the room given.
 */
#include "negotiate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[512], again[512];
	int r, r2;
	size_t at = 0;

	r = negotiate_ticket_sname(data, size, out, sizeof(out));
	FUZZ_ASSERT(r >= -1 && r < (int)sizeof(out));
	if (r < 0)
		return 0;
	/* A printable name, with its realm after an unescaped '@'. */
	FUZZ_ASSERT(strlen(out) == (size_t)r);
	for (int i = 0; i < r; i++) {
		FUZZ_ASSERT(out[i] >= 0x20 && out[i] < 0x7f);
		if (out[i] == '\\')
			i++;
		else if (out[i] == '@')
			at = (size_t)i;
	}
	FUZZ_ASSERT(at > 0 && at + 1 < (size_t)r);
	/* Exactly the room it needs is enough; one byte less is not. */
	r2 = negotiate_ticket_sname(data, size, again, (size_t)r + 1);
	FUZZ_ASSERT(r2 == r && strcmp(again, out) == 0);
	FUZZ_ASSERT(negotiate_ticket_sname(data, size, again, (size_t)r) == -1);
	/* The outermost length covers the whole token: no prefix parses. */
	FUZZ_ASSERT(negotiate_ticket_sname(data, size - 1, again, sizeof(again)) == -1);
	return 0;
}
