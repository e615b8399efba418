/*
 * fuzz_log.c - libFuzzer target for the access-log line (log.c's
 * log_format_access) and the escapers of escape.h.  The first input byte
 * picks what is run and how; then come the numbers and addresses of an
 * entry and its text fields, separated by NULs (any bytes, one of them
 * repeated to tens of kilobytes on demand).  Beyond the sanitizers: a line
 * is shorter than its buffer and ends with its only newline; at the size
 * log_access() uses, a JSON line parses as one object of the documented
 * keys whose strings are valid UTF-8 and say what the entry said (or a
 * prefix of it with the cut marker), a Squid line has its ten fields; each
 * escaper's output is what escape.h promises and decodes back to its input.
 */
#include "common.h"
#include "escape.h"
#include "log.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* log_access()'s buffer: URL_MAX + 16 * FIELD_MAX in log.c. */
#define LINE_CAP (8192 + 16 * 512)
#define CUT_MARK "...[cut]"
#define LONG_MAX_LEN 40000

/* ---- UTF-8 and JSON, written out from RFC 3629 and RFC 8259 ---- */

/* Length of the well-formed sequence at s (at most n bytes), 0 if none. */
static size_t u8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

static bool valid_utf8(const char *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0, l; i < n; i += l) {
		l = u8_len((const unsigned char *)s + i, n - i, &cp);
		if (l == 0)
			return false;
	}
	return true;
}

static void put_cp(struct strbuf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		strbuf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(b, u, 4);
	}
}

/* s[0..n) with every byte that does not start a well-formed sequence
 * replaced by U+FFFD; html: control characters but tab and LF too. */
static void sanitized(struct strbuf *b, const char *s, size_t n, bool html)
{
	uint32_t cp;

	b->len = 0;
	strbuf_add(b, "", 0);
	for (size_t i = 0, l; i < n; i += l) {
		l = u8_len((const unsigned char *)s + i, n - i, &cp);
		if (l == 0 || (html && ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f))) {
			put_cp(b, 0xfffd);
			l = l ? l : 1;
		} else {
			strbuf_add(b, s + i, l);
		}
	}
}

static int hex4(const char *p, const char *end, uint32_t *v)
{
	*v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = ph_hexval(p[i]);

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* Decodes the inside of a JSON string from p up to its closing quote (or
 * end when stop_at_quote is false) into out.  Strict: escapes of RFC 8259
 * only, paired surrogates only, no control character, valid UTF-8.
 * Returns the position after the string, NULL when malformed. */
static const char *json_string(const char *p, const char *end, bool stop_at_quote, struct strbuf *out)
{
	out->len = 0;
	strbuf_add(out, "", 0);
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		uint32_t cp, lo;
		size_t l;

		if (c == '"')
			return stop_at_quote ? p : NULL;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			l = u8_len((const unsigned char *)p, (size_t)(end - p), &cp);
			if (l == 0)
				return NULL;
			strbuf_add(out, p, l);
			p += l;
			continue;
		}
		if (++p == end)
			return NULL;
		switch (*p++) {
		case '"':
			put_cp(out, '"');
			break;
		case '\\':
			put_cp(out, '\\');
			break;
		case '/':
			put_cp(out, '/');
			break;
		case 'b':
			put_cp(out, '\b');
			break;
		case 'f':
			put_cp(out, '\f');
			break;
		case 'n':
			put_cp(out, '\n');
			break;
		case 'r':
			put_cp(out, '\r');
			break;
		case 't':
			put_cp(out, '\t');
			break;
		case 'u':
			if (hex4(p, end, &cp) < 0)
				return NULL;
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return NULL;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return NULL;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_cp(out, cp);
			break;
		default:
			return NULL;
		}
	}
	return stop_at_quote ? NULL : p;
}

/* Whether the decoded field says what the entry said: all of it, or a
 * prefix with the cut marker. */
static bool says(const struct strbuf *got, const struct strbuf *want)
{
	size_t m = sizeof(CUT_MARK) - 1;

	if (got->len == want->len && memcmp(got->p, want->p, got->len) == 0)
		return true;
	return got->len >= m && memcmp(got->p + got->len - m, CUT_MARK, m) == 0 && got->len - m <= want->len &&
	       memcmp(got->p, want->p, got->len - m) == 0;
}

