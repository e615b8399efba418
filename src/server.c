/*
 * server.c - the server section of the configuration (server.h): listen
 * (with a TLS listener's certificate, loaded by listen_tls.c), workers,
 * user, pid-file, timeout, max-connections, max-header-size, and the
 * listening addresses' syntax.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pidfile.h"
#include "listen_tls.h"
#include "strbuf.h"

/* "fe80::1%eth0" or "fe80::1%2": the scope of a link-local address. */
int server_parse_v6(const char *s, struct sockaddr_in6 *sin6)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *pct;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return PH_ERROR;
	memcpy(buf, s, n + 1);
	pct = strchr(buf, '%');
	if (pct) {
		uint64_t idx;

		*pct++ = '\0';
		if (cfg_parse_uint(pct, UINT32_MAX, &idx) == PH_OK)
			sin6->sin6_scope_id = (uint32_t)idx;
		else if ((sin6->sin6_scope_id = if_nametoindex(pct)) == 0)
			return PH_ERROR;
	}
	return inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1 ? PH_OK : PH_ERROR;
}

int server_parse_addr(const char *s, struct sockaddr_storage *addr, socklen_t *len, const char **why)
{
	const char *colon, *host;
	size_t hostlen;
	uint16_t port;
	char v4[INET_ADDRSTRLEN];

	memset(addr, 0, sizeof(*addr));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;
		char v6[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

		if (!end || end[1] != ':') {
			*why = "write an IPv6 address as [ADDRESS]:PORT, e.g. [::1]:3128";
			return PH_ERROR;
		}
		hostlen = (size_t)(end - s - 1);
		if (hostlen >= sizeof(v6)) {
			*why = "the address in brackets is not an IPv6 address";
			return PH_ERROR;
		}
		memcpy(v6, s + 1, hostlen);
		v6[hostlen] = '\0';
		if (server_parse_v6(v6, sin6) != PH_OK) {
			*why = "the address in brackets is not an IPv6 address";
			return PH_ERROR;
		}
		if (cfg_parse_port(end + 2, &port) != PH_OK) {
			*why = "the port must be a number from 1 to 65535";
			return PH_ERROR;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return PH_OK;
	}
	colon = strrchr(s, ':');
	if (!colon) {
		*why = "it has no port: write ADDRESS:PORT, e.g. 127.0.0.1:3128, or *:PORT "
		       "for every address";
		return PH_ERROR;
	}
	if (strchr(s, ':') != colon) {
		*why = "write an IPv6 address in brackets, e.g. [::1]:3128";
		return PH_ERROR;
	}
	host = s;
	hostlen = (size_t)(colon - s);
	if (cfg_parse_port(colon + 1, &port) != PH_OK) {
		*why = "the port must be a number from 1 to 65535";
		return PH_ERROR;
	}
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		if (hostlen == 0 || (hostlen == 1 && host[0] == '*')) {
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
			return PH_OK;
		}
		if (hostlen >= sizeof(v4)) {
			*why = "the address must be an IPv4 address, [IPv6] or *";
			return PH_ERROR;
		}
		memcpy(v4, host, hostlen);
		v4[hostlen] = '\0';
		if (inet_pton(AF_INET, v4, &sin->sin_addr) != 1) {
			*why = "the address must be an IPv4 address, [IPv6] or * (names are not "
			       "resolved)";
			return PH_ERROR;
		}
	}
	return PH_OK;
}

bool server_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

bool server_addr_is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;

		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a;

		if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s->sin6_addr) && s->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

static uint16_t addr_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
	                                      : ((const struct sockaddr_in *)a)->sin_port);
}

static bool addr_is_any(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	return a->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* Whether a (with its port) is one of this machine's interface addresses. */
static bool addr_is_interface(const struct sockaddr_storage *a)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (getifaddrs(&ifs) != 0)
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		struct sockaddr_storage ss;

		if (!i->ifa_addr || i->ifa_addr->sa_family != a->ss_family)
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr,
		       a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		if (a->ss_family == AF_INET) {
			((struct sockaddr_in *)&ss)->sin_port = ((const struct sockaddr_in *)a)->sin_port;
		} else {
			((struct sockaddr_in6 *)&ss)->sin6_port = ((const struct sockaddr_in6 *)a)->sin6_port;
			((struct sockaddr_in6 *)&ss)->sin6_scope_id = ((const struct sockaddr_in6 *)a)->sin6_scope_id;
		}
		found = server_addr_equal(&ss, a);
	}
	freeifaddrs(ifs);
	return found;
}

bool server_listens_on(const struct listen_cfg *l, const struct sockaddr_storage *a)
{
	if (l->addr.ss_family != a->ss_family || addr_port(&l->addr) != addr_port(a))
		return false;
	return addr_is_any(&l->addr) ? addr_is_interface(a) : server_addr_equal(&l->addr, a);
}

