/*
 * acl.h - matchers and rules: what a request looks like to policy, and the
 * first-match-wins evaluation of allow/deny rules.  The same matcher sets
 * serve every directive that takes MATCHERS (allow, deny, later noauth and
 * inspect), so adding such a directive is a parse call and a list.
 */
#ifndef PINHOLE_ACL_H
#define PINHOLE_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

struct cfg_errors;

/* What policy sees of one request.  host is lower-case, without a trailing
 * dot and without IPv6 brackets; dst_ip is set when host is an IP literal. */
struct acl_subject {
	const char *host;
	uint16_t port;
	const struct sockaddr_storage *dst_ip; /* NULL when host is a name */
	const struct sockaddr_storage *src;    /* client address (after PROXY) */
	const char *method;                    /* "CONNECT", "GET", ... */
	const char *user;                      /* NULL when not authenticated */
};

/* A domain pattern, as SPEC.md defines it. */
enum domain_kind {
	DOMAIN_EXACT,      /* example.com */
	DOMAIN_SUBDOMAINS, /* *.example.com: any subdomain, not the apex */
	DOMAIN_TREE,       /* .example.com: apex and every subdomain */
	DOMAIN_CIDR,       /* 10.0.0.0/8, ::1, 192.0.2.7: IP destinations */
};

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t bits;
};

struct domain_pattern {
	enum domain_kind kind;
	char *name; /* lower-case, no trailing dot, no leading '*.' or '.' */
	size_t name_len;
	struct cidr cidr; /* for DOMAIN_CIDR */
};

struct port_range {
	uint16_t lo, hi;
};

enum matcher_kind {
	MATCH_ALL,
	MATCH_DOMAIN,
	MATCH_PORT,
	MATCH_SRC,
	MATCH_METHOD,
	MATCH_USER,
};

/* One matcher: its values are ORed. */
struct matcher {
	enum matcher_kind kind;
	size_t n;
	struct domain_pattern *domains;
	struct port_range *ports;
	struct cidr *cidrs;
	char **names; /* methods (upper-case) or users */
};

/* A matcher set: its matchers are ANDed. */
struct matchset {
	struct matcher *m;
	size_t n;
};

enum rule_action {
	RULE_ALLOW,
	RULE_DENY,
};

struct rule {
	enum rule_action action;
	struct matchset set;
	const char *file; /* owned by the config (interned) */
	int line;
	char *text; /* the directive as written, for /config and logs */
};

/* Parses "MATCHERS" (argv[0..argc-1], e.g. {"domain", ".a.com", "port",
 * "443"}) into set.  On error, reports "file:line: message" through errs and
 * returns -1. */
int acl_matchset_parse(struct matchset *set, char **argv, int argc, const char *file, int line,
                       struct cfg_errors *errs);
void acl_matchset_free(struct matchset *set);

bool acl_matchset_match(const struct matchset *set, const struct acl_subject *s);

/* First matching rule, or NULL when none matches (which means deny). */
const struct rule *acl_check(const struct rule *rules, size_t n, const struct acl_subject *s);

/* Pattern helpers, exported for tests and for other directives. */
int acl_domain_pattern_parse(struct domain_pattern *p, const char *text);
/* Added: frees what acl_domain_pattern_parse allocated in p. */
void acl_domain_pattern_free(struct domain_pattern *p);
bool acl_domain_match(const struct domain_pattern *p, const char *host, const struct sockaddr_storage *dst_ip);
int acl_cidr_parse(struct cidr *c, const char *text);
bool acl_cidr_match(const struct cidr *c, const struct sockaddr_storage *addr);

/* Normalises a host name in place: lower-case, trailing dot removed. */
void acl_host_normalise(char *host);

#endif
