/*
 * config.c - reads pinhole.conf into an immutable, reference-counted struct
 * config: the tokenizer, include and preset handling, the list of the
 * modules' sections that own the directives, the checks that span
 * several modules, the embedded default and the text dump.  What a value
 * means belongs to the module that owns it.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "admin_cfg.h"
#include "auth.h"
#include "cfglint.h"
#include "common.h"
#include "dns.h"
#include "log.h"
#include "quirks.h"
#include "server.h"
#include "selfcheck_cfg.h"
#include "strbuf.h"
#include "surrogate.h"
#include "tls.h"
#include "turn.h"
#include "upstream.h"

#define PINHOLE_RELEASE "pinhole 0.3"
#define LINE_MAX_BYTES (64 * 1024)
#define FILE_MAX_BYTES (16 * 1024 * 1024)
#define INCLUDE_MAX_DEPTH 16

const char config_default_text[] = "# pinhole's embedded default configuration, used when pinhole runs\n"
                                   "# without -c FILE.  It is a proxy for this machine only: it listens on\n"
                                   "# loopback, asks for no password, inspects no TLS and lets every request\n"
                                   "# through.  `pinhole run -c FILE` replaces all of it.\n"
                                   "\n"
                                   "listen 127.0.0.1:3128\n"
                                   "\n"
                                   "# Dashboard, /metrics, /healthz and the WebRTC report; loopback only, so\n"
                                   "# it needs no admin-auth.\n"
                                   "admin 127.0.0.1:3129\n"
                                   "\n"
                                   "access-log stdout squid\n"
                                   "error-log stderr\n"
                                   "log-level warn\n"
                                   "\n"
                                   "# No authentication, no TLS inspection: everything is allowed.\n"
                                   "allow all\n";

static atomic_uint_fast64_t config_generation;

/* ---- the sections: which module owns which directives ---- */

/* In the order /config shows them; each one's settings live at offset in
 * struct config.  The server section comes first (its listeners), tls
 * last (it reads a CA only when everything else parsed). */
static const struct {
	const struct cfg_section *s;
	size_t offset;
} sections[] = {
	{ &server_section, offsetof(struct config, server) },
	{ &admin_section, offsetof(struct config, admin) },
	{ &log_section, offsetof(struct config, log) },
	{ &dns_section, offsetof(struct config, dns) },
	{ &quirks_section, offsetof(struct config, quirks) },
	{ &acl_section, offsetof(struct config, acl) },
	{ &auth_section, offsetof(struct config, auth) },
	{ &turn_section, offsetof(struct config, turn) },
	{ &upstream_section, offsetof(struct config, upstream) },
	{ &tls_section, offsetof(struct config, tls) },
	{ &surrogate_section, offsetof(struct config, surrogate) },
	{ &selfcheck_section, offsetof(struct config, selfcheck) },
};

static void **settings_of(const struct config *cfg, size_t i)
{
	return (void **)((char *)cfg + sections[i].offset);
}

/* ---- the parser ---- */

struct include_frame {
	const char *name; /* as shown in messages (interned) */
	char *key;        /* realpath, to recognise a cycle */
};

struct parse_ctx {
	struct config *cfg;
	struct cfg_ctx c;
	struct include_frame stack[INCLUDE_MAX_DEPTH];
	int depth;
};

static void d_include(struct parse_ctx *ctx, const struct cfg_line *ln);
static void d_preset(struct parse_ctx *ctx, const struct cfg_line *ln);

/* The directives of the file itself; every other one belongs to a section. */
static const struct {
	const char *name;
	int min_args, max_args;
	const char *usage;
	/* NULL: a directive of a capability this release does not have. */
	void (*fn)(struct parse_ctx *ctx, const struct cfg_line *ln);
} core_directives[] = {
	{ "include", 1, 1, "include FILE", d_include },
	{ "preset", 1, 2, "preset webex|tokbox|cms HOST", d_preset },
};

