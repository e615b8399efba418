/*
 * test_domset.c - the indexed domain patterns (domset.h, acl_domain_index_*)
 * answer exactly what acl_domain_match answers pattern by pattern, for
 * every pattern kind, case, trailing dot and IP destination; domain-file's
 * parser (comments, blank lines, CRLF, each bad line at FILE:LINE); the
 * domain-file matcher in rules, its paths and its tri-state with IP
 * patterns; and a list of 100,000 names.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "common.h"
#include "domset.h"
#include "unit.h"

static char tmpdir[PATH_MAX];

static const char *in_tmp(const char *name)
{
	static char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(in_tmp(name), "wb");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/* ---- the index answers what the patterns answer one by one ---- */

static const char *const patterns[] = {
	"example.com",    "*.example.com", ".example.com", "Example.COM.", "*.b.example.com",
	".c.example.com", "a.b",           "localhost",    "*.com",        ".net",
	"x-y_z.corp",     "10.0.0.0/8",    "192.0.2.7",    "::1",          "[2001:db8::]/32",
};

static const char *const hosts[] = {
	"example.com",
	"EXAMPLE.Com",
	"example.com.",
	"www.example.com",
	"a.b.example.com",
	"x.b.example.com",
	"c.example.com",
	"y.c.example.com",
	"badexample.com",
	"www.badexample.com",
	".example.com",
	"..example.com",
	"example.com..",
	"example.com.evil.net",
	"example.co",
	"com",
	"net",
	"x.net",
	"a.b",
	"z.a.b",
	"a.b.",
	"localhost",
	"LOCALHOST.",
	"x-y_z.corp",
	"",
	".",
	"a..b",
	"10.example.com",
	"10.1.2.3",
	"192.0.2.7",
	"::1",
	"2001:db8::5",
};

static const char *const dsts[] = {
	NULL, "10.1.2.3", "192.0.2.7", "192.0.2.8", "::1", "2001:db8::5", "::ffff:10.9.9.9"
};

/* Every subset of up to three patterns against every host and destination:
 * the index must say what the loop over acl_domain_match says. */
static void test_index_equivalence(void)
{
	size_t np = PH_ARRAY_LEN(patterns), mismatches = 0;
	struct domain_pattern p[PH_ARRAY_LEN(patterns)];

	for (size_t i = 0; i < np; i++)
		CHECK_INT(acl_domain_pattern_parse(&p[i], patterns[i]), PH_OK);
	for (size_t a = 0; a < np; a++) {
		for (size_t b = a; b < np; b++) {
			for (size_t c = b; c < np; c++) {
				const size_t pick[3] = { a, b, c };
				struct domain_index ix = { 0 };

				for (size_t k = 0; k < 3; k++)
					acl_domain_index_add(&ix, &p[pick[k]]);
				for (size_t h = 0; h < PH_ARRAY_LEN(hosts); h++) {
					for (size_t d = 0; d < PH_ARRAY_LEN(dsts); d++) {
						struct sockaddr_storage dst;
						bool want = false, got;

						if (dsts[d])
							dst = unit_ip(dsts[d]);
						for (size_t k = 0; k < 3; k++)
							want |= acl_domain_match(&p[pick[k]], hosts[h],
							                         dsts[d] ? &dst : NULL);
						got = acl_domain_index_match(&ix, hosts[h], dsts[d] ? &dst : NULL);
						if (got != want && mismatches++ < 10)
							fprintf(stderr,
							        "index {%s, %s, %s} vs '%s' dst %s: got %d, want %d\n",
							        patterns[a], patterns[b], patterns[c], hosts[h],
							        dsts[d] ? dsts[d] : "-", got, want);
					}
				}
				acl_domain_index_free(&ix);
			}
		}
	}
	CHECK_INT(mismatches, 0);
	for (size_t i = 0; i < np; i++)
		acl_domain_pattern_free(&p[i]);
}

/* A domain matcher with many patterns, against a loop over them, with
 * random labels: names the set holds, their parents, children and near
 * misses. */
