/*
 * log.c - access and error logs.  Reopening on reload replaces the file
 * under the same descriptor number (dup2), so a worker writing at that
 * moment never sees a closed descriptor.
 */
#include "log.h"
#include "common.h"
#include "escape.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_int access_fd = -1;
static atomic_bool access_on = false;
static atomic_int access_format = ACCESS_LOG_SQUID;
static atomic_int error_fd = -1; /* -1 = stderr */
static atomic_bool error_on_stderr = true;
static atomic_bool error_syslog = false;
static atomic_int error_level = LOG_LEVEL_WARN;

/* Points fd_slot at path ("stdout"/"stderr" or a file), reusing the slot's
 * descriptor number when it already has one.  file:line name the directive
 * in err. */
static int reopen(atomic_int *fd_slot, const char *path, const char *file, int line, char *err, size_t errlen)
{
	int fd;

	if (strcmp(path, "stdout") == 0)
		fd = dup(STDOUT_FILENO);
	else if (strcmp(path, "stderr") == 0)
		fd = dup(STDERR_FILENO);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		if (file && line > 0)
			snprintf(err, errlen, "%s:%d: cannot open log %s: %s", file, line, path, strerror(errno));
		else
			snprintf(err, errlen, "cannot open log %s: %s", path, strerror(errno));
		return -1;
	}
	int cur = atomic_load(fd_slot);

	if (cur >= 0) {
		dup2(fd, cur);
		close(fd);
	} else {
		atomic_store(fd_slot, fd);
	}
	return 0;
}

