/*
 * report_cli.c - `pinhole report`: asks running instances for their WebRTC
 * report over their admin interfaces (libcurl: http or https, one request
 * each), reads it (jansson), merges the clients and prints them.  The
 * report itself is built by the daemon (webrtc.h); this file only reads,
 * merges and shows it.
 */
#include "report_cli.h"
#include "common.h"
#include "escape.h"
#include "strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_DEFAULT_ADMIN "http://127.0.0.1:3129"
#define REPORT_DEFAULT_PORT "3129"
#define REPORT_CONNECT_TIMEOUT_MS 5000
/* The whole exchange: a 32 MiB report takes well under a second on a LAN. */
#define REPORT_TIMEOUT_MS 30000
#define REPORT_MAX_HEAD (64u << 10)
#define REPORT_MAX_BODY (32u << 20)

/* Grows an array of elements of size sz to hold one more. */
static void *grow(void *v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 4;
	return ph_realloc(v, *cap * sz);
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- timestamps ---- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* An RFC 3339 time ("2026-11-21T10:00:00Z", fractions and offsets too) as
 * seconds and nanoseconds since the epoch, so instances in different zones
 * or precisions compare right. */
static bool parse_time(const char *s, int64_t *sec, long *nsec)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	const char *p = s + 19;
	long frac = 0, scale = 100000000;

	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	int sign = 0;

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) &&
	           p[6] == '\0' && oh < 24 && om < 60) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return false;
	}
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
	*nsec = frac;
	return true;
}

/* Orders two timestamps: "" (not known) first, then text that is not
 * RFC 3339 (as text), then times (by instant).  A total order, so that
 * sorting and merging never depend on the order instances answered in. */
static int time_cmp(const char *a, const char *b)
{
	int64_t sa = 0, sb = 0;
	long na = 0, nb = 0;
	int ka = !a[0] ? 0 : parse_time(a, &sa, &na) ? 2 : 1;
	int kb = !b[0] ? 0 : parse_time(b, &sb, &nb) ? 2 : 1;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka == 2) {
		if (sa != sb)
			return sa < sb ? -1 : 1;
		return (na > nb) - (na < nb);
	}
	int c = strcmp(a, b);

	return (c > 0) - (c < 0);
}

/* ---- the report: reading, merging, sorting ---- */

static const char *const verdict_names[] = { "ok", "degraded", "breaks" };

/* The rank of a verdict or severity, -1 when it is none of the three. */
static int verdict_rank(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, verdict_names[i]) == 0)
			return i;
	return -1;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void strv_add_unique(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = ph_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = ph_strdup(s);
}

static void finding_free(struct report_finding *f)
{
	free(f->rule);
	free(f->severity);
	strv_free(f->vendors, f->nvendors);
	free(f->source);
	free(f->evidence);
	free(f->advice);
}

static void client_free(struct report_client *c)
{
	free(c->client);
	free(c->user);
	free(c->user_agent);
	free(c->browser);
	free(c->os);
	free(c->first_seen);
	free(c->last_seen);
	for (size_t i = 0; i < c->nfindings; i++)
		finding_free(&c->findings[i]);
	free(c->findings);
	strv_free(c->instances, c->ninstances);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nclients; i++)
		client_free(&r->clients[i]);
	free(r->clients);
	free(r->generated);
	memset(r, 0, sizeof(*r));
}

/* An optional string member: absent or null reads as "".  jansson's
 * strings are valid UTF-8 without NUL (JSON_ALLOW_NUL is not given). */
static int get_str(const json_t *obj, const char *key, bool required, char **out, const char *where, char *why,
                   size_t whylen)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(why, whylen, "%s: no \"%s\"", where, key);
		*out = ph_strdup("");
		return 0;
	}
	if (!json_is_string(v))
		return fail(why, whylen, "%s: \"%s\" is not a string", where, key);
	*out = ph_strdup(json_string_value(v));
	if (required && !**out)
		return fail(why, whylen, "%s: \"%s\" is empty", where, key);
	return 0;
}