static void test_index_random(void)
{
	static const char *const labels[] = { "a", "b", "ab", "www", "x-1", "c_d", "example", "com", "net" };
	enum { NPAT = 400, NHOST = 4000 };
	struct domain_pattern *p = calloc(NPAT, sizeof(*p));
	struct domain_index ix = { 0 };
	size_t mismatches = 0;
	unsigned seed = 12345;

	for (size_t i = 0; i < NPAT; i++) {
		char text[128] = "";
		int nl = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;
		int kind = (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;

		strcat(text, kind == 1 ? "*." : kind == 2 ? "." : "");
		for (int l = 0; l < nl; l++) {
			strcat(text, labels[((seed = seed * 1103515245 + 12345) >> 16) % PH_ARRAY_LEN(labels)]);
			if (l + 1 < nl)
				strcat(text, ".");
		}
		CHECK_INT(acl_domain_pattern_parse(&p[i], text), PH_OK);
		acl_domain_index_add(&ix, &p[i]);
	}
	for (size_t h = 0; h < NHOST; h++) {
		char host[128] = "";
		int nl = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 5;
		bool want = false;

		for (int l = 0; l < nl; l++) {
			strcat(host, labels[((seed = seed * 1103515245 + 12345) >> 16) % PH_ARRAY_LEN(labels)]);
			if (l + 1 < nl)
				strcat(host, ".");
		}
		if (h % 7 == 0)
			host[0] = (char)(host[0] - 32); /* upper case */
		if (h % 5 == 0)
			strcat(host, ".");
		for (size_t i = 0; i < NPAT && !want; i++)
			want = acl_domain_match(&p[i], host, NULL);
		if (acl_domain_index_match(&ix, host, NULL) != want && mismatches++ < 10)
			fprintf(stderr, "random host '%s': index says %d\n", host, !want);
	}
	CHECK_INT(mismatches, 0);
	acl_domain_index_free(&ix);
	for (size_t i = 0; i < NPAT; i++)
		acl_domain_pattern_free(&p[i]);
	free(p);
}

static void test_domset_basics(void)
{
	struct domset d = { 0 };

	CHECK(!domset_match(&d, "example.com"));
	CHECK(!domset_match(&d, NULL));
	domset_add(&d, "example.com", 11, DOMSET_EXACT);
	domset_add(&d, "example.com", 11, DOMSET_SUBDOMAINS); /* again: the union */
	CHECK_INT(d.n, 1);
	CHECK(domset_match(&d, "example.com"));
	CHECK(domset_match(&d, "a.example.com"));
	CHECK(!domset_match(&d, "aexample.com"));
	domset_free(&d);
	CHECK(!domset_match(&d, "example.com"));
	domset_free(&d); /* freeing twice is harmless */
}

/* ---- domain-file's parser ---- */

static void test_file_parse(void)
{
	static const char text[] = "# ad servers\n"
	                           "\n"
	                           "ads.example\r\n"
	                           "  *.tracker.example   # every subdomain\n"
	                           "\t.malware.example\n"
	                           "10.66.0.0/16\n"
	                           "Exact.Example.\n"
	                           "last.example"; /* no final newline */
	struct domain_index ix = { 0 };
	struct cfg_errors errs = { 0 };
	struct sockaddr_storage in = unit_ip("10.66.1.2"), out = unit_ip("10.67.1.2");
	size_t n;

	CHECK_INT(acl_domain_file_parse(&ix, "ads.txt", text, sizeof(text) - 1, &errs, &n), 0);
	CHECK_INT(errs.n, 0);
	CHECK_INT(n, 6);
	CHECK(acl_domain_index_match(&ix, "ads.example", NULL));
	CHECK(!acl_domain_index_match(&ix, "www.ads.example", NULL));
	CHECK(acl_domain_index_match(&ix, "a.tracker.example", NULL));
	CHECK(!acl_domain_index_match(&ix, "tracker.example", NULL));
	CHECK(acl_domain_index_match(&ix, "malware.example", NULL));
	CHECK(acl_domain_index_match(&ix, "x.y.malware.example", NULL));
	CHECK(acl_domain_index_match(&ix, "exact.example", NULL));
	CHECK(acl_domain_index_match(&ix, "last.example", NULL));
	CHECK(acl_domain_index_match(&ix, "10.66.1.2", &in));
	CHECK(!acl_domain_index_match(&ix, "10.67.1.2", &out));
	CHECK(!acl_domain_index_match(&ix, "every", NULL)); /* the comment is not a pattern */
	acl_domain_index_free(&ix);
	cfg_errors_free(&errs);
}

struct file_error_case {
	const char *text;
	const char *msg; /* the only error */
};

static const struct file_error_case file_errors[] = {
	{ "ok.example\nbad..example\n", "l.txt:2: bad domain pattern 'bad..example': it has an empty label ('..')" },
	{ "0.0.0.0 ads.example\n", "l.txt:1: '0.0.0.0 ads.example' is more than one word: write one pattern per line "
	                           "(of a hosts file, keep the names alone)" },
	{ "\n\n||ads.example^\n", "l.txt:3: bad domain pattern '||ads.example^': a host name cannot contain '|'" },
	{ "*\n", "l.txt:1: bad domain pattern '*': '*' alone is not a pattern; to match every destination leave out "
	         "'domain' or write 'all'" },
	{ "10.0.0.0/33\n", "l.txt:1: bad domain pattern '10.0.0.0/33': the prefix is longer than the 32 bits of an "
	                   "IPv4 address" },
	{ "a\nb\0c\n", "l.txt:2: the line contains a NUL byte" },
	{ "caf\xc3\xa9.example\n", "l.txt:1: bad domain pattern 'caf\xc3\xa9.example': write international names in "
	                           "their ASCII form ('xn--...')" },
};

static void test_file_errors(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(file_errors); i++) {
		const char *t = file_errors[i].text;
		size_t len = strlen(t), n;
		struct domain_index ix = { 0 };
		struct cfg_errors errs = { 0 };

		if (i == 5)
			len = 6; /* "a\nb\0c\n" */
		CHECK_INT(acl_domain_file_parse(&ix, "l.txt", t, len, &errs, &n), 1);
		CHECK_INT(errs.n, 1);
		if (errs.n >= 1)
			CHECK_STR(errs.msgs[0], file_errors[i].msg);
		acl_domain_index_free(&ix);
		cfg_errors_free(&errs);
	}
}