void server_listen_free(struct listen_cfg *l)
{
	free(l->pp_from);
	free(l->pp_from_text);
	free(l->tls_cert);
	free(l->tls_key);
	listen_tls_free(l->tls);
	l->pp_from = NULL;
	l->pp_from_text = NULL;
	l->npp_from = 0;
	l->tls_cert = l->tls_key = NULL;
	l->tls = NULL;
}

/* Adds a listener; takes l (its options already filled). */
static void listen_add(struct server_settings *s, const struct cfg_line *ln, struct cfg_ctx *ctx, const char *text,
                       struct listen_cfg l)
{
	const char *why;

	if (server_parse_addr(text, &l.addr, &l.addrlen, &why) != PH_OK) {
		cfg_err(ctx, ln, "bad listen address '%s': %s", text, why);
		server_listen_free(&l);
		return;
	}
	for (size_t i = 0; i < s->nlistens; i++) {
		if (server_addr_equal(&s->listens[i].addr, &l.addr)) {
			cfg_err(ctx, ln, "duplicate listen address %s (already at %s:%d)", text, s->listens[i].file,
			        s->listens[i].line);
			server_listen_free(&l);
			return;
		}
	}
	snprintf(l.text, sizeof(l.text), "%s", text);
	l.file = ln->file;
	l.line = ln->line;
	s->listens = ph_realloc(s->listens, (s->nlistens + 1) * sizeof(*s->listens));
	s->listens[s->nlistens++] = l;
}

/* listen ADDR:PORT [tls CERT KEY] [proxy-protocol [from CIDR...]] */
static void d_listen(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	static const char *const opts[] = { "tls", "proxy-protocol" };
	struct listen_cfg l;
	int i = 2;

	memset(&l, 0, sizeof(l));
	while (i < ln->argc) {
		int opt = cfg_keyword(ln->argv[i], opts, PH_ARRAY_LEN(opts));

		if (opt < 0 || (opt == 0 && l.tls_cert) || (opt == 1 && l.proxy_protocol)) {
			if (opt < 0)
				cfg_unknown(ctx, ln, "listen option", ln->argv[i], opts, PH_ARRAY_LEN(opts));
			else
				cfg_err(ctx, ln, "listen: %s is given twice", opts[opt]);
			server_listen_free(&l);
			return;
		}
		if (opt == 0) {
			if (i + 2 >= ln->argc || cfg_keyword(ln->argv[i + 1], opts, PH_ARRAY_LEN(opts)) >= 0 ||
			    cfg_keyword(ln->argv[i + 2], opts, PH_ARRAY_LEN(opts)) >= 0) {
				cfg_err(ctx, ln,
				        "listen ... tls needs the certificate and key files: tls CERT KEY (PEM; the "
				        "certificate file may hold the chain after the certificate)");
				server_listen_free(&l);
				return;
			}
			l.tls_cert = cfg_path(ln->file, ln->argv[i + 1]);
			l.tls_key = cfg_path(ln->file, ln->argv[i + 2]);
			i += 3;
			continue;
		}
		l.proxy_protocol = true;
		i++;
		if (i < ln->argc && strcmp(ln->argv[i], "from") == 0) {
			struct strbuf text = { 0 };

			if (++i == ln->argc) {
				cfg_err(ctx, ln,
				        "proxy-protocol from needs at least one address or CIDR (e.g. 10.0.0.5/32)");
				server_listen_free(&l);
				return;
			}
			for (; i < ln->argc && cfg_keyword(ln->argv[i], opts, PH_ARRAY_LEN(opts)) < 0; i++) {
				struct cidr c;

				if (acl_cidr_parse(&c, ln->argv[i]) < 0) {
					cfg_err(ctx, ln, "proxy-protocol from: '%s' is not an address or CIDR",
					        ln->argv[i]);
					free(text.p);
					server_listen_free(&l);
					return;
				}
				l.pp_from = ph_realloc(l.pp_from, (l.npp_from + 1) * sizeof(*l.pp_from));
				l.pp_from[l.npp_from++] = c;
				strbuf_printf(&text, "%s%s", text.len ? " " : "", ln->argv[i]);
			}
			l.pp_from_text = text.p;
		}
	}
	listen_add(settings, ln, ctx, ln->argv[1], l);
}

static void d_workers(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;
	uint64_t v;

	if (strcmp(ln->argv[1], "auto") == 0) {
		s->workers = 0;
		return;
	}
	if (cfg_parse_uint(ln->argv[1], UINT32_MAX, &v) != PH_OK || v < 1 || v > 64) {
		cfg_err(ctx, ln, "workers must be 'auto' or a number from 1 to 64, not '%s'", ln->argv[1]);
		return;
	}
	s->workers = (int)v;
}

