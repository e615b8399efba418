/*
 * acl.c - the matchers (domain, domain-file, port, src, method, user,
 * dst-local, webrtc, all): parsing them from a directive's words, and the
 * first-match-wins evaluation of rules.  Matching never allocates; it runs
 * once per request, and a domain matcher costs the same whatever the number
 * of its patterns (domset.h).  Which directive a matcher set belongs to,
 * and what a match means, is the caller's business.
 */
#include "acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Room for a reason sentence produced by the pattern parsers. */
#define WHY_LEN 160
/* A domain-file is read whole; 16 MiB holds about 600,000 names. */
#define DOMAIN_FILE_MAX_BYTES (16 * 1024 * 1024)
/* Bad lines of one domain-file reported one by one; the rest are counted
 * (a file in another format would otherwise bury every other error). */
#define DOMAIN_FILE_ERRORS_SHOWN 10

static const char *const matcher_names[] = {
	[MATCH_ALL] = "all",
	[MATCH_DOMAIN] = "domain",
	[MATCH_PORT] = "port",
	[MATCH_SRC] = "src",
	[MATCH_METHOD] = "method",
	[MATCH_USER] = "user",
	[MATCH_DST_LOCAL] = "dst-local",
	[MATCH_WEBRTC] = "webrtc",
	[MATCH_DOMAIN_FILE] = "domain-file",
};

static int matcher_lookup(const char *word)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(matcher_names); i++)
		if (strcmp(word, matcher_names[i]) == 0)
			return (int)i;
	return -1;
}

void acl_host_normalise(char *host)
{
	size_t n = 0;

	for (; host[n]; n++)
		host[n] = ph_tolower(host[n]);
	if (n > 0 && host[n - 1] == '.')
		host[n - 1] = '\0';
}

/* ---- CIDRs ---- */