static int get_count(const json_t *obj, const char *key, uint64_t *out, const char *where, char *why, size_t whylen)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(why, whylen, "%s: \"%s\" is not a whole number >= 0", where, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* An optional array of strings, each added once to *v. */
static int get_strv(const json_t *obj, const char *key, char ***v, size_t *n, const char *where, char *why,
                    size_t whylen)
{
	const json_t *a = json_object_get(obj, key);

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return fail(why, whylen, "%s: \"%s\" is not an array", where, key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *s = json_array_get(a, i);

		if (!json_is_string(s))
			return fail(why, whylen, "%s: %s[%zu] is not a string", where, key, i);
		strv_add_unique(v, n, json_string_value(s));
	}
	return 0;
}

/* A value from the network inside an error message: short and safe. */
static const char *quoted(const char *s, char *buf, size_t len)
{
	report_term_safe(s, 40, buf, len);
	return buf;
}

static int read_finding(const json_t *fj, struct report_finding *f, const char *where, char *why, size_t whylen)
{
	char q[200];

	if (!json_is_object(fj))
		return fail(why, whylen, "%s is not an object", where);
	if (get_str(fj, "rule", true, &f->rule, where, why, whylen) ||
	    get_str(fj, "severity", false, &f->severity, where, why, whylen) ||
	    get_str(fj, "source", false, &f->source, where, why, whylen) ||
	    get_str(fj, "evidence", false, &f->evidence, where, why, whylen) ||
	    get_str(fj, "advice", false, &f->advice, where, why, whylen) ||
	    get_count(fj, "count", &f->count, where, why, whylen))
		return -1;
	if (f->severity[0] && verdict_rank(f->severity) < 0)
		return fail(why, whylen, "%s: severity '%s' is not breaks, degraded or ok", where,
		            quoted(f->severity, q, sizeof(q)));
	return get_strv(fj, "vendors", &f->vendors, &f->nvendors, where, why, whylen);
}

static int read_client(const json_t *cj, struct report_client *c, const char *instance, const char *where, char *why,
                       size_t whylen)
{
	char *verdict = NULL, q[200];

	if (!json_is_object(cj))
		return fail(why, whylen, "%s is not an object", where);
	if (get_str(cj, "client", true, &c->client, where, why, whylen) ||
	    get_str(cj, "user", false, &c->user, where, why, whylen) ||
	    get_str(cj, "user_agent", false, &c->user_agent, where, why, whylen) ||
	    get_str(cj, "browser", false, &c->browser, where, why, whylen) ||
	    get_str(cj, "os", false, &c->os, where, why, whylen) ||
	    get_str(cj, "first_seen", false, &c->first_seen, where, why, whylen) ||
	    get_str(cj, "last_seen", false, &c->last_seen, where, why, whylen) ||
	    get_count(cj, "requests", &c->requests, where, why, whylen) ||
	    get_str(cj, "verdict", true, &verdict, where, why, whylen)) {
		free(verdict);
		return -1;
	}
	int rank = verdict_rank(verdict);

	if (rank < 0) {
		fail(why, whylen, "%s: verdict '%s' is not breaks, degraded or ok", where,
		     quoted(verdict, q, sizeof(q)));
		free(verdict);
		return -1;
	}
	free(verdict);
	c->verdict = (enum report_verdict)rank;
	if (instance)
		strv_add_unique(&c->instances, &c->ninstances, instance);
	/* A report this command wrote (--json) names its instances too. */
	if (get_strv(cj, "instances", &c->instances, &c->ninstances, where, why, whylen))
		return -1;

	const json_t *fs = json_object_get(cj, "findings");

	if (!fs || json_is_null(fs))
		return 0;
	if (!json_is_array(fs))
		return fail(why, whylen, "%s: \"findings\" is not an array", where);
	c->findings = ph_calloc(json_array_size(fs), sizeof(*c->findings));
	for (size_t i = 0; i < json_array_size(fs); i++) {
		char fwhere[96];

		snprintf(fwhere, sizeof(fwhere), "%s.findings[%zu]", where, i);
		c->nfindings++;
		if (read_finding(json_array_get(fs, i), &c->findings[i], fwhere, why, whylen))
			return -1;
	}
	return 0;
}

/* A failed read frees what it made so far (the free functions take the
 * NULL strings it may leave). */
static int read_report(const json_t *doc, const char *instance, struct report *out, char *why, size_t whylen)
{
	if (!json_is_object(doc))
		return fail(why, whylen, "the answer is not a JSON object");

	const json_t *cs = json_object_get(doc, "clients");

	if (!json_is_array(cs))
		return fail(why, whylen, "no \"clients\" array");
	if (get_str(doc, "generated", false, &out->generated, "the report", why, whylen))
		goto fail;
	out->clients = ph_calloc(json_array_size(cs), sizeof(*out->clients));
	for (size_t i = 0; i < json_array_size(cs); i++) {
		char where[32];

		snprintf(where, sizeof(where), "clients[%zu]", i);
		out->nclients++;
		if (read_client(json_array_get(cs, i), &out->clients[i], instance, where, why, whylen))
			goto fail;
	}
	return 0;
fail:
	report_free(out);
	return -1;
}

/* jansson's allocations, counted, so that a document whose values would
 * take more than REPORT_JSON_MAX_MEMORY is refused while it is parsed
 * (jansson gives up cleanly when an allocation fails).  Each block starts
 * with its size; the header keeps malloc's alignment. */
static size_t json_mem;
static bool json_mem_refused;

static void *json_mem_alloc(size_t n)
{
	size_t hdr = sizeof(max_align_t);

	if (n > REPORT_JSON_MAX_MEMORY - json_mem) {
		json_mem_refused = true;
		return NULL;
	}

	size_t *p = malloc(hdr + n);

	if (!p)
		return NULL;
	*p = n;
	json_mem += n;
	return (char *)p + hdr;
}

static void json_mem_free(void *ptr)
{
	if (!ptr)
		return;

	size_t *p = (size_t *)(void *)((char *)ptr - sizeof(max_align_t));

	json_mem -= *p;
	free(p);
}

int report_read(const char *text, size_t len, const char *instance, struct report *out, char *why, size_t whylen)
{
	json_error_t err;
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return fail(why, whylen, "the answer is empty");
	/* Only this module uses jansson: nothing was allocated by other
	 * functions before the first call. */
	json_set_alloc_funcs(json_mem_alloc, json_mem_free);
	json_mem_refused = false;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		char shown[200];

		/* jansson does not always say that an allocation failed. */
		if (json_mem_refused || json_error_code(&err) == json_error_out_of_memory)
			return fail(why, whylen, "its JSON would take more than %zu MiB of memory",
			            REPORT_JSON_MAX_MEMORY >> 20);
		/* jansson quotes the bytes near the error: from the network. */
		report_term_safe(err.text, 100, shown, sizeof(shown));
		return fail(why, whylen, "bad JSON at line %d, column %d: %s", err.line, err.column, shown);
	}
	rc = read_report(doc, instance, out, why, whylen);
	json_decref(doc);
	return rc;
}

static void finding_copy(struct report_finding *d, const struct report_finding *s)
{
	d->rule = ph_strdup(s->rule);
	d->severity = ph_strdup(s->severity);
	d->source = ph_strdup(s->source);
	d->evidence = ph_strdup(s->evidence);
	d->advice = ph_strdup(s->advice);
	d->count = s->count;
	d->vendors = NULL;
	d->nvendors = 0;
	for (size_t i = 0; i < s->nvendors; i++)
		strv_add_unique(&d->vendors, &d->nvendors, s->vendors[i]);
}

static void client_copy(struct report_client *d, const struct report_client *s)
{
	memset(d, 0, sizeof(*d));
	d->client = ph_strdup(s->client);
	d->user = ph_strdup(s->user);
	d->user_agent = ph_strdup(s->user_agent);
	d->browser = ph_strdup(s->browser);
	d->os = ph_strdup(s->os);
	d->first_seen = ph_strdup(s->first_seen);
	d->last_seen = ph_strdup(s->last_seen);
	d->requests = s->requests;
	d->verdict = s->verdict;
	d->findings = ph_calloc(s->nfindings, sizeof(*d->findings));
	d->nfindings = s->nfindings;
	for (size_t i = 0; i < s->nfindings; i++)
		finding_copy(&d->findings[i], &s->findings[i]);
	for (size_t i = 0; i < s->ninstances; i++)
		strv_add_unique(&d->instances, &d->ninstances, s->instances[i]);
}

/* Stops at REPORT_MAX_COUNT, the largest count a report can carry. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > REPORT_MAX_COUNT || b > REPORT_MAX_COUNT - a ? REPORT_MAX_COUNT : a + b;
}

/* Takes src into *dst when it says more: dst unknown, or src newer and
 * known. */
