/*
 * test_report_cli.c - unit tests for report_cli.c: the strict JSON reader
 * (values, escapes, refusals with their offsets, the depth limit), reading
 * a report, merging two instances' reports, the JSON and table output, and
 * the command-line refusals that need no network.
 */
#include "report_cli.h"
#include "unit.h"

#include <stdlib.h>

static struct report_json *parse(const char *s, size_t n)
{
	return report_parse_json(s, n, NULL, NULL);
}

/* s must be refused at byte at with a reason mentioning phrase. */
static void check_refused(const char *s, size_t n, size_t at, const char *phrase)
{
	size_t err_at = 12345;
	const char *why = NULL;
	struct report_json *v = report_parse_json(s, n, &err_at, &why);

	CHECK(v == NULL);
	if (v) {
		fprintf(stderr, "  accepted: %.*s\n", (int)n, s);
		report_json_free(v);
		return;
	}
	CHECK_INT(err_at, at);
	CHECK_WHY(why, phrase);
}

/* s parses to one string whose bytes are want[0..wlen). */
static void check_string(const char *s, size_t n, const char *want, size_t wlen)
{
	struct report_json *v = parse(s, n);

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_INT(v->type, RJ_STRING);
	CHECK_INT(v->n, wlen);
	CHECK(v->type == RJ_STRING && v->n == wlen && memcmp(v->u.str, want, wlen) == 0);
	CHECK(v->type == RJ_STRING && v->u.str[v->n] == '\0');
	report_json_free(v);
}

static void check_number(const char *s, double want)
{
	struct report_json *v = parse(s, strlen(s));

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_INT(v->type, RJ_NUMBER);
	CHECK(v->u.num == want);
	report_json_free(v);
}

static void test_values(void)
{
	struct report_json *v = parse(B(" {\"a\": [1, true, false, null, \"x\", {}, []], \"b\": {\"c\": -2.5}}\n"));

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_INT(v->type, RJ_OBJECT);
	CHECK_INT(v->n, 2);
	const struct report_json *a = report_json_get(v, "a");

	CHECK(a && a->type == RJ_ARRAY && a->n == 7);
	if (a && a->n == 7) {
		CHECK_INT(a->u.items[0].type, RJ_NUMBER);
		CHECK_INT(a->u.items[1].type, RJ_TRUE);
		CHECK_INT(a->u.items[2].type, RJ_FALSE);
		CHECK_INT(a->u.items[3].type, RJ_NULL);
		CHECK_STR(a->u.items[4].u.str, "x");
		CHECK(a->u.items[5].type == RJ_OBJECT && a->u.items[5].n == 0);
		CHECK(a->u.items[6].type == RJ_ARRAY && a->u.items[6].n == 0);
	}
	const struct report_json *c = report_json_get(report_json_get(v, "b"), "c");

	CHECK(c && c->type == RJ_NUMBER && c->u.num == -2.5);
	CHECK(report_json_get(v, "nope") == NULL);
	CHECK(report_json_get(a, "a") == NULL);
	report_json_free(v);

	/* a repeated key: the last one counts, as in Python and jq */
	v = parse(B("{\"k\":1,\"k\":2}"));
	CHECK(v && report_json_get(v, "k") && report_json_get(v, "k")->u.num == 2);
	report_json_free(v);

	v = parse(B("null"));
	CHECK(v && v->type == RJ_NULL);
	report_json_free(v);
}

