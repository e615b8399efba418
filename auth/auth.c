/*
 * auth.c - the dispatcher behind auth.h: keeps the configured schemes in
 * configuration order, sends a request's credentials to the scheme they
 * name, keeps per-connection handshakes (NTLM, Negotiate) and the user a
 * connection-bound scheme proved.  Scheme details live in one file each.
 */
#include "auth.h"
#include "scheme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "cfgparse.h"
#include "strbuf.h"

static const struct auth_scheme_ops *const all_ops[] = {
	&auth_basic_ops,
	&auth_digest_ops,
	&auth_ntlm_ops,
	&auth_negotiate_ops,
};
#define NSCHEMES PH_ARRAY_LEN(all_ops)

struct auth_entry {
	const struct auth_scheme_ops *ops;
	size_t slot; /* index in all_ops: where the connection keeps its session */
	void *state;
};

struct auth_config {
	char *realm;
	struct auth_entry e[NSCHEMES];
	size_t n;
};

struct auth_conn {
	void *session[NSCHEMES];
	char user[256]; /* proved by a connection-bound scheme; "" = none */
};

static const char *realm_of(const struct auth_config *ac)
{
	return ac->realm ? ac->realm : "pinhole";
}

/* Configuration */

static struct auth_config *config_get(struct auth_config **ac)
{
	if (!*ac)
		*ac = ph_calloc(1, sizeof(**ac));
	return *ac;
}

int auth_config_directive(struct auth_config **acp, const char *directive, char **argv, int argc, const char *file,
                          int line, struct cfg_errors *errs)
{
	struct auth_config *ac = config_get(acp);

	if (strcmp(directive, "auth-realm") == 0) {
		if (argc != 1 || !argv[0][0]) {
			cfg_error(errs, file, line,
			          "auth-realm takes one text, e.g. auth-realm \"Example Corp proxy\"");
			return -1;
		}
		if (strpbrk(argv[0], "\"\\\r\n")) {
			cfg_error(errs, file, line, "auth-realm may not contain quotes, backslashes or line breaks");
			return -1;
		}
		free(ac->realm);
		ac->realm = ph_strdup(argv[0]);
		return 0;
	}
	if (argc < 1) {
		cfg_error(errs, file, line, "auth needs a scheme: basic, digest, ntlm or negotiate");
		return -1;
	}
	const struct auth_scheme_ops *ops = NULL;
	size_t slot = 0;

	for (; slot < NSCHEMES; slot++)
		if (ph_strcaseeq(argv[0], all_ops[slot]->keyword)) {
			ops = all_ops[slot];
			break;
		}
	if (!ops) {
		const char *names[NSCHEMES];

		for (size_t i = 0; i < NSCHEMES; i++)
			names[i] = all_ops[i]->keyword;
		const char *hint = cfg_suggest(argv[0], names, NSCHEMES);

		if (hint)
			cfg_error(errs, file, line, "unknown auth scheme '%s' (did you mean '%s'?)", argv[0], hint);
		else
			cfg_error(errs, file, line, "unknown auth scheme '%s': use basic, digest, ntlm or negotiate",
			          argv[0]);
		return -1;
	}
	struct auth_entry *e = NULL;

	for (size_t i = 0; i < ac->n; i++)
		if (ac->e[i].ops == ops)
			e = &ac->e[i];
	if (!e) {
		e = &ac->e[ac->n++];
		e->ops = ops;
		e->slot = slot;
	}
	return ops->configure(&e->state, argv + 1, argc - 1, file, line, errs) == 0 ? 0 : -1;
}

int auth_config_finish(struct auth_config *ac, const char *file, struct cfg_errors *errs)
{
	int r = 0;

	if (!ac)
		return 0;
	for (size_t i = 0; i < ac->n; i++)
		if (ac->e[i].state && ac->e[i].ops->finish && ac->e[i].ops->finish(ac->e[i].state, file, errs) != 0)
			r = -1;
	return r;
}

void auth_config_free(struct auth_config *ac)
{
	if (!ac)
		return;
	for (size_t i = 0; i < ac->n; i++)
		if (ac->e[i].state)
			ac->e[i].ops->free(ac->e[i].state);
	free(ac->realm);
	free(ac);
}

bool auth_config_enabled(const struct auth_config *ac)
{
	return ac && ac->n > 0;
}

bool auth_config_has_scheme(const struct auth_config *ac, const char *keyword)
{
	for (size_t i = 0; ac && i < ac->n; i++)
		if (ph_strcaseeq(ac->e[i].ops->keyword, keyword))
			return true;
	return false;
}

