/*
 * test_report_cli.c - unit tests for report_cli.c: what it asks of
 * jansson (strict JSON, bounded nesting and memory, errors where they
 * are), reading a report, merging two instances' reports, the JSON and
 * table output, --admin URLs, and the command-line refusals that need no
 * network (the fetching is tested against real servers by the scenarios
 * report-cli-*.sh).
 */
#include "report_cli.h"
#include "unit.h"

#include <stdlib.h>

/* s must be refused as a report with a reason mentioning phrase; nothing
 * is left in the report. */
static void check_refused(const char *s, size_t n, const char *phrase)
{
	char why[300] = "";
	struct report r;

	const char *said = why;

	CHECK_INT(report_read(s, n, "x", &r, why, sizeof(why)), -1);
	CHECK_WHY(said, phrase);
	CHECK(r.nclients == 0 && r.clients == NULL && r.generated == NULL);
	if (!unit_contains(why, phrase))
		fprintf(stderr, "  for: %.*s\n", (int)(n > 80 ? 80 : n), s);
	report_free(&r);
}

/* The JSON text v as the report's "generated": refused with phrase. */
static void check_value_refused(const char *v, const char *phrase)
{
	char doc[200];
	int n = snprintf(doc, sizeof(doc), "{\"clients\":[],\"generated\":%s}", v);

	check_refused(doc, (size_t)n, phrase);
}