static void cidr_mask(struct cidr *c)
{
	size_t len = c->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < len; i++) {
		int keep = (int)c->bits - (int)i * 8;

		if (keep >= 8)
			continue;
		c->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

static bool is_v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/*
 * "10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "[::1]", "[2001:db8::]/32".
 * Host bits beyond the prefix are cleared, as Squid and iptables do.  An
 * IPv4-mapped IPv6 prefix of /96 or longer is stored as the IPv4 prefix it
 * denotes, so that it and IPv4 clients meet in one representation.
 */
static int cidr_parse(struct cidr *c, const char *text, char *why, size_t whylen)
{
	char addr[64];
	const char *p = text, *end, *slash;
	size_t alen;
	int maxbits, bits;

	memset(c, 0, sizeof(*c));
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			snprintf(why, whylen, "the '[' has no closing ']'");
			return -1;
		}
		p++;
		alen = (size_t)(end - p);
		slash = end[1] == '/' ? end + 1 : NULL;
		if (end[1] != '\0' && !slash) {
			snprintf(why, whylen, "only '/BITS' may follow the ']'");
			return -1;
		}
		if (memchr(p, ':', alen) == NULL) {
			snprintf(why, whylen, "brackets are for IPv6 addresses only");
			return -1;
		}
	} else {
		slash = strchr(p, '/');
		alen = slash ? (size_t)(slash - p) : strlen(p);
	}
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(why, whylen, "it is not an IPv4 or IPv6 address");
		return -1;
	}
	memcpy(addr, p, alen);
	addr[alen] = '\0';
	if (memchr(addr, ':', alen)) {
		c->family = AF_INET6;
		maxbits = 128;
	} else {
		c->family = AF_INET;
		maxbits = 32;
	}
	if (inet_pton(c->family, addr, c->addr) != 1) {
		snprintf(why, whylen, "it is not an %s address", c->family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	bits = maxbits;
	if (slash) {
		const char *b = slash + 1;

		bits = 0;
		if (*b == '\0') {
			snprintf(why, whylen, "the '/' is not followed by a prefix length");
			return -1;
		}
		for (; *b; b++) {
			if (*b < '0' || *b > '9') {
				snprintf(why, whylen, "the prefix length is not a number");
				return -1;
			}
			bits = bits * 10 + (*b - '0');
			if (bits > maxbits) {
				snprintf(why, whylen, "the prefix is longer than the %d bits of an %s address", maxbits,
				         c->family == AF_INET ? "IPv4" : "IPv6");
				return -1;
			}
		}
	}
	c->bits = (uint8_t)bits;
	if (c->family == AF_INET6 && c->bits >= 96 && is_v4mapped(c->addr)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = AF_INET;
		c->bits = (uint8_t)(c->bits - 96);
	}
	cidr_mask(c);
	return 0;
}

int acl_cidr_parse(struct cidr *c, const char *text)
{
	char why[WHY_LEN];

	return cidr_parse(c, text, why, sizeof(why)) == 0 ? PH_OK : PH_ERROR;
}

bool acl_cidr_match(const struct cidr *c, const struct sockaddr_storage *addr)
{
	const uint8_t *a;
	int family;
	size_t full;

	if (!addr)
		return false;
	if (addr->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
		family = AF_INET;
	} else if (addr->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		family = AF_INET6;
		if (is_v4mapped(a)) {
			a += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	if (family != c->family)
		return false;
	full = c->bits / 8;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	if (c->bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - c->bits % 8));

		if ((a[full] & mask) != c->addr[full])
			return false;
	}
	return true;
}

/* ---- domain patterns ---- */

/* Letters, digits, '-' and '_' (seen in real internal names) in labels of
 * 1..63 bytes, 253 bytes in all (RFC 1035 2.3.4). */
static int check_host_name(const char *name, size_t len, char *why, size_t whylen)
{
	size_t label = 0;

	if (len == 0) {
		snprintf(why, whylen, "the name is empty");
		return -1;
	}
	if (len > 253) {
		snprintf(why, whylen, "a host name is at most 253 characters");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.') {
			if (label == 0) {
				snprintf(why, whylen, "it has an empty label ('..')");
				return -1;
			}
			label = 0;
			continue;
		}
		if (ch == '*') {
			snprintf(why, whylen, "'*' is only allowed as the whole first label, as in '*.example.com'");
			return -1;
		}
		if (ch >= 0x80) {
			snprintf(why, whylen, "write international names in their ASCII form ('xn--...')");
			return -1;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			snprintf(why, whylen, "a host name cannot contain '%c'", ch);
			return -1;
		}
		if (++label > 63) {
			snprintf(why, whylen, "a label is at most 63 characters");
			return -1;
		}
	}
	if (label == 0) {
		snprintf(why, whylen, "it has an empty label ('..')");
		return -1;
	}
	return 0;
}

/* True when text can only be meant as an address: brackets, a colon, or
 * nothing but digits, dots and a '/'. */
static bool looks_like_ip(const char *text)
{
	bool digits_only = true;

	if (text[0] == '[' || strchr(text, ':'))
		return true;
	for (const char *p = text; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '/'))
			digits_only = false;
	return digits_only;
}

static int domain_parse(struct domain_pattern *p, const char *text, char *why, size_t whylen)
{
	enum domain_kind kind = DOMAIN_EXACT;
	const char *name = text;
	char *norm;
	size_t len;

	memset(p, 0, sizeof(*p));
	if (looks_like_ip(text)) {
		if (cidr_parse(&p->cidr, text, why, whylen) != 0)
			return -1;
		p->kind = DOMAIN_CIDR;
		p->name = ph_strdup(text);
		p->name_len = strlen(text);
		return 0;
	}
	if (name[0] == '*' && name[1] == '.') {
		kind = DOMAIN_SUBDOMAINS;
		name += 2;
	} else if (name[0] == '.') {
		kind = DOMAIN_TREE;
		name += 1;
	} else if (strcmp(name, "*") == 0) {
		snprintf(why, whylen,
		         "'*' alone is not a pattern; to match every destination leave out "
		         "'domain' or write 'all'");
		return -1;
	}
	norm = ph_strdup(name);
	acl_host_normalise(norm);
	len = strlen(norm);
	if (check_host_name(norm, len, why, whylen) != 0) {
		free(norm);
		return -1;
	}
	p->kind = kind;
	p->name = norm;
	p->name_len = len;
	return 0;
}

