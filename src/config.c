/*
 * config.c - reads pinhole.conf into an immutable, reference-counted struct
 * config: the tokenizer, include handling, one table row and one function per
 * directive, the hosts-file, the embedded default and the text dump.  What the
 * values mean at run time belongs to the modules that use them.
 */
#include "config.h"
#include "http.h"
#include "strbuf.h"
#include "tls.h"
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define PINHOLE_RELEASE "pinhole 0.3"
#define LINE_MAX_BYTES (64 * 1024)
#define FILE_MAX_BYTES (16 * 1024 * 1024)
#define INCLUDE_MAX_DEPTH 16
#define DEFAULT_LISTEN "127.0.0.1:3128"

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

/* ---- errors and suggestions ---- */

void cfg_error(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;
	int n;

	if (!errs)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = ph_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);

	if (file && line > 0)
		n = snprintf(NULL, 0, "%s:%d: %s", file, line, msg);
	else if (file)
		n = snprintf(NULL, 0, "%s: %s", file, msg);
	else
		n = snprintf(NULL, 0, "%s", msg);
	full = ph_malloc((size_t)n + 1);
	if (file && line > 0)
		snprintf(full, (size_t)n + 1, "%s:%d: %s", file, line, msg);
	else if (file)
		snprintf(full, (size_t)n + 1, "%s: %s", file, msg);
	else
		snprintf(full, (size_t)n + 1, "%s", msg);
	free(msg);

	errs->msgs = ph_realloc(errs->msgs, (errs->n + 1) * sizeof(*errs->msgs));
	errs->msgs[errs->n++] = full;
}

void cfg_errors_free(struct cfg_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* Optimal string alignment distance: a swap of two neighbours ("domian")
 * counts as one edit, which is how people mistype.  Words are short. */
int cfg_edit_distance(const char *a, const char *b)
{
	enum { MAXW = 64 };
	int d[MAXW + 1][MAXW + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MAXW || lb > MAXW)
		return INT_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cfg_suggest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	int bestd = 3;
	size_t lw = strlen(word);

	for (size_t i = 0; i < n; i++) {
		size_t ln = strlen(names[i]);
		int dist;

		if (lw > ln + 2 || ln > lw + 2)
			continue;
		dist = cfg_edit_distance(word, names[i]);
		/* Two edits on a three-letter word leave nothing of it. */
		if (dist < bestd && (size_t)dist < ln) {
			best = names[i];
			bestd = dist;
		}
	}
	return best;
}

/* ---- small helpers ---- */

/* Decimal digits only, no sign, no overflow past max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return PH_ERROR;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return PH_ERROR;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return PH_ERROR;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return PH_OK;
}

static int port_parse(const char *s, uint16_t *port)
{
	uint64_t v;

	if (strlen(s) > 5 || parse_uint(s, 65535, &v) != PH_OK || v == 0)
		return PH_ERROR;
	*port = (uint16_t)v;
	return PH_OK;
}

/* "fe80::1%eth0" or "fe80::1%2": the scope of a link-local address. */
static int v6_parse(const char *s, struct sockaddr_in6 *sin6)
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
		if (parse_uint(pct, UINT32_MAX, &idx) == PH_OK)
			sin6->sin6_scope_id = (uint32_t)idx;
		else if ((sin6->sin6_scope_id = if_nametoindex(pct)) == 0)
			return PH_ERROR;
	}
	return inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1 ? PH_OK : PH_ERROR;
}

static int listen_addr_parse(const char *s, struct sockaddr_storage *addr, socklen_t *len, const char **why)
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
		if (v6_parse(v6, sin6) != PH_OK) {
			*why = "the address in brackets is not an IPv6 address";
			return PH_ERROR;
		}
		if (port_parse(end + 2, &port) != PH_OK) {
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
	if (port_parse(colon + 1, &port) != PH_OK) {
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

int config_parse_listen_addr(const char *s, struct sockaddr_storage *addr, socklen_t *len)
{
	const char *why;

	return listen_addr_parse(s, addr, len, &why);
}

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
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
		found = addr_equal(&ss, a);
	}
	freeifaddrs(ifs);
	return found;
}

static bool listener_is(const struct listen_cfg *l, const struct sockaddr_storage *a)
{
	if (l->addr.ss_family != a->ss_family || addr_port(&l->addr) != addr_port(a))
		return false;
	return addr_is_any(&l->addr) ? addr_is_interface(a) : addr_equal(&l->addr, a);
}

bool config_is_own_listener(const struct config *cfg, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < cfg->nlistens; i++)
		if (listener_is(&cfg->listens[i], a))
			return true;
	return cfg->has_admin && listener_is(&cfg->admin, a);
}

static bool addr_is_loopback(const struct sockaddr_storage *a)
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

/*
 * Reads a whole regular file.  O_NONBLOCK keeps a FIFO from hanging the
 * parser, the S_ISREG check keeps out /dev/zero and friends.  On error,
 * returns PH_ERROR with *why a reason sentence.
 */
static int file_read_all(const char *path, size_t max, char **out, size_t *outlen, const char **why)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*why = strerror(errno);
		return PH_ERROR;
	}
	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		close(fd);
		return PH_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file";
		close(fd);
		return PH_ERROR;
	}
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = ph_realloc(buf, cap + 1);
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			free(buf);
			close(fd);
			return PH_ERROR;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			*why = "it is larger than 16 MiB";
			free(buf);
			close(fd);
			return PH_ERROR;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return PH_OK;
}

/* path relative to the directory of the file that names it. */
static char *path_join_dir(const char *including, const char *path)
{
	const char *slash = strrchr(including, '/');
	size_t dirlen;
	char *r;

	if (path[0] == '/' || !slash)
		return ph_strdup(path);
	dirlen = (size_t)(slash - including) + 1;
	r = ph_malloc(dirlen + strlen(path) + 1);
	memcpy(r, including, dirlen);
	strcpy(r + dirlen, path);
	return r;
}

/* Files pinhole reads or writes later (hosts-file, logs, htpasswd) are
 * resolved now, relative to the config file, and made absolute so that a
 * later chdir() cannot change what they mean. */