/* Every directive name, for "did you mean". */
static const char *suggest_directive(const char *word)
{
	const char *names[128];
	size_t n = 0;

	for (size_t i = 0; i < PH_ARRAY_LEN(core_directives); i++)
		names[n++] = core_directives[i].name;
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		for (size_t k = 0; k < sections[i].s->ndirectives && n < PH_ARRAY_LEN(names); k++)
			names[n++] = sections[i].s->directives[k].name;
	return cfg_suggest(word, names, n);
}

static bool args_ok(struct parse_ctx *ctx, const struct cfg_line *ln, const char *name, int min, int max,
                    const char *usage)
{
	int nargs = ln->argc - 1;

	if (nargs < min) {
		cfg_err(&ctx->c, ln, "%s needs %s (usage: %s)", name, min == 1 ? "a value" : "more values", usage);
		return false;
	}
	if (max >= 0 && nargs > max) {
		cfg_err(&ctx->c, ln, "too many values for %s: '%s' is one too many (usage: %s)", name,
		        ln->argv[max + 1], usage);
		return false;
	}
	return true;
}

static void run_directive(struct parse_ctx *ctx, const struct cfg_line *ln)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(core_directives); i++) {
		if (strcmp(ln->argv[0], core_directives[i].name) != 0)
			continue;
		if (!core_directives[i].fn) {
			cfg_err(&ctx->c, ln, "'%s' is not available in " PINHOLE_RELEASE, core_directives[i].name);
			return;
		}
		if (args_ok(ctx, ln, core_directives[i].name, core_directives[i].min_args, core_directives[i].max_args,
		            core_directives[i].usage))
			core_directives[i].fn(ctx, ln);
		return;
	}
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++) {
		for (size_t k = 0; k < sections[i].s->ndirectives; k++) {
			const struct cfg_directive *d = &sections[i].s->directives[k];

			if (strcmp(ln->argv[0], d->name) != 0)
				continue;
			if (!args_ok(ctx, ln, d->name, d->min_args, d->max_args, d->usage))
				return;
			/* A duplicate is reported, and its values are still
			 * checked so that one run shows every mistake. */
			if (d->once)
				cfg_once(&ctx->c, ln, d->name);
			d->parse(*settings_of(ctx->cfg, i), ln, &ctx->c);
			return;
		}
	}
	const char *sug = suggest_directive(ln->argv[0]);

	if (sug)
		cfg_err(&ctx->c, ln, "unknown directive '%s' (did you mean '%s'?)", ln->argv[0], sug);
	else
		cfg_err(&ctx->c, ln, "unknown directive '%s' (pinhole.conf(5) lists them all)", ln->argv[0]);
}

/*
 * Splits one line into words: blanks separate them, '#' at the start of a
 * word starts a comment, and double quotes group blanks into a word with
 * \" and \\ as escapes (other backslashes are literal).  Quoted and bare
 * parts next to each other join into one word, as in a shell.
 * *content_end is where the directive ends (before the comment).  Returns
 * an error sentence or NULL.
 */
static const char *tokenize(const char *s, size_t len, char *store, char ***argv, int *argc, size_t *content_end)
{
	size_t i = 0, cap = 0;
	char *out = store;

	*argc = 0;
	*argv = NULL;
	*content_end = len;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f'))
			i++;
		if (i >= len)
			break;
		if (s[i] == '#') {
			*content_end = i;
			break;
		}
		if ((size_t)*argc == cap) {
			cap = cap ? cap * 2 : 8;
			*argv = ph_realloc(*argv, (cap + 1) * sizeof(**argv));
		}
		(*argv)[(*argc)++] = out;
		while (i < len && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f')) {
			if (s[i] != '"') {
				*out++ = s[i++];
				continue;
			}
			for (i++;; i++) {
				if (i >= len)
					return "unterminated quoted string: a '\"' is missing";
				if (s[i] == '"')
					break;
				/* \" and \\ are escapes; any other backslash is
				 * itself, so "CORP\alice" means what it says. */
				if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
					*out++ = s[++i];
					continue;
				}
				*out++ = s[i];
			}
			i++;
		}
		*out++ = '\0';
	}
	if (*argv)
		(*argv)[*argc] = NULL;
	return NULL;
}

