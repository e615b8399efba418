/*
 * turn.c - the turn-server directive (turn.h).
 */
#include "turn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "common.h"

/* "turn.example.com", "turn.example.com:3478", "192.0.2.7:443", "[2001:db8::7]:3478"
 * or "[2001:db8::7]"; no port means any port. */
static void turn_server_add(struct turn_settings *s, const struct cfg_line *ln, struct cfg_ctx *ctx, const char *text,
                            const char *user, const char *password)
{
	const char *portstr = NULL;
	struct turn_server t = { 0 };
	char *host;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		struct in6_addr a6;
		char canon[INET6_ADDRSTRLEN];

		if (!end || (end[1] != '\0' && end[1] != ':')) {
			cfg_err(ctx, ln, "bad turn-server '%s': write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT",
			        text);
			return;
		}
		host = ph_strndup(text + 1, (size_t)(end - text - 1));
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			cfg_err(ctx, ln, "bad turn-server '%s': '%s' is not an IPv6 address", text, host);
			free(host);
			return;
		}
		/* The form a client's CONNECT [ADDRESS] is compared with. */
		inet_ntop(AF_INET6, &a6, canon, sizeof(canon));
		free(host);
		host = ph_strdup(canon);
		portstr = end[1] == ':' ? end + 2 : NULL;
	} else {
		const char *colon = strchr(text, ':');
		struct domain_pattern dp;

		if (colon && strchr(colon + 1, ':')) {
			cfg_err(ctx, ln,
			        "bad turn-server '%s': write an IPv6 address in brackets, e.g. [2001:db8::7]:3478",
			        text);
			return;
		}
		host = colon ? ph_strndup(text, (size_t)(colon - text)) : ph_strdup(text);
		portstr = colon ? colon + 1 : NULL;
		acl_host_normalise(host);
		if (host[0] == '*' || host[0] == '.') {
			cfg_err(ctx, ln, "bad turn-server '%s': name one server, not a pattern", text);
			free(host);
			return;
		}
		if (acl_domain_pattern_parse(&dp, host) != PH_OK ||
		    (dp.kind == DOMAIN_CIDR &&
		     (dp.cidr.family != AF_INET || dp.cidr.bits != 32 || strchr(host, '/')))) {
			acl_domain_pattern_free(&dp);
			cfg_err(ctx, ln, "bad turn-server '%s': '%s' is not a host name or an IP address", text, host);
			free(host);
			return;
		}
		acl_domain_pattern_free(&dp);
	}
	if (portstr && cfg_parse_port(portstr, &t.port) != PH_OK) {
		cfg_err(ctx, ln, "bad turn-server '%s': the port must be a number from 1 to 65535", text);
		free(host);
		return;
	}
	if (user && !t.port) {
		cfg_err(ctx, ln,
		        "turn-server '%s' with credentials needs a port: the self-check page calls through it, e.g. "
		        "%s:3478",
		        text, text);
		free(host);
		return;
	}
	/* The same server from a preset and from the admin is one server. */
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->servers[i].host, host) == 0 && s->servers[i].port == t.port) {
			/* The admin's credentials for a preset's server count. */
			if (user && !s->servers[i].user) {
				s->servers[i].user = ph_strdup(user);
				s->servers[i].password = ph_strdup(password);
			}
			free(host);
			return;
		}
	}
	t.host = host;
	t.user = user ? ph_strdup(user) : NULL;
	t.password = password ? ph_strdup(password) : NULL;
	t.file = ln->file;
	t.line = ln->line;
	s->servers = ph_realloc(s->servers, (s->n + 1) * sizeof(*s->servers));
	s->servers[s->n++] = t;
}

bool turn_declared(const struct turn_settings *t, const char *host, uint16_t port)
{
	struct in6_addr want, have;
	bool v6 = strchr(host, ':') && inet_pton(AF_INET6, host, &want) == 1;

	for (size_t i = 0; t && i < t->n; i++) {
		const struct turn_server *s = &t->servers[i];

		if (s->port != 0 && s->port != port)
			continue;
		/* IPv6 addresses by value: [2001:db8:0::7] is [2001:db8::7]. */
		if (v6 ? inet_pton(AF_INET6, s->host, &have) == 1 && memcmp(&want, &have, sizeof(want)) == 0
		       : strcmp(s->host, host) == 0)
			return true;
	}
	return false;
}

static void d_turn_server(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	int n = ln->argc;
	const char *user = NULL, *password = NULL;

	for (int i = 1; i < ln->argc; i++) {
		if (strcmp(ln->argv[i], "credentials") != 0)
			continue;
		if (i == 1 || ln->argc - i != 3) {
			cfg_err(ctx, ln, "turn-server: write the servers, then 'credentials USER PASSWORD' last");
			return;
		}
		user = ln->argv[i + 1];
		password = ln->argv[i + 2];
		n = i;
		break;
	}
	for (int i = 1; i < n; i++)
		turn_server_add(settings, ln, ctx, ln->argv[i], user, password);
}

static void *turn_create(void)
{
	return ph_calloc(1, sizeof(struct turn_settings));
}

static void turn_destroy(void *settings)
{
	struct turn_settings *s = settings;

	for (size_t i = 0; i < s->n; i++) {
		free(s->servers[i].host);
		free(s->servers[i].user);
		free(s->servers[i].password);
	}
	free(s->servers);
	free(s);
}

static const struct cfg_directive turn_directives[] = {
	{ "turn-server", 1, -1, false, "turn-server HOST[:PORT]... [credentials USER PASSWORD]", d_turn_server },
};

/* No dump: config.c writes the servers back, commented out when a preset
 * added them. */
const struct cfg_section turn_section = {
	.name = "turn",
	.directives = turn_directives,
	.ndirectives = PH_ARRAY_LEN(turn_directives),
	.create = turn_create,
	.destroy = turn_destroy,
};