int acl_domain_pattern_parse(struct domain_pattern *p, const char *text)
{
	char why[WHY_LEN];

	return domain_parse(p, text, why, sizeof(why)) == 0 ? PH_OK : PH_ERROR;
}

void acl_domain_pattern_free(struct domain_pattern *p)
{
	free(p->name);
	p->name = NULL;
}

bool acl_domain_match(const struct domain_pattern *p, const char *host, const struct sockaddr_storage *dst_ip)
{
	size_t hlen, nlen = p->name_len;
	const char *tail;

	if (p->kind == DOMAIN_CIDR)
		return dst_ip && acl_cidr_match(&p->cidr, dst_ip);
	/* Names never match an IP destination: "*.2.3.4" is not 1.2.3.4. */
	if (dst_ip || !host)
		return false;
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (hlen == nlen)
		return p->kind != DOMAIN_SUBDOMAINS && ph_memcaseeq(host, hlen, p->name, nlen);
	if (p->kind == DOMAIN_EXACT || hlen < nlen + 2)
		return false;
	/* A subdomain: at least one byte, a dot, then the name. */
	tail = host + hlen - nlen;
	return tail[-1] == '.' && ph_memcaseeq(tail, nlen, p->name, nlen);
}

/* ---- indexed domain patterns ---- */

void acl_domain_index_add(struct domain_index *ix, const struct domain_pattern *p)
{
	static const unsigned what[] = {
		[DOMAIN_EXACT] = DOMSET_EXACT,
		[DOMAIN_SUBDOMAINS] = DOMSET_SUBDOMAINS,
		[DOMAIN_TREE] = DOMSET_TREE,
	};

	if (p->kind != DOMAIN_CIDR) {
		domset_add(&ix->names, p->name, p->name_len, what[p->kind]);
		return;
	}
	/* Doubled whenever the count reaches a power of two. */
	if ((ix->ncidrs & (ix->ncidrs - 1)) == 0)
		ix->cidrs = ph_realloc(ix->cidrs, (ix->ncidrs ? ix->ncidrs * 2 : 1) * sizeof(*ix->cidrs));
	ix->cidrs[ix->ncidrs++] = p->cidr;
}

bool acl_domain_index_match(const struct domain_index *ix, const char *host, const struct sockaddr_storage *dst_ip)
{
	if (!dst_ip)
		return domset_match(&ix->names, host);
	for (size_t i = 0; i < ix->ncidrs; i++)
		if (acl_cidr_match(&ix->cidrs[i], dst_ip))
			return true;
	return false;
}

void acl_domain_index_free(struct domain_index *ix)
{
	domset_free(&ix->names);
	free(ix->cidrs);
	ix->cidrs = NULL;
	ix->ncidrs = 0;
}

/* ---- domain files ---- */

static const char *matcher_typo(const char *word);

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

size_t acl_domain_file_parse(struct domain_index *ix, const char *fname, const char *text, size_t len,
                             struct cfg_errors *errs, size_t *npatterns)
{
	const char *p = text, *end = text + len;
	size_t bad = 0, lines = 0;
	int lineno = 0;