static void parse_buffer(struct parse_ctx *ctx, const char *file, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	/* Editors on Windows start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct cfg_line ln = { .file = file, .line = ++lineno };
		const char *err;
		size_t content_end;
		char *store, *textcopy;

		if (n > LINE_MAX_BYTES) {
			cfg_error(ctx->c.errs, file, lineno, "the line is longer than %d bytes", LINE_MAX_BYTES);
		} else if (memchr(p, '\0', n)) {
			cfg_error(ctx->c.errs, file, lineno, "the line contains a NUL byte; is this a text file?");
		} else {
			store = ph_malloc(n + 1);
			err = tokenize(p, n, store, &ln.argv, &ln.argc, &content_end);
			if (err) {
				cfg_error(ctx->c.errs, file, lineno, "%s", err);
			} else if (ln.argc > 0) {
				/* The directive as written, for rules and /config. */
				while (content_end > 0 && strchr(" \t\r\v\f", p[content_end - 1]))
					content_end--;
				textcopy = ph_strndup(p, content_end);
				ln.text = textcopy + strspn(textcopy, " \t\r\v\f");
				run_directive(ctx, &ln);
				free(textcopy);
			}
			free(ln.argv);
			free(store);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

static char *file_key(const char *path)
{
	char *rp = realpath(path, NULL);

	return rp ? rp : ph_strdup(path);
}

/* Every "$HOST" in text replaced by host (which holds no '$'). */
static char *subst_host(const char *text, size_t len, const char *host, size_t *outlen)
{
	static const char var[] = "$HOST";
	const size_t vlen = sizeof(var) - 1;
	struct strbuf sb = { 0 };
	const char *p = text, *end = text + len;

	strbuf_add(&sb, "", 0);
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), var, vlen);

		if (!hit) {
			strbuf_add(&sb, p, (size_t)(end - p));
			break;
		}
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_add(&sb, host, strlen(host));
		p = hit + vlen;
	}
	*outlen = sb.len;
	return sb.p;
}

/*
 * Parses the file at path as if its lines stood where ln is: `include`, and
 * `preset` (preset names the preset, and host, when not NULL, replaces
 * "$HOST").  Its errors name the file itself.  Returns the interned name
 * of the file, or NULL when it could not be read.
 */
