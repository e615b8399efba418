/*
 * report_cli.h - `pinhole report`: fetches /report.json from one or more
 * running instances' admin interfaces, merges the clients they saw and
 * prints a table or JSON.  It owns a small blocking HTTP/1.1 client and a
 * strict JSON reader for that purpose; it never starts the engine.
 */
#ifndef PINHOLE_REPORT_CLI_H
#define PINHOLE_REPORT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- strict JSON (RFC 8259) ---- */

/* Deeper nesting is refused, so neither parsing nor freeing recurses
 * further than this. */
#define REPORT_JSON_MAX_DEPTH 64
/* Values in one document: bounds the memory a hostile answer can make us
 * spend (a report of 4096 clients uses under a million). */
#define REPORT_JSON_MAX_VALUES (1u << 21)

enum report_json_type {
	RJ_NULL,
	RJ_FALSE,
	RJ_TRUE,
	RJ_NUMBER,
	RJ_STRING,
	RJ_ARRAY,
	RJ_OBJECT,
};

struct report_json_member;

struct report_json {
	enum report_json_type type;
	/* RJ_STRING: bytes (UTF-8, may hold NUL from \u0000); RJ_ARRAY,
	 * RJ_OBJECT: entries. */
	size_t n;
	union {
		double num;                         /* RJ_NUMBER (finite) */
		char *str;                          /* RJ_STRING, NUL-terminated too */
		struct report_json *items;          /* RJ_ARRAY */
		struct report_json_member *members; /* RJ_OBJECT, in document order */
	} u;
};

struct report_json_member {
	char *key; /* NUL-terminated; keylen bytes */
	size_t keylen;
	struct report_json value;
};

/* Parses exactly one JSON value (surrounding whitespace allowed).  NULL on
 * error, with *err_at = offset of the offending byte and *why = a phrase
 * ("unexpected character", "nested deeper than 64 levels", ...).  Strings
 * must be valid UTF-8; \u escapes (surrogate pairs too) become UTF-8. */
struct report_json *report_parse_json(const char *text, size_t len, size_t *err_at, const char **why);
void report_json_free(struct report_json *v);
/* The value of key in an object (the last one when repeated), or NULL. */
const struct report_json *report_json_get(const struct report_json *obj, const char *key);

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

/* Reads a parsed /report.json.  instance names the source (kept in each
 * client's instances; NULL = none).  0, or -1 with why set ("clients[2]:
 * verdict 'x' is not breaks, degraded or ok"); *out is then empty. */
int report_from_json(const struct report_json *doc, const char *instance, struct report *out, char *why, size_t whylen);
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

/* `pinhole report [--admin URL]... [--json]`; argv[0] is "report".  Exit
 * status: 0 no client breaks, 1 some client breaks, 2 nothing fetched or a
 * usage error. */
int report_main(int argc, char **argv);

#endif
