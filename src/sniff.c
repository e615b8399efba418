/*
 * sniff.c - tells TLS, STUN, HTTP and anything else apart from the first
 * bytes of a tunnel.  The ClientHello parser is strict about every length,
 * because a hello that only looks like TLS is what a tunnel abuser would
 * send; it reads the hello in place, across records, without copying it.
 */
#include "sniff.h"

#include <string.h>

/* RFC 5246 6.2.3 / RFC 8446 5.2: the largest record a peer may send. */
#define TLS_MAX_RECORD (16384 + 2048)
#define TLS_RECORD_HEADER 5
#define TLS_CONTENT_HANDSHAKE 0x16
#define TLS_HANDSHAKE_CLIENT_HELLO 1

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

#define STUN_HEADER 20
#define STUN_COOKIE 0x2112A442u

/*
 * The ClientHello as a stream of bytes that may be spread over several
 * handshake records.  Reads go forward only; when a read needs a byte that
 * has not arrived, it fails with SNIFF_NEED_MORE, and when the bytes are
 * wrong, with SNIFF_OTHER and a reason.  Positions inside the hello (pos,
 * msg_len) count hello body bytes only, whatever the record boundaries.
 */
struct hello_reader {
	const unsigned char *buf;
	size_t len;
	size_t off;     /* next byte of buf */
	size_t rec_end; /* end in buf of the current record's payload */
	size_t pos;     /* hello body bytes read */
	size_t msg_len; /* hello body length; SIZE_MAX until its header is read */
	enum sniff_kind fail;
	const char *why;
};

static bool bad(struct hello_reader *r, const char *why)
{
	r->fail = SNIFF_OTHER;
	r->why = why;
	return false;
}

static bool need_more(struct hello_reader *r)
{
	r->fail = SNIFF_NEED_MORE;
	return false;
}

/* Checks the record header at r->off (as much of it as there is) and steps
 * into its payload. */
static bool next_record(struct hello_reader *r)
{
	const unsigned char *p = r->buf + r->off;
	size_t avail = r->len - r->off, n;

	/* Even a one-byte record here would end past what the caller buffers. */
	if (r->off + TLS_RECORD_HEADER >= SNIFF_MAX_LEN)
		return bad(r, "ClientHello larger than 16 KiB");
	/* RFC 8446 5.1: handshake messages are not interleaved with other records. */
	if (avail >= 1 && p[0] != TLS_CONTENT_HANDSHAKE)
		return bad(r, "ClientHello interrupted by a record of another type");
	if (avail >= 2 && p[1] != 3)
		return bad(r, "TLS record version is not 3.x");
	if (avail >= 3 && (p[2] < 1 || p[2] > 4))
		return bad(r, "TLS record version outside 0x0301-0x0304");
	if (avail < TLS_RECORD_HEADER)
		return need_more(r);
	n = (size_t)p[3] << 8 | p[4];
	/* RFC 8446 5.1: zero-length handshake fragments are not allowed. */
	if (n == 0)
		return bad(r, "empty TLS handshake record");
	if (n > TLS_MAX_RECORD)
		return bad(r, "TLS record longer than 2^14+2048 bytes");
	/* The client sends nothing else before the server answers, and a key
	 * change for early data must start on a record boundary. */
	if (r->msg_len != SIZE_MAX && n > r->msg_len - r->pos)
		return bad(r, "TLS record continues after the ClientHello");
	if (r->off + TLS_RECORD_HEADER + n > SNIFF_MAX_LEN)
		return bad(r, "ClientHello larger than 16 KiB");
	r->off += TLS_RECORD_HEADER;
	r->rec_end = r->off + n;
	return true;
}

static bool get_byte(struct hello_reader *r, unsigned char *c)
{
	if (r->off == r->rec_end && !next_record(r))
		return false;
	if (r->off >= r->len)
		return need_more(r);
	*c = r->buf[r->off++];
	r->pos++;
	return true;
}

/* A big-endian number of n (1 to 3) bytes, which must lie within the hello. */
static bool get_num(struct hello_reader *r, size_t n, uint32_t *v, const char *why)
{
	unsigned char c;

	if (n > r->msg_len - r->pos)
		return bad(r, why);
	*v = 0;
	while (n--) {
		if (!get_byte(r, &c))
			return false;
		*v = *v << 8 | c;
	}
	return true;
}

