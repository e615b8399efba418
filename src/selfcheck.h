/*
 * selfcheck.h - the self-check page for the people behind the proxy: a
 * request through pinhole to http://pinhole.check/ (self-check HOST|off)
 * is answered by pinhole itself with a page that says what pinhole knows
 * of this client (its address, how it authenticated and as whom, what
 * each video service in use would get from it), then runs in the browser
 * the checks a call depends on (a WebSocket through the proxy to
 * pinhole's echo, a TURN relay over TCP through the proxy to each
 * turn-server with credentials) and posts the results back.  Results are
 * kept per client (address and user, like the report's) for the report
 * and the dashboard.
 *
 * This module knows nothing of connections: local.c answers the requests
 * on the request path and calls it.
 */
#ifndef PINHOLE_SELFCHECK_H
#define PINHOLE_SELFCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct strbuf;

/* Whether host (normalised, as a request names it) is the self-check's. */
bool selfcheck_is_host(const struct config *cfg, const char *host);

/* What pinhole knows of the client a page is for. */
struct selfcheck_client {
	const struct sockaddr_storage *addr;
	const char *user; /* NULL or "": not authenticated */
	const char *auth; /* how: "basic", ..., "surrogate"; NULL */
	const char *user_agent;
};

/* The page, into out, with the Content-Security-Policy it needs into csp. */
void selfcheck_page(const struct config *cfg, const struct selfcheck_client *cl, struct strbuf *out, char *csp,
                    size_t csplen);

/* What a browser posted to /result, and when, for whom. */
#define SELFCHECK_TURN_MAX 8
struct selfcheck_turn {
	char server[96];
	bool ok;
	char detail[160];
};
struct selfcheck_result {
	uint64_t when_ms;
	char user[256];
	char auth[16];
	char user_agent[192];
	bool websocket_tested, websocket_ok;
	char websocket_detail[160];
	size_t nturn;
	struct selfcheck_turn turn[SELFCHECK_TURN_MAX];
};

/* Reads a posted body (application/x-www-form-urlencoded: websocket=ok|
 * failed, websocket_detail=TEXT, turn=SERVER ok|failed [DETAIL], the last
 * repeatable up to SELFCHECK_TURN_MAX times; other names are ignored)
 * into r's check fields: PH_OK, or PH_ERROR with *why when the body is not
 * such a form (a bad %-escape, a value that is not one of the words, too
 * many turn fields).  Bytes that are not printable ASCII become '?'. */
int selfcheck_parse_result(const char *body, size_t len, struct selfcheck_result *r, const char **why);

/* Keeps r as the latest result of the client at addr (with r->user); at
 * most SELFCHECK_MAX clients, the least recently checked goes first. */
#define SELFCHECK_MAX 4096
void selfcheck_store(const struct sockaddr_storage *addr, const struct selfcheck_result *r);
/* The latest result of a client (family AF_INET/AF_INET6, its 4 or 16
 * address bytes, user "" for none): true with *r filled. */
bool selfcheck_lookup(int family, const uint8_t *addr, const char *user, struct selfcheck_result *r);
/* The most recent results, newest first, with their clients' addresses as
 * text: up to n; returns how many. */
size_t selfcheck_recent(struct selfcheck_result *r, char (*addr)[64], size_t n);
/* Appends r as a JSON object (the report's "self_check"). */
void selfcheck_json(const struct selfcheck_result *r, struct strbuf *out);
/* Appends r as one line of HTML text (the report's and dashboard's). */
void selfcheck_html(const struct selfcheck_result *r, struct strbuf *out);
/* Forgets every result (tests, exit). */
void selfcheck_clear(void);

#endif
