/*
 * forward.c - head rewriting for plain-HTTP forwarding (RFC 9110 7.6).
 * Transfer-Encoding stays: pinhole relays chunked bodies as they are, so the
 * framing the origin or client chose is the framing the peer receives.
 */
#include "forward.h"
#include "common.h"

#include <string.h>

/* Whether name is one of the tokens of the message's Connection headers. */
static bool connection_lists(const struct http_header *h, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (!ph_memcaseeq(h[i].name, h[i].name_len, "Connection", 10))
			continue;
		const char *p = h[i].value, *end = p + h[i].value_len;

		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
				p++;
			const char *t = p;

			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if (p > t && ph_memcaseeq(t, (size_t)(p - t), name, len))
				return true;
		}
	}
	return false;
}

/* Copies the end-to-end headers of a message. */
static void copy_headers(struct buf *out, const struct http_header *h, size_t n, bool skip_host)
{
	for (size_t i = 0; i < n; i++) {
		const struct http_header *f = &h[i];
		bool te = ph_memcaseeq(f->name, f->name_len, "Transfer-Encoding", 17);

		if (!te && http_is_hop_by_hop(f->name, f->name_len))
			continue;
		if (skip_host && ph_memcaseeq(f->name, f->name_len, "Host", 4))
			continue;
		if (!te && connection_lists(h, n, f->name, f->name_len))
			continue;
		buf_append(out, f->name, f->name_len);
		buf_append(out, ": ", 2);
		buf_append(out, f->value, f->value_len);
		buf_append(out, "\r\n", 2);
	}
}

static void copy_upgrade(struct buf *out, const struct http_header *h, size_t n)
{
	const struct http_header *up = http_find_header(h, n, "Upgrade");

	if (!up)
		return;
	buf_append(out, "Connection: Upgrade\r\nUpgrade: ", 30);
	buf_append(out, up->value, up->value_len);
	buf_append(out, "\r\n", 2);
}

bool forward_wants_upgrade(const struct http_request *req)
{
	return http_find_header(req->headers, req->nheaders, "Upgrade") &&
	       http_headers_have_token(req->headers, req->nheaders, "Connection", "upgrade");
}

void forward_request_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade)
{
	const struct http_authority *a = &uri->authority;

	buf_append(out, req->method, req->method_len);
	buf_append(out, " ", 1);
	if (uri->path_len == 0 || uri->path[0] != '/')
		buf_append(out, "/", 1);
	buf_append(out, uri->path, uri->path_len);
	buf_append(out, " HTTP/1.1\r\nHost: ", 17);
	if (a->is_ipv6)
		buf_printf(out, "[%s]", a->host);
	else
		buf_append(out, a->host, strlen(a->host));
	if (a->port != 80)
		buf_printf(out, ":%u", a->port);
	buf_append(out, "\r\n", 2);
	copy_headers(out, req->headers, req->nheaders, true);
	if (upgrade)
		copy_upgrade(out, req->headers, req->nheaders);
	buf_printf(out, "Via: 1.%d pinhole\r\n\r\n", req->version_minor);
}

void forward_response_head(struct buf *out, const struct http_response *resp, bool close, bool upgrade)
{
	buf_printf(out, "HTTP/1.1 %d ", resp->status);
	buf_append(out, resp->reason, resp->reason_len);
	buf_append(out, "\r\n", 2);
	copy_headers(out, resp->headers, resp->nheaders, false);
	if (upgrade)
		copy_upgrade(out, resp->headers, resp->nheaders);
	buf_printf(out, "Via: 1.%d pinhole\r\n", resp->version_minor);
	if (close)
		buf_append(out, "Connection: close\r\n", 19);
	buf_append(out, "\r\n", 2);
}