/* ---- the entry ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct reader *r, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v = v << 8 | (r->n ? *r->p : 0);
		if (r->n)
			r->p++, r->n--;
	}
	return v;
}

static void take_addr(struct reader *r, struct sockaddr_storage *ss)
{
	uint8_t fam = (uint8_t)take(r, 1);

	memset(ss, 0, sizeof(*ss));
	if (fam % 4 == 0) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		for (size_t i = 0; i < 4; i++)
			((uint8_t *)&s4->sin_addr)[i] = (uint8_t)take(r, 1);
	} else if (fam % 4 == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		for (size_t i = 0; i < 16; i++)
			s6->sin6_addr.s6_addr[i] = (uint8_t)take(r, 1);
	} else if (fam % 4 == 2) {
		ss->ss_family = AF_UNIX;
	} else {
		ss->ss_family = fam;
	}
}

enum { F_RESULT, F_METHOD, F_URL, F_USER, F_HIER, F_MIME, F_ERROR, F_AUTH, F_PARENT, F_PARENT_HOST, F_COUNT };

struct entry {
	struct access_entry e;
	struct sockaddr_storage client, peer;
	const char *field[F_COUNT];
	char *text;
	char *long_text;
};

static void entry_read(struct entry *x, const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	unsigned nulls, long_field, rep, flags;
	size_t off = 0, rest;

	memset(&x->e, 0, sizeof(x->e));
	x->e.end_ms = take(&r, 8);
	x->e.elapsed_ms = take(&r, 8);
	x->e.status = (int)(uint32_t)take(&r, 4);
	x->e.bytes_out = take(&r, 8);
	x->e.bytes_in = take(&r, 8);
	take_addr(&r, &x->client);
	x->e.client = &x->client;
	take_addr(&r, &x->peer);
	x->e.peer = take(&r, 1) & 1 ? &x->peer : NULL;
	nulls = (unsigned)take(&r, 1);
	long_field = (unsigned)take(&r, 1);
	rep = (unsigned)take(&r, 2);
	flags = (unsigned)take(&r, 1);
	x->e.webrtc = flags & 1;
	x->e.client_tls = flags & 2;

	rest = r.n;
	x->text = malloc(rest + 1);
	memcpy(x->text, r.p, rest);
	x->text[rest] = '\0';
	/* The parent's fields are there when flags say so (a request through
	 * a parent proxy), the others unless nulls says they are NULL. */
	nulls |= (flags & 4 ? 0u : 1u << F_PARENT) | (flags & 8 ? 0u : 1u << F_PARENT_HOST);
	for (int i = 0; i < F_COUNT; i++) {
		x->field[i] = off <= rest && !(nulls >> i & 1) ? x->text + off : NULL;
		off += off <= rest ? strlen(x->text + off) + 1 : 0;
	}
	/* Very long: one field repeated, past every share of the line. */
	x->long_text = NULL;
	if ((long_field & 0x80) && x->field[long_field % F_COUNT] && x->field[long_field % F_COUNT][0]) {
		const char *s = x->field[long_field % F_COUNT];
		size_t n = strlen(s), total = PH_MIN((size_t)rep * n, (size_t)LONG_MAX_LEN);

		x->long_text = malloc(total + 1);
		for (size_t i = 0; i < total; i++)
			x->long_text[i] = s[i % n];
		x->long_text[total] = '\0';
		x->field[long_field % F_COUNT] = x->long_text;
	}
	x->e.result = x->field[F_RESULT];
	x->e.method = x->field[F_METHOD];
	x->e.url = x->field[F_URL];
	x->e.user = x->field[F_USER];
	x->e.hierarchy = x->field[F_HIER];
	x->e.mime = x->field[F_MIME];
	x->e.error = x->field[F_ERROR];
	x->e.auth = x->field[F_AUTH];
	x->e.parent = x->field[F_PARENT];
	x->e.parent_host = x->field[F_PARENT_HOST];
	/* A parent's host is a host name: no slash, which the Squid format's
	 * HIERARCHY/PEER field is split at. */
	if (x->e.parent_host && strchr(x->e.parent_host, '/'))
		x->e.parent_host = NULL;
}

static void entry_free(struct entry *x)
{
	free(x->text);
	free(x->long_text);
}

/* ---- the JSON line ---- */

