/*
 * quirks.c - the quirk directive (quirks.h): one row and one function per
 * quirk, like directives.
 */
#include "quirks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "strbuf.h"

struct quirk_def {
	const char *name;
	int nargs; /* exact number of arguments */
	const char *usage;
	void (*fn)(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx);
};

static void q_http10_connect(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->http10_connect = true;
}

static void q_close_after_407(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->close_after_407 = true;
}

static void q_auth_everything(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->auth_everything = true;
}

static void q_no_websocket(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->no_websocket = true;
}

static void q_inspect_all(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->inspect_all = true;
	q->inspect_all_file = cfg_intern(ctx, ln->file);
	q->inspect_all_line = ln->line;
}

static void q_strict_tls(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	q->strict_tls = true;
}

static bool quirk_duration(struct cfg_ctx *ctx, const struct cfg_line *ln, uint64_t *ms)
{
	if (cfg_parse_duration(ln->argv[2], ms) != PH_OK || *ms == 0) {
		cfg_err(ctx, ln,
		        "bad duration '%s' for quirk %s: write a number greater than 0 "
		        "with s, m, h or ms, e.g. 30s",
		        ln->argv[2], ln->argv[1]);
		return false;
	}
	return true;
}

static void q_idle_cut(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	quirk_duration(ctx, ln, &q->idle_cut_ms);
}

static void q_delay(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	quirk_duration(ctx, ln, &q->delay_ms);
}

static void q_throttle(struct quirks *q, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	char *rate = ph_strdup(ln->argv[2]);
	size_t n = strlen(rate);
	uint64_t v;

	if (n > 2 && strcmp(rate + n - 2, "/s") == 0)
		rate[n - 2] = '\0';
	if (cfg_parse_size(rate, &v) != PH_OK || v == 0)
		cfg_err(ctx, ln,
		        "bad rate '%s' for quirk throttle: write bytes per second "
		        "greater than 0, with k or M, e.g. 64k or 1M/s",
		        ln->argv[2]);
	else
		q->throttle_bps = v;
	free(rate);
}

static const struct quirk_def quirk_table[] = {
	{ "http10-connect", 0, "quirk http10-connect", q_http10_connect },
	{ "no-websocket", 0, "quirk no-websocket", q_no_websocket },
	{ "idle-cut", 1, "quirk idle-cut DURATION", q_idle_cut },
	{ "throttle", 1, "quirk throttle RATE", q_throttle },
	{ "delay", 1, "quirk delay DURATION", q_delay },
	{ "strict-tls", 0, "quirk strict-tls", q_strict_tls },
	{ "close-after-407", 0, "quirk close-after-407", q_close_after_407 },
	{ "inspect-all", 0, "quirk inspect-all", q_inspect_all },
	{ "auth-everything", 0, "quirk auth-everything", q_auth_everything },
};

static void d_quirk(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	const char *names[PH_ARRAY_LEN(quirk_table)];
	const struct quirk_def *q = NULL;
	char key[64];

	for (size_t i = 0; i < PH_ARRAY_LEN(quirk_table); i++) {
		names[i] = quirk_table[i].name;
		if (strcmp(ln->argv[1], quirk_table[i].name) == 0)
			q = &quirk_table[i];
	}
	if (!q) {
		cfg_unknown(ctx, ln, "quirk", ln->argv[1], names, PH_ARRAY_LEN(names));
		return;
	}
	if (ln->argc - 2 != q->nargs) {
		cfg_err(ctx, ln, "quirk %s takes %s (usage: %s)", q->name, q->nargs ? "one value" : "no value",
		        q->usage);
		return;
	}
	snprintf(key, sizeof(key), "quirk %s", q->name);
	cfg_once(ctx, ln, key);
	q->fn(settings, ln, ctx);
}

static void *quirks_create(void)
{
	return ph_calloc(1, sizeof(struct quirks));
}

static void quirks_dump(const void *settings, struct strbuf *sb)
{
	const struct quirks *q = settings;

	if (q->http10_connect)
		strbuf_printf(sb, "quirk http10-connect\n");
	if (q->no_websocket)
		strbuf_printf(sb, "quirk no-websocket\n");
	if (q->idle_cut_ms) {
		strbuf_printf(sb, "quirk idle-cut ");
		cfg_dump_duration(sb, q->idle_cut_ms);
		strbuf_printf(sb, "\n");
	}
	if (q->throttle_bps) {
		strbuf_printf(sb, "quirk throttle ");
		cfg_dump_size(sb, q->throttle_bps);
		strbuf_printf(sb, "/s\n");
	}
	if (q->delay_ms) {
		strbuf_printf(sb, "quirk delay ");
		cfg_dump_duration(sb, q->delay_ms);
		strbuf_printf(sb, "\n");
	}
	if (q->close_after_407)
		strbuf_printf(sb, "quirk close-after-407\n");
	if (q->auth_everything)
		strbuf_printf(sb, "quirk auth-everything\n");
	if (q->strict_tls)
		strbuf_printf(sb, "quirk strict-tls\n");
	if (q->inspect_all)
		strbuf_printf(sb, "quirk inspect-all\n");
}

static const struct cfg_directive quirks_directives[] = {
	{ "quirk", 1, -1, false, "quirk NAME [ARGS]", d_quirk },
};

const struct cfg_section quirks_section = {
	.name = "quirks",
	.directives = quirks_directives,
	.ndirectives = PH_ARRAY_LEN(quirks_directives),
	.create = quirks_create,
	.dump = quirks_dump,
	.destroy = free,
};