static void test_strings(void)
{
	check_string(B("\"\""), "", 0);
	check_string(B("\"plain\""), B("plain"));
	check_string(B("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), B("\" \\ / \b \f \n \r \t"));
	check_string(B("\"\\u00e9\\u00E9\""), B("\xc3\xa9\xc3\xa9"));
	check_string(B("\"\\u20ac\""), B("\xe2\x82\xac"));
	check_string(B("\"\\u0041\\u007f\\u0080\\u07ff\\u0800\\uffff\""),
	             B("A\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"));
	check_string(B("\"\\ud83d\\ude00\""), B("\xf0\x9f\x98\x80"));
	check_string(B("\"\\uDBFF\\uDFFF\""), B("\xf4\x8f\xbf\xbf"));
	check_string(B("\"a\\u0000b\""), B("a\0b"));
	check_string(B("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
	             B("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));

	check_refused(B("\"\\ud83d\""), 1, "lone high surrogate");
	check_refused(B("\"\\ud83dx\""), 1, "lone high surrogate");
	check_refused(B("\"\\ud83d\\u0041\""), 1, "lone high surrogate");
	check_refused(B("\"\\ude00\""), 1, "lone low surrogate");
	check_refused(B("\"\\u12\""), 1, "four hex digits");
	check_refused(B("\"\\u12g4\""), 1, "four hex digits");
	check_refused(B("\"\\x\""), 1, "unknown escape");
	check_refused(B("\"\\'\""), 1, "unknown escape");
	check_refused(B("\"a\nb\""), 2, "control character");
	check_refused(B("\"a\tb\""), 2, "control character");
	check_refused(B("\"\x01\""), 1, "control character");
	check_refused(B("\"\xc0\x80\""), 1, "invalid UTF-8");         /* overlong NUL */
	check_refused(B("\"\xe0\x80\xaf\""), 1, "invalid UTF-8");     /* overlong '/' */
	check_refused(B("\"\xed\xa0\x80\""), 1, "invalid UTF-8");     /* encoded surrogate */
	check_refused(B("\"\xf4\x90\x80\x80\""), 1, "invalid UTF-8"); /* past U+10FFFF */
	check_refused(B("\"\xf5\x80\x80\x80\""), 1, "invalid UTF-8");
	check_refused(B("\"\xff\""), 1, "invalid UTF-8");
	check_refused(B("\"\x80\""), 1, "invalid UTF-8");
	check_refused(B("\"ab\xc3\""), 3, "invalid UTF-8"); /* cut by the quote */
	check_refused(B("\"abc"), 0, "unterminated string");
	check_refused(B("\"abc\\"), 0, "unterminated string");
	check_refused(B("\"abc\\\""), 0, "unterminated string");
}

static void test_numbers(void)
{
	check_number("0", 0);
	check_number("-0", 0);
	check_number("42", 42);
	check_number("-17", -17);
	check_number("3.25", 3.25);
	check_number("-1.5e3", -1500);
	check_number("1E+2", 100);
	check_number("25e-2", 0.25);
	check_number("9007199254740993", 9007199254740992.0);
	check_number("1e-400", 0);

	check_refused(B("01"), 1, "leading zero");
	check_refused(B("-01"), 2, "leading zero");
	check_refused(B("1."), 2, "after '.'");
	check_refused(B("1.e5"), 2, "after '.'");
	check_refused(B(".5"), 0, "unexpected character");
	check_refused(B("-"), 1, "digit expected");
	check_refused(B("-a"), 1, "digit expected");
	check_refused(B("+1"), 0, "unexpected character");
	check_refused(B("1e"), 2, "exponent");
	check_refused(B("1e+"), 3, "exponent");
	check_refused(B("NaN"), 0, "unexpected character");
	check_refused(B("Infinity"), 0, "unexpected character");
	check_refused(B("-Infinity"), 1, "digit expected");
	check_refused(B("1e400"), 0, "out of range");
	check_refused(B("[0, -1e999]"), 4, "out of range");
	check_refused(B("0x10"), 1, "more text");

	char big[1100];

	memset(big, '1', sizeof(big));
	check_refused(big, sizeof(big), 0, "longer than 1024");
}

static void test_structure_refusals(void)
{
	check_refused(B(""), 0, "unexpected end");
	check_refused(B("   \n"), 4, "unexpected end");
	check_refused(B("1 2"), 2, "more text");
	check_refused(B("{} x"), 3, "more text");
	check_refused(B("\xef\xbb\xbf{}"), 0, "unexpected character"); /* BOM */
	check_refused(B("[1,]"), 3, "trailing comma");
	check_refused(B("[1 2]"), 3, "',' or ']'");
	check_refused(B("[1,"), 3, "unexpected end");
	check_refused(B("["), 1, "unexpected end");
	check_refused(B("[1"), 2, "unterminated array");
	check_refused(B("{"), 1, "unterminated object");
	check_refused(B("{\"a\":1,}"), 7, "string key expected");
	check_refused(B("{\"a\":1"), 6, "unterminated object");
	check_refused(B("{\"a\" 1}"), 5, "':' expected");
	check_refused(B("{\"a\":}"), 5, "trailing comma");
	check_refused(B("{1:2}"), 1, "string key expected");
	check_refused(B("{'a':1}"), 1, "string key expected");
	check_refused(B("{\"a\":1 \"b\":2}"), 7, "',' or '}'");
	check_refused(B("tru"), 0, "unexpected character");
	check_refused(B("nulll"), 4, "more text");
	check_refused(B("True"), 0, "unexpected character");
	check_refused(B("[1]\0"), 3, "more text");
	check_refused(B("\0"), 0, "unexpected character");
	check_refused(NULL, 0, 0, "unexpected end");
}

static void test_depth(void)
{
	char doc[2 * 70 + 1];
	struct report_json *v;

	/* 64 levels parse; the 65th is refused where it opens */
	for (int levels = 63; levels <= 66; levels++) {
		for (int i = 0; i < levels; i++) {
			doc[i] = '[';
			doc[levels + i] = ']';
		}
		size_t err_at = 0;
		const char *why = NULL;

		v = report_parse_json(doc, (size_t)levels * 2, &err_at, &why);
		if (levels <= REPORT_JSON_MAX_DEPTH) {
			CHECK(v != NULL);
		} else {
			CHECK(v == NULL);
			CHECK_INT(err_at, REPORT_JSON_MAX_DEPTH);
			CHECK_WHY(why, "nested deeper than 64");
		}
		report_json_free(v);
	}
	/* objects count the same, mixed with arrays */
	struct sbuf_like {
		char p[1024];
		size_t n;
	} b = { .n = 0 };

	for (int i = 0; i < 65; i++)
		b.n += (size_t)snprintf(b.p + b.n, sizeof(b.p) - b.n, i % 2 ? "[" : "{\"k\":");
	check_refused(b.p, b.n, b.n - 5, "nested deeper");

	/* a deep document far past the limit does not exhaust the stack */
	size_t n = 1 << 20;
	char *deep = malloc(n);

	memset(deep, '[', n);
	check_refused(deep, n, REPORT_JSON_MAX_DEPTH, "nested deeper");
	free(deep);
}

static const char REPORT_A[] =
        "{\"generated\":\"2026-11-21T10:00:00Z\",\"clients\":["
        "{\"client\":\"10.0.0.5\",\"user\":\"alice\",\"user_agent\":\"Mozilla/5.0 (Windows) Chrome/131\","
        "\"browser\":\"Chrome 131\",\"os\":\"Windows\",\"first_seen\":\"2026-11-21T09:00:00Z\","
        "\"last_seen\":\"2026-11-21T10:00:00Z\",\"requests\":42,\"verdict\":\"degraded\",\"findings\":["
        "{\"rule\":\"auth-required\",\"severity\":\"degraded\",\"vendors\":[\"tokbox\"],\"source\":\"TOKBOX\","
        "\"count\":3,\"evidence\":\"407 on CONNECT api.opentok.com:443 at 09:59:01\","
        "\"advice\":\"noauth domain .tokbox.com .opentok.com\"}]},"
        "{\"client\":\"10.0.0.7\",\"user\":null,\"browser\":\"Firefox 133\",\"os\":\"Linux\","
        "\"last_seen\":\"2026-11-21T09:30:00Z\",\"requests\":5,\"verdict\":\"ok\",\"findings\":[]}]}";

/* Seen later, with a UTC offset, by another instance. */
static const char REPORT_B[] =
        "{\"generated\":\"2026-11-21T11:05:00+01:00\",\"clients\":["
        "{\"client\":\"10.0.0.5\",\"user\":\"alice\",\"user_agent\":\"Mozilla/5.0 (Windows) Chrome/132\","
        "\"browser\":\"Chrome 132\",\"os\":\"Windows\",\"first_seen\":\"2026-11-21T08:30:00Z\","
        "\"last_seen\":\"2026-11-21T11:04:00+01:00\",\"requests\":10,\"verdict\":\"breaks\",\"findings\":["
        "{\"rule\":\"turn-over-tcp\",\"severity\":\"degraded\",\"vendors\":[\"webex\"],\"count\":1,"
        "\"evidence\":\"TURN over TCP to 1.2.3.4:443\",\"advice\":\"allow port 3478\"},"
        "{\"rule\":\"auth-required\",\"severity\":\"breaks\",\"vendors\":[\"webex\",\"tokbox\"],\"count\":2,"
        "\"evidence\":\"407 on CONNECT api.opentok.com:443 at 10:03:30\",\"advice\":\"\"}]},"
        "{\"client\":\"10.0.0.5\",\"user\":\"bob\",\"verdict\":\"ok\"},"
        "{\"client\":\"10.0.0.9\",\"user\":\"carol\",\"browser\":\"Evil\\u001b]0;pwned\\u0007\\u202e\","
        "\"os\":\"iOS\",\"last_seen\":\"2026-11-21T10:01:00Z\",\"requests\":7,\"verdict\":\"degraded\","
        "\"findings\":[{\"rule\":\"ios-behind-proxy\",\"severity\":\"degraded\",\"count\":1}]}]}";

static void load(const char *text, const char *instance, struct report *r)
{
	char why[200] = "";
	struct report_json *doc = parse(text, strlen(text));

	CHECK(doc != NULL);
	CHECK_INT(report_from_json(doc, instance, r, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "  %s\n", why);
	report_json_free(doc);
}

static void check_not_report(const char *text, const char *phrase)
{
	char why[200] = "";
	struct report r;
	struct report_json *doc = parse(text, strlen(text));

	CHECK(doc != NULL);
	CHECK_INT(report_from_json(doc, "x", &r, why, sizeof(why)), -1);
	const char *said = why;

	CHECK_WHY(said, phrase);
	CHECK(r.nclients == 0 && r.clients == NULL);
	report_json_free(doc);
}

static void test_read_report(void)
{
	struct report r;

	load(REPORT_A, "a:1", &r);
	CHECK_INT(r.nclients, 2);
	CHECK_STR(r.generated, "2026-11-21T10:00:00Z");
	if (r.nclients == 2) {
		CHECK_STR(r.clients[0].client, "10.0.0.5");
		CHECK_INT(r.clients[0].requests, 42);
		CHECK_INT(r.clients[0].verdict, REPORT_DEGRADED);
		CHECK_INT(r.clients[0].nfindings, 1);
		CHECK_INT(r.clients[0].findings[0].count, 3);
		CHECK_STR(r.clients[0].findings[0].vendors[0], "tokbox");
		CHECK_STR(r.clients[1].user, "");
		CHECK_STR(r.clients[1].first_seen, "");
		CHECK_INT(r.clients[1].ninstances, 1);
		CHECK_STR(r.clients[1].instances[0], "a:1");
	}
	report_free(&r);

	check_not_report("[]", "not a JSON object");
	check_not_report("{\"clients\":{}}", "no \"clients\" array");
	check_not_report("{\"generated\":1,\"clients\":[]}", "\"generated\" is not a string");
	check_not_report("{\"clients\":[1]}", "clients[0] is not an object");
	check_not_report("{\"clients\":[{\"verdict\":\"ok\"}]}", "clients[0]: no \"client\"");
	check_not_report("{\"clients\":[{\"client\":\"\",\"verdict\":\"ok\"}]}", "\"client\" is empty");
	check_not_report("{\"clients\":[{\"client\":\"a\"}]}", "no \"verdict\"");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"fine\"}]}", "verdict 'fine' is not");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"\\u001b[2Jx\"}]}", "verdict '[2Jx' is not");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":-1}]}", "whole number");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":1.5}]}", "whole number");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":1e300}]}", "whole number");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":\"3\"}]}", "whole number");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"user\":7,\"verdict\":\"ok\"}]}",
	                 "\"user\" is not a string");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"findings\":{}}]}",
	                 "\"findings\" is not an array");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"findings\":[{\"count\":1}]}]}",
	                 "clients[0].findings[0]: no \"rule\"");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"findings\":[{\"rule\":\"r\","
	                 "\"vendors\":[1]}]}]}",
	                 "vendors[0] is not a string");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"findings\":[{\"rule\":\"r\","
	                 "\"severity\":\"fatal\"}]}]}",
	                 "severity 'fatal'");
	/* a bad second client frees the first */
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"findings\":[{\"rule\":\"r\"}]},"
	                 "{\"client\":\"b\",\"verdict\":\"ok\",\"findings\":[{\"rule\":\"r\"},{}]}]}",
	                 "clients[1].findings[1]: no \"rule\"");
}

