/*
 * upstream.h - parent proxies: the upstream-proxy directive (its URLs,
 * credentials and matchers), which line a request takes (first match
 * wins; none or a `direct` line = no parent), which of the line's parents
 * is up, and each parent's up/down state and counters.  How a request
 * talks to the parent is the request path's (parent.c); how pinhole
 * answers a parent's 407 is auth/client.c's.
 *
 * The up/down state lives in one record per parent URL (scheme, host and
 * port) shared by every worker and every configuration that names it:
 * workers mark it down or up with atomics (no lock on the request path),
 * and a reload that keeps the parent keeps its state and counters.  The
 * records are reference-counted by the configurations (a lock only while
 * a configuration is built or freed).
 */
#ifndef PINHOLE_UPSTREAM_H
#define PINHOLE_UPSTREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "cfgparse.h"
#include "client.h"
#include "http.h"

struct strbuf;
struct ssl_st;
struct ssl_ctx_st;

/* "host:port" of a parent, "[2001:db8::1]:3128" for an IPv6 address. */
#define UPSTREAM_LABEL_MAX (HTTP_HOST_MAX + 8)

/* How long a parent that failed is left alone, unless the line says
 * otherwise (retry-after). */
#define UPSTREAM_RETRY_DEFAULT_MS 30000

/* Why a request through a parent failed (pinhole_parent_failures_total). */
enum upstream_failure {
	UPSTREAM_FAIL_REFUSED, /* the connection was refused */
	UPSTREAM_FAIL_TIMEOUT, /* no connection within timeout connect */
	UPSTREAM_FAIL_RESET,   /* reset or closed before it answered */
	UPSTREAM_FAIL_DNS,     /* its name did not resolve */
	UPSTREAM_FAIL_TLS,     /* the TLS handshake with it failed */
	UPSTREAM_FAIL_AUTH,    /* it demanded credentials pinhole lacks, or refused them */
	UPSTREAM_FAIL_STATUS,  /* it answered a CONNECT with an error status */
	UPSTREAM_FAIL_ERROR,   /* any other socket error */
	UPSTREAM_NFAILURES,
};
/* "refused", "timeout", ...: the metric's reason label. */
const char *upstream_failure_name(enum upstream_failure f);

/* What every worker shares about one parent. */
struct upstream_state {
	struct upstream_state *next;    /* in the process's list */
	int refs;                       /* configurations naming it (under the list's lock) */
	unsigned id;                    /* distinct for every record the process made */
	char *key;                      /* "http://host:port" */
	char label[UPSTREAM_LABEL_MAX]; /* "host:port" for logs and metrics */
	atomic_bool down;
	atomic_uint_fast64_t retry_at; /* monotonic ms: when a down parent is tried again */
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t failures[UPSTREAM_NFAILURES];
	struct auth_client_cache auth; /* pre-emptive Basic/Digest after a success */
};

struct upstream_creds {
	char *user; /* "alice" or "DOMAIN\alice" */
	char *password;
	uint64_t id; /* a hash of both: which identity a kept connection carries */
};

/* One parent of a line. */
struct upstream_parent {
	bool tls;   /* https:// */
	char *host; /* lower-case, IPv6 without brackets */
	bool host_is_ip;
	uint16_t port;
	char label[UPSTREAM_LABEL_MAX];     /* "host:port", "[::1]:3128" */
	char *shown;                        /* the URL as /config shows it: no password */
	const struct upstream_creds *creds; /* own or the line's; NULL: none */
	struct upstream_creds own;          /* the URL's user:password (user NULL: none) */
	struct upstream_state *state;
	char key[48]; /* the keep-alive pool's key: this parent and this identity */
};

/* One upstream-proxy line. */
struct upstream_route {
	bool direct; /* upstream-proxy direct MATCHERS */
	struct upstream_parent *parents;
	size_t nparents;
	struct upstream_creds *file_creds; /* from `credentials FILE`, or NULL */
	char *cred_file;
	uint64_t retry_ms;
	bool retry_set;
	struct matchset match; /* none: every request */
	char *match_text;      /* the matchers as written, for /config */
	const char *file;
	int line;
};

/* upstream-proxy (upstream_section). */
struct upstream_settings {
	struct upstream_route *routes;
	size_t n;
	bool any_tls;
	struct ssl_ctx_st *tls_ctx; /* for https:// parents: verifies them against tls-trust */
};

extern const struct cfg_section upstream_section;

/* The parent URL text ("http://[user:password@]host:port[/]"): 0, or -1
 * with why (which never quotes the password). */
int upstream_parse_url(const char *text, struct upstream_parent *p, char *why, size_t whylen);
/* Frees what upstream_parse_url allocated (not the state). */
void upstream_parent_free(struct upstream_parent *p);

/* The line a request takes: the first whose matchers match s, or NULL
 * (no line: direct).  A `direct` line is returned as it is. */
const struct upstream_route *upstream_select(const struct upstream_settings *u, const struct acl_subject *s);
/* The first parent of r at index >= from that is up, or whose down
 * period is over (now: monotonic ms); *index is its index.  NULL when
 * every one is down. */
const struct upstream_parent *upstream_next(const struct upstream_route *r, size_t from, uint64_t now, size_t *index);

/* A request reached the parent (a connection is open): counts it, and
 * marks a parent that was down up again (logged once). */
void upstream_reached(struct upstream_state *st);
/* The parent failed: counted; for refused, timeout, reset, DNS and socket
 * errors it is marked down until now + retry_ms (the transition logged
 * once, with why).  True when it was marked down. */
bool upstream_failed(struct upstream_state *st, enum upstream_failure f, uint64_t now, uint64_t retry_ms,
                     const char *why);
/* Whether the parent is usable now. */
bool upstream_usable(const struct upstream_state *st, uint64_t now);

/* Builds the TLS context for https:// parents (trust: a CA bundle, NULL
 * for the system's).  0, or -1 with why. */
int upstream_tls_setup(struct upstream_settings *u, const char *trust, char *why, size_t whylen);
/* A client-role TLS session towards parent p on fd: SNI p's name, ALPN
 * http/1.1, the certificate verified against the context's trust and p's
 * name.  NULL when OpenSSL cannot make one. */
struct ssl_st *upstream_tls_new(const struct upstream_settings *u, const struct upstream_parent *p, int fd);

/* /metrics: pinhole_parent_up, pinhole_parent_requests_total and
 * pinhole_parent_failures_total for every parent of the configuration. */
void upstream_metrics(const struct upstream_settings *u, struct strbuf *out);

#endif
