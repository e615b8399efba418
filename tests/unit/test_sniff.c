/*
 * test_sniff.c - unit tests for sniff.c: ClientHellos captured on loopback
 * from openssl s_client (TLS 1.3 with SNI and ALPN, TLS 1.2 without SNI) and
 * curl 7.88, taken whole, at every truncation, spread over several records
 * and with each length field off by one; hellos built field by field for the
 * refusals; STUN and TURN requests built per RFC 8489 / 8656; HTTP starts;
 * garbage.
 */
#include "sniff.h"
#include "unit.h"

#include <stdbool.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* B() for the unsigned bytes sniff() takes. */
#define U(s) (const unsigned char *)(s), sizeof(s) - 1

/* ---- captured ClientHellos ---- */

/* openssl s_client -connect 127.0.0.1:PORT -servername www.example.test
 * -alpn h2,http/1.1 (OpenSSL 3.0.19) */
static const unsigned char hello_openssl[340] = {
	0x16, 0x03, 0x01, 0x01, 0x4f, 0x01, 0x00, 0x01, 0x4b, 0x03, 0x03, 0xb4, 0x48, 0xfe, 0x0e, 0xc0, 0x63, 0xc4,
	0xe0, 0x70, 0xa9, 0xc8, 0x26, 0xcf, 0xdb, 0x3e, 0x95, 0xe9, 0x93, 0xaf, 0xde, 0x55, 0x99, 0x83, 0xf6, 0x6d,
	0xea, 0xf2, 0x6b, 0x84, 0x3b, 0xb7, 0x18, 0x20, 0x9a, 0x7f, 0xaf, 0x26, 0x7a, 0x97, 0x06, 0xe9, 0xf7, 0xe7,
	0x69, 0x08, 0xc8, 0x43, 0x71, 0x8c, 0x71, 0x80, 0xae, 0x85, 0x80, 0xc6, 0x15, 0xbf, 0x92, 0xf9, 0x42, 0x16,
	0x01, 0xb5, 0x34, 0xaf, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f,
	0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33,
	0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc4,
	0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00, 0x10, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00,
	0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01,
	0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32,
	0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00,
	0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08,
	0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03,
	0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03,
	0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d,
	0x00, 0x20, 0xd5, 0x8c, 0xf4, 0x47, 0x91, 0x22, 0xff, 0xda, 0x4b, 0x1a, 0x08, 0xdc, 0x38, 0xe0, 0xff, 0x56,
	0xe2, 0x4f, 0xad, 0xce, 0x59, 0x4e, 0xb2, 0x22, 0x9a, 0xb9, 0x62, 0xfe, 0x7c, 0x97, 0x8c, 0x6c,
};

/* curl https://www.example.test:PORT/ resolved to 127.0.0.1 (curl 7.88.1,
 * OpenSSL 3.0.19): ALPN h2,http/1.1 and a padding extension to 517 bytes */