static void take(char **dst, const char *src, bool newer)
{
	if (!src[0] || (!newer && (*dst)[0]))
		return;
	free(*dst);
	*dst = ph_strdup(src);
}

static void merge_finding(struct report_finding *m, const struct report_finding *f, bool newer)
{
	int rm = verdict_rank(m->severity), rf = verdict_rank(f->severity);

	m->count = sat_add(m->count, f->count);
	if (rf > rm) {
		free(m->severity);
		m->severity = ph_strdup(f->severity);
	}
	for (size_t i = 0; i < f->nvendors; i++)
		strv_add_unique(&m->vendors, &m->nvendors, f->vendors[i]);
	take(&m->source, f->source, newer);
	take(&m->evidence, f->evidence, newer);
	take(&m->advice, f->advice, newer);
}

static void merge_client(struct report_client *m, const struct report_client *c)
{
	/* Decided before last_seen moves: what was seen last describes the
	 * client as it is now (its current browser, the latest evidence). */
	bool newer = time_cmp(c->last_seen, m->last_seen) >= 0;

	m->requests = sat_add(m->requests, c->requests);
	if (c->first_seen[0] && (!m->first_seen[0] || time_cmp(c->first_seen, m->first_seen) < 0)) {
		free(m->first_seen);
		m->first_seen = ph_strdup(c->first_seen);
	}
	take(&m->last_seen, c->last_seen, newer);
	take(&m->user_agent, c->user_agent, newer);
	take(&m->browser, c->browser, newer);
	take(&m->os, c->os, newer);
	if (c->verdict > m->verdict)
		m->verdict = c->verdict;
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct report_finding *f = &c->findings[i];
		size_t j;

		for (j = 0; j < m->nfindings; j++)
			if (strcmp(m->findings[j].rule, f->rule) == 0)
				break;
		if (j < m->nfindings) {
			merge_finding(&m->findings[j], f, newer);
		} else {
			m->findings = ph_realloc(m->findings, (m->nfindings + 1) * sizeof(*m->findings));
			finding_copy(&m->findings[m->nfindings++], f);
		}
	}
	for (size_t i = 0; i < c->ninstances; i++)
		strv_add_unique(&m->instances, &m->ninstances, c->instances[i]);
}

void report_merge(struct report *into, const struct report *from)
{
	size_t cap = into->nclients;

	if (!into->generated)
		into->generated = ph_strdup("");
	if (from->generated && time_cmp(from->generated, into->generated) > 0) {
		free(into->generated);
		into->generated = ph_strdup(from->generated);
	}
	for (size_t i = 0; i < from->nclients; i++) {
		const struct report_client *c = &from->clients[i];
		size_t j;

		for (j = 0; j < into->nclients; j++)
			if (strcmp(into->clients[j].client, c->client) == 0 &&
			    strcmp(into->clients[j].user, c->user) == 0)
				break;
		if (j < into->nclients) {
			merge_client(&into->clients[j], c);
			continue;
		}
		into->clients = grow(into->clients, &cap, into->nclients, sizeof(*into->clients));
		client_copy(&into->clients[into->nclients++], c);
	}
}

static int finding_order(const void *a, const void *b)
{
	const struct report_finding *x = a, *y = b;
	int rx = verdict_rank(x->severity), ry = verdict_rank(y->severity);

	if (rx != ry)
		return ry - rx;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->rule, y->rule);
}

static int client_order(const void *a, const void *b)
{
	const struct report_client *x = a, *y = b;
	int c;

	if (x->verdict != y->verdict)
		return (int)y->verdict - (int)x->verdict;
	if ((c = time_cmp(y->last_seen, x->last_seen)) != 0)
		return c;
	if ((c = strcmp(x->client, y->client)) != 0)
		return c;
	return strcmp(x->user, y->user);
}

void report_sort(struct report *r)
{
	if (r->nclients > 1)
		qsort(r->clients, r->nclients, sizeof(*r->clients), client_order);
	for (size_t i = 0; i < r->nclients; i++)
		if (r->clients[i].nfindings > 1)
			qsort(r->clients[i].findings, r->clients[i].nfindings, sizeof(*r->clients[i].findings),
			      finding_order);
}

/* ---- output ---- */

/* "" (not known) is written as null.  escape.h's JSON strings escape
 * controls, C1 and bidirectional marks as \u, so that the output is safe
 * to cat to a terminal too. */
static void sb_json_opt(struct strbuf *b, const char *s)
{
	if (s && s[0])
		esc_json_str(b, s);
	else
		strbuf_puts(b, "null");
}

static void sb_json_strv(struct strbuf *b, char *const *v, size_t n)
{
	strbuf_add(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_add(b, ",", 1);
		esc_json_str(b, v[i]);
	}
	strbuf_add(b, "]", 1);
}

char *report_to_json(const struct report *r, const struct report_instance *inst, size_t ninst, size_t *len)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "{\"generated\":");
	sb_json_opt(&b, r->generated);
	strbuf_puts(&b, ",\"instances\":[");
	for (size_t i = 0; i < ninst; i++) {
		strbuf_puts(&b, i ? ",\n{\"instance\":" : "\n{\"instance\":");
		esc_json_str(&b, inst[i].name);
		if (inst[i].error) {
			strbuf_puts(&b, ",\"error\":");
			esc_json_str(&b, inst[i].error);
		} else {
			strbuf_puts(&b, ",\"generated\":");
			sb_json_opt(&b, inst[i].generated);
			strbuf_printf(&b, ",\"clients\":%zu", inst[i].nclients);
		}
		strbuf_puts(&b, "}");
	}
	strbuf_puts(&b, "],\"clients\":[");
	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];

		strbuf_puts(&b, i ? ",\n{\"client\":" : "\n{\"client\":");
		esc_json_str(&b, c->client);
		strbuf_puts(&b, ",\"user\":");
		sb_json_opt(&b, c->user);
		strbuf_puts(&b, ",\"user_agent\":");
		sb_json_opt(&b, c->user_agent);
		strbuf_puts(&b, ",\"browser\":");
		sb_json_opt(&b, c->browser);
		strbuf_puts(&b, ",\"os\":");
		sb_json_opt(&b, c->os);
		strbuf_puts(&b, ",\"first_seen\":");
		sb_json_opt(&b, c->first_seen);
		strbuf_puts(&b, ",\"last_seen\":");
		sb_json_opt(&b, c->last_seen);
		strbuf_printf(&b, ",\"requests\":%llu,\"verdict\":\"%s\",\"findings\":[",
		              (unsigned long long)c->requests, verdict_names[c->verdict]);
		for (size_t j = 0; j < c->nfindings; j++) {
			const struct report_finding *f = &c->findings[j];

			strbuf_puts(&b, j ? ",{\"rule\":" : "{\"rule\":");
			esc_json_str(&b, f->rule);
			strbuf_puts(&b, ",\"severity\":");
			sb_json_opt(&b, f->severity);
			strbuf_puts(&b, ",\"vendors\":");
			sb_json_strv(&b, f->vendors, f->nvendors);
			strbuf_puts(&b, ",\"source\":");
			sb_json_opt(&b, f->source);
			strbuf_printf(&b, ",\"count\":%llu,\"evidence\":", (unsigned long long)f->count);
			sb_json_opt(&b, f->evidence);
			strbuf_puts(&b, ",\"advice\":");
			sb_json_opt(&b, f->advice);
			strbuf_puts(&b, "}");
		}
		strbuf_puts(&b, "],\"instances\":");
		sb_json_strv(&b, c->instances, c->ninstances);
		strbuf_puts(&b, "}");
	}
	strbuf_puts(&b, "]}\n");
	if (len)
		*len = b.len;
	return b.p;
}

