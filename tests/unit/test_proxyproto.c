/*
 * test_proxyproto.c - unit tests for proxyproto.c: v1 lines (TCP4, TCP6,
 * UNKNOWN, what curl --haproxy-protocol sends), v2 blocks built byte by byte
 * (PROXY v4/v6, LOCAL, UNSPEC, UNIX, TLVs), every truncation, and refusals.
 */
#include "common.h"
#include "proxyproto.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

/* "1.2.3.4:5" or "[::1]:5" of an endpoint, for comparisons. */
static const char *endpoint(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[64];
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%u", a, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%u", a, port);
	} else {
		snprintf(buf, len, "none");
	}
	return buf;
}

/* Checks a header of hlen bytes inside in[0..len): the whole answers hlen,
 * every shorter prefix asks for more. */
static void check_accept(const void *in, size_t len, int hlen, bool has_addr, const char *src, const char *dst,
                         int version)
{
	struct proxyproto_result r;
	const char *why = NULL;
	char buf[80];
	int rc = proxyproto_parse(in, len, &r, &why);

	CHECK_INT(rc, hlen);
	if (rc != hlen)
		fprintf(stderr, "  refused: %s\n", why ? why : "");
	CHECK_INT(r.has_addr, has_addr);
	CHECK_INT(r.version, version);
	if (has_addr) {
		CHECK_STR(endpoint(&r.src, buf, sizeof(buf)), src);
		CHECK_STR(endpoint(&r.dst, buf, sizeof(buf)), dst);
	}
	for (size_t k = 0; k < (size_t)hlen; k++) {
		rc = proxyproto_parse(in, k, &r, &why);
		CHECK_INT(rc, 0);
		if (rc != 0)
			fprintf(stderr, "  prefix %zu refused: %s\n", k, why ? why : "");
	}
}

/* A refused header: the whole is -1 with the phrase, and every prefix is
 * either still a valid beginning (0) or refused the same way. */
static void check_refuse(const void *in, size_t len, const char *phrase)
{
	struct proxyproto_result r;
	const char *why = NULL;
	int rc = proxyproto_parse(in, len, &r, &why);

	CHECK_INT(rc, -1);
	CHECK_WHY(why, phrase);
	for (size_t k = 0; k < len; k++) {
		why = NULL;
		rc = proxyproto_parse(in, k, &r, &why);
		CHECK(rc == 0 || rc == -1);
		if (rc < 0)
			CHECK(why != NULL);
	}
}

/* ---- v1 ---- */

struct v1_case {
	const char *in;
	size_t len;
	int want; /* header length, or -1 */
	bool has_addr;
	const char *src, *dst;
	const char *phrase;
};

#define V6MAX "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

