/*
 * log.c - access and error logs.  Reopening on reload replaces the file
 * under the same descriptor number (dup2), so a worker writing at that
 * moment never sees a closed descriptor.
 */
#include "log.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_int access_fd = -1;
static atomic_bool access_on = false;
static atomic_int access_format = ACCESS_LOG_SQUID;
static atomic_int error_fd = -1; /* -1 = stderr */
static atomic_bool error_syslog = false;
static atomic_int error_level = LOG_LEVEL_WARN;

/* Points fd_slot at path ("stdout"/"stderr" or a file), reusing the slot's
 * descriptor number when it already has one. */
static int reopen(atomic_int *fd_slot, const char *path, char *err, size_t errlen)
{
	int fd;

	if (strcmp(path, "stdout") == 0)
		fd = dup(STDOUT_FILENO);
	else if (strcmp(path, "stderr") == 0)
		fd = dup(STDERR_FILENO);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
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

int log_configure(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->access_log) {
		if (reopen(&access_fd, cfg->access_log, err, errlen) < 0)
			return -1;
		atomic_store(&access_format, cfg->access_log_format);
		atomic_store(&access_on, true);
	} else {
		atomic_store(&access_on, false);
	}
	atomic_store(&error_level, cfg->log_level);
	if (cfg->error_log && strcmp(cfg->error_log, "syslog") == 0) {
		openlog("pinhole", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		atomic_store(&error_syslog, true);
	} else {
		atomic_store(&error_syslog, false);
		if (cfg->error_log && reopen(&error_fd, cfg->error_log, err, errlen) < 0)
			return -1;
	}
	return 0;
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

/* Appends s to the JSON line as a quoted string (or null). */
static size_t json_str(char *out, size_t cap, size_t pos, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (pos >= cap)
		return pos;
	if (!s)
		return pos + (size_t)snprintf(out + pos, cap - pos, "null");
	out[pos++] = '"';
	for (; *s && pos + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			pos += (size_t)snprintf(out + pos, cap - pos, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else {
			out[pos++] = (char)c;
		}
	}
	if (pos < cap)
		out[pos++] = '"';
	return pos;
}

/* Squid writes "-" for empty fields and never a space inside one. */
static const char *squid_field(const char *s, char *buf, size_t len)
{
	if (!s || !*s)
		return "-";
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] == ' ' || s[i] < 0x20) ? '_' : s[i];
	buf[i] = '\0';
	return buf;
}

void log_access(const struct access_entry *e)
{
	char line[4096 + 512], client[64], peer[64], url[4096], user[256];
	int fd = atomic_load(&access_fd);
	size_t n;

	if (!atomic_load(&access_on) || fd < 0)
		return;
	ph_addr_str(e->client, client, sizeof(client));
	if (e->peer)
		ph_addr_str(e->peer, peer, sizeof(peer));
	else
		strcpy(peer, "-");
	if (atomic_load(&access_format) == ACCESS_LOG_JSON) {
		n = (size_t)snprintf(line, sizeof(line), "{\"ts\":%llu.%03llu,\"elapsed_ms\":%llu,\"client\":",
		                     (unsigned long long)(e->end_ms / 1000), (unsigned long long)(e->end_ms % 1000),
		                     (unsigned long long)e->elapsed_ms);
		n = json_str(line, sizeof(line), n, client);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"result\":");
		n = json_str(line, sizeof(line), n, e->result);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		                      ",\"status\":%d,\"bytes_out\":%llu,\"bytes_in\":%llu,\"method\":", e->status,
		                      (unsigned long long)e->bytes_out, (unsigned long long)e->bytes_in);
		n = json_str(line, sizeof(line), n, e->method);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"url\":");
		n = json_str(line, sizeof(line), n, e->url);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"user\":");
		n = json_str(line, sizeof(line), n, e->user);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"hierarchy\":");
		n = json_str(line, sizeof(line), n, e->hierarchy ? e->hierarchy : "HIER_NONE");
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"peer\":");
		n = json_str(line, sizeof(line), n, e->peer ? peer : NULL);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"mime\":");
		n = json_str(line, sizeof(line), n, e->mime);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"error\":");
		n = json_str(line, sizeof(line), n, e->error);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "}\n");
	} else {
		char mime[128];

		n = (size_t)snprintf(line, sizeof(line), "%llu.%03llu %6llu %s %s/%03d %llu %s %s %s %s/%s %s\n",
		                     (unsigned long long)(e->end_ms / 1000), (unsigned long long)(e->end_ms % 1000),
		                     (unsigned long long)e->elapsed_ms, client, e->result ? e->result : "NONE_NONE",
		                     e->status, (unsigned long long)e->bytes_out, e->method ? e->method : "-",
		                     squid_field(e->url, url, sizeof(url)), squid_field(e->user, user, sizeof(user)),
		                     e->hierarchy ? e->hierarchy : "HIER_NONE", peer,
		                     squid_field(e->mime, mime, sizeof(mime)));
	}
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	write_all(fd, line, n);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&error_level);
}

static void log_vmsg(enum log_level level, const char *name, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;

	if (atomic_load(&error_syslog)) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(prio[level], "%s", line);
		return;
	}
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " pinhole[%d]: %s: ", (int)getpid(), name);
	n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
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

void log_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, "notice", fmt, ap);
	va_end(ap);
}
