/*
 * cfglint.c - the checks of a whole configuration that need no network
 * and no file (cfglint.h).  It reads the rules acl.c parsed and never
 * changes them.
 */
#include "cfglint.h"

#include <string.h>

#include "acl.h"
#include "common.h"
#include "tls.h"

/* Methods of RFC 9110, PATCH (RFC 5789) and WebDAV (RFC 4918, 3253,
 * 5323): a method matcher naming another is most likely a typo. */
static const char *const known_methods[] = {
	"GET",      "HEAD",        "POST",       "PUT",      "DELETE",          "CONNECT",
	"OPTIONS",  "TRACE",       "PATCH",      "PROPFIND", "PROPPATCH",       "MKCOL",
	"COPY",     "MOVE",        "LOCK",       "UNLOCK",   "REPORT",          "MKACTIVITY",
	"CHECKOUT", "CHECKIN",     "MERGE",      "SEARCH",   "VERSION-CONTROL", "UPDATE",
	"LABEL",    "MKWORKSPACE", "UNCHECKOUT", "BIND",     "UNBIND",          "REBIND",
	"ACL",      "ORDERPATCH",  "MKCALENDAR", "PRI",
};

static bool known_method(const char *m)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(known_methods); i++)
		if (strcmp(known_methods[i], m) == 0)
			return true;
	return false;
}

/* ---- one rule covering another ---- */

static bool cidr_covers(const struct cidr *a, const struct cidr *b)
{
	size_t full, i;

	if (a->family != b->family || a->bits > b->bits)
		return false;
	full = a->bits / 8;
	for (i = 0; i < full; i++)
		if (a->addr[i] != b->addr[i])
			return false;
	if (a->bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - a->bits % 8));

		if ((a->addr[full] & mask) != (b->addr[full] & mask))
			return false;
	}
	return true;
}

/* name is sub, or a subdomain of it ("x.a.com" under "a.com"). */
static bool under(const char *name, size_t nlen, const char *sub, size_t slen, bool strictly)
{
	if (nlen == slen)
		return !strictly && memcmp(name, sub, nlen) == 0;
	return nlen > slen && name[nlen - slen - 1] == '.' && memcmp(name + nlen - slen, sub, slen) == 0;
}

/* Whether every host pattern b matches, pattern a matches too. */
static bool domain_covers(const struct domain_pattern *a, const struct domain_pattern *b)
{
	if (a->kind == DOMAIN_CIDR || b->kind == DOMAIN_CIDR)
		return a->kind == DOMAIN_CIDR && b->kind == DOMAIN_CIDR && cidr_covers(&a->cidr, &b->cidr);
	switch (a->kind) {
	case DOMAIN_EXACT:
		return b->kind == DOMAIN_EXACT && a->name_len == b->name_len &&
		       memcmp(a->name, b->name, a->name_len) == 0;
	case DOMAIN_TREE:
		return under(b->name, b->name_len, a->name, a->name_len, false);
	case DOMAIN_SUBDOMAINS:
		/* *.a.com: every proper subdomain, so b must not reach the apex. */
		return b->kind == DOMAIN_EXACT
		               ? under(b->name, b->name_len, a->name, a->name_len, true)
		               : under(b->name, b->name_len, a->name, a->name_len, b->kind == DOMAIN_TREE);
	default:
		return false;
	}
}

static bool names_contain(const struct matcher *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], name) == 0)
			return true;
	return false;
}

/* Whether every value of matcher b is within matcher a (same kind). */
static bool matcher_covers(const struct matcher *a, const struct matcher *b)
{
	for (size_t j = 0; j < b->n; j++) {
		bool in = false;

		for (size_t i = 0; i < a->n && !in; i++) {
			switch (a->kind) {
			case MATCH_DOMAIN:
				in = domain_covers(&a->domains[i], &b->domains[j]);
				break;
			case MATCH_PORT:
				in = a->ports[i].lo <= b->ports[j].lo && b->ports[j].hi <= a->ports[i].hi;
				break;
			case MATCH_SRC:
				in = cidr_covers(&a->cidrs[i], &b->cidrs[j]);
				break;
			case MATCH_METHOD:
			case MATCH_USER:
			case MATCH_DOMAIN_FILE: /* the same list file */
				in = names_contain(a, b->names[j]);
				break;
			default:
				in = true;
			}
		}
		if (!in)
			return false;
	}
	return true;
}