int log_configure(const struct log_settings *ls, char *err, size_t errlen)
{
	if (ls->access_log) {
		if (reopen(&access_fd, ls->access_log, ls->access_log_file, ls->access_log_line, err, errlen) < 0)
			return -1;
		atomic_store(&access_format, ls->access_log_format);
		atomic_store(&access_on, true);
	} else {
		atomic_store(&access_on, false);
	}
	atomic_store(&error_level, ls->level);
	atomic_store(&error_on_stderr, !ls->error_log || strcmp(ls->error_log, "stderr") == 0);
	if (ls->error_log && strcmp(ls->error_log, "syslog") == 0) {
		openlog("pinhole", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		atomic_store(&error_syslog, true);
	} else {
		atomic_store(&error_syslog, false);
		if (ls->error_log &&
		    reopen(&error_fd, ls->error_log, ls->error_log_file, ls->error_log_line, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static bool is_file(const char *dest)
{
	return dest && strcmp(dest, "stdout") != 0 && strcmp(dest, "stderr") != 0 && strcmp(dest, "syslog") != 0;
}

int log_reopen(const struct log_settings *ls, char *err, size_t errlen)
{
	int rc = 0;

	if (atomic_load(&access_on) && is_file(ls->access_log) &&
	    reopen(&access_fd, ls->access_log, ls->access_log_file, ls->access_log_line, err, errlen) < 0)
		rc = -1;
	if (!atomic_load(&error_syslog) && is_file(ls->error_log)) {
		size_t n = rc < 0 ? strlen(err) : 0;

		/* A second failure is added to the first. */
		if (reopen(&error_fd, ls->error_log, ls->error_log_file, ls->error_log_line, err + n + (n ? 2 : 0),
		           errlen - n - (n ? 2 : 0)) < 0) {
			if (n)
				memcpy(err + n, "; ", 2);
			rc = -1;
		}
	}
	return rc;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* An access-log line under construction: every append is bounded, and a
 * field that does not fit its share is cut with a visible marker. */
struct line {
	char *p;
	size_t cap, n; /* n < cap always: room for the final newline */
};

#define CUT_MARK "...[cut]"

static void put(struct line *l, const char *s, size_t len)
{
	len = PH_MIN(len, l->cap - 1 - l->n);
	memcpy(l->p + l->n, s, len);
	l->n += len;
}

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_fmt(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct line *l, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k > 0)
		put(l, tmp, PH_MIN((size_t)k, sizeof(tmp) - 1));
}

/* s as a quoted JSON string (or null), its escaped form at most max bytes. */
static void put_json(struct line *l, const char *s, size_t max)
{
	size_t len, used, room;

	if (!s) {
		put_str(l, "null");
		return;
	}
	len = strlen(s);
	room = l->cap - 1 - l->n;
	/* The quotes and the marker always fit beside the field. */
	if (room < 2 + sizeof(CUT_MARK))
		return;
	max = PH_MIN(max, room - 2 - sizeof(CUT_MARK));
	put(l, "\"", 1);
	l->n += esc_json(l->p + l->n, max, s, len, &used);
	if (used < len)
		put_str(l, CUT_MARK);
	put(l, "\"", 1);
}

/* A Squid field: "-" when empty, never a space, control or non-ASCII byte
 * (they become '_'), at most max bytes. */
static void put_squid(struct line *l, const char *s, size_t max)
{
	size_t len, i;

	if (!s || !*s) {
		put(l, "-", 1);
		return;
	}
	len = strlen(s);
	max = PH_MIN(max, l->cap - 1 - l->n);
	if (len > max && max > sizeof(CUT_MARK))
		max -= sizeof(CUT_MARK) - 1;
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		l->p[l->n++] = (c <= 0x20 || c >= 0x7f) ? '_' : (char)c;
	}
	if (i < len)
		put_str(l, CUT_MARK);
}

/* The shares of a line: the URL may take most of it, a client's other
 * fields a little each; the fixed fields always fit. */
#define URL_MAX 8192
#define FIELD_MAX 512

size_t log_format_access(const struct access_entry *e, enum access_log_format format, char *buf, size_t cap)
{
	/* One byte kept back: the line, newline included, stays under cap. */
	struct line l = { .p = buf, .cap = cap - 1, .n = 0 };
	char client[64], peer[64];

	if (cap < 2)
		return 0;
	ph_addr_str(e->client, client, sizeof(client));
	if (e->peer)
		ph_addr_str(e->peer, peer, sizeof(peer));
	else
		strcpy(peer, "-");
	if (format == ACCESS_LOG_JSON) {
		put_fmt(&l,
		        "{\"ts\":%llu.%03llu,\"elapsed_ms\":%llu,\"client\":", (unsigned long long)(e->end_ms / 1000),
		        (unsigned long long)(e->end_ms % 1000), (unsigned long long)e->elapsed_ms);
		put_json(&l, client, FIELD_MAX);
		put_str(&l, ",\"result\":");
		put_json(&l, e->result, FIELD_MAX);
		put_fmt(&l, ",\"status\":%d,\"bytes_out\":%llu,\"bytes_in\":%llu,\"method\":", e->status,
		        (unsigned long long)e->bytes_out, (unsigned long long)e->bytes_in);
		put_json(&l, e->method, FIELD_MAX);
		put_str(&l, ",\"url\":");
		put_json(&l, e->url, URL_MAX);
		put_str(&l, ",\"user\":");
		put_json(&l, e->user, FIELD_MAX);
		put_str(&l, ",\"hierarchy\":");
		put_json(&l, e->hierarchy ? e->hierarchy : "HIER_NONE", FIELD_MAX);
		put_str(&l, ",\"peer\":");
		put_json(&l, e->peer ? peer : e->parent_host, FIELD_MAX);
		put_str(&l, ",\"parent\":");
		put_json(&l, e->parent, FIELD_MAX);
		put_str(&l, ",\"mime\":");
		put_json(&l, e->mime, FIELD_MAX);
		put_str(&l, ",\"error\":");
		put_json(&l, e->error, FIELD_MAX * 2);
		put_str(&l, ",\"auth\":");
		put_json(&l, e->auth, FIELD_MAX);
		put_str(&l, e->webrtc ? ",\"webrtc\":true" : ",\"webrtc\":false");
		put_str(&l, e->client_tls ? ",\"client_tls\":true}" : ",\"client_tls\":false}");
	} else {
		put_fmt(&l, "%llu.%03llu %6llu %s ", (unsigned long long)(e->end_ms / 1000),
		        (unsigned long long)(e->end_ms % 1000), (unsigned long long)e->elapsed_ms, client);
		put_squid(&l, e->result ? e->result : "NONE_NONE", FIELD_MAX);
		put_fmt(&l, "/%03d %llu ", e->status, (unsigned long long)e->bytes_out);
		put_squid(&l, e->method, FIELD_MAX);
		put(&l, " ", 1);
		put_squid(&l, e->url, URL_MAX);
		put(&l, " ", 1);
		put_squid(&l, e->user, FIELD_MAX);
		put(&l, " ", 1);
		put_squid(&l, e->hierarchy ? e->hierarchy : "HIER_NONE", FIELD_MAX);
		put(&l, "/", 1);
		if (e->parent_host && !e->peer)
			put_squid(&l, e->parent_host, FIELD_MAX);
		else
			put_str(&l, peer);
		put(&l, " ", 1);
		put_squid(&l, e->mime, FIELD_MAX);
	}
	/* n < cap: the newline always has its byte. */
	l.p[l.n++] = '\n';
	return l.n;
}

void log_access(const struct access_entry *e)
{
	char line[URL_MAX + 16 * FIELD_MAX];
	int fd = atomic_load(&access_fd);

	if (!atomic_load(&access_on) || fd < 0)
		return;
	write_all(fd, line, log_format_access(e, atomic_load(&access_format), line, sizeof(line)));
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&error_level);
}

/* Messages quote what clients sent (a scheme name, a header): every byte
 * that is not printable ASCII is escaped, so a log line stays one line of
 * text whatever the client sent. */
static void log_vmsg(enum log_level level, const char *name, const char *fmt, va_list ap)
{
	char msg[2048], line[2048 + 256];
	size_t n;
	int k = vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t mlen = k < 0 ? 0 : PH_MIN((size_t)k, sizeof(msg) - 1);

	if (atomic_load(&error_syslog)) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

		esc_printable(line, sizeof(line), msg, mlen);
		syslog(prio[level], "%s", line);
		return;
	}
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = snprintf(line + n, sizeof(line) - n, " pinhole[%d]: %s: ", (int)getpid(), name);
	n += k > 0 ? (size_t)k : 0;
	n += esc_printable(line + n, sizeof(line) - n - 1, msg, mlen);
	line[n++] = '\n';
	int fd = atomic_load(&error_fd);

	write_all(fd >= 0 ? fd : STDERR_FILENO, line, n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, names[level], fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERROR, "%s", msg);
	if (!atomic_load(&error_on_stderr))
		fprintf(stderr, "pinhole: %s\n", msg);
}

void log_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, "notice", fmt, ap);
	va_end(ap);
}

