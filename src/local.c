/*
 * local.c - requests pinhole answers itself instead of forwarding: those
 * to the self-check host (selfcheck.h).  GET / is the page, GET /echo with
 * a WebSocket upgrade the echo the page opens, POST /result what the page
 * found.  Browsers open ws:// through a proxy with a CONNECT to port 80,
 * so a CONNECT to the self-check host is answered here too, and the
 * requests inside it are served like the others.  Authentication applies
 * as for any request (the page says how the browser authenticated); the
 * access rules do not, since nothing leaves pinhole.
 */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "escape.h"
#include "forward.h"
#include "selfcheck.h"
#include "selfcheck_cfg.h"
#include "server.h"
#include "strbuf.h"
#include "websocket.h"

/* A posted result is a few hundred bytes; an echo frame is small. */
#define LOCAL_BODY_MAX (16 * 1024)
#define LOCAL_WS_PAYLOAD_MAX (64 * 1024)

enum local_phase {
	LOCAL_BODY,  /* reading POST /result's body */
	LOCAL_FLUSH, /* sending the answer */
};

/* Queues an answer; the connection goes on (keep-alive) or closes after. */
static int answer(struct conn *c, int status, const char *type, const char *body, size_t len, const char *extra)
{
	buf_printf(&c->c.out,
	           "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
	           "X-Content-Type-Options: nosniff\r\n%s%s\r\n",
	           status, http_reason(status), type, len, extra ? extra : "",
	           c->keepalive ? "" : "Connection: close\r\n");
	buf_append(&c->c.out, body, len);
	c->txn.status = status;
	snprintf(c->txn.mime, sizeof(c->txn.mime), "%.*s", (int)strcspn(type, ";"), type);
	c->txn.local_phase = LOCAL_FLUSH;
	c->state = CS_LOCAL;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

static int answer_text(struct conn *c, int status, const char *text, const char *extra)
{
	return answer(c, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

static int page(struct conn *c)
{
	struct strbuf b = { 0 };
	char csp[600], extra[700];
	struct selfcheck_client cl = {
		.addr = &c->client_addr,
		.user = c->txn.user,
		.auth = c->txn.auth,
		.user_agent = c->txn.ua,
	};
	int r;

	selfcheck_page(c->cfg, &cl, &b, csp, sizeof(csp));
	snprintf(extra, sizeof(extra), "Content-Security-Policy: %s\r\n", csp);
	r = answer(c, 200, "text/html; charset=utf-8", b.p, b.len, extra);
	free(b.p);
	return r;
}

/* RFC 6455 4.2: the handshake, then the connection is the echo's. */
static int websocket(struct conn *c, const struct http_request *req)
{
	const struct http_header *key = http_find_header(req->headers, req->nheaders, "Sec-WebSocket-Key");
	const struct http_header *ver = http_find_header(req->headers, req->nheaders, "Sec-WebSocket-Version");
	char accept[29];

	if (!ver || ver->value_len != 2 || memcmp(ver->value, "13", 2) != 0)
		return answer_text(c, 426, "This echo speaks WebSocket version 13.\n", "Sec-WebSocket-Version: 13\r\n");
	if (!key || ws_accept_key(key->value, key->value_len, accept) != PH_OK)
		return answer_text(c, 400, "Sec-WebSocket-Key is not the base64 of 16 bytes.\n", NULL);
	buf_printf(&c->c.out,
	           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	           "Sec-WebSocket-Accept: %s\r\n\r\n",
	           accept);
	c->txn.status = 101;
	c->txn.response_started = true;
	conn_log(c, "NONE_NONE", 101, NULL);
	c->state = CS_LOCAL_WS;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* The path of the request: origin-form, or an absolute URI's path. */
static void path_of(const struct http_request *req, const struct http_uri *uri, const char **p, size_t *n)
{
	if (uri) {
		*p = uri->path;
		*n = uri->path_len;
	} else {
		*p = req->target;
		*n = req->target_len;
	}
	*n = strcspn(*p, "?#") < *n ? strcspn(*p, "?#") : *n;
}

static bool path_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

int local_request(struct conn *c, const struct http_request *req, const struct http_uri *uri)
{
	struct http_framing fr;
	const char *path, *why = NULL;
	size_t plen;
	bool get = strcmp(c->txn.method, "GET") == 0 || strcmp(c->txn.method, "HEAD") == 0;

	if (!uri) {
		size_t n = strlen(c->cfg->selfcheck->host) + req->target_len + 8;

		free(c->txn.url);
		c->txn.url = ph_malloc(n);
		snprintf(c->txn.url, n, "http://%s%.*s", c->cfg->selfcheck->host, (int)req->target_len, req->target);
		snprintf(c->txn.user, sizeof(c->txn.user), "%s", c->local_user);
		c->txn.auth = c->local_auth;
	}
	snprintf(c->txn.host, sizeof(c->txn.host), "%s", c->cfg->selfcheck->host);
	c->txn.port = 80;
	if (conn_client_wants_close(req))
		c->keepalive = false;
	if (http_request_framing(req, &fr, &why) != PH_OK)
		return conn_fail(c, 400, "NONE_NONE", "Refused: %s.", why);
	buf_consume(&c->c.in, req->head_len);
	path_of(req, uri, &path, &plen);
	if (path_is(path, plen, "/result")) {
		if (strcmp(c->txn.method, "POST") != 0)
			return answer_text(c, 405, "POST the results here.\n", "Allow: POST\r\n");
		if (fr.kind != HTTP_BODY_LENGTH)
			return answer_text(c, 411, "The results come with a Content-Length.\n", NULL);
		if (fr.length > LOCAL_BODY_MAX)
			return answer_text(c, 413, "The results are larger than a self-check page sends.\n", NULL);
		c->txn.local_body = (uint32_t)fr.length;
		c->txn.local_phase = LOCAL_BODY;
		c->state = CS_LOCAL;
		conn_deadline(c, c->cfg->server->timeout_idle_ms);
		return PH_OK;
	}
	if (fr.kind != HTTP_BODY_NONE && !(fr.kind == HTTP_BODY_LENGTH && fr.length == 0))
		return conn_fail(c, 405, "NONE_NONE", "Only the self-check page's results are posted to %s.",
		                 c->cfg->selfcheck->host);
	if (path_is(path, plen, "/echo") && get && forward_wants_upgrade(req) &&
	    http_headers_have_token(req->headers, req->nheaders, "Upgrade", "websocket"))
		return websocket(c, req);
	if (path_is(path, plen, "/") && get)
		return page(c);
	if (!get)
		return answer_text(c, 405, "The self-check page takes GET.\n", "Allow: GET, HEAD\r\n");
	return answer_text(c, 404, "The self-check page is at /.\n", NULL);
}

int local_connect(struct conn *c, const struct http_authority *a)
{
	if (a->port != 80)
		return conn_fail(c, 403, "TCP_DENIED",
		                 "%s is pinhole's self-check page, served at http://%s/ (port 80), not on port %u.",
		                 a->host, a->host, a->port);
	/* The requests inside are pinhole's to answer, as whoever the
	 * CONNECT authenticated. */
	c->local = true;
	snprintf(c->local_user, sizeof(c->local_user), "%s", c->txn.user);
	c->local_auth = c->txn.auth;
	buf_printf(&c->c.out, "HTTP/1.1 200 Connection established\r\n\r\n");
	c->txn.status = 200;
	snprintf(c->txn.mime, sizeof(c->txn.mime), "self-check");
	c->txn.local_phase = LOCAL_FLUSH;
	c->state = CS_LOCAL;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

static int posted(struct conn *c)
{
	struct selfcheck_result r;
	const char *why = NULL;

	memset(&r, 0, sizeof(r));
	if (selfcheck_parse_result(buf_data(&c->c.in), c->txn.local_body, &r, &why) != PH_OK) {
		buf_consume(&c->c.in, c->txn.local_body);
		return conn_fail(c, 400, "NONE_NONE", "Bad self-check results: %s.", why);
	}
	buf_consume(&c->c.in, c->txn.local_body);
	r.when_ms = ph_wall_ms();
	snprintf(r.user, sizeof(r.user), "%s", c->txn.user);
	snprintf(r.auth, sizeof(r.auth), "%s", c->txn.auth ? c->txn.auth : "");
	snprintf(r.user_agent, sizeof(r.user_agent), "%s", c->txn.ua);
	selfcheck_store(&c->client_addr, &r);
	return answer(c, 204, "text/plain", "", 0, NULL);
}

int local_step(struct conn *c)
{
	if (c->txn.local_phase == LOCAL_BODY) {
		while (buf_len(&c->c.in) < c->txn.local_body) {
			int r;

			if (c->c.eof)
				return conn_fail(c, 400, "NONE_NONE",
				                 "The client closed in the middle of its results.");
			r = side_read(&c->c, LOCAL_BODY_MAX + BUF_SIZE);
			if (r != PH_OK)
				return r;
		}
		return posted(c);
	}
	int r = side_flush(&c->c);

	if (r != PH_OK)
		return r;
	conn_log(c, "NONE_NONE", c->txn.status, NULL);
	if (!c->keepalive) {
		c->state = CS_RESPOND;
		return PH_OK;
	}
	conn_txn_begin(c);
	c->state = CS_HEAD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* Echoes every complete frame in c.in: data as it came, a ping as a pong,
 * a close as a close (then the connection ends).  PH_DONE after a close or
 * a frame this echo refuses (answered with close 1002 or 1009). */
static int echo_frames(struct conn *c)
{
	for (;;) {
		struct ws_frame f;
		const char *why = NULL;
		uint8_t hdr[10];
		int r = ws_frame_parse((const uint8_t *)buf_data(&c->c.in), buf_len(&c->c.in), LOCAL_WS_PAYLOAD_MAX, &f,
		                       &why);

		if (r == PH_ERROR) {
			static const uint8_t close_1002[] = { 0x88, 0x02, 0x03, 0xea };

			buf_append(&c->c.out, close_1002, sizeof(close_1002));
			return PH_DONE;
		}
		if (r == PH_AGAIN || buf_len(&c->c.in) < f.header_len + f.length)
			return PH_AGAIN;
		uint8_t *payload = (uint8_t *)buf_data(&c->c.in) + f.header_len;

		ws_unmask(payload, (size_t)f.length, f.mask, 0);
		switch (f.opcode) {
		case WS_PONG:
			break;
		case WS_PING:
			buf_append(&c->c.out, hdr, ws_frame_header(hdr, true, WS_PONG, f.length));
			buf_append(&c->c.out, payload, (size_t)f.length);
			break;
		case WS_CLOSE:
			buf_append(&c->c.out, hdr, ws_frame_header(hdr, true, WS_CLOSE, f.length >= 2 ? 2 : 0));
			buf_append(&c->c.out, payload, f.length >= 2 ? 2 : 0);
			buf_consume(&c->c.in, f.header_len + (size_t)f.length);
			return PH_DONE;
		default:
			buf_append(&c->c.out, hdr, ws_frame_header(hdr, f.fin, f.opcode, f.length));
			buf_append(&c->c.out, payload, (size_t)f.length);
			break;
		}
		buf_consume(&c->c.in, f.header_len + (size_t)f.length);
	}
}

int local_ws_step(struct conn *c)
{
	for (;;) {
		int e = echo_frames(c), r = side_flush(&c->c);

		if (r == PH_ERROR)
			return PH_ERROR;
		if (e == PH_DONE) {
			/* The last frames go out before the close. */
			c->keepalive = false;
			c->state = CS_RESPOND;
			return PH_OK;
		}
		if (r == PH_AGAIN)
			return PH_AGAIN; /* the client reads slowly: so does the echo */
		if (c->c.eof)
			return PH_DONE;
		r = side_read(&c->c, LOCAL_WS_PAYLOAD_MAX + 14);
		if (r != PH_OK)
			return r;
		conn_deadline(c, c->cfg->server->timeout_idle_ms);
	}
}