static void d_user(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;
	struct passwd pw, *res = NULL;
	char buf[16384];
	int rc;

	rc = getpwnam_r(ln->argv[1], &pw, buf, sizeof(buf), &res);
	if (rc != 0 || !res) {
		cfg_err(ctx, ln,
		        "user '%s' does not exist on this system; create it or name an "
		        "existing one such as 'nobody'",
		        ln->argv[1]);
		return;
	}
	free(s->user);
	s->user = ph_strdup(ln->argv[1]);
}

/* pid-file FILE: the control socket beside it must have a name a socket
 * can have, and pinhole must be able to write it.  Its directory may be
 * missing for now (systemd makes RuntimeDirectory= when the service
 * starts, and removes it when it stops; pinhole run makes it otherwise). */
static void d_pid_file(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;
	char why[1024], ctl[128];
	char *path = cfg_path(ln->file, ln->argv[1]);
	char *dir = ph_strdup(path), *slash = strrchr(dir, '/');
	struct stat st;

	if (slash && slash != dir)
		*slash = '\0';
	if (!pidfile_control_path(path, ctl, sizeof(ctl))) {
		cfg_err(ctx, ln, "pid-file %s: the name is too long (its control socket's name must fit in 107 bytes)",
		        path);
	} else if (stat(dir, &st) != 0 && errno == ENOENT) {
		cfg_warn(ctx, ln,
		         "the pid-file's directory %s does not exist yet: pinhole run makes it (systemd: "
		         "RuntimeDirectory=)",
		         dir);
		goto ok;
	} else if (!cfg_file_writable(path, why, sizeof(why))) {
		cfg_err(ctx, ln, "cannot write the pid-file %s: %s", path, why);
	} else {
		goto ok;
	}
	free(path);
	free(dir);
	return;
ok:
	free(dir);
	free(s->pid_file);
	s->pid_file = path;
	s->pid_file_file = ln->file;
	s->pid_file_line = ln->line;
}

static const char *const timeout_names[] = {
	"connect", "header", "idle", "tunnel-idle", "drain",
};

static const size_t timeout_offsets[] = {
	offsetof(struct server_settings, timeout_connect_ms), offsetof(struct server_settings, timeout_header_ms),
	offsetof(struct server_settings, timeout_idle_ms),    offsetof(struct server_settings, timeout_tunnel_idle_ms),
	offsetof(struct server_settings, timeout_drain_ms),
};

static void d_timeout(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	int kind = cfg_keyword(ln->argv[1], timeout_names, PH_ARRAY_LEN(timeout_names));
	char key[64];
	uint64_t ms;

	if (kind < 0) {
		cfg_unknown(ctx, ln, "timeout", ln->argv[1], timeout_names, PH_ARRAY_LEN(timeout_names));
		return;
	}
	if (cfg_parse_duration(ln->argv[2], &ms) != PH_OK) {
		cfg_err(ctx, ln,
		        "bad duration '%s' for timeout %s: write a number with s, m, h "
		        "or ms, e.g. 30s",
		        ln->argv[2], timeout_names[kind]);
		return;
	}
	/* Only drain has a meaning for 0: exit without waiting. */
	if (ms == 0 && kind != 4) {
		cfg_err(ctx, ln, "timeout %s cannot be 0", timeout_names[kind]);
		return;
	}
	snprintf(key, sizeof(key), "timeout %s", timeout_names[kind]);
	cfg_once(ctx, ln, key);
	*(uint64_t *)((char *)settings + timeout_offsets[kind]) = ms;
}

static void d_max_connections(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;
	uint64_t v;

	if (cfg_parse_uint(ln->argv[1], UINT32_MAX, &v) != PH_OK || v < 1 || v > 1000000) {
		cfg_err(ctx, ln, "max-connections must be a number from 1 to 1000000, not '%s'", ln->argv[1]);
		return;
	}
	s->max_connections = (unsigned)v;
}

static void d_max_header_size(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;
	uint64_t v;

	if (cfg_parse_size(ln->argv[1], &v) != PH_OK) {
		cfg_err(ctx, ln,
		        "bad size '%s' for max-header-size: write bytes or a number with "
		        "k or M, e.g. 64k",
		        ln->argv[1]);
		return;
	}
	if (v < 1024 || v > 1024 * 1024) {
		cfg_err(ctx, ln, "max-header-size must be from 1k to 1M, not '%s'", ln->argv[1]);
		return;
	}
	s->max_header_size = (size_t)v;
}