	*npatterns = 0;
	/* A line holds at most one name: room for all at once. */
	for (const char *q = text; q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		lines++;
	domset_reserve(&ix->names, lines + 1, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *b = p, *e = nl ? nl : end, *hash, *sp;
		char word[256 + 2], why[WHY_LEN];
		struct domain_pattern dp;
		size_t wl;

		lineno++;
		p = nl ? nl + 1 : end;
		if (memchr(b, '\0', (size_t)(e - b))) {
			if (++bad <= DOMAIN_FILE_ERRORS_SHOWN)
				cfg_error(errs, fname, lineno, "the line contains a NUL byte");
			continue;
		}
		if ((hash = memchr(b, '#', (size_t)(e - b))) != NULL)
			e = hash;
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		if (b == e)
			continue;
		wl = (size_t)(e - b);
		for (sp = b; sp < e && !is_space(*sp); sp++)
			;
		if (sp < e) {
			if (++bad <= DOMAIN_FILE_ERRORS_SHOWN)
				cfg_error(errs, fname, lineno,
				          "'%.*s' is more than one word: write one pattern per line (of a hosts "
				          "file, keep the names alone)",
				          (int)PH_MIN(wl, (size_t)80), b);
			continue;
		}
		if (wl >= sizeof(word)) {
			if (++bad <= DOMAIN_FILE_ERRORS_SHOWN)
				cfg_error(errs, fname, lineno,
				          "bad domain pattern '%.40s...': a host name is at most 253 "
				          "characters",
				          b);
			continue;
		}
		memcpy(word, b, wl);
		word[wl] = '\0';
		if (domain_parse(&dp, word, why, sizeof(why)) != 0) {
			if (++bad <= DOMAIN_FILE_ERRORS_SHOWN)
				cfg_error(errs, fname, lineno, "bad domain pattern '%s': %s", word, why);
			continue;
		}
		acl_domain_index_add(ix, &dp);
		acl_domain_pattern_free(&dp);
		++*npatterns;
	}
	if (bad > DOMAIN_FILE_ERRORS_SHOWN)
		cfg_error(errs, fname, 0, "%zu more bad lines (the first %d are above)", bad - DOMAIN_FILE_ERRORS_SHOWN,
		          DOMAIN_FILE_ERRORS_SHOWN);
	return bad;
}

/* Reads the files of a domain-file matcher into m->dom; every value is a
 * path relative to the file naming it.  -1 when one was missing or bad. */
static int domain_files_read(struct matcher *m, char **argv, int argc, const char *file, int line,
                             struct cfg_errors *errs)
{
	int bad = 0;