static const char *skip_number(const char *p, const char *end)
{
	const char *s = p;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else {
		if (p == end || *p < '1' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static void check_json_field(const char *v, const char *vend, bool is_string, const struct strbuf *dec,
                             const char *want, size_t short_len)
{
	static struct strbuf w;

	if (!want) {
		FUZZ_ASSERT(!is_string && vend - v == 4 && memcmp(v, "null", 4) == 0);
		return;
	}
	FUZZ_ASSERT(is_string);
	sanitized(&w, want, strlen(want), false);
	FUZZ_ASSERT(says(dec, &w));
	/* A short field is never cut. */
	if (strlen(want) <= short_len)
		FUZZ_ASSERT(dec->len == w.len);
}

static void check_json_line(const char *line, size_t n, const struct entry *x)
{
	static const char *const keys[] = { "ts",       "elapsed_ms", "client", "result", "status",    "bytes_out",
		                            "bytes_in", "method",     "url",    "user",   "hierarchy", "peer",
		                            "parent",   "mime",       "error",  "auth",   "webrtc",    "client_tls" };
	static struct strbuf key, val;
	const char *p = line, *end = line + n;
	char addr[64];

	FUZZ_ASSERT(p < end && *p++ == '{');
	for (size_t k = 0; k < PH_ARRAY_LEN(keys); k++) {
		const char *v, *vend;
		bool is_string;

		FUZZ_ASSERT(p < end && *p++ == '"');
		p = json_string(p, end, true, &key);
		FUZZ_ASSERT(p != NULL);
		p++;
		FUZZ_ASSERT(strcmp(key.p, keys[k]) == 0);
		FUZZ_ASSERT(p < end && *p++ == ':');
		v = p;
		is_string = p < end && *p == '"';
		if (is_string) {
			p = json_string(p + 1, end, true, &val);
			FUZZ_ASSERT(p != NULL);
			p++;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			p += 4;
		} else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
			p += 4;
		} else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
			p += 5;
		} else {
			p = skip_number(p, end);
			FUZZ_ASSERT(p != NULL);
		}
		vend = p;
		switch (k) {
		case 0: {
			char ts[48];

			snprintf(ts, sizeof(ts), "%llu.%03llu", (unsigned long long)(x->e.end_ms / 1000),
			         (unsigned long long)(x->e.end_ms % 1000));
			FUZZ_ASSERT((size_t)(vend - v) == strlen(ts) && memcmp(v, ts, strlen(ts)) == 0);
			break;
		}
		case 1:
			FUZZ_ASSERT(!is_string && strtoull(v, NULL, 10) == x->e.elapsed_ms);
			break;
		case 2:
			FUZZ_ASSERT(is_string && strcmp(val.p, ph_addr_str(x->e.client, addr, sizeof(addr))) == 0);
			break;
		case 3:
			check_json_field(v, vend, is_string, &val, x->e.result, 80);
			break;
		case 4:
			FUZZ_ASSERT(!is_string && strtoll(v, NULL, 10) == x->e.status);
			break;
		case 5:
			FUZZ_ASSERT(!is_string && strtoull(v, NULL, 10) == x->e.bytes_out);
			break;
		case 6:
			FUZZ_ASSERT(!is_string && strtoull(v, NULL, 10) == x->e.bytes_in);
			break;
		case 7:
			check_json_field(v, vend, is_string, &val, x->e.method, 80);
			break;
		case 8:
			check_json_field(v, vend, is_string, &val, x->e.url, 1300);
			break;
		case 9:
			check_json_field(v, vend, is_string, &val, x->e.user, 80);
			break;
		case 10:
			check_json_field(v, vend, is_string, &val, x->e.hierarchy ? x->e.hierarchy : "HIER_NONE", 80);
			break;
		case 11:
			/* Through a parent (no origin address): its host. */
			if (x->e.peer)
				FUZZ_ASSERT(is_string &&
				            strcmp(val.p, ph_addr_str(x->e.peer, addr, sizeof(addr))) == 0);
			else
				check_json_field(v, vend, is_string, &val, x->e.parent_host, 80);
			break;
		case 12:
			check_json_field(v, vend, is_string, &val, x->e.parent, 80);
			break;
		case 13:
			check_json_field(v, vend, is_string, &val, x->e.mime, 80);
			break;
		case 14:
			check_json_field(v, vend, is_string, &val, x->e.error, 160);
			break;
		case 15:
			check_json_field(v, vend, is_string, &val, x->e.auth, 80);
			break;
		case 16:
			FUZZ_ASSERT(vend - v == (x->e.webrtc ? 4 : 5) && *v == (x->e.webrtc ? 't' : 'f'));
			break;
		default:
			FUZZ_ASSERT(vend - v == (x->e.client_tls ? 4 : 5) && *v == (x->e.client_tls ? 't' : 'f'));
			break;
		}
		FUZZ_ASSERT(p < end);
		if (k + 1 < PH_ARRAY_LEN(keys))
			FUZZ_ASSERT(*p++ == ',');
	}
	FUZZ_ASSERT(p < end && *p++ == '}');
	FUZZ_ASSERT(p == end);
}

/* ---- the Squid line ---- */

static void squid_field(struct strbuf *b, const char *s)
{
	b->len = 0;
	strbuf_add(b, "", 0);
	if (!s || !*s) {
		strbuf_add(b, "-", 1);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		strbuf_add(b, c <= 0x20 || c >= 0x7f ? "_" : s, 1);
	}
}

static void check_squid_field(const char *f, size_t n, const char *want, size_t short_len)
{
	static struct strbuf w;
	struct strbuf got = { (char *)f, n, n };

	squid_field(&w, want);
	FUZZ_ASSERT(says(&got, &w));
	if (want && strlen(want) <= short_len)
		FUZZ_ASSERT(n == w.len);
}

static void check_squid_line(const char *line, size_t n, const struct entry *x)
{
	const char *f[16];
	size_t flen[16], nf = 0, i = 0;
	char addr[64], num[48];
	const char *slash;

	for (size_t k = 0; k < n; k++)
		FUZZ_ASSERT(line[k] >= 0x20 && line[k] < 0x7f);
	while (i < n) {
		while (i < n && line[i] == ' ')
			i++;
		if (i == n)
			break;
		FUZZ_ASSERT(nf < PH_ARRAY_LEN(f));
		f[nf] = line + i;
		while (i < n && line[i] != ' ')
			i++;
		flen[nf] = (size_t)(line + i - f[nf]);
		nf++;
	}
	FUZZ_ASSERT(nf == 10);
	snprintf(num, sizeof(num), "%llu.%03llu", (unsigned long long)(x->e.end_ms / 1000),
	         (unsigned long long)(x->e.end_ms % 1000));
	FUZZ_ASSERT(flen[0] == strlen(num) && memcmp(f[0], num, flen[0]) == 0);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)x->e.elapsed_ms);
	FUZZ_ASSERT(flen[1] == strlen(num) && memcmp(f[1], num, flen[1]) == 0);
	ph_addr_str(x->e.client, addr, sizeof(addr));
	FUZZ_ASSERT(flen[2] == strlen(addr) && memcmp(f[2], addr, flen[2]) == 0);
	/* result/status: the status is what follows the last slash */
	slash = NULL;
	for (const char *p = f[3]; p < f[3] + flen[3]; p++)
		if (*p == '/')
			slash = p;
	FUZZ_ASSERT(slash != NULL);
	check_squid_field(f[3], (size_t)(slash - f[3]), x->e.result ? x->e.result : "NONE_NONE", 80);
	snprintf(num, sizeof(num), "%03d", x->e.status);
	FUZZ_ASSERT((size_t)(f[3] + flen[3] - slash - 1) == strlen(num) && memcmp(slash + 1, num, strlen(num)) == 0);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)x->e.bytes_out);
	FUZZ_ASSERT(flen[4] == strlen(num) && memcmp(f[4], num, flen[4]) == 0);
	check_squid_field(f[5], flen[5], x->e.method, 400);
	check_squid_field(f[6], flen[6], x->e.url, 8000);
	check_squid_field(f[7], flen[7], x->e.user, 400);
	/* hierarchy/peer: the peer is what follows the last slash */
	slash = NULL;
	for (const char *p = f[8]; p < f[8] + flen[8]; p++)
		if (*p == '/')
			slash = p;
	FUZZ_ASSERT(slash != NULL);
	check_squid_field(f[8], (size_t)(slash - f[8]), x->e.hierarchy ? x->e.hierarchy : "HIER_NONE", 400);
	if (x->e.peer) {
		ph_addr_str(x->e.peer, addr, sizeof(addr));
	} else if (x->e.parent_host) {
		check_squid_field(slash + 1, (size_t)(f[8] + flen[8] - slash - 1), x->e.parent_host, 400);
		addr[0] = '\0';
	} else {
		strcpy(addr, "-");
	}
	if (addr[0])
		FUZZ_ASSERT((size_t)(f[8] + flen[8] - slash - 1) == strlen(addr) &&
		            memcmp(slash + 1, addr, strlen(addr)) == 0);
	check_squid_field(f[9], flen[9], x->e.mime, 400);
}

