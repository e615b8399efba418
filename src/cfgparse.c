/*
 * cfgparse.c - errors, parse context, units, paths and dump words for the
 * modules' directive parsers (cfgparse.h).
 */
#include "cfgparse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "strbuf.h"

/* ---- errors and suggestions ---- */

/* "FILE:LINE: " (or "FILE: ") prefix + msg, appended to list. */
static void add_message(char ***list, size_t *n, const char *file, int line, const char *msg)
{
	struct strbuf sb = { 0 };

	if (file && line > 0)
		strbuf_printf(&sb, "%s:%d: %s", file, line, msg);
	else if (file)
		strbuf_printf(&sb, "%s: %s", file, msg);
	else
		strbuf_printf(&sb, "%s", msg);
	*list = ph_realloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = sb.p;
}

void cfg_warning(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!errs)
		return;
	memcpy(msg, "warning: ", 9);
	va_start(ap, fmt);
	vsnprintf(msg + 9, sizeof(msg) - 9, fmt, ap);
	va_end(ap);
	add_message(&errs->warns, &errs->nwarns, file, line, msg);
}

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
	for (size_t i = 0; i < errs->nwarns; i++)
		free(errs->warns[i]);
	free(errs->warns);
	errs->warns = NULL;
	errs->nwarns = 0;
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

/* ---- the parse context ---- */

void cfg_err(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_error(ctx->errs, ln->file, ln->line, "%s", msg);
}

void cfg_warn(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_warning(ctx->errs, ln->file, ln->line, "%s", msg);
}

void cfg_ctx_done(struct cfg_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nseen; i++)
		free(ctx->seen[i].key);
	free(ctx->seen);
	ctx->seen = NULL;
	ctx->nseen = 0;
}

void cfg_unknown(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *what, const char *word,
                 const char *const *names, size_t n)
{
	const char *s = cfg_suggest(word, names, n);
	struct strbuf list = { 0 };

	if (s) {
		cfg_err(ctx, ln, "unknown %s '%s' (did you mean '%s'?)", what, word, s);
		return;
	}
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	cfg_err(ctx, ln, "unknown %s '%s' (one of: %s)", what, word, list.p);
	free(list.p);
}

int cfg_keyword(const char *word, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	return -1;
}

void cfg_once(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *key)
{
	for (size_t i = 0; i < ctx->nseen; i++) {
		if (strcmp(ctx->seen[i].key, key) == 0) {
			cfg_err(ctx, ln, "'%s' is already set at %s:%d", key, ctx->seen[i].file, ctx->seen[i].line);
			return;
		}
	}
	ctx->seen = ph_realloc(ctx->seen, (ctx->nseen + 1) * sizeof(*ctx->seen));
	ctx->seen[ctx->nseen].key = ph_strdup(key);
	ctx->seen[ctx->nseen].file = ln->file;
	ctx->seen[ctx->nseen].line = ln->line;
	ctx->nseen++;
}

const char *cfg_intern(struct cfg_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nfiles; i++)
		if (strcmp(ctx->files[i], name) == 0)
			return ctx->files[i];
	ctx->files = ph_realloc(ctx->files, (ctx->nfiles + 1) * sizeof(*ctx->files));
	ctx->files[ctx->nfiles] = ph_strdup(name);
	return ctx->files[ctx->nfiles++];
}

/* ---- numbers with units ---- */

/* The number and its unit: digits, then the rest of the word. */
static int split_number(const char *s, uint64_t *v, const char **unit)
{
	uint64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return PH_ERROR;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return PH_ERROR;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	*unit = p;
	return PH_OK;
}

int cfg_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t v, mult;
	const char *unit;

	if (split_number(s, &v, &unit) != PH_OK)
		return PH_ERROR;
	if (strcmp(unit, "") == 0 || strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(unit, "d") == 0)
		mult = 24 * 3600 * 1000;
	else
		return PH_ERROR;
	if (v > UINT64_MAX / mult)
		return PH_ERROR;
	*ms = v * mult;
	return PH_OK;
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v, mult;
	const char *unit;

	if (split_number(s, &v, &unit) != PH_OK)
		return PH_ERROR;
	if (strcmp(unit, "") == 0)
		mult = 1;
	else if (strcmp(unit, "k") == 0 || strcmp(unit, "K") == 0)
		mult = 1024;
	else if (strcmp(unit, "m") == 0 || strcmp(unit, "M") == 0)
		mult = 1024 * 1024;
	else
		return PH_ERROR;
	if (v > UINT64_MAX / mult)
		return PH_ERROR;
	*bytes = v * mult;
	return PH_OK;
}

int cfg_parse_uint(const char *s, uint64_t max, uint64_t *out)
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

/* ---- small helpers ---- */

int cfg_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (strlen(s) > 5 || cfg_parse_uint(s, 65535, &v) != PH_OK || v == 0)
		return PH_ERROR;
	*port = (uint16_t)v;
	return PH_OK;
}

/* ---- files ---- */

/*
 * Reads a whole regular file.  O_NONBLOCK keeps a FIFO from hanging the
 * parser, the S_ISREG check keeps out /dev/zero and friends.  On error,
 * returns PH_ERROR with *why a reason sentence.
 */
int cfg_read_file(const char *path, size_t max, char **out, size_t *outlen, const char **why)
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

char *cfg_path_join(const char *including, const char *path)
{
	const char *slash = including ? strrchr(including, '/') : NULL;
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
char *cfg_path(const char *including, const char *path)
{
	char *joined = cfg_path_join(including, path);
	char cwd[PATH_MAX];
	char *abs;

	if (joined[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return joined;
	abs = ph_malloc(strlen(cwd) + strlen(joined) + 2);
	sprintf(abs, "%s/%s", cwd, strncmp(joined, "./", 2) == 0 ? joined + 2 : joined);
	free(joined);
	return abs;
}

/* Opens and closes path. */
bool cfg_file_readable(const char *path, const char **why)
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

bool cfg_file_writable(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *dir, *slash;
	bool ok = true;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, whylen, "%s is a directory, not a file", path);
			return false;
		}
		if (access(path, W_OK) != 0) {
			snprintf(why, whylen, "%s is not writable by this user (%s)", path, strerror(errno));
			return false;
		}
		return true;
	}
	if (errno != ENOENT) {
		snprintf(why, whylen, "cannot reach %s: %s", path, strerror(errno));
		return false;
	}
	dir = ph_strdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen,
		         "the directory %s does not exist (create it, writable by the user pinhole runs as)", dir);
		ok = false;
	} else if (access(dir, W_OK | X_OK) != 0) {
		snprintf(why, whylen, "%s does not exist and the directory %s is not writable by this user", path, dir);
		ok = false;
	}
	free(dir);
	return ok;
}

/* ---- the dump ---- */

/* A word as the tokenizer would read it back. */
void cfg_dump_word(struct strbuf *sb, const char *w)
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

/* ---- dump ---- */

void cfg_dump_duration(struct strbuf *sb, uint64_t ms)
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

void cfg_dump_size(struct strbuf *sb, uint64_t n)
{
	if (n && n % (1024 * 1024) == 0)
		strbuf_printf(sb, "%lluM", (unsigned long long)(n / (1024 * 1024)));
	else if (n && n % 1024 == 0)
		strbuf_printf(sb, "%lluk", (unsigned long long)(n / 1024));
	else
		strbuf_printf(sb, "%llu", (unsigned long long)n);
}