/* The next character worth showing at *ps, as UTF-8 in out; 0 at the end.
 * Tabs and line breaks become a space so that a value stays on its line;
 * an invalid byte shows as '?'. */
static size_t next_visible(const unsigned char **ps, char out[4])
{
	const unsigned char *s = *ps;

	while (*s) {
		uint32_t cp;
		size_t n = esc_utf8_len(s, strnlen((const char *)s, 4), &cp);

		if (n == 0) {
			*ps = s + 1;
			out[0] = '?';
			return 1;
		}
		s += n;
		if (cp == '\t' || cp == '\n' || cp == '\r') {
			*ps = s;
			out[0] = ' ';
			return 1;
		}
		if (esc_invisible(cp))
			continue;
		memcpy(out, s - n, n);
		*ps = s;
		return n;
	}
	*ps = s;
	return 0;
}

size_t report_term_safe(const char *s, size_t maxcols, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	char ch[4];
	size_t total = 0, n, o = 0, cps = 0;

	while (next_visible(&p, ch))
		total++;
	bool cut = maxcols && total > maxcols;
	size_t limit = cut ? (maxcols > 3 ? maxcols - 3 : maxcols) : total;

	p = (const unsigned char *)s;
	while (cps < limit && (n = next_visible(&p, ch)) != 0) {
		if (o + n + 4 > outlen) {
			cut = true;
			break;
		}
		memcpy(out + o, ch, n);
		o += n;
		cps++;
	}
	if (cut && maxcols != limit && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
		cps += 3;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
	return cps;
}

/* A terminal-safe copy and its width in code points. */
struct cell {
	char *s;
	size_t w;
};

static struct cell cell_make(const char *s, size_t maxcols)
{
	struct cell c;
	size_t len = strlen(s) + 4;

	c.s = ph_realloc(NULL, len);
	c.w = report_term_safe(s, maxcols, c.s, len);
	return c;
}

static void put_cell(FILE *f, const struct cell *c, size_t width, bool right)
{
	if (right)
		fprintf(f, "%*s", (int)(width > c->w ? width - c->w : 0), "");
	fputs(c->s, f);
	if (!right)
		fprintf(f, "%*s", (int)(width > c->w ? width - c->w : 0), "");
}

enum { COL_CLIENT, COL_USER, COL_AGENT, COL_VERDICT, COL_REQUESTS, COL_LAST, NCOLS };

static const char *const col_names[NCOLS] = { "CLIENT", "USER", "BROWSER/OS", "VERDICT", "REQUESTS", "LAST SEEN" };
/* Caps that keep a row within about 120 columns: an IPv6 address fits. */
static const size_t col_max[NCOLS] = { 39, 16, 24, 8, 12, 25 };

static void row_cells(const struct report_client *c, struct cell *cells)
{
	char req[24];
	struct strbuf agent = { 0 };

	if (c->browser[0] && c->os[0])
		strbuf_printf(&agent, "%s/%s", c->browser, c->os);
	else if (c->browser[0] || c->os[0])
		strbuf_puts(&agent, c->browser[0] ? c->browser : c->os);
	else
		strbuf_puts(&agent, c->user_agent[0] ? c->user_agent : "-");
	snprintf(req, sizeof(req), "%llu", (unsigned long long)c->requests);
	cells[COL_CLIENT] = cell_make(c->client, col_max[COL_CLIENT]);
	cells[COL_USER] = cell_make(c->user[0] ? c->user : "-", col_max[COL_USER]);
	cells[COL_AGENT] = cell_make(agent.p, col_max[COL_AGENT]);
	cells[COL_VERDICT] = cell_make(verdict_names[c->verdict], 0);
	cells[COL_REQUESTS] = cell_make(req, 0);
	cells[COL_LAST] = cell_make(c->last_seen[0] ? c->last_seen : "-", col_max[COL_LAST]);
	free(agent.p);
}

static void print_findings(FILE *f, const struct report_client *c)
{
	size_t rule_w = 0;
	struct cell *rules = ph_calloc(c->nfindings, sizeof(*rules));

	for (size_t i = 0; i < c->nfindings; i++) {
		rules[i] = cell_make(c->findings[i].rule, 32);
		rule_w = rules[i].w > rule_w ? rules[i].w : rule_w;
	}
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct report_finding *fd = &c->findings[i];
		struct cell sev = cell_make(fd->severity[0] ? fd->severity : "-", 8);

		fputs("    ", f);
		put_cell(f, &rules[i], rule_w, false);
		fputs("  ", f);
		put_cell(f, &sev, 8, false);
		fprintf(f, "  x%llu", (unsigned long long)fd->count);
		for (size_t v = 0; v < fd->nvendors; v++) {
			struct cell vc = cell_make(fd->vendors[v], 24);

			fputs(v ? ", " : "  ", f);
			fputs(vc.s, f);
			free(vc.s);
		}
		fputc('\n', f);
		if (fd->evidence[0]) {
			struct cell e = cell_make(fd->evidence, 0);

			fprintf(f, "        evidence: %s\n", e.s);
			free(e.s);
		}
		/* An advice of several configuration lines: one per line. */
		for (const char *p = fd->advice, *label = "fix:"; *p; label = "    ") {
			size_t n = strcspn(p, "\n");
			char *line = ph_strndup(p, n);
			struct cell a = cell_make(line, 0);

			fprintf(f, "        %s %s\n", label, a.s);
			free(a.s);
			free(line);
			p += n;
			if (*p)
				p++;
		}
		free(sev.s);
		free(rules[i].s);
	}
	free(rules);
}