bool cfglint_covers(const struct rule *a, const struct rule *b)
{
	/* An empty set matches nothing: it covers nothing, and nothing
	 * needs covering. */
	if (a->set.n == 0)
		return false;
	for (size_t i = 0; i < a->set.n; i++) {
		const struct matcher *ma = &a->set.m[i];
		bool covered = false;

		if (ma->kind == MATCH_ALL)
			continue;
		/* b is narrower if one of its matchers (they are ANDed) is
		 * within ma. */
		for (size_t j = 0; j < b->set.n && !covered; j++)
			covered = b->set.m[j].kind == ma->kind &&
			          (ma->kind == MATCH_DST_LOCAL || matcher_covers(ma, &b->set.m[j]));
		if (!covered)
			return false;
	}
	return true;
}

/* ---- the checks ---- */

static void check_methods(const struct rule_list *list, struct cfg_errors *errs)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct rule *r = &list->r[i];

		for (size_t k = 0; k < r->set.n; k++) {
			const struct matcher *m = &r->set.m[k];

			for (size_t j = 0; m->kind == MATCH_METHOD && j < m->n; j++) {
				const char *sug;

				if (known_method(m->names[j]))
					continue;
				sug = cfg_suggest(m->names[j], known_methods, PH_ARRAY_LEN(known_methods));
				if (sug)
					cfg_warning(errs, r->file, r->line,
					            "unknown method '%s' (did you mean '%s'?): no client sends it, so "
					            "this matcher never matches it",
					            m->names[j], sug);
				else
					cfg_warning(errs, r->file, r->line,
					            "unknown method '%s': no common client sends it (methods are "
					            "case-sensitive: GET, CONNECT, ...)",
					            m->names[j]);
			}
		}
	}
}

static bool has_user_matcher(const struct rule *r)
{
	for (size_t k = 0; k < r->set.n; k++)
		if (r->set.m[k].kind == MATCH_USER)
			return true;
	return false;
}

static void check_users(const struct cfglint_input *in, struct cfg_errors *errs)
{
	if (in->auth)
		return;
	for (size_t i = 0; i < in->acl->rules.n; i++) {
		const struct rule *r = &in->acl->rules.r[i];

		if (has_user_matcher(r))
			cfg_error(
			        errs, r->file, r->line,
			        "'%s' can never match: there is no auth line, so no request has a user name (add one, "
			        "e.g. auth basic htpasswd FILE, or remove the user matcher)",
			        r->text);
	}
}

static bool in_preset(const struct cfglint_input *in, const char *file)
{
	for (size_t i = 0; i < in->npreset_files; i++)
		if (in->preset_files[i] && file && strcmp(in->preset_files[i], file) == 0)
			return true;
	return false;
}

static void check_shadowed(const struct cfglint_input *in, const struct rule_list *list, const char *what,
                           struct cfg_errors *errs)
{
	for (size_t j = 1; j < list->n; j++) {
		for (size_t i = 0; i < j; i++) {
			const struct rule *a = &list->r[i], *b = &list->r[j];

			if (!cfglint_covers(a, b))
				continue;
			/* A preset spells out rules it covers on purpose, and the
			 * admin cannot edit it. */
			if (a->file == b->file && in_preset(in, a->file))
				continue;
			cfg_warning(errs, b->file, b->line,
			            "'%s' can never match: '%s' at %s:%d matches every request it would, and the "
			            "first %s that matches decides",
			            b->text, a->text, a->file, a->line, what);
			break;
		}
	}
}

void cfglint_check(const struct cfglint_input *in, struct cfg_errors *errs)
{
	check_users(in, errs);
	check_methods(&in->acl->rules, errs);
	check_methods(&in->acl->noauth, errs);
	check_methods(&in->tls->inspect, errs);
	check_shadowed(in, &in->acl->rules, "rule", errs);
}
