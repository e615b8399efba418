/*
 * selfcheck_cfg.c - the self-check directive (selfcheck_cfg.h).
 */
#include "selfcheck_cfg.h"

#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "common.h"
#include "strbuf.h"

static void d_self_check(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct selfcheck_settings *s = settings;
	struct domain_pattern dp;
	char *host;

	free(s->host);
	s->host = NULL;
	if (strcmp(ln->argv[1], "off") == 0)
		return;
	host = ph_strdup(ln->argv[1]);
	acl_host_normalise(host);
	if (acl_domain_pattern_parse(&dp, host) != PH_OK || dp.kind != DOMAIN_EXACT) {
		cfg_err(ctx, ln, "self-check takes a host name (pinhole.check by default) or off, not '%s'",
		        ln->argv[1]);
		if (dp.name)
			acl_domain_pattern_free(&dp);
		free(host);
		return;
	}
	acl_domain_pattern_free(&dp);
	s->host = host;
}

static void *selfcheck_create(void)
{
	struct selfcheck_settings *s = ph_calloc(1, sizeof(*s));

	s->host = ph_strdup(SELFCHECK_DEFAULT_HOST);
	return s;
}

static void selfcheck_dump(const void *settings, struct strbuf *out)
{
	const struct selfcheck_settings *s = settings;

	strbuf_printf(out, "self-check %s\n", s->host ? s->host : "off");
}

static void selfcheck_destroy(void *settings)
{
	struct selfcheck_settings *s = settings;

	free(s->host);
	free(s);
}

static const struct cfg_directive selfcheck_directives[] = {
	{ "self-check", 1, 1, true, "self-check HOST|off", d_self_check },
};

const struct cfg_section selfcheck_section = {
	.name = "selfcheck",
	.directives = selfcheck_directives,
	.ndirectives = PH_ARRAY_LEN(selfcheck_directives),
	.create = selfcheck_create,
	.dump = selfcheck_dump,
	.destroy = selfcheck_destroy,
};