static const char *include_file(struct parse_ctx *ctx, const struct cfg_line *ln, const char *path, const char *preset,
                                const char *host)
{
	char *key = file_key(path);
	const char *name = NULL, *why;
	char *text;
	size_t len;

	for (int i = 0; i < ctx->depth; i++) {
		if (strcmp(ctx->stack[i].key, key) == 0) {
			struct strbuf chain = { 0 };

			for (int j = i; j < ctx->depth; j++)
				strbuf_printf(&chain, "%s -> ", ctx->stack[j].name);
			strbuf_printf(&chain, "%s", path);
			cfg_err(&ctx->c, ln, "include cycle: %s", chain.p);
			free(chain.p);
			goto out;
		}
	}
	if (ctx->depth >= INCLUDE_MAX_DEPTH) {
		cfg_err(&ctx->c, ln, "cannot include '%s': includes are nested more than %d deep", path,
		        INCLUDE_MAX_DEPTH);
		goto out;
	}
	if (cfg_read_file(path, FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		if (preset)
			cfg_err(&ctx->c, ln,
			        "cannot read the %s preset '%s': %s (set PINHOLE_PRESET_DIR to the directory holding "
			        "webex.conf, tokbox.conf and cms.conf)",
			        preset, path, why);
		else
			cfg_err(&ctx->c, ln, "cannot include '%s': %s", path, why);
		goto out;
	}
	if (host) {
		char *t = subst_host(text, len, host, &len);

		free(text);
		text = t;
	}
	name = cfg_intern(&ctx->c, path);
	ctx->stack[ctx->depth].name = name;
	ctx->stack[ctx->depth].key = key;
	ctx->depth++;
	parse_buffer(ctx, name, text, len);
	ctx->depth--;
	free(text);
out:
	free(key);
	return name;
}

/* include FILE, or include PATTERN (every *.conf of conf.d): every file the
 * pattern names, in sorted order, as Squid and nginx read them.  A pattern
 * that names no file is no error (an empty drop-in directory); a missing
 * directory is. */
static void d_include(struct parse_ctx *ctx, const struct cfg_line *ln)
{
	char *path = cfg_path_join(ln->file, ln->argv[1]);
	glob_t g;
	int rc;

	if (!strpbrk(ln->argv[1], "*?[")) {
		include_file(ctx, ln, path, NULL, NULL);
		free(path);
		return;
	}
	rc = glob(path, GLOB_ERR | GLOB_MARK, NULL, &g);
	if (rc == GLOB_NOMATCH || rc == GLOB_ABORTED) {
		char *dir = ph_strdup(path), *slash = strrchr(dir, '/');
		struct stat st;

		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		if (!strpbrk(dir, "*?[") && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
			cfg_err(&ctx->c, ln, "cannot include '%s': the directory %s does not exist", path, dir);
		else if (rc == GLOB_ABORTED)
			cfg_err(&ctx->c, ln, "cannot include '%s': a directory on the way cannot be read", path);
		free(dir);
	} else if (rc != 0) {
		cfg_err(&ctx->c, ln, "cannot include '%s': out of memory", path);
	} else {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t n = strlen(g.gl_pathv[i]);

			/* GLOB_MARK: directories end with '/'; only files are read. */
			if (n && g.gl_pathv[i][n - 1] == '/')
				continue;
			include_file(ctx, ln, g.gl_pathv[i], NULL, NULL);
		}
	}
	globfree(&g);
	free(path);
}

/* ---- presets ---- */

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/pinhole"
#endif

/* Where `preset NAME` finds NAME.conf: PINHOLE_PRESET_DIR, else the
 * installed copy, else (a build that was never installed) the source
 * tree's conf/presets. */
static const char *preset_dir(void)
{
	const char *env = getenv("PINHOLE_PRESET_DIR");
	struct stat st;

	if (env && *env)
		return env;
	if (stat(PKGDATADIR "/presets", &st) == 0 && S_ISDIR(st.st_mode))
		return PKGDATADIR "/presets";
#ifdef PH_SRC_PRESETDIR
	return PH_SRC_PRESETDIR;
#else
	return PKGDATADIR "/presets";
#endif
}

struct preset_def {
	const char *name;
	bool takes_host; /* cms: the Expressway-E host name */
};

static const struct preset_def preset_table[] = {
	{ "webex", false },
	{ "tokbox", false },
	{ "cms", true },
};

/* A single host name, the one clients connect to: the text of a preset is
 * parsed with it in place of $HOST, so nothing but a name may get in. */
static bool preset_host_ok(struct parse_ctx *ctx, const struct cfg_line *ln, const char *host)
{
	struct domain_pattern dp;
	bool ok;

	if (host[0] == '*' || host[0] == '.') {
		cfg_err(&ctx->c, ln, "preset %s takes one host name, not the pattern '%s'", ln->argv[1], host);
		return false;
	}
	if (acl_domain_pattern_parse(&dp, host) != PH_OK) {
		cfg_err(&ctx->c, ln, "'%s' is not a valid host name (letters, digits, '-' and '.')", host);
		return false;
	}
	ok = dp.kind == DOMAIN_EXACT;
	acl_domain_pattern_free(&dp);
	if (!ok)
		cfg_err(&ctx->c, ln,
		        "preset %s takes the Expressway-E host name that browsers connect to (the name in its "
		        "certificate), not the address '%s'",
		        ln->argv[1], host);
	return ok;
}

static void d_preset(struct parse_ctx *ctx, const struct cfg_line *ln)
{
	struct config *cfg = ctx->cfg;
	const char *names[PH_ARRAY_LEN(preset_table)];
	const struct preset_def *def = NULL;
	struct preset_use *u;
	const char *interned;
	char *arg = NULL, *path;
	size_t idx;

	for (size_t i = 0; i < PH_ARRAY_LEN(preset_table); i++) {
		names[i] = preset_table[i].name;
		if (strcmp(ln->argv[1], preset_table[i].name) == 0)
			def = &preset_table[i];
	}
	if (!def) {
		cfg_unknown(&ctx->c, ln, "preset", ln->argv[1], names, PH_ARRAY_LEN(names));
		return;
	}
	if (def->takes_host && ln->argc < 3) {
		cfg_err(&ctx->c, ln,
		        "preset %s needs the Expressway-E host name that browsers join on (usage: preset %s HOST, "
		        "e.g. preset %s join.example.com)",
		        def->name, def->name, def->name);
		return;
	}
	if (!def->takes_host && ln->argc > 2) {
		cfg_err(&ctx->c, ln, "preset %s takes no value: '%s' is one too many", def->name, ln->argv[2]);
		return;
	}
	for (size_t i = 0; i < cfg->npresets; i++) {
		if (strcmp(cfg->presets[i].name, def->name) == 0) {
			cfg_err(&ctx->c, ln, "preset %s is already used at %s:%d", def->name, cfg->presets[i].file,
			        cfg->presets[i].line);
			return;
		}
	}
	if (def->takes_host) {
		arg = ph_strdup(ln->argv[2]);
		acl_host_normalise(arg);
		if (!preset_host_ok(ctx, ln, arg)) {
			free(arg);
			return;
		}
	}
	cfg->presets = ph_realloc(cfg->presets, (cfg->npresets + 1) * sizeof(*cfg->presets));
	/* Recorded first, so that a preset naming itself is "already used";
	 * an index, since the parse below may grow the array. */
	idx = cfg->npresets++;
	u = &cfg->presets[idx];
	u->name = ph_strdup(def->name);
	u->arg = arg;
	u->file = ln->file;
	u->line = ln->line;
	u->preset_file = NULL;

	path = ph_malloc(strlen(preset_dir()) + strlen(def->name) + sizeof("/.conf"));
	sprintf(path, "%s/%s.conf", preset_dir(), def->name);
	interned = include_file(ctx, ln, path, def->name, arg);
	cfg->presets[idx].preset_file = interned;
	free(path);
}

/* ---- load, free, refcount ---- */

static void config_free(struct config *cfg)
{
	free(cfg->path);
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		if (*settings_of(cfg, i))
			sections[i].s->destroy(*settings_of(cfg, i));
	for (size_t i = 0; i < cfg->npresets; i++) {
		free(cfg->presets[i].name);
		free(cfg->presets[i].arg);
	}
	free(cfg->presets);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
}

static struct config *config_new(void)
{
	struct config *cfg = ph_calloc(1, sizeof(*cfg));

	atomic_init(&cfg->refs, 1);
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		*settings_of(cfg, i) = sections[i].s->create();
	return cfg;
}

bool config_is_own_listener(const struct config *cfg, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < cfg->server->nlistens; i++)
		if (server_listens_on(&cfg->server->listens[i], a))
			return true;
	return cfg->admin->enabled && server_listens_on(&cfg->admin->listen, a);
}