static void test_merge(void)
{
	struct report a, b, m = { 0 };

	load(REPORT_A, "127.0.0.1:1", &a);
	load(REPORT_B, "127.0.0.1:2", &b);
	report_merge(&m, &a);
	report_merge(&m, &b);
	report_sort(&m);

	/* generated: the later of 10:00Z and 11:05+01:00 (= 10:05Z) */
	CHECK_STR(m.generated, "2026-11-21T11:05:00+01:00");
	CHECK_INT(m.nclients, 4);
	if (m.nclients != 4)
		goto out;
	const struct report_client *alice = &m.clients[0];

	CHECK_STR(alice->client, "10.0.0.5");
	CHECK_STR(alice->user, "alice");
	CHECK_INT(alice->verdict, REPORT_BREAKS);
	CHECK_INT(alice->requests, 52);
	CHECK_STR(alice->first_seen, "2026-11-21T08:30:00Z");
	CHECK_STR(alice->last_seen, "2026-11-21T11:04:00+01:00");
	CHECK_STR(alice->browser, "Chrome 132");
	CHECK_INT(alice->ninstances, 2);
	CHECK_INT(alice->nfindings, 2);
	if (alice->nfindings == 2) {
		const struct report_finding *f = &alice->findings[0];

		CHECK_STR(f->rule, "auth-required");
		CHECK_STR(f->severity, "breaks");
		CHECK_INT(f->count, 5);
		CHECK_INT(f->nvendors, 2);
		CHECK_STR(f->vendors[0], "tokbox");
		CHECK_STR(f->vendors[1], "webex");
		CHECK_STR(f->evidence, "407 on CONNECT api.opentok.com:443 at 10:03:30");
		/* the newer entry gave no advice: the older one's stays */
		CHECK_STR(f->advice, "noauth domain .tokbox.com .opentok.com");
		CHECK_STR(f->source, "TOKBOX");
		CHECK_STR(alice->findings[1].rule, "turn-over-tcp");
	}
	/* then degraded, then ok: most recently seen first */
	CHECK_STR(m.clients[1].client, "10.0.0.9");
	CHECK_INT(m.clients[1].verdict, REPORT_DEGRADED);
	CHECK_STR(m.clients[2].client, "10.0.0.7");
	CHECK_STR(m.clients[3].user, "bob"); /* never seen: last */

	/* in the other order: the same sums, and still the newest evidence */
	struct report m2 = { 0 };

	report_merge(&m2, &b);
	report_merge(&m2, &a);
	report_sort(&m2);
	CHECK_INT(m2.nclients, 4);
	CHECK_INT(m2.clients[0].requests, 52);
	CHECK_STR(m2.clients[0].first_seen, "2026-11-21T08:30:00Z");
	CHECK_STR(m2.clients[0].last_seen, "2026-11-21T11:04:00+01:00");
	CHECK_STR(m2.clients[0].browser, "Chrome 132");
	CHECK_STR(m2.clients[0].findings[0].evidence, "407 on CONNECT api.opentok.com:443 at 10:03:30");
	CHECK_STR(m2.clients[0].findings[0].advice, "noauth domain .tokbox.com .opentok.com");
	CHECK_STR(m2.clients[0].findings[0].severity, "breaks");
	CHECK_INT(m2.clients[0].findings[0].count, 5);
	char *j1 = report_to_json(&m, NULL, 0, NULL);

	/* the JSON output parses back to the same report */
	struct report_instance inst[2] = { { "127.0.0.1:1", "2026-11-21T10:00:00Z", 2, NULL },
		                           { "127.0.0.1:3", NULL, 0, "connection refused" } };
	size_t len;
	char *j = report_to_json(&m, inst, 2, &len);
	size_t at;
	const char *why;
	struct report_json *doc = report_parse_json(j, len, &at, &why);

	CHECK(doc != NULL);
	CHECK(j[len - 1] == '\n');
	CHECK(strstr(j, "\\u001b") != NULL && strchr(j, 0x1b) == NULL);
	CHECK(strstr(j, "\\u202e") != NULL);
	CHECK(strstr(j, "\"error\":\"connection refused\"") != NULL);
	CHECK(strstr(j, "\"user\":null") != NULL);
	const struct report_json *is = report_json_get(doc, "instances");

	CHECK(is && is->type == RJ_ARRAY && is->n == 2);
	struct report back;
	char rwhy[200];

	CHECK_INT(report_from_json(doc, NULL, &back, rwhy, sizeof(rwhy)), 0);
	char *j3 = report_to_json(&back, NULL, 0, NULL);

	CHECK_STR(j3, j1);
	free(j3);
	free(j1);
	report_free(&back);
	report_json_free(doc);
	free(j);

	/* the table: no escape bytes, the summary line, the findings */
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);

	report_print_table(f, &m, 2);
	fclose(f);
	CHECK(strchr(text, 0x1b) == NULL && strchr(text, 0x07) == NULL);
	CHECK(strstr(text, "\xe2\x80\xae") == NULL);
	CHECK(strstr(text, "Evil]0;pwned/iOS") != NULL);
	CHECK(strstr(text, "4 clients: 1 breaks, 1 degraded, 2 ok\n") != NULL);
	CHECK(strstr(text, "    auth-required  breaks    x5  tokbox, webex\n") != NULL);
	CHECK(strstr(text, "        evidence: 407 on CONNECT api.opentok.com:443 at 10:03:30\n") != NULL);
	CHECK(strstr(text, "        fix: noauth domain .tokbox.com .opentok.com\n") != NULL);
	CHECK(strstr(text, "    seen by 127.0.0.1:1, 127.0.0.1:2\n") != NULL);
	const char *head = "CLIENT    USER   BROWSER/OS          VERDICT   REQUESTS  LAST SEEN\n";

	CHECK(strncmp(text, head, strlen(head)) == 0);
	if (unit_failures)
		fputs(text, stderr);
	free(text);
	report_free(&m2);
