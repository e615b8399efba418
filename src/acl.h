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

#include "cfgparse.h"
#include "domset.h"

/* What policy sees of one request.  host is lower-case, without a trailing
 * dot and without IPv6 brackets.  dst_ip is the destination address when it
 * is known: host's own when host is an IP literal, or (resolved) an address
 * host resolved to; NULL for a name not resolved yet. */
struct acl_subject {
	const char *host;
	uint16_t port;
	const struct sockaddr_storage *dst_ip;
	bool resolved;                      /* dst_ip is what the name host resolved to */
	bool dst_local;                     /* dst_ip is the proxy host's own (acl_addr_is_local and listeners) */
	const struct sockaddr_storage *src; /* client address (after PROXY) */
	const char *method;                 /* "CONNECT", "GET", ... */
	const char *user;                   /* NULL when not authenticated */
	bool webrtc; /* a CONNECT whose ALPN header names webrtc or c-webrtc, or to a declared TURN server */
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
	MATCH_DST_LOCAL,   /* the destination is the proxy host itself */
	MATCH_WEBRTC,      /* a WebRTC media tunnel (acl_subject.webrtc) */
	MATCH_DOMAIN_FILE, /* domain patterns read from files, one per line */
};

/* Domain patterns indexed for matching: the names in a hash set (a lookup
 * costs the same for 3 patterns or 300,000), the IP patterns in a list. */
struct domain_index {
	struct domset names;
	struct cidr *cidrs;
	size_t ncidrs;
};
void acl_domain_index_add(struct domain_index *ix, const struct domain_pattern *p);
/* Whether one of the patterns matches: acl_domain_match of each, ORed. */
bool acl_domain_index_match(const struct domain_index *ix, const char *host, const struct sockaddr_storage *dst_ip);
void acl_domain_index_free(struct domain_index *ix);

/* One matcher: its values are ORed. */
struct matcher {
	enum matcher_kind kind;
	size_t n;
	struct domain_pattern *domains; /* domain: the patterns as written (n) */
	struct port_range *ports;
	struct cidr *cidrs;
	char **names;            /* methods (upper-case), users, or domain-file's files (absolute) */
	struct domain_index dom; /* domain and domain-file: what matching reads */
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
 * returns -1.  domain-file reads its files now, relative to file; a bad
 * line is reported at the list file's own line. */
int acl_matchset_parse(struct matchset *set, char **argv, int argc, const char *file, int line,
                       struct cfg_errors *errs);
void acl_matchset_free(struct matchset *set);

bool acl_matchset_match(const struct matchset *set, const struct acl_subject *s);

/* First matching rule, or NULL when none matches (which means deny).  A
 * matcher that needs the destination address (an IP pattern or dst-local
 * for a name not resolved yet) does not match. */
const struct rule *acl_check(const struct rule *rules, size_t n, const struct acl_subject *s);

/* The same for rules that may wait for the address: ACL_MATCH with *r the
 * first matching rule, ACL_NO_MATCH, or ACL_NEEDS_ADDRESS when a rule
 * before any match could match or not depending on what the name resolves
 * to (decide again with the address). */
enum acl_result {
	ACL_NO_MATCH,
	ACL_MATCH,
	ACL_NEEDS_ADDRESS,
};
enum acl_result acl_decide(const struct rule *rules, size_t n, const struct acl_subject *s, const struct rule **r);
/* Whether rule r matched s's destination address by naming it: a
 * dst-local matcher, or an IP/CIDR domain pattern containing it. */
bool acl_rule_names_address(const struct rule *r, const struct acl_subject *s);
/* Whether an address is the proxy host's by its kind: loopback,
 * unspecified (0.0.0.0, ::) or link-local, IPv4-mapped forms included. */
bool acl_addr_is_local(const struct sockaddr_storage *a);

/* A list of rules (allow/deny, noauth, inspect). */
struct rule_list {
	struct rule *r;
	size_t n;
};
/* Adds the rule that ln (NAME MATCHERS...) writes; errors at ln. */
void acl_rules_add(struct rule_list *list, enum rule_action action, const struct cfg_line *ln, struct cfg_ctx *ctx);
void acl_rules_free(struct rule_list *list);

/* allow, deny and noauth (acl_section). */
struct acl_settings {
	struct rule_list rules;  /* allow/deny, in order */
	struct rule_list noauth; /* requests matching one of these skip authentication */
};
extern const struct cfg_section acl_section;

/* Pattern helpers, exported for tests and for other directives. */
int acl_domain_pattern_parse(struct domain_pattern *p, const char *text);
/* Reads a domain-file's text (the file fname): one pattern per line, '#'
 * to the end of the line, blank lines ignored.  Each bad line is reported
 * as "fname:LINE: ..." (the first ones; then how many more); returns the
 * number of bad lines, and adds the good patterns to ix either way. */
size_t acl_domain_file_parse(struct domain_index *ix, const char *fname, const char *text, size_t len,
                             struct cfg_errors *errs, size_t *npatterns);
/* Added: frees what acl_domain_pattern_parse allocated in p. */
void acl_domain_pattern_free(struct domain_pattern *p);
bool acl_domain_match(const struct domain_pattern *p, const char *host, const struct sockaddr_storage *dst_ip);
int acl_cidr_parse(struct cidr *c, const char *text);
bool acl_cidr_match(const struct cidr *c, const struct sockaddr_storage *addr);

/* Normalises a host name in place: lower-case, trailing dot removed. */
void acl_host_normalise(char *host);

#endif