static const struct v1_case v1_cases[] = {
	{ B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n"), 47, true, "192.168.0.1:56324",
	  "192.168.0.11:443", NULL },
	/* captured from curl 7.88 --haproxy-protocol, IPv4 then IPv6 */
	{ B("PROXY TCP4 127.0.0.1 127.0.0.1 57924 60563\r\nGET /x HTTP/1.1\r\n"
	    "Host: 127.0.0.1:60563\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"),
	  44, true, "127.0.0.1:57924", "127.0.0.1:60563", NULL },
	{ B("PROXY TCP6 ::1 ::1 57668 59779\r\nGET /x HTTP/1.1\r\n"), 32, true, "[::1]:57668", "[::1]:59779", NULL },
	{ B("PROXY TCP6 2001:DB8::1 ::ffff:10.0.0.1 0 65535\r\n"), 48, true, "[2001:db8::1]:0",
	  "[::ffff:10.0.0.1]:65535", NULL },
	{ B("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"), 56, true, "255.255.255.255:65535",
	  "255.255.255.255:65535", NULL },
	{ B("PROXY TCP6 " V6MAX " " V6MAX " 65535 65535\r\n"), 104, true, "[" V6MAX "]:65535", "[" V6MAX "]:65535",
	  NULL },
	{ B("PROXY UNKNOWN\r\n"), 15, false, NULL, NULL, NULL },
	{ B("PROXY UNKNOWN\r\nGET"), 15, false, NULL, NULL, NULL },
	{ B("PROXY UNKNOWN " V6MAX " " V6MAX " 65535 65535\r\n"), 107, false, NULL, NULL, NULL },

	{ B("PROXY UNKNOWN " V6MAX " " V6MAX " 65535 655356\r\n"), -1, false, NULL, NULL, "longer than 107 bytes" },
	{ B("GET / HTTP/1.1\r\n\r\n"), -1, false, NULL, NULL, "no PROXY protocol header" },
	{ B("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "no PROXY protocol header" },
	{ B("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "no PROXY protocol header" },
	{ B("\x16\x03\x01"), -1, false, NULL, NULL, "no PROXY protocol header" },
	{ B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "TCP4, TCP6 or UNKNOWN" },
	{ B("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "TCP4, TCP6 or UNKNOWN" },
	{ B("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "TCP4, TCP6 or UNKNOWN" },
	{ B("PROXY UNKNOWNX\r\n"), -1, false, NULL, NULL, "TCP4, TCP6 or UNKNOWN" },
	{ B("PROXY UNKNOWN \x01\r\n"), -1, false, NULL, NULL, "control character" },
	{ B("PROXY TCP4\r\n"), -1, false, NULL, NULL, "missing" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), -1, false, NULL, NULL, "missing" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8\r\n"), -1, false, NULL, NULL, "missing" },
	{ B("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), -1, false, NULL, NULL, "extra data" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), -1, false, NULL, NULL, "extra data" },
	{ B("PROXY TCP4 ::1 ::1 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 1111.2222.3333.4444 5.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "too long" },
	{ B("PROXY TCP6 ::g ::1 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"), -1, false, NULL, NULL, "no leading zero" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), -1, false, NULL, NULL, "CRLF" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 port" },
	{ B("PROXY TCP4 1.2.3.4\0005.6.7.8 1 2\r\n"), -1, false, NULL, NULL, "malformed PROXY v1 address" },
};

static void test_v1(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(v1_cases); i++) {
		const struct v1_case *t = &v1_cases[i];
		int before = unit_failures;

		if (t->want > 0)
			check_accept(t->in, t->len, t->want, t->has_addr, t->src, t->dst, 1);
		else
			check_refuse(t->in, t->len, t->phrase);
		if (unit_failures != before)
			fprintf(stderr, "  v1 case %zu: %.*s\n", i, (int)t->len, t->in);
	}
}

/* A line with no CRLF yet: waits while short, refused at 107 bytes. */
static void test_v1_unterminated(void)
{
	struct proxyproto_result r;
	const char *why = NULL;
	char buf[200];

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	CHECK_INT(proxyproto_parse(buf, 106, &r, &why), 0);
	CHECK_INT(proxyproto_parse(buf, 107, &r, &why), -1);
	CHECK_WHY(why, "longer than 107");
	CHECK_INT(proxyproto_parse(buf, 200, &r, &why), -1);
}

/* ---- v2 ---- */

static const unsigned char sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

/* Writes a v2 header: signature, the two type bytes, the length, then body
 * (blen bytes).  Returns the header's size. */
static size_t v2(unsigned char *out, unsigned char ver_cmd, unsigned char fam, const unsigned char *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (unsigned char)(blen >> 8);
	out[15] = (unsigned char)blen;
	if (blen)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static const unsigned char inet_block[12] = {
	10,   0,    0, 5, /* src 10.0.0.5 */
	10,   0,    0, 1, /* dst 10.0.0.1 */
	0xc7, 0x38,       /* sport 51000 */
	0x0c, 0x38,       /* dport 3128 */
};

static const unsigned char inet6_block[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0x05, 0xfe,
	0x80, 0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0xbb, /* sport 443 */
	0x00, 0x50,                                                             /* dport 80 */
};

static void test_v2_accept(void)
{
	unsigned char buf[PROXYPROTO_MAX_LEN + 64], body[2100];
	size_t n;

	/* PROXY TCP over IPv4, with the request following it */
	n = v2(buf, 0x21, 0x11, inet_block, 12);
	memcpy(buf + n, "GET / HTTP/1.1\r\n", 16);
	check_accept(buf, n + 16, (int)n, true, "10.0.0.5:51000", "10.0.0.1:3128", 2);

	/* PROXY TCP over IPv6 */
	n = v2(buf, 0x21, 0x21, inet6_block, 36);
	check_accept(buf, n, (int)n, true, "[2001:db8::5]:443", "[fe80::1]:80", 2);

	/* LOCAL (a health check): no addresses, whatever the family says */
	n = v2(buf, 0x20, 0x00, NULL, 0);
	check_accept(buf, n, 16, false, NULL, NULL, 2);
	n = v2(buf, 0x20, 0x11, inet_block, 12);
	check_accept(buf, n, 28, false, NULL, NULL, 2);
	n = v2(buf, 0x20, 0x11, inet_block, 3); /* LOCAL ignores the block */
	check_accept(buf, n, 19, false, NULL, NULL, 2);

	/* PROXY with UNSPEC family or transport, UNIX sockets: keep the socket's */
	n = v2(buf, 0x21, 0x00, NULL, 0);
	check_accept(buf, n, 16, false, NULL, NULL, 2);
	n = v2(buf, 0x21, 0x10, inet_block, 5);
	check_accept(buf, n, 21, false, NULL, NULL, 2);
	memset(body, 0, 216);
	n = v2(buf, 0x21, 0x31, body, 216);
	check_accept(buf, n, 232, false, NULL, NULL, 2);
	n = v2(buf, 0x21, 0x32, body, 216);
	check_accept(buf, n, 232, false, NULL, NULL, 2);

	/* TLVs after the addresses: ALPN "h2", an empty NOOP, an AWS VPC id */
	memcpy(body, inet_block, 12);
	memcpy(body + 12, "\x01\x00\x02h2", 5);
	memcpy(body + 17, "\x04\x00\x00", 3);
	memcpy(body + 20, "\xea\x00\x05\x01vpce", 8);
	n = v2(buf, 0x21, 0x11, body, 28);
	check_accept(buf, n, 44, true, "10.0.0.5:51000", "10.0.0.1:3128", 2);

	/* an address block larger than the family needs, all TLV: 2064 bytes */
	memcpy(body, inet6_block, 36);
	body[36] = 0x04;
	body[37] = (unsigned char)((2048 - 36 - 3) >> 8);
	body[38] = (unsigned char)(2048 - 36 - 3);
	memset(body + 39, 0xaa, 2048 - 39);
	n = v2(buf, 0x21, 0x21, body, 2048);
	CHECK_INT(n, PROXYPROTO_MAX_LEN);
	check_accept(buf, n, PROXYPROTO_MAX_LEN, true, "[2001:db8::5]:443", "[fe80::1]:80", 2);
}

static void test_v2_refuse(void)
{
	unsigned char buf[PROXYPROTO_MAX_LEN + 64], body[2100];
	size_t n;

	/* a wrong byte anywhere in the signature */
	for (size_t k = 0; k < 12; k++) {
		n = v2(buf, 0x21, 0x11, inet_block, 12);
		buf[k] ^= 0x40;
		if (k == 0)
			buf[k] = 0x0D ^ 0x01;
		check_refuse(buf, n, "no PROXY protocol header");
	}
	n = v2(buf, 0x11, 0x11, inet_block, 12);
	check_refuse(buf, n, "unsupported PROXY protocol version");
	n = v2(buf, 0x31, 0x11, inet_block, 12);
	check_refuse(buf, n, "unsupported PROXY protocol version");
	n = v2(buf, 0x22, 0x11, inet_block, 12);
	check_refuse(buf, n, "unknown command");
	n = v2(buf, 0x2f, 0x11, inet_block, 12);
	check_refuse(buf, n, "unknown command");
	n = v2(buf, 0x21, 0x41, inet_block, 12);
	check_refuse(buf, n, "unknown address family");
	n = v2(buf, 0x21, 0x13, inet_block, 12);
	check_refuse(buf, n, "unknown transport");
	n = v2(buf, 0x21, 0x12, inet_block, 12);
	check_refuse(buf, n, "UDP");
	n = v2(buf, 0x21, 0x22, inet6_block, 36);
	check_refuse(buf, n, "UDP");
	n = v2(buf, 0x21, 0x11, inet_block, 11);
	check_refuse(buf, n, "shorter than its address family needs");
	n = v2(buf, 0x21, 0x21, inet6_block, 12);
	check_refuse(buf, n, "shorter than its address family needs");
	memset(body, 0, 216);
	n = v2(buf, 0x21, 0x31, body, 215);
	check_refuse(buf, n, "shorter than its address family needs");

	/* too long: refused as soon as the length field is in */
	memset(body, 0, sizeof(body));
	n = v2(buf, 0x21, 0x21, body, 2049);
	check_refuse(buf, 16, "longer than");
	n = v2(buf, 0x20, 0x00, body, 0);
	buf[14] = 0xff;
	buf[15] = 0xff;
	check_refuse(buf, 16, "longer than");

	/* TLVs that do not tile the rest of the block */
	memcpy(body, inet_block, 12);
	memcpy(body + 12, "\x01\x00\x05h2", 5);
	n = v2(buf, 0x21, 0x11, body, 17);
	check_refuse(buf, n, "truncated TLV");
	memcpy(body + 12, "\x04\x00", 2);
	n = v2(buf, 0x21, 0x11, body, 14);
	check_refuse(buf, n, "truncated TLV");
	n = v2(buf, 0x21, 0x11, body, 13);
	check_refuse(buf, n, "truncated TLV");
	memcpy(body + 12, "\x04\x00\x00\x01", 4);
	n = v2(buf, 0x21, 0x11, body, 16);
	check_refuse(buf, n, "truncated TLV");
}

static void test_misc(void)
{
	struct proxyproto_result r;
	const char *why = NULL;

	CHECK_INT(proxyproto_parse("", 0, &r, &why), 0);
	CHECK_INT(proxyproto_parse("P", 1, &r, &why), 0);
	CHECK_INT(proxyproto_parse("\r", 1, &r, &why), 0);
	CHECK_INT(proxyproto_parse("X", 1, &r, &why), -1);
	CHECK_WHY(why, "no PROXY protocol header (the listener is marked proxy-protocol)");
	CHECK_INT(proxyproto_parse("PROXY TCP4 1.2.3.4 5", 20, &r, &why), 0);
	CHECK_INT(r.has_addr, false);
	CHECK_INT(r.version, 0);
}

int main(void)
{
	test_v1();
	test_v1_unterminated();
	test_v2_accept();
	test_v2_refuse();
	test_misc();
	return unit_summary("test_proxyproto");
}
