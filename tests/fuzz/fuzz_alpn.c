/*
 * fuzz_alpn.c - libFuzzer target for the ALPN header of a CONNECT (RFC
 * 7639; http_alpn_parse, http_alpn_names), which decides the webrtc
 * matcher.  The input is one header value.  Beyond the sanitizers: an
 * accepted value gives 1 to HTTP_ALPN_MAX ids (or none for an empty list)
 * of 1 to 255 octets; writing them back, percent-encoded where RFC 7639
 * asks, parses to the same ids; http_alpn_names finds each of them in a
 * header with that value.
 */
#include "common.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$&'*+-.^_`|~", c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *value = (const char *)data;
	struct http_alpn a, again;
	const char *why = NULL;
	char *out;
	size_t n = 0;

	if (http_alpn_parse(value, size, &a, &why) != PH_OK) {
		FUZZ_ASSERT(why != NULL);
		return 0;
	}
	FUZZ_ASSERT(a.n <= HTTP_ALPN_MAX);
	out = malloc(HTTP_ALPN_MAX * (255 * 3 + 2) + 1);
	for (size_t i = 0; i < a.n; i++) {
		FUZZ_ASSERT(a.ids[i].len >= 1 && a.ids[i].len <= 255);
		if (i)
			out[n++] = ',';
		for (size_t k = 0; k < a.ids[i].len; k++) {
			unsigned char c = a.ids[i].id[k];

			if (tchar(c))
				out[n++] = (char)c;
			else
				n += (size_t)sprintf(out + n, "%%%02X", c);
		}
	}
	FUZZ_ASSERT(http_alpn_parse(out, n, &again, &why) == PH_OK);
	FUZZ_ASSERT(again.n == a.n);
	for (size_t i = 0; i < a.n; i++) {
		FUZZ_ASSERT(again.ids[i].len == a.ids[i].len);
		FUZZ_ASSERT(memcmp(again.ids[i].id, a.ids[i].id, a.ids[i].len) == 0);
	}
	/* An id without NUL is a C string http_alpn_names can look for. */
	struct http_header h = { .name = "ALPN", .name_len = 4, .value = value, .value_len = size };

	for (size_t i = 0; i < a.n; i++) {
		char id[256];

		if (memchr(a.ids[i].id, 0, a.ids[i].len))
			continue;
		memcpy(id, a.ids[i].id, a.ids[i].len);
		id[a.ids[i].len] = '\0';
		FUZZ_ASSERT(http_alpn_names(&h, 1, id));
	}
	free(out);
	return 0;
}
