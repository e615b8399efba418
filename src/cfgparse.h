/*
 * cfgparse.h - what every module needs to read its own directives: the
 * error list ("FILE:LINE: message" with "did you mean"), one directive line
 * as its parser sees it, the parse context (errors, "once" bookkeeping,
 * interned file names), the numbers with units, paths relative to the
 * file that names them, and the words of the /config dump.  It knows no
 * directive and no other module: config.c drives the parse, each module
 * owns its directives (struct cfg_section).
 */
#ifndef PINHOLE_CFGPARSE_H
#define PINHOLE_CFGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Errors collected while parsing: each one "FILE:LINE: message".  A
 * configuration with an error is refused; warnings ("FILE:LINE: warning:
 * message": a rule that can never match, an unknown method) are said and
 * the configuration is used. */
struct cfg_errors {
	char **msgs;
	size_t n;
	char **warns;
	size_t nwarns;
};
void cfg_error(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void cfg_warning(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void cfg_errors_free(struct cfg_errors *errs);
/* For "did you mean": the edit distance of a and b (insertions, deletions,
 * substitutions and swaps of neighbours), and the name in names[0..n-1]
 * closest to word if it is within 2 edits, else NULL. */
int cfg_edit_distance(const char *a, const char *b);
const char *cfg_suggest(const char *word, const char *const *names, size_t n);

/* One directive as written: argv[0] is its name. */
struct cfg_line {
	const char *file; /* interned: lives as long as the configuration */
	int line;
	int argc;
	char **argv;
	const char *text; /* the directive as written, without its comment */
};

/* A parse in progress: where errors go, the "once" directives seen, and
 * the file names interned (handed to the configuration at the end). */
struct cfg_seen {
	char *key;
	const char *file;
	int line;
};
struct cfg_ctx {
	struct cfg_errors *errs;
	char **files;
	size_t nfiles;
	struct cfg_seen *seen;
	size_t nseen;
};
/* Frees the context's bookkeeping (not the files, which the configuration
 * takes over). */
void cfg_ctx_done(struct cfg_ctx *ctx);

/* An error at ln. */
void cfg_err(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* A warning at ln. */
void cfg_warn(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "unknown WHAT 'x' (did you mean 'y'?)" or "... (one of: a, b, c)". */
void cfg_unknown(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *what, const char *word,
                 const char *const *names, size_t n);
/* The index of word in names, or -1. */
int cfg_keyword(const char *word, const char *const *names, size_t n);
/* Marks key ("timeout idle", "quirk delay") as set at ln; a second one is
 * an error naming the first, since silently letting one win hides
 * mistakes in included files. */
void cfg_once(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *key);
/* The one copy of a file name, kept as long as the configuration. */
const char *cfg_intern(struct cfg_ctx *ctx, const char *name);

/* A directive a module owns: its words after the name are between
 * min_args and max_args (-1: no limit); once: at most one in all files.
 * parse gets the module's settings (struct cfg_section.create). */
struct cfg_directive {
	const char *name;
	int min_args, max_args;
	bool once;
	const char *usage;
	void (*parse)(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx);
};

/* A module's part of the configuration: its directives and its settings,
 * made with their defaults by create, checked as a whole by finish (after
 * the last line; mainfile names the configuration for errors without a
 * line), written back by dump for /config, and freed by destroy.  Parsing
 * changes nothing outside the settings (a configuration may be refused, or
 * only validated); commit, when there is one, applies the settings to what
 * the module keeps for the whole process, once the configuration is the
 * running one. */
struct cfg_section {
	const char *name;
	const struct cfg_directive *directives;
	size_t ndirectives;
	void *(*create)(void);
	void (*finish)(void *settings, const char *mainfile, struct cfg_ctx *ctx);
	void (*dump)(const void *settings, struct strbuf *out);
	void (*destroy)(void *settings);
	void (*commit)(const void *settings);
};

/* Numbers with units: "30s", "5m", "1h", "7d", "250ms" or a bare number of
 * seconds; "64k", "1M" or bytes.  PH_OK or PH_ERROR. */
int cfg_parse_duration(const char *s, uint64_t *ms);
int cfg_parse_size(const char *s, uint64_t *bytes);
/* Decimal digits only, no sign, at most max. */
int cfg_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A port, 1 to 65535. */
int cfg_parse_port(const char *s, uint16_t *port);

/* path relative to the directory of the file that names it. */
char *cfg_path_join(const char *including, const char *path);
/* The same made absolute, for files pinhole reads or writes later (logs,
 * credential files), so that a later chdir() cannot change what they mean. */
char *cfg_path(const char *including, const char *path);
/* Reads a whole regular file of at most max bytes (NUL-terminated).
 * PH_ERROR with *why a reason sentence. */
int cfg_read_file(const char *path, size_t max, char **out, size_t *outlen, const char **why);
/* Whether path is a regular file pinhole can open now (*why if not). */
bool cfg_file_readable(const char *path, const char **why);
/* Whether pinhole can write path (a log, a pid file): it is a regular file
 * it may write, or it does not exist in a directory it may write.  When
 * not, a sentence in why that says what to do. */
bool cfg_file_writable(const char *path, char *why, size_t whylen);

/* The dump: a word as the tokenizer reads it back (quoted when needed), a
 * duration and a size in their shortest unit. */
void cfg_dump_word(struct strbuf *out, const char *w);
void cfg_dump_duration(struct strbuf *out, uint64_t ms);
void cfg_dump_size(struct strbuf *out, uint64_t n);

#endif
