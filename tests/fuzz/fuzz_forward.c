/*
 * fuzz_forward.c - libFuzzer target for forward.c.  The first input byte
 * picks the head (a request in absolute form, a request inside an inspected
 * TLS session, a response) and the flags conn.c passes (upgrade, close,
 * HEAD); the rest is what a client or an origin sent.  Heads that conn.c
 * would forward are rewritten, and the result must parse again as exactly
 * one head saying the same thing: same method or status, same body framing,
 * every end-to-end field in order, no hop-by-hop field and none that a
 * Connection field names, pinhole's own Host and Via, CRLF line ends only.
 */
#include "common.h"
#include "forward.h"
#include "http.h"
#include "../lib/http_head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 9110 7.6.1, written out here rather than taken from http.c. */
static const char *const hop_by_hop[] = {
	"Connection", "Keep-Alive",        "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE",
	"Trailer",    "Transfer-Encoding", "Upgrade",
};

static bool caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool name_is(const char *s, size_t len, const char *name)
{
	return caseeq(s, len, name, strlen(name));
}

static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static bool is_hop(const struct http_header *f)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(hop_by_hop); i++)
		if (name_is(f->name, f->name_len, hop_by_hop[i]))
			return true;
	return false;
}

/* Whether a Connection field of h[0..n) lists f's name.  Tokens are split at
 * commas, spaces and tabs: a proxy that drops more is safe, one that keeps
 * a field the client meant for it alone is not. */
static bool listed(const struct http_header *h, size_t n, const struct http_header *f)
{
	for (size_t i = 0; i < n; i++) {
		const char *p, *end;

		if (!name_is(h[i].name, h[i].name_len, "Connection"))
			continue;
		p = h[i].value;
		end = p + h[i].value_len;
		while (p < end) {
			const char *t;

			while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
				p++;
			t = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if (p > t && caseeq(t, (size_t)(p - t), f->name, f->name_len))
				return true;
		}
	}
	return false;
}

static const struct http_header *first(const struct http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_is(h[i].name, h[i].name_len, name))
			return &h[i];
	return NULL;
}

/* The fields a rewritten head must carry, in order. */
struct expected {
	struct http_header f[HTTP_MAX_HEADERS + 8];
	size_t n;
	char host[HTTP_HOST_MAX + 16];
	char via[32];
};

static void expect(struct expected *e, const char *name, const char *value, size_t value_len)
{
	e->f[e->n].name = name;
	e->f[e->n].name_len = strlen(name);
	e->f[e->n].value = value;
	e->f[e->n].value_len = value_len;
	e->n++;
}

/* End-to-end fields pass in order; Transfer-Encoding stays whatever
 * Connection says, since pinhole relays the body as framed. */
static void expect_copied(struct expected *e, const struct http_header *h, size_t n, bool is_request)
{
	for (size_t i = 0; i < n; i++) {
		bool te = name_is(h[i].name, h[i].name_len, "Transfer-Encoding");

		if (!te && (is_hop(&h[i]) || listed(h, n, &h[i])))
			continue;
		if (is_request && name_is(h[i].name, h[i].name_len, "Host"))
			continue;
		e->f[e->n++] = h[i];
	}
}

static void expect_upgrade(struct expected *e, const struct http_header *h, size_t n, bool upgrade)
{
	const struct http_header *up = first(h, n, "Upgrade");

	if (!upgrade || !up)
		return;
	expect(e, "Connection", "Upgrade", 7);
	expect(e, "Upgrade", up->value, up->value_len);
}

/* Line ends are CRLF and only CRLF, no NUL, and the first empty line is
 * the end of out. */