	m->names = ph_calloc((size_t)argc, sizeof(*m->names));
	for (int i = 0; i < argc; i++) {
		const char *why, *typo = matcher_typo(argv[i]);
		char *path, *text;
		size_t len, npatterns;

		if (typo && !strchr(argv[i], '/')) {
			cfg_error(errs, file, line,
			          "unknown matcher '%s' (did you mean '%s'?); to read a file of that name write "
			          "'./%s'",
			          argv[i], typo, argv[i]);
			return -1;
		}
		path = cfg_path(file, argv[i]);

		m->names[m->n++] = path;
		if (cfg_read_file(path, DOMAIN_FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
			cfg_error(errs, file, line, "cannot read the domain-file '%s': %s", path, why);
			bad = -1;
			continue;
		}
		if (acl_domain_file_parse(&m->dom, path, text, len, errs, &npatterns) > 0)
			bad = -1;
		free(text);
	}
	return bad;
}

/* ---- matcher sets ---- */

/* A dotless word one edit (or one swap) away from a matcher name, met where
 * a value was expected, is a typo far more often than a host called "prot". */
static const char *matcher_typo(const char *word)
{
	if (strchr(word, '.') || strchr(word, ':') || strlen(word) < 3)
		return NULL;
	for (size_t i = 0; i < PH_ARRAY_LEN(matcher_names); i++) {
		if (strlen(matcher_names[i]) < 4)
			continue;
		if (cfg_edit_distance(word, matcher_names[i]) == 1)
			return matcher_names[i];
	}
	return NULL;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int port_parse_one(const char *s, const char **end, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			v = 65536;
	}
	*end = p;
	if (v == 0 || v > 65535)
		return -2;
	*out = (uint16_t)v;
	return 0;
}

/* -1 for a bad value, -2 for a mistyped matcher name. */
static int port_value_parse(struct port_range *r, const char *text, const char *file, int line, struct cfg_errors *errs)
{
	const char *p = text, *end;
	int rc;

	rc = port_parse_one(p, &end, &r->lo);
	if (rc == 0) {
		r->hi = r->lo;
		if (*end == '-')
			rc = port_parse_one(end + 1, &end, &r->hi);
	}
	if (rc == 0 && *end != '\0')
		rc = -1;
	if (rc == -1) {
		const char *typo = matcher_typo(text);

		if (typo) {
			cfg_error(errs, file, line, "unknown matcher '%s' (did you mean '%s'?)", text, typo);
			return -2;
		}
		cfg_error(errs, file, line, "bad port '%s': write a port number or a range such as 8000-8080", text);
		return -1;
	}
	if (rc == -2) {
		cfg_error(errs, file, line, "bad port '%s': ports are 1 to 65535", text);
		return -1;
	}
	if (r->lo > r->hi) {
		cfg_error(errs, file, line, "bad port range '%s': the first port is greater than the last", text);
		return -1;
	}
	return 0;
}

static void matcher_free(struct matcher *m)
{
	acl_domain_index_free(&m->dom);
	if (m->domains)
		for (size_t i = 0; i < m->n; i++)
			free(m->domains[i].name);
	if (m->names)
		for (size_t i = 0; i < m->n; i++)
			free(m->names[i]);
	free(m->domains);
	free(m->ports);
	free(m->cidrs);
	free(m->names);
	memset(m, 0, sizeof(*m));
}

/* Parses the values of one matcher, argv[0..argc-1], into m (whose kind is
 * set).  Every bad value is reported; returns -1 if there was one. */
static int matcher_values_parse(struct matcher *m, char **argv, int argc, const char *file, int line,
                                struct cfg_errors *errs)
{
	char why[WHY_LEN];
	size_t n = (size_t)argc;
	int bad = 0;

