/*
 * parent.c - requests and tunnels through a parent proxy (upstream-proxy):
 * which parent a request takes and the destination checks that need no
 * name resolution (pinhole never resolves an origin a parent reaches),
 * failing over to the next parent of the line, TLS with an https://
 * parent, the CONNECT exchange, and the legs of pinhole's own
 * authentication to the parent (auth/client.c) for CONNECT and plain HTTP.
 * The line, the parents and their shared state are upstream.c's; forward.c
 * and tunnel.c hand their requests over here and take them back once the
 * parent said yes.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "acl.h"
#include "client.h"
#include "common.h"
#include "config.h"
#include "forward.h"
#include "log.h"
#include "server.h"
#include "strbuf.h"
#include "upstream.h"

/* A request body up to this size is read whole before it goes out when it
 * may have to go out again: with credentials after a 407, or to the next
 * parent. */
#define HOLD_MAX (64 * 1024)

enum {
	PX_NONE,
	PX_TLS,     /* TLS handshake with an https:// parent */
	PX_CONNECT, /* the CONNECT out, waiting for the parent's answer */
	PX_DRAIN,   /* reading the body of a 407 before the next leg */
};

struct conn_parent {
	/* The transaction's: its line and the parent being tried. */
	const struct upstream_route *route; /* c->cfg's */
	const struct upstream_parent *p;    /* NULL: the transaction goes direct */
	size_t next;                        /* the line's next parent to try */
	bool last_timed_out;
	char tried[400]; /* "a:3128 (connection refused), ..." for the 502 */
	uint8_t phase;
	bool is_connect;
	bool replayable; /* the request can be sent again (no body, or held) */
	bool answer_needs_this_connection;
	size_t hold;          /* body bytes to read whole before sending */
	struct buf head;      /* the request head, without its final CRLF */
	struct buf body;      /* a held body */
	char *method, *uri;   /* as the request line says them (Digest signs them) */
	struct strbuf answer; /* the Proxy-Authorization of the next send */
	struct auth_client *auth;
	/* The origin side's: what it is to the parent. */
	bool authed; /* NTLM or Negotiate authenticated this connection */
	char via[UPSTREAM_LABEL_MAX];
	char via_host[HTTP_HOST_MAX];
};

static struct conn_parent *cp_of(struct conn *c)
{
	if (!c->parent)
		c->parent = ph_calloc(1, sizeof(*c->parent));
	return c->parent;
}

void parent_free(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	if (!cp)
		return;
	buf_release(&cp->head);
	buf_release(&cp->body);
	free(cp->method);
	free(cp->uri);
	free(cp->answer.p);
	auth_client_free(cp->auth);
	free(cp);
	c->parent = NULL;
}

bool parent_target(const struct conn *c, const char **host, uint16_t *port)
{
	if (!c->parent || !c->parent->p)
		return false;
	if (host)
		*host = c->parent->p->host;
	if (port)
		*port = c->parent->p->port;
	return true;
}

const char *parent_via(const struct conn *c, const char **host)
{
	if (!c->txn.via_parent || !c->parent || !c->parent->via[0])
		return NULL;
	if (host)
		*host = c->parent->via_host;
	return c->parent->via;
}

bool parent_tunnel(const struct conn *c)
{
	return c->parent && c->parent->is_connect && c->parent->via[0];
}

void parent_attached(struct conn *c)
{
	if (c->parent)
		c->parent->authed = false;
}

/* The transaction reached parent p (connected, or over a kept connection). */
static void use(struct conn *c, const struct upstream_parent *p)
{
	struct conn_parent *cp = c->parent;

	upstream_reached(p->state);
	c->txn.via_parent = true;
	snprintf(cp->via, sizeof(cp->via), "%s", p->label);
	snprintf(cp->via_host, sizeof(cp->via_host), "%s", p->host);
}

static void connect_request(struct conn *c);

/* ---- which parent ---- */

/* The destination checks that need no lookup: an IP literal meets the
 * address rules (dst-local included), a hosts-file name with each of its
 * addresses; any other name the rules judge by its name alone. */
