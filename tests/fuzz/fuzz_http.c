/*
 * fuzz_http.c - libFuzzer target for http.c.  The first input byte picks the
 * parser (request head, response head, chunked body in random splits,
 * authority, absolute URI) and its options; the rest is the untrusted bytes.
 * Beyond the sanitizers, it aborts when an invariant of http.h breaks.
 */
#include "common.h"
#include "http.h"
#include "../lib/http_head.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && p + n <= buf + len;
}

static void check_headers(const struct http_header *h, size_t n, const char *buf, size_t head_len)
{
	FUZZ_ASSERT(n <= HTTP_MAX_HEADERS);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(h[i].name_len > 0);
		FUZZ_ASSERT(inside(h[i].name, h[i].name_len, buf, head_len));
		FUZZ_ASSERT(inside(h[i].value, h[i].value_len, buf, head_len));
		FUZZ_ASSERT(!memchr(h[i].name, ':', h[i].name_len));
		FUZZ_ASSERT(!memchr(h[i].value, '\n', h[i].value_len));
		FUZZ_ASSERT(!memchr(h[i].value, '\r', h[i].value_len));
		FUZZ_ASSERT(!memchr(h[i].value, '\0', h[i].value_len));
		if (h[i].value_len > 0) {
			FUZZ_ASSERT(h[i].value[0] != ' ' && h[i].value[0] != '\t');
			FUZZ_ASSERT(h[i].value[h[i].value_len - 1] != ' ');
			FUZZ_ASSERT(h[i].value[h[i].value_len - 1] != '\t');
		}
	}
}

static void check_framing(int rc, const struct http_framing *f, const char *why)
{
	FUZZ_ASSERT(rc == PH_OK || rc == PH_ERROR);
	if (rc == PH_ERROR)
		FUZZ_ASSERT(why != NULL);
	else
		FUZZ_ASSERT(f->kind == HTTP_BODY_NONE || f->kind == HTTP_BODY_LENGTH || f->kind == HTTP_BODY_CHUNKED ||
		            f->kind == HTTP_BODY_CLOSE);
}

static void fuzz_request(const char *buf, size_t len, uint8_t opt)
{
	static struct http_request req;
	struct http_framing f;
	const char *why = NULL;
	size_t max_head = (opt & 0x80) ? len / 2 + 1 : 65536;
	size_t k = len ? (size_t)opt * 131 % len : 0;
	int rc, rk;

	rc = head_request(buf, len, max_head, &req, &why);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL);
		FUZZ_ASSERT(rc == -400 || rc == -431 || rc == -505);
	}
	/* Fewer bytes never turn a refusal into success, nor a head into an
	 * error: a prefix of an accepted head is incomplete. */
	rk = head_request(buf, k, max_head, &req, &why);
	if (rk < 0)
		FUZZ_ASSERT(rc < 0);
	if (rc == 0)
		FUZZ_ASSERT(rk == 0);
	rc = head_request(buf, len, max_head, &req, &why);
	if (rc <= 0)
		return;
	FUZZ_ASSERT((size_t)rc <= len && (size_t)rc <= max_head);
	FUZZ_ASSERT(req.head_len == (size_t)rc);
	FUZZ_ASSERT(req.version_minor == 0 || req.version_minor == 1);
	FUZZ_ASSERT(req.method_len > 0 && req.target_len > 0);
	FUZZ_ASSERT(inside(req.method, req.method_len, buf, (size_t)rc));
	FUZZ_ASSERT(inside(req.target, req.target_len, buf, (size_t)rc));
	check_headers(req.headers, req.nheaders, buf, (size_t)rc);
	FUZZ_ASSERT(buf[rc - 1] == '\n');
	if (k < (size_t)rc)
		FUZZ_ASSERT(rk == 0);

	why = NULL;
	rk = http_request_framing(&req, &f, &why);
	check_framing(rk, &f, why);
	if (rk == PH_OK)
		FUZZ_ASSERT(f.kind != HTTP_BODY_CLOSE);

	/* the same head alone parses the same */
	rk = head_request(buf, (size_t)rc, max_head, &req, &why);
	FUZZ_ASSERT(rk == rc);
	rk = head_request(buf, (size_t)rc - 1, max_head, &req, &why);
	FUZZ_ASSERT(rk == 0);
}