	switch (m->kind) {
	case MATCH_ALL:
	case MATCH_DST_LOCAL:
	case MATCH_WEBRTC:
		return 0;
	case MATCH_DOMAIN:
		m->domains = ph_calloc(n, sizeof(*m->domains));
		break;
	case MATCH_PORT:
		m->ports = ph_calloc(n, sizeof(*m->ports));
		break;
	case MATCH_SRC:
		m->cidrs = ph_calloc(n, sizeof(*m->cidrs));
		break;
	case MATCH_METHOD:
	case MATCH_USER:
		m->names = ph_calloc(n, sizeof(*m->names));
		break;
	case MATCH_DOMAIN_FILE:
		return domain_files_read(m, argv, argc, file, line, errs);
	}
	for (int i = 0; i < argc; i++) {
		const char *v = argv[i];
		const char *typo;
		int rc;

		switch (m->kind) {
		case MATCH_ALL:
		case MATCH_DST_LOCAL:
		case MATCH_WEBRTC:
		case MATCH_DOMAIN_FILE:
			break;
		case MATCH_DOMAIN:
			typo = matcher_typo(v);
			if (typo) {
				/* The words after a typo belong to the mistyped matcher;
				 * judging them as domains would only add noise. */
				cfg_error(errs, file, line,
				          "unknown matcher '%s' (did you mean '%s'?); to match a "
				          "host of that name write it with a trailing dot, '%s.'",
				          v, typo, v);
				return -1;
			} else if (domain_parse(&m->domains[m->n], v, why, sizeof(why)) != 0) {
				cfg_error(errs, file, line, "bad domain pattern '%s': %s", v, why);
				bad = -1;
			} else {
				acl_domain_index_add(&m->dom, &m->domains[m->n]);
				m->n++;
			}
			break;
		case MATCH_PORT:
			rc = port_value_parse(&m->ports[m->n], v, file, line, errs);
			if (rc == -2)
				return -1;
			if (rc != 0)
				bad = -1;
			else
				m->n++;
			break;
		case MATCH_SRC:
			if (cidr_parse(&m->cidrs[m->n], v, why, sizeof(why)) == 0) {
				m->n++;
			} else if ((typo = matcher_typo(v)) != NULL) {
				cfg_error(errs, file, line, "unknown matcher '%s' (did you mean '%s'?)", v, typo);
				return -1;
			} else {
				cfg_error(errs, file, line, "bad src address '%s': %s", v, why);
				bad = -1;
			}
			break;
		case MATCH_METHOD: {
			bool lower = false, ok = *v != '\0';
			char *up;

			for (const char *p = v; *p; p++) {
				if (*p >= 'a' && *p <= 'z')
					lower = true;
				if (!is_tchar(*p))
					ok = false;
			}
			if (lower && (typo = matcher_typo(v)) != NULL) {
				cfg_error(errs, file, line, "unknown matcher '%s' (did you mean '%s'?)", v, typo);
				return -1;
			}
			if (!ok) {
				cfg_error(errs, file, line,
				          "bad method '%s': a method is a word such as GET or CONNECT", v);
				bad = -1;
				break;
			}
			up = ph_strdup(v);
			for (char *p = up; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 32);
			m->names[m->n++] = up;
			break;
		}
		case MATCH_USER:
			if (*v == '\0') {
				cfg_error(errs, file, line, "bad user '': a user name cannot be empty");
				bad = -1;
				break;
			}
			m->names[m->n++] = ph_strdup(v);
			break;
		}
	}
	return bad;
}

int acl_matchset_parse(struct matchset *set, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	int failed = 0;
	int i = 0;

	memset(set, 0, sizeof(*set));
	if (argc <= 0) {
		cfg_error(errs, file, line, "at least one matcher is needed, e.g. 'all'");
		return PH_ERROR;
	}
	set->m = ph_calloc((size_t)argc, sizeof(*set->m));
	while (i < argc) {
		int kind = matcher_lookup(argv[i]);
		int start, nvals;

		if (kind < 0) {
			const char *s = cfg_suggest(argv[i], matcher_names, PH_ARRAY_LEN(matcher_names));

			if (s)
				cfg_error(errs, file, line, "unknown matcher '%s' (did you mean '%s'?)", argv[i], s);
			else if (strchr(argv[i], '.') && i == 0)
				cfg_error(errs, file, line,
				          "unknown matcher '%s'; to match a destination write "
				          "'domain %s'",
				          argv[i], argv[i]);
			else
				cfg_error(errs, file, line,
				          "unknown matcher '%s' (the matchers are domain, port, "
				          "src, method, user, dst-local, webrtc and all)",
				          argv[i]);
			failed = 1;
			/* Skip to the next matcher keyword. */
			for (i++; i < argc && matcher_lookup(argv[i]) < 0; i++)
				;
			continue;
		}
		start = ++i;
		while (i < argc && matcher_lookup(argv[i]) < 0)
			i++;
		nvals = i - start;
		bool bare = kind == MATCH_ALL || kind == MATCH_DST_LOCAL || kind == MATCH_WEBRTC;

		if (bare && nvals > 0) {
			cfg_error(errs, file, line, "'%s' takes no values, but '%s' follows it", matcher_names[kind],
			          argv[start]);
			failed = 1;
			continue;
		}
		if (!bare && nvals == 0) {
			cfg_error(errs, file, line, "matcher '%s' needs at least one value", matcher_names[kind]);
			failed = 1;
			continue;
		}
		set->m[set->n].kind = (enum matcher_kind)kind;
		if (matcher_values_parse(&set->m[set->n], argv + start, nvals, file, line, errs) != 0) {
			matcher_free(&set->m[set->n]);
			failed = 1;
			continue;
		}
		set->n++;
	}
	if (failed) {
		acl_matchset_free(set);
		return PH_ERROR;
	}
	return PH_OK;
}

void acl_matchset_free(struct matchset *set)
{
	if (!set->m)
		return;
	for (size_t i = 0; i < set->n; i++)
		matcher_free(&set->m[i]);
	free(set->m);
	set->m = NULL;
	set->n = 0;
}

/* A matcher's answer: no, yes, or "it depends on the address" (an IP
 * pattern or dst-local, for a name not resolved yet). */
enum tri {
	NO,
	YES,
	UNKNOWN,
};

static bool host_is_ip(const struct acl_subject *s)
{
	return s->dst_ip && !s->resolved;
}

/* The patterns of a domain or domain-file matcher: a name pattern matches
 * the host's name (never an IP destination: "*.2.3.4" is not 1.2.3.4), an
 * IP pattern the destination address, which a name not resolved yet does
 * not have. */
static enum tri domain_index_match(const struct domain_index *ix, const struct acl_subject *s)
{
	if (!host_is_ip(s) && domset_match(&ix->names, s->host))
		return YES;
	if (ix->ncidrs == 0)
		return NO;
	if (!s->dst_ip)
		return s->host ? UNKNOWN : NO;
	for (size_t i = 0; i < ix->ncidrs; i++)
		if (acl_cidr_match(&ix->cidrs[i], s->dst_ip))
			return YES;
	return NO;
}

static enum tri matcher_match(const struct matcher *m, const struct acl_subject *s)
{
	switch (m->kind) {
	case MATCH_ALL:
		return YES;
	case MATCH_DOMAIN:
	case MATCH_DOMAIN_FILE:
		return domain_index_match(&m->dom, s);
	case MATCH_PORT:
		for (size_t i = 0; i < m->n; i++)
			if (s->port >= m->ports[i].lo && s->port <= m->ports[i].hi)
				return YES;
		return NO;
	case MATCH_SRC:
		for (size_t i = 0; i < m->n; i++)
			if (acl_cidr_match(&m->cidrs[i], s->src))
				return YES;
		return NO;
	case MATCH_METHOD:
		if (!s->method)
			return NO;
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->names[i], s->method) == 0)
				return YES;
		return NO;
	case MATCH_USER:
		if (!s->user)
			return NO;
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->names[i], s->user) == 0)
				return YES;
		return NO;
	case MATCH_DST_LOCAL:
		if (!s->dst_ip)
			return s->host ? UNKNOWN : NO;
		return s->dst_local ? YES : NO;
	case MATCH_WEBRTC:
		return s->webrtc ? YES : NO;
	}
	return NO;
}

