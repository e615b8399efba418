/*
 * fuzz_basic.c - libFuzzer target for Basic credentials: the strict base64
 * of src/base64.c (base64_decode, base64_encode) and the
 * "user-id:password" split of auth/basic.c (basic_parse).  The first input
 * byte picks the function and the output buffer's size; the rest is what a
 * client sent (or, for the encoder, any bytes).  Beyond the sanitizers:
 * nothing written past cap, decode(encode(x)) == x, only the canonical
 * encoding of some bytes decodes (so two spellings never pass for one
 * credential), and the split gives back the user-id and password encoded.
 */
#include "basic.h"
#include "common.h"
#include "scheme.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* cap bytes of heap, so that ASan sees a write past them. */
static unsigned char *out_buf(size_t cap)
{
	return malloc(cap ? cap : 1);
}

/* Any text: what decodes is the canonical encoding of what it decoded to
 * (trailing spaces and tabs aside), and a smaller buffer is refused. */
static void fuzz_decode(const char *in, size_t len, size_t cap)
{
	unsigned char *out = out_buf(cap);
	long n = base64_decode(in, len, out, cap);
	size_t trimmed = len;
	char *again;

	while (trimmed > 0 && (in[trimmed - 1] == ' ' || in[trimmed - 1] == '\t'))
		trimmed--;
	FUZZ_ASSERT(n >= -1);
	if (n < 0) {
		free(out);
		return;
	}
	FUZZ_ASSERT((size_t)n <= cap);
	FUZZ_ASSERT(encoded_len((size_t)n) == trimmed);
	again = malloc(trimmed + 1);
	FUZZ_ASSERT(base64_encode(out, (size_t)n, again, trimmed + 1) == trimmed);
	FUZZ_ASSERT(memcmp(again, in, trimmed) == 0 && again[trimmed] == '\0');
	free(again);
	if (n > 0) {
		unsigned char *small = out_buf((size_t)n - 1);

		FUZZ_ASSERT(base64_decode(in, len, small, (size_t)n - 1) == -1);
		free(small);
	}
	free(out);
}

/* Any bytes: the encoding is base64 text of the right length, refused
 * (0) when cap cannot hold it and its NUL, and decodes back. */
static void fuzz_encode(const unsigned char *in, size_t len, size_t cap)
{
	size_t want = encoded_len(len);
	char *out = (char *)out_buf(cap);
	size_t n = base64_encode(in, len, out, cap);
	unsigned char *back;

	if (cap < want + 1) {
		FUZZ_ASSERT(n == 0);
		free(out);
		return;
	}
	FUZZ_ASSERT(n == want && out[n] == '\0');
	for (size_t i = 0; i < n; i++) {
		if (i + 2 >= n && out[i] == '=')
			continue;
		FUZZ_ASSERT(b64_char(out[i]));
	}
	back = out_buf(len);
	FUZZ_ASSERT(base64_decode(out, n, back, len) == (long)len);
	FUZZ_ASSERT(memcmp(back, in, len) == 0);
	free(back);
	free(out);
}

/* A Proxy-Authorization value: what basic_parse accepts is base64 of
 * "user-id:password" with a user-id free of colons and NULs. */
static void fuzz_parse(const char *in, size_t len)
{
	static unsigned char dec[BASIC_MAX_CRED / 4 * 3], ref[BASIC_MAX_CRED];
	size_t user_len = (size_t)-1;
	long n = basic_parse(in, len, dec, sizeof(dec), &user_len);
	long m = len <= BASIC_MAX_CRED ? base64_decode(in, len, ref, sizeof(ref)) : -1;

	if (n < 0) {
		/* refused: too long, not base64, or not user-id:password */
		if (m >= 0) {
			const unsigned char *colon = memchr(ref, ':', (size_t)m);

			FUZZ_ASSERT(!colon || memchr(ref, '\0', (size_t)(colon - ref)));
		}
		return;
	}
	FUZZ_ASSERT(len <= BASIC_MAX_CRED && n == m && memcmp(dec, ref, (size_t)n) == 0);
	FUZZ_ASSERT(user_len < (size_t)n && dec[user_len] == ':');
	FUZZ_ASSERT(!memchr(dec, ':', user_len) && !memchr(dec, '\0', user_len));
}

/* Any user-id and password (split at the input's first 0xff): encoded the
 * way a browser does, the split gives them back (a colon in the user-id
 * ends it early, as RFC 7617 says), or refuses a NUL in the user-id. */
static void fuzz_roundtrip(const unsigned char *in, size_t len)
{
	static unsigned char raw[BASIC_MAX_CRED], dec[BASIC_MAX_CRED / 4 * 3];
	static char b64[BASIC_MAX_CRED + 8];
	const unsigned char *sep = memchr(in, 0xff, len);
	size_t ulen = sep ? (size_t)(sep - in) : len / 2, plen = len - ulen - (sep ? 1 : 0);
	const unsigned char *pw = in + ulen + (sep ? 1 : 0);
	const unsigned char *colon;
	size_t user_len = (size_t)-1, n;
	long got;

	if (ulen + 1 + plen > BASIC_MAX_CRED / 4 * 3)
		return;
	memcpy(raw, in, ulen);
	raw[ulen] = ':';
	memcpy(raw + ulen + 1, pw, plen);
	n = base64_encode(raw, ulen + 1 + plen, b64, sizeof(b64));
	FUZZ_ASSERT(n > 0 && n <= BASIC_MAX_CRED);
	got = basic_parse(b64, n, dec, sizeof(dec), &user_len);
	/* The user-id ends at its first colon; a NUL before it is refused. */
	colon = memchr(raw, ':', ulen + 1);
	if (memchr(raw, '\0', (size_t)(colon - raw))) {
		FUZZ_ASSERT(got == -1);
		return;
	}
	FUZZ_ASSERT(got == (long)(ulen + 1 + plen) && user_len == (size_t)(colon - raw));
	FUZZ_ASSERT(memcmp(dec, raw, ulen + 1 + plen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap;
	uint8_t sel;

	if (size < 2)
		return 0;
	sel = data[0];
	/* the output buffer: any small size, or one that fits */
	cap = (sel & 0x80) ? data[1] : (size - 2) * 3 / 4 + 8;
	data += 2;
	size -= 2;
	switch (sel % 4) {
	case 0:
		fuzz_decode((const char *)data, size, cap);
		break;
	case 1:
		fuzz_encode(data, size, (sel & 0x80) ? cap : encoded_len(size) + 1);
		break;
	case 2:
		fuzz_parse((const char *)data, size);
		break;
	default:
		fuzz_roundtrip(data, size);
		break;
	}
	return 0;
}