static void fuzz_response(const char *buf, size_t len, uint8_t opt)
{
	static struct http_response resp;
	struct http_framing f;
	const char *why = NULL;
	size_t max_head = (opt & 0x80) ? len / 2 + 1 : 65536;
	int rc, rk;

	rc = head_response(buf, len, max_head, &resp, &why);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL);
		FUZZ_ASSERT(rc == -502);
		return;
	}
	if (rc == 0)
		return;
	FUZZ_ASSERT((size_t)rc <= len && (size_t)rc <= max_head);
	FUZZ_ASSERT(resp.head_len == (size_t)rc);
	FUZZ_ASSERT(resp.status >= 100 && resp.status <= 999);
	FUZZ_ASSERT(inside(resp.reason, resp.reason_len, buf, (size_t)rc));
	check_headers(resp.headers, resp.nheaders, buf, (size_t)rc);
	why = NULL;
	rk = http_response_framing(&resp, opt & 0x40, &f, &why);
	check_framing(rk, &f, why);
	rk = head_response(buf, (size_t)rc - 1, max_head, &resp, &why);
	FUZZ_ASSERT(rk == 0);
}

/* Scans buf in pieces whose sizes come from a small generator seeded by
 * opt, and checks the outcome equals scanning it whole. */
static void fuzz_chunked(const char *buf, size_t len, uint8_t opt)
{
	struct http_chunked whole, split;
	const char *why = NULL;
	size_t used_whole = 0, consumed = 0, off = 0, used;
	uint32_t seed = opt * 2654435761u + 1;
	int rc_whole, rc = PH_AGAIN;

	http_chunked_init(&whole);
	rc_whole = http_chunked_scan(&whole, buf, len, &used_whole, &why);
	FUZZ_ASSERT(used_whole <= len);
	if (rc_whole == PH_AGAIN)
		FUZZ_ASSERT(used_whole == len);
	if (rc_whole == PH_ERROR)
		FUZZ_ASSERT(why != NULL);

	http_chunked_init(&split);
	while (rc == PH_AGAIN) {
		size_t piece;

		seed = seed * 1103515245u + 12345u;
		piece = (opt & 1) ? 1 : (seed >> 16) % 17;
		piece = PH_MIN(piece, len - off);
		used = (size_t)-1;
		rc = http_chunked_scan(&split, buf + off, piece, &used, &why);
		FUZZ_ASSERT(used <= piece);
		if (rc == PH_AGAIN)
			FUZZ_ASSERT(used == piece);
		consumed += used;
		off += piece;
		if (off == len && rc == PH_AGAIN)
			break;
	}
	FUZZ_ASSERT(rc == rc_whole);
	if (rc == PH_OK)
		FUZZ_ASSERT(consumed == used_whole);
	if (rc == PH_AGAIN)
		FUZZ_ASSERT(consumed == len);
}

static void check_authority(const struct http_authority *a)
{
	size_t n = strnlen(a->host, HTTP_HOST_MAX);

	FUZZ_ASSERT(n > 0 && n < HTTP_HOST_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(!(a->host[i] >= 'A' && a->host[i] <= 'Z'));
	FUZZ_ASSERT(a->host[n - 1] != '.');
	if (a->is_ipv6)
		FUZZ_ASSERT(a->is_ip);
}

static void fuzz_authority(const char *buf, size_t len, uint8_t opt)
{
	struct http_authority a;
	const char *why = NULL;
	bool port_required = opt & 0x80;
	int rc = http_parse_authority(buf, len, port_required, &a, &why);

	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	check_authority(&a);
	if (port_required)
		FUZZ_ASSERT(a.port != 0);
}

static void fuzz_uri(const char *buf, size_t len, uint8_t opt)
{
	struct http_uri u;
	const char *why = NULL;
	int rc = http_parse_absolute_uri(buf, len, &u, &why);

	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	check_authority(&u.authority);
	FUZZ_ASSERT(u.authority.port != 0);
	FUZZ_ASSERT(u.path_len > 0);
	if (!(u.path_len == 1 && u.path[0] == '/' && !inside(u.path, 1, buf, len)))
		FUZZ_ASSERT(inside(u.path, u.path_len, buf, len));
	FUZZ_ASSERT(u.path[0] == '/' || u.path[0] == '?');
	FUZZ_ASSERT(!memchr(u.path, '#', u.path_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	buf = (const char *)data + 1;
	size--;
	switch (sel % 5) {
	case 0:
		fuzz_request(buf, size, sel);
		break;
	case 1:
		fuzz_response(buf, size, sel);
		break;
	case 2:
		fuzz_chunked(buf, size, sel);
		break;
	case 3:
		fuzz_authority(buf, size, sel);
		break;
	default:
		fuzz_uri(buf, size, sel);
		break;
	}
	return 0;
}
