/*
 * test_auth_helper.c - auth/helper.c against Squid's own helpers from the
 * squid package (basic_ncsa_auth, digest_file_auth, ntlm_fake_auth) and small
 * shell helpers that misbehave on purpose: dying, garbage, talking unasked,
 * silence, slowness; plus cancellation and teardown without zombies, and
 * negotiate_kerberos_auth with a realm from tests/lib/kdc.sh when it can.
 */
#include "unit.h"
#include "common.h"
#include "loop.h"
#include "helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CASE_LIMIT_S 20 /* no case may run longer: alarm() kills the test */

/* md5("alice:realm1:pw") and md5("bob:R:bobpw"), as digest_file_auth hands them back. */
#define HA1_ALICE "0f552c08340032b7ce2f1eea2aafc0dc"
#define HA1_BOB "dd4629a11aa657d886b5a161bc9781b7"

/* An NTLM Type 1 (curl's tests/data/test209) and a Type 3 from WORKGROUP\alice
 * with OEM strings, each NUL-followed, since ntlm_fake_auth reads them as C
 * strings.  ntlm_fake_auth checks no response, only the names. */
#define NTLM_T1 "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA="
#define NTLM_T3                                                                            \
	"TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWQAAAAkACQByAAAABQAFAHwAAAAEAAQAggAAAAAAAACHAAAA" \
	"AoIAABEREREREREREREREREREREREREREREREQAiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIAV09SS0dS" \
	"T1VQAGFsaWNlAEhPU1QA"

static struct loop *loop;
static char tmpdir[PATH_MAX];
static const char *squid_dir; /* Squid's helpers: $PH_SQUID_HELPERS or Debian's /usr/lib/squid */

/* ---- running the loop with a stop timer ---- */

static int ndone; /* callbacks seen so far */
static int seq;
static int want_done;
static uint64_t deadline;
static struct loop_timer ticker;

static void tick(struct loop *l, struct loop_timer *t)
{
	if (ndone >= want_done || loop_now(l) >= deadline) {
		loop_stop(l);
		return;
	}
	loop_timer_start(l, t, 5);
}

/* Runs the loop until n callbacks have been seen (true) or ms passed. */
static bool run_until(int n, uint64_t ms)
{
	loop_update_now(loop);
	want_done = n;
	deadline = loop_now(loop) + ms;
	ticker.cb = tick;
	loop_timer_start(loop, &ticker, 0);
	loop_run(loop);
	loop_timer_stop(loop, &ticker);
	return ndone >= n;
}

static void run_for(uint64_t ms)
{
	run_until(INT_MAX, ms);
}

/* ---- what a callback saw ---- */

struct res {
	int calls;
	int order;
	bool failed; /* reply NULL */
	enum helper_code code;
	char user[256];
	char token[1024];
	char message[256];
	size_t message_len;
	char ha1[64];
	char why[512];
	bool has_user, has_token, has_message, has_ha1;
};

static void copy(char *dst, size_t cap, const char *src, bool *has)
{
	*has = src != NULL;
	snprintf(dst, cap, "%s", src ? src : "");
}

static void on_reply(void *arg, const struct helper_reply *rep, const char *why)
{
	struct res *r = arg;

	r->calls++;
	r->order = ++seq;
	ndone++;
	if (!rep) {
		r->failed = true;
		snprintf(r->why, sizeof(r->why), "%s", why ? why : "(no why)");
		return;
	}
	r->code = rep->code;
	copy(r->user, sizeof(r->user), rep->user, &r->has_user);
	copy(r->token, sizeof(r->token), rep->token, &r->has_token);
	copy(r->message, sizeof(r->message), rep->message, &r->has_message);
	copy(r->ha1, sizeof(r->ha1), rep->ha1, &r->has_ha1);
	r->message_len = rep->message ? strlen(rep->message) : 0;
}

/* ---- processes and files ---- */

/* No child process left, running or zombie (the pools reaped theirs). */
static bool no_children(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

static int run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);

	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* Whether every pid listed in tmpdir/name has gone within ms: no such
 * process, or a zombie of someone else's. */
static bool pids_gone(const char *name, int ms)
{
	char path[PATH_MAX + 64];

	path_in_tmp(path, sizeof(path), name);
	for (int waited = 0;; waited += 20) {
		FILE *f = fopen(path, "r");
		long pid;
		int alive = 0, seen = 0;

		while (f && fscanf(f, "%ld", &pid) == 1) {
			char stat[64], buf[512];
			FILE *sf;

			seen++;
			snprintf(stat, sizeof(stat), "/proc/%ld/stat", pid);
			sf = fopen(stat, "r");
			if (!sf)
				continue;
			if (fgets(buf, sizeof(buf), sf) && strrchr(buf, ')') && strrchr(buf, ')')[2] != 'Z')
				alive++;
			fclose(sf);
		}
		if (f)
			fclose(f);
		if (seen > 0 && alive == 0)
			return true;
		if (waited >= ms)
			return false;
		usleep(20 * 1000);
	}
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	FILE *f;

	path_in_tmp(path, sizeof(path), name);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "test_auth_helper: cannot write %s: %s\n", path, strerror(errno));
		exit(99);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A shell helper in the temp dir; cmd gets the command line that runs it. */
static void script(char *cmd, size_t cap, const char *name, const char *body)
{
	char text[4096];
	char path[PATH_MAX + 64];

	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	write_file(name, text, 0755);
	path_in_tmp(path, sizeof(path), name);
	snprintf(cmd, cap, "'%s'", path);
}

/* The same, run through a shell that stays in between (an assignment
 * keeps the pool from exec'ing the command). */
static void wrapped_script(char *cmd, size_t cap, const char *name, const char *body)
{
	char inner[PATH_MAX + 80];

	script(inner, sizeof(inner), name, body);
	snprintf(cmd, cap, "WRAPPED=1 %s", inner);
}

static bool have_squid_helper(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", squid_dir, name);
	if (access(path, X_OK) == 0)
		return true;
	printf("SKIP: %s not found in %s (apt-get install squid, or set PH_SQUID_HELPERS)\n", name, squid_dir);
	return false;
}

static struct helper_pool *pool(const char *cmd, int children, int concurrency, uint64_t timeout_ms)
{
	char err[256];
	struct helper_pool *p = helper_pool_new(loop, cmd, children, concurrency, timeout_ms, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "test_auth_helper: helper_pool_new(%s): %s\n", cmd, err);
		exit(99);
	}
	return p;
}

static void begin(const char *name)
{
	printf("case: %s\n", name);
	fflush(stdout);
	alarm(CASE_LIMIT_S);
	ndone = 0;
	seq = 0;
}

static void end(void)
{
	CHECK(no_children());
	alarm(0);
}

