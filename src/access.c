/*
 * access.c - who may do what, for one request: proxy authentication
 * (the 407 and its handshake legs, waiting for a helper) and the access
 * rules, first with what the request names and then with the address it
 * is about to reach (the proxy host's own addresses only when a rule names
 * them).  Policy itself is acl.c's and auth/'s; this file applies it to a
 * connection and answers 403, 407 or 502.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acl.h"
#include "auth.h"
#include "common.h"
#include "config.h"
#include "dns.h"
#include "log.h"
#include "quirks.h"
#include "server.h"
#include "stats.h"
#include "surrogate.h"

/* Request heads and policy */

static void subject_ip(struct sockaddr_storage *ss, const struct http_authority *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->is_ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		inet_pton(AF_INET6, a->host, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		inet_pton(AF_INET, a->host, &s4->sin_addr);
	}
}

/* The proxy host itself: loopback, link-local, unspecified, or one of its
 * own listeners (Squid's to_localhost, Smokescreen's private ranges). */
static bool dest_is_local(const struct conn *c, const struct sockaddr_storage *addr)
{
	return acl_addr_is_local(addr) || config_is_own_listener(c->cfg, addr);
}

/* What policy sees of this request. */
void access_subject(struct conn *c, const struct http_authority *a, struct acl_subject *s, struct sockaddr_storage *dst)
{
	*s = (struct acl_subject){
		.host = a->host,
		.port = a->port,
		.dst_ip = NULL,
		.src = &c->client_addr,
		.method = c->txn.method,
		.user = c->txn.user[0] ? c->txn.user : NULL,
		.webrtc = c->txn.webrtc,
	};
	if (a->is_ip) {
		subject_ip(dst, a);
		s->dst_ip = dst;
		s->dst_local = dest_is_local(c, dst);
	}
}

/* Answers 407 with the challenges.  The connection stays open for the next
 * leg of a handshake (NTLM and Negotiate need the same connection) unless
 * the client asked to close or quirk close-after-407 reproduces the proxies
 * that break them; the request body is read and dropped first. */
static void challenge(struct conn *c, struct auth_result *res, const struct relay_frame *body)
{
	bool close = !c->keepalive || c->cfg->quirks->close_after_407;
	const char *text = res->status == AUTH_DENIED ? "Proxy authentication required: the credentials were refused.\n"
	                                              : "Proxy authentication required.\n";

	buf_release(&c->c.out);
	buf_printf(&c->c.out, "HTTP/1.1 407 Proxy Authentication Required\r\n");
	if (buf_len(&res->headers))
		buf_append(&c->c.out, buf_data(&res->headers), buf_len(&res->headers));
	buf_printf(&c->c.out, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n%s",
	           strlen(text), close ? "Connection: close\r\n" : "", text);
	c->txn.status = 407;
	c->keepalive = !close;
	stats_add(&c->w->stats->denials[STATS_DENY_AUTH], 1);
	snprintf(c->txn.mime, sizeof(c->txn.mime), "text/plain");
	snprintf(c->txn.result, sizeof(c->txn.result), "TCP_DENIED");
	free(c->txn.error);
	c->txn.error = res->reason[0] ? ph_strdup(res->reason) : NULL;
	c->txn.pending_log = true;
	c->up = *body;
	c->state = close ? CS_RESPOND : CS_CHALLENGE;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
}