/* After the last line: each section's own checks, then those that span
 * several modules. */
static void config_finish(struct parse_ctx *ctx, const char *mainfile)
{
	struct config *cfg = ctx->cfg;
	const struct listen_cfg *admin = &cfg->admin->listen;

	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		if (sections[i].s->finish)
			sections[i].s->finish(*settings_of(cfg, i), mainfile, &ctx->c);
	if (cfg->upstream->any_tls && ctx->c.errs->n == 0) {
		char why[512];

		/* https:// parents are verified against tls-trust, which
		 * another section owns (and has checked it can read). */
		if (upstream_tls_setup(cfg->upstream, cfg->tls->trust, why, sizeof(why)) != 0) {
			for (size_t i = 0; i < cfg->upstream->n; i++) {
				const struct upstream_route *r = &cfg->upstream->routes[i];
				bool tls = false;

				for (size_t k = 0; k < r->nparents; k++)
					tls |= r->parents[k].tls;
				if (tls) {
					cfg_error(ctx->c.errs, r->file, r->line, "%s", why);
					break;
				}
			}
		}
	}
	/* tls-trust serves inspection and https:// parents: the tls section
	 * alone cannot tell whether anything uses it. */
	if (cfg->tls->trust && !cfg->tls->ca_cert && !cfg->upstream->any_tls)
		cfg_error(ctx->c.errs, cfg->tls->trust_file, cfg->tls->trust_line,
		          "tls-trust is set but neither tls-inspect nor an https:// upstream-proxy uses it: add "
		          "tls-inspect ca CERT KEY");
	const char **preset_files = ph_calloc(cfg->npresets + 1, sizeof(*preset_files));

	for (size_t i = 0; i < cfg->npresets; i++)
		preset_files[i] = cfg->presets[i].preset_file;
	cfglint_check(&(struct cfglint_input){ .acl = cfg->acl,
	                                       .tls = cfg->tls,
	                                       .auth = auth_config_enabled(cfg->auth),
	                                       .preset_files = preset_files,
	                                       .npreset_files = cfg->npresets },
	              ctx->c.errs);
	free(preset_files);
	if (cfg->quirks->inspect_all && !cfg->tls->ca_cert)
		cfg_error(ctx->c.errs, cfg->quirks->inspect_all_file, cfg->quirks->inspect_all_line,
		          "quirk inspect-all needs tls-inspect ca CERT KEY");
	if (cfg->surrogate->duration_ms && !auth_config_enabled(cfg->auth))
		cfg_error(ctx->c.errs, cfg->surrogate->rule.file, cfg->surrogate->rule.line,
		          "auth-surrogate stands in for proxy authentication, but no auth scheme is configured");
	if (!cfg->admin->enabled)
		return;
	for (size_t i = 0; i < cfg->server->nlistens; i++) {
		const struct listen_cfg *l = &cfg->server->listens[i];

		if (!server_addr_equal(&l->addr, &admin->addr))
			continue;
		if (l->line == 0)
			cfg_error(ctx->c.errs, admin->file, admin->line,
			          "admin address %s is the proxy's default listen address; give "
			          "admin another port or add a 'listen' line",
			          admin->text);
		else
			cfg_error(ctx->c.errs, admin->file, admin->line,
			          "admin address %s is already a proxy listen address (at %s:%d)", admin->text, l->file,
			          l->line);
	}
}