/* ---- the parser ---- */

struct parse_case {
	const char *line;
	bool stateful;
	int rc;
	enum helper_code code;
	const char *user, *token, *message, *ha1; /* NULL: must be NULL */
};

static void check_field(const char *what, const char *line, const char *got, const char *want)
{
	unit_checks++;
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
		unit_failures++;
		fprintf(stderr, "%s:%d: \"%s\": %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, line, what,
		        got ? got : "(null)", want ? want : "(null)");
	}
}

static void test_parse(void)
{
	static const struct parse_case cases[] = {
		{ "OK", false, PH_OK, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK ", false, PH_OK, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK user=alice", false, PH_OK, HELPER_OK, "alice", NULL, NULL, NULL },
		{ "OK user=al%20ice message=\"hi \\\"there\\\"\"", false, PH_OK, HELPER_OK, "al ice", NULL,
		  "hi \"there\"", NULL },
		{ "OK user=a user=b", false, PH_OK, HELPER_OK, "a", NULL, NULL, NULL },
		{ "OK tag=x clt_conn_tag=y group=g user=u custom_=z", false, PH_OK, HELPER_OK, "u", NULL, NULL, NULL },
		{ "OK =x user=u", false, PH_OK, HELPER_OK, "u", NULL, NULL, NULL },
		{ "OK user=", false, PH_OK, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK user=\"\"", false, PH_OK, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK user=a%00b", false, PH_OK, HELPER_OK, "a%00b", NULL, NULL, NULL },
		{ "OK user=100%%", false, PH_OK, HELPER_OK, "100%", NULL, NULL, NULL },
		{ "OK user=\"%41\"", false, PH_OK, HELPER_OK, "%41", NULL, NULL, NULL },
		{ "OK user=%41%4", false, PH_OK, HELPER_OK, "A%4", NULL, NULL, NULL },
		{ "OK user=\"a b\"c", false, PH_OK, HELPER_OK, "a bc", NULL, NULL, NULL },
		{ "OK user=a\\b", false, PH_OK, HELPER_OK, "a\\b", NULL, NULL, NULL },
		{ "OK\tuser=tab\r", false, PH_OK, HELPER_OK, "tab", NULL, NULL, NULL },
		{ "OK key = value", false, PH_OK, HELPER_OK, NULL, NULL, "key = value", NULL },
		{ "OK user=u and then text  ", false, PH_OK, HELPER_OK, "u", NULL, "and then text", NULL },
		{ "ERR", false, PH_OK, HELPER_ERR, NULL, NULL, NULL, NULL },
		{ "ERR Wrong password", false, PH_OK, HELPER_ERR, NULL, NULL, "Wrong password", NULL },
		{ "ERR message=\"No such user\"", false, PH_OK, HELPER_ERR, NULL, NULL, "No such user", NULL },
		{ "ERR message=\"a\\nb\"", false, PH_OK, HELPER_ERR, NULL, NULL, "a?b", NULL },
		{ "ERR message=a%0Ab", false, PH_OK, HELPER_ERR, NULL, NULL, "a?b", NULL },
		{ "BH", false, PH_OK, HELPER_BH, NULL, NULL, NULL, NULL },
		{ "BH message=oops", false, PH_OK, HELPER_BH, NULL, NULL, "oops", NULL },
		{ "BH something broke", false, PH_OK, HELPER_BH, NULL, NULL, "something broke", NULL },
		{ "", false, PH_OK, HELPER_ERR, NULL, NULL, NULL, NULL },
		{ "   ", false, PH_OK, HELPER_ERR, NULL, NULL, NULL, NULL },
		{ "OK ha1=\"" HA1_ALICE "\"", false, PH_OK, HELPER_OK, NULL, NULL, NULL, HA1_ALICE },
		{ HA1_ALICE, false, PH_OK, HELPER_OK, NULL, NULL, NULL, HA1_ALICE },
		{ HA1_ALICE "  ", false, PH_OK, HELPER_OK, NULL, NULL, NULL, HA1_ALICE },
		{ "OK user=\"a\\nb\"", false, PH_OK, HELPER_BH, NULL, NULL,
		  "helper returned a user name, token or ha1 with control characters", NULL },
		{ "OK user=a%01b", false, PH_OK, HELPER_BH, NULL, NULL,
		  "helper returned a user name, token or ha1 with control characters", NULL },
		/* stateful */
		{ "TT " NTLM_T1, true, PH_OK, HELPER_TT, NULL, NTLM_T1, NULL, NULL },
		{ "TT token=YIIabc==", true, PH_OK, HELPER_TT, NULL, "YIIabc==", NULL, NULL },
		{ "TT", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered TT without a token", NULL },
		{ "TT    ", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered TT without a token", NULL },
		{ "TT token=", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered TT without a token", NULL },
		{ "TT \"\"", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered TT without a token", NULL },
		{ "AF \"\" user=", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered AF without a user name", NULL },
		{ "OK ha1=", false, PH_OK, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "AF WORKGROUP\\alice", true, PH_OK, HELPER_AF, "WORKGROUP\\alice", NULL, NULL, NULL },
		{ "AF YIIabc== alice@REALM", true, PH_OK, HELPER_AF, "alice@REALM", "YIIabc==", NULL, NULL },
		{ "AF alice group=staff", true, PH_OK, HELPER_AF, "alice", NULL, NULL, NULL },
		{ "AF user=bob", true, PH_OK, HELPER_AF, "bob", NULL, NULL, NULL },
		{ "AF \"DOM\\\\bob smith\"", true, PH_OK, HELPER_AF, "DOM\\bob smith", NULL, NULL, NULL },
		{ "AF", true, PH_OK, HELPER_BH, NULL, NULL, "helper answered AF without a user name", NULL },
		{ "NA bad password user=x", true, PH_OK, HELPER_NA, NULL, NULL, "bad password user=x", NULL },
		{ "NA", true, PH_OK, HELPER_NA, NULL, NULL, NULL, NULL },
		{ "LD bob", true, PH_OK, HELPER_LD, "bob", NULL, NULL, NULL },
		{ "OK token=YIIabc== user=alice@TEST.PINHOLE group=x", true, PH_OK, HELPER_OK, "alice@TEST.PINHOLE",
		  "YIIabc==", NULL, NULL },
		{ "ERR message=\"no ticket\"", true, PH_OK, HELPER_ERR, NULL, NULL, "no ticket", NULL },
		{ "BH received type 1 NTLM token", true, PH_OK, HELPER_BH, NULL, NULL, "received type 1 NTLM token",
		  NULL },
		/* garbage */
		{ " OK", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "YES", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "ok", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OKAY", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK message=\"open", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "OK message=\"open\\", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "TT abc", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "AF alice", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ HA1_ALICE, true, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ HA1_ALICE " extra", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
		{ "0f552c08340032b7ce2f1eea2aafc0dz", false, PH_ERROR, HELPER_OK, NULL, NULL, NULL, NULL },
	};
	char store[HELPER_LINE_MAX + 8];

	printf("case: parser\n");
	for (size_t i = 0; i < PH_ARRAY_LEN(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct helper_reply out;
		const char *why = NULL;
		int rc = helper_parse_reply(c->line, strlen(c->line), c->stateful, &out, store, sizeof(store), &why);

		unit_checks++;
		if (rc != c->rc) {
			unit_failures++;
			fprintf(stderr, "%s:%d: \"%s\" (%s): rc %d, want %d (%s)\n", __FILE__, __LINE__, c->line,
			        c->stateful ? "stateful" : "stateless", rc, c->rc, why ? why : "");
			continue;
		}
		if (rc != PH_OK) {
			CHECK(why != NULL && why[0]);
			continue;
		}
		CHECK(why == NULL);
		unit_checks++;
		if (out.code != c->code) {
			unit_failures++;
			fprintf(stderr, "%s:%d: \"%s\": code %d, want %d\n", __FILE__, __LINE__, c->line, out.code,
			        c->code);
		}
		check_field("user", c->line, out.user, c->user);
		check_field("token", c->line, out.token, c->token);
		check_field("message", c->line, out.message, c->message);
		check_field("ha1", c->line, out.ha1, c->ha1);
	}

	/* Bytes the line does not own are never read; NUL inside is garbage. */
	struct helper_reply out;
	const char *why;

	CHECK_INT(helper_parse_reply("OK user=a\0b", 11, false, &out, store, sizeof(store), &why), PH_ERROR);
	CHECK_WHY(why, "NUL");
	CHECK_INT(helper_parse_reply("OK user=alice", 10, false, &out, store, sizeof(store), &why), PH_OK);
	CHECK_STR(out.user, "al");
	CHECK_INT(helper_parse_reply(NULL, 0, false, &out, store, sizeof(store), &why), PH_OK);
	CHECK_INT(out.code, HELPER_ERR);
	/* A store of len + 8 always suffices; a smaller one fails cleanly. */
	const char *l = "AF tok DOMAIN\\user message=hello";
	char small[8];

	CHECK_INT(helper_parse_reply(l, strlen(l), true, &out, store, strlen(l) + 8, &why), PH_OK);
	CHECK_STR(out.user, "DOMAIN\\user");
	CHECK_STR(out.message, "hello");
	CHECK_INT(helper_parse_reply(l, strlen(l), true, &out, small, sizeof(small), &why), PH_ERROR);
	CHECK_WHY(why, "too long");
	/* The longest line is fine, one more byte is not. */
	static char big[HELPER_LINE_MAX + 2];

	memcpy(big, "OK message=", 11);
	memset(big + 11, 'x', sizeof(big) - 11);
	CHECK_INT(helper_parse_reply(big, HELPER_LINE_MAX, false, &out, store, sizeof(store), &why), PH_OK);
	CHECK_INT(strlen(out.message), HELPER_LINE_MAX - 11);
	CHECK_INT(helper_parse_reply(big, HELPER_LINE_MAX + 1, false, &out, store, sizeof(store), &why), PH_ERROR);
}

static void test_url_encode(void)
{
	char out[64];

	printf("case: url encoding\n");
	CHECK_INT(helper_url_encode("alice", 5, out, sizeof(out)), 5);
	CHECK_STR(out, "alice");
	CHECK_INT(helper_url_encode("a b%c\\d", 7, out, sizeof(out)), 13);
	CHECK_STR(out, "a%20b%25c%5Cd");
	CHECK_INT(helper_url_encode("\xc3\xa9\"'\n", 5, out, sizeof(out)), 15);
	CHECK_STR(out, "%C3%A9%22%27%0A");
	CHECK_INT(helper_url_encode("user@EXAMPLE.COM:;/?=&+", 23, out, sizeof(out)), 23);
	CHECK_STR(out, "user@EXAMPLE.COM:;/?=&+");
	/* Truncated: whole escapes only, always terminated. */
	CHECK_INT(helper_url_encode("a b", 3, out, 3), 5);
	CHECK_STR(out, "a");
	CHECK_INT(helper_url_encode("a b", 3, out, 5), 5);
	CHECK_STR(out, "a%20");
	CHECK_INT(helper_url_encode("abc", 3, out, 0), 3);
}

/* ---- Squid's helpers ---- */

static void submit(struct helper_pool *p, const char *line, struct res *r)
{
	struct helper_req *q = helper_submit(p, line, on_reply, r);

	CHECK(q != NULL);
}

static void basic_line(char *out, size_t cap, const char *user, const char *pw)
{
	char u[256], w[256];

	helper_url_encode(user, strlen(user), u, sizeof(u));
	helper_url_encode(pw, strlen(pw), w, sizeof(w));
	snprintf(out, cap, "%s %s", u, w);
}

static void test_basic_ncsa(void)
{
	char file[PATH_MAX + 64], cmd[PATH_MAX * 2];
	struct res r[4];
	static struct res many[300];
	char line[600];

	begin("basic_ncsa_auth, 3 children");
	if (!have_squid_helper("basic_ncsa_auth")) {
		end();
		return;
	}
	path_in_tmp(file, sizeof(file), "htpasswd");
	char *add1[] = { "htpasswd", "-bc", file, "alice", "secret", NULL };
	char *add2[] = { "htpasswd", "-b", file, "bob", "p w%d\\x\"", NULL };

	if (run(add1) != 0 || run(add2) != 0) {
		printf("SKIP: htpasswd failed (apt-get install apache2-utils)\n");
		end();
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s/basic_ncsa_auth '%s'", squid_dir, file);
	struct helper_pool *p = pool(cmd, 3, 0, 5000);

	memset(r, 0, sizeof(r));
	basic_line(line, sizeof(line), "alice", "secret");
	submit(p, line, &r[0]);
	basic_line(line, sizeof(line), "alice", "wrong");
	submit(p, line, &r[1]);
	basic_line(line, sizeof(line), "nobody", "secret");
	submit(p, line, &r[2]);
	basic_line(line, sizeof(line), "bob", "p w%d\\x\"");
	submit(p, line, &r[3]);
	CHECK_INT(ndone, 0); /* never inside submit */
	CHECK(run_until(4, 5000));
	CHECK(!r[0].failed && r[0].code == HELPER_OK);
	CHECK(!r[1].failed && r[1].code == HELPER_ERR);
	CHECK_STR(r[1].message, "Wrong password");
	CHECK(!r[2].failed && r[2].code == HELPER_ERR);
	CHECK_STR(r[2].message, "No such user");
	CHECK(!r[3].failed && r[3].code == HELPER_OK);

	/* Many at once: three children, one request each at a time. */
	static const char *const users[] = { "alice", "alice", "bob" };
	static const char *const passwords[] = { "secret", "nope", "p w%d\\x\"" };

	ndone = 0;
	memset(many, 0, sizeof(many));
	for (size_t i = 0; i < PH_ARRAY_LEN(many); i++) {
		basic_line(line, sizeof(line), users[i % 3], passwords[i % 3]);
		submit(p, line, &many[i]);
	}
	struct helper_pool_stats st;

	helper_pool_stats(p, &st);
	CHECK_INT(st.busy, 3);
	CHECK_INT(st.queued, PH_ARRAY_LEN(many) - 3);
	CHECK(run_until((int)PH_ARRAY_LEN(many), 15000));
	int bad = 0;

	for (size_t i = 0; i < PH_ARRAY_LEN(many); i++)
		if (many[i].calls != 1 || many[i].failed || many[i].code != (i % 3 == 1 ? HELPER_ERR : HELPER_OK))
			bad++;
	CHECK_INT(bad, 0);
	helper_pool_stats(p, &st);
	CHECK_INT(st.running, 3);
	CHECK_INT(st.failures, 0);
	CHECK_INT(st.restarts, 0);
	CHECK_INT(st.replies, PH_ARRAY_LEN(many) + 4);
	helper_pool_free(p);
	end();
}

static void test_digest_file(int concurrency)
{
	char cmd[PATH_MAX * 2], file[PATH_MAX + 64], plain[PATH_MAX + 64];
	static struct res many[300];
	struct res r[3];

	begin(concurrency ? "digest_file_auth, 3 children, concurrency 8" : "digest_file_auth, 2 children");
	if (!have_squid_helper("digest_file_auth")) {
		end();
		return;
	}
	write_file("digest.ha1", "# user:realm:HA1\nalice:realm1:" HA1_ALICE "\n", 0644);
	write_file("digest.plain", "bob:bobpw\n", 0644);
	path_in_tmp(file, sizeof(file), "digest.ha1");
	path_in_tmp(plain, sizeof(plain), "digest.plain");

	snprintf(cmd, sizeof(cmd), "%s/digest_file_auth -c '%s'", squid_dir, file);
	struct helper_pool *p = pool(cmd, concurrency ? 3 : 2, concurrency, 5000);

	memset(r, 0, sizeof(r));
	submit(p, "\"alice\":\"realm1\"", &r[0]);
	submit(p, "\"mallory\":\"realm1\"", &r[1]);
	CHECK(run_until(2, 5000));
	CHECK(!r[0].failed && r[0].code == HELPER_OK);
	CHECK_STR(r[0].ha1, HA1_ALICE);
	CHECK(!r[1].failed && r[1].code == HELPER_ERR);
	CHECK_STR(r[1].message, "No such user");

	ndone = 0;
	memset(many, 0, sizeof(many));
	for (size_t i = 0; i < PH_ARRAY_LEN(many); i++)
		submit(p, i % 2 ? "\"alice\":\"realm1\"" : "\"eve\":\"realm1\"", &many[i]);
	CHECK(run_until((int)PH_ARRAY_LEN(many), 15000));
	int bad = 0;

	for (size_t i = 0; i < PH_ARRAY_LEN(many); i++)
		if (many[i].calls != 1 || many[i].failed || many[i].code != (i % 2 ? HELPER_OK : HELPER_ERR) ||
		    (i % 2 && strcmp(many[i].ha1, HA1_ALICE) != 0))
			bad++;
	CHECK_INT(bad, 0);
	helper_pool_free(p);

	/* The plain-password format: the helper computes the HA1. */
	snprintf(cmd, sizeof(cmd), "%s/digest_file_auth '%s'", squid_dir, plain);
	p = pool(cmd, 1, concurrency, 5000);
	ndone = 0;
	submit(p, "\"bob\":\"R\"", &r[2]);
	CHECK(run_until(1, 5000));
	CHECK(!r[2].failed && r[2].code == HELPER_OK);
	CHECK_STR(r[2].ha1, HA1_BOB);
	helper_pool_free(p);
	end();
}

static void test_ntlm_fake(void)
{
	char cmd[PATH_MAX];
	struct res r[4];

	begin("ntlm_fake_auth, leases");
	if (!have_squid_helper("ntlm_fake_auth")) {
		end();
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s/ntlm_fake_auth", squid_dir);
	struct helper_pool *p = pool(cmd, 2, 0, 5000);

	memset(r, 0, sizeof(r));
	struct helper_lease *l = helper_reserve(p, 0);

	CHECK(l != NULL);
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[0]) != NULL);
	CHECK(helper_lease_submit(l, "KK " NTLM_T3, on_reply, &r[1]) == NULL); /* one leg at a time */
	CHECK(run_until(1, 5000));
	CHECK(!r[0].failed && r[0].code == HELPER_TT);
	CHECK(strncmp(r[0].token, "TlRMTVNTUAACAAAA", 16) == 0); /* a Type 2 */
	CHECK(helper_lease_submit(l, "KK " NTLM_T3, on_reply, &r[1]) != NULL);
	CHECK(run_until(2, 5000));
	CHECK(!r[1].failed && r[1].code == HELPER_AF);
	CHECK_STR(r[1].user, "WORKGROUP\\alice");
	CHECK(!r[1].has_token);

	/* Two children: a second lease, then none; a release frees one. */
	struct helper_lease *l2 = helper_reserve(p, 0);

	CHECK(l2 != NULL);
	CHECK(helper_reserve(p, 0) == NULL);
	struct helper_pool_stats st;

	helper_pool_stats(p, &st);
	CHECK_INT(st.reserved, 2);
	helper_release(l);
	l = helper_reserve(p, 0);
	CHECK(l != NULL);
	helper_release(l);
	helper_release(l2);

	/* A stateless request meanwhile queues until a lease is released. */
	l = helper_reserve(p, 0);
	l2 = helper_reserve(p, 0);
	ndone = 0;
	submit(p, "YR " NTLM_T1, &r[2]);
	run_for(100);
	CHECK_INT(r[2].calls, 0);
	helper_release(l2);
	CHECK(run_until(1, 5000));
	/* Stateless, a TT is garbage: the helper is killed and the request fails. */
	CHECK(r[2].failed);
	CHECK_WHY(r[2].why, "garbage");

	/* Reservation timeout: the lease loses its child, which is free again. */
	helper_release(l);
	run_for(1100); /* the killed child's restart */
	l = helper_reserve(p, 150);
	CHECK(l != NULL);
	CHECK(helper_lease_alive(l));
	run_for(400);
	CHECK(!helper_lease_alive(l));
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[3]) == NULL);
	helper_pool_stats(p, &st);
	CHECK_INT(st.reserved, 0);
	l2 = helper_reserve(p, 0);
	CHECK(l2 != NULL);
	helper_release(l2);
	helper_release(l);

	/* The reservation timer runs only while idle between legs. */
	l = helper_reserve(p, 300);
	ndone = 0;
	memset(r, 0, sizeof(r));
	run_for(200);
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[0]) != NULL);
	CHECK(run_until(1, 5000));
	run_for(200);
	CHECK(helper_lease_alive(l)); /* re-armed by the reply */
	CHECK(helper_lease_submit(l, "KK " NTLM_T3, on_reply, &r[1]) != NULL);
	CHECK(run_until(2, 5000));
	CHECK_INT(r[1].code, HELPER_AF);

	/* A lease outlives its pool as an empty shell. */
	helper_pool_free(p);
	CHECK(!helper_lease_alive(l));
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[2]) == NULL);
	helper_release(l);
	end();
}

/* ---- shell helpers ---- */

/* Concurrency: answers every pair of requests in reverse order, so only the
 * channel-IDs tell which reply is whose. */
static void test_channel_ids(void)
{
	char cmd[PATH_MAX * 2], line[64];
	struct res r[40];

	begin("channel-IDs, out-of-order replies");
	script(cmd, sizeof(cmd), "reverse.sh",
	       "while read id1 u1 p1 && read id2 u2 p2; do\n"
	       "	echo \"$id2 OK user=$u2 message=$p2\"\n"
	       "	echo \"$id1 OK user=$u1 message=$p1\"\n"
	       "done");
	struct helper_pool *p = pool(cmd, 1, 4, 5000);

	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		snprintf(line, sizeof(line), "user%zu pw%zu", i, i);
		submit(p, line, &r[i]);
	}
	CHECK(run_until((int)PH_ARRAY_LEN(r), 10000));
	int bad = 0;

	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		char u[32], m[32];

		snprintf(u, sizeof(u), "user%zu", i);
		snprintf(m, sizeof(m), "pw%zu", i);
		if (r[i].calls != 1 || r[i].failed || strcmp(r[i].user, u) != 0 || strcmp(r[i].message, m) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	helper_pool_free(p);

	/* An unknown channel-ID, and a reply without one: killed. */
	script(cmd, sizeof(cmd), "wrongid.sh", "while read id rest; do echo \"7 OK\"; done");
	p = pool(cmd, 1, 2, 5000);
	memset(r, 0, sizeof(r));
	ndone = 0;
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "wrote \"7 OK\" before being asked");
	helper_pool_free(p);
	script(cmd, sizeof(cmd), "noid.sh", "while read id rest; do echo \"OK\"; done");
	p = pool(cmd, 1, 2, 5000);
	ndone = 0;
	submit(p, "a b", &r[1]);
	CHECK(run_until(1, 5000));
	CHECK(r[1].failed);
	CHECK_WHY(r[1].why, "without a channel-ID");
	helper_pool_free(p);
	end();
}

/* Three children share the load: each reply names its process. */
static void test_spread(void)
{
	char cmd[PATH_MAX * 2], line[64];
	static struct res r[90];
	char pids[3][256];
	int npids = 0;

	begin("load spread over 3 children");
	script(cmd, sizeof(cmd), "pid.sh", "while read u p; do echo \"OK user=$u message=$$\"; done");
	struct helper_pool *p = pool(cmd, 3, 0, 5000);

	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		snprintf(line, sizeof(line), "u%zu x", i);
		submit(p, line, &r[i]);
	}
	CHECK(run_until((int)PH_ARRAY_LEN(r), 10000));
	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		int j;

		for (j = 0; j < npids && strcmp(pids[j], r[i].message) != 0; j++)
			;
		if (j == npids && npids < 3)
			snprintf(pids[npids++], sizeof(pids[0]), "%s", r[i].message);
	}
	CHECK_INT(npids, 3);
	helper_pool_free(p);
	end();
}