static void fuzz_line(const uint8_t *data, size_t size, uint8_t opt)
{
	enum access_log_format format = opt & 1 ? ACCESS_LOG_JSON : ACCESS_LOG_SQUID;
	struct entry x;
	size_t cap, n;
	char *line;

	if (size < 1)
		return;
	/* The buffer log_access() uses, or any smaller one (at least 2). */
	cap = (opt & 4) ? 2 + (size_t)data[0] * 61 % LINE_CAP : LINE_CAP;
	entry_read(&x, data + 1, size - 1);
	line = malloc(cap);
	n = log_format_access(&x.e, format, line, cap);
	FUZZ_ASSERT(n >= 1 && n < cap);
	FUZZ_ASSERT(line[n - 1] == '\n');
	FUZZ_ASSERT(memchr(line, '\n', n - 1) == NULL);
	FUZZ_ASSERT(memchr(line, '\r', n) == NULL);
	FUZZ_ASSERT(memchr(line, '\0', n) == NULL);
	if (cap == LINE_CAP) {
		if (format == ACCESS_LOG_JSON)
			check_json_line(line, n - 1, &x);
		else
			check_squid_line(line, n - 1, &x);
	}
	free(line);
	entry_free(&x);
}

/* ---- the escapers ---- */

/* The escaped length of the character at s, as the JSON escaper writes it. */
static size_t json_escaped_len(const char *s, size_t n)
{
	uint32_t cp;
	size_t l = u8_len((const unsigned char *)s, n, &cp);

	if (l == 0)
		return 6;
	if (cp == '"' || cp == '\\')
		return 2;
	/* Controls, C1, the line separators and the bidirectional marks. */
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 6;
	return l;
}