/* A file in another format: the first bad lines one by one, then a count. */
static void test_file_many_errors(void)
{
	char text[64 * 40] = "";
	struct domain_index ix = { 0 };
	struct cfg_errors errs = { 0 };
	size_t n;

	for (int i = 0; i < 40; i++)
		strcat(text, i == 20 ? "good.example\n" : "127.0.0.1 bad.example\n");
	CHECK_INT(acl_domain_file_parse(&ix, "hosts.txt", text, strlen(text), &errs, &n), 39);
	CHECK_INT(n, 1);
	CHECK_INT(errs.n, 11);
	if (errs.n == 11) {
		CHECK(strncmp(errs.msgs[0], "hosts.txt:1: ", 13) == 0);
		CHECK(strncmp(errs.msgs[9], "hosts.txt:10: ", 14) == 0);
		CHECK_STR(errs.msgs[10], "hosts.txt: 29 more bad lines (the first 10 are above)");
	}
	CHECK(acl_domain_index_match(&ix, "good.example", NULL));
	acl_domain_index_free(&ix);
	cfg_errors_free(&errs);
}

/* ---- the domain-file matcher ---- */

static int parse_set(struct matchset *set, const char *file, const char *text, struct cfg_errors *errs)
{
	char buf[512], *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	return acl_matchset_parse(set, argv, argc, file, 3, errs);
}