static char *path_resolve(const char *including, const char *path)
{
	char *joined = path_join_dir(including, path);
	char cwd[PATH_MAX];
	char *abs;

	if (joined[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return joined;
	abs = ph_malloc(strlen(cwd) + strlen(joined) + 2);
	sprintf(abs, "%s/%s", cwd, strncmp(joined, "./", 2) == 0 ? joined + 2 : joined);
	free(joined);
	return abs;
}

/* ---- hosts-file ---- */

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

static void hosts_free(struct hosts *h)
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
		return v6_parse(s, sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		return inet_pton(AF_INET, s, &sin->sin_addr) == 1 ? PH_OK : PH_ERROR;
	}
}

/* The /etc/hosts format: ADDRESS NAME [NAME...], '#' to the end of the
 * line.  A name on several lines collects the addresses of all of them. */
static void hosts_parse(struct hosts *h, const char *fname, const char *text, size_t len, struct cfg_errors *errs)
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
			if (addr_equal(&e->addrs[j], &pairs[i].addr))
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

/* ---- the parser ---- */

struct line {
	const char *file; /* interned */
	int line;
	int argc;
	char **argv;
	const char *text; /* the directive as written, without comment */
};

struct seen {
	char *key;
	const char *file;
	int line;
};

struct include_frame {
	const char *name; /* as shown in messages (interned) */
	char *key;        /* realpath, to recognise a cycle */
};

struct parse_ctx {
	struct config *cfg;
	struct cfg_errors *errs;
	struct include_frame stack[INCLUDE_MAX_DEPTH];
	int depth;
	struct seen *seen;
	size_t nseen;
	size_t cap_listens, cap_rules, cap_noauth, cap_turn, cap_presets, cap_inspect, cap_no_inspect;
	size_t dns_len;
};

static const char *intern(struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (strcmp(cfg->files[i], name) == 0)
			return cfg->files[i];
	cfg->files = ph_realloc(cfg->files, (cfg->nfiles + 1) * sizeof(*cfg->files));
	cfg->files[cfg->nfiles] = ph_strdup(name);
	return cfg->files[cfg->nfiles++];
}

#define LERR(ctx, ln, ...) cfg_error((ctx)->errs, (ln)->file, (ln)->line, __VA_ARGS__)

/* Directives that may appear once: a second one is an error naming the
 * first, since silently letting one win hides mistakes in included files. */
static void once(struct parse_ctx *ctx, const struct line *ln, const char *key)
{
	for (size_t i = 0; i < ctx->nseen; i++) {
		if (strcmp(ctx->seen[i].key, key) == 0) {
			LERR(ctx, ln, "'%s' is already set at %s:%d", key, ctx->seen[i].file, ctx->seen[i].line);
			return;
		}
	}
	ctx->seen = ph_realloc(ctx->seen, (ctx->nseen + 1) * sizeof(*ctx->seen));
	ctx->seen[ctx->nseen].key = ph_strdup(key);
	ctx->seen[ctx->nseen].file = ln->file;
	ctx->seen[ctx->nseen].line = ln->line;
	ctx->nseen++;
}

/* "unknown WHAT 'x' (did you mean 'y'?)" or "... (one of: a, b, c)". */
static void err_unknown(struct parse_ctx *ctx, const struct line *ln, const char *what, const char *word,
                        const char *const *names, size_t n)
{
	const char *s = cfg_suggest(word, names, n);
	struct strbuf list = { 0 };

	if (s) {
		LERR(ctx, ln, "unknown %s '%s' (did you mean '%s'?)", what, word, s);
		return;
	}
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	LERR(ctx, ln, "unknown %s '%s' (one of: %s)", what, word, list.p);
	free(list.p);
}

static int keyword(const char *word, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	return -1;
}

static void d_include(struct parse_ctx *ctx, const struct line *ln);
static void listen_cfg_free(struct listen_cfg *l);
static void d_preset(struct parse_ctx *ctx, const struct line *ln);
static void d_turn_server(struct parse_ctx *ctx, const struct line *ln);

/* Adds a listener; takes l (its address and options already filled). */
static void listen_add(struct parse_ctx *ctx, const struct line *ln, const char *text, struct listen_cfg l)
{
	struct config *cfg = ctx->cfg;
	const char *why;

	if (listen_addr_parse(text, &l.addr, &l.addrlen, &why) != PH_OK) {
		LERR(ctx, ln, "bad listen address '%s': %s", text, why);
		listen_cfg_free(&l);
		return;
	}
	for (size_t i = 0; i < cfg->nlistens; i++) {
		if (addr_equal(&cfg->listens[i].addr, &l.addr)) {
			LERR(ctx, ln, "duplicate listen address %s (already at %s:%d)", text, cfg->listens[i].file,
			     cfg->listens[i].line);
			listen_cfg_free(&l);
			return;
		}
	}
	snprintf(l.text, sizeof(l.text), "%s", text);
	l.file = ln->file;
	l.line = ln->line;
	if (cfg->nlistens == ctx->cap_listens) {
		ctx->cap_listens = ctx->cap_listens ? ctx->cap_listens * 2 : 4;
		cfg->listens = ph_realloc(cfg->listens, ctx->cap_listens * sizeof(*cfg->listens));
	}
	cfg->listens[cfg->nlistens++] = l;
}

static void listen_cfg_free(struct listen_cfg *l)
{
	free(l->pp_from);
	free(l->pp_from_text);
	l->pp_from = NULL;
	l->pp_from_text = NULL;
	l->npp_from = 0;
}

/* listen ADDR:PORT [proxy-protocol [from CIDR...]] */
static void d_listen(struct parse_ctx *ctx, const struct line *ln)
{
	static const char *const opts[] = { "proxy-protocol" };
	struct listen_cfg l;
	int i = 2;

	memset(&l, 0, sizeof(l));
	while (i < ln->argc) {
		if (strcmp(ln->argv[i], "proxy-protocol") != 0) {
			err_unknown(ctx, ln, "listen option", ln->argv[i], opts, PH_ARRAY_LEN(opts));
			listen_cfg_free(&l);
			return;
		}
		l.proxy_protocol = true;
		i++;
		if (i < ln->argc && strcmp(ln->argv[i], "from") == 0) {
			struct strbuf text = { 0 };

			if (++i == ln->argc) {
				LERR(ctx, ln, "proxy-protocol from needs at least one address or CIDR (e.g. 10.0.0.5/32)");
				return;
			}
			for (; i < ln->argc && strcmp(ln->argv[i], "proxy-protocol") != 0; i++) {
				struct cidr c;

				if (acl_cidr_parse(&c, ln->argv[i]) < 0) {
					LERR(ctx, ln, "proxy-protocol from: '%s' is not an address or CIDR", ln->argv[i]);
					free(text.p);
					listen_cfg_free(&l);
					return;
				}
				l.pp_from = ph_realloc(l.pp_from, (l.npp_from + 1) * sizeof(*l.pp_from));
				l.pp_from[l.npp_from++] = c;
				strbuf_printf(&text, "%s%s", text.len ? " " : "", ln->argv[i]);
			}
			l.pp_from_text = text.p;
		}
	}
	listen_add(ctx, ln, ln->argv[1], l);
}

static void d_admin(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;
	const char *why;

	if (listen_addr_parse(ln->argv[1], &cfg->admin.addr, &cfg->admin.addrlen, &why) != PH_OK) {
		LERR(ctx, ln, "bad admin address '%s': %s", ln->argv[1], why);
		return;
	}
	snprintf(cfg->admin.text, sizeof(cfg->admin.text), "%s", ln->argv[1]);
	cfg->admin.file = ln->file;
	cfg->admin.line = ln->line;
	cfg->has_admin = true;
}

/* Opens and closes path: is it there and readable by us now? */
static bool file_readable(const char *path, const char **why)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*why = strerror(errno);
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "it is not a regular file";
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static void d_admin_auth(struct parse_ctx *ctx, const struct line *ln)
{
	static const char *const kinds[] = { "htpasswd" };
	const char *why;
	char *path;

	if (strcmp(ln->argv[1], "htpasswd") != 0) {
		err_unknown(ctx, ln, "admin-auth kind", ln->argv[1], kinds, PH_ARRAY_LEN(kinds));
		return;
	}
	path = path_resolve(ln->file, ln->argv[2]);
	if (!file_readable(path, &why)) {
		LERR(ctx, ln, "cannot read the admin-auth file '%s': %s", path, why);
		free(path);
		return;
	}
	free(ctx->cfg->admin_htpasswd);
	ctx->cfg->admin_htpasswd = path;
}

/* admin-host NAME...: names the admin interface answers to besides its
 * address and localhost (DNS rebinding protection, admin.c). */
static void d_admin_host(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;

	for (int i = 1; i < ln->argc; i++) {
		struct http_authority a;
		const char *why;

		if (http_parse_authority(ln->argv[i], strlen(ln->argv[i]), false, &a, &why) < 0 || a.port) {
			LERR(ctx, ln, "admin-host: '%s' is not a host name%s%s", ln->argv[i], a.port ? "" : ": ",
			     a.port ? " (no port)" : why);
			continue;
		}
		cfg->admin_hosts = ph_realloc(cfg->admin_hosts, (cfg->nadmin_hosts + 1) * sizeof(*cfg->admin_hosts));
		cfg->admin_hosts[cfg->nadmin_hosts++] = ph_strdup(a.host);
	}
}

static void d_workers(struct parse_ctx *ctx, const struct line *ln)
{
	uint64_t v;

	if (strcmp(ln->argv[1], "auto") == 0) {
		ctx->cfg->workers = 0;
		return;
	}
	if (parse_uint(ln->argv[1], UINT32_MAX, &v) != PH_OK || v < 1 || v > 64) {
		LERR(ctx, ln, "workers must be 'auto' or a number from 1 to 64, not '%s'", ln->argv[1]);
		return;
	}
	ctx->cfg->workers = (int)v;
}

static void d_user(struct parse_ctx *ctx, const struct line *ln)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int rc;

	rc = getpwnam_r(ln->argv[1], &pw, buf, sizeof(buf), &res);
	if (rc != 0 || !res) {
		LERR(ctx, ln,
		     "user '%s' does not exist on this system; create it or name an "
		     "existing one such as 'nobody'",
		     ln->argv[1]);
		return;
	}
	free(ctx->cfg->user);
	ctx->cfg->user = ph_strdup(ln->argv[1]);
}