static void fuzz_esc_json(const char *s, size_t len, size_t cap)
{
	static struct strbuf dec, want;
	char *dst = malloc(cap ? cap : 1);
	size_t used = (size_t)-1, o = esc_json(dst, cap, s, len, &used);

	FUZZ_ASSERT(o <= cap && used <= len);
	FUZZ_ASSERT(esc_json(dst, cap, s, len, NULL) == o);
	/* Valid JSON string text, decoding to the consumed input. */
	FUZZ_ASSERT(json_string(dst, dst + o, false, &dec) == dst + o);
	sanitized(&want, s, used, false);
	FUZZ_ASSERT(dec.len == want.len && memcmp(dec.p, want.p, dec.len) == 0);
	/* U+2028 and U+2029 end a line in JavaScript: never raw. */
	for (size_t i = 0; i + 2 < o; i++)
		FUZZ_ASSERT(!((unsigned char)dst[i] == 0xe2 && (unsigned char)dst[i + 1] == 0x80 &&
		              ((unsigned char)dst[i + 2] == 0xa8 || (unsigned char)dst[i + 2] == 0xa9)));
	/* It stopped only where the next character did not fit. */
	if (used < len)
		FUZZ_ASSERT(json_escaped_len(s + used, len - used) > cap - o);
	free(dst);
}

static void fuzz_esc_json_str(const char *s)
{
	static struct strbuf dec, want;
	struct strbuf b = { 0 };

	esc_json_str(&b, s);
	FUZZ_ASSERT(b.p && strlen(b.p) == b.len);
	if (!s) {
		FUZZ_ASSERT(strcmp(b.p, "null") == 0);
		free(b.p);
		return;
	}
	FUZZ_ASSERT(b.len >= 2 && b.p[0] == '"' && b.p[b.len - 1] == '"');
	FUZZ_ASSERT(json_string(b.p + 1, b.p + b.len - 1, false, &dec) == b.p + b.len - 1);
	sanitized(&want, s, strlen(s), false);
	FUZZ_ASSERT(dec.len == want.len && memcmp(dec.p, want.p, dec.len) == 0);
	free(b.p);
}