static void test_matcher(void)
{
	static const char list[] = "ads.example\n.tracker.example\n";
	static const char ips[] = "intranet.example\n10.0.0.0/8\n";
	struct cfg_errors errs = { 0 };
	struct sockaddr_storage a10 = unit_ip("10.1.2.3"), other = unit_ip("192.0.2.1");
	struct matchset set;
	struct rule rules[2];
	const struct rule *r;
	struct acl_subject s = { .host = "ads.example", .port = 443, .method = "CONNECT" };
	char want[3 * PATH_MAX], conf[PATH_MAX + 64];

	write_file("lists/ads.txt", list, sizeof(list) - 1);
	write_file("lists/ips.txt", ips, sizeof(ips) - 1);
	/* relative to the file that names it */
	CHECK_INT(parse_set(&set, in_tmp("lists/main.conf"), "domain-file ads.txt port 443", &errs), PH_OK);
	CHECK_INT(errs.n, 0);
	CHECK_INT(set.n, 2);
	CHECK_INT(set.m[0].kind, MATCH_DOMAIN_FILE);
	CHECK_STR(set.m[0].names[0], in_tmp("lists/ads.txt"));
	CHECK(acl_matchset_match(&set, &s));
	s.host = "cdn.tracker.example.";
	CHECK(acl_matchset_match(&set, &s));
	s.host = "example";
	CHECK(!acl_matchset_match(&set, &s));
	s.host = "ads.example";
	s.port = 80;
	CHECK(!acl_matchset_match(&set, &s));
	acl_matchset_free(&set);

	/* several files are ORed */
	CHECK_INT(parse_set(&set, in_tmp("lists/main.conf"), "domain-file ads.txt ips.txt", &errs), PH_OK);
	s.host = "intranet.example";
	CHECK(acl_matchset_match(&set, &s));
	s.host = "ads.example";
	CHECK(acl_matchset_match(&set, &s));
	acl_matchset_free(&set);

	/* an IP pattern in the file: a name not resolved yet must wait for
	 * its address, as with domain */
	memset(rules, 0, sizeof(rules));
	rules[0].action = RULE_DENY;
	rules[1].action = RULE_ALLOW;
	CHECK_INT(parse_set(&rules[0].set, in_tmp("lists/main.conf"), "domain-file ips.txt", &errs), PH_OK);
	CHECK_INT(parse_set(&rules[1].set, in_tmp("lists/main.conf"), "all", &errs), PH_OK);
	s = (struct acl_subject){ .host = "www.example", .port = 443, .method = "CONNECT" };
	CHECK_INT(acl_decide(rules, 2, &s, &r), ACL_NEEDS_ADDRESS);
	s.dst_ip = &a10;
	s.resolved = true;
	CHECK_INT(acl_decide(rules, 2, &s, &r), ACL_MATCH);
	CHECK(r == &rules[0]);
	CHECK(acl_rule_names_address(r, &s));
	s.dst_ip = &other;
	CHECK_INT(acl_decide(rules, 2, &s, &r), ACL_MATCH);
	CHECK(r == &rules[1]);
	s = (struct acl_subject){ .host = "intranet.example", .port = 443, .method = "CONNECT" };
	CHECK_INT(acl_decide(rules, 2, &s, &r), ACL_MATCH);
	CHECK(r == &rules[0]);
	acl_matchset_free(&rules[0].set);
	acl_matchset_free(&rules[1].set);
	CHECK_INT(errs.n, 0);

	/* a missing file, and a bad line: at the list's own line */
	CHECK_INT(parse_set(&set, in_tmp("lists/main.conf"), "domain-file nothere.txt", &errs), PH_ERROR);
	CHECK_INT(errs.n, 1);
	snprintf(conf, sizeof(conf), "%s", in_tmp("lists/main.conf"));
	snprintf(want, sizeof(want), "%s:3: cannot read the domain-file '%s': No such file or directory", conf,
	         in_tmp("lists/nothere.txt"));
	if (errs.n)
		CHECK_STR(errs.msgs[0], want);
	cfg_errors_free(&errs);
	write_file("lists/bad.txt", "ok.example\n\nno good.example\n", 28);
	CHECK_INT(parse_set(&set, in_tmp("lists/main.conf"), "domain-file bad.txt", &errs), PH_ERROR);
	CHECK_INT(errs.n, 1);
	snprintf(want, sizeof(want), "%s:3: 'no good.example' is more than one word", in_tmp("lists/bad.txt"));
	if (errs.n)
		CHECK(strncmp(errs.msgs[0], want, strlen(want)) == 0);
	CHECK(set.m == NULL);
	cfg_errors_free(&errs);
	CHECK_INT(parse_set(&set, "x.conf", "domain-file", &errs), PH_ERROR);
	if (errs.n)
		CHECK_STR(errs.msgs[0], "x.conf:3: matcher 'domain-file' needs at least one value");
	cfg_errors_free(&errs);
	CHECK_INT(parse_set(&set, in_tmp("lists/main.conf"), "domain-file ads.txt prot 443", &errs), PH_ERROR);
	CHECK_INT(errs.n, 1);
	if (errs.n)
		CHECK_STR(errs.msgs[0] + strlen(in_tmp("lists/main.conf")),
		          ":3: unknown matcher 'prot' (did you mean 'port'?); to read a file of that "
		          "name write './prot'");
	cfg_errors_free(&errs);
	CHECK_INT(parse_set(&set, "x.conf", "domian-file a.txt", &errs), PH_ERROR);
	if (errs.n)
		CHECK_STR(errs.msgs[0], "x.conf:3: unknown matcher 'domian-file' (did you mean 'domain-file'?)");
	cfg_errors_free(&errs);
	unlink(in_tmp("lists/bad.txt"));
	unlink(in_tmp("lists/ads.txt"));
	unlink(in_tmp("lists/ips.txt"));
}