static void test_legacy_ha1(void)
{
	char cmd[PATH_MAX * 2];
	struct res r;

	begin("pre-3.4 Digest helper: a bare HA1");
	script(cmd, sizeof(cmd), "oldha1.sh", "while read l; do echo " HA1_BOB "; done");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	memset(&r, 0, sizeof(r));
	submit(p, "\"bob\":\"R\"", &r);
	CHECK(run_until(1, 5000));
	CHECK(!r.failed && r.code == HELPER_OK);
	CHECK_STR(r.ha1, HA1_BOB);
	helper_pool_free(p);
	end();
}

static void test_dies(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[3];
	struct helper_pool_stats st;

	begin("a helper that exits after its first answer");
	script(cmd, sizeof(cmd), "once.sh", "read a b; echo \"OK user=$a\"; read a b; exit 3");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	memset(r, 0, sizeof(r));
	submit(p, "r1 x", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK_STR(r[0].user, "r1");
	submit(p, "r2 x", &r[1]);
	CHECK(run_until(2, 5000));
	CHECK(r[1].failed);
	CHECK_WHY(r[1].why, "exited with status 3");
	CHECK_WHY(helper_pool_last_error(p), "exited with status 3");
	uint64_t t0 = ph_mono_ms();

	submit(p, "r3 x", &r[2]); /* waits for the restart, at most a second */
	CHECK(run_until(3, 5000));
	CHECK(!r[2].failed);
	CHECK_STR(r[2].user, "r3");
	CHECK(ph_mono_ms() - t0 <= HELPER_RESTART_INTERVAL_MS + 500);
	helper_pool_stats(p, &st);
	CHECK_INT(st.restarts, 1);
	CHECK_INT(st.failures, 1);
	helper_pool_free(p);

	/* A command that does not exist: sh says so and exits 127. */
	begin("a helper command that does not exist");
	p = pool("./no-such-helper-here", 1, 0, 5000);
	memset(r, 0, sizeof(r));
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "exited with status 127");
	/* Restarted not more than once a second, however fast it dies. */
	run_for(1500);
	helper_pool_stats(p, &st);
	CHECK(st.restarts >= 1 && st.restarts <= 2);
	helper_pool_free(p);

	/* Killed by a signal. */
	begin("a helper that crashes");
	script(cmd, sizeof(cmd), "crash.sh", "read a; kill -SEGV $$");
	p = pool(cmd, 1, 0, 5000);
	memset(r, 0, sizeof(r));
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "killed by signal 11");
	helper_pool_free(p);

	/* Stops reading its input but stays: the write fails, it is killed. */
	begin("a helper that closes its stdin");
	script(cmd, sizeof(cmd), "deaf.sh", "exec 0<&-\nwhile :; do sleep 0.1; done");
	p = pool(cmd, 1, 0, 5000);
	run_for(300); /* let it close stdin first */
	memset(r, 0, sizeof(r));
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "stopped reading its input");
	helper_pool_free(p);

	/* A leased child dies mid-handshake: the lease is gone with it. */
	begin("a stateful helper dying mid-handshake");
	script(cmd, sizeof(cmd), "ntlmdie.sh", "read a b; echo \"TT abc\"; read a b; exit 4");
	p = pool(cmd, 1, 0, 5000);
	memset(r, 0, sizeof(r));
	ndone = 0;
	struct helper_lease *l = helper_reserve(p, 0);

	CHECK(l != NULL);
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[0]) != NULL);
	CHECK(run_until(1, 5000));
	CHECK_INT(r[0].code, HELPER_TT);
	CHECK_STR(r[0].token, "abc");
	CHECK(helper_lease_submit(l, "KK " NTLM_T3, on_reply, &r[1]) != NULL);
	CHECK(run_until(2, 5000));
	CHECK(r[1].failed);
	CHECK_WHY(r[1].why, "exited with status 4");
	CHECK(!helper_lease_alive(l));
	CHECK(helper_lease_submit(l, "KK " NTLM_T3, on_reply, &r[2]) == NULL);
	helper_release(l);
	helper_pool_free(p);
	end();
}