out:
	report_free(&m);
	report_free(&a);
	report_free(&b);
}

/* An advice of several configuration lines prints one line each, and the
 * fields the report adds (summary, user_agents, advice_kind) are read past. */
static void test_advice_lines(void)
{
	static const char doc_text[] =
	        "{\"generated\":\"2026-11-21T10:00:00Z\",\"summary\":{\"clients\":1,\"breaks\":1,\"degraded\":0,"
	        "\"ok\":0,\"top_findings\":[],\"advice_before\":\"pinhole.conf:5\"},\"clients\":[{\"client\":"
	        "\"10.0.0.5\",\"user\":\"\",\"user_agent\":\"\",\"browser\":\"Firefox 128\",\"os\":\"Linux\","
	        "\"user_agents\":[{\"user_agent\":\"x\",\"browser\":\"Firefox 128\",\"os\":\"Linux\","
	        "\"last_seen\":\"2026-11-21T10:00:00Z\"}],\"first_seen\":\"2026-11-21T10:00:00Z\","
	        "\"last_seen\":\"2026-11-21T10:00:00Z\",\"requests\":1,\"verdict\":\"breaks\",\"findings\":[{"
	        "\"rule\":\"auth-required\",\"severity\":\"breaks\",\"vendors\":[],\"source\":\"MEASURED\","
	        "\"count\":1,\"evidence\":\"407 on CONNECT turn.example.org:5349\",\"advice\":\"allow domain "
	        "turn.example.org port 5349\\nnoauth domain turn.example.org port "
	        "5349\",\"advice_kind\":\"config\"}]}]}";
	size_t at;
	const char *why;
	char rwhy[200], *text = NULL;
	size_t tlen = 0;
	struct report r;
	struct report_json *doc = report_parse_json(doc_text, strlen(doc_text), &at, &why);
	FILE *f;

	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_INT(report_from_json(doc, NULL, &r, rwhy, sizeof(rwhy)), 0);
	f = open_memstream(&text, &tlen);
	report_print_table(f, &r, 1);
	fclose(f);
	CHECK(strstr(text, "        fix: allow domain turn.example.org port 5349\n"
	                   "             noauth domain turn.example.org port 5349\n") != NULL);
	if (unit_failures)
		fputs(text, stderr);
	free(text);
	report_free(&r);
	report_json_free(doc);
}