void report_print_table(FILE *f, const struct report *r, size_t ninstances_answered)
{
	size_t width[NCOLS], counts[3] = { 0 };
	struct cell *cells = ph_calloc(r->nclients * NCOLS, sizeof(*cells));

	for (int k = 0; k < NCOLS; k++)
		width[k] = strlen(col_names[k]);
	for (size_t i = 0; i < r->nclients; i++) {
		row_cells(&r->clients[i], &cells[i * NCOLS]);
		for (int k = 0; k < NCOLS; k++)
			if (cells[i * NCOLS + k].w > width[k])
				width[k] = cells[i * NCOLS + k].w;
		counts[r->clients[i].verdict]++;
	}
	if (r->nclients) {
		for (int k = 0; k < NCOLS; k++) {
			struct cell h = { (char *)col_names[k], strlen(col_names[k]) };

			if (k)
				fputs("  ", f);
			if (k == NCOLS - 1)
				fputs(h.s, f);
			else
				put_cell(f, &h, width[k], k == COL_REQUESTS);
		}
		fputc('\n', f);
	}
	bool spaced = false;

	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];
		bool detail = c->nfindings || ninstances_answered > 1;

		/* A blank line around blocks with detail lines, so that the
		 * rows stay easy to tell from their findings. */
		if (i && (detail || spaced))
			fputc('\n', f);
		for (int k = 0; k < NCOLS; k++) {
			if (k)
				fputs("  ", f);
			if (k == NCOLS - 1)
				fputs(cells[i * NCOLS + k].s, f);
			else
				put_cell(f, &cells[i * NCOLS + k], width[k], k == COL_REQUESTS);
		}
		fputc('\n', f);
		print_findings(f, c);
		if (ninstances_answered > 1) {
			fputs("    seen by", f);
			for (size_t j = 0; j < c->ninstances; j++) {
				struct cell ic = cell_make(c->instances[j], 0);

				fprintf(f, "%s%s", j ? ", " : " ", ic.s);
				free(ic.s);
			}
			fputc('\n', f);
		}
		spaced = detail;
	}
	for (size_t i = 0; i < r->nclients * NCOLS; i++)
		free(cells[i].s);
	free(cells);
	if (r->nclients)
		fputc('\n', f);
	fprintf(f, "%zu client%s: %zu breaks, %zu degraded, %zu ok\n", r->nclients, r->nclients == 1 ? "" : "s",
	        counts[REPORT_BREAKS], counts[REPORT_DEGRADED], counts[REPORT_OK]);
}

/* ---- admin URLs ---- */

