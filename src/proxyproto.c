/*
 * proxyproto.c - HAProxy PROXY protocol v1 (text line) and v2 (binary block)
 * headers, decoded from the first bytes of a connection accepted on a
 * `proxy-protocol` listener.  It only decodes and validates; conn.c decides
 * what to do with the addresses.
 */
#include "proxyproto.h"

#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define V1_MAX_LEN 107 /* longest v1 line, CRLF included */
#define V2_HEAD_LEN 16

/* v2 fields (version/command byte, family/transport byte). */
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_TR_UNSPEC 0x0
#define V2_TR_STREAM 0x1
#define V2_TR_DGRAM 0x2

static const unsigned char v2_signature[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

static const char no_header[] = "no PROXY protocol header (the listener is marked proxy-protocol)";

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Fills one endpoint from an address in network order. */
static void set_addr(struct sockaddr_storage *ss, int family, const void *addr, uint16_t port_be)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		sin->sin_port = port_be;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		sin6->sin6_port = port_be;
	}
}

/* ---- v1: "PROXY TCP4 src dst sport dport\r\n" ---- */

/* A v1 port: decimal 0..65535, no sign, no leading zero. */
static bool v1_port(const char *p, size_t n, uint16_t *port)
{
	unsigned v = 0;

	if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool v1_field_char(int field, bool v6, char c)
{
	if (field >= 2)
		return is_digit(c);
	if (v6)
		return is_hex(c) || c == ':' || c == '.';
	return is_digit(c) || c == '.';
}

/* The fields after "PROXY ".  p[0..n) is the line without CRLF when
 * complete, else what has arrived (without a trailing CR that may start the
 * CRLF).  Returns 1 parsed, 0 a valid prefix, -1 refused. */
static int v1_fields(const char *p, size_t n, bool complete, struct proxyproto_result *out, const char **why)
{
	static const char *const protos[] = { "TCP4", "TCP6", "UNKNOWN" };
	unsigned char addr[2][16];
	uint16_t port[2];
	size_t i = 6, s = 6, plen;
	int proto = -1, family;
	bool v6;

	while (i < n && p[i] != ' ')
		i++;
	plen = i - s;
	for (int k = 0; k < 3; k++) {
		size_t klen = strlen(protos[k]);

		if (plen == klen && memcmp(p + s, protos[k], klen) == 0)
			proto = k;
		else if (i == n && !complete && plen < klen && memcmp(p + s, protos[k], plen) == 0)
			return 0;
	}
	if (proto < 0) {
		*why = "malformed PROXY v1 header (protocol must be TCP4, TCP6 or UNKNOWN)";
		return -1;
	}
	if (proto == 2) {
		/* UNKNOWN: whatever follows up to the CRLF is to be ignored. */
		for (; i < n; i++) {
			if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
				*why = "malformed PROXY v1 header (control character)";
				return -1;
			}
		}
		return complete ? 1 : 0;
	}
	if (i == n) {
		if (!complete)
			return 0;
		*why = "malformed PROXY v1 header (addresses and ports missing)";
		return -1;
	}
	v6 = proto == 1;
	family = v6 ? AF_INET6 : AF_INET;
	i++;
	for (int f = 0; f < 4; f++) {
		size_t max = f < 2 ? (v6 ? 45 : 15) : 5;

		s = i;
		while (i < n && p[i] != ' ' && i - s < max) {
			if (!v1_field_char(f, v6, p[i])) {
				*why = f < 2 ? "malformed PROXY v1 address" : "malformed PROXY v1 port";
				return -1;
			}
			i++;
		}
		if (i == n && !complete)
			return 0;
		if (i < n && p[i] != ' ') {
			*why = f < 2 ? "malformed PROXY v1 address (too long)" : "malformed PROXY v1 port";
			return -1;
		}
		if (i < n && f == 3) {
			*why = "malformed PROXY v1 header (extra data after the ports)";
			return -1;
		}
		if (i == n && f < 3) {
			*why = "malformed PROXY v1 header (fields missing)";
			return -1;
		}
		if (f < 2) {
			char tmp[46];

			memcpy(tmp, p + s, i - s);
			tmp[i - s] = '\0';
			if (inet_pton(family, tmp, addr[f]) != 1) {
				*why = "malformed PROXY v1 address";
				return -1;
			}
		} else if (!v1_port(p + s, i - s, &port[f - 2])) {
			*why = "malformed PROXY v1 port (0-65535, no leading zero)";
			return -1;
		}
		i++;
	}
	out->has_addr = true;
	set_addr(&out->src, family, addr[0], htons(port[0]));
	set_addr(&out->dst, family, addr[1], htons(port[1]));
	return 1;
}