static void test_garbage(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[3];
	struct helper_pool_stats st;

	begin("a helper that answers garbage");
	script(cmd, sizeof(cmd), "garbage.sh", "while read a b; do echo 'WHAT IS THIS'; done");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	memset(r, 0, sizeof(r));
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "sent garbage (unknown result code): \"WHAT IS THIS\"");
	run_for(1100);
	helper_pool_stats(p, &st);
	CHECK_INT(st.restarts, 1);
	CHECK_INT(st.running, 1);
	helper_pool_free(p);

	begin("a helper that answers one line too long, then one just long enough");
	script(cmd, sizeof(cmd), "long.sh",
	       "read a b\n"
	       "head -c 70000 /dev/zero | tr '\\0' x; echo\n"
	       "read a b\n");
	p = pool(cmd, 1, 0, 5000);
	memset(r, 0, sizeof(r));
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "a line longer than 65536 bytes");
	helper_pool_free(p);
	script(cmd, sizeof(cmd), "long2.sh",
	       "read a b\n"
	       "printf 'OK message='; head -c 65525 /dev/zero | tr '\\0' y; echo\n"
	       "read a b\n");
	p = pool(cmd, 1, 0, 5000);
	ndone = 0;
	submit(p, "a b", &r[1]);
	CHECK(run_until(1, 5000));
	CHECK(!r[1].failed);
	CHECK_INT(r[1].message_len, 65525);
	helper_pool_free(p);
	end();
}