/* ---- the log section of the configuration ---- */

/* What `run` would stop on, said by `validate` and refused by a reload: a
 * log file pinhole cannot open for writing. */
static void check_writable(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *what, const char *path)
{
	char why[1024];

	if (!cfg_file_writable(path, why, sizeof(why)))
		cfg_err(ctx, ln, "cannot write the %s %s: %s", what, path, why);
}

static void d_access_log(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	static const char *const formats[] = { "squid", "json" };
	struct log_settings *s = settings;
	const char *dest = ln->argv[1];
	int fmt = ACCESS_LOG_SQUID;

	if (ln->argc == 3) {
		fmt = cfg_keyword(ln->argv[2], formats, PH_ARRAY_LEN(formats));
		if (fmt < 0) {
			cfg_unknown(ctx, ln, "access-log format", ln->argv[2], formats, PH_ARRAY_LEN(formats));
			return;
		}
	}
	if (dest[0] == '\0') {
		cfg_err(ctx, ln, "access-log needs a file name, 'stdout' or 'off'");
		return;
	}
	free(s->access_log);
	if (strcmp(dest, "off") == 0)
		s->access_log = NULL;
	else if (strcmp(dest, "stdout") == 0)
		s->access_log = ph_strdup("stdout");
	else
		s->access_log = cfg_path(ln->file, dest);
	s->access_log_format = fmt == 1 ? ACCESS_LOG_JSON : ACCESS_LOG_SQUID;
	s->access_log_file = ln->file;
	s->access_log_line = ln->line;
	if (is_file(s->access_log))
		check_writable(ctx, ln, "access log", s->access_log);
}

static void d_error_log(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct log_settings *s = settings;
	const char *dest = ln->argv[1];

	if (dest[0] == '\0') {
		cfg_err(ctx, ln, "error-log needs a file name, 'stderr' or 'syslog'");
		return;
	}
	free(s->error_log);
	if (strcmp(dest, "stderr") == 0 || strcmp(dest, "syslog") == 0)
		s->error_log = ph_strdup(dest);
	else
		s->error_log = cfg_path(ln->file, dest);
	s->error_log_file = ln->file;
	s->error_log_line = ln->line;
	if (is_file(s->error_log))
		check_writable(ctx, ln, "error log", s->error_log);
}

static const char *const log_levels[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static void d_log_level(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct log_settings *s = settings;
	int lvl = cfg_keyword(ln->argv[1], log_levels, PH_ARRAY_LEN(log_levels));

	if (lvl < 0) {
		cfg_unknown(ctx, ln, "log-level", ln->argv[1], log_levels, PH_ARRAY_LEN(log_levels));
		return;
	}
	s->level = (enum log_level)lvl;
}

static void *log_create(void)
{
	struct log_settings *s = ph_calloc(1, sizeof(*s));

	s->access_log = ph_strdup("stdout");
	s->access_log_format = ACCESS_LOG_SQUID;
	s->error_log = ph_strdup("stderr");
	s->level = LOG_LEVEL_WARN;
	return s;
}

static void log_dump(const void *settings, struct strbuf *sb)
{
	const struct log_settings *s = settings;

	if (s->access_log) {
		strbuf_printf(sb, "access-log ");
		cfg_dump_word(sb, s->access_log);
		strbuf_printf(sb, " %s\n", s->access_log_format == ACCESS_LOG_JSON ? "json" : "squid");
	} else {
		strbuf_printf(sb, "access-log off\n");
	}
	strbuf_printf(sb, "error-log ");
	cfg_dump_word(sb, s->error_log ? s->error_log : "stderr");
	strbuf_printf(sb, "\nlog-level %s\n", log_levels[s->level]);
}

static void log_destroy(void *settings)
{
	struct log_settings *s = settings;

	free(s->access_log);
	free(s->error_log);
	free(s);
}

static const struct cfg_directive log_directives[] = {
	{ "access-log", 1, 2, true, "access-log FILE|stdout|off [squid|json]", d_access_log },
	{ "error-log", 1, 1, true, "error-log FILE|stderr|syslog", d_error_log },
	{ "log-level", 1, 1, true, "log-level error|warn|info|debug", d_log_level },
};

const struct cfg_section log_section = {
	.name = "log",
	.directives = log_directives,
	.ndirectives = PH_ARRAY_LEN(log_directives),
	.create = log_create,
	.dump = log_dump,
	.destroy = log_destroy,
};
