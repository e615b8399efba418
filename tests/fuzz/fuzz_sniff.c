/*
 * fuzz_sniff.c - libFuzzer target for sniff.c: classifies the input as the
 * first bytes of a tunnel and aborts when an invariant of sniff.h breaks
 * (terminated, well-formed sni and alpn; fields set only for their kind; a
 * decided answer never changing with more bytes; a verdict within
 * SNIFF_MAX_LEN bytes).
 */
#include "sniff.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool sni_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static void check_result(const uint8_t *data, size_t size, const struct sniff_result *r, enum sniff_kind k)
{
	size_t n;

	FUZZ_ASSERT(r->kind == k);
	FUZZ_ASSERT(k >= SNIFF_NEED_MORE && k <= SNIFF_OTHER);
	FUZZ_ASSERT(memchr(r->sni, '\0', sizeof(r->sni)) != NULL);
	FUZZ_ASSERT(memchr(r->alpn, '\0', sizeof(r->alpn)) != NULL);
	if (size >= SNIFF_MAX_LEN)
		FUZZ_ASSERT(k != SNIFF_NEED_MORE);
	if (k != SNIFF_TLS) {
		FUZZ_ASSERT(r->sni[0] == '\0' && r->alpn[0] == '\0');
		FUZZ_ASSERT(r->record_version == 0 && r->client_version == 0 && !r->has_supported_versions_13);
	}
	if (k != SNIFF_STUN)
		FUZZ_ASSERT(r->stun_type == 0);
	if (k == SNIFF_OTHER && data[0] == 0x16)
		FUZZ_ASSERT(r->why != NULL && r->why[0] != '\0');
	if (k != SNIFF_OTHER)
		FUZZ_ASSERT(r->why == NULL);

	switch (k) {
	case SNIFF_TLS:
		FUZZ_ASSERT(size >= 5 + 4 + 41 && data[0] == 0x16);
		FUZZ_ASSERT(r->record_version >= 0x0301 && r->record_version <= 0x0304);
		FUZZ_ASSERT(r->client_version >> 8 == 3);
		n = strlen(r->sni);
		FUZZ_ASSERT(n <= 253);
		if (n > 0)
			FUZZ_ASSERT(r->sni[0] != '.' && r->sni[n - 1] != '.' && strstr(r->sni, "..") == NULL);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(sni_char(r->sni[i]));
		n = strlen(r->alpn);
		if (n > 0)
			FUZZ_ASSERT(r->alpn[0] != ',' && r->alpn[n - 1] != ',' && strstr(r->alpn, ",,") == NULL);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(r->alpn[i] > ' ' && r->alpn[i] <= '~');
		break;
	case SNIFF_STUN:
		FUZZ_ASSERT(size >= 20 && (data[0] & 0xc0) == 0 && data[3] % 4 == 0);
		FUZZ_ASSERT(r->stun_type == (data[0] << 8 | data[1]));
		FUZZ_ASSERT(memcmp(data + 4, "\x21\x12\xa4\x42", 4) == 0);
		break;
	case SNIFF_HTTP:
		FUZZ_ASSERT(size >= 4 && data[0] >= 'C' && data[0] <= 'P');
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sniff_result r, r2;
	enum sniff_kind k, kk;
	size_t cut = size ? (size_t)data[size - 1] * 131 % size : 0;

	k = sniff(data, size, &r);
	check_result(data, size, &r, k);

	/* A shorter prefix is undecided or decided the same way. */
	kk = sniff(data, cut, &r2);
	check_result(data, cut, &r2, kk);
	FUZZ_ASSERT(kk == SNIFF_NEED_MORE || kk == k);
	if (kk == k && k == SNIFF_TLS)
		FUZZ_ASSERT(strcmp(r.sni, r2.sni) == 0 && strcmp(r.alpn, r2.alpn) == 0 &&
		            r.client_version == r2.client_version &&
		            r.has_supported_versions_13 == r2.has_supported_versions_13);
	if (k == SNIFF_NEED_MORE)
		FUZZ_ASSERT(kk == SNIFF_NEED_MORE);

	/* A hello in one record is decided by that record, one byte less is
	 * not enough. */
	if (k == SNIFF_TLS) {
		size_t rec = 5 + ((size_t)data[3] << 8 | data[4]);

		kk = sniff(data, rec, &r2);
		FUZZ_ASSERT(kk == SNIFF_TLS || kk == SNIFF_NEED_MORE);
		if (kk == SNIFF_TLS)
			FUZZ_ASSERT(strcmp(r.sni, r2.sni) == 0 && strcmp(r.alpn, r2.alpn) == 0);
		FUZZ_ASSERT(sniff(data, rec - 1, &r2) == SNIFF_NEED_MORE);
	}
	if (k == SNIFF_STUN) {
		FUZZ_ASSERT(sniff(data, 20, &r2) == SNIFF_STUN);
		FUZZ_ASSERT(sniff(data, 19, &r2) == SNIFF_NEED_MORE);
	}
	return 0;
}