bool parent_destination_allowed(struct conn *c, const struct http_authority *a)
{
	const struct hosts_entry *h;
	const struct rule *rule;
	enum addr_verdict v;

	if (a->is_ip) {
		struct sockaddr_storage dst;
		struct acl_subject s;

		access_subject(c, a, &s, &dst);
		v = access_address(c, &dst, &rule);
		if (v != ADDR_ALLOWED) {
			access_refuse_address(c, &dst, v, rule);
			return false;
		}
		return true;
	}
	h = hosts_lookup(&c->cfg->dns->hosts, a->host);
	if (!h)
		return access_allowed_unresolved(c, a);
	for (size_t i = 0; i < h->naddrs; i++) {
		struct sockaddr_storage addr = h->addrs[i];

		v = access_address(c, &addr, &rule);
		if (v != ADDR_ALLOWED) {
			access_refuse_address(c, &addr, v, rule);
			return false;
		}
	}
	return true;
}

const struct upstream_parent *parent_choose(struct conn *c, const struct http_authority *a, bool *answered)
{
	const struct upstream_route *r;
	const struct upstream_parent *p;
	struct sockaddr_storage dst;
	struct acl_subject s;
	struct conn_parent *cp;
	size_t idx;

	*answered = false;
	if (c->parent)
		c->parent->p = NULL;
	if (!c->cfg->upstream->n)
		return NULL;
	access_subject(c, a, &s, &dst);
	r = upstream_select(c->cfg->upstream, &s);
	if (!r || r->direct)
		return NULL;
	if (!parent_destination_allowed(c, a)) {
		*answered = true;
		return NULL;
	}
	cp = cp_of(c);
	cp->route = r;
	cp->is_connect = false;
	cp->hold = 0;
	cp->tried[0] = '\0';
	cp->last_timed_out = false;
	cp->phase = PX_NONE;
	p = upstream_next(r, 0, ph_mono_ms(), &idx);
	if (!p) {
		struct strbuf names = { 0 };

		for (size_t i = 0; i < r->nparents; i++)
			strbuf_printf(&names, "%s%s", i ? ", " : "", r->parents[i].label);
		conn_fail(c, 502, "TCP_MISS",
		          "Every parent proxy of %s:%d is down (%s): they failed a moment ago and are tried again "
		          "within %llu s.",
		          r->file, r->line, names.p, (unsigned long long)((r->retry_ms + 999) / 1000));
		free(names.p);
		*answered = true;
		return NULL;
	}
	cp->p = p;
	cp->next = idx + 1;
	if (c->txn.is_connect)
		connect_request(c);
	return p;
}

/* ---- the request, as sent and sent again ---- */

static struct auth_client_creds creds_of(const struct upstream_parent *p)
{
	struct auth_client_creds cr = { NULL, NULL, 0 };

	if (p->creds) {
		cr.user = p->creds->user;
		cr.password = p->creds->password;
		cr.id = p->creds->id;
	}
	return cr;
}

/* c->o.out: the head, the Proxy-Authorization of this leg, the held body. */
static void put_request(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	buf_release(&c->o.out);
	buf_append(&c->o.out, buf_data(&cp->head), buf_len(&cp->head));
	if (cp->answer.len) {
		buf_append(&c->o.out, "Proxy-Authorization: ", 21);
		buf_append(&c->o.out, cp->answer.p, cp->answer.len);
		buf_append(&c->o.out, "\r\n", 2);
	}
	buf_append(&c->o.out, "\r\n", 2);
	if (buf_len(&cp->body))
		buf_append(&c->o.out, buf_data(&cp->body), buf_len(&cp->body));
}

/* A new transaction towards cp->p: its handshake starts over, with what
 * the parent accepted before when the connection is not authenticated. */
static void start_auth(struct conn *c)
{
	struct conn_parent *cp = c->parent;
	struct auth_client_creds cr = creds_of(cp->p);
	struct auth_client_request rq = { cp->method, cp->uri, cp->p->host, &cr, ph_wall_ms() };

	auth_client_free(cp->auth);
	cp->auth = auth_client_new();
	cp->answer.len = 0;
	if (cp->answer.p)
		cp->answer.p[0] = '\0';
	if (!cp->authed)
		auth_client_preempt(&cp->p->state->auth, cp->auth, &rq, &cp->answer);
}

static void set_request_line(struct conn_parent *cp, const char *method, size_t mlen, const char *uri, size_t ulen)
{
	free(cp->method);
	free(cp->uri);
	cp->method = ph_strndup(method, mlen);
	cp->uri = ph_strndup(uri, ulen);
}