static struct config *parse_top(const char *name, const char *path, const char *text, size_t len,
                                struct cfg_errors *errs, bool partial)
{
	struct cfg_errors local = { 0 };
	struct parse_ctx ctx;
	size_t before;
	const char *iname;

	memset(&ctx, 0, sizeof(ctx));
	if (!errs)
		errs = &local;
	before = errs->n;
	ctx.cfg = config_new();
	ctx.c.errs = errs;
	ctx.cfg->path = path ? ph_strdup(path) : NULL;
	iname = cfg_intern(&ctx.c, name);
	ctx.stack[0].name = iname;
	ctx.stack[0].key = file_key(name);
	ctx.depth = 1;

	parse_buffer(&ctx, iname, text, len);
	config_finish(&ctx, iname);

	free(ctx.stack[0].key);
	cfg_ctx_done(&ctx.c);
	ctx.cfg->files = ctx.c.files;
	ctx.cfg->nfiles = ctx.c.nfiles;
	if (errs->n > before && !partial) {
		config_free(ctx.cfg);
		cfg_errors_free(&local);
		return NULL;
	}
	ctx.cfg->generation = atomic_fetch_add(&config_generation, 1) + 1;
	return ctx.cfg;
}

struct config *config_parse_text(const char *name, const char *text, size_t len, struct cfg_errors *errs)
{
	if (!name)
		name = "(text)";
	return parse_top(name, name, text, len, errs, false);
}

static struct config *load(const char *path, struct cfg_errors *errs, bool partial)
{
	struct cfg_errors local = { 0 };
	struct config *cfg;
	const char *why;
	char *text;
	size_t len;

	if (!path)
		return parse_top("(embedded default)", NULL, config_default_text, strlen(config_default_text), errs,
		                 partial);
	if (cfg_read_file(path, FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		cfg_error(errs ? errs : &local, path, 0, "cannot read the configuration file: %s", why);
		cfg_errors_free(&local);
		return NULL;
	}
	cfg = parse_top(path, path, text, len, errs, partial);
	free(text);
	return cfg;
}

struct config *config_load(const char *path, struct cfg_errors *errs)
{
	return load(path, errs, false);
}

struct config *config_load_partial(const char *path, struct cfg_errors *errs)
{
	return load(path, errs, true);
}

struct config *config_ref(struct config *cfg)
{
	atomic_fetch_add(&cfg->refs, 1);
	return cfg;
}

void config_unref(struct config *cfg)
{
	if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1)
		config_free(cfg);
}