static int parse_v1(const char *p, size_t len, struct proxyproto_result *out, const char **why)
{
	static const char magic[] = "PROXY ";
	const char *lf;
	size_t n;
	int rc;

	for (size_t k = 0; k < 6; k++) {
		if (k == len)
			return 0;
		if (p[k] != magic[k]) {
			*why = no_header;
			return -1;
		}
	}
	lf = memchr(p, '\n', PH_MIN(len, (size_t)V1_MAX_LEN));
	if (lf) {
		n = (size_t)(lf - p);
		if (p[n - 1] != '\r') {
			*why = "malformed PROXY v1 header (the line must end with CRLF)";
			return -1;
		}
		rc = v1_fields(p, n - 1, true, out, why);
		if (rc < 0)
			return -1;
		out->version = 1;
		return (int)n + 1;
	}
	if (len >= V1_MAX_LEN) {
		*why = "PROXY v1 header longer than 107 bytes";
		return -1;
	}
	n = len;
	if (p[n - 1] == '\r')
		n--;
	rc = v1_fields(p, n, false, out, why);
	if (rc < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	return 0;
}

/* ---- v2: signature, version/command, family/transport, length ---- */

/* The address block size each family needs (the rest is TLVs). */
static size_t v2_addr_len(int fam)
{
	switch (fam) {
	case V2_FAM_INET:
		return 12;
	case V2_FAM_INET6:
		return 36;
	case V2_FAM_UNIX:
		return 216;
	default:
		return 0;
	}
}

static int parse_v2(const unsigned char *b, size_t len, struct proxyproto_result *out, const char **why)
{
	size_t alen, total, need, off;
	int cmd, fam, tr;

	for (size_t k = 0; k < sizeof(v2_signature); k++) {
		if (k == len)
			return 0;
		if (b[k] != v2_signature[k]) {
			*why = no_header;
			return -1;
		}
	}
	if (len < 13)
		return 0;
	if (b[12] >> 4 != 2) {
		*why = "unsupported PROXY protocol version in a v2 header";
		return -1;
	}
	cmd = b[12] & 0x0f;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY) {
		*why = "unknown command in PROXY v2 header (expected LOCAL or PROXY)";
		return -1;
	}
	if (len < 14)
		return 0;
	fam = b[13] >> 4;
	tr = b[13] & 0x0f;
	if (fam > V2_FAM_UNIX) {
		*why = "unknown address family in PROXY v2 header";
		return -1;
	}
	if (tr > V2_TR_DGRAM) {
		*why = "unknown transport protocol in PROXY v2 header";
		return -1;
	}
	if (len < V2_HEAD_LEN)
		return 0;
	alen = (size_t)b[14] << 8 | b[15];
	total = V2_HEAD_LEN + alen;
	if (total > PROXYPROTO_MAX_LEN) {
		*why = "PROXY v2 header longer than pinhole accepts (2064 bytes)";
		return -1;
	}
	/* LOCAL (health checks) and UNSPEC carry nothing to use: the block is
	 * skipped whole, as the protocol says. */
	need = 0;
	if (cmd == V2_CMD_PROXY && tr != V2_TR_UNSPEC) {
		if ((fam == V2_FAM_INET || fam == V2_FAM_INET6) && tr == V2_TR_DGRAM) {
			*why = "PROXY v2 header announces a UDP connection on a TCP listener";
			return -1;
		}
		need = v2_addr_len(fam);
		if (alen < need) {
			*why = "PROXY v2 address block is shorter than its address family needs";
			return -1;
		}
	}
	if (len < total)
		return 0;
	if (need > 0) {
		/* TLVs (type, 16-bit length, value) must tile the rest exactly. */
		for (off = need; off < alen;) {
			size_t tlen;

			if (alen - off < 3) {
				*why = "truncated TLV in PROXY v2 header";
				return -1;
			}
			tlen = (size_t)b[V2_HEAD_LEN + off + 1] << 8 | b[V2_HEAD_LEN + off + 2];
			if (tlen > alen - off - 3) {
				*why = "truncated TLV in PROXY v2 header";
				return -1;
			}
			off += 3 + tlen;
		}
	}
	out->version = 2;
	if (need > 0 && fam == V2_FAM_INET) {
		const unsigned char *a = b + V2_HEAD_LEN;
		uint16_t sp, dp;

		memcpy(&sp, a + 8, 2);
		memcpy(&dp, a + 10, 2);
		out->has_addr = true;
		set_addr(&out->src, AF_INET, a, sp);
		set_addr(&out->dst, AF_INET, a + 4, dp);
	} else if (need > 0 && fam == V2_FAM_INET6) {
		const unsigned char *a = b + V2_HEAD_LEN;
		uint16_t sp, dp;

		memcpy(&sp, a + 32, 2);
		memcpy(&dp, a + 34, 2);
		out->has_addr = true;
		set_addr(&out->src, AF_INET6, a, sp);
		set_addr(&out->dst, AF_INET6, a + 16, dp);
	}
	return (int)total;
}

int proxyproto_parse(const void *buf, size_t len, struct proxyproto_result *out, const char **why)
{
	const unsigned char *b = buf;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (b[0] == 'P')
		return parse_v1(buf, len, out, why);
	if (b[0] == v2_signature[0])
		return parse_v2(b, len, out, why);
	*why = no_header;
	return -1;
}

bool proxyproto_looks_like(const void *buf, size_t len)
{
	return (len >= 6 && memcmp(buf, "PROXY ", 6) == 0) ||
	       (len >= sizeof(v2_signature) && memcmp(buf, v2_signature, sizeof(v2_signature)) == 0);
}