/* An empty set matches nothing: a rule that was never filled in must not
 * allow by accident. */
static enum tri matchset_match(const struct matchset *set, const struct acl_subject *s)
{
	enum tri all = YES;

	if (set->n == 0)
		return NO;
	for (size_t i = 0; i < set->n; i++) {
		enum tri t = matcher_match(&set->m[i], s);

		if (t == NO)
			return NO;
		if (t == UNKNOWN)
			all = UNKNOWN;
	}
	return all;
}

bool acl_matchset_match(const struct matchset *set, const struct acl_subject *s)
{
	return matchset_match(set, s) == YES;
}

const struct rule *acl_check(const struct rule *rules, size_t n, const struct acl_subject *s)
{
	for (size_t i = 0; i < n; i++)
		if (matchset_match(&rules[i].set, s) == YES)
			return &rules[i];
	return NULL;
}

enum acl_result acl_decide(const struct rule *rules, size_t n, const struct acl_subject *s, const struct rule **r)
{
	*r = NULL;
	for (size_t i = 0; i < n; i++) {
		enum tri t = matchset_match(&rules[i].set, s);

		if (t == UNKNOWN)
			return ACL_NEEDS_ADDRESS;
		if (t == YES) {
			*r = &rules[i];
			return ACL_MATCH;
		}
	}
	return ACL_NO_MATCH;
}