/* Skips n bytes that the caller has checked lie within the hello. */
static bool skip(struct hello_reader *r, size_t n)
{
	while (n > 0) {
		size_t take;

		if (r->off == r->rec_end && !next_record(r))
			return false;
		if (r->off >= r->len)
			return need_more(r);
		take = r->rec_end - r->off;
		if (take > n)
			take = n;
		if (take > r->len - r->off)
			take = r->len - r->off;
		r->off += take;
		r->pos += take;
		n -= take;
	}
	return true;
}

/* A vector length of prefix_bytes that must fit in what is left of the hello
 * and lie in [min, max]. */
static bool get_vec_len(struct hello_reader *r, size_t prefix_bytes, size_t min, size_t max, uint32_t *n,
                        const char *what)
{
	if (!get_num(r, prefix_bytes, n, what))
		return false;
	if (*n > r->msg_len - r->pos)
		return bad(r, what);
	if (*n < min || *n > max)
		return bad(r, what);
	return true;
}

/* RFC 6066 3: one host_name, ASCII, no trailing dot.  Letters, digits and
 * '-' per RFC 1123, plus '_', which appears in real DNS names that browsers
 * do send as SNI; refusing it would break those sites behind strict-tls. */
static bool read_host_name(struct hello_reader *r, size_t n, char *out)
{
	size_t label = 0;

	if (n == 0)
		return bad(r, "empty server_name host name");
	if (n > 253)
		return bad(r, "server_name host name longer than 253 bytes");
	for (size_t i = 0; i < n; i++) {
		unsigned char c;

		if (!get_byte(r, &c))
			return false;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + ('a' - 'A'));
		if (c == '.') {
			if (label == 0)
				return bad(r, "server_name host name has an empty label");
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return bad(r, "server_name host name has a label longer than 63 bytes");
		} else {
			return bad(r,
			           "server_name host name has a character other than letters, digits, '-', '_', '.'");
		}
		out[i] = (char)c;
	}
	if (label == 0)
		return bad(r, "server_name host name ends with a dot");
	out[n] = '\0';
	return true;
}

/* RFC 6066 3: ServerNameList server_name_list<1..2^16-1>, each entry a
 * name_type and a HostName<1..2^16-1>; only host_name (0) exists, at most
 * once. */
static bool ext_server_name(struct hello_reader *r, size_t ext_len, struct sniff_result *out)
{
	uint32_t list, type, n;
	size_t end;

	if (ext_len < 2)
		return bad(r, "server_name extension shorter than its list length");
	if (!get_num(r, 2, &list, "truncated server_name list"))
		return false;
	if (list != ext_len - 2)
		return bad(r, "server_name list length does not match its extension");
	if (list == 0)
		return bad(r, "empty server_name list");
	end = r->pos + list;
	while (r->pos < end) {
		if (end - r->pos < 3)
			return bad(r, "truncated server_name entry");
		if (!get_num(r, 1, &type, "truncated server_name entry") ||
		    !get_num(r, 2, &n, "truncated server_name entry"))
			return false;
		if (n > end - r->pos)
			return bad(r, "server_name host name longer than its list");
		if (type != 0)
			return bad(r, "server_name entry of a type other than host_name");
		if (out->sni[0] != '\0')
			return bad(r, "server_name lists more than one host_name");
		if (!read_host_name(r, n, out->sni))
			return false;
	}
	return true;
}

/* Appends one ALPN name to out->alpn if it is printable, has no comma (the
 * separator) and fits whole; once one does not fit, later ones are left out
 * too so the list keeps the client's order. */
static void alpn_append(struct sniff_result *out, const char *name, size_t n, bool *full)
{
	size_t used = strlen(out->alpn), sep = used ? 1 : 0;

	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == ',')
			return;
	if (*full || used + sep + n + 1 > sizeof(out->alpn)) {
		*full = true;
		return;
	}
	if (sep)
		out->alpn[used++] = ',';
	memcpy(out->alpn + used, name, n);
	out->alpn[used + n] = '\0';
}

/* RFC 7301 3.1: ProtocolNameList protocol_name_list<2..2^16-1>, each a
 * ProtocolName<1..2^8-1>. */