static void *server_create(void)
{
	struct server_settings *s = ph_calloc(1, sizeof(*s));

	s->timeout_connect_ms = SERVER_DEFAULT_TIMEOUT_CONNECT_MS;
	s->timeout_header_ms = SERVER_DEFAULT_TIMEOUT_HEADER_MS;
	s->timeout_idle_ms = SERVER_DEFAULT_TIMEOUT_IDLE_MS;
	s->timeout_tunnel_idle_ms = SERVER_DEFAULT_TIMEOUT_TUNNEL_IDLE_MS;
	s->timeout_drain_ms = SERVER_DEFAULT_TIMEOUT_DRAIN_MS;
	s->max_connections = SERVER_DEFAULT_MAX_CONNECTIONS;
	s->max_header_size = SERVER_DEFAULT_MAX_HEADER_SIZE;
	return s;
}

/* Without a listen line, the default listener (at line 0 of the main file). */
static void server_finish(void *settings, const char *mainfile, struct cfg_ctx *ctx)
{
	struct server_settings *s = settings;

	if (s->nlistens == 0) {
		struct cfg_line ln = { .file = mainfile, .line = 0 };

		listen_add(s, &ln, ctx, SERVER_DEFAULT_LISTEN, (struct listen_cfg){ .proxy_protocol = false });
	}
	/* The certificates are read only when every line parsed (a key is not
	 * read for a configuration refused anyway), and at every reload: a
	 * renewed certificate is taken by the next handshake. */
	for (size_t i = 0, parse_errors = ctx->errs->n; i < s->nlistens && parse_errors == 0; i++) {
		struct listen_cfg *l = &s->listens[i];
		char err[1024];

		if (l->tls_cert && !(l->tls = listen_tls_load(l->tls_cert, l->tls_key, err, sizeof(err))))
			cfg_error(ctx->errs, l->file, l->line, "listen %s tls: %s", l->text, err);
	}
}

static void server_dump(const void *settings, struct strbuf *sb)
{
	const struct server_settings *s = settings;

	for (size_t i = 0; i < s->nlistens; i++) {
		strbuf_printf(sb, "listen ");
		cfg_dump_word(sb, s->listens[i].text);
		if (s->listens[i].tls_cert) {
			strbuf_puts(sb, " tls ");
			cfg_dump_word(sb, s->listens[i].tls_cert);
			strbuf_puts(sb, " ");
			cfg_dump_word(sb, s->listens[i].tls_key);
		}
		strbuf_printf(sb, "%s", s->listens[i].proxy_protocol ? " proxy-protocol" : "");
		if (s->listens[i].pp_from_text)
			strbuf_printf(sb, " from %s", s->listens[i].pp_from_text);
		strbuf_puts(sb, "\n");
	}
	if (s->workers)
		strbuf_printf(sb, "workers %d\n", s->workers);
	else
		strbuf_printf(sb, "workers auto\n");
	if (s->user) {
		strbuf_printf(sb, "user ");
		cfg_dump_word(sb, s->user);
		strbuf_printf(sb, "\n");
	}
	if (s->pid_file) {
		strbuf_printf(sb, "pid-file ");
		cfg_dump_word(sb, s->pid_file);
		strbuf_printf(sb, "\n");
	}
	for (size_t i = 0; i < PH_ARRAY_LEN(timeout_names); i++) {
		strbuf_printf(sb, "timeout %s ", timeout_names[i]);
		cfg_dump_duration(sb, *(const uint64_t *)((const char *)s + timeout_offsets[i]));
		strbuf_printf(sb, "\n");
	}
	strbuf_printf(sb, "max-connections %u\nmax-header-size ", s->max_connections);
	cfg_dump_size(sb, s->max_header_size);
	strbuf_printf(sb, "\n");
}

static void server_destroy(void *settings)
{
	struct server_settings *s = settings;

	for (size_t i = 0; i < s->nlistens; i++)
		server_listen_free(&s->listens[i]);
	free(s->listens);
	free(s->user);
	free(s->pid_file);
	free(s);
}

static const struct cfg_directive server_directives[] = {
	{ "listen", 1, 64, false, "listen ADDR:PORT [tls CERT KEY] [proxy-protocol [from CIDR...]]", d_listen },
	{ "workers", 1, 1, true, "workers N|auto", d_workers },
	{ "user", 1, 1, true, "user NAME", d_user },
	{ "pid-file", 1, 1, true, "pid-file FILE", d_pid_file },
	{ "timeout", 2, 2, false, "timeout connect|header|idle|tunnel-idle|drain DURATION", d_timeout },
	{ "max-connections", 1, 1, true, "max-connections N", d_max_connections },
	{ "max-header-size", 1, 1, true, "max-header-size SIZE", d_max_header_size },
};

const struct cfg_section server_section = {
	.name = "server",
	.directives = server_directives,
	.ndirectives = PH_ARRAY_LEN(server_directives),
	.create = server_create,
	.finish = server_finish,
	.dump = server_dump,
	.destroy = server_destroy,
};