void config_commit(const struct config *cfg)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		if (sections[i].s->commit)
			sections[i].s->commit(*settings_of(cfg, i));
}

/* ---- dump ---- */

/* The preset whose file added a rule or a turn-server, or NULL. */
static const struct preset_use *preset_of(const struct config *cfg, const char *file)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		if (cfg->presets[i].preset_file && file && strcmp(cfg->presets[i].preset_file, file) == 0)
			return &cfg->presets[i];
	return NULL;
}

static void dump_origin(struct strbuf *sb, const char *file, int line, const struct preset_use *u)
{
	strbuf_printf(sb, "  # %s:%d", file, line);
	if (u)
		strbuf_printf(sb, " (preset %s)", u->name);
	strbuf_printf(sb, "\n");
}

static void dump_preset(struct strbuf *sb, const struct preset_use *u)
{
	strbuf_printf(sb, "preset %s%s%s  # %s:%d\n", u->name, u->arg ? " " : "", u->arg ? u->arg : "", u->file,
	              u->line);
}

char *config_dump(const struct config *cfg)
{
	struct strbuf sb = { 0 };
	bool *dumped = ph_calloc(cfg->npresets ? cfg->npresets : 1, sizeof(*dumped));
	const struct rule_list *noauth = &cfg->acl->noauth, *rules = &cfg->acl->rules;

	strbuf_printf(&sb, "# pinhole effective configuration, generation %llu, from ",
	              (unsigned long long)cfg->generation);
	strbuf_printf(&sb, "%s\n", cfg->path ? cfg->path : "the embedded default");
	for (size_t i = 0; i < PH_ARRAY_LEN(sections); i++)
		if (sections[i].s->dump)
			sections[i].s->dump(*settings_of(cfg, i), &sb);
	/* What presets can add: shown commented out, as it comes back when
	 * the dump is read again. */
	for (size_t i = 0; i < cfg->turn->n; i++) {
		const struct turn_server *t = &cfg->turn->servers[i];
		const struct preset_use *u = preset_of(cfg, t->file);
		bool v6 = strchr(t->host, ':') != NULL;

		strbuf_printf(&sb, "%sturn-server %s%s%s", u ? "# " : "", v6 ? "[" : "", t->host, v6 ? "]" : "");
		if (t->port)
			strbuf_printf(&sb, ":%u", t->port);
		/* The password is for the self-check page, not for /config. */
		if (t->user) {
			strbuf_printf(&sb, " credentials ");
			cfg_dump_word(&sb, t->user);
			strbuf_printf(&sb, " (password not shown)");
		}
		dump_origin(&sb, t->file, t->line, u);
	}
	for (size_t i = 0; i < noauth->n; i++) {
		const struct preset_use *u = preset_of(cfg, noauth->r[i].file);

		strbuf_printf(&sb, "%s%s", u ? "# " : "", noauth->r[i].text);
		dump_origin(&sb, noauth->r[i].file, noauth->r[i].line, u);
	}
	/* A preset's line stands where its first rule stood, since rule order
	 * decides. */
	for (size_t i = 0; i < rules->n; i++) {
		const struct preset_use *u = preset_of(cfg, rules->r[i].file);

		if (u && !dumped[u - cfg->presets]) {
			dump_preset(&sb, u);
			dumped[u - cfg->presets] = true;
		}
		strbuf_printf(&sb, "%s%s", u ? "# " : "", rules->r[i].text);
		dump_origin(&sb, rules->r[i].file, rules->r[i].line, u);
	}
	for (size_t i = 0; i < cfg->npresets; i++)
		if (!dumped[i])
			dump_preset(&sb, &cfg->presets[i]);
	free(dumped);
	return sb.p;
}