static bool ext_alpn(struct hello_reader *r, size_t ext_len, struct sniff_result *out)
{
	uint32_t list, n;
	size_t end;
	bool full = false;

	if (ext_len < 2)
		return bad(r, "ALPN extension shorter than its list length");
	if (!get_num(r, 2, &list, "truncated ALPN list"))
		return false;
	if (list != ext_len - 2)
		return bad(r, "ALPN list length does not match its extension");
	if (list < 2)
		return bad(r, "empty ALPN list");
	end = r->pos + list;
	while (r->pos < end) {
		char name[255];
		unsigned char c;

		if (!get_num(r, 1, &n, "truncated ALPN list"))
			return false;
		if (n == 0)
			return bad(r, "empty ALPN protocol name");
		if (n > end - r->pos)
			return bad(r, "ALPN protocol name longer than its list");
		for (size_t i = 0; i < n; i++) {
			if (!get_byte(r, &c))
				return false;
			name[i] = (char)c;
		}
		alpn_append(out, name, n, &full);
	}
	return true;
}

/* RFC 8446 4.2.1: in a ClientHello, ProtocolVersion versions<2..254>. */
static bool ext_supported_versions(struct hello_reader *r, size_t ext_len, struct sniff_result *out)
{
	uint32_t n, v;

	if (ext_len < 1)
		return bad(r, "empty supported_versions extension");
	if (!get_num(r, 1, &n, "truncated supported_versions"))
		return false;
	if (n != ext_len - 1)
		return bad(r, "supported_versions list length does not match its extension");
	if (n < 2 || n % 2 != 0)
		return bad(r, "supported_versions list length is not a positive even number");
	for (; n > 0; n -= 2) {
		if (!get_num(r, 2, &v, "truncated supported_versions"))
			return false;
		if (v == 0x0304)
			out->has_supported_versions_13 = true;
	}
	return true;
}

/* RFC 5246 7.4.1.4 / RFC 8446 4.2: the extensions block runs exactly to the
 * end of the hello (it may be empty before TLS 1.3), and "there MUST NOT be
 * more than one extension of the same type". */
static bool extensions(struct hello_reader *r, struct sniff_result *out)
{
	uint64_t seen[65536 / 64];
	uint32_t block, type, n;

	if (!get_num(r, 2, &block, "truncated extensions length"))
		return false;
	if (block != r->msg_len - r->pos)
		return bad(r, "ClientHello extensions do not fill the hello");
	memset(seen, 0, sizeof(seen));
	while (r->pos < r->msg_len) {
		if (r->msg_len - r->pos < 4)
			return bad(r, "truncated extension header");
		if (!get_num(r, 2, &type, "truncated extension header") ||
		    !get_num(r, 2, &n, "truncated extension header"))
			return false;
		if (n > r->msg_len - r->pos)
			return bad(r, "extension longer than the extensions block");
		if (seen[type / 64] & (UINT64_C(1) << (type % 64)))
			return bad(r, "duplicate extension in ClientHello");
		seen[type / 64] |= UINT64_C(1) << (type % 64);
		switch (type) {
		case EXT_SERVER_NAME:
			if (!ext_server_name(r, n, out))
				return false;
			break;
		case EXT_ALPN:
			if (!ext_alpn(r, n, out))
				return false;
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (!ext_supported_versions(r, n, out))
				return false;
			break;
		default:
			if (!skip(r, n))
				return false;
		}
	}
	return true;
}

