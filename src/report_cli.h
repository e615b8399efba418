/*
 * report_cli.h - `pinhole report`: fetches /report.json from one or more
 * running instances' admin interfaces (libcurl), reads it (jansson),
 * merges the clients they saw and prints a table or JSON.  It never starts
 * the engine; only this module needs libcurl and jansson.
 */
#ifndef PINHOLE_REPORT_CLI_H
#define PINHOLE_REPORT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the report ---- */

/* In order of gravity, so that the worst of two is the larger. */
enum report_verdict {
	REPORT_OK,
	REPORT_DEGRADED,
	REPORT_BREAKS,
};

struct report_finding {
	char *rule;     /* stable id, "auth-required" */
	char *severity; /* "breaks", "degraded", "ok" (others kept as given) */
	char **vendors;
	size_t nvendors;
	char *source, *evidence, *advice; /* "" when not given */
	uint64_t count;
};

struct report_client {
	/* Strings are never NULL; "" = not known. */
	char *client, *user, *user_agent, *browser, *os, *first_seen, *last_seen;
	uint64_t requests;
	enum report_verdict verdict;
	struct report_finding *findings;
	size_t nfindings;
	char **instances; /* the admin interfaces that saw this client */
	size_t ninstances;
};

struct report {
	char *generated; /* "" when not given */
	struct report_client *clients;
	size_t nclients;
};

/* A /report.json whose JSON values would take more memory than this is
 * refused: jansson spends some 40 bytes per byte of "[[],[],..." and 70 of
 * "[{},{},...", and an answer may be 32 MiB.  A real report takes about 5
 * (measured on 4096 clients: 2.4 MB of text, 11.6 MB of values). */
#define REPORT_JSON_MAX_MEMORY ((size_t)256 << 20)
/* Counts are JSON integers; sums stop here, so what is written reads back. */
#define REPORT_MAX_COUNT ((uint64_t)INT64_MAX)

/* Reads a /report.json as an admin interface answered it (len bytes of
 * text): strict JSON (RFC 8259, UTF-8, no duplicate keys, no \u0000,
 * nesting bounded by jansson, memory by REPORT_JSON_MAX_MEMORY) in the
 * report's shape.  instance names the source (kept in each client's
 * instances; NULL = none).  0, or -1 with why set ("bad JSON at line 1,
 * column 1: ...", "clients[2]: verdict 'x' is not breaks, degraded or
 * ok"), made safe for a terminal; *out is then empty. */
int report_read(const char *text, size_t len, const char *instance, struct report *out, char *why, size_t whylen);
/* Adds from's clients to into: same (client, user) = one client, requests
 * and finding counts summed, first_seen the earliest, last_seen the latest,
 * the worst verdict and severity; user agent, evidence and advice come from
 * the entry seen most recently. */
void report_merge(struct report *into, const struct report *from);
/* Worst verdict first, then the most recently seen; findings worst first. */
void report_sort(struct report *r);
void report_free(struct report *r);

/* One instance asked, for the "instances" list of the JSON output. */
struct report_instance {
	const char *name;      /* "127.0.0.1:3129", never credentials */
	const char *generated; /* when it answered; NULL when it failed */
	size_t nclients;
	const char *error; /* why it failed, or NULL */
};

/* The merged report as JSON (the SPEC's shape, plus "instances" at the top
 * and in each client), newline-terminated; the caller frees it. */
char *report_to_json(const struct report *r, const struct report_instance *inst, size_t ninst, size_t *len);
/* The table for people; every string from the network is made safe for a
 * terminal first. */
void report_print_table(FILE *f, const struct report *r, size_t ninstances_answered);
/* Copies s into out (outlen > 0) without control characters (C0, DEL, C1,
 * bidirectional overrides) and invalid UTF-8, cut to at most maxcols code
 * points ("..." marks a cut; 0 = no limit).  Returns the code points written. */
size_t report_term_safe(const char *s, size_t maxcols, char *out, size_t outlen);

/* An --admin URL as the command takes it (http:// or https://, the scheme
 * and the port 3129 may be left out): 0 with the name messages show for
 * it in name ("127.0.0.1:3129/pinhole", "https://[::1]:3129"; never the
 * credentials), or -1 with why set. */
int report_admin_name(const char *url, char *name, size_t namelen, char *why, size_t whylen);

/* "libcurl 7.88.1, jansson 2.14": what `pinhole version` names for this
 * command (a static string). */
const char *report_lib_versions(void);

/* `pinhole report [--admin URL]... [--cacert FILE] [--json]`; argv[0] is
 * "report".  Exit status: 0 no client breaks, 1 some client breaks, 2
 * nothing fetched or a usage error. */
int report_main(int argc, char **argv);

#endif