struct admin_url {
	CURLU *url;        /* what is asked: scheme, host, port, PREFIX/report.json */
	char *host;        /* as curl has it ("[::1]" for IPv6) */
	char *prefix;      /* "" or "/path", no trailing '/' */
	char *user, *pass; /* NULL when not given */
	char *name;        /* "host:port/prefix", "https://" before it for https:
	                    * what messages show, never the credentials */
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void admin_url_free(struct admin_url *u)
{
	curl_url_cleanup(u->url);
	free(u->host);
	free(u->prefix);
	wipe_free(u->user);
	wipe_free(u->pass);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

/* The URL for messages: a user:password@ part is shown as "...@". */
static char *url_redacted(const char *url)
{
	const char *s = strstr(url, "://");

	s = s ? s + 3 : url;
	size_t alen = strcspn(s, "/?#");
	const char *at = memrchr(s, '@', alen);
	struct strbuf b = { 0 };

	if (!at)
		return ph_strdup(url);
	strbuf_add(&b, url, (size_t)(s - url));
	strbuf_puts(&b, "...");
	strbuf_puts(&b, at);
	return b.p;
}

/* What curl's URL parser refused, in words for the admin. */
static const char *url_error(CURLUcode rc, const char *url)
{
	const char *s = strstr(url, "://");

	s = s ? s + 3 : url;
	size_t alen = strcspn(s, "/?#");
	const char *colon = memchr(s, ':', alen);

	switch (rc) {
	case CURLUE_BAD_PORT_NUMBER:
		/* "http://::1:3129" reads as host "" and a bad port. */
		if (!memchr(s, '[', alen) && colon && memchr(colon + 1, ':', alen - (size_t)(colon + 1 - s)))
			return "an IPv6 address goes in brackets: http://[::1]:3129";
		return "the port must be a number from 1 to 65535";
	case CURLUE_BAD_IPV6:
		return "bad IPv6 address (it goes in brackets: http://[::1]:3129)";
	case CURLUE_NO_HOST:
		return "no host name";
	case CURLUE_BAD_HOSTNAME:
		return "bad character in the host name";
	case CURLUE_BAD_PATH:
		return "bad character in the path";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "bad user name or password";
	default:
		return curl_url_strerror(rc);
	}
}

/* A part of the URL as a string of ours, or NULL with *rc set. */
static char *url_part(CURLU *url, CURLUPart what, unsigned flags, CURLUcode *rc)
{
	char *p = NULL, *out;

	*rc = curl_url_get(url, what, &p, flags);
	if (*rc != CURLUE_OK)
		return NULL;
	out = ph_strdup(p);
	explicit_bzero(p, strlen(p));
	curl_free(p);
	return out;
}

/* Printable ASCII only: what a name shown in messages may hold. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* http[s]://[user:pass@]host[:port][/prefix]; the scheme may be left out
 * (http), the port too (3129).  Parsed by curl's URL parser; the
 * credentials are taken out of the URL (they go to curl as Basic's user
 * and password, and never into a message). */
static int admin_url_parse(const char *url, struct admin_url *u, char *why, size_t whylen)
{
	struct strbuf b = { 0 };
	CURLUcode rc;
	char *scheme = NULL, *port = NULL, *path = NULL, *extra = NULL;
	int ret = -1;

	memset(u, 0, sizeof(*u));
	u->url = curl_url();
	if (!u->url)
		return fail(why, whylen, "out of memory");
	if (!strstr(url, "://"))
		strbuf_puts(&b, "http://");
	strbuf_puts(&b, url);
	rc = curl_url_set(u->url, CURLUPART_URL, b.p, 0);
	wipe_free(b.p);
	memset(&b, 0, sizeof(b));
	if (rc != CURLUE_OK)
		return fail(why, whylen, "%s", url_error(rc, url));

	scheme = url_part(u->url, CURLUPART_SCHEME, 0, &rc);
	if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		fail(why, whylen, "only http:// and https:// URLs are understood");
		goto out;
	}
	if ((extra = url_part(u->url, CURLUPART_QUERY, 0, &rc)) != NULL ||
	    (extra = url_part(u->url, CURLUPART_FRAGMENT, 0, &rc)) != NULL) {
		fail(why, whylen, "a query or fragment has no place in an admin URL");
		goto out;
	}
	port = url_part(u->url, CURLUPART_PORT, 0, &rc);
	if (!port) {
		port = ph_strdup(REPORT_DEFAULT_PORT);
		curl_url_set(u->url, CURLUPART_PORT, port, 0);
	} else if (strcmp(port, "0") == 0) {
		fail(why, whylen, "the port must be a number from 1 to 65535");
		goto out;
	}

	u->user = url_part(u->url, CURLUPART_USER, CURLU_URLDECODE, &rc);
	if (rc == CURLUE_OK || rc == CURLUE_NO_USER)
		u->pass = url_part(u->url, CURLUPART_PASSWORD, CURLU_URLDECODE, &rc);
	if (rc != CURLUE_OK && rc != CURLUE_NO_USER && rc != CURLUE_NO_PASSWORD) {
		fail(why, whylen, "the user name or password holds %%00 or a control character");
		goto out;
	}
	if (u->user && !u->user[0]) {
		fail(why, whylen, "empty user name before '@'");
		goto out;
	}
	if (u->user && strchr(u->user, ':')) {
		fail(why, whylen, "the user name must not contain ':'");
		goto out;
	}
	curl_url_set(u->url, CURLUPART_USER, NULL, 0);
	curl_url_set(u->url, CURLUPART_PASSWORD, NULL, 0);

	u->host = url_part(u->url, CURLUPART_HOST, 0, &rc);
	path = url_part(u->url, CURLUPART_PATH, 0, &rc);
	if (!u->host || !printable(u->host)) {
		fail(why, whylen, "bad character in the host name");
		goto out;
	}
	if (!path || !printable(path)) {
		fail(why, whylen, "bad character in the path (give it %%-encoded)");
		goto out;
	}
	size_t plen = strlen(path);

	while (plen && path[plen - 1] == '/')
		plen--;
	u->prefix = ph_strndup(path, plen);
	strbuf_printf(&b, "%s/report.json", u->prefix);
	rc = curl_url_set(u->url, CURLUPART_PATH, b.p, 0);
	free(b.p);
	memset(&b, 0, sizeof(b));
	if (rc != CURLUE_OK) {
		fail(why, whylen, "%s", url_error(rc, url));
		goto out;
	}
	strbuf_printf(&b, "%s%s:%s%s", strcmp(scheme, "https") == 0 ? "https://" : "", u->host, port, u->prefix);
	u->name = b.p;
	ret = 0;
out:
	free(scheme);
	free(port);
	free(path);
	free(extra);
	return ret;
}

int report_admin_name(const char *url, char *name, size_t namelen, char *why, size_t whylen)
{
	struct admin_url u;
	int rc = admin_url_parse(url, &u, why, whylen);

	if (rc == 0)
		snprintf(name, namelen, "%s", u.name);
	admin_url_free(&u);
	return rc;
}

/* ---- fetching, with libcurl ---- */

static void errno_phrase(long err, char *why, size_t whylen)
{
	switch (err) {
	case ECONNREFUSED:
		snprintf(why, whylen, "connection refused");
		break;
	case ETIMEDOUT:
		snprintf(why, whylen, "no answer within %d s", REPORT_CONNECT_TIMEOUT_MS / 1000);
		break;
	case ECONNRESET:
		snprintf(why, whylen, "connection reset");
		break;
	case EHOSTUNREACH:
		snprintf(why, whylen, "host unreachable");
		break;
	case ENETUNREACH:
		snprintf(why, whylen, "network unreachable");
		break;
	default:
		snprintf(why, whylen, "%s", strerror((int)err));
		if (why[0] >= 'A' && why[0] <= 'Z')
			why[0] = (char)(why[0] + 32);
		break;
	}
}

/* One transfer's answer as the callbacks gather it. */
struct fetch {
	struct strbuf body;
	size_t head;         /* bytes of the current header */
	bool status_seen;    /* an HTTP status line came */
	char reason[128];    /* its status line's reason phrase, terminal-safe */
	const char *stopped; /* why a callback stopped the transfer */
	bool not_http;       /* it stopped at bytes that are not HTTP, */
	char first[80];      /* whose first line is this, terminal-safe */
};

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	/* "HTTP/1.1 404 Not Found": a new header (1xx ones come first). */
	if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', len);
		const char *r = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - p)) : NULL;
		size_t rl = r ? len - (size_t)(r + 1 - p) : 0;
		char tmp[128];

		while (rl && (r[rl] == '\r' || r[rl] == '\n'))
			rl--;
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(rl < 100 ? rl : 100), r ? r + 1 : "");
		report_term_safe(tmp, 60, f->reason, sizeof(f->reason));
		f->status_seen = true;
		f->head = 0;
	}
	f->head += len;
	if (f->head > REPORT_MAX_HEAD) {
		f->stopped = "answer header larger than 64 KiB";
		return 0;
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	/* Bytes before any status line: curl's HTTP/0.9, which is how
	 * something else on that port (SSH, SMTP) shows.  Its first line, for
	 * the message, and no more. */
	if (!f->status_seen) {
		char tmp[64];
		size_t k = 0;

		while (k < len && k < 40 && p[k] != '\r' && p[k] != '\n' && p[k] != '\0')
			k++;
		snprintf(tmp, sizeof(tmp), "%.*s", (int)k, p);
		report_term_safe(tmp, 40, f->first, sizeof(f->first));
		f->not_http = true;
		return 0;
	}
	/* Chunked or without a length: CURLOPT_MAXFILESIZE cannot tell. */
	if (len > REPORT_MAX_BODY - f->body.len) {
		f->stopped = "answer larger than 32 MiB";
		return 0;
	}
	strbuf_add(&f->body, p, len);
	return len;
}