/* ---- 100,000 names ---- */

static void test_large_list(void)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 32, len = 0, n;
	char *text = malloc(cap);
	struct domain_index ix = { 0 };
	struct cfg_errors errs = { 0 };
	char host[64];

	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        i % 3 == 0 ? ".blocked%d.example\n" : "host%d.ads.test\n", i);
	CHECK_INT(acl_domain_file_parse(&ix, "big.txt", text, len, &errs, &n), 0);
	CHECK_INT(n, N);
	CHECK_INT(ix.names.n, N);
	/* at most half full, 8 bytes a slot, the names once */
	CHECK(domset_bytes(&ix.names) < (size_t)N * 64);
	CHECK(acl_domain_index_match(&ix, "host1.ads.test", NULL));
	CHECK(acl_domain_index_match(&ix, "HOST99998.ADS.TEST.", NULL));
	CHECK(!acl_domain_index_match(&ix, "host3.ads.test", NULL)); /* i % 3 == 0: a tree entry instead */
	CHECK(acl_domain_index_match(&ix, "blocked3.example", NULL));
	CHECK(acl_domain_index_match(&ix, "a.b.blocked99999.example", NULL));
	CHECK(!acl_domain_index_match(&ix, "blocked100000.example", NULL));
	CHECK(!acl_domain_index_match(&ix, "www.host1.ads.test", NULL));
	for (int i = 0; i < N; i += 997) {
		snprintf(host, sizeof(host), i % 3 == 0 ? "x.blocked%d.example" : "host%d.ads.test", i);
		CHECK(acl_domain_index_match(&ix, host, NULL));
	}
	acl_domain_index_free(&ix);
	free(text);
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	char sub[PATH_MAX + 16];

	snprintf(tmpdir, sizeof(tmpdir), "%s/pinhole-test-domset-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof(sub), "%s/lists", tmpdir);
	if (mkdir(sub, 0700) != 0) {
		perror("mkdir");
		return 1;
	}
	test_domset_basics();
	test_index_equivalence();
	test_index_random();
	test_file_parse();
	test_file_errors();
	test_file_many_errors();
	test_matcher();
	test_large_list();
	rmdir(sub);
	rmdir(tmpdir);
	return unit_summary("test_domset");
}