static void d_access_log(struct parse_ctx *ctx, const struct line *ln)
{
	static const char *const formats[] = { "squid", "json" };
	struct config *cfg = ctx->cfg;
	const char *dest = ln->argv[1];
	int fmt = ACCESS_LOG_SQUID;

	if (ln->argc == 3) {
		fmt = keyword(ln->argv[2], formats, PH_ARRAY_LEN(formats));
		if (fmt < 0) {
			err_unknown(ctx, ln, "access-log format", ln->argv[2], formats, PH_ARRAY_LEN(formats));
			return;
		}
	}
	if (dest[0] == '\0') {
		LERR(ctx, ln, "access-log needs a file name, 'stdout' or 'off'");
		return;
	}
	free(cfg->access_log);
	if (strcmp(dest, "off") == 0)
		cfg->access_log = NULL;
	else if (strcmp(dest, "stdout") == 0)
		cfg->access_log = ph_strdup("stdout");
	else
		cfg->access_log = path_resolve(ln->file, dest);
	cfg->access_log_format = fmt == 1 ? ACCESS_LOG_JSON : ACCESS_LOG_SQUID;
}

static void d_error_log(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;
	const char *dest = ln->argv[1];

	if (dest[0] == '\0') {
		LERR(ctx, ln, "error-log needs a file name, 'stderr' or 'syslog'");
		return;
	}
	free(cfg->error_log);
	if (strcmp(dest, "stderr") == 0 || strcmp(dest, "syslog") == 0)
		cfg->error_log = ph_strdup(dest);
	else
		cfg->error_log = path_resolve(ln->file, dest);
}

static const char *const log_levels[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static void d_log_level(struct parse_ctx *ctx, const struct line *ln)
{
	int lvl = keyword(ln->argv[1], log_levels, PH_ARRAY_LEN(log_levels));

	if (lvl < 0) {
		err_unknown(ctx, ln, "log-level", ln->argv[1], log_levels, PH_ARRAY_LEN(log_levels));
		return;
	}
	ctx->cfg->log_level = (enum log_level)lvl;
}

static void d_hosts_file(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;
	char *path = path_resolve(ln->file, ln->argv[1]);
	const char *why, *fname;
	char *text;
	size_t len;

	if (file_read_all(path, FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		LERR(ctx, ln, "cannot read the hosts-file '%s': %s", path, why);
		free(path);
		return;
	}
	fname = intern(cfg, path);
	hosts_free(&cfg->hosts);
	hosts_parse(&cfg->hosts, fname, text, len, ctx->errs);
	free(cfg->hosts_file);
	cfg->hosts_file = path;
	free(text);
}

/* "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]" or "[::1]:53", written into sb in
 * the form c-ares' ares_set_servers_ports_csv() takes, with the port. */
static int dns_server_parse(const char *s, struct strbuf *sb, const char **why)
{
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char canon[INET6_ADDRSTRLEN];
	const char *portstr = NULL;
	uint16_t port = 53;
	size_t alen;
	bool v6;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] != '\0' && end[1] != ':')) {
			*why = "write an IPv6 server as [ADDRESS] or [ADDRESS]:PORT";
			return PH_ERROR;
		}
		alen = (size_t)(end - s - 1);
		s++;
		portstr = end[1] == ':' ? end + 2 : NULL;
		v6 = true;
	} else {
		const char *c = strchr(s, ':');

		v6 = c && strchr(c + 1, ':');
		alen = (!v6 && c) ? (size_t)(c - s) : strlen(s);
		portstr = (!v6 && c) ? c + 1 : NULL;
	}
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = "it is not an IPv4 or IPv6 address";
		return PH_ERROR;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (portstr && port_parse(portstr, &port) != PH_OK) {
		*why = "the port must be a number from 1 to 65535";
		return PH_ERROR;
	}
	if (v6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		if (strchr(addr, '%') || v6_parse(addr, &sin6) != PH_OK) {
			*why = "it is not an IPv6 address (names are not resolved)";
			return PH_ERROR;
		}
		inet_ntop(AF_INET6, &sin6.sin6_addr, canon, sizeof(canon));
		strbuf_printf(sb, "%s[%s]:%u", sb->len ? "," : "", canon, port);
	} else {
		struct in_addr in;

		if (inet_pton(AF_INET, addr, &in) != 1) {
			*why = "it is not an IPv4 address (names are not resolved)";
			return PH_ERROR;
		}
		inet_ntop(AF_INET, &in, canon, sizeof(canon));
		strbuf_printf(sb, "%s%s:%u", sb->len ? "," : "", canon, port);
	}
	return PH_OK;
}

static void d_dns_server(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;
	struct strbuf sb = { cfg->dns_servers, ctx->dns_len, ctx->dns_len + 1 };
	const char *why;

	for (int i = 1; i < ln->argc; i++)
		if (dns_server_parse(ln->argv[i], &sb, &why) != PH_OK)
			LERR(ctx, ln, "bad dns-server '%s': %s", ln->argv[i], why);
	cfg->dns_servers = sb.p;
	ctx->dns_len = sb.len;
}

static const char *const timeout_names[] = {
	"connect", "header", "idle", "tunnel-idle", "drain",
};

static const size_t timeout_offsets[] = {
	offsetof(struct config, timeout_connect_ms), offsetof(struct config, timeout_header_ms),
	offsetof(struct config, timeout_idle_ms),    offsetof(struct config, timeout_tunnel_idle_ms),
	offsetof(struct config, timeout_drain_ms),
};

static void d_timeout(struct parse_ctx *ctx, const struct line *ln)
{
	int kind = keyword(ln->argv[1], timeout_names, PH_ARRAY_LEN(timeout_names));
	char key[64];
	uint64_t ms;

	if (kind < 0) {
		err_unknown(ctx, ln, "timeout", ln->argv[1], timeout_names, PH_ARRAY_LEN(timeout_names));
		return;
	}
	if (config_parse_duration(ln->argv[2], &ms) != PH_OK) {
		LERR(ctx, ln,
		     "bad duration '%s' for timeout %s: write a number with s, m, h "
		     "or ms, e.g. 30s",
		     ln->argv[2], timeout_names[kind]);
		return;
	}
	/* Only drain has a meaning for 0: exit without waiting. */
	if (ms == 0 && kind != 4) {
		LERR(ctx, ln, "timeout %s cannot be 0", timeout_names[kind]);
		return;
	}
	snprintf(key, sizeof(key), "timeout %s", timeout_names[kind]);
	once(ctx, ln, key);
	*(uint64_t *)((char *)ctx->cfg + timeout_offsets[kind]) = ms;
}

static void d_max_connections(struct parse_ctx *ctx, const struct line *ln)
{
	uint64_t v;

	if (parse_uint(ln->argv[1], UINT32_MAX, &v) != PH_OK || v < 1 || v > 1000000) {
		LERR(ctx, ln, "max-connections must be a number from 1 to 1000000, not '%s'", ln->argv[1]);
		return;
	}
	ctx->cfg->max_connections = (unsigned)v;
}

