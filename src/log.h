/*
 * log.h - the access log (Squid native or JSON lines, one line per request or
 * tunnel) and the error log, and their directives.  Lines are formatted on the caller's stack and
 * written with one write(2), so workers never share a buffer or a lock.
 * Nothing that reaches these functions may contain a credential.
 */
#ifndef PINHOLE_LOG_H
#define PINHOLE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfgparse.h"

enum access_log_format {
	ACCESS_LOG_SQUID,
	ACCESS_LOG_JSON,
};

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* access-log, error-log and log-level (log_section). */
struct log_settings {
	char *access_log; /* "stdout", a path, or NULL for none */
	enum access_log_format access_log_format;
	char *error_log; /* "stderr", "syslog" or a path */
	enum log_level level;
	const char *access_log_file, *error_log_file; /* where they were set (NULL: the default) */
	int access_log_line, error_log_line;
};

extern const struct cfg_section log_section;

struct access_entry {
	uint64_t end_ms; /* wall clock, at the end */
	uint64_t elapsed_ms;
	const struct sockaddr_storage *client;
	const char *result;                  /* "TCP_TUNNEL", "TCP_MISS", "TCP_DENIED", "NONE_NONE" */
	int status;                          /* 0 = none (000) */
	uint64_t bytes_out;                  /* sent to the client, heads included */
	uint64_t bytes_in;                   /* received from the client */
	const char *method;                  /* NULL = "-" */
	const char *url;                     /* CONNECT: host:port */
	const char *user;                    /* NULL = "-" */
	const char *hierarchy;               /* "HIER_DIRECT", "HIER_NONE", "FIRSTUP_PARENT" */
	const struct sockaddr_storage *peer; /* origin address, NULL = "-" */
	const char *parent;                  /* "host:port" of the parent proxy it went through, NULL = none */
	const char *parent_host;             /* its host: the peer of the Squid format */
	const char *mime;                    /* NULL = "-" */
	const char *error;                   /* cause sentence (JSON only), NULL = none */
	const char *auth;                    /* how the user was authenticated (JSON only), NULL = not */
	bool webrtc;                         /* a WebRTC media tunnel (JSON "webrtc") */
	bool client_tls;                     /* the client spoke TLS to an HTTPS proxy listener (JSON only) */
};

/* Opens (or reopens, on reload) the files the settings name.  0 or -1 with
 * a message in err ("FILE:LINE: cannot open log ..."). */
int log_configure(const struct log_settings *ls, char *err, size_t errlen);
/* Opens the log files again under the same names, and changes nothing
 * else (SIGUSR1, after logrotate moved them away).  A file that cannot be
 * opened keeps its old descriptor.  0 or -1 with a message in err. */
int log_reopen(const struct log_settings *ls, char *err, size_t errlen);

void log_access(const struct access_entry *e);
/* Formats e as one line of the given format, newline included, into buf
 * (cap bytes, at least 2): every field is bounded, an over-long one is cut
 * with the marker "...[cut]".  Returns the line's length (< cap). */
size_t log_format_access(const struct access_entry *e, enum access_log_format format, char *buf, size_t cap);

/* Error log, filtered by log-level. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
bool log_enabled(enum log_level level);
/* Why pinhole cannot start: an error, also on stderr when the error log is
 * elsewhere (a file, syslog), so that whoever started it sees why. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up, reload and shutdown notices: written whatever the log-level. */
void log_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