void auth_config_schemes(const struct auth_config *ac, char *out, size_t cap)
{
	size_t o = 0;

	if (cap)
		out[0] = '\0';
	for (size_t i = 0; ac && i < ac->n && o < cap; i++) {
		int n = snprintf(out + o, cap - o, "%s%s", o ? " " : "", ac->e[i].ops->name);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

size_t auth_config_helpers(const struct auth_config *ac, const struct helpmode_cfg **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; ac && i < ac->n && n < cap; i++) {
		const struct helpmode_cfg *hc = ac->e[i].ops->helper ? ac->e[i].ops->helper(ac->e[i].state) : NULL;

		if (hc)
			out[n++] = hc;
	}
	return n;
}

void auth_config_dump(const struct auth_config *ac, struct strbuf *out)
{
	if (!ac)
		return;
	if (ac->realm)
		strbuf_printf(out, "auth-realm \"%s\"\n", ac->realm);
	for (size_t i = 0; i < ac->n; i++)
		if (ac->e[i].ops->dump)
			ac->e[i].ops->dump(ac->e[i].state, out);
}

/* The auth section of the configuration: auth and auth-realm, each scheme
 * parsing its own words. */

static void d_auth(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct auth_config *ac = settings;

	auth_config_directive(&ac, ln->argv[0], ln->argv + 1, ln->argc - 1, ln->file, ln->line, ctx->errs);
}

static void *auth_create(void)
{
	return ph_calloc(1, sizeof(struct auth_config));
}

static void auth_finish(void *settings, const char *mainfile, struct cfg_ctx *ctx)
{
	auth_config_finish(settings, mainfile, ctx->errs);
}

static void auth_dump(const void *settings, struct strbuf *sb)
{
	auth_config_dump(settings, sb);
}

static void auth_destroy(void *settings)
{
	auth_config_free(settings);
}

static const struct cfg_directive auth_directives[] = {
	{ "auth-realm", 1, 1, true, "auth-realm \"TEXT\"", d_auth },
	{ "auth", 1, -1, false, "auth basic|digest|ntlm|negotiate ...", d_auth },
};

const struct cfg_section auth_section = {
	.name = "auth",
	.directives = auth_directives,
	.ndirectives = PH_ARRAY_LEN(auth_directives),
	.create = auth_create,
	.finish = auth_finish,
	.dump = auth_dump,
	.destroy = auth_destroy,
};

/* Connections */

struct auth_conn *auth_conn_new(void)
{
	return ph_calloc(1, sizeof(struct auth_conn));
}

static void session_drop(struct auth_conn *conn, size_t slot)
{
	if (conn->session[slot])
		all_ops[slot]->session_free(conn->session[slot]);
	conn->session[slot] = NULL;
}

void auth_conn_free(struct auth_conn *conn)
{
	if (!conn)
		return;
	for (size_t i = 0; i < NSCHEMES; i++)
		session_drop(conn, i);
	free(conn);
}

const char *auth_conn_user(const struct auth_conn *conn)
{
	return conn && conn->user[0] ? conn->user : NULL;
}

/* Requests */

void auth_challenges(const struct auth_config *ac, struct buf *out)
{
	for (size_t i = 0; i < ac->n; i++)
		ac->e[i].ops->challenge(ac->e[i].state, realm_of(ac), out);
}

/* A refusal carries fresh challenges of every scheme, in configuration
 * order; the refusing scheme may have written its own (Digest stale=true). */
static void deny_with_challenges(const struct auth_config *ac, const struct auth_entry *by, struct auth_result *res)
{
	struct buf own = res->headers;

	res->headers = (struct buf){ 0 };
	for (size_t i = 0; i < ac->n; i++) {
		if (&ac->e[i] == by && buf_len(&own))
			buf_append(&res->headers, buf_data(&own), buf_len(&own));
		else
			ac->e[i].ops->challenge(ac->e[i].state, realm_of(ac), &res->headers);
	}
	buf_release(&own);
}

enum auth_status auth_check(const struct auth_config *ac, struct auth_conn *conn, const struct auth_request *req,
                            struct auth_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!req->authorization || req->authorization_len == 0) {
		if (conn->user[0]) {
			/* NTLM and Negotiate authenticate the connection. */
			snprintf(res->user, sizeof(res->user), "%s", conn->user);
			return res->status = AUTH_OK;
		}
		auth_challenges(ac, &res->headers);
		snprintf(res->reason, sizeof(res->reason), "no credentials");
		return res->status = AUTH_CHALLENGE;
	}
	const char *p = req->authorization, *end = p + req->authorization_len;
	const char *name = p;

	while (p < end && *p != ' ')
		p++;
	size_t name_len = (size_t)(p - name);

	while (p < end && *p == ' ')
		p++;
	const struct auth_entry *e = NULL;

	for (size_t i = 0; i < ac->n; i++)
		if (ph_memcaseeq(name, name_len, ac->e[i].ops->name, strlen(ac->e[i].ops->name)))
			e = &ac->e[i];
	if (!e) {
		snprintf(res->reason, sizeof(res->reason), "the client used the %.*s scheme, which is not configured",
		         (int)PH_MIN(name_len, 32), name);
		deny_with_challenges(ac, NULL, res);
		return res->status = AUTH_DENIED;
	}
	res->scheme = e->ops->name;
	enum auth_status st =
	        e->ops->step(e->state, &conn->session[e->slot], realm_of(ac), req, p, (size_t)(end - p), res);

	res->status = st;
	res->scheme = e->ops->name;
	switch (st) {
	case AUTH_OK:
		if (e->ops->connection_bound)
			snprintf(conn->user, sizeof(conn->user), "%s", res->user);
		else
			session_drop(conn, e->slot);
		break;
	case AUTH_CHALLENGE:
	case AUTH_PENDING:
		break;
	case AUTH_DENIED:
		session_drop(conn, e->slot);
		conn->user[0] = '\0';
		deny_with_challenges(ac, e, res);
		break;
	case AUTH_BROKEN:
		session_drop(conn, e->slot);
		break;
	}
	return st;
}