/* RFC 5246 7.4.1.2 / RFC 8446 4.1.2. */
static bool client_hello(struct hello_reader *r, struct sniff_result *out)
{
	uint32_t type, len, v;

	if (!get_num(r, 1, &type, "truncated handshake header") || !get_num(r, 3, &len, "truncated handshake header"))
		return false;
	if (type != TLS_HANDSHAKE_CLIENT_HELLO)
		return bad(r, "TLS handshake is not a ClientHello");
	if (len > SNIFF_MAX_LEN - TLS_RECORD_HEADER - 4)
		return bad(r, "ClientHello larger than 16 KiB");
	r->msg_len = len;
	r->pos = 0;
	if (r->rec_end - r->off > len)
		return bad(r, "TLS record continues after the ClientHello");

	if (!get_num(r, 2, &v, "ClientHello too short for its version"))
		return false;
	if (v >> 8 != 3)
		return bad(r, "ClientHello version is not 3.x");
	out->client_version = (uint16_t)v;
	if (32 > r->msg_len - r->pos)
		return bad(r, "ClientHello too short for its random");
	if (!skip(r, 32))
		return false;
	if (!get_vec_len(r, 1, 0, 32, &v, "ClientHello session id longer than 32 bytes or than the hello") ||
	    !skip(r, v))
		return false;
	if (!get_vec_len(r, 2, 2, 65534, &v, "ClientHello cipher suites empty or longer than the hello"))
		return false;
	if (v % 2 != 0)
		return bad(r, "ClientHello cipher suites length is odd");
	if (!skip(r, v))
		return false;
	if (!get_vec_len(r, 1, 1, 255, &v, "ClientHello compression methods empty or longer than the hello") ||
	    !skip(r, v))
		return false;
	/* Before TLS 1.3 the extensions block may be absent altogether. */
	/* The record length checks already made the hello end with a record. */
	return r->pos == r->msg_len || extensions(r, out);
}

static enum sniff_kind sniff_tls(const unsigned char *buf, size_t len, struct sniff_result *out)
{
	struct hello_reader r = {
		.buf = buf,
		.len = len,
		.msg_len = SIZE_MAX,
	};

	if (!next_record(&r) || !client_hello(&r, out)) {
		memset(out, 0, sizeof(*out));
		out->why = r.fail == SNIFF_OTHER ? r.why : NULL;
		return r.fail;
	}
	out->record_version = (uint16_t)(buf[1] << 8 | buf[2]);
	return SNIFF_TLS;
}

/* RFC 8489 5: the two top bits of the type are zero, the length counts
 * 4-byte-aligned attributes, and the magic cookie follows. */
static enum sniff_kind sniff_stun(const unsigned char *buf, size_t len, struct sniff_result *out)
{
	static const unsigned char cookie[4] = {
		STUN_COOKIE >> 24 & 0xff,
		STUN_COOKIE >> 16 & 0xff,
		STUN_COOKIE >> 8 & 0xff,
		STUN_COOKIE & 0xff,
	};

	for (size_t i = 4; i < 8 && i < len; i++)
		if (buf[i] != cookie[i - 4])
			return SNIFF_OTHER;
	if (len >= 4 && buf[3] % 4 != 0) {
		/* only worth a word to the admin once the cookie says STUN */
		if (len >= 8)
			out->why = "STUN message length is not a multiple of 4";
		return SNIFF_OTHER;
	}
	if (len < STUN_HEADER)
		return SNIFF_NEED_MORE;
	out->stun_type = (uint16_t)(buf[0] << 8 | buf[1]);
	return SNIFF_STUN;
}

static enum sniff_kind sniff_http(const unsigned char *buf, size_t len)
{
	static const char *const starts[] = {
		"GET ",
		"POST ",
		"HEAD ",
		"PUT ",
		"OPTIONS ",
		"CONNECT ",
		"DELETE ",
		"PATCH ",
		/* RFC 9113 3.4: prior-knowledge HTTP/2 begins with this preface */
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	};
	bool prefix = false;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t n = strlen(starts[i]);

		if (len >= n && memcmp(buf, starts[i], n) == 0)
			return SNIFF_HTTP;
		if (len < n && memcmp(buf, starts[i], len) == 0)
			prefix = true;
	}
	return prefix ? SNIFF_NEED_MORE : SNIFF_OTHER;
}

enum sniff_kind sniff(const unsigned char *buf, size_t len, struct sniff_result *out)
{
	enum sniff_kind k;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		k = SNIFF_NEED_MORE;
	else if (buf[0] == TLS_CONTENT_HANDSHAKE)
		k = sniff_tls(buf, len, out);
	else if ((buf[0] & 0xc0) == 0)
		k = sniff_stun(buf, len, out);
	else
		k = sniff_http(buf, len);
	out->kind = k;
	return k;
}

const char *sniff_kind_name(enum sniff_kind k)
{
	switch (k) {
	case SNIFF_NEED_MORE:
		return "incomplete";
	case SNIFF_TLS:
		return "tls";
	case SNIFF_STUN:
		return "stun";
	case SNIFF_HTTP:
		return "http";
	case SNIFF_OTHER:
		break;
	}
	return "other";
}
