/*
 * hosts.c - hosts-file parsing and lookup (hosts.h).
 */
#include "hosts.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "common.h"
#include "server.h"

struct hosts_pair {
	char *name;
	struct sockaddr_storage addr;
	int line;
	size_t seq;
};

static int hosts_pair_cmp(const void *a, const void *b)
{
	const struct hosts_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Compares name[0..len) lower-cased with a stored (normalised) name, in the
 * order strcmp() sorted the entries. */
static int hosts_name_cmp(const char *name, size_t len, const char *stored)
{
	size_t i;

	for (i = 0; i < len && stored[i]; i++) {
		unsigned char a = (unsigned char)ph_tolower(name[i]);
		unsigned char b = (unsigned char)stored[i];

		if (a != b)
			return a < b ? -1 : 1;
	}
	if (i < len)
		return 1;
	return stored[i] ? -1 : 0;
}

/* Binary search without copying the name: callers may pass it as the
 * client wrote it, in any case and with a trailing dot. */
const struct hosts_entry *hosts_lookup(const struct hosts *h, const char *name)
{
	size_t lo = 0, hi, len;

	if (!h || !name || h->n == 0)
		return NULL;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = hosts_name_cmp(name, len, h->entries[mid].name);

		if (c == 0)
			return &h->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void hosts_free(struct hosts *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->entries[i].name);
	free(h->entries);
	h->entries = NULL;
	h->n = 0;
}

static int hosts_addr_parse(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		return server_parse_v6(s, sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		return inet_pton(AF_INET, s, &sin->sin_addr) == 1 ? PH_OK : PH_ERROR;
	}
}

/* The /etc/hosts format: ADDRESS NAME [NAME...], '#' to the end of the
 * line.  A name on several lines collects the addresses of all of them. */
void hosts_parse(struct hosts *h, const char *fname, const char *text, size_t len, struct cfg_errors *errs)
{
	struct hosts_pair *pairs = NULL;
	size_t npairs = 0, cap = 0;
	const char *p = text, *end = text + len;
	int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *line, *tok, *save;
		struct sockaddr_storage addr;
		int names = 0;

		lineno++;
		if (memchr(p, '\0', (size_t)(le - p))) {
			cfg_error(errs, fname, lineno, "the line contains a NUL byte");
			line = NULL;
		} else {
			line = ph_strndup(p, (size_t)(le - p));
		}
		if (!nl)
			p = end;
		else
			p = nl + 1;
		if (!line)
			continue;
		if ((tok = strchr(line, '#')) != NULL)
			*tok = '\0';
		tok = strtok_r(line, " \t\r\v\f", &save);
		if (!tok) {
			free(line);
			continue;
		}
		if (hosts_addr_parse(tok, &addr) != PH_OK) {
			cfg_error(errs, fname, lineno, "'%s' is not an IPv4 or IPv6 address", tok);
			free(line);
			continue;
		}
		while ((tok = strtok_r(NULL, " \t\r\v\f", &save)) != NULL) {
			struct domain_pattern dp;
			char *name;

			names++;
			name = ph_strdup(tok);
			acl_host_normalise(name);
			if (name[0] == '*' || name[0] == '.' || acl_domain_pattern_parse(&dp, name) != PH_OK) {
				cfg_error(errs, fname, lineno, "'%s' is not a valid host name", tok);
				free(name);
				continue;
			}
			if (dp.kind != DOMAIN_EXACT) {
				cfg_error(errs, fname, lineno, "'%s' is an address, not a host name", tok);
				acl_domain_pattern_free(&dp);
				free(name);
				continue;
			}
			acl_domain_pattern_free(&dp);
			if (npairs == cap) {
				cap = cap ? cap * 2 : 64;
				pairs = ph_realloc(pairs, cap * sizeof(*pairs));
			}
			pairs[npairs].name = name;
			pairs[npairs].addr = addr;
			pairs[npairs].line = lineno;
			pairs[npairs].seq = npairs;
			npairs++;
		}
		if (names == 0)
			cfg_error(errs, fname, lineno, "the address has no host name after it");
		free(line);
	}

	if (npairs)
		qsort(pairs, npairs, sizeof(*pairs), hosts_pair_cmp);
	h->entries = ph_calloc(npairs ? npairs : 1, sizeof(*h->entries));
	h->n = 0;
	for (size_t i = 0; i < npairs; i++) {
		struct hosts_entry *e;
		bool dup = false;

		if (h->n == 0 || strcmp(h->entries[h->n - 1].name, pairs[i].name) != 0) {
			e = &h->entries[h->n++];
			e->name = pairs[i].name;
			e->naddrs = 0;
		} else {
			e = &h->entries[h->n - 1];
			free(pairs[i].name);
		}
		for (size_t j = 0; j < e->naddrs; j++)
			if (server_addr_equal(&e->addrs[j], &pairs[i].addr))
				dup = true;
		if (dup)
			continue;
		if (e->naddrs == HOSTS_MAX_ADDRS) {
			cfg_error(errs, fname, pairs[i].line,
			          "'%s' has more than %d addresses; pinhole keeps at most %d "
			          "per name",
			          e->name, HOSTS_MAX_ADDRS, HOSTS_MAX_ADDRS);
			continue;
		}
		e->addrs[e->naddrs++] = pairs[i].addr;
	}
	free(pairs);
}