static void d_max_header_size(struct parse_ctx *ctx, const struct line *ln)
{
	uint64_t v;

	if (config_parse_size(ln->argv[1], &v) != PH_OK) {
		LERR(ctx, ln,
		     "bad size '%s' for max-header-size: write bytes or a number with "
		     "k or M, e.g. 64k",
		     ln->argv[1]);
		return;
	}
	if (v < 1024 || v > 1024 * 1024) {
		LERR(ctx, ln, "max-header-size must be from 1k to 1M, not '%s'", ln->argv[1]);
		return;
	}
	ctx->cfg->max_header_size = (size_t)v;
}

static void rule_add_to(struct parse_ctx *ctx, const struct line *ln, enum rule_action action, struct rule **list,
                        size_t *n, size_t *cap)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	if (ln->argc < 2) {
		LERR(ctx, ln, "%s needs at least one matcher, e.g. '%s all'", ln->argv[0], ln->argv[0]);
		return;
	}
	if (acl_matchset_parse(&r.set, ln->argv + 1, ln->argc - 1, ln->file, ln->line, ctx->errs) != PH_OK)
		return;
	r.action = action;
	r.file = ln->file;
	r.line = ln->line;
	r.text = ph_strdup(ln->text);
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*list = ph_realloc(*list, *cap * sizeof(**list));
	}
	(*list)[(*n)++] = r;
}

static void rule_add(struct parse_ctx *ctx, const struct line *ln, enum rule_action action)
{
	rule_add_to(ctx, ln, action, &ctx->cfg->rules, &ctx->cfg->nrules, &ctx->cap_rules);
}

/* ---- TLS inspection ---- */

static void d_tls_inspect(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;

	if (strcmp(ln->argv[1], "ca") != 0) {
		LERR(ctx, ln, "tls-inspect takes 'ca CERT KEY' (make them with `pinhole ca create DIR`)");
		return;
	}
	free(cfg->tls_ca_cert);
	free(cfg->tls_ca_key);
	cfg->tls_ca_cert = path_resolve(ln->file, ln->argv[2]);
	cfg->tls_ca_key = path_resolve(ln->file, ln->argv[3]);
	cfg->tls_file = intern(cfg, ln->file);
	cfg->tls_line = ln->line;
}

static void d_tls_trust(struct parse_ctx *ctx, const struct line *ln)
{
	free(ctx->cfg->tls_trust);
	ctx->cfg->tls_trust = path_resolve(ln->file, ln->argv[1]);
}

static void d_inspect(struct parse_ctx *ctx, const struct line *ln)
{
	rule_add_to(ctx, ln, RULE_ALLOW, &ctx->cfg->inspect, &ctx->cfg->ninspect, &ctx->cap_inspect);
}

static void d_no_inspect(struct parse_ctx *ctx, const struct line *ln)
{
	struct config *cfg = ctx->cfg;

	for (int i = 1; i < ln->argc; i++) {
		struct domain_pattern p;

		if (acl_domain_pattern_parse(&p, ln->argv[i]) != PH_OK) {
			LERR(ctx, ln, "bad no-inspect pattern '%s': write example.com, *.example.com or .example.com",
			     ln->argv[i]);
			continue;
		}
		if (cfg->nno_inspect == ctx->cap_no_inspect) {
			ctx->cap_no_inspect = ctx->cap_no_inspect ? 2 * ctx->cap_no_inspect : 16;
			cfg->no_inspect = ph_realloc(cfg->no_inspect, ctx->cap_no_inspect * sizeof(*cfg->no_inspect));
			cfg->no_inspect_text =
			        ph_realloc(cfg->no_inspect_text, ctx->cap_no_inspect * sizeof(*cfg->no_inspect_text));
		}
		cfg->no_inspect_text[cfg->nno_inspect] = ph_strdup(ln->argv[i]);
		cfg->no_inspect[cfg->nno_inspect++] = p;
	}
}

/* pinning-learn on|off [after N] [clients M] [expire DURATION] */
static void d_pinning_learn(struct parse_ctx *ctx, const struct line *ln)
{
	static const char *const opts[] = { "after", "clients", "expire" };
	struct config *cfg = ctx->cfg;

	if (strcmp(ln->argv[1], "on") != 0 && strcmp(ln->argv[1], "off") != 0) {
		LERR(ctx, ln, "pinning-learn takes on or off (then optionally after N, clients M, expire DURATION)");
		return;
	}
	for (int i = 2; i < ln->argc; i += 2) {
		int k = keyword(ln->argv[i], opts, PH_ARRAY_LEN(opts));
		char *end = NULL;
		long n = 0;

		if (k < 0) {
			err_unknown(ctx, ln, "pinning-learn option", ln->argv[i], opts, PH_ARRAY_LEN(opts));
			return;
		}
		if (i + 1 == ln->argc) {
			LERR(ctx, ln, "pinning-learn %s needs a value", opts[k]);
			return;
		}
		if (k == 2) {
			if (config_parse_duration(ln->argv[i + 1], &cfg->pinning_expire_ms) != 0) {
				LERR(ctx, ln, "pinning-learn expire: '%s' is not a duration (e.g. 7d, 12h, or 0 for never)",
				     ln->argv[i + 1]);
				return;
			}
			continue;
		}
		n = strtol(ln->argv[i + 1], &end, 10);
		if (*end || n < 1 || n > 16 || (k == 0 && n > 100)) {
			LERR(ctx, ln,
			     k == 0 ? "pinning-learn after N: N certificate alerts (1 to 100) before a domain is learned"
			            : "pinning-learn clients M: from M distinct client addresses (1 to 16)");
			return;
		}
		if (k == 0)
			cfg->pinning_after = (unsigned)n;
		else
			cfg->pinning_clients = (unsigned)n;
	}
	cfg->pinning_learn = strcmp(ln->argv[1], "on") == 0;
	cfg->pinning_file = intern(cfg, ln->file);
	cfg->pinning_line = ln->line;
}

/* sni-mismatch inspect|deny: what to do with a tunnel whose ClientHello
 * names another host than its CONNECT (inspect is the default). */
static void d_sni_mismatch(struct parse_ctx *ctx, const struct line *ln)
{
	static const char *const kinds[] = { "inspect", "deny" };
	int k = keyword(ln->argv[1], kinds, PH_ARRAY_LEN(kinds));

	if (k < 0) {
		err_unknown(ctx, ln, "sni-mismatch action", ln->argv[1], kinds, PH_ARRAY_LEN(kinds));
		return;
	}
	ctx->cfg->sni_mismatch_deny = k == 1;
}

static void d_state_dir(struct parse_ctx *ctx, const struct line *ln)
{
	struct stat st;
	char *path = path_resolve(ln->file, ln->argv[1]);

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		LERR(ctx, ln, "state-dir %s is not a directory (create it, writable by pinhole)", path);
		free(path);
		return;
	}
	if (access(path, W_OK) != 0) {
		LERR(ctx, ln, "state-dir %s is not writable by pinhole", path);
		free(path);
		return;
	}
	free(ctx->cfg->state_dir);
	ctx->cfg->state_dir = path;
}

static void d_noauth(struct parse_ctx *ctx, const struct line *ln)
{
	rule_add_to(ctx, ln, RULE_ALLOW, &ctx->cfg->noauth, &ctx->cfg->nnoauth, &ctx->cap_noauth);
}

/* auth and auth-realm belong to auth/: each scheme parses its own words. */
static void d_auth(struct parse_ctx *ctx, const struct line *ln)
{
	auth_config_directive(&ctx->cfg->auth, ln->argv[0], ln->argv + 1, ln->argc - 1, ln->file, ln->line, ctx->errs);
}

static void d_allow(struct parse_ctx *ctx, const struct line *ln)
{
	rule_add(ctx, ln, RULE_ALLOW);
}