int access_challenge_step(struct conn *c)
{
	const char *why = NULL;
	int r = side_flush(&c->c);

	if (r != PH_OK)
		return r;
	r = relay_discard(&c->c, &c->up, &why);
	if (r == PH_AGAIN)
		return PH_AGAIN;
	if (c->txn.pending_log) {
		c->txn.pending_log = false;
		conn_log(c, c->txn.result, c->txn.status, r == PH_OK ? c->txn.error : why);
	}
	if (r != PH_OK)
		return PH_ERROR;
	c->state = CS_HEAD;
	conn_txn_begin(c);
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* An auth helper answered: the request that waited runs again. */
static void auth_wake(void *arg)
{
	struct conn *c = arg;

	c->auth_woken = true;
	loop_defer(c->w->loop, &c->rerun);
}

int access_wait_step(struct conn *c)
{
	if (!c->auth_woken)
		return PH_AGAIN;
	c->auth_woken = false;
	c->auth_resumed = true;
	c->state = CS_HEAD;
	return PH_OK;
}

/* A 407 for a request without credentials challenges with every
 * configured scheme: each counts one. */
static void count_challenges(struct conn *c)
{
	char names[64], *save = NULL;

	auth_config_schemes(c->cfg->auth, names, sizeof(names));
	for (char *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		int i = stats_scheme_index(w);

		if (i >= 0)
			stats_add(&c->w->stats->auth[i][STATS_AUTH_CHALLENGE], 1);
	}
}

/* The scheme's name for the JSON log's "auth". */
static const char *auth_log_name(const char *scheme)
{
	static const char *const names[] = { "basic", "digest", "ntlm", "negotiate" };
	int i = stats_scheme_index(scheme);

	return i >= 0 && i < (int)PH_ARRAY_LEN(names) ? names[i] : NULL;
}

/* auth-surrogate: a request without credentials that would get a 407
 * passes as the user who last authenticated from its address, if it
 * matches the directive's matchers and that was recent enough. */
static bool surrogate_accept(struct conn *c, const struct http_authority *a)
{
	struct acl_subject s;
	struct sockaddr_storage dst;
	char user[sizeof(c->txn.user)];

	if (!c->cfg->surrogate->duration_ms)
		return false;
	access_subject(c, a, &s, &dst);
	if (!surrogate_user(c->cfg->surrogate, &s, ph_wall_ms(), user, sizeof(user)))
		return false;
	snprintf(c->txn.user, sizeof(c->txn.user), "%s", user);
	c->txn.auth = "surrogate";
	stats_add(&c->w->stats->auth_surrogate, 1);
	return true;
}

int access_authenticate(struct conn *c, const struct http_request *req, const struct http_authority *a,
                        const struct relay_frame *body)
{
	const struct config *cfg = c->cfg;

	if (!auth_config_enabled(cfg->auth))
		return PH_OK;
	if (!cfg->quirks->auth_everything && cfg->acl->noauth.n) {
		struct acl_subject s;
		struct sockaddr_storage dst;

		access_subject(c, a, &s, &dst);
		if (acl_check(cfg->acl->noauth.r, cfg->acl->noauth.n, &s))
			return PH_OK;
	}
	const struct http_header *h = http_find_header(req->headers, req->nheaders, "Proxy-Authorization");
	struct auth_request ar = {
		.method = c->txn.method,
		.uri = req->target,
		.uri_len = req->target_len,
		.authorization = h ? h->value : NULL,
		.authorization_len = h ? h->value_len : 0,
		.now_ms = ph_wall_ms(),
		.worker = c->w->auth,
		.wake = auth_wake,
		.wake_arg = c,
	};
	struct auth_result res;

	if (!c->auth)
		c->auth = auth_conn_new();
	enum auth_status st = auth_check(cfg->auth, c->auth, &ar, &res);
	int scheme = stats_scheme_index(res.scheme);

	if (st == AUTH_CHALLENGE && !h && surrogate_accept(c, a)) {
		buf_release(&res.headers);
		return PH_OK;
	}
	if (scheme >= 0 && st != AUTH_PENDING)
		stats_add(&c->w->stats->auth[scheme][st], 1);
	else if (st == AUTH_CHALLENGE)
		count_challenges(c);
	switch (st) {
	case AUTH_PENDING:
		buf_release(&res.headers);
		c->auth_woken = false;
		c->state = CS_AUTH_WAIT;
		return PH_AGAIN;
	case AUTH_OK:
		snprintf(c->txn.user, sizeof(c->txn.user), "%s", res.user);
		c->txn.auth = auth_log_name(res.scheme);
		surrogate_remember(cfg->surrogate, &c->client_addr, res.user, ar.now_ms);
		if (res.scheme)
			conn_report(c, WR_AUTH_OK, res.scheme, NULL);
		/* Negotiate's mutual-authentication token rides on the answer. */
		buf_release(&c->txn.auth_extra);
		c->txn.auth_extra = res.headers;
		return PH_OK;
	case AUTH_CHALLENGE:
	case AUTH_DENIED:
		if (res.wrong_spn[0])
			conn_report(c, WR_NEGOTIATE_WRONG_SPN, res.wrong_spn, NULL);
		if (st == AUTH_DENIED)
			surrogate_forget(cfg->surrogate, &c->client_addr);
		if (res.status == AUTH_DENIED && log_enabled(LOG_LEVEL_INFO)) {
			char addr[64];

			log_info("%s: %s authentication refused: %s", ph_addr_str(&c->client_addr, addr, sizeof(addr)),
			         res.scheme ? res.scheme : "proxy", res.reason);
		}
		challenge(c, &res, body);
		buf_release(&res.headers);
		return PH_DONE;
	case AUTH_BROKEN:
		/* The cause (a keytab's path, a helper's words) is for the
		 * admin, not for every client: it goes to the error log. */
		buf_release(&res.headers);
		log_error("%s authentication is broken: %s", res.scheme ? res.scheme : "proxy", res.reason);
		conn_fail(c, 502, "TCP_DENIED",
		          "Proxy authentication (%s) is broken on the proxy's side; its error log says why.",
		          res.scheme ? res.scheme : "proxy");
		return PH_DONE;
	}
	return PH_DONE;
}

/* Queues the 403 of a refused request: the deny rule r (its file:line and
 * text), or no rule at all; where is the destination as the client named
 * it, with the address it resolved to when that decided. */
static void refuse(struct conn *c, const struct rule *r, const char *where)
{
	stats_add(&c->w->stats->denials[r ? STATS_DENY_RULE : STATS_DENY_NO_RULE], 1);
	if (r) {
		snprintf(c->txn.deny_rule, sizeof(c->txn.deny_rule), "%s:%d", r->file, r->line);
		conn_fail(c, 403, "TCP_DENIED", "Access denied by rule %s:%d (%s)%s%s.", r->file, r->line,
		          r->text ? r->text : "deny", where[0] ? ": " : "", where);
	} else {
		conn_fail(c, 403, "TCP_DENIED",
		          "Access denied: no rule allows %s to %s port %u (add an allow rule to the configuration).",
		          c->txn.method, where, c->txn.port);
	}
}

bool access_allowed(struct conn *c, const struct http_authority *a)
{
	struct sockaddr_storage dst;
	struct acl_subject s;
	const struct rule *r;

	access_subject(c, a, &s, &dst);
	switch (acl_decide(c->cfg->acl->rules.r, c->cfg->acl->rules.n, &s, &r)) {
	case ACL_NEEDS_ADDRESS:
		return true;
	case ACL_MATCH:
		if (r->action == RULE_ALLOW)
			return true;
		refuse(c, r, "");
		return false;
	case ACL_NO_MATCH:
		break;
	}
	refuse(c, NULL, a->host);
	return false;
}

/* The rules for a request a parent proxy resolves: what the name says
 * alone decides, since pinhole never learns the address (an IP pattern
 * matches no name then). */
bool access_allowed_unresolved(struct conn *c, const struct http_authority *a)
{
	struct sockaddr_storage dst;
	struct acl_subject s;
	const struct rule *r;

	access_subject(c, a, &s, &dst);
	r = acl_check(c->cfg->acl->rules.r, c->cfg->acl->rules.n, &s);
	if (r && r->action == RULE_ALLOW)
		return true;
	refuse(c, r, r ? "" : a->host);
	return false;
}

/* The rules again with the address the request is about to reach, so that
 * IP patterns match names by what they resolve to; and the proxy host's
 * own addresses only when the allowing rule names them (dst-local, an
 * address pattern) or the name is mapped by the admin's hosts-file.  *rule
 * is the rule that denied. */
enum addr_verdict access_address(struct conn *c, const struct sockaddr_storage *addr, const struct rule **rule)
{
	struct http_authority a = { .port = c->txn.port };
	struct in6_addr ip;
	struct acl_subject s;
	struct sockaddr_storage dst;
	const struct rule *r;

	ph_strlcpy(a.host, c->txn.host, sizeof(a.host));
	/* The same answers as inet_pton alone: an IPv6 literal has a colon,
	 * an IPv4 one starts with a digit. */
	a.is_ipv6 = strchr(a.host, ':') && inet_pton(AF_INET6, a.host, &ip) == 1;
	a.is_ip = a.is_ipv6 || (a.host[0] >= '0' && a.host[0] <= '9' && inet_pton(AF_INET, a.host, &ip) == 1);
	access_subject(c, &a, &s, &dst);
	s.dst_ip = addr;
	s.resolved = !a.is_ip;
	s.dst_local = dest_is_local(c, addr);
	*rule = NULL;
	if (acl_decide(c->cfg->acl->rules.r, c->cfg->acl->rules.n, &s, &r) != ACL_MATCH)
		return ADDR_NO_RULE;
	if (r->action != RULE_ALLOW) {
		*rule = r;
		return ADDR_DENIED;
	}
	if (s.dst_local && !acl_rule_names_address(r, &s) && !hosts_lookup(&c->cfg->dns->hosts, c->txn.host))
		return ADDR_LOCAL;
	return ADDR_ALLOWED;
}

/* Queues the 403 for a destination address_allowed refused. */
int access_refuse_address(struct conn *c, const struct sockaddr_storage *addr, enum addr_verdict v,
                          const struct rule *rule)
{
	char ip[64], where[HTTP_HOST_MAX + 96];
	bool named_by_ip = strcmp(ph_addr_str(addr, ip, sizeof(ip)), c->txn.host) == 0;

	if (named_by_ip)
		snprintf(where, sizeof(where), "%s", c->txn.host);
	else if (v == ADDR_NO_RULE)
		snprintf(where, sizeof(where), "%s (%s)", c->txn.host, ip);
	else
		snprintf(where, sizeof(where), "%s resolves to %s", c->txn.host, ip);
	if (v == ADDR_LOCAL) {
		stats_add(&c->w->stats->denials[STATS_DENY_RULE], 1);
		return conn_fail(c, 403, "TCP_DENIED",
		                 "Access denied: %s, an address of the proxy host itself; a rule must name it to allow "
		                 "it (allow dst-local ..., or allow domain %s).",
		                 where, ip);
	}
	refuse(c, rule, where);
	return PH_OK;
}