/* Why curl_easy_perform failed, for the admin. */
static int transfer_failed(CURL *h, CURLcode rc, const char *errbuf, const struct fetch *f, const struct admin_url *u,
                           char *why, size_t whylen)
{
	long os_errno = 0;
	curl_off_t connected = 0;
	char detail[200], e[96];

	if (f->not_http)
		return fail(why, whylen, "not an HTTP answer (it starts with '%s'): is this the admin address?",
		            f->first);
	if (f->stopped)
		return fail(why, whylen, "%s", f->stopped);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	report_term_safe(errbuf[0] ? errbuf : curl_easy_strerror(rc), 120, detail, sizeof(detail));
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return fail(why, whylen, "cannot resolve %s", u->host);
	case CURLE_COULDNT_CONNECT:
		if (os_errno == 0)
			return fail(why, whylen, "cannot connect (%s)", detail);
		errno_phrase(os_errno, e, sizeof(e));
		return fail(why, whylen, "%s", e);
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
		if (connected == 0)
			return fail(why, whylen, "no answer within %d s", REPORT_CONNECT_TIMEOUT_MS / 1000);
		return fail(why, whylen, "no complete answer within %d s", REPORT_TIMEOUT_MS / 1000);
	case CURLE_GOT_NOTHING:
		return fail(why, whylen, "the connection was closed without an answer");
	case CURLE_PARTIAL_FILE:
		return fail(why, whylen, "answer cut short (%s)", detail);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		if (os_errno)
			errno_phrase(os_errno, e, sizeof(e));
		return fail(why, whylen, "%s: %s",
		            rc == CURLE_SEND_ERROR ? "sending the request" : "reading the answer",
		            os_errno ? e : detail);
	case CURLE_FILESIZE_EXCEEDED:
		return fail(why, whylen, "answer larger than 32 MiB");
	case CURLE_WEIRD_SERVER_REPLY:
		return fail(why, whylen, "not an HTTP answer (%s): is this the admin address?", detail);
	case CURLE_SSL_CONNECT_ERROR:
		return fail(why, whylen, "TLS handshake failed (%s): is this an https:// port?", detail);
	case CURLE_PEER_FAILED_VERIFICATION:
		return fail(why, whylen,
		            "its certificate is not trusted (%s): give the CA that signed it with --cacert FILE",
		            detail);
	case CURLE_SSL_CACERT_BADFILE:
		return fail(why, whylen, "cannot use the CA certificates of --cacert (%s)", detail);
	default:
		return fail(why, whylen, "%s", detail);
	}
}

/* The first line of a body, terminal-safe, for error messages. */
static void first_line(const char *body, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	while (k < n && k < 200 && body[k] != '\n' && body[k] != '\0')
		k++;
	char *tmp = ph_strndup(body, k);

	report_term_safe(tmp, 100, out, outlen);
	free(tmp);
	while (*out && out[strlen(out) - 1] == ' ')
		out[strlen(out) - 1] = '\0';
}

/* What an answer other than 200 says, for the admin. */
static int status_failed(CURL *h, long status, const struct fetch *f, const struct admin_url *u, char *why,
                         size_t whylen)
{
	char line[160] = "";
	const char *sp = f->reason[0] ? " " : "";

	if (f->body.len)
		first_line(f->body.p, f->body.len, line, sizeof(line));
	if (status == 401)
		return fail(why, whylen, "HTTP 401 (admin-auth: %s)",
		            u->user ? "the user name or password is wrong"
		                    : "give user:pass@ in the URL, or set PINHOLE_ADMIN_USER and "
		                      "PINHOLE_ADMIN_PASSWORD");
	if (status == 404)
		return fail(why, whylen, "HTTP 404 (no report at %s/report.json%s%s)", u->prefix, line[0] ? ": " : "",
		            line);
	if (status >= 300 && status < 400) {
		char *to = NULL, shown[200];

		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to);
		if (to) {
			char *redacted = url_redacted(to);

			report_term_safe(redacted, 100, shown, sizeof(shown));
			free(redacted);
		}
		return fail(why, whylen, "HTTP %ld%s%s (redirects are not followed%s%s)", status, sp, f->reason,
		            to ? "; it points to " : "", to ? shown : "");
	}
	return fail(why, whylen, "HTTP %ld%s%s%s%s", status, sp, f->reason, line[0] ? ": " : "", line);
}

/* GET prefix/report.json; on 200 the body is in *body.  cacert: the CA
 * certificates for https (NULL: the system's). */
static int fetch_report(const struct admin_url *u, const char *cacert, struct strbuf *body, char *why, size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct fetch f = { 0 };
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	CURL *h = curl_easy_init();
	long status = 0;
	int rc = -1;

	if (!h || !hdrs) {
		fail(why, whylen, "cannot start libcurl");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_CURLU, u->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Straight to the admin interface: a proxy from the environment
	 * (http_proxy is often this very pinhole) is not used. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* Taken to say what answered instead (on_body), never as a report. */
	curl_easy_setopt(h, CURLOPT_HTTP09_ALLOWED, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)REPORT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)REPORT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)REPORT_MAX_BODY);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pinhole-report");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (u->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, u->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, u->pass ? u->pass : "");
	}
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &f);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

	CURLcode res = curl_easy_perform(h);

	if (res != CURLE_OK) {
		transfer_failed(h, res, errbuf, &f, u, why, whylen);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		status_failed(h, status, &f, u, why, whylen);
		goto out;
	}
	*body = f.body;
	f.body.p = NULL;
	rc = 0;
out:
	free(f.body.p);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

/* ---- the command ---- */