bool acl_rule_names_address(const struct rule *r, const struct acl_subject *s)
{
	if (!s->dst_ip)
		return false;
	for (size_t i = 0; i < r->set.n; i++) {
		const struct matcher *m = &r->set.m[i];

		if (m->kind == MATCH_DST_LOCAL && s->dst_local)
			return true;
		if (m->kind != MATCH_DOMAIN && m->kind != MATCH_DOMAIN_FILE)
			continue;
		for (size_t k = 0; k < m->dom.ncidrs; k++)
			if (acl_cidr_match(&m->dom.cidrs[k], s->dst_ip))
				return true;
	}
	return false;
}

bool acl_addr_is_local(const struct sockaddr_storage *a)
{
	const uint8_t *b;

	if (a->ss_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
	} else if (a->ss_family == AF_INET6) {
		const uint8_t *b6 = (const uint8_t *)&((const struct sockaddr_in6 *)a)->sin6_addr;
		static const uint8_t zero[16];

		if (memcmp(b6, zero, 15) == 0 && (b6[15] == 0 || b6[15] == 1))
			return true; /* :: and ::1 */
		if (b6[0] == 0xfe && (b6[1] & 0xc0) == 0x80)
			return true; /* fe80::/10 */
		if (!is_v4mapped(b6))
			return false;
		b = b6 + 12;
	} else {
		return false;
	}
	/* 0.0.0.0/8 (connecting to 0.0.0.0 reaches this host), 127/8,
	 * 169.254/16. */
	return b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254);
}

/* ---- rule lists and the acl section of the configuration ---- */

void acl_rules_add(struct rule_list *list, enum rule_action action, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	if (ln->argc < 2) {
		cfg_err(ctx, ln, "%s needs at least one matcher, e.g. '%s all'", ln->argv[0], ln->argv[0]);
		return;
	}
	if (acl_matchset_parse(&r.set, ln->argv + 1, ln->argc - 1, ln->file, ln->line, ctx->errs) != PH_OK)
		return;
	r.action = action;
	r.file = ln->file;
	r.line = ln->line;
	r.text = ph_strdup(ln->text);
	list->r = ph_realloc(list->r, (list->n + 1) * sizeof(*list->r));
	list->r[list->n++] = r;
}

void acl_rules_free(struct rule_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		acl_matchset_free(&list->r[i].set);
		free(list->r[i].text);
	}
	free(list->r);
	list->r = NULL;
	list->n = 0;
}

static void d_allow(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	acl_rules_add(&((struct acl_settings *)settings)->rules, RULE_ALLOW, ln, ctx);
}

static void d_deny(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	acl_rules_add(&((struct acl_settings *)settings)->rules, RULE_DENY, ln, ctx);
}

static void d_noauth(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	acl_rules_add(&((struct acl_settings *)settings)->noauth, RULE_ALLOW, ln, ctx);
}

static void *acl_create(void)
{
	return ph_calloc(1, sizeof(struct acl_settings));
}

static void acl_destroy(void *settings)
{
	struct acl_settings *s = settings;

	acl_rules_free(&s->rules);
	acl_rules_free(&s->noauth);
	free(s);
}

static const struct cfg_directive acl_directives[] = {
	{ "allow", 0, -1, false, "allow MATCHERS", d_allow },
	{ "deny", 0, -1, false, "deny MATCHERS", d_deny },
	{ "noauth", 0, -1, false, "noauth MATCHERS", d_noauth },
};

/* No dump: the rules are written back by config.c, which knows the
 * presets that added some of them. */
const struct cfg_section acl_section = {
	.name = "acl",
	.directives = acl_directives,
	.ndirectives = PH_ARRAY_LEN(acl_directives),
	.create = acl_create,
	.destroy = acl_destroy,
};