/* The JSON string literal v as "generated" reads as the bytes want. */
static void check_string(const char *v, const char *want)
{
	char doc[200], why[200] = "";
	int n = snprintf(doc, sizeof(doc), "{\"clients\":[],\"generated\":%s}", v);
	struct report r;

	CHECK_INT(report_read(doc, (size_t)n, NULL, &r, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "  %s: %s\n", v, why);
	CHECK_STR(r.generated, want);
	report_free(&r);
}

/* What jansson is trusted with: strict RFC 8259 in UTF-8, no duplicate
 * keys, no \u0000, bounded nesting and memory; where the error is, in
 * words safe for a terminal. */
static void test_strict_json(void)
{
	check_string("\"plain\"", "plain");
	check_string("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t");
	check_string("\"\\u00e9\\u20ac\\ud83d\\ude00\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	check_string("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xf0\x9f\x98\x80");

	check_value_refused("\"\xc0\x80\"", "unable to decode byte 0xc0"); /* overlong NUL */
	check_value_refused("\"\xe0\x80\xaf\"", "unable to decode");       /* overlong '/' */
	check_value_refused("\"\xed\xa0\x80\"", "unable to decode");       /* encoded surrogate */
	check_value_refused("\"\xf4\x90\x80\x80\"", "unable to decode");   /* past U+10FFFF */
	check_value_refused("\"\xff\"", "unable to decode");
	check_value_refused("\"\x80\"", "unable to decode");
	check_value_refused("\"ab\xc3\"", "unable to decode");
	check_value_refused("\"\\ud83d\"", "invalid Unicode");
	check_value_refused("\"\\ude00\"", "invalid Unicode");
	check_value_refused("\"\\u12g4\"", "invalid escape");
	check_value_refused("\"\\x\"", "invalid escape");
	check_value_refused("\"a\\u0000b\"", "\\u0000 is not allowed");
	check_value_refused("\"a\tb\"", "control character");
	check_value_refused("01", "invalid token");
	check_value_refused("NaN", "invalid token");
	check_value_refused("1e400", "real number overflow");
	check_value_refused("9223372036854775808", "too big integer");
	check_value_refused("\"x\",}", "string or '}' expected");

	check_refused(B(""), "the answer is empty");
	check_refused(B("   \n"), "bad JSON at line 2, column 0: '[' or '{' expected near end of file");
	check_refused(B("<html><body>404</body></html>"), "bad JSON at line 1, column 1: '[' or '{' expected near '<'");
	check_refused(B("{\"clients\":[]} x"), "line 1, column 16: end of file expected near 'x'");
	check_refused(B("{\"clients\":[]}\0"), "end of file expected");
	check_refused(B("\xef\xbb\xbf{\"clients\":[]}"), "'[' or '{' expected"); /* BOM */
	check_refused(B("{\"clients\":[],\n\"clients\":[]}"),
	              "line 2, column 9: duplicate object key near '\"clients\"'");
	check_refused(B("{\"clients\":[1,]}"), "unexpected token");
	check_refused(B("{\"clients\":["), "']' expected near end of file");
	check_refused(B("[]"), "the answer is not a JSON object");
	check_refused(B("42"), "'[' or '{' expected");
	/* the bytes jansson quotes come from the network */
	check_refused(B("\x1b]0;owned\x07"), "bad JSON at line 1, column 1: '[' or '{' expected near '");
	char why[300] = "";
	struct report r;

	report_read(B("{\"a\x1b[2J\": \x1b[31m}"), NULL, &r, why, sizeof(why));
	CHECK(why[0] && strchr(why, 0x1b) == NULL);

	/* nesting: what a report needs parses; far past jansson's bound it is
	 * refused without exhausting the stack */
	char nest[2 * 64 + 40];
	int n = snprintf(nest, sizeof(nest), "{\"clients\":[],\"x\":");

	for (int i = 0; i < 64; i++)
		nest[n + i] = '[';
	for (int i = 0; i < 64; i++)
		nest[n + 64 + i] = ']';
	nest[n + 128] = '}';
	CHECK_INT(report_read(nest, (size_t)n + 129, NULL, &r, why, sizeof(why)), 0);
	report_free(&r);

	size_t deep_n = 1 << 20;
	char *deep = malloc(deep_n);

	memset(deep, '[', deep_n);
	check_refused(deep, deep_n, "maximum parsing depth reached");
	free(deep);
}

/* An answer whose values would take more memory than the bound is refused
 * while it is parsed, and what was made is freed (the sanitizer build
 * checks that); the next document reads as usual. */
static void test_memory_bound(void)
{
	/* Each "{}" costs jansson about 200 bytes. */
	size_t nobj = REPORT_JSON_MAX_MEMORY / 100, n = 0;
	char *doc = malloc(nobj * 3 + 64);
	char why[200] = "";
	struct report r;

	n += (size_t)sprintf(doc, "{\"clients\":[],\"x\":[");
	for (size_t i = 0; i < nobj; i++) {
		memcpy(doc + n, "{},", 3);
		n += 3;
	}
	memcpy(doc + n - 1, "]}", 2);
	n++;
	check_refused(doc, n, "its JSON would take more than 256 MiB of memory");
	free(doc);
	CHECK_INT(report_read(B("{\"clients\":[]}"), NULL, &r, why, sizeof(why)), 0);
	report_free(&r);
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

	CHECK_INT(report_read(text, strlen(text), instance, r, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "  %s\n", why);
}

static void check_not_report(const char *text, const char *phrase)
{
	check_refused(text, strlen(text), phrase);
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
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":2.0}]}", "whole number");
	check_not_report("{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"instances\":[\"a\",null]}]}",
	                 "clients[0]: instances[1] is not a string");
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
	struct report back;
	char rwhy[200];

	CHECK(j[len - 1] == '\n');
	CHECK(strstr(j, "\\u001b") != NULL && strchr(j, 0x1b) == NULL);
	CHECK(strstr(j, "\\u202e") != NULL);
	CHECK(strstr(j, "\"instances\":[\n{\"instance\":\"127.0.0.1:1\",\"generated\":\"2026-11-21T10:00:00Z\","
	                "\"clients\":2},\n{\"instance\":\"127.0.0.1:3\",\"error\":\"connection refused\"}]") != NULL);
	CHECK(strstr(j, "\"user\":null") != NULL);
	CHECK_INT(report_read(j, len, NULL, &back, rwhy, sizeof(rwhy)), 0);
	char *j3 = report_to_json(&back, NULL, 0, NULL);

	CHECK_STR(j3, j1);
	free(j3);
	free(j1);
	report_free(&back);
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
	char rwhy[200], *text = NULL;
	size_t tlen = 0;
	struct report r;
	FILE *f;

	CHECK_INT(report_read(doc_text, strlen(doc_text), NULL, &r, rwhy, sizeof(rwhy)), 0);
	f = open_memstream(&text, &tlen);
	report_print_table(f, &r, 1);
	fclose(f);
	CHECK(strstr(text, "        fix: allow domain turn.example.org port 5349\n"
	                   "             noauth domain turn.example.org port 5349\n") != NULL);
	if (unit_failures)
		fputs(text, stderr);
	free(text);
	report_free(&r);
}

/* Counts are summed up to the largest a report can carry, and what is
 * written reads back. */
static void test_count_saturates(void)
{
	static const char big[] =
	        "{\"clients\":[{\"client\":\"a\",\"verdict\":\"ok\",\"requests\":"
	        "9223372036854775807,\"findings\":[{\"rule\":\"r\",\"count\":9223372036854775000}]}]}";
	struct report r, m = { 0 }, back;
	char why[200] = "";

	load(big, NULL, &r);
	report_merge(&m, &r);
	report_merge(&m, &r);
	CHECK_INT(m.nclients, 1);
	if (m.nclients == 1 && m.clients[0].nfindings == 1) {
		CHECK(m.clients[0].requests == REPORT_MAX_COUNT);
		CHECK(m.clients[0].findings[0].count == REPORT_MAX_COUNT);
	}
	size_t len;
	char *j = report_to_json(&m, NULL, 0, &len);

	CHECK(strstr(j, "\"requests\":9223372036854775807,") != NULL);
	CHECK_INT(report_read(j, len, NULL, &back, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "  read back: %s\n", why);
	free(j);
	report_free(&back);
	report_free(&m);
	report_free(&r);
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

/* --admin URLs: the names messages show for them (never the credentials),
 * and the refusals, in words. */
static void check_name(const char *url, const char *want)
{
	char name[200] = "", why[200] = "";

	CHECK_INT(report_admin_name(url, name, sizeof(name), why, sizeof(why)), 0);
	CHECK_STR(name, want);
	if (why[0])
		fprintf(stderr, "  %s: %s\n", url, why);
}

static void check_url_refused(const char *url, const char *phrase)
{
	char name[200] = "", why[200] = "";
	const char *said = why;

	CHECK_INT(report_admin_name(url, name, sizeof(name), why, sizeof(why)), -1);
	CHECK_WHY(said, phrase);
	if (!unit_contains(why, phrase))
		fprintf(stderr, "  for %s\n", url);
}

static void test_admin_urls(void)
{
	check_name("http://127.0.0.1:3129", "127.0.0.1:3129");
	check_name("127.0.0.1", "127.0.0.1:3129");
	check_name("HTTP://127.0.0.1:8080/", "127.0.0.1:8080");
	check_name("http://admin:s3cr%25t@127.0.0.1:5/pinhole/", "127.0.0.1:5/pinhole");
	check_name("http://[::1]:3129", "[::1]:3129");
	check_name("http://[::1]/a/b//", "[::1]:3129/a/b");
	check_name("https://admin.example:8443/pinhole", "https://admin.example:8443/pinhole");
	check_name("https://[2001:db8::1]", "https://[2001:db8::1]:3129");
	check_name("http://127.0.0.1:", "127.0.0.1:3129");
	check_name("http://u:50%off@h", "h:3129"); /* not an escape: kept as typed */

	check_url_refused("ftp://127.0.0.1", "only http:// and https:// URLs");
	check_url_refused("gopher://127.0.0.1", "only http:// and https:// URLs");
	check_url_refused("http://::1:3129", "an IPv6 address goes in brackets");
	check_url_refused("http://[::1:3129", "bad IPv6 address");
	check_url_refused("http://[::1]x", "the port must be a number from 1 to 65535");
	check_url_refused("http://127.0.0.1:0", "the port must be a number from 1 to 65535");
	check_url_refused("http://127.0.0.1:65536", "the port must be a number from 1 to 65535");
	check_url_refused("http://127.0.0.1:31a9", "the port must be a number from 1 to 65535");
	check_url_refused("http://", "no host name");
	check_url_refused("http://exa mple/", "bad character in the host name");
	check_url_refused("http://h/a b", "bad character in the path");
	check_url_refused("http://h/caf\xc3\xa9", "bad character in the path");
	check_url_refused("http://us%3Aer:pw@127.0.0.1", "the user name must not contain ':'");
	check_url_refused("http://u:p%00@127.0.0.1", "%00 or a control character");
	check_url_refused("http://u%0a:p@127.0.0.1", "%00 or a control character");
	check_url_refused("http://:pw@127.0.0.1", "empty user name before '@'");
	check_url_refused("http://127.0.0.1/report?x=1", "a query or fragment has no place");
	check_url_refused("http://127.0.0.1/report#x", "a query or fragment has no place");
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
	argv[1] = "--cacert";
	CHECK_INT(report_main(2, argv), 2);
	argv[1] = "--bogus";
	CHECK_INT(report_main(2, argv), 2);
	argv[1] = "--cacert=/nonexistent/ca.pem";
	argv[2] = "--admin";
	argv[3] = "https://127.0.0.1:1";
	CHECK_INT(report_main(4, argv), 2);
	argv[1] = "--admin";
	argv[2] = "http://u:p@127.0.0.1:0";
	CHECK_INT(report_main(3, argv), 2);
}

int main(void)
{
	test_strict_json();
	test_memory_bound();
	test_read_report();
	test_merge();
	test_advice_lines();
	test_count_saturates();
	test_term_safe();
	test_admin_urls();
	test_command_line();
	return unit_summary("test_report_cli");
}
