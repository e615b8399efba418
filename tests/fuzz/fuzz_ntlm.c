/*
 * fuzz_ntlm.c - libFuzzer target for ntlm_msg.c: parses the input as a Type 1
 * and as a Type 3 (the bytes a client controls) and aborts when an invariant
 * of ntlm_msg.h breaks: fields inside the message, names converted or
 * refused, and a Type 2 built for any client flags well-formed.
 */
#include "ntlm_msg.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void check_field(const struct ntlm_field *f, const uint8_t *data, size_t size)
{
	if (f->len == 0) {
		FUZZ_ASSERT(f->p == NULL);
		return;
	}
	FUZZ_ASSERT(f->p >= data + 64 && f->p <= data + size && f->len <= (size_t)(data + size - f->p));
}

static void check_name(const struct ntlm_field *f, bool unicode)
{
	char out[256], folded[256], again[256];
	const char *why = NULL;

	if (ntlm_msg_string_utf8(f, unicode, out, sizeof(out), &why) < 0) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(strlen(out) < sizeof(out));
	for (const char *c = out; *c; c++)
		FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
	/* what came out is UTF-8, and upper-casing it twice changes nothing */
	if (ntlm_msg_fold_utf8(out, folded, sizeof(folded)) == 0) {
		FUZZ_ASSERT(ntlm_msg_fold_utf8(folded, again, sizeof(again)) == 0);
		FUZZ_ASSERT(strcmp(folded, again) == 0);
	}
	FUZZ_ASSERT(ntlm_msg_utf8_to_utf16(out, strlen(out), (uint8_t *)folded, sizeof(folded)) >= 0 ||
	            strlen(out) > sizeof(folded) / 4);
}

/* A Type 2 of pinhole's own: header, target name and a target info list
 * of well-formed AV pairs ending exactly at MsvAvEOL. */
static void check_type2(uint32_t client_flags, const uint8_t challenge[8])
{
	static const struct ntlm_names names = { "CORP", "PROXY1", "corp.example", "proxy1.corp.example" };
	uint8_t m[NTLM_MSG_MAX];
	uint32_t flags = 0;
	size_t n = ntlm_msg_build_type2(client_flags, challenge, 0x01d9000000000000ULL, &names, m, sizeof(m), &flags);
	size_t tn_len, tn_off, ti_len, ti_off, i = 0;
	bool eol = false;

	FUZZ_ASSERT(n >= 56 && ntlm_msg_type(m, n) == 2);
	FUZZ_ASSERT(rd32(m + 20) == flags && memcmp(m + 24, challenge, 8) == 0);
	FUZZ_ASSERT(flags & NTLM_NEGOTIATE_TARGET_INFO);
	FUZZ_ASSERT(!!(flags & NTLM_NEGOTIATE_UNICODE) != !!(flags & NTLM_NEGOTIATE_OEM));
	tn_len = rd16(m + 12);
	tn_off = rd32(m + 16);
	ti_len = rd16(m + 40);
	ti_off = rd32(m + 44);
	FUZZ_ASSERT(tn_off >= 56 && tn_off + tn_len <= n);
	FUZZ_ASSERT(!!tn_len == !!(client_flags & NTLM_REQUEST_TARGET));
	FUZZ_ASSERT(ti_off >= 56 && ti_off + ti_len == n);
	while (i + 4 <= ti_len) {
		uint16_t id = rd16(m + ti_off + i), len = rd16(m + ti_off + i + 2);

		FUZZ_ASSERT(i + 4 + len <= ti_len);
		i += 4 + (size_t)len;
		if (id == NTLM_AV_EOL) {
			FUZZ_ASSERT(len == 0);
			eol = true;
			break;
		}
	}
	FUZZ_ASSERT(eol && i == ti_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[8];
	struct ntlm_type1 t1;
	struct ntlm_type3 t3;
	const char *why = NULL;
	uint8_t ident[2 * NTLM_MSG_MAX];
	int type = ntlm_msg_type(data, size);

	FUZZ_ASSERT(type >= 0 && type <= 3);
	if (ntlm_msg_parse_type1(data, size, &t1, &why) == 0) {
		FUZZ_ASSERT(type == 1 && size <= NTLM_MSG_MAX && (size == 16 || size >= 32));
		FUZZ_ASSERT(t1.flags == rd32(data + 12));
	} else {
		FUZZ_ASSERT(why != NULL);
	}
	why = NULL;
	if (ntlm_msg_parse_type3(data, size, &t3, &why) == 0) {
		FUZZ_ASSERT(type == 3 && size >= 64 && size <= NTLM_MSG_MAX);
		check_field(&t3.lm, data, size);
		check_field(&t3.nt, data, size);
		check_field(&t3.domain, data, size);
		check_field(&t3.user, data, size);
		check_field(&t3.workstation, data, size);
		check_field(&t3.session_key, data, size);
		FUZZ_ASSERT(t3.lm.len == 0 || t3.lm.len == 1 || t3.lm.len == 24);
		FUZZ_ASSERT(t3.nt.len == 0 || t3.nt.len == 24 || t3.nt.len >= 44);
		if (t3.unicode)
			FUZZ_ASSERT(t3.user.len % 2 == 0 && t3.domain.len % 2 == 0);
		check_name(&t3.user, t3.unicode);
		check_name(&t3.domain, t3.unicode);
		check_name(&t3.workstation, t3.unicode);
		FUZZ_ASSERT(ntlm_msg_v2_identity(&t3, ident, sizeof(ident)) ==
		            (t3.unicode ? 1 : 2) * (t3.user.len + t3.domain.len));
	} else {
		FUZZ_ASSERT(why != NULL);
	}
	check_type2(size >= 16 ? rd32(data + 12) : 0, size >= 32 ? data + 24 : zero);
	return 0;
}