static void test_unsolicited(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[3];
	struct helper_pool_stats st;

	begin("a helper that talks before being asked");
	script(cmd, sizeof(cmd), "early.sh", "echo 'OK early'; while read a b; do echo \"OK user=$a\"; done");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	run_for(300);
	CHECK_WHY(helper_pool_last_error(p), "wrote \"OK early\" before being asked");
	helper_pool_stats(p, &st);
	CHECK_INT(st.running, 0); /* killed, its restart a second after its start */
	helper_pool_free(p);

	/* Two lines for one request: the second never reaches the next one. */
	begin("a helper that answers twice");
	script(cmd, sizeof(cmd), "twice.sh", "while read a b; do echo \"OK user=$a\"; echo 'OK user=extra'; done");
	p = pool(cmd, 1, 0, 5000);
	memset(r, 0, sizeof(r));
	submit(p, "r1 x", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK_STR(r[0].user, "r1");
	run_for(200);
	CHECK_WHY(helper_pool_last_error(p), "wrote \"OK user=extra\" before being asked");
	submit(p, "r2 x", &r[1]);
	CHECK(run_until(2, 5000));
	CHECK(!r[1].failed);
	CHECK_STR(r[1].user, "r2");
	helper_pool_free(p);
	end();
}

static void test_timeout(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[4];
	struct helper_pool_stats st;

	begin("a helper that never answers");
	script(cmd, sizeof(cmd), "mute.sh", "while read a b; do :; done");
	struct helper_pool *p = pool(cmd, 1, 0, 300);

	memset(r, 0, sizeof(r));
	submit(p, "r1 x", &r[0]);
	submit(p, "r2 x", &r[1]); /* queued behind it: gives up too */
	CHECK(run_until(2, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "did not answer within 300 ms");
	CHECK(r[1].failed);
	CHECK_WHY(r[1].why, "no helper became free within 300 ms");
	helper_pool_stats(p, &st);
	CHECK_INT(st.timeouts, 1);
	helper_pool_free(p);

	/* A late reply goes nowhere: the child was killed and restarted. */
	begin("a late reply never reaches a later request");
	script(cmd, sizeof(cmd), "late.sh",
	       "while read a b; do\n"
	       "	case $a in slow*) sleep 1;; esac\n"
	       "	echo \"OK user=$a\"\n"
	       "done");
	p = pool(cmd, 1, 0, 400);
	memset(r, 0, sizeof(r));
	ndone = 0;
	submit(p, "slow1 x", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "did not answer within 400 ms");
	run_for(600);               /* the restart comes 1 s after the start */
	submit(p, "fast x", &r[1]); /* to the restarted child */
	CHECK(run_until(2, 5000));
	CHECK(!r[1].failed);
	CHECK_STR(r[1].user, "fast");
	run_for(300); /* past when slow1's answer would have come */
	CHECK_INT(ndone, 2);
	helper_pool_stats(p, &st);
	CHECK_INT(st.timeouts, 1);
	CHECK_INT(st.restarts, 1);
	helper_pool_free(p);
	end();
}

static void test_queue(void)
{
	char cmd[PATH_MAX * 2], line[64];
	struct res r[12];

	begin("a slow helper: queue order kept");
	script(cmd, sizeof(cmd), "slow.sh", "while read a b; do sleep 0.05; echo \"OK user=$a\"; done");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		snprintf(line, sizeof(line), "r%zu x", i);
		submit(p, line, &r[i]);
	}
	CHECK(run_until((int)PH_ARRAY_LEN(r), 10000));
	int bad = 0;

	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++) {
		char u[16];

		snprintf(u, sizeof(u), "r%zu", i);
		if (r[i].calls != 1 || r[i].failed || r[i].order != (int)i + 1 || strcmp(r[i].user, u) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	helper_pool_free(p);

	begin("a full queue");
	script(cmd, sizeof(cmd), "mute2.sh", "while read a b; do :; done");
	p = pool(cmd, 1, 0, 0);
	helper_pool_set_queue_max(p, 5);
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < 8; i++)
		submit(p, "a b", &r[i]); /* 1 sent, 5 queued, 2 refused */
	CHECK_INT(ndone, 0);             /* not inside submit */
	CHECK(run_until(2, 2000));
	CHECK(r[6].failed && r[7].failed);
	CHECK_WHY(r[6].why, "helper queue full (5 requests waiting)");
	helper_cancel(helper_submit(p, "c d", on_reply, &r[8])); /* refused, then cancelled: silent */
	run_for(100);
	CHECK_INT(ndone, 2);
	CHECK_INT(r[8].calls, 0);

	/* Freed with 6 requests pending: no callback, no child left. */
	uint64_t t0 = ph_mono_ms();

	helper_pool_free(p);
	CHECK(ph_mono_ms() - t0 < 1000);
	CHECK_INT(ndone, 2);
	for (size_t i = 0; i < 6; i++)
		CHECK_INT(r[i].calls, 0);

	/* A queue of 0: only idle children take requests. */
	p = pool(cmd, 1, 0, 0);
	helper_pool_set_queue_max(p, 0);
	memset(r, 0, sizeof(r));
	ndone = 0;
	submit(p, "a b", &r[0]);
	submit(p, "a b", &r[1]);
	CHECK(run_until(1, 2000));
	CHECK_INT(r[0].calls, 0);
	CHECK(r[1].failed);
	helper_pool_free(p);
	end();
}

static void test_cancel(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[3];

	begin("cancel before the reply");
	script(cmd, sizeof(cmd), "slow3.sh", "while read a b; do sleep 0.2; echo \"OK user=$a\"; done");
	struct helper_pool *p = pool(cmd, 1, 0, 5000);

	memset(r, 0, sizeof(r));
	struct helper_req *a = helper_submit(p, "a x", on_reply, &r[0]);
	struct helper_req *b = helper_submit(p, "b x", on_reply, &r[1]);

	submit(p, "c x", &r[2]);
	run_for(50);
	helper_cancel(a); /* written already: its reply is dropped */
	helper_cancel(b); /* still queued */
	CHECK(run_until(1, 5000));
	CHECK_INT(r[0].calls, 0);
	CHECK_INT(r[1].calls, 0);
	CHECK_INT(r[2].calls, 1);
	CHECK_STR(r[2].user, "c");
	run_for(300);
	CHECK_INT(ndone, 1);
	helper_pool_free(p);
	end();
}

static void test_free_pending(void)
{
	char cmd[PATH_MAX * 2];
	struct res r[10];

	begin("pool freed with requests in flight");
	script(cmd, sizeof(cmd), "mute3.sh", "while read a b; do :; done");
	struct helper_pool *p = pool(cmd, 3, 0, 5000);

	memset(r, 0, sizeof(r));
	for (size_t i = 0; i < PH_ARRAY_LEN(r); i++)
		submit(p, "a b", &r[i]);
	run_for(100);
	helper_pool_free(p);
	CHECK_INT(ndone, 0);
	CHECK(no_children());

	/* A helper deaf to stdin's EOF and to SIGTERM: SIGKILL, bounded. */
	begin("pool freed with a helper that ignores EOF and SIGTERM");
	script(cmd, sizeof(cmd), "stubborn.sh", "trap '' TERM\nwhile :; do read a b || sleep 0.05; done");
	p = pool(cmd, 2, 0, 5000);
	submit(p, "a b", &r[0]);
	run_for(200);
	uint64_t t0 = ph_mono_ms();

	helper_pool_free(p);
	CHECK(ph_mono_ms() - t0 < 2000);
	CHECK_INT(ndone, 0);

	/* The same behind a shell wrapper: the whole group goes. */
	begin("pool freed with a wrapped helper that ignores EOF and SIGTERM");
	wrapped_script(cmd, sizeof(cmd), "stubborn2.sh",
	               "trap '' TERM\necho $$ >>\"$(dirname \"$0\")/stubborn2.pids\"\n"
	               "while :; do read a b || sleep 0.05; done");
	p = pool(cmd, 2, 0, 5000);
	run_for(300);
	t0 = ph_mono_ms();
	helper_pool_free(p);
	CHECK(ph_mono_ms() - t0 < 2000);
	CHECK(pids_gone("stubborn2.pids", 1000));

	/* Killed for garbage at run time: the wrapper dies of SIGTERM, the
	 * helper under it, deaf to it, is killed with the group. */
	begin("a wrapped helper killed for garbage takes its group along");
	wrapped_script(cmd, sizeof(cmd), "stubborn3.sh",
	               "trap '' TERM\necho $$ >>\"$(dirname \"$0\")/stubborn3.pids\"\n"
	               "while read a b; do echo 'WHAT'; done");
	p = pool(cmd, 1, 0, 5000);
	memset(r, 0, sizeof(r));
	ndone = 0;
	submit(p, "a b", &r[0]);
	CHECK(run_until(1, 5000));
	CHECK(r[0].failed);
	CHECK_WHY(r[0].why, "garbage");
	run_for(300);
	CHECK(pids_gone("stubborn3.pids", 1000));
	helper_pool_free(p);
	end();
}

/* ---- Kerberos: negotiate_kerberos_auth with a real ticket ---- */

/* Sets up the realm, gets alice a ticket and has curl send its SPNEGO token
 * to the test's listener on $PORT.  77: nothing to test with. */
static const char kdc_script[] =
        "set -u\n"
        ". \"$PH_SRCDIR/tests/lib/kdc.sh\"\n"
        "if ! kdc_have_binaries; then\n"
        "	echo 'SKIP: negotiate_kerberos_auth: needs the MIT KDC (apt-get install krb5-kdc)'; exit 77\n"
        "fi\n"
        "if ! curl -V 2>/dev/null | grep -q SPNEGO; then\n"
        "	echo 'SKIP: negotiate_kerberos_auth: needs curl with SPNEGO'; exit 77\n"
        "fi\n"
        "trap kdc_stop EXIT\n"
        "kdc_start \"$DIR/kdc\" TEST.PINHOLE pinhole.test >&2 || exit 1\n"
        "kdc_add_user alice alice-secret || exit 1\n"
        "kdc_add_service HTTP/proxy.pinhole.test \"$DIR/proxy.keytab\" || exit 1\n"
        "kdc_kinit alice alice-secret || exit 1\n"
        "curl -s -o /dev/null --max-time 10 --negotiate -u : \\\n"
        "	--resolve proxy.pinhole.test:$PORT:127.0.0.1 http://proxy.pinhole.test:$PORT/ || exit 1\n";

/* Serves curl on lfd: 401 with "Negotiate" until it sends a token. */
static bool grab_token(int lfd, pid_t script, char *tok, size_t cap)
{
	uint64_t end = ph_mono_ms() + 15000;
	char buf[16384];
	size_t n = 0;
	int c = -1;

	while (ph_mono_ms() < end) {
		struct pollfd pfd = { .fd = c >= 0 ? c : lfd, .events = POLLIN };

		if (waitpid(script, NULL, WNOHANG) != 0)
			break; /* gave up (or skipped) before sending a token */
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (c < 0) {
			c = accept(lfd, NULL, NULL);
			n = 0;
			continue;
		}
		ssize_t k = read(c, buf + n, sizeof(buf) - 1 - n);

		if (k <= 0) {
			close(c);
			c = -1;
			continue;
		}
		n += (size_t)k;
		buf[n] = '\0';
		for (char *eoh; (eoh = strstr(buf, "\r\n\r\n"));) {
			static const char h401[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n"
			                           "Content-Length: 0\r\n\r\n";
			static const char h200[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			const char *a = strcasestr(buf, "\r\nAuthorization: Negotiate ");

			*eoh = '\0';
			if (a && a < eoh) {
				a += strlen("\r\nAuthorization: Negotiate ");
				snprintf(tok, cap, "%.*s", (int)strcspn(a, "\r\n"), a);
				CHECK(write(c, h200, sizeof(h200) - 1) > 0);
				close(c);
				return true;
			}
			CHECK(write(c, h401, sizeof(h401) - 1) > 0);
			n -= (size_t)(eoh + 4 - buf);
			memmove(buf, eoh + 4, n + 1);
		}
	}
	if (c >= 0)
		close(c);
	return false;
}

static void test_kerberos(void)
{
	const char *srcdir = getenv("PH_SRCDIR") ? getenv("PH_SRCDIR") : ".";
	char lib[PATH_MAX], port[16], dir[PATH_MAX + 8], cmd[PATH_MAX * 4];
	static char token[16384], line[16400];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	pid_t pid;
	int st = -1;

	begin("negotiate_kerberos_auth with a ticket from a test realm");
	snprintf(lib, sizeof(lib), "%s/tests/lib/kdc.sh", srcdir);
	if (access(lib, R_OK) != 0) {
		printf("SKIP: negotiate_kerberos_auth: no %s (set PH_SRCDIR to the source tree)\n", lib);
		end();
		return;
	}
	if (!have_squid_helper("negotiate_kerberos_auth")) {
		end();
		return;
	}
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		printf("SKIP: negotiate_kerberos_auth: no loopback listener: %s\n", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		end();
		return;
	}
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	snprintf(dir, sizeof(dir), "%s/krb", tmpdir);
	mkdir(dir, 0700);
	setenv("PH_SRCDIR", srcdir, 1);
	setenv("PORT", port, 1);
	setenv("DIR", dir, 1);
	char *argv[] = { "sh", "-c", (char *)kdc_script, NULL };

	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
		close(lfd);
		end();
		return;
	}
	bool got = grab_token(lfd, pid, token, sizeof(token));

	close(lfd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	unsetenv("PORT");
	unsetenv("DIR");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		end();
		return;
	}
	CHECK(got);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!got) {
		end();
		return;
	}

	/* The acceptor needs only the keytab (and the realm's krb5.conf). */
	snprintf(cmd, sizeof(cmd),
	         "KRB5_CONFIG='%s/kdc/krb5.conf' KRB5_KTNAME='%s/proxy.keytab' '%s/negotiate_kerberos_auth' "
	         "-s HTTP/proxy.pinhole.test@TEST.PINHOLE -t none",
	         dir, dir, squid_dir);
	struct helper_pool *p = pool(cmd, 2, 0, 5000);
	struct res r[3];

	memset(r, 0, sizeof(r));
	struct helper_lease *l = helper_reserve(p, 0);

	CHECK(l != NULL);
	snprintf(line, sizeof(line), "YR %s", token);
	CHECK(helper_lease_submit(l, line, on_reply, &r[0]) != NULL);
	CHECK(run_until(1, 5000));
	CHECK(!r[0].failed);
	CHECK(r[0].code == HELPER_OK || r[0].code == HELPER_AF);
	CHECK_STR(r[0].user, "alice@TEST.PINHOLE");
	CHECK(r[0].has_token); /* the mutual-auth token for the last 200 */
	helper_release(l);

	/* An NTLM token is refused with BH, a broken one with BH or ERR:
	 * answers, not garbage, so the helper is not restarted. */
	l = helper_reserve(p, 0);
	CHECK(helper_lease_submit(l, "YR " NTLM_T1, on_reply, &r[1]) != NULL);
	CHECK(run_until(2, 5000));
	CHECK(!r[1].failed);
	CHECK_INT(r[1].code, HELPER_BH);
	CHECK_WHY(r[1].message, "NTLM");
	CHECK(helper_lease_submit(l, "YR bm90IGEgdG9rZW4=", on_reply, &r[2]) != NULL);
	CHECK(run_until(3, 5000));
	CHECK(!r[2].failed);
	CHECK(r[2].code == HELPER_BH || r[2].code == HELPER_ERR);
	helper_release(l);
	struct helper_pool_stats hs;

	helper_pool_stats(p, &hs);
	CHECK_INT(hs.restarts, 0);
	helper_pool_free(p);
	end();
}

static void cleanup(void)
{
	char *argv[] = { "rm", "-rf", tmpdir, NULL };

	if (tmpdir[0])
		run(argv);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN); /* as engine_run() does */
	squid_dir = getenv("PH_SQUID_HELPERS") ? getenv("PH_SQUID_HELPERS") : "/usr/lib/squid";
	snprintf(tmpdir, sizeof(tmpdir), "%s/pinhole-helper.XXXXXX", t && t[0] ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "test_auth_helper: mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 99;
	}
	loop = loop_new();
	if (!loop) {
		fprintf(stderr, "test_auth_helper: loop_new failed\n");
		cleanup();
		return 99;
	}
	test_parse();
	test_url_encode();
	test_basic_ncsa();
	test_digest_file(0);
	test_digest_file(8);
	test_ntlm_fake();
	test_channel_ids();
	test_spread();
	test_legacy_ha1();
	test_dies();
	test_garbage();
	test_unsolicited();
	test_timeout();
	test_queue();
	test_cancel();
	test_free_pending();
	test_kerberos();
	loop_free(loop);
	cleanup();
	return unit_summary("test_auth_helper");
}