/* The CONNECT for c->txn.url ("host:port"). */
static void connect_request(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	cp->is_connect = true;
	cp->replayable = true;
	cp->hold = 0;
	buf_release(&cp->body);
	buf_release(&cp->head);
	set_request_line(cp, "CONNECT", 7, c->txn.url, strlen(c->txn.url));
	buf_printf(&cp->head, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", c->txn.url, c->txn.url);
	start_auth(c);
	put_request(c);
}

void parent_request(struct conn *c, const struct upstream_parent *p, const struct http_request *req,
                    const struct http_uri *uri, const struct http_framing *fr)
{
	struct conn_parent *cp = cp_of(c);
	bool has_body = fr->kind == HTTP_BODY_CHUNKED || (fr->kind == HTTP_BODY_LENGTH && fr->length > 0);

	cp->p = p;
	cp->is_connect = false;
	buf_release(&cp->body);
	buf_release(&cp->head);
	set_request_line(cp, req->method, req->method_len, req->target, req->target_len);
	forward_parent_head(&cp->head, req, uri, c->txn.upgrade);
	start_auth(c);
	/* A 407 is answered by sending the request again, and a parent that
	 * fails before it answered leaves the request to the next one: a
	 * small body is kept for that, unless neither can happen (no
	 * credentials or an authenticated connection, no parent after this
	 * one). */
	cp->hold = 0;
	if (has_body && fr->kind == HTTP_BODY_LENGTH && fr->length <= HOLD_MAX &&
	    ((p->creds && !cp->authed) || cp->next < cp->route->nparents))
		cp->hold = (size_t)fr->length;
	cp->replayable = !has_body || cp->hold > 0;
	put_request(c);
}

void parent_reused(struct conn *c)
{
	use(c, c->parent->p);
}

int parent_hold_step(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	if (!cp || !cp->hold)
		return PH_OK;
	while (buf_len(&c->c.in) < cp->hold) {
		int r;

		if (c->c.eof)
			return conn_fail(c, 400, "TCP_MISS_ABORTED",
			                 "The client closed before sending the whole body.");
		r = side_read(&c->c, cp->hold);
		if (r == PH_ERROR)
			return conn_fail(c, 400, "TCP_MISS_ABORTED", "Reading the request body failed.");
		if (r == PH_AGAIN)
			return PH_AGAIN;
	}
	buf_append(&cp->body, buf_data(&c->c.in), cp->hold);
	cp->hold = 0;
	return PH_OK;
}

/* ---- failing over ---- */

/* The request goes out again from the copy in cp (head and held body):
 * what the client's body still has in c->c.in (all of it is there, held)
 * is dropped, and nothing more is relayed from the client.  False when
 * the client closed before its body was whole. */
static bool rewind_body(struct conn *c)
{
	struct conn_parent *cp = c->parent;
	const char *why = NULL;

	if (cp->is_connect || !buf_len(&cp->body))
		return true;
	if (!c->up.done) {
		buf_consume(&c->c.in, (size_t)PH_MIN(c->up.ready, (uint64_t)buf_len(&c->c.in)));
		c->up.ready = 0;
		if (relay_discard(&c->c, &c->up, &why) != PH_OK)
			return false;
	}
	relay_frame_init(&c->up, RELAY_LENGTH, 0);
	return true;
}

static void note_tried(struct conn_parent *cp, const char *why)
{
	size_t n = strlen(cp->tried);

	snprintf(cp->tried + n, sizeof(cp->tried) - n, "%s%s (%s)", n ? ", " : "", cp->p->label, why);
}

/* cp->p failed before it answered: marked down, and the next parent of
 * the line takes the request (nothing reached the client yet), or the
 * client learns which parents were tried. */
static int fail_over(struct conn *c, enum upstream_failure f, const char *why)
{
	struct conn_parent *cp = c->parent;
	const struct upstream_parent *next;
	uint64_t now = ph_mono_ms();
	size_t idx;

	upstream_failed(cp->p->state, f, now, cp->route->retry_ms, why);
	note_tried(cp, why);
	cp->last_timed_out = f == UPSTREAM_FAIL_TIMEOUT;
	c->connecting = false;
	side_close(c->w->loop, &c->o);
	c->has_peer = false;
	free(c->addrs);
	c->addrs = NULL;
	next = cp->replayable && rewind_body(c) ? upstream_next(cp->route, cp->next, now, &idx) : NULL;
	if (!next) {
		c->txn.via_parent = false;
		return conn_fail(c, cp->last_timed_out ? 504 : 502, "TCP_MISS", "No parent proxy could be reached: %s.",
		                 cp->tried);
	}
	cp->p = next;
	cp->next = idx + 1;
	cp->phase = PX_NONE;
	snprintf(c->origin_key, sizeof(c->origin_key), "%s", next->key);
	start_auth(c);
	put_request(c);
	c->state = CS_RESOLVE;
	return PH_OK;
}

int parent_lost(struct conn *c, const char *why)
{
	c->txn.fwd_phase = 0;
	return fail_over(c, UPSTREAM_FAIL_RESET, why);
}

int parent_resolve_failed(struct conn *c, const char *why)
{
	char w[200];

	snprintf(w, sizeof(w), "DNS lookup failed: %s", why);
	return fail_over(c, UPSTREAM_FAIL_DNS, w);
}

int parent_connect_failed(struct conn *c)
{
	char w[160];
	int e = c->connect_errno ? c->connect_errno : EHOSTUNREACH;

	if (e == ETIMEDOUT) {
		snprintf(w, sizeof(w), "no connection within %llu ms",
		         (unsigned long long)c->cfg->server->timeout_connect_ms);
		return fail_over(c, UPSTREAM_FAIL_TIMEOUT, w);
	}
	if (e == ECONNREFUSED)
		return fail_over(c, UPSTREAM_FAIL_REFUSED, "connection refused");
	snprintf(w, sizeof(w), "%s", strerror(e));
	return fail_over(c, UPSTREAM_FAIL_ERROR, w);
}

/* The parent said no, or cannot be spoken to: the client gets a 502. */
static int refuse(struct conn *c, enum upstream_failure f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(struct conn *c, enum upstream_failure f, const char *fmt, ...)
{
	struct conn_parent *cp = c->parent;
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	upstream_failed(cp->p->state, f, ph_mono_ms(), cp->route->retry_ms, msg);
	return conn_fail(c, 502, "TCP_MISS", "%s", msg);
}

/* ---- the exchange ---- */

/* The state after the parent said yes, or after TLS with it. */
static int proceed(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	if (cp->is_connect) {
		cp->phase = PX_CONNECT;
		c->state = CS_PARENT;
		conn_deadline(c, c->cfg->server->timeout_idle_ms);
		return PH_OK;
	}
	cp->phase = PX_NONE;
	c->state = CS_FORWARD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

int parent_connected(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	use(c, cp->p);
	cp->authed = false;
	if (cp->p->tls) {
		c->o.ssl = upstream_tls_new(c->cfg->upstream, cp->p, c->o.io.fd);
		if (!c->o.ssl) {
			ERR_clear_error();
			return refuse(c, UPSTREAM_FAIL_TLS,
			              "OpenSSL cannot start a TLS session with the parent proxy %s.", cp->p->label);
		}
		cp->phase = PX_TLS;
		c->state = CS_PARENT;
		conn_deadline(c, c->cfg->server->timeout_connect_ms);
		return PH_OK;
	}
	return proceed(c);
}

static int tls_step(struct conn *c)
{
	struct conn_parent *cp = c->parent;
	char buf[256];
	int r = SSL_do_handshake(c->o.ssl);
	long v;

	if (r == 1)
		return proceed(c);
	switch (SSL_get_error(c->o.ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return PH_AGAIN;
	default:
		break;
	}
	v = SSL_get_verify_result(c->o.ssl);
	if (v != X509_V_OK) {
		ERR_clear_error();
		return refuse(c, UPSTREAM_FAIL_TLS, "The parent proxy %s failed TLS verification: %s.", cp->p->label,
		              X509_verify_cert_error_string(v));
	}
	unsigned long e = ERR_peek_last_error();

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		ERR_clear_error();
		return refuse(c, UPSTREAM_FAIL_TLS, "TLS with the parent proxy %s failed: %s.", cp->p->label, buf);
	}
	return fail_over(c, UPSTREAM_FAIL_RESET, "closed the connection during the TLS handshake");
}

/* The parent answered what pinhole sent with something else than a 407:
 * what it accepted is remembered. */
static void accepted(struct conn *c)
{
	struct conn_parent *cp = c->parent;
	enum auth_client_scheme s = auth_client_scheme(cp->auth);
	struct auth_client_creds cr = creds_of(cp->p);

	if (auth_client_connection_based(s))
		cp->authed = true;
	else if (s != AUTH_CLIENT_NONE)
		auth_client_remember(&cp->p->state->auth, cp->auth, &cr);
}

/* Sends the request again: on this connection after the 407's body, or
 * on a new one. */
static int send_again(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	put_request(c);
	if (!cp->is_connect) {
		rewind_body(c); /* the body is in o.out */
		c->txn.fwd_phase = 0;
	}
	return proceed(c);
}

/* The parent closed after its 407: a new connection for the next leg,
 * unless the leg answers this very connection's challenge. */
static int reconnect(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	if (cp->answer_needs_this_connection)
		return refuse(c, UPSTREAM_FAIL_AUTH,
		              "The parent proxy %s closed the connection in the middle of the %s handshake, which "
		              "must stay on one connection.",
		              cp->p->label, auth_client_scheme_name(auth_client_scheme(cp->auth)));
	c->connecting = false;
	side_close(c->w->loop, &c->o);
	c->has_peer = false;
	put_request(c);
	if (!cp->is_connect) {
		rewind_body(c);
		c->txn.fwd_phase = 0;
	}
	cp->phase = PX_NONE;
	c->state = CS_RESOLVE;
	return PH_OK;
}

/* A 407 from the parent: the next leg of pinhole's own authentication,
 * or a 502 saying why there is none.  resp's head is still in c->o.in. */
static int challenged(struct conn *c, const struct http_response *resp)
{
	struct conn_parent *cp = c->parent;
	struct auth_client_challenges ch;
	struct auth_client_creds cr = creds_of(cp->p);
	struct auth_client_request rq = { cp->method, cp->uri, cp->p->host, &cr, ph_wall_ms() };
	struct http_framing fr;
	enum auth_client_status st;
	enum auth_client_scheme before;
	const char *why = NULL;
	char reason[400];
	bool close;

	auth_client_challenges_init(&ch);
	for (size_t i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];

		if (ph_memcaseeq(h->name, h->name_len, "Proxy-Authenticate", 18) &&
		    auth_client_parse(&ch, h->value, h->value_len, &why) != 0)
			log_info("parent proxy %s: a malformed Proxy-Authenticate: %s", cp->p->label, why);
	}
	if (!cp->replayable)
		return refuse(
		        c, UPSTREAM_FAIL_AUTH,
		        "The parent proxy %s demands authentication (%s) for a request whose body pinhole did not "
		        "keep to send again; send the request again.",
		        cp->p->label, ch.names[0] ? ch.names : "no scheme named");
	before = auth_client_scheme(cp->auth);
	cp->answer.len = 0;
	if (cp->answer.p)
		cp->answer.p[0] = '\0';
	st = auth_client_answer(cp->auth, &rq, &ch, &cp->answer, reason, sizeof(reason));
	switch (st) {
	case AUTH_CLIENT_ANSWER:
		break;
	case AUTH_CLIENT_NO_CREDENTIALS:
		return refuse(c, UPSTREAM_FAIL_AUTH,
		              "The parent proxy %s demands authentication (%s) and pinhole has no credentials for it.",
		              cp->p->label, reason);
	case AUTH_CLIENT_REFUSED:
		auth_client_forget(&cp->p->state->auth);
		return refuse(c, UPSTREAM_FAIL_AUTH, "The parent proxy %s refused pinhole's credentials (%s).",
		              cp->p->label, reason);
	case AUTH_CLIENT_FAILED:
		return refuse(c, UPSTREAM_FAIL_AUTH, "Authenticating to the parent proxy %s failed: %s.", cp->p->label,
		              reason);
	}
	/* An NTLM Type 3 and a Negotiate continuation answer this
	 * connection's challenge; a first leg may go on any connection. */
	cp->answer_needs_this_connection = auth_client_connection_based(before);
	if (http_response_framing(resp, !cp->is_connect && c->txn.head_request, &fr, &why) != PH_OK)
		fr.kind = HTTP_BODY_CLOSE;
	close = resp->version_minor == 0 || fr.kind == HTTP_BODY_CLOSE ||
	        http_headers_have_token(resp->headers, resp->nheaders, "Connection", "close") ||
	        http_headers_have_token(resp->headers, resp->nheaders, "Proxy-Connection", "close");
	buf_consume(&c->o.in, resp->head_len);
	if (!cp->is_connect && !c->up.done) {
		/* The parent answered before the whole body went out: the
		 * connection, which expects the rest, is not used again. */
		if (!rewind_body(c))
			return conn_fail(c, 400, "TCP_MISS_ABORTED",
			                 "The client closed before sending the whole body.");
		close = true;
	}
	if (close)
		return reconnect(c);
	relay_frame_init(&c->down, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	                 fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	cp->phase = PX_DRAIN;
	c->state = CS_PARENT;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

static int drain_step(struct conn *c)
{
	const char *why = NULL;
	int r = relay_discard(&c->o, &c->down, &why);

	if (r == PH_AGAIN)
		return PH_AGAIN;
	if (r != PH_OK || buf_len(&c->o.in))
		return reconnect(c); /* closed, or it said more than its 407 */
	return send_again(c);
}

/* The CONNECT went (or goes) out: the parent's answer. */
static int connect_step(struct conn *c)
{
	struct conn_parent *cp = c->parent;

	if (side_flush(&c->o) == PH_ERROR)
		return fail_over(c, UPSTREAM_FAIL_RESET, "the connection failed while pinhole sent its CONNECT");
	for (;;) {
		size_t len = buf_len(&c->o.in);

		if (len) {
			struct http_response resp;
			const char *why = NULL;
			int status;
			int n = http_parse_response(buf_data(&c->o.in), len, c->cfg->server->max_header_size, &resp,
			                            &status, &why);

			if (n == PH_ERROR)
				return refuse(c, UPSTREAM_FAIL_STATUS,
				              "The parent proxy %s sent a bad answer to the CONNECT: %s.", cp->p->label,
				              why);
			if (n == PH_OK) {
				if (resp.status >= 100 && resp.status < 200) {
					buf_consume(&c->o.in, resp.head_len);
					continue;
				}
				if (resp.status == 407)
					return challenged(c, &resp);
				if (resp.status >= 200 && resp.status < 300) {
					buf_consume(&c->o.in, resp.head_len);
					accepted(c);
					return tunnel_start(c);
				}
				char reason[64];
				size_t k = 0;

				for (size_t i = 0; i < resp.reason_len && k + 1 < sizeof(reason); i++) {
					char ch = resp.reason[i];

					reason[k++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
				}
				reason[k] = '\0';
				c->txn.status = resp.status;
				return refuse(c, UPSTREAM_FAIL_STATUS,
				              "The parent proxy %s answered the CONNECT with %d%s%s.", cp->p->label,
				              resp.status, k ? " " : "", reason);
			}
		}
		if (c->o.eof)
			return fail_over(c, UPSTREAM_FAIL_RESET, "closed the connection without answering the CONNECT");
		int r = side_read(&c->o, c->cfg->server->max_header_size + 1);

		if (r == PH_ERROR) {
			char w[160];

			snprintf(w, sizeof(w), "%s before it answered the CONNECT", strerror(errno));
			return fail_over(c, UPSTREAM_FAIL_RESET, w);
		}
		if (r != PH_OK)
			return r;
	}
}

int parent_step(struct conn *c)
{
	switch (c->parent ? c->parent->phase : PX_NONE) {
	case PX_TLS:
		return tls_step(c);
	case PX_CONNECT:
		return connect_step(c);
	case PX_DRAIN:
		return drain_step(c);
	default:
		return PH_ERROR;
	}
}

void parent_timeout(struct conn *c, uint64_t now)
{
	struct conn_parent *cp = c->parent;
	char w[160];

	PH_UNUSED(now);
	if (cp && cp->phase == PX_TLS) {
		snprintf(w, sizeof(w), "no TLS handshake within %llu ms",
		         (unsigned long long)c->cfg->server->timeout_connect_ms);
		fail_over(c, UPSTREAM_FAIL_TIMEOUT, w);
	} else if (cp && cp->p) {
		conn_fail(c, 504, "TCP_MISS", "The parent proxy %s did not answer within %llu ms.", cp->p->label,
		          (unsigned long long)c->cfg->server->timeout_idle_ms);
	} else {
		conn_close(c);
		return;
	}
	conn_run(c);
}

bool parent_response(struct conn *c, const struct http_response *resp)
{
	struct conn_parent *cp = c->parent;

	if (!cp || !cp->p || cp->is_connect)
		return false;
	if (resp->status == 407) {
		challenged(c, resp);
		return true;
	}
	accepted(c);
	return false;
}