static void fuzz_esc_html(const char *s)
{
	static const char *const ent[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#xfffd;" };
	static const uint32_t ent_cp[] = { '&', '<', '>', '"', '\'', 0xfffd };
	static struct strbuf dec, want;
	struct strbuf b = { 0 };
	size_t i = 0;

	esc_html(&b, s);
	sanitized(&want, s ? s : "", s ? strlen(s) : 0, true);
	dec.len = 0;
	strbuf_add(&dec, "", 0);
	if (!b.p) {
		FUZZ_ASSERT(want.len == 0);
		return;
	}
	FUZZ_ASSERT(strlen(b.p) == b.len && valid_utf8(b.p, b.len));
	while (i < b.len) {
		unsigned char c = (unsigned char)b.p[i];
		size_t k;

		FUZZ_ASSERT(c != '<' && c != '>' && c != '"' && c != '\'' && c != 0x7f);
		FUZZ_ASSERT(c >= 0x20 || c == '\t' || c == '\n');
		if (c != '&') {
			strbuf_add(&dec, b.p + i, 1);
			i++;
			continue;
		}
		for (k = 0; k < PH_ARRAY_LEN(ent); k++)
			if (strncmp(b.p + i, ent[k], strlen(ent[k])) == 0)
				break;
		FUZZ_ASSERT(k < PH_ARRAY_LEN(ent));
		put_cp(&dec, ent_cp[k]);
		i += strlen(ent[k]);
	}
	FUZZ_ASSERT(dec.len == want.len && memcmp(dec.p, want.p, dec.len) == 0);
	free(b.p);
}

static void fuzz_esc_printable(const char *s, size_t len, size_t cap)
{
	char *dst = malloc(cap ? cap : 1);
	size_t o = esc_printable(dst, cap, s, len), i = 0, k = 0;

	if (cap == 0) {
		FUZZ_ASSERT(o == 0);
		free(dst);
		return;
	}
	FUZZ_ASSERT(o < cap && dst[o] == '\0');
	/* Printable ASCII only: the input's printable bytes as they are (a
	 * backslash too), every other byte as \xNN, in order... */
	while (k < len) {
		unsigned char c = (unsigned char)s[k];
		size_t need = c >= 0x20 && c < 0x7f ? 1 : 4;

		if (i + need > o)
			break;
		if (need == 1) {
			FUZZ_ASSERT((unsigned char)dst[i] == c);
		} else {
			FUZZ_ASSERT(dst[i] == '\\' && dst[i + 1] == 'x');
			FUZZ_ASSERT(ph_hexval(dst[i + 2]) >= 0 && ph_hexval(dst[i + 3]) >= 0);
			FUZZ_ASSERT(c == (ph_hexval(dst[i + 2]) << 4 | ph_hexval(dst[i + 3])));
		}
		i += need;
		k++;
	}
	FUZZ_ASSERT(i == o);
	for (i = 0; i < o; i++)
		FUZZ_ASSERT((unsigned char)dst[i] >= 0x20 && (unsigned char)dst[i] < 0x7f);
	/* ...cut only where the next byte's form did not fit. */
	if (k < len) {
		unsigned char c = (unsigned char)s[k];
		size_t need = c >= 0x20 && c < 0x7f ? 1 : 4;

		FUZZ_ASSERT(o + need >= cap);
	}
	free(dst);
}

static void fuzz_escapers(const uint8_t *data, size_t size, uint8_t opt)
{
	size_t cap, len;
	char *s;

	if (size < 1)
		return;
	cap = (opt & 0x80) ? (size_t)data[0] * 64 : data[0];
	len = size - 1;
	s = malloc(len + 1);
	memcpy(s, data + 1, len);
	s[len] = '\0';
	switch ((opt >> 2) % 4) {
	case 0:
		fuzz_esc_json(s, len, cap);
		break;
	case 1:
		fuzz_esc_json_str((opt & 0x40) ? NULL : s);
		break;
	case 2:
		fuzz_esc_html((opt & 0x40) ? NULL : s);
		break;
	default:
		fuzz_esc_printable(s, len, cap);
		break;
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 2)
		fuzz_escapers(data + 1, size - 1, data[0]);
	else
		fuzz_line(data + 1, size - 1, data[0]);
	return 0;
}