static const unsigned char hello_curl[517] = {
	0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xfe, 0x11, 0xbc, 0xcd, 0x88, 0x77, 0x54,
	0x83, 0x4e, 0x5c, 0xaf, 0x14, 0xb3, 0xac, 0xbf, 0xa1, 0x7c, 0xf7, 0x7e, 0xd6, 0x31, 0x1e, 0x12, 0x55, 0xec,
	0x9a, 0xf6, 0x04, 0xe0, 0xe0, 0xe4, 0x47, 0x20, 0xe2, 0xf0, 0x5f, 0xb2, 0x04, 0x40, 0xd2, 0x9f, 0x20, 0x34,
	0x01, 0x16, 0xc3, 0x8b, 0x07, 0xf1, 0xb5, 0xac, 0x05, 0xfa, 0x5d, 0xfd, 0x1c, 0xbe, 0xba, 0xaa, 0x78, 0xc7,
	0xac, 0x6f, 0xda, 0xa2, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f,
	0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33,
	0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x01, 0x75,
	0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00, 0x10, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00,
	0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01,
	0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74,
	0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00,
	0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08,
	0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03,
	0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03,
	0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d,
	0x00, 0x20, 0xc6, 0xb8, 0xd0, 0x9f, 0x03, 0x1a, 0xdd, 0x07, 0x60, 0xea, 0x5e, 0x62, 0x59, 0xa6, 0xbc, 0xac,
	0x11, 0x5a, 0x64, 0x52, 0x75, 0x58, 0xbf, 0x2a, 0x71, 0x4b, 0x9c, 0xdf, 0x3c, 0xde, 0xbc, 0x22, 0x00, 0x15,
	0x00, 0xad, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* openssl s_client -connect 127.0.0.1:PORT -tls1_2 -noservername */
static const unsigned char hello_openssl_tls12[188] = {
	0x16, 0x03, 0x01, 0x00, 0xb7, 0x01, 0x00, 0x00, 0xb3, 0x03, 0x03, 0xdb, 0xe1, 0xee, 0xd0, 0xc8, 0x26, 0x21,
	0xc0, 0x9d, 0xeb, 0x29, 0x9f, 0x52, 0x4d, 0xbd, 0x01, 0xb8, 0x72, 0x9a, 0x76, 0x55, 0x17, 0xad, 0x1b, 0xe1,
	0x01, 0x88, 0xae, 0x53, 0x40, 0x00, 0xa1, 0x00, 0x00, 0x38, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9,
	0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23,
	0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d,
	0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0x52, 0x00, 0x0b,
	0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e,
	0x00, 0x19, 0x00, 0x18, 0x00, 0x23, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d,
	0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a,
	0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01,
	0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02,
};

/* ---- helpers ---- */

/* What must hold whatever the answer. */
static void check_invariants(const unsigned char *in, size_t len, const struct sniff_result *r)
{
	CHECK(memchr(r->sni, '\0', sizeof(r->sni)) != NULL);
	CHECK(memchr(r->alpn, '\0', sizeof(r->alpn)) != NULL);
	if (r->kind != SNIFF_TLS) {
		CHECK(r->sni[0] == '\0' && r->alpn[0] == '\0');
		CHECK(r->record_version == 0 && r->client_version == 0 && !r->has_supported_versions_13);
	}
	if (r->kind == SNIFF_OTHER && len > 0 && in[0] == 0x16)
		CHECK(r->why != NULL);
	if (len >= SNIFF_MAX_LEN)
		CHECK(r->kind != SNIFF_NEED_MORE);
}

static enum sniff_kind sniff_checked(const unsigned char *in, size_t len, struct sniff_result *r)
{
	enum sniff_kind k = sniff(in, len, r);

	CHECK_INT(r->kind, k);
	check_invariants(in, len, r);
	return k;
}

/* in[0..len) is exactly one message of kind want: every shorter prefix is
 * still incomplete. */
static void check_whole(const unsigned char *in, size_t len, enum sniff_kind want)
{
	struct sniff_result r;
	int before = unit_failures;

	CHECK_INT(sniff_checked(in, len, &r), want);
	for (size_t k = 0; k < len && unit_failures == before; k++)
		CHECK_INT(sniff_checked(in, k, &r), SNIFF_NEED_MORE);
	if (unit_failures != before)
		fprintf(stderr, "  (%zu bytes, want %s)\n", len, sniff_kind_name(want));
}

/* in[0..len) is refused: OTHER whose why names phrase (NULL: any or none),
 * and no prefix is ever taken for TLS or anything else. */
static void check_other(const unsigned char *in, size_t len, const char *phrase)
{
	struct sniff_result r;
	int before = unit_failures;

	CHECK_INT(sniff_checked(in, len, &r), SNIFF_OTHER);
	if (phrase)
		CHECK_WHY(r.why, phrase);
	for (size_t k = 0; k < len && unit_failures == before; k++) {
		enum sniff_kind kk = sniff_checked(in, k, &r);

		CHECK(kk == SNIFF_NEED_MORE || kk == SNIFF_OTHER);
	}
	if (unit_failures != before)
		fprintf(stderr, "  (refused input of %zu bytes, first byte 0x%02x)\n", len, len ? in[0] : 0);
}

static void check_hello(const unsigned char *in, size_t len, unsigned record_version, unsigned client_version,
                        bool has13, const char *sni, const char *alpn)
{
	struct sniff_result r;

	check_whole(in, len, SNIFF_TLS);
	sniff(in, len, &r);
	CHECK_INT(r.record_version, record_version);
	CHECK_INT(r.client_version, client_version);
	CHECK_INT(r.has_supported_versions_13, has13);
	CHECK_STR(r.sni, sni);
	CHECK_STR(r.alpn, alpn);
	CHECK(r.why == NULL);
}

/* A byte buffer to build messages in, with length fields filled in last. */
struct bb {
	unsigned char b[SNIFF_MAX_LEN + 4096];
	size_t n;
};

static void put(struct bb *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_num(struct bb *b, size_t width, uint32_t v)
{
	for (size_t i = width; i-- > 0;)
		b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static size_t open_len(struct bb *b, size_t width)
{
	size_t at = b->n;

	put_num(b, width, 0);
	return at;
}

static void close_len(struct bb *b, size_t at, size_t width)
{
	size_t v = b->n - at - width;

	for (size_t i = 0; i < width; i++)
		b->b[at + i] = (unsigned char)(v >> (8 * (width - 1 - i)));
}

static void put_ext(struct bb *b, unsigned type, const void *data, size_t n)
{
	put_num(b, 2, type);
	put_num(b, 2, (uint32_t)n);
	put(b, data, n);
}

/* server_name with one host_name entry. */
static void put_sni(struct bb *b, const char *name, size_t n)
{
	size_t ext, list;

	put_num(b, 2, 0);
	ext = open_len(b, 2);
	list = open_len(b, 2);
	put_num(b, 1, 0);
	put_num(b, 2, (uint32_t)n);
	put(b, name, n);
	close_len(b, list, 2);
	close_len(b, ext, 2);
}

/* ALPN from names separated by '|' (so that names may hold commas). */
static void put_alpn(struct bb *b, const char *names)
{
	size_t ext, list;

	put_num(b, 2, 16);
	ext = open_len(b, 2);
	list = open_len(b, 2);
	while (*names) {
		size_t n = strcspn(names, "|");

		put_num(b, 1, (uint32_t)n);
		put(b, names, n);
		names += n;
		if (*names == '|')
			names++;
	}
	close_len(b, list, 2);
	close_len(b, ext, 2);
}

static const unsigned char suites[] = { 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f };

/* A ClientHello in one record: record version 0x0301, legacy_version
 * 0x0303, a session id of sid bytes, three suites, null compression, and
 * the extensions exts[0..n) (no extensions block at all when exts is NULL). */
static void build_hello(struct bb *b, size_t sid, const unsigned char *exts, size_t n)
{
	size_t rec, hs, blk;

	b->n = 0;
	put(b, "\x16\x03\x01", 3);
	rec = open_len(b, 2);
	put_num(b, 1, 1);
	hs = open_len(b, 3);
	put_num(b, 2, 0x0303);
	memset(b->b + b->n, 0x5a, 32);
	b->n += 32;
	put_num(b, 1, (uint32_t)sid);
	memset(b->b + b->n, 0xa5, sid);
	b->n += sid;
	put_num(b, 2, sizeof(suites));
	put(b, suites, sizeof(suites));
	put(b, "\x01\x00", 2);
	if (exts) {
		blk = open_len(b, 2);
		put(b, exts, n);
		close_len(b, blk, 2);
	}
	close_len(b, hs, 3);
	close_len(b, rec, 2);
}

/* Re-frames the handshake message of a one-record hello into records that
 * end at the given cuts (offsets into the message, increasing). */
static size_t split_records(const unsigned char *in, size_t len, const size_t *cuts, size_t ncuts, unsigned char *out)
{
	const unsigned char *msg = in + 5;
	size_t mlen = len - 5, from = 0, n = 0;

	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : mlen;

		out[n++] = 0x16;
		out[n++] = in[1];
		out[n++] = in[2];
		out[n++] = (unsigned char)((to - from) >> 8);
		out[n++] = (unsigned char)(to - from);
		memcpy(out + n, msg + from, to - from);
		n += to - from;
		from = to;
	}
	return n;
}

/* ---- TLS: captured hellos ---- */

static void test_captured(void)
{
	unsigned char buf[1024];

	check_hello(hello_openssl, sizeof(hello_openssl), 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");
	check_hello(hello_curl, sizeof(hello_curl), 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");
	check_hello(hello_openssl_tls12, sizeof(hello_openssl_tls12), 0x0301, 0x0303, false, "", "");

	/* What follows the hello's last record is not the sniffer's business:
	 * a middlebox-compatibility ChangeCipherSpec, early data. */
	memcpy(buf, hello_curl, sizeof(hello_curl));
	memcpy(buf + sizeof(hello_curl), "\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x20", 11);
	CHECK_INT(sniff(buf, sizeof(hello_curl) + 11, &(struct sniff_result){ 0 }), SNIFF_TLS);
	memcpy(buf + sizeof(hello_curl), "GET / HTTP/1.1\r\n", 16);
	CHECK_INT(sniff(buf, sizeof(hello_curl) + 16, &(struct sniff_result){ 0 }), SNIFF_TLS);

	/* every record version from TLS 1.0 to 1.3 */
	for (unsigned v = 1; v <= 4; v++) {
		memcpy(buf, hello_openssl, sizeof(hello_openssl));
		buf[2] = (unsigned char)v;
		check_hello(buf, sizeof(hello_openssl), 0x0300 | v, 0x0303, true, "www.example.test", "h2,http/1.1");
	}
}

/* A length field of a captured hello: offset and width in bytes. */
struct field {
	size_t off, width;
	const char *name;
};

static uint32_t get_be(const unsigned char *p, size_t width)
{
	uint32_t v = 0;

	for (size_t i = 0; i < width; i++)
		v = v << 8 | p[i];
	return v;
}

/* Finds every length field of a well-formed one-record hello. */
static size_t hello_fields(const unsigned char *h, size_t len, struct field *f)
{
	size_t n = 0, p = 9 + 2 + 32;

	f[n++] = (struct field){ 3, 2, "record length" };
	f[n++] = (struct field){ 6, 3, "handshake length" };
	f[n++] = (struct field){ p, 1, "session id length" };
	p += 1 + h[p];
	f[n++] = (struct field){ p, 2, "cipher suites length" };
	p += 2 + get_be(h + p, 2);
	f[n++] = (struct field){ p, 1, "compression methods length" };
	p += 1 + h[p];
	if (p == len)
		return n;
	f[n++] = (struct field){ p, 2, "extensions length" };
	p += 2;
	while (p < len) {
		uint32_t type = get_be(h + p, 2), elen = get_be(h + p + 2, 2);

		f[n++] = (struct field){ p + 2, 2, "extension length" };
		if (type == 0) {
			f[n++] = (struct field){ p + 4, 2, "server_name list length" };
			f[n++] = (struct field){ p + 7, 2, "host name length" };
		} else if (type == 16) {
			f[n++] = (struct field){ p + 4, 2, "ALPN list length" };
			f[n++] = (struct field){ p + 6, 1, "ALPN name length" };
		} else if (type == 43) {
			f[n++] = (struct field){ p + 4, 1, "supported_versions length" };
		}
		p += 4 + elen;
	}
	return n;
}

/* Each length field one more and one less: never TLS, at any truncation.
 * Only a record one byte short may still look like a valid beginning (its
 * last byte is then read as the next record's type). */
static void damage_lengths(const unsigned char *in, size_t len)
{
	struct field f[64];
	size_t nf = hello_fields(in, len, f);
	unsigned char buf[1024];

	for (size_t i = 0; i < nf; i++) {
		for (int delta = -1; delta <= 1; delta += 2) {
			uint32_t v = get_be(in + f[i].off, f[i].width);
			struct sniff_result r;
			int before = unit_failures;

			if ((delta < 0 && v == 0) || (delta > 0 && v + 1 >= (UINT32_C(1) << (8 * f[i].width))))
				continue;
			v = (uint32_t)((int64_t)v + delta);
			memcpy(buf, in, len);
			for (size_t k = 0; k < f[i].width; k++)
				buf[f[i].off + k] = (unsigned char)(v >> (8 * (f[i].width - 1 - k)));
			if (i == 0 && delta < 0) {
				CHECK(sniff_checked(buf, len, &r) != SNIFF_TLS);
				for (size_t k = 0; k < len; k++)
					CHECK(sniff_checked(buf, k, &r) != SNIFF_TLS);
			} else {
				check_other(buf, len, NULL);
			}
			if (unit_failures != before)
				fprintf(stderr, "  %s (offset %zu) %+d\n", f[i].name, f[i].off, delta);
		}
	}
}

static void test_captured_damaged(void)
{
	struct field f[64];

	CHECK_INT(hello_fields(hello_openssl, sizeof(hello_openssl), f), 6 + 11 + 2 + 2 + 1);
	damage_lengths(hello_openssl, sizeof(hello_openssl));
	damage_lengths(hello_curl, sizeof(hello_curl));
	damage_lengths(hello_openssl_tls12, sizeof(hello_openssl_tls12));
}

/* Every byte of a captured hello replaced by a few values: whatever the
 * answer, the invariants hold and no read strays (the sanitizers watch). */
static void test_captured_mutated(void)
{
	static const unsigned char vals[] = { 0x00, 0x01, 0x16, 0x7f, 0xff };
	unsigned char buf[1024];
	struct sniff_result r;

	for (size_t i = 0; i < sizeof(hello_curl); i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			memcpy(buf, hello_curl, sizeof(hello_curl));
			buf[i] = vals[v];
			sniff_checked(buf, sizeof(hello_curl), &r);
		}
	}
}

/* ---- TLS: records ---- */

static void test_split(void)
{
	static unsigned char buf[SNIFF_MAX_LEN];
	const unsigned char *h = hello_curl;
	size_t mlen = sizeof(hello_curl) - 5, n, cuts[600];
	struct sniff_result r;

	/* two records, cut anywhere, the handshake header included */
	for (size_t cut = 1; cut < mlen; cut++) {
		n = split_records(h, sizeof(hello_curl), &cut, 1, buf);
		CHECK_INT(n, sizeof(hello_curl) + 5);
		if (cut < 8 || cut % 97 == 0 || cut > mlen - 3) {
			check_hello(buf, n, 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");
		} else {
			CHECK_INT(sniff(buf, n, &r), SNIFF_TLS);
			CHECK_STR(r.sni, "www.example.test");
		}
	}

	/* one byte per record */
	for (size_t i = 0; i < mlen - 1; i++)
		cuts[i] = i + 1;
	n = split_records(h, sizeof(hello_curl), cuts, mlen - 1, buf);
	CHECK_INT(n, mlen * 6);
	check_hello(buf, n, 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");

	/* three records, the middle one split inside the server_name */
	cuts[0] = 100;
	cuts[1] = 300;
	n = split_records(hello_openssl, sizeof(hello_openssl), cuts, 2, buf);
	check_hello(buf, n, 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");

	/* a later record of another type, or of another version */
	cuts[0] = 200;
	n = split_records(h, sizeof(hello_curl), cuts, 1, buf);
	buf[205] = 0x17;
	check_other(buf, n, "another type");
	buf[205] = 0x15;
	check_other(buf, n, "another type");
	buf[205] = 0x16;
	buf[207] = 0x00;
	check_other(buf, n, "0x0301-0x0304");
	buf[207] = 0x03;
	check_hello(buf, n, 0x0301, 0x0303, true, "www.example.test", "h2,http/1.1");

	/* the last record one byte too long or too short */
	buf[209]++;
	check_other(buf, n + 1, "continues after the ClientHello");
	buf[209] -= 2;
	check_other(buf, n, "another type");
	buf[n - 1] = 0x16;
	CHECK_INT(sniff(buf, n, &r), SNIFF_NEED_MORE);

	/* an empty record between two halves */
	n = split_records(h, sizeof(hello_curl), cuts, 1, buf);
	memmove(buf + 210, buf + 205, n - 205);
	memcpy(buf + 205, "\x16\x03\x01\x00\x00", 5);
	check_other(buf, n + 5, "empty TLS handshake record");
}

/* A hello with a post-quantum key share (X25519MLKEM768, 1216 bytes, then
 * X25519): about 1.4 KB in one record, and again in records of at most 512
 * bytes as some stacks send it. */
static void test_large_key_share(void)
{
	static struct bb ext, b;
	static unsigned char buf[SNIFF_MAX_LEN];
	size_t ks, list, cuts[8], ncuts = 0, n;

	ext.n = 0;
	put_sni(&ext, "meet.example.test", 17);
	put_alpn(&ext, "h2|http/1.1");
	put_ext(&ext, 43, "\x04\x03\x04\x03\x03", 5);
	put_num(&ext, 2, 51);
	ks = open_len(&ext, 2);
	list = open_len(&ext, 2);
	put_num(&ext, 2, 0x11ec);
	put_num(&ext, 2, 1216);
	memset(ext.b + ext.n, 0x3c, 1216);
	ext.n += 1216;
	put_num(&ext, 2, 0x001d);
	put_num(&ext, 2, 32);
	memset(ext.b + ext.n, 0xc3, 32);
	ext.n += 32;
	close_len(&ext, list, 2);
	close_len(&ext, ks, 2);
	build_hello(&b, 32, ext.b, ext.n);
	CHECK(b.n > 1300);
	check_hello(b.b, b.n, 0x0301, 0x0303, true, "meet.example.test", "h2,http/1.1");

	for (size_t at = 512; at < b.n - 5; at += 512)
		cuts[ncuts++] = at;
	n = split_records(b.b, b.n, cuts, ncuts, buf);
	check_hello(buf, n, 0x0301, 0x0303, true, "meet.example.test", "h2,http/1.1");
}

/* A hello whose only extension is padding (RFC 7685) of pad bytes. */
static void build_padded(struct bb *b, size_t pad)
{
	static struct bb ext;

	ext.n = 0;
	put_num(&ext, 2, 21);
	put_num(&ext, 2, (uint32_t)pad);
	memset(ext.b + ext.n, 0, pad);
	ext.n += pad;
	build_hello(b, 0, ext.b, ext.n);
}

/* Hellos padded so that their records end exactly at SNIFF_MAX_LEN, then
 * one byte more: refused as soon as the length that says so is in. */
static void test_size_limit(void)
{
	static struct bb b;
	static unsigned char buf[SNIFF_MAX_LEN + 64];
	struct sniff_result r;
	size_t pad, cuts[2] = { 8000, 0 }, n;

	build_hello(&b, 0, (const unsigned char *)"", 0);
	pad = SNIFF_MAX_LEN - b.n - 4;

	/* one record */
	build_padded(&b, pad);
	CHECK_INT(b.n, SNIFF_MAX_LEN);
	CHECK_INT(sniff(b.b, b.n, &r), SNIFF_TLS);
	CHECK_INT(sniff(b.b, b.n - 1, &r), SNIFF_NEED_MORE);

	/* two records cost 5 bytes more: refused once the second header is in */
	n = split_records(b.b, b.n, cuts, 1, buf);
	CHECK_INT(sniff(buf, n, &r), SNIFF_OTHER);
	CHECK_WHY(r.why, "larger than 16 KiB");
	CHECK_INT(sniff(buf, 8005 + 5, &r), SNIFF_OTHER);
	CHECK_INT(sniff(buf, 8005 + 4, &r), SNIFF_NEED_MORE);
	build_padded(&b, pad - 5);
	n = split_records(b.b, b.n, cuts, 1, buf);
	CHECK_INT(n, SNIFF_MAX_LEN);
	CHECK_INT(sniff(buf, n, &r), SNIFF_TLS);

	/* three, the last header starting 1 byte before the limit */
	cuts[1] = b.n - 5 - 1;
	n = split_records(b.b, b.n, cuts, 2, buf);
	CHECK_INT(sniff(buf, SNIFF_MAX_LEN, &r), SNIFF_OTHER);
	CHECK_WHY(r.why, "larger than 16 KiB");
	CHECK_INT(sniff(buf, SNIFF_MAX_LEN - 1, &r), SNIFF_OTHER);

	/* one byte more than fits in one record: the handshake length alone
	 * refuses it */
	build_padded(&b, pad + 1);
	CHECK_INT(b.n, SNIFF_MAX_LEN + 1);
	CHECK_INT(sniff(b.b, 9, &r), SNIFF_OTHER);
	CHECK_WHY(r.why, "larger than 16 KiB");
	check_other(b.b, b.n, "larger than 16 KiB");
}

static void test_record_header(void)
{
	check_other(U("\x16\x02"), "not 3.x");
	check_other(U("\x16\x03\x00\x00\x30"), "0x0301-0x0304");
	check_other(U("\x16\x03\x05\x00\x30"), "0x0301-0x0304");
	check_other(U("\x16\x03\x01\x00\x00"), "empty TLS handshake record");
	check_other(U("\x16\x03\x03\x48\x01"), "longer than 2^14+2048");
	check_other(U("\x16\x03\x03\xff\xff"), "longer than 2^14+2048");
	check_other(U("\x16\x03\x03\x48\x00"), "larger than 16 KiB");
	check_other(U("\x16\x03\x01\x00\x04\x02\x00\x00\x00"), "not a ClientHello");
	check_other(U("\x16\x03\x01\x00\x04\x01\x00\x00\x00"), "too short for its version");
	check_other(U("\x16\x03\x01\x00\x06\x01\x00\x00\x02\x02\x03"), "not 3.x");
	check_other(U("\x16\x03\x01\x00\x07\x01\x00\x00\x02\x03\x03\x00"), "continues after the ClientHello");
	check_other(U("\x16\x03\x01\x00\x05\x01\x00\x00\x02\x03\x03"), "another type");
	check_other(U("\x16\x03\x01\x00\x06\x01\x00\x00\x02\x03\x03"), "too short for its random");
	check_other(U("\x16\x03\x01\x00\x04\x01\x00\x40\x00"), "larger than 16 KiB");
	CHECK_INT(sniff(U("\x16\x03\x04\x00\x04\x01\x00\x00\x30"), &(struct sniff_result){ 0 }), SNIFF_NEED_MORE);
}

/* ---- TLS: hellos built field by field ---- */

static void test_built_fields(void)
{
	static struct bb b;

	/* no extensions block at all (TLS 1.2 and older may omit it) */
	build_hello(&b, 0, NULL, 0);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "", "");
	/* an empty block is not the same thing as none: it is still a length */
	build_hello(&b, 0, (const unsigned char *)"", 0);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "", "");

	build_hello(&b, 32, NULL, 0);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "", "");
	build_hello(&b, 33, NULL, 0);
	check_other(b.b, b.n, "session id longer than 32 bytes");

	/* cipher suites: empty, odd, longer than the hello */
	build_hello(&b, 0, NULL, 0);
	b.b[43 + 1 + 1] = 0;
	check_other(b.b, b.n, "cipher suites");
	build_hello(&b, 0, NULL, 0);
	b.b[43 + 1 + 1] = 5;
	check_other(b.b, b.n, "odd");
	build_hello(&b, 0, NULL, 0);
	b.b[43 + 1] = 1;
	check_other(b.b, b.n, "cipher suites");

	/* compression methods: empty, longer than the hello */
	build_hello(&b, 0, NULL, 0);
	b.b[44 + 2 + sizeof(suites)] = 0;
	check_other(b.b, b.n, "compression methods");
	build_hello(&b, 0, NULL, 0);
	b.b[44 + 2 + sizeof(suites)] = 2;
	check_other(b.b, b.n, "compression methods");

	/* a single byte where the extensions length goes */
	build_hello(&b, 0, NULL, 0);
	b.b[b.n++] = 0;
	b.b[4]++;
	b.b[8]++;
	check_other(b.b, b.n, "truncated extensions length");

	/* extensions: a header cut short, one overrunning the block */
	build_hello(&b, 0, (const unsigned char *)"\x00\x17\x00", 3);
	check_other(b.b, b.n, "truncated extension header");
	build_hello(&b, 0, (const unsigned char *)"\x00\x17\x00\x01", 4);
	check_other(b.b, b.n, "extension longer than the extensions block");
	build_hello(&b, 0, (const unsigned char *)"\x00\x17\x00\x00\x00\x23\x00\x00", 8);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "", "");

	/* a handshake message followed by another in the same record */
	build_hello(&b, 0, NULL, 0);
	b.b[b.n++] = 0x01;
	b.b[4]++;
	check_other(b.b, b.n, "continues after the ClientHello");
}

static void test_duplicates(void)
{
	static struct bb ext, b;

	/* distinct GREASE values (RFC 8701) are distinct extensions */
	ext.n = 0;
	put_ext(&ext, 0x0a0a, "", 0);
	put_sni(&ext, "a.test", 6);
	put_ext(&ext, 0x1a1a, "\x00", 1);
	build_hello(&b, 0, ext.b, ext.n);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "a.test", "");

	put_ext(&ext, 0x0a0a, "", 0);
	build_hello(&b, 0, ext.b, ext.n);
	check_other(b.b, b.n, "duplicate extension");

	ext.n = 0;
	put_sni(&ext, "a.test", 6);
	put_sni(&ext, "a.test", 6);
	build_hello(&b, 0, ext.b, ext.n);
	check_other(b.b, b.n, "duplicate extension");

	ext.n = 0;
	put_ext(&ext, 0xffff, "", 0);
	put_ext(&ext, 0, "\x00\x03\x00\x00\x00", 5);
	put_ext(&ext, 0xffff, "", 0);
	build_hello(&b, 0, ext.b, ext.n);
	check_other(b.b, b.n, "empty server_name host name");
}

struct sni_case {
	const char *name;
	size_t len;
	const char *want; /* NULL: refused */
	const char *phrase;
};

#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static const struct sni_case sni_cases[] = {
	{ B("www.example.test"), "www.example.test", NULL },
	{ B("WWW.Example.TEST"), "www.example.test", NULL },
	{ B("x"), "x", NULL },
	{ B("xn--bcher-kva.example"), "xn--bcher-kva.example", NULL },
	{ B("_acme-challenge.a-b.test"), "_acme-challenge.a-b.test", NULL },
	{ B("192.0.2.1"), "192.0.2.1", NULL },
	{ B(L63 ".test"), L63 ".test", NULL },
	{ B(L63 "." L63 "." L63 "." L63 "a"), NULL, "longer than 253" },
	{ B(L63 "." L63 "." L63 "."
	        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"),
	  NULL, "longer than 253" },
	{ B(L63 "." L63 "." L63 "."
	        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"),
	  L63 "." L63 "." L63 "."
	      "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi",
	  NULL },
	{ B(L63 "l.test"), NULL, "longer than 63" },
	{ B("www.example.test."), NULL, "ends with a dot" },
	{ B(".example.test"), NULL, "empty label" },
	{ B("www..test"), NULL, "empty label" },
	{ B("."), NULL, "empty label" },
	{ B("www example.test"), NULL, "character other than" },
	{ B("www.exam\0ple.test"), NULL, "character other than" },
	{ B("[::1]"), NULL, "character other than" },
	{ B("2001:db8::1"), NULL, "character other than" },
	{ B("user@example.test"), NULL, "character other than" },
	{ B("b\xc3\xbc"
	    "cher.example"),
	  NULL, "character other than" },
	{ B("www.example.test\r\n"), NULL, "character other than" },
	{ B("a/b"), NULL, "character other than" },
	{ B("*.example.test"), NULL, "character other than" },
	{ "", 0, NULL, "empty server_name host name" },
};

static void test_sni(void)
{
	static struct bb ext, b;

	for (size_t i = 0; i < ARRAY_LEN(sni_cases); i++) {
		const struct sni_case *t = &sni_cases[i];
		int before = unit_failures;

		ext.n = 0;
		put_sni(&ext, t->name, t->len);
		build_hello(&b, 0, ext.b, ext.n);
		if (t->want)
			check_hello(b.b, b.n, 0x0301, 0x0303, false, t->want, "");
		else
			check_other(b.b, b.n, t->phrase);
		if (unit_failures != before)
			fprintf(stderr, "  sni case %zu: %.*s\n", i, (int)t->len, t->name);
	}

	/* the list's structure */
	static const struct {
		const char *ext;
		size_t len;
		const char *phrase;
	} lists[] = {
		{ B(""), "shorter than its list length" },
		{ B("\x00"), "shorter than its list length" },
		{ B("\x00\x00"), "empty server_name list" },
		{ B("\x00\x04\x00\x00\x02"
		    "ab"),
		  "does not match" },
		{ B("\x00\x06\x00\x00\x02"
		    "ab"),
		  "does not match" },
		{ B("\x00\x06\x00\x00\x02"
		    "ab\x00"),
		  "truncated server_name entry" },
		{ B("\x00\x02\x00\x00"), "truncated server_name entry" },
		{ B("\x00\x04\x00\x00\x02"
		    "a"),
		  "longer than its list" },
		{ B("\x00\x07\x00\x00\x02"
		    "ab\x00"),
		  "does not match" },
		{ B("\x00\x07\x00\x00\x02"
		    "ab"
		    "\x00\x00"),
		  "truncated server_name entry" },
		{ B("\x00\x05\x01\x00\x02"
		    "ab"),
		  "other than host_name" },
		{ B("\x00\x0a\x00\x00\x02"
		    "ab"
		    "\x00\x00\x02"
		    "cd"),
		  "more than one host_name" },
		{ B("\x00\x0a\x00\x00\x02"
		    "ab"
		    "\x01\x00\x02"
		    "cd"),
		  "other than host_name" },
	};
	for (size_t i = 0; i < ARRAY_LEN(lists); i++) {
		int before = unit_failures;

		ext.n = 0;
		put_ext(&ext, 0, lists[i].ext, lists[i].len);
		build_hello(&b, 0, ext.b, ext.n);
		check_other(b.b, b.n, lists[i].phrase);
		if (unit_failures != before)
			fprintf(stderr, "  server_name list case %zu\n", i);
	}
}

static void alpn_case(const char *names, const char *want)
{
	static struct bb ext, b;
	int before = unit_failures;

	ext.n = 0;
	put_alpn(&ext, names);
	build_hello(&b, 0, ext.b, ext.n);
	check_hello(b.b, b.n, 0x0301, 0x0303, false, "", want);
	if (unit_failures != before)
		fprintf(stderr, "  alpn case %s\n", names);
}

static void test_alpn(void)
{
	static struct bb ext, b;

	alpn_case("h2|http/1.1", "h2,http/1.1");
	alpn_case("http/1.1", "http/1.1");
	alpn_case("h3|h2|http/1.1|http/1.0|spdy/3.1|webrtc|c-webrtc|stun.turn", "h3,h2,http/1.1,http/1.0,spdy/3.1,"
	                                                                        "webrtc,c-webrtc,stun.turn");
	/* 63 bytes and the NUL fill the field exactly */
	alpn_case("aaaaaaaaaaaaaaaaaaaa|bbbbbbbbbbbbbbbbbbbb|ccccccccccccccccccccc",
	          "aaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbb,ccccccccccccccccccccc");
	alpn_case(L63, L63);
	/* a name that no longer fits is left out whole, and all after it */
	alpn_case("aaaaaaaaaaaaaaaaaaaa|bbbbbbbbbbbbbbbbbbbb|cccccccccccccccccccccc|h2",
	          "aaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbb");
	alpn_case(L63 "x|h2", "");
	/* names that cannot be shown in a comma list are skipped */
	alpn_case("\x0a\x1a|h2", "h2");
	alpn_case("a,b|h2|c d", "h2");

	static const struct {
		const char *ext;
		size_t len;
		const char *phrase;
	} bad[] = {
		{ B(""), "shorter than its list length" },
		{ B("\x00"), "shorter than its list length" },
		{ B("\x00\x00"), "empty ALPN list" },
		{ B("\x00\x01\x00"), "empty ALPN list" },
		{ B("\x00\x03\x02h2\x00"), "does not match" },
		{ B("\x00\x04\x02h2"), "does not match" },
		{ B("\x00\x03\x00h2"), "empty ALPN protocol name" },
		{ B("\x00\x03\x03h2"), "longer than its list" },
		{ B("\x00\x04\x02h2\x00"), "empty ALPN protocol name" },
		{ B("\x00\x0c\x02h2\x09http/1.1"), "longer than its list" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int before = unit_failures;

		ext.n = 0;
		put_ext(&ext, 16, bad[i].ext, bad[i].len);
		build_hello(&b, 0, ext.b, ext.n);
		check_other(b.b, b.n, bad[i].phrase);
		if (unit_failures != before)
			fprintf(stderr, "  ALPN case %zu\n", i);
	}
}

static void test_supported_versions(void)
{
	static struct bb ext, b;
	static const struct {
		const char *ext;
		size_t len;
		bool has13;
		const char *phrase;
	} cases[] = {
		{ B("\x04\x03\x04\x03\x03"), true, NULL },
		{ B("\x06\x7a\x7a\x03\x04\x03\x03"), true, NULL },
		{ B("\x02\x03\x03"), false, NULL },
		{ B("\x02\x7f\x1c"), false, NULL },
		{ B(""), false, "empty supported_versions" },
		{ B("\x00"), false, "not a positive even number" },
		{ B("\x03\x03\x04\x03"), false, "not a positive even number" },
		{ B("\x01\x03"), false, "not a positive even number" },
		{ B("\x04\x03\x04"), false, "does not match" },
		{ B("\x02\x03\x04\x03"), false, "does not match" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int before = unit_failures;

		ext.n = 0;
		put_ext(&ext, 43, cases[i].ext, cases[i].len);
		build_hello(&b, 0, ext.b, ext.n);
		if (!cases[i].phrase)
			check_hello(b.b, b.n, 0x0301, 0x0303, cases[i].has13, "", "");
		else
			check_other(b.b, b.n, cases[i].phrase);
		if (unit_failures != before)
			fprintf(stderr, "  supported_versions case %zu\n", i);
	}
}

/* ---- STUN / TURN ---- */

static const unsigned char txid[12] = { 0x6a, 0x4f, 0x2c, 0x11, 0x90, 0x03, 0xde, 0x77, 0x01, 0x5e, 0xb2, 0x38 };

/* A STUN header (RFC 8489 5) followed by attrs[0..n). */
static size_t stun(unsigned char *out, unsigned type, const void *attrs, size_t n)
{
	out[0] = (unsigned char)(type >> 8);
	out[1] = (unsigned char)type;
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	memcpy(out + 4, "\x21\x12\xa4\x42", 4);
	memcpy(out + 8, txid, 12);
	memcpy(out + 20, attrs, n);
	return 20 + n;
}

static void test_stun(void)
{
	unsigned char buf[64];
	struct sniff_result r;
	size_t n;

	/* Binding request, no attributes */
	n = stun(buf, 0x0001, "", 0);
	check_whole(buf, n, SNIFF_STUN);
	CHECK_INT(sniff(buf, n, &r), SNIFF_STUN);
	CHECK_INT(r.stun_type, 0x0001);
	CHECK_STR(sniff_kind_name(r.kind), "stun");

	/* TURN Allocate request (RFC 8656 7.1): REQUESTED-TRANSPORT UDP; the
	 * header alone decides, the attributes may still be on their way */
	n = stun(buf, 0x0003, "\x00\x19\x00\x04\x11\x00\x00\x00", 8);
	CHECK_INT(n, 28);
	CHECK_INT(sniff(buf, n, &r), SNIFF_STUN);
	CHECK_INT(r.stun_type, 0x0003);
	CHECK_INT(sniff(buf, 20, &r), SNIFF_STUN);
	CHECK_INT(sniff(buf, 19, &r), SNIFF_NEED_MORE);

	/* Binding success response, Refresh, ChannelBind */
	n = stun(buf, 0x0101, "\x00\x20\x00\x08\x00\x01\xa1\x47\x5e\x12\xa6\x43", 12);
	CHECK_INT(sniff(buf, n, &r), SNIFF_STUN);
	CHECK_INT(r.stun_type, 0x0101);
	n = stun(buf, 0x0004, "", 0);
	CHECK_INT(sniff(buf, n, &r), SNIFF_STUN);
	n = stun(buf, 0x0009, "", 0);
	CHECK_INT(sniff(buf, n, &r), SNIFF_STUN);

	/* length not a multiple of 4 */
	n = stun(buf, 0x0001, "\x00\x06\x00\x01\x00\x00", 6);
	check_other(buf, n, "multiple of 4");
	CHECK_INT(sniff(buf, 4, &r), SNIFF_OTHER);
	/* a wrong byte of the magic cookie: classic RFC 3489 STUN is not
	 * accepted, it cannot be told from noise */
	for (size_t i = 4; i < 8; i++) {
		n = stun(buf, 0x0001, "", 0);
		buf[i] ^= 0x01;
		check_other(buf, n, NULL);
		CHECK_INT(sniff(buf, i + 1, &r), SNIFF_OTHER);
	}
	/* top bits not 00: TURN ChannelData (0x4000-0x7fff) and beyond */
	n = stun(buf, 0x4001, "", 0);
	check_other(buf, n, NULL);
	n = stun(buf, 0x8001, "", 0);
	check_other(buf, n, NULL);
	n = stun(buf, 0xc001, "", 0);
	check_other(buf, n, NULL);
	/* a header cut short is still a beginning */
	n = stun(buf, 0x0001, "", 0);
	CHECK_INT(sniff(buf, 1, &r), SNIFF_NEED_MORE);
	CHECK_INT(sniff(buf, 8, &r), SNIFF_NEED_MORE);
}

/* ---- HTTP and the rest ---- */

static void test_http(void)
{
	static const char *const starts[] = {
		"GET / HTTP/1.1\r\n",     "POST /x HTTP/1.1\r\n",   "HEAD / HTTP/1.0\r\n",
		"PUT /a HTTP/1.1\r\n",    "OPTIONS * HTTP/1.1\r\n", "CONNECT a.test:443 HTTP/1.1\r\n",
		"DELETE /a HTTP/1.1\r\n", "PATCH /a HTTP/1.1\r\n",
	};
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct sniff_result r;

	for (size_t i = 0; i < ARRAY_LEN(starts); i++) {
		const unsigned char *s = (const unsigned char *)starts[i];
		size_t n = strcspn(starts[i], " ") + 1;

		check_whole(s, n, SNIFF_HTTP);
		CHECK_INT(sniff(s, strlen(starts[i]), &r), SNIFF_HTTP);
		CHECK_STR(sniff_kind_name(r.kind), "http");
	}
	check_whole((const unsigned char *)preface, sizeof(preface) - 1, SNIFF_HTTP);

	check_other(U("GETX / HTTP/1.1\r\n"), NULL);
	check_other(U("get / HTTP/1.1\r\n"), NULL);
	check_other(U("GET\t/ HTTP/1.1\r\n"), NULL);
	check_other(U("TRACE / HTTP/1.1\r\n"), NULL);
	check_other(U("PRI * HTTP/1.1\r\n"), NULL);
	check_other(U("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), NULL);
	CHECK_INT(sniff(U("P"), &r), SNIFF_NEED_MORE);
	CHECK_INT(sniff(U("PRI * HTTP/2.0\r\n"), &r), SNIFF_NEED_MORE);
	CHECK_INT(sniff(U("OPTION"), &r), SNIFF_NEED_MORE);
}

static void test_other(void)
{
	struct sniff_result r;

	CHECK_INT(sniff((const unsigned char *)"", 0, &r), SNIFF_NEED_MORE);
	CHECK_STR(sniff_kind_name(r.kind), "incomplete");
	check_other(U("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), NULL);
	/* SSLv2-compatible ClientHello: not a TLS record */
	check_other(U("\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10"), NULL);
	/* TLS records that do not start a handshake */
	check_other(U("\x17\x03\x03\x00\x20"), NULL);
	check_other(U("\x15\x03\x03\x00\x02\x02\x28"), NULL);
	check_other(U("\x14\x03\x03\x00\x01\x01"), NULL);
	check_other(U("\xff\xff\xff\xff"), NULL);
	/* A short binary greeting that waits for the server (SOCKS5) looks like
	 * the start of a STUN header: the caller's timeout settles it. */
	CHECK_INT(sniff(U("\x05\x01\x00"), &r), SNIFF_NEED_MORE);
	CHECK_INT(sniff(U("\x05\x02\x00\x02"), &r), SNIFF_OTHER);
	CHECK(r.why == NULL);
	CHECK_STR(sniff_kind_name(SNIFF_OTHER), "other");
	CHECK_STR(sniff_kind_name(SNIFF_TLS), "tls");

	/* whatever the bytes, 16 KiB of them always get an answer */
	static unsigned char buf[SNIFF_MAX_LEN];
	memset(buf, 0, sizeof(buf));
	CHECK_INT(sniff_checked(buf, sizeof(buf), &r), SNIFF_OTHER);
	memset(buf, 0x16, sizeof(buf));
	CHECK(sniff_checked(buf, sizeof(buf), &r) == SNIFF_OTHER);
}

int main(void)
{
	test_captured();
	test_captured_damaged();
	test_captured_mutated();
	test_split();
	test_large_key_share();
	test_size_limit();
	test_record_header();
	test_built_fields();
	test_duplicates();
	test_sni();
	test_alpn();
	test_supported_versions();
	test_stun();
	test_http();
	test_other();
	return unit_summary("test_sniff");
}