const char *report_lib_versions(void)
{
	static char v[64];

	if (!v[0])
		snprintf(v, sizeof(v), "libcurl %s, jansson %s", curl_version_info(CURLVERSION_NOW)->version,
		         jansson_version_str());
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: pinhole report [--admin URL]... [--cacert FILE] [--json]\n"
	        "Fetches the WebRTC report (GET /report.json) from running pinhole instances and\n"
	        "prints one block per client, worst verdict first, with its findings and the fix.\n"
	        "With several --admin the reports merge: a client (address and user) seen by several\n"
	        "instances is one client, its requests and finding counts summed.\n"
	        "\n"
	        "  --admin URL    an admin interface: http://[USER:PASS@]HOST[:PORT][/PREFIX]\n"
	        "                 (default %s; PORT defaults to %s; IPv6 as\n"
	        "                 http://[::1]:3129), or https:// for one behind a TLS proxy.\n"
	        "                 Repeat it for several instances.  USER and PASS (%%-encoded)\n"
	        "                 answer `admin-auth`; without them PINHOLE_ADMIN_USER and\n"
	        "                 PINHOLE_ADMIN_PASSWORD are used, which keeps the password out\n"
	        "                 of the process list.  Proxy variables (http_proxy...) are not\n"
	        "                 used, and redirects are not followed.\n"
	        "  --cacert FILE  the CA certificates (PEM) that https:// admin interfaces'\n"
	        "                 certificates are checked against, instead of the system's\n"
	        "  --json         print the merged report as JSON (the /report.json shape, plus\n"
	        "                 \"instances\": who answered, and who saw each client)\n"
	        "  -h, --help     this text\n"
	        "\n"
	        "Exit status: 0 no client breaks (some may be degraded), 1 at least one client\n"
	        "breaks, 2 no instance answered or the command line is wrong.  When some instances\n"
	        "answer and others do not, the report shows those that did and a warning on\n"
	        "standard error names each that did not.\n",
	        REPORT_DEFAULT_ADMIN, REPORT_DEFAULT_PORT);
}

struct instance_state {
	struct admin_url url;
	struct report rep;
	char error[512];
	bool ok;
};

/* Fetches and reads one instance's report into st->rep. */
static void ask(struct instance_state *st, const char *cacert)
{
	struct strbuf body = { 0 };
	char why[400];

	if (fetch_report(&st->url, cacert, &body, why, sizeof(why)) < 0) {
		snprintf(st->error, sizeof(st->error), "%s", why);
		free(body.p);
		return;
	}
	int rc = report_read(body.p, body.len, st->url.name, &st->rep, why, sizeof(why));

	free(body.p);
	if (rc < 0)
		snprintf(st->error, sizeof(st->error), "not a pinhole report (%s)", why);
	else
		st->ok = true;
}

int report_main(int argc, char **argv)
{
	const char **urls = ph_calloc((size_t)argc + 1, sizeof(*urls));
	const char *cacert = NULL;
	size_t nurls = 0, nst = 0, nok = 0;
	bool json = false;
	int status = 2;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--admin") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pinhole report: %s needs a URL, e.g. %s\n", a, REPORT_DEFAULT_ADMIN);
				goto out_urls;
			}
			urls[nurls++] = argv[++i];
		} else if (strncmp(a, "--admin=", 8) == 0) {
			urls[nurls++] = a + 8;
		} else if (strcmp(a, "--cacert") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pinhole report: --cacert needs a file of CA certificates (PEM)\n");
				goto out_urls;
			}
			cacert = argv[++i];
		} else if (strncmp(a, "--cacert=", 9) == 0) {
			cacert = a + 9;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			status = 0;
			goto out_urls;
		} else {
			char *shown = url_redacted(a);

			fprintf(stderr, "pinhole report: unexpected argument '%s'%s\n", shown,
			        strstr(a, "://") ? " (give URLs with --admin)" : "");
			free(shown);
			usage(stderr);
			goto out_urls;
		}
	}
	if (cacert && access(cacert, R_OK) != 0) {
		fprintf(stderr, "pinhole report: --cacert %s: %s\n", cacert, strerror(errno));
		goto out_urls;
	}
	bool asked_default = nurls == 0;

	if (asked_default)
		urls[nurls++] = REPORT_DEFAULT_ADMIN;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "pinhole report: cannot initialise libcurl\n");
		goto out_urls;
	}

	struct instance_state *st = ph_calloc(nurls, sizeof(*st));

	for (size_t i = 0; i < nurls; i++) {
		char why[300];

		if (admin_url_parse(urls[i], &st[nst].url, why, sizeof(why)) < 0) {
			char *shown = url_redacted(urls[i]);

			fprintf(stderr, "pinhole report: --admin %s: %s\n", shown, why);
			free(shown);
			admin_url_free(&st[nst].url);
			goto out;
		}
		bool dup = false;

		for (size_t j = 0; j < nst; j++)
			dup = dup || strcmp(st[j].url.name, st[nst].url.name) == 0;
		if (dup) {
			fprintf(stderr, "pinhole report: warning: %s given twice; asked once\n", st[nst].url.name);
			admin_url_free(&st[nst].url);
			continue;
		}
		if (!st[nst].url.user && getenv("PINHOLE_ADMIN_USER") && getenv("PINHOLE_ADMIN_USER")[0])
			st[nst].url.user = ph_strdup(getenv("PINHOLE_ADMIN_USER"));
		if (st[nst].url.user && !st[nst].url.pass && getenv("PINHOLE_ADMIN_PASSWORD"))
			st[nst].url.pass = ph_strdup(getenv("PINHOLE_ADMIN_PASSWORD"));
		nst++;
	}

	struct report merged = { 0 };
	struct report_instance *inst = ph_calloc(nst, sizeof(*inst));

	for (size_t i = 0; i < nst; i++) {
		ask(&st[i], cacert);
		inst[i].name = st[i].url.name;
		if (st[i].ok) {
			report_merge(&merged, &st[i].rep);
			inst[i].generated = st[i].rep.generated;
			inst[i].nclients = st[i].rep.nclients;
			nok++;
		} else {
			inst[i].error = st[i].error;
		}
	}
	for (size_t i = 0; i < nst; i++)
		if (!st[i].ok)
			fprintf(stderr, "pinhole report: %s%s: %s\n", nok ? "warning: " : "", st[i].url.name,
			        st[i].error);
	if (nok == 0) {
		fprintf(stderr, "pinhole report: no instance answered%s\n",
		        asked_default ? " (is pinhole running with `admin 127.0.0.1:3129`? else give --admin URL)"
		                      : "");
	} else {
		report_sort(&merged);
		if (json) {
			size_t len;
			char *text = report_to_json(&merged, inst, nst, &len);

			fwrite(text, 1, len, stdout);
			free(text);
		} else {
			report_print_table(stdout, &merged, nok);
		}
		status = 0;
		for (size_t i = 0; i < merged.nclients; i++)
			if (merged.clients[i].verdict == REPORT_BREAKS)
				status = 1;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "pinhole report: cannot write the report: %s\n", strerror(errno));
			status = 2;
		}
	}
	free(inst);
	report_free(&merged);
out:
	for (size_t i = 0; i < nst; i++) {
		report_free(&st[i].rep);
		admin_url_free(&st[i].url);
	}
	free(st);
	curl_global_cleanup();
out_urls:
	free(urls);
	return status;
}