static void check_lines(const char *out, size_t len)
{
	FUZZ_ASSERT(len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
	for (size_t i = 0; i < len; i++) {
		FUZZ_ASSERT(out[i] != '\0');
		if (out[i] == '\r')
			FUZZ_ASSERT(i + 1 < len && out[i + 1] == '\n');
		if (out[i] == '\n') {
			FUZZ_ASSERT(i > 0 && out[i - 1] == '\r');
			if (i + 3 < len)
				FUZZ_ASSERT(out[i + 1] != '\r');
		}
	}
}

static void check_fields(const struct http_header *got, size_t ngot, const struct expected *e)
{
	FUZZ_ASSERT(ngot == e->n);
	for (size_t i = 0; i < e->n; i++) {
		FUZZ_ASSERT(same(got[i].name, got[i].name_len, e->f[i].name, e->f[i].name_len));
		FUZZ_ASSERT(same(got[i].value, got[i].value_len, e->f[i].value, e->f[i].value_len));
	}
}

/* Said once more without the model above: a hop-by-hop field leaves only as
 * pinhole writes it, and no field the sender's Connection named leaves but
 * the ones pinhole writes itself. */
static void check_consumed(const struct http_header *got, size_t ngot, const struct http_header *in, size_t nin,
                           bool upgrade, bool close)
{
	for (size_t i = 0; i < ngot; i++) {
		const struct http_header *g = &got[i];

		if (name_is(g->name, g->name_len, "Transfer-Encoding"))
			continue;
		if (name_is(g->name, g->name_len, "Connection"))
			FUZZ_ASSERT((upgrade && same(g->value, g->value_len, "Upgrade", 7)) ||
			            (close && same(g->value, g->value_len, "close", 5)));
		else if (name_is(g->name, g->name_len, "Upgrade"))
			FUZZ_ASSERT(upgrade);
		else
			FUZZ_ASSERT(!is_hop(g));
		if (!name_is(g->name, g->name_len, "Host") && !name_is(g->name, g->name_len, "Via") &&
		    !name_is(g->name, g->name_len, "Connection") && !name_is(g->name, g->name_len, "Upgrade"))
			FUZZ_ASSERT(!listed(in, nin, g));
	}
}

static bool same_framing(const struct http_framing *a, const struct http_framing *b)
{
	return a->kind == b->kind && (a->kind != HTTP_BODY_LENGTH || a->length == b->length);
}

static void check_request(const struct http_request *req, const struct http_uri *uri, bool upgrade)
{
	static struct http_request again;
	static struct expected e;
	const struct http_authority *a = &uri->authority;
	struct buf out = { 0 };
	struct http_framing f1, f2;
	struct http_authority ha;
	const char *why = NULL, *o;
	size_t len;
	int rc;

	FUZZ_ASSERT(http_request_framing(req, &f1, &why) == 0);
	forward_request_head(&out, req, uri, upgrade);
	o = buf_data(&out);
	len = buf_len(&out);
	check_lines(o, len);

	e.n = 0;
	if (a->port != 80)
		snprintf(e.host, sizeof(e.host), a->is_ipv6 ? "[%s]:%u" : "%s:%u", a->host, a->port);
	else
		snprintf(e.host, sizeof(e.host), a->is_ipv6 ? "[%s]" : "%s", a->host);
	expect(&e, "Host", e.host, strlen(e.host));
	expect_copied(&e, req->headers, req->nheaders, true);
	expect_upgrade(&e, req->headers, req->nheaders, upgrade);
	snprintf(e.via, sizeof(e.via), "1.%d pinhole", req->version_minor);
	expect(&e, "Via", e.via, strlen(e.via));

	rc = head_request(o, len, len, &again, &why);
	if (e.n > HTTP_MAX_HEADERS) {
		/* More fields than pinhole itself reads: an origin may refuse
		 * them the same way, but the head is still one head. */
		FUZZ_ASSERT(rc == -431);
		buf_release(&out);
		return;
	}
	FUZZ_ASSERT(rc > 0 && (size_t)rc == len);
	FUZZ_ASSERT(head_request(o, len - 1, len, &again, &why) == 0);
	rc = head_request(o, len, len, &again, &why);
	FUZZ_ASSERT((size_t)rc == len);

	FUZZ_ASSERT(same(again.method, again.method_len, req->method, req->method_len));
	FUZZ_ASSERT(again.version_minor == 1);
	if (uri->path[0] == '/') {
		FUZZ_ASSERT(same(again.target, again.target_len, uri->path, uri->path_len));
	} else {
		FUZZ_ASSERT(again.target_len == uri->path_len + 1 && again.target[0] == '/');
		FUZZ_ASSERT(memcmp(again.target + 1, uri->path, uri->path_len) == 0);
	}
	check_fields(again.headers, again.nheaders, &e);
	check_consumed(again.headers, again.nheaders, req->headers, req->nheaders, upgrade, false);

	/* Host says where the request goes. */
	FUZZ_ASSERT(http_parse_authority(again.headers[0].value, again.headers[0].value_len, false, &ha, &why) == 0);
	FUZZ_ASSERT(strcmp(ha.host, a->host) == 0 && ha.is_ipv6 == a->is_ipv6);
	FUZZ_ASSERT((ha.port ? ha.port : 80) == a->port);

	/* The origin sees the body the proxy relays. */
	FUZZ_ASSERT(http_request_framing(&again, &f2, &why) == 0);
	FUZZ_ASSERT(same_framing(&f1, &f2));
	FUZZ_ASSERT(forward_wants_upgrade(&again) == (upgrade && first(req->headers, req->nheaders, "Upgrade")));
	buf_release(&out);
}

/* An absolute-form request, as handle_forward() takes it. */
static void fuzz_proxy_request(const char *buf, size_t len, uint8_t opt)
{
	static struct http_request req;
	struct http_framing f;
	struct http_uri uri;
	const char *why = NULL;

	if (head_request(buf, len, 65536, &req, &why) <= 0)
		return;
	if (req.target[0] == '/' || req.target[0] == '*')
		return;
	if (http_parse_absolute_uri(req.target, req.target_len, &uri, &why) < 0)
		return;
	if (uri.authority.port == 0)
		uri.authority.port = 80;
	if (http_request_framing(&req, &f, &why) < 0)
		return;
	check_request(&req, &uri, (opt & 0x10) && forward_wants_upgrade(&req));
}

/* An origin-form request inside an inspected TLS session, as
 * handle_inspected() takes it: the host is the one the tunnel named. */
static void fuzz_inspected_request(const char *buf, size_t len, uint8_t opt)
{
	static const struct {
		const char *host;
		bool ip, ipv6;
	} hosts[] = {
		{ "www.example.com", false, false },
		{ "10.1.2.3", true, false },
		{ "2001:db8::1", true, true },
		{ "api.opentok.com", false, false },
	};
	static struct http_request req;
	struct http_framing f;
	struct http_uri uri = { 0 };
	const char *why = NULL;
	unsigned k = (opt >> 6) & 3;

	if (head_request(buf, len, 65536, &req, &why) <= 0)
		return;
	if (req.target[0] != '/')
		return;
	if (http_request_framing(&req, &f, &why) < 0)
		return;
	snprintf(uri.authority.host, sizeof(uri.authority.host), "%s", hosts[k].host);
	uri.authority.is_ip = hosts[k].ip;
	uri.authority.is_ipv6 = hosts[k].ipv6;
	uri.authority.port = (opt & 0x20) ? 8443 : 443;
	uri.path = req.target;
	uri.path_len = req.target_len;
	check_request(&req, &uri, (opt & 0x10) && forward_wants_upgrade(&req));
}

static void fuzz_response(const char *buf, size_t len, uint8_t opt)
{
	static struct http_response resp, again;
	static struct expected e;
	bool close = opt & 0x20, upgrade = opt & 0x10, head = opt & 0x40;
	struct buf out = { 0 };
	struct http_framing f1, f2;
	const char *why = NULL, *o;
	size_t olen;
	int rc, fr;

	if (head_response(buf, len, 65536, &resp, &why) <= 0)
		return;
	fr = http_response_framing(&resp, head, &f1, &why);
	forward_response_head(&out, &resp, close, upgrade);
	o = buf_data(&out);
	olen = buf_len(&out);
	check_lines(o, olen);

	e.n = 0;
	expect_copied(&e, resp.headers, resp.nheaders, false);
	expect_upgrade(&e, resp.headers, resp.nheaders, upgrade);
	snprintf(e.via, sizeof(e.via), "1.%d pinhole", resp.version_minor);
	expect(&e, "Via", e.via, strlen(e.via));
	if (close)
		expect(&e, "Connection", "close", 5);

	rc = head_response(o, olen, olen, &again, &why);
	if (e.n > HTTP_MAX_HEADERS) {
		FUZZ_ASSERT(rc == -502);
		buf_release(&out);
		return;
	}
	FUZZ_ASSERT(rc > 0 && (size_t)rc == olen);
	FUZZ_ASSERT(head_response(o, olen - 1, olen, &again, &why) == 0);
	rc = head_response(o, olen, olen, &again, &why);
	FUZZ_ASSERT((size_t)rc == olen);
	FUZZ_ASSERT(again.status == resp.status && again.version_minor == 1);
	FUZZ_ASSERT(same(again.reason, again.reason_len, resp.reason, resp.reason_len));
	check_fields(again.headers, again.nheaders, &e);
	check_consumed(again.headers, again.nheaders, resp.headers, resp.nheaders, upgrade, close);
	FUZZ_ASSERT(http_headers_have_token(again.headers, again.nheaders, "Connection", "close") == close);

	/* The client reads the body the proxy relays. */
	if (fr == 0) {
		FUZZ_ASSERT(http_response_framing(&again, head, &f2, &why) == 0);
		FUZZ_ASSERT(same_framing(&f1, &f2));
	}
	buf_release(&out);
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
	switch (sel % 3) {
	case 0:
		fuzz_proxy_request(buf, size, sel);
		break;
	case 1:
		fuzz_inspected_request(buf, size, sel);
		break;
	default:
		fuzz_response(buf, size, sel);
		break;
	}
	return 0;
}