static void test_term_safe(void)
{
	char out[64];

	CHECK_INT(report_term_safe("plain", 0, out, sizeof(out)), 5);
	CHECK_STR(out, "plain");
	report_term_safe("a\x1b[31mb\x07\x7f", 0, out, sizeof(out));
	CHECK_STR(out, "a[31mb");
	report_term_safe("line\r\nnext\ttab", 0, out, sizeof(out));
	CHECK_STR(out, "line  next tab");
	report_term_safe("c1\xc2\x9b"
	                 "31m",
	                 0, out, sizeof(out)); /* U+009B CSI */
	CHECK_STR(out, "c131m");
	report_term_safe("rtl\xe2\x80\xae"
	                 "gpj.exe",
	                 0, out, sizeof(out));
	CHECK_STR(out, "rtlgpj.exe");
	report_term_safe("bad\xff\xc3", 0, out, sizeof(out));
	CHECK_STR(out, "bad??");
	CHECK_INT(report_term_safe("caf\xc3\xa9", 0, out, sizeof(out)), 4);
	CHECK_STR(out, "caf\xc3\xa9");
	CHECK_INT(report_term_safe("abcdefghij", 8, out, sizeof(out)), 8);
	CHECK_STR(out, "abcde...");
	CHECK_INT(report_term_safe("abcdefgh", 8, out, sizeof(out)), 8);
	CHECK_STR(out, "abcdefgh");
	CHECK_INT(report_term_safe("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, out, sizeof(out)), 4);
	CHECK_STR(out, "\xc3\xa9...");
	/* a small buffer cuts at a character, never inside one */
	report_term_safe("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 0, out, 9);
	CHECK(strlen(out) < 9);
	CHECK_STR(out, "\xe2\x82\xac...");
}

/* What needs no network: usage errors exit 2 and never echo a password. */
static void test_command_line(void)
{
	char *argv[8];

	argv[0] = "report";
	argv[1] = "--help";
	CHECK_INT(report_main(2, argv), 0);
	argv[1] = "--admin";
	CHECK_INT(report_main(2, argv), 2);
	argv[1] = "--bogus";
	CHECK_INT(report_main(2, argv), 2);
	argv[1] = "--admin";
	const char *bad[] = {
		"https://127.0.0.1:3129",
		"ftp://127.0.0.1",
		"http://::1:3129",
		"http://[::1:3129",
		"http://[::1]x",
		"http://127.0.0.1:0",
		"http://127.0.0.1:65536",
		"http://127.0.0.1:",
		"http://127.0.0.1:31a9",
		"http://",
		"http://user:p%zzw@127.0.0.1",
		"http://us%3Aer:pw@127.0.0.1",
		"http://u:p%00@127.0.0.1",
		"http://:pw@127.0.0.1",
		"http://127.0.0.1/report?x=1",
		"http://exa mple/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[2] = (char *)bad[i];
		int rc = report_main(3, argv);

		CHECK_INT(rc, 2);
		if (rc != 2)
			fprintf(stderr, "  accepted %s\n", bad[i]);
	}
}

int main(void)
{
	test_values();
	test_strings();
	test_numbers();
	test_structure_refusals();
	test_depth();
	test_read_report();
	test_merge();
	test_advice_lines();
	test_term_safe();
	test_command_line();
	return unit_summary("test_report_cli");
}