static void d_deny(struct parse_ctx *ctx, const struct line *ln)
{
	rule_add(ctx, ln, RULE_DENY);
}

/* ---- quirks: one row and one function each, like directives ---- */

struct quirk_def {
	const char *name;
	int nargs; /* exact number of arguments */
	const char *usage;
	/* NULL: a quirk of a capability this release does not have. */
	void (*fn)(struct parse_ctx *ctx, const struct line *ln);
};

static void q_http10_connect(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.http10_connect = true;
}

static void q_close_after_407(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.close_after_407 = true;
}

static void q_auth_everything(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.auth_everything = true;
}

static void q_no_websocket(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.no_websocket = true;
}

static void q_inspect_all(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.inspect_all = true;
	ctx->cfg->inspect_all_file = intern(ctx->cfg, ln->file);
	ctx->cfg->inspect_all_line = ln->line;
}

static void q_strict_tls(struct parse_ctx *ctx, const struct line *ln)
{
	ctx->cfg->quirks.strict_tls = true;
}

static bool quirk_duration(struct parse_ctx *ctx, const struct line *ln, uint64_t *ms)
{
	if (config_parse_duration(ln->argv[2], ms) != PH_OK || *ms == 0) {
		LERR(ctx, ln,
		     "bad duration '%s' for quirk %s: write a number greater than 0 "
		     "with s, m, h or ms, e.g. 30s",
		     ln->argv[2], ln->argv[1]);
		return false;
	}
	return true;
}

static void q_idle_cut(struct parse_ctx *ctx, const struct line *ln)
{
	quirk_duration(ctx, ln, &ctx->cfg->quirks.idle_cut_ms);
}

static void q_delay(struct parse_ctx *ctx, const struct line *ln)
{
	quirk_duration(ctx, ln, &ctx->cfg->quirks.delay_ms);
}

static void q_throttle(struct parse_ctx *ctx, const struct line *ln)
{
	char *rate = ph_strdup(ln->argv[2]);
	size_t n = strlen(rate);
	uint64_t v;

	if (n > 2 && strcmp(rate + n - 2, "/s") == 0)
		rate[n - 2] = '\0';
	if (config_parse_size(rate, &v) != PH_OK || v == 0)
		LERR(ctx, ln,
		     "bad rate '%s' for quirk throttle: write bytes per second "
		     "greater than 0, with k or M, e.g. 64k or 1M/s",
		     ln->argv[2]);
	else
		ctx->cfg->quirks.throttle_bps = v;
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

static void d_quirk(struct parse_ctx *ctx, const struct line *ln)
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
		err_unknown(ctx, ln, "quirk", ln->argv[1], names, PH_ARRAY_LEN(names));
		return;
	}
	if (!q->fn) {
		LERR(ctx, ln, "quirk '%s' is not available in " PINHOLE_RELEASE, q->name);
		return;
	}
	if (ln->argc - 2 != q->nargs) {
		LERR(ctx, ln, "quirk %s takes %s (usage: %s)", q->name, q->nargs ? "one value" : "no value", q->usage);
		return;
	}
	snprintf(key, sizeof(key), "quirk %s", q->name);
	once(ctx, ln, key);
	q->fn(ctx, ln);
}

/* ---- the directive table ---- */

struct directive {
	const char *name;
	int min_args, max_args; /* after the name; max -1 = no limit */
	bool once;              /* may appear only once in all files */
	const char *usage;
	/* NULL: a directive of a capability this release does not have. */
	void (*fn)(struct parse_ctx *ctx, const struct line *ln);
};

static const struct directive directives[] = {
	{ "include", 1, 1, false, "include FILE", d_include },
	{ "listen", 1, 64, false, "listen ADDR:PORT [proxy-protocol [from CIDR...]]", d_listen },
	{ "admin", 1, 1, true, "admin ADDR:PORT", d_admin },
	{ "admin-auth", 2, 2, true, "admin-auth htpasswd FILE", d_admin_auth },
	{ "admin-host", 1, 64, false, "admin-host NAME...", d_admin_host },
	{ "workers", 1, 1, true, "workers N|auto", d_workers },
	{ "user", 1, 1, true, "user NAME", d_user },
	{ "access-log", 1, 2, true, "access-log FILE|stdout|off [squid|json]", d_access_log },
	{ "error-log", 1, 1, true, "error-log FILE|stderr|syslog", d_error_log },
	{ "log-level", 1, 1, true, "log-level error|warn|info|debug", d_log_level },
	{ "hosts-file", 1, 1, true, "hosts-file FILE", d_hosts_file },
	{ "dns-server", 1, -1, false, "dns-server ADDR[:PORT]...", d_dns_server },
	{ "timeout", 2, 2, false, "timeout connect|header|idle|tunnel-idle|drain DURATION", d_timeout },
	{ "max-connections", 1, 1, true, "max-connections N", d_max_connections },
	{ "max-header-size", 1, 1, true, "max-header-size SIZE", d_max_header_size },
	{ "allow", 0, -1, false, "allow MATCHERS", d_allow },
	{ "deny", 0, -1, false, "deny MATCHERS", d_deny },
	{ "quirk", 1, -1, false, "quirk NAME [ARGS]", d_quirk },
	{ "auth-realm", 1, 1, true, "auth-realm \"TEXT\"", d_auth },
	{ "auth", 1, -1, false, "auth basic|digest|ntlm|negotiate ...", d_auth },
	{ "noauth", 0, -1, false, "noauth MATCHERS", d_noauth },
	{ "tls-inspect", 3, 3, true, "tls-inspect ca CERT KEY", d_tls_inspect },
	{ "tls-trust", 1, 1, true, "tls-trust FILE", d_tls_trust },
	{ "inspect", 0, -1, false, "inspect MATCHERS", d_inspect },
	{ "no-inspect", 1, -1, false, "no-inspect PATTERN...", d_no_inspect },
	{ "pinning-learn", 1, 7, true, "pinning-learn on|off [after N] [clients M] [expire DURATION]",
	  d_pinning_learn },
	{ "sni-mismatch", 1, 1, true, "sni-mismatch inspect|deny", d_sni_mismatch },
	{ "state-dir", 1, 1, true, "state-dir DIR", d_state_dir },
	{ "preset", 1, 2, false, "preset webex|tokbox|cms HOST", d_preset },
	{ "turn-server", 1, -1, false, "turn-server HOST[:PORT]...", d_turn_server },
	{ "upstream-proxy", 0, -1, true, "upstream-proxy URL", NULL },
};

