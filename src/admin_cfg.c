/*
 * admin_cfg.c - the admin section of the configuration (admin_cfg.h).
 */
#include "admin_cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "http.h"
#include "strbuf.h"

static void d_admin(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct admin_settings *s = settings;
	const char *why;

	if (server_parse_addr(ln->argv[1], &s->listen.addr, &s->listen.addrlen, &why) != PH_OK) {
		cfg_err(ctx, ln, "bad admin address '%s': %s", ln->argv[1], why);
		return;
	}
	snprintf(s->listen.text, sizeof(s->listen.text), "%s", ln->argv[1]);
	s->listen.file = ln->file;
	s->listen.line = ln->line;
	s->enabled = true;
}

static void d_admin_auth(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct admin_settings *s = settings;
	static const char *const kinds[] = { "htpasswd" };
	const char *why;
	char *path;

	if (strcmp(ln->argv[1], "htpasswd") != 0) {
		cfg_unknown(ctx, ln, "admin-auth kind", ln->argv[1], kinds, PH_ARRAY_LEN(kinds));
		return;
	}
	path = cfg_path(ln->file, ln->argv[2]);
	if (!cfg_file_readable(path, &why)) {
		cfg_err(ctx, ln, "cannot read the admin-auth file '%s': %s", path, why);
		free(path);
		return;
	}
	free(s->htpasswd);
	s->htpasswd = path;
}

/* admin-host NAME...: names the admin interface answers to besides its
 * address and localhost (DNS rebinding protection, admin.c). */
static void d_admin_host(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct admin_settings *s = settings;

	for (int i = 1; i < ln->argc; i++) {
		struct http_authority a;
		const char *why;

		if (http_parse_authority(ln->argv[i], strlen(ln->argv[i]), false, &a, &why) < 0 || a.port) {
			cfg_err(ctx, ln, "admin-host: '%s' is not a host name%s%s", ln->argv[i], a.port ? "" : ": ",
			        a.port ? " (no port)" : why);
			continue;
		}
		s->hosts = ph_realloc(s->hosts, (s->nhosts + 1) * sizeof(*s->hosts));
		s->hosts[s->nhosts++] = ph_strdup(a.host);
	}
}

static void *admin_create(void)
{
	return ph_calloc(1, sizeof(struct admin_settings));
}

/* Off loopback the interface shows client addresses and users, and can
 * reload: it needs a password. */
static void admin_finish(void *settings, const char *mainfile, struct cfg_ctx *ctx)
{
	struct admin_settings *s = settings;

	PH_UNUSED(mainfile);
	if (s->enabled && !server_addr_is_loopback(&s->listen.addr) && !s->htpasswd)
		cfg_error(ctx->errs, s->listen.file, s->listen.line,
		          "the admin interface on %s is reachable from other machines and has "
		          "no password; add 'admin-auth htpasswd FILE' or make it listen on "
		          "127.0.0.1",
		          s->listen.text);
}

static void admin_dump(const void *settings, struct strbuf *sb)
{
	const struct admin_settings *s = settings;

	if (s->enabled) {
		strbuf_printf(sb, "admin ");
		cfg_dump_word(sb, s->listen.text);
		strbuf_printf(sb, "\n");
	}
	if (s->htpasswd) {
		strbuf_printf(sb, "admin-auth htpasswd ");
		cfg_dump_word(sb, s->htpasswd);
		strbuf_printf(sb, "\n");
	}
	if (s->nhosts) {
		strbuf_puts(sb, "admin-host");
		for (size_t i = 0; i < s->nhosts; i++) {
			strbuf_puts(sb, " ");
			cfg_dump_word(sb, s->hosts[i]);
		}
		strbuf_puts(sb, "\n");
	}
}

static void admin_destroy(void *settings)
{
	struct admin_settings *s = settings;

	free(s->htpasswd);
	for (size_t i = 0; i < s->nhosts; i++)
		free(s->hosts[i]);
	free(s->hosts);
	free(s);
}

static const struct cfg_directive admin_directives[] = {
	{ "admin", 1, 1, true, "admin ADDR:PORT", d_admin },
	{ "admin-auth", 2, 2, true, "admin-auth htpasswd FILE", d_admin_auth },
	{ "admin-host", 1, 64, false, "admin-host NAME...", d_admin_host },
};

const struct cfg_section admin_section = {
	.name = "admin",
	.directives = admin_directives,
	.ndirectives = PH_ARRAY_LEN(admin_directives),
	.create = admin_create,
	.finish = admin_finish,
	.dump = admin_dump,
	.destroy = admin_destroy,
};