static void run_directive(struct parse_ctx *ctx, const struct line *ln)
{
	const char *names[PH_ARRAY_LEN(directives)];
	const struct directive *d = NULL;
	int nargs = ln->argc - 1;

	for (size_t i = 0; i < PH_ARRAY_LEN(directives); i++) {
		names[i] = directives[i].name;
		if (strcmp(ln->argv[0], directives[i].name) == 0)
			d = &directives[i];
	}
	if (!d) {
		const char *sug = cfg_suggest(ln->argv[0], names, PH_ARRAY_LEN(names));

		if (sug)
			LERR(ctx, ln, "unknown directive '%s' (did you mean '%s'?)", ln->argv[0], sug);
		else
			LERR(ctx, ln, "unknown directive '%s' (pinhole.conf(5) lists them all)", ln->argv[0]);
		return;
	}
	if (!d->fn) {
		LERR(ctx, ln, "'%s' is not available in " PINHOLE_RELEASE, d->name);
		return;
	}
	if (nargs < d->min_args) {
		LERR(ctx, ln, "%s needs %s (usage: %s)", d->name, d->min_args == 1 ? "a value" : "more values",
		     d->usage);
		return;
	}
	if (d->max_args >= 0 && nargs > d->max_args) {
		LERR(ctx, ln, "too many values for %s: '%s' is one too many (usage: %s)", d->name,
		     ln->argv[d->max_args + 1], d->usage);
		return;
	}
	/* A duplicate is reported, and its values are still checked so that
	 * one run shows every mistake. */
	if (d->once)
		once(ctx, ln, d->name);
	d->fn(ctx, ln);
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
		struct line ln = { .file = file, .line = ++lineno };
		const char *err;
		size_t content_end;
		char *store, *textcopy;

		if (n > LINE_MAX_BYTES) {
			cfg_error(ctx->errs, file, lineno, "the line is longer than %d bytes", LINE_MAX_BYTES);
		} else if (memchr(p, '\0', n)) {
			cfg_error(ctx->errs, file, lineno, "the line contains a NUL byte; is this a text file?");
		} else {
			store = ph_malloc(n + 1);
			err = tokenize(p, n, store, &ln.argv, &ln.argc, &content_end);
			if (err) {
				cfg_error(ctx->errs, file, lineno, "%s", err);
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
static const char *include_file(struct parse_ctx *ctx, const struct line *ln, const char *path, const char *preset,
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
			LERR(ctx, ln, "include cycle: %s", chain.p);
			free(chain.p);
			goto out;
		}
	}
	if (ctx->depth >= INCLUDE_MAX_DEPTH) {
		LERR(ctx, ln, "cannot include '%s': includes are nested more than %d deep", path, INCLUDE_MAX_DEPTH);
		goto out;
	}
	if (file_read_all(path, FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		if (preset)
			LERR(ctx, ln,
			     "cannot read the %s preset '%s': %s (set PINHOLE_PRESET_DIR to the directory holding "
			     "webex.conf, tokbox.conf and cms.conf)",
			     preset, path, why);
		else
			LERR(ctx, ln, "cannot include '%s': %s", path, why);
		goto out;
	}
	if (host) {
		char *t = subst_host(text, len, host, &len);

		free(text);
		text = t;
	}
	name = intern(ctx->cfg, path);
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

static void d_include(struct parse_ctx *ctx, const struct line *ln)
{
	char *path = path_join_dir(ln->file, ln->argv[1]);

	include_file(ctx, ln, path, NULL, NULL);
	free(path);
}

/* ---- presets and TURN servers ---- */

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
static bool preset_host_ok(struct parse_ctx *ctx, const struct line *ln, const char *host)
{
	struct domain_pattern dp;
	bool ok;

	if (host[0] == '*' || host[0] == '.') {
		LERR(ctx, ln, "preset %s takes one host name, not the pattern '%s'", ln->argv[1], host);
		return false;
	}
	if (acl_domain_pattern_parse(&dp, host) != PH_OK) {
		LERR(ctx, ln, "'%s' is not a valid host name (letters, digits, '-' and '.')", host);
		return false;
	}
	ok = dp.kind == DOMAIN_EXACT;
	acl_domain_pattern_free(&dp);
	if (!ok)
		LERR(ctx, ln,
		     "preset %s takes the Expressway-E host name that browsers connect to (the name in its "
		     "certificate), not the address '%s'",
		     ln->argv[1], host);
	return ok;
}

static void d_preset(struct parse_ctx *ctx, const struct line *ln)
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
		err_unknown(ctx, ln, "preset", ln->argv[1], names, PH_ARRAY_LEN(names));
		return;
	}
	if (def->takes_host && ln->argc < 3) {
		LERR(ctx, ln,
		     "preset %s needs the Expressway-E host name that browsers join on (usage: preset %s HOST, "
		     "e.g. preset %s join.example.com)",
		     def->name, def->name, def->name);
		return;
	}
	if (!def->takes_host && ln->argc > 2) {
		LERR(ctx, ln, "preset %s takes no value: '%s' is one too many", def->name, ln->argv[2]);
		return;
	}
	for (size_t i = 0; i < cfg->npresets; i++) {
		if (strcmp(cfg->presets[i].name, def->name) == 0) {
			LERR(ctx, ln, "preset %s is already used at %s:%d", def->name, cfg->presets[i].file,
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
	if (cfg->npresets == ctx->cap_presets) {
		ctx->cap_presets = ctx->cap_presets ? ctx->cap_presets * 2 : 4;
		cfg->presets = ph_realloc(cfg->presets, ctx->cap_presets * sizeof(*cfg->presets));
	}
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

/* "turn.example.com", "turn.example.com:3478", "192.0.2.7:443", "[2001:db8::7]:3478"
 * or "[2001:db8::7]"; no port means any port. */
static void turn_server_add(struct parse_ctx *ctx, const struct line *ln, const char *text)
{
	struct config *cfg = ctx->cfg;
	const char *portstr = NULL;
	struct turn_server t = { 0 };
	char *host;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		struct in6_addr a6;
		char canon[INET6_ADDRSTRLEN];

		if (!end || (end[1] != '\0' && end[1] != ':')) {
			LERR(ctx, ln, "bad turn-server '%s': write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT",
			     text);
			return;
		}
		host = ph_strndup(text + 1, (size_t)(end - text - 1));
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			LERR(ctx, ln, "bad turn-server '%s': '%s' is not an IPv6 address", text, host);
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
			LERR(ctx, ln,
			     "bad turn-server '%s': write an IPv6 address in brackets, e.g. [2001:db8::7]:3478", text);
			return;
		}
		host = colon ? ph_strndup(text, (size_t)(colon - text)) : ph_strdup(text);
		portstr = colon ? colon + 1 : NULL;
		acl_host_normalise(host);
		if (host[0] == '*' || host[0] == '.') {
			LERR(ctx, ln, "bad turn-server '%s': name one server, not a pattern", text);
			free(host);
			return;
		}
		if (acl_domain_pattern_parse(&dp, host) != PH_OK ||
		    (dp.kind == DOMAIN_CIDR &&
		     (dp.cidr.family != AF_INET || dp.cidr.bits != 32 || strchr(host, '/')))) {
			acl_domain_pattern_free(&dp);
			LERR(ctx, ln, "bad turn-server '%s': '%s' is not a host name or an IP address", text, host);
			free(host);
			return;
		}
		acl_domain_pattern_free(&dp);
	}
	if (portstr && port_parse(portstr, &t.port) != PH_OK) {
		LERR(ctx, ln, "bad turn-server '%s': the port must be a number from 1 to 65535", text);
		free(host);
		return;
	}
	/* The same server from a preset and from the admin is one server. */
	for (size_t i = 0; i < cfg->nturn_servers; i++) {
		if (strcmp(cfg->turn_servers[i].host, host) == 0 && cfg->turn_servers[i].port == t.port) {
			free(host);
			return;
		}
	}
	t.host = host;
	t.file = ln->file;
	t.line = ln->line;
	if (cfg->nturn_servers == ctx->cap_turn) {
		ctx->cap_turn = ctx->cap_turn ? ctx->cap_turn * 2 : 4;
		cfg->turn_servers = ph_realloc(cfg->turn_servers, ctx->cap_turn * sizeof(*cfg->turn_servers));
	}
	cfg->turn_servers[cfg->nturn_servers++] = t;
}

static void d_turn_server(struct parse_ctx *ctx, const struct line *ln)
{
	for (int i = 1; i < ln->argc; i++)
		turn_server_add(ctx, ln, ln->argv[i]);
}

/* ---- load, free, refcount ---- */

static void config_free(struct config *cfg)
{
	free(cfg->path);
	for (size_t i = 0; i < cfg->nlistens; i++)
		listen_cfg_free(&cfg->listens[i]);
	free(cfg->listens);
	free(cfg->admin_htpasswd);
	for (size_t i = 0; i < cfg->nadmin_hosts; i++)
		free(cfg->admin_hosts[i]);
	free(cfg->admin_hosts);
	free(cfg->user);
	free(cfg->access_log);
	free(cfg->error_log);
	free(cfg->hosts_file);
	hosts_free(&cfg->hosts);
	free(cfg->dns_servers);
	for (size_t i = 0; i < cfg->nrules; i++) {
		acl_matchset_free(&cfg->rules[i].set);
		free(cfg->rules[i].text);
	}
	free(cfg->rules);
	for (size_t i = 0; i < cfg->nnoauth; i++) {
		acl_matchset_free(&cfg->noauth[i].set);
		free(cfg->noauth[i].text);
	}
	free(cfg->noauth);
	auth_config_free(cfg->auth);
	tls_config_free(cfg->tls);
	free(cfg->tls_ca_cert);
	free(cfg->tls_ca_key);
	free(cfg->tls_trust);
	free(cfg->state_dir);
	for (size_t i = 0; i < cfg->ninspect; i++) {
		acl_matchset_free(&cfg->inspect[i].set);
		free(cfg->inspect[i].text);
	}
	free(cfg->inspect);
	for (size_t i = 0; i < cfg->nno_inspect; i++) {
		acl_domain_pattern_free(&cfg->no_inspect[i]);
		free(cfg->no_inspect_text[i]);
	}
	free(cfg->no_inspect);
	free(cfg->no_inspect_text);
	for (size_t i = 0; i < cfg->nturn_servers; i++)
		free(cfg->turn_servers[i].host);
	free(cfg->turn_servers);
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
	cfg->workers = 0;
	cfg->access_log = ph_strdup("stdout");
	cfg->access_log_format = ACCESS_LOG_SQUID;
	cfg->error_log = ph_strdup("stderr");
	cfg->log_level = LOG_LEVEL_WARN;
	cfg->timeout_connect_ms = CONFIG_DEFAULT_TIMEOUT_CONNECT_MS;
	cfg->timeout_header_ms = CONFIG_DEFAULT_TIMEOUT_HEADER_MS;
	cfg->timeout_idle_ms = CONFIG_DEFAULT_TIMEOUT_IDLE_MS;
	cfg->timeout_tunnel_idle_ms = CONFIG_DEFAULT_TIMEOUT_TUNNEL_IDLE_MS;
	cfg->timeout_drain_ms = CONFIG_DEFAULT_TIMEOUT_DRAIN_MS;
	cfg->max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
	cfg->max_header_size = CONFIG_DEFAULT_MAX_HEADER_SIZE;
	cfg->pinning_after = TLS_PINNING_AFTER_DEFAULT;
	cfg->pinning_clients = TLS_PINNING_CLIENTS_DEFAULT;
	cfg->pinning_expire_ms = TLS_PINNING_EXPIRE_DEFAULT_MS;
	return cfg;
}

/* Checks that need the whole configuration, after the last line. */
static void config_finish(struct parse_ctx *ctx, const char *mainfile)
{
	struct config *cfg = ctx->cfg;

	if (cfg->nlistens == 0) {
		struct line ln = { .file = mainfile, .line = 0 };

		listen_add(ctx, &ln, DEFAULT_LISTEN, (struct listen_cfg){ .proxy_protocol = false });
	}
	auth_config_finish(cfg->auth, mainfile, ctx->errs);
	if (ctx->errs->n == 0 && (cfg->tls_ca_cert || cfg->state_dir))
		tls_config_build(cfg, cfg->tls_file ? cfg->tls_file : mainfile, cfg->tls_file ? cfg->tls_line : 0,
		                 ctx->errs);
	if (cfg->tls_trust && !cfg->tls_ca_cert)
		cfg_error(ctx->errs, mainfile, 0,
		          "tls-trust is set but tls-inspect is not: add tls-inspect ca CERT KEY");
	if (cfg->pinning_learn && !cfg->tls_ca_cert)
		cfg_error(
		        ctx->errs, cfg->pinning_file, cfg->pinning_line,
		        "pinning-learn on needs TLS inspection (nothing is minted, nothing can fail): add tls-inspect "
		        "ca CERT KEY");
	if (cfg->quirks.inspect_all && !cfg->tls_ca_cert)
		cfg_error(ctx->errs, cfg->inspect_all_file, cfg->inspect_all_line,
		          "quirk inspect-all needs tls-inspect ca CERT KEY");
	if (!cfg->has_admin)
		return;
	for (size_t i = 0; i < cfg->nlistens; i++) {
		const struct listen_cfg *l = &cfg->listens[i];

		if (!addr_equal(&l->addr, &cfg->admin.addr))
			continue;
		if (l->line == 0)
			cfg_error(ctx->errs, cfg->admin.file, cfg->admin.line,
			          "admin address %s is the proxy's default listen address; give "
			          "admin another port or add a 'listen' line",
			          cfg->admin.text);
		else
			cfg_error(ctx->errs, cfg->admin.file, cfg->admin.line,
			          "admin address %s is already a proxy listen address (at %s:%d)", cfg->admin.text,
			          l->file, l->line);
	}
	if (!addr_is_loopback(&cfg->admin.addr) && !cfg->admin_htpasswd)
		cfg_error(ctx->errs, cfg->admin.file, cfg->admin.line,
		          "the admin interface on %s is reachable from other machines and has "
		          "no password; add 'admin-auth htpasswd FILE' or make it listen on "
		          "127.0.0.1",
		          cfg->admin.text);
}

static struct config *parse_top(const char *name, const char *path, const char *text, size_t len,
                                struct cfg_errors *errs)
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
	ctx.errs = errs;
	ctx.cfg->path = path ? ph_strdup(path) : NULL;
	iname = intern(ctx.cfg, name);
	ctx.stack[0].name = iname;
	ctx.stack[0].key = file_key(name);
	ctx.depth = 1;

	parse_buffer(&ctx, iname, text, len);
	config_finish(&ctx, iname);

	free(ctx.stack[0].key);
	for (size_t i = 0; i < ctx.nseen; i++)
		free(ctx.seen[i].key);
	free(ctx.seen);
	if (errs->n > before) {
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
	return parse_top(name, name, text, len, errs);
}

struct config *config_load(const char *path, struct cfg_errors *errs)
{
	struct cfg_errors local = { 0 };
	struct config *cfg;
	const char *why;
	char *text;
	size_t len;

	if (!path)
		return parse_top("(embedded default)", NULL, config_default_text, strlen(config_default_text), errs);
	if (file_read_all(path, FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		cfg_error(errs ? errs : &local, path, 0, "cannot read the configuration file: %s", why);
		cfg_errors_free(&local);
		return NULL;
	}
	cfg = parse_top(path, path, text, len, errs);
	free(text);
	return cfg;
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

/* ---- dump ---- */

/* A word as the tokenizer would read it back. */
static void dump_word(struct strbuf *sb, const char *w)
{
	bool quote = w[0] == '\0' || w[0] == '#' || strpbrk(w, " \t\r\v\f\"") != NULL;

	if (!quote) {
		strbuf_add(sb, w, strlen(w));
		return;
	}
	strbuf_add(sb, "\"", 1);
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			strbuf_add(sb, "\\", 1);
		strbuf_add(sb, w, 1);
	}
	strbuf_add(sb, "\"", 1);
}

static void dump_duration(struct strbuf *sb, uint64_t ms)
{
	if (ms == 0)
		strbuf_printf(sb, "0");
	else if (ms % 3600000 == 0)
		strbuf_printf(sb, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		strbuf_printf(sb, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		strbuf_printf(sb, "%llus", (unsigned long long)(ms / 1000));
	else
		strbuf_printf(sb, "%llums", (unsigned long long)ms);
}

static void dump_size(struct strbuf *sb, uint64_t n)
{
	if (n && n % (1024 * 1024) == 0)
		strbuf_printf(sb, "%lluM", (unsigned long long)(n / (1024 * 1024)));
	else if (n && n % 1024 == 0)
		strbuf_printf(sb, "%lluk", (unsigned long long)(n / 1024));
	else
		strbuf_printf(sb, "%llu", (unsigned long long)n);
}

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

	strbuf_printf(&sb, "# pinhole effective configuration, generation %llu, from ",
	              (unsigned long long)cfg->generation);
	strbuf_printf(&sb, "%s\n", cfg->path ? cfg->path : "the embedded default");
	for (size_t i = 0; i < cfg->nlistens; i++) {
		strbuf_printf(&sb, "listen ");
		dump_word(&sb, cfg->listens[i].text);
		strbuf_printf(&sb, "%s", cfg->listens[i].proxy_protocol ? " proxy-protocol" : "");
		if (cfg->listens[i].pp_from_text)
			strbuf_printf(&sb, " from %s", cfg->listens[i].pp_from_text);
		strbuf_puts(&sb, "\n");
	}
	if (cfg->has_admin) {
		strbuf_printf(&sb, "admin ");
		dump_word(&sb, cfg->admin.text);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->admin_htpasswd) {
		strbuf_printf(&sb, "admin-auth htpasswd ");
		dump_word(&sb, cfg->admin_htpasswd);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->nadmin_hosts) {
		strbuf_puts(&sb, "admin-host");
		for (size_t i = 0; i < cfg->nadmin_hosts; i++) {
			strbuf_puts(&sb, " ");
			dump_word(&sb, cfg->admin_hosts[i]);
		}
		strbuf_puts(&sb, "\n");
	}
	if (cfg->workers)
		strbuf_printf(&sb, "workers %d\n", cfg->workers);
	else
		strbuf_printf(&sb, "workers auto\n");
	if (cfg->user) {
		strbuf_printf(&sb, "user ");
		dump_word(&sb, cfg->user);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->access_log) {
		strbuf_printf(&sb, "access-log ");
		dump_word(&sb, cfg->access_log);
		strbuf_printf(&sb, " %s\n", cfg->access_log_format == ACCESS_LOG_JSON ? "json" : "squid");
	} else {
		strbuf_printf(&sb, "access-log off\n");
	}
	strbuf_printf(&sb, "error-log ");
	dump_word(&sb, cfg->error_log ? cfg->error_log : "stderr");
	strbuf_printf(&sb, "\nlog-level %s\n", log_levels[cfg->log_level]);
	if (cfg->hosts_file) {
		strbuf_printf(&sb, "hosts-file ");
		dump_word(&sb, cfg->hosts_file);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->dns_servers) {
		const char *s = cfg->dns_servers;

		strbuf_printf(&sb, "dns-server");
		while (*s) {
			size_t n = strcspn(s, ",");

			strbuf_printf(&sb, " %.*s", (int)n, s);
			s += n;
			if (*s == ',')
				s++;
		}
		strbuf_printf(&sb, "\n");
	}
	for (int i = 0; i < (int)PH_ARRAY_LEN(timeout_names); i++) {
		strbuf_printf(&sb, "timeout %s ", timeout_names[i]);
		dump_duration(&sb, *(const uint64_t *)((const char *)cfg + timeout_offsets[i]));
		strbuf_printf(&sb, "\n");
	}
	strbuf_printf(&sb, "max-connections %u\nmax-header-size ", cfg->max_connections);
	dump_size(&sb, cfg->max_header_size);
	strbuf_printf(&sb, "\n");
	if (cfg->quirks.http10_connect)
		strbuf_printf(&sb, "quirk http10-connect\n");
	if (cfg->quirks.no_websocket)
		strbuf_printf(&sb, "quirk no-websocket\n");
	if (cfg->quirks.idle_cut_ms) {
		strbuf_printf(&sb, "quirk idle-cut ");
		dump_duration(&sb, cfg->quirks.idle_cut_ms);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->quirks.throttle_bps) {
		strbuf_printf(&sb, "quirk throttle ");
		dump_size(&sb, cfg->quirks.throttle_bps);
		strbuf_printf(&sb, "/s\n");
	}
	if (cfg->quirks.delay_ms) {
		strbuf_printf(&sb, "quirk delay ");
		dump_duration(&sb, cfg->quirks.delay_ms);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->quirks.close_after_407)
		strbuf_printf(&sb, "quirk close-after-407\n");
	if (cfg->quirks.auth_everything)
		strbuf_printf(&sb, "quirk auth-everything\n");
	if (cfg->quirks.strict_tls)
		strbuf_printf(&sb, "quirk strict-tls\n");
	if (cfg->quirks.inspect_all)
		strbuf_printf(&sb, "quirk inspect-all\n");
	if (cfg->tls_ca_cert)
		strbuf_printf(&sb, "tls-inspect ca %s %s\n", cfg->tls_ca_cert, cfg->tls_ca_key);
	if (cfg->tls_trust)
		strbuf_printf(&sb, "tls-trust %s\n", cfg->tls_trust);
	for (size_t i = 0; i < cfg->ninspect; i++)
		strbuf_printf(&sb, "%s\n", cfg->inspect[i].text);
	if (cfg->nno_inspect) {
		strbuf_printf(&sb, "no-inspect");
		for (size_t i = 0; i < cfg->nno_inspect; i++)
			strbuf_printf(&sb, " %s", cfg->no_inspect_text[i]);
		strbuf_printf(&sb, "\n");
	}
	if (cfg->tls_ca_cert)
		strbuf_printf(&sb, "pinning-learn %s after %u clients %u expire %llus\n", cfg->pinning_learn ? "on" : "off",
		              cfg->pinning_after, cfg->pinning_clients,
		              (unsigned long long)(cfg->pinning_expire_ms / 1000));
	if (cfg->sni_mismatch_deny)
		strbuf_puts(&sb, "sni-mismatch deny\n");
	if (cfg->state_dir)
		strbuf_printf(&sb, "state-dir %s\n", cfg->state_dir);
	if (cfg->tls_ca_cert || cfg->state_dir) {
		tls_learned_dump(&sb);
	}
	if (cfg->auth) {
		struct buf b = { 0 };

		auth_config_dump(cfg->auth, &b);
		if (buf_len(&b))
			strbuf_add(&sb, buf_data(&b), buf_len(&b));
		buf_release(&b);
	}
	for (size_t i = 0; i < cfg->nturn_servers; i++) {
		const struct turn_server *t = &cfg->turn_servers[i];
		const struct preset_use *u = preset_of(cfg, t->file);
		bool v6 = strchr(t->host, ':') != NULL;

		strbuf_printf(&sb, "%sturn-server %s%s%s", u ? "# " : "", v6 ? "[" : "", t->host, v6 ? "]" : "");
		if (t->port)
			strbuf_printf(&sb, ":%u", t->port);
		dump_origin(&sb, t->file, t->line, u);
	}
	for (size_t i = 0; i < cfg->nnoauth; i++) {
		const struct preset_use *u = preset_of(cfg, cfg->noauth[i].file);

		strbuf_printf(&sb, "%s%s", u ? "# " : "", cfg->noauth[i].text);
		dump_origin(&sb, cfg->noauth[i].file, cfg->noauth[i].line, u);
	}
	/* A preset's line stands where its first rule stood, since rule order
	 * decides; what it adds is shown commented out, as it comes back when
	 * the dump is read again. */
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct preset_use *u = preset_of(cfg, cfg->rules[i].file);

		if (u && !dumped[u - cfg->presets]) {
			dump_preset(&sb, u);
			dumped[u - cfg->presets] = true;
		}
		strbuf_printf(&sb, "%s%s", u ? "# " : "", cfg->rules[i].text);
		dump_origin(&sb, cfg->rules[i].file, cfg->rules[i].line, u);
	}
	for (size_t i = 0; i < cfg->npresets; i++)
		if (!dumped[i])
			dump_preset(&sb, &cfg->presets[i]);
	free(dumped);
	return sb.p;
}
