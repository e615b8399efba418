/*
 * test_auth_basic.c - Basic authentication over htpasswd files made by the
 * real tools (Apache's htpasswd from apache2-utils, mkpasswd from whois):
 * every hash format, right and wrong passwords, malformed credentials, every
 * config error with its FILE:LINE, the cache, and many threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <crypt.h>
#include <openssl/evp.h>

#include "common.h"
#include "strbuf.h"
#include "config.h"
#include "htpasswd.h"
#include "scheme.h"
#include "unit.h"

extern char **environ;

static char tmpdir[PATH_MAX];
static char conf[PATH_MAX + 32];             /* the config file the directives pretend to come from */
static const uint64_t T0 = 1800000000000ull; /* a wall clock, in ms */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool have_tool(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (colon ? 1 : 0);
	}
	return false;
}

/* Runs argv (no shell); its stdout, without the final newline, in a string
 * the caller frees.  NULL when it does not exit with 0. */
static char *capture(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int fds[2], status;
	pid_t pid;
	char *out = NULL;
	size_t len = 0;

	if (pipe(fds) != 0)
		return NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	for (;;) {
		char chunk[4096];
		ssize_t r = read(fds[0], chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		out = ph_realloc(out, len + (size_t)r + 1);
		memcpy(out + len, chunk, (size_t)r);
		len += (size_t)r;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(out);
		return NULL;
	}
	if (!out)
		out = ph_strdup("");
	out[len] = '\0';
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return out;
}

/* "user:hash" from `htpasswd -nb FLAGS [-C COST] user password`. */
static char *htpasswd_line(const char *flags, const char *cost, const char *user, const char *pw)
{
	char f[16];
	char *argv[8];
	int n = 0;
	char *line;

	snprintf(f, sizeof(f), "-nb%s", flags);
	argv[n++] = "htpasswd";
	argv[n++] = f;
	if (cost) {
		argv[n++] = "-C";
		argv[n++] = (char *)cost;
	}
	argv[n++] = (char *)user;
	argv[n++] = (char *)pw;
	argv[n] = NULL;
	line = capture(argv);
	if (!line || strncmp(line, user, strlen(user)) != 0 || line[strlen(user)] != ':') {
		fprintf(stderr, "htpasswd %s %s failed\n", f, user);
		exit(2);
	}
	return line;
}

/* A crypt(3) hash from mkpasswd (whois), or from libxcrypt when it is
 * missing: "user:hash". */
static char *mkpasswd_line(const char *method, const char *prefix, const char *user, const char *pw)
{
	char *argv[] = { "mkpasswd", "-m", (char *)method, (char *)pw, NULL };
	char *hash = have_tool("mkpasswd") ? capture(argv) : NULL;
	char *line;

	if (!hash) {
		char setting[CRYPT_GENSALT_OUTPUT_SIZE];
		struct crypt_data *cd = ph_calloc(1, sizeof(*cd));
		const char *h;

		if (!crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)) ||
		    !(h = crypt_rn(pw, setting, cd, sizeof(*cd)))) {
			fprintf(stderr, "cannot make a %s hash\n", method);
			exit(2);
		}
		hash = ph_strdup(h);
		free(cd);
	}
	line = ph_malloc(strlen(user) + strlen(hash) + 2);
	sprintf(line, "%s:%s", user, hash);
	free(hash);
	return line;
}

static char *path_in_tmp(const char *name)
{
	char *p = ph_malloc(strlen(tmpdir) + strlen(name) + 2);

	sprintf(p, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	char *p = path_in_tmp(name);
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(p);
		exit(2);
	}
	free(p);
}

static void remove_file(const char *name)
{
	char *p = path_in_tmp(name);

	unlink(p);
	free(p);
}

/* Joins lines with newlines into one text (the caller frees). */
static char *join(char *const *lines, size_t n)
{
	size_t len = 1;
	char *t;

	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	t = ph_malloc(len);
	t[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(t, lines[i]);
		strcat(t, "\n");
	}
	return t;
}

/* ---- driving the scheme ---- */

static void *configure(char **argv, int argc, struct cfg_errors *errs, int *rc)
{
	void *state = NULL;

	*rc = auth_basic_ops.configure(&state, argv, argc, conf, 7, errs);
	if (*rc == 0)
		*rc = auth_basic_ops.finish(state, conf, errs);
	return state;
}

static void *load(const char *file, const char *cache)
{
	struct cfg_errors errs = { 0 };
	char *argv[] = { "htpasswd", (char *)file, "cache", (char *)cache, NULL };
	int rc;
	void *st = configure(argv, cache ? 4 : 2, &errs, &rc);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected config error: %s\n", errs.msgs[i]);
	if (rc != 0 || !st) {
		fprintf(stderr, "cannot load %s\n", file);
		exit(2);
	}
	cfg_errors_free(&errs);
	return st;
}

static enum auth_status step_raw(const void *st, const char *cred, size_t len, uint64_t now, struct auth_result *res)
{
	char header[8192];
	struct auth_request req = { .method = "CONNECT", .uri = "example.com:443", .uri_len = 15, .now_ms = now };
	void *session = NULL;
	enum auth_status s;

	snprintf(header, sizeof(header), "Basic %.*s", (int)len, cred);
	req.authorization = header;
	req.authorization_len = strlen(header);
	memset(res, 0, sizeof(*res));
	s = auth_basic_ops.step(st, &session, "pinhole", &req, cred, len, res);
	if (session)
		auth_basic_ops.session_free(session);
	buf_release(&res->headers);
	return s;
}

/* Sends user ":" password (both may hold any byte). */
static enum auth_status step_up(const void *st, const char *user, size_t ulen, const char *pw, size_t plen,
                                uint64_t now, struct auth_result *res)
{
	unsigned char raw[1200];
	char b64[1700];

	memcpy(raw, user, ulen);
	raw[ulen] = ':';
	memcpy(raw + ulen + 1, pw, plen);
	base64_encode(raw, ulen + 1 + plen, b64, sizeof(b64));
	return step_raw(st, b64, strlen(b64), now, res);
}

static enum auth_status step(const void *st, const char *user, const char *pw, struct auth_result *res)
{
	return step_up(st, user, strlen(user), pw, strlen(pw), T0, res);
}

static uint64_t timed(const void *st, const char *user, const char *pw, uint64_t now, enum auth_status want)
{
	struct auth_result res;
	uint64_t t = now_ns();
	enum auth_status s = step_up(st, user, strlen(user), pw, strlen(pw), now, &res);

	t = now_ns() - t;
	CHECK_INT(s, want);
	return t ? t : 1;
}

/* ---- the users ---- */

struct user {
	const char *name;
	const char *password;
	const char *kind; /* for messages */
};

/* One user per hash format.  Passwords hold a colon, spaces and UTF-8
 * where the format allows (DES reads 8 characters only). */
static const struct user users[] = {
	{ "alice", "Wonder:land \xc3\xbc", "bcrypt $2y$ cost 10 (htpasswd -B)" },
	{ "bob", "builder", "apr1 (htpasswd -m)" },
	{ "carol", "c4r0l! :-)", "{SHA} (htpasswd -s)" },
	{ "dave", "d@ve-256", "SHA-256-crypt (htpasswd -2)" },
	{ "erin", "erin 512 \xe2\x82\xac", "SHA-512-crypt (htpasswd -5)" },
	{ "frank", "frank8ch", "DES crypt (htpasswd -d)" },
	{ "gina", "gina-y", "yescrypt (mkpasswd)" },
	{ "hank", "h4nk-2a", "bcrypt $2a$ (mkpasswd)" },
	{ "ivan", "ivan-md5", "MD5-crypt (mkpasswd)" },
	{ "joe", "j0e's pass", "bcrypt $2b$ (htpasswd_make_line)" },
	{ "kim", "kim-cost-5", "bcrypt $2y$ cost 5 (htpasswd -B)" },
	{ "J\xc3\xbcrgen", "\xc3\xa4\xc3\xb6\xc3\xbc", "apr1, UTF-8 name (htpasswd -m)" },
};

static char *make_users_file(void)
{
	char *lines[PH_ARRAY_LEN(users) + 2];
	char err[200];
	size_t n = 0;

	lines[n++] = htpasswd_line("B", "10", "alice", users[0].password);
	lines[n++] = htpasswd_line("m", NULL, "bob", users[1].password);
	lines[n++] = htpasswd_line("s", NULL, "carol", users[2].password);
	lines[n++] = htpasswd_line("2", NULL, "dave", users[3].password);
	lines[n++] = htpasswd_line("5", NULL, "erin", users[4].password);
	lines[n++] = htpasswd_line("d", NULL, "frank", users[5].password);
	lines[n++] = mkpasswd_line("yescrypt", "$y$", "gina", users[6].password);
	lines[n++] = mkpasswd_line("bcrypt-a", "$2a$", "hank", users[7].password);
	lines[n++] = mkpasswd_line("md5crypt", "$1$", "ivan", users[8].password);
	lines[n++] = htpasswd_make_line("joe", users[9].password, err, sizeof(err));
	lines[n++] = htpasswd_line("B", NULL, "kim", users[10].password);
	lines[n++] = htpasswd_line("m", NULL, users[11].name, users[11].password);
	CHECK(lines[9] != NULL);
	CHECK(strncmp(lines[0], "alice:$2y$10$", 13) == 0);
	CHECK(strncmp(lines[1], "bob:$apr1$", 10) == 0);
	CHECK(strncmp(lines[2], "carol:{SHA}", 11) == 0);
	CHECK(strncmp(lines[3], "dave:$5$", 8) == 0);
	CHECK(strncmp(lines[4], "erin:$6$", 8) == 0);
	CHECK_INT(strlen(lines[5]), 6 + 13);
	CHECK(strncmp(lines[6], "gina:$y$", 8) == 0);
	CHECK(strncmp(lines[7], "hank:$2a$", 9) == 0);
	CHECK(strncmp(lines[8], "ivan:$1$", 8) == 0);
	CHECK(strncmp(lines[9], "joe:$2b$10$", 11) == 0);
	CHECK(strncmp(lines[10], "kim:$2y$05$", 11) == 0);

	/* Comments, blank lines, CRLF, white space and an extra field after
	 * the hash are Apache's too (bob's line has the last three). */
	size_t len = 64;

	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 16;
	char *text = ph_malloc(len);

	strcpy(text, "\xef\xbb\xbf# made by test_auth_basic (with a byte order mark)\n\n");
	for (size_t i = 0; i < n; i++) {
		strcat(text, lines[i]);
		strcat(text, i == 1 ? ":comment \r\n" : "\n");
		free(lines[i]);
	}
	return text;
}

/* ---- tests ---- */

static void test_every_format(const void *st)
{
	struct auth_result res;

	for (size_t i = 0; i < PH_ARRAY_LEN(users); i++) {
		const struct user *u = &users[i];
		char wrong[128];

		if (step(st, u->name, u->password, &res) != AUTH_OK)
			fprintf(stderr, "right password refused for %s: %s\n", u->kind, res.reason);
		CHECK_INT(res.status, AUTH_OK);
		CHECK_STR(res.user, u->name);
		CHECK_STR(res.scheme, "Basic");

		snprintf(wrong, sizeof(wrong), "%sX", u->password);
		if (i == 5) /* DES reads 8 characters: change one of them */
			snprintf(wrong, sizeof(wrong), "Frank8ch");
		if (step(st, u->name, wrong, &res) != AUTH_DENIED)
			fprintf(stderr, "wrong password accepted for %s\n", u->kind);
		CHECK_INT(res.status, AUTH_DENIED);
		CHECK_STR(res.scheme, "Basic");
		CHECK_STR(res.user, "");
		CHECK_WHY(res.reason, "wrong user name or password for ");
		CHECK_WHY(res.reason, u->name);
		CHECK(!strstr(res.reason, wrong));

		CHECK_INT(step(st, u->name, "", &res), AUTH_DENIED);
	}
	/* User names are case-sensitive, as in Apache. */
	CHECK_INT(step(st, "ALICE", users[0].password, &res), AUTH_DENIED);
}

static void test_apr1_lengths(void)
{
	/* Password lengths around MD5's 16-byte blocks and the bit loop. */
	static const char *const pw[] = {
		"",
		"a",
		"1234567",
		"0123456789abcdef",
		"0123456789abcdefg",
		"a rather long password of 40 chars!!",
		"\xc3\xa9t\xc3\xa9 \xe2\x98\x80",
	};
	char *lines[PH_ARRAY_LEN(pw)], name[16];
	struct auth_result res;
	void *st;

	for (size_t i = 0; i < PH_ARRAY_LEN(pw); i++) {
		snprintf(name, sizeof(name), "a%zu", i);
		lines[i] = htpasswd_line("m", NULL, name, pw[i]);
	}
	char *text = join(lines, PH_ARRAY_LEN(pw));

	write_file("apr1.htpasswd", text);
	st = load("apr1.htpasswd", "0");
	for (size_t i = 0; i < PH_ARRAY_LEN(pw); i++) {
		snprintf(name, sizeof(name), "a%zu", i);
		CHECK_INT(step(st, name, pw[i], &res), AUTH_OK);
		CHECK_INT(step(st, name, i ? "" : "x", &res), AUTH_DENIED);
		free(lines[i]);
	}
	auth_basic_ops.free(st);
	free(text);
	remove_file("apr1.htpasswd");
}

/* The strict base64 every scheme decodes with (src/base64.c). */
static void test_base64(void)
{
	static const struct {
		const char *in;
		long want; /* decoded length, -1 refused */
	} cases[] = {
		{ "", 0 },     { "YQ==", 1 },   { "YWI=", 2 },   { "YWJj", 3 },  { "YWJj \t", 3 },   { "YR==", -1 },
		{ "YQ=", -1 }, { "YWJ=", -1 },  { "YW==", -1 },  { "Y===", -1 }, { "YQ==YWJj", -1 }, { "YW\nJj", -1 },
		{ "YWJ", -1 }, { " YWJj", -1 }, { "YWJj=", -1 }, { "/+/+", 3 },  { "-_-_", -1 },
	};
	unsigned char out[8];
	char enc[8];

	for (size_t i = 0; i < PH_ARRAY_LEN(cases); i++) {
		long got = base64_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out));

		if (got != cases[i].want)
			fprintf(stderr, "base64 \"%s\": decoded length %ld, want %ld\n", cases[i].in, got,
			        cases[i].want);
		CHECK_INT(got, cases[i].want);
	}
	/* Every 1- and 2-byte value: one spelling decodes, the ones with
	 * padding bits set do not. */
	for (unsigned v = 0; v < 65536; v++) {
		unsigned char in[2] = { (unsigned char)(v >> 8), (unsigned char)v };
		size_t len = v < 256 ? 1 : 2;
		size_t n = base64_encode(in + 2 - len, len, enc, sizeof(enc));
		char *last = strchr(enc, '=') - 1;
		char spelled = *last;

		CHECK_INT(base64_decode(enc, n, out, sizeof(out)), (long)len);
		/* the next letters up differ only in the padding bits */
		for (int k = 1; k < (len == 1 ? 16 : 4); k++) {
			static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

			*last = tab[(strchr(tab, spelled) - tab) + k];
			if (base64_decode(enc, n, out, sizeof(out)) != -1) {
				CHECK_INT(base64_decode(enc, n, out, sizeof(out)), -1);
				fprintf(stderr, "base64 \"%s\" accepted\n", enc);
				return;
			}
		}
	}
	/* Decoding never writes more than cap. */
	CHECK_INT(base64_decode(B("YWJj"), out, 2), -1);
	CHECK_INT(base64_decode(B("YWI="), out, 2), 2);
}

static void test_malformed(const void *st)
{
	static const struct {
		const char *cred;
		const char *what;
	} bad[] = {
		{ "", "empty" },
		{ "!!!!", "not base64" },
		{ "YWxpY2U=", "no colon (\"alice\")" },
		{ "YWJj", "no colon (\"abc\")" },
		{ "YW=", "bad length" },
		{ "YWxpY2U6eA", "missing padding" },
		{ "YW=x", "data after padding" },
		{ "YWxp Y2U6", "space inside" },
		{ "=", "only padding" },
	};
	struct auth_result res;
	char big[6000];

	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		if (step_raw(st, bad[i].cred, strlen(bad[i].cred), T0, &res) != AUTH_DENIED)
			fprintf(stderr, "accepted malformed credentials: %s\n", bad[i].what);
		CHECK_INT(res.status, AUTH_DENIED);
		CHECK_STR(res.reason, "malformed Basic credentials");
		CHECK_STR(res.scheme, "Basic");
	}
	/* Too long to be real. */
	memset(big, 'A', sizeof(big));
	CHECK_INT(step_raw(st, big, sizeof(big), T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed Basic credentials");

	/* Trailing white space is tolerated (bob:builder). */
	CHECK_INT(step_raw(st, B("Ym9iOmJ1aWxkZXI=  "), T0, &res), AUTH_OK);
	CHECK_STR(res.user, "bob");
	/* Only the canonical encoding: "ZXJ=" decodes to the same "er" as
	 * "ZXI=", with padding bits set (RFC 4648 3.5). */
	CHECK_INT(step_raw(st, B("Ym9iOmJ1aWxkZXJ="), T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed Basic credentials");

	/* Unknown user, empty user, NUL bytes, a name too long for the file. */
	CHECK_INT(step(st, "mallory", "builder", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong user name or password for mallory");
	CHECK_INT(step(st, "", "builder", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong user name or password for ");
	CHECK_INT(step_up(st, B("bob"), B("builder\0"), T0, &res), AUTH_DENIED);
	CHECK_INT(step_up(st, B("bob\0"), B("builder"), T0, &res), AUTH_DENIED);
	CHECK_INT(step_up(st, B("bob\r\nX-Evil"), B("builder"), T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong user name or password for bob??X-Evil");

	char longname[600];

	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT(step(st, longname, "x", &res), AUTH_DENIED);
	CHECK(strlen(res.reason) < sizeof(res.reason));
	CHECK_WHY(res.reason, "wrong user name or password for uuuu");

	/* The password after the first colon may hold more colons. */
	CHECK_INT(step(st, "alice", "Wonder", &res), AUTH_DENIED);
}

static void test_challenge_and_dump(const void *st)
{
	struct buf out = { 0 };
	char *want;

	auth_basic_ops.challenge(st, "pinhole", &out);
	want = ph_strndup(buf_data(&out), buf_len(&out));
	CHECK_STR(want, "Proxy-Authenticate: Basic realm=\"pinhole\", charset=\"UTF-8\"\r\n");
	free(want);
	buf_release(&out);
	auth_basic_ops.challenge(st, "Office \"HQ\" \\ 2\r\n", &out);
	want = ph_strndup(buf_data(&out), buf_len(&out));
	CHECK_STR(want, "Proxy-Authenticate: Basic realm=\"Office \\\"HQ\\\" \\\\ 2\", charset=\"UTF-8\"\r\n");
	free(want);
	buf_release(&out);

	struct strbuf dump = { 0 };

	auth_basic_ops.dump(st, &dump);
	want = ph_malloc(strlen(tmpdir) + 100);
	sprintf(want, "auth basic htpasswd %s/users.htpasswd cache 5m\n", tmpdir);
	CHECK_STR(dump.p, want);
	free(dump.p);
	free(want);
	CHECK(auth_basic_ops.connection_bound == false);
	CHECK_STR(auth_basic_ops.name, "Basic");
	CHECK_STR(auth_basic_ops.keyword, "basic");
}

/* The config errors: each with its FILE:LINE and nothing secret. */
static void expect_errors(char **argv, int argc, const char *const *want, size_t nwant, const char *secret)
{
	struct cfg_errors errs = { 0 };
	int rc;
	void *st = configure(argv, argc, &errs, &rc);

	CHECK_INT(rc, -1);
	CHECK(st == NULL);
	CHECK_INT(errs.n, nwant);
	for (size_t i = 0; i < errs.n && i < nwant; i++) {
		char *w = ph_malloc(strlen(want[i]) * (strlen(tmpdir) + 1) + 1);
		const char *p = want[i];
		char *o = w;

		/* "@" stands for the temporary directory */
		for (; *p; p++) {
			if (*p == '@') {
				strcpy(o, tmpdir);
				o += strlen(tmpdir);
			} else {
				*o++ = *p;
			}
		}
		*o = '\0';
		CHECK_STR(errs.msgs[i], w);
		if (secret && strstr(errs.msgs[i], secret))
			fprintf(stderr, "secret '%s' in error: %s\n", secret, errs.msgs[i]);
		CHECK(!secret || !strstr(errs.msgs[i], secret));
		free(w);
	}
	auth_basic_ops.free(st);
	cfg_errors_free(&errs);
}

static void test_config_errors(void)
{
	char *good = htpasswd_line("B", "4", "good", "pw");
	char *apr = htpasswd_line("m", NULL, "x", "pw");
	const char *aprhash = strchr(apr, ':') + 1;
	char *text = ph_malloc(4096);

	/* Every line is checked: all errors, in line order. */
	snprintf(text, 4096,
	         "# users\n"                                                          /* 1 */
	         "\n"                                                                 /* 2 */
	         "%s\n"                                                               /* 3 */
	         "nocolonhunter2\n"                                                   /* 4 */
	         "plain:hunter2\n"                                                    /* 5 */
	         "ssha:{SSHA}aGVsbG8gd29ybGQgaGVsbG8=\n"                              /* 6 */
	         "argon:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n"               /* 7 */
	         "good:%s\n"                                                          /* 8 */
	         ":%s\n"                                                              /* 9 */
	         "badb:$2y$10$tooShortToBeBcrypt\n"                                   /* 10 */
	         "sneaky:$ecret$Pa55word$\n"                                          /* 11 */
	         "sha:{SHA}tooShort\n"                                                /* 12 */
	         "tab\tuser:%s\n"                                                     /* 13 */
	         "empty:\n"                                                           /* 14 */
	         "good:%s\n"                                                          /* 15 */
	         "old:$2x$05$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n" /* 16 */
	         "bsdi:_J9..CCCCXBrJUJV154M\n"                                        /* 17 */
	         "md5:$1$toolongsalt$abcdefghijklmnopqrstuv\n",                       /* 18 */
	         good, aprhash, aprhash, aprhash, aprhash);
	write_file("bad.htpasswd", text);

	char *argv[] = { "htpasswd", "bad.htpasswd", NULL };
	static const char *const want[] = {
		"@/bad.htpasswd:4: malformed line: expected USER:HASH (a user name, a colon, a password hash)",
		"@/bad.htpasswd:5: user 'plain' has a plaintext password or a hash in an unknown format; pinhole "
		"refuses plaintext passwords: make a hash with 'pinhole passwd --basic plain' or 'htpasswd -B FILE "
		"plain'",
		"@/bad.htpasswd:6: user 'ssha' has a {SSHA} hash, a format pinhole does not support (it reads bcrypt, "
		"SHA-256/512-crypt, yescrypt, apr1, MD5-crypt, {SHA} and DES crypt); make a hash with 'pinhole passwd "
		"--basic ssha' or 'htpasswd -B FILE ssha'",
		"@/bad.htpasswd:7: user 'argon' has a $argon2id$ hash, a format pinhole does not support (it reads "
		"bcrypt, SHA-256/512-crypt, yescrypt, apr1, MD5-crypt, {SHA} and DES crypt); make a hash with "
		"'pinhole passwd --basic argon' or 'htpasswd -B FILE argon'",
		"@/bad.htpasswd:8: duplicate user 'good' (first at line 3); remove one of the lines",
		"@/bad.htpasswd:9: malformed line: the user name before the colon is empty",
		"@/bad.htpasswd:10: malformed bcrypt hash for user 'badb'; make a hash with 'pinhole passwd --basic "
		"badb' or 'htpasswd -B FILE badb'",
		"@/bad.htpasswd:11: user 'sneaky' has a plaintext password or a hash in an unknown format; pinhole "
		"refuses plaintext passwords: make a hash with 'pinhole passwd --basic sneaky' or 'htpasswd -B "
		"FILE sneaky'",
		"@/bad.htpasswd:12: malformed {SHA} hash for user 'sha'; make a hash with 'pinhole passwd --basic sha' "
		"or 'htpasswd -B FILE sha'",
		"@/bad.htpasswd:13: the user name 'tab?user' contains a control character",
		"@/bad.htpasswd:14: user 'empty' has an empty password hash; make a hash with 'pinhole passwd --basic "
		"empty' or 'htpasswd -B FILE empty'",
		"@/bad.htpasswd:15: duplicate user 'good' (first at line 3); remove one of the lines",
		"@/bad.htpasswd:16: user 'old' has a $2x$ hash, a format pinhole does not support (it reads bcrypt, "
		"SHA-256/512-crypt, yescrypt, apr1, MD5-crypt, {SHA} and DES crypt); make a hash with 'pinhole "
		"passwd --basic old' or 'htpasswd -B FILE old'",
		"@/bad.htpasswd:17: user 'bsdi' has a BSDI extended DES hash, a format pinhole does not support; make "
		"a hash with 'pinhole passwd --basic bsdi' or 'htpasswd -B FILE bsdi'",
		"@/bad.htpasswd:18: malformed MD5-crypt hash for user 'md5'; make a hash with 'pinhole passwd --basic "
		"md5' or 'htpasswd -B FILE md5'",
	};
	expect_errors(argv, 2, want, PH_ARRAY_LEN(want), "hunter2");
	expect_errors(argv, 2, want, PH_ARRAY_LEN(want), "Pa55word");

	/* The directive itself. */
	char *helper[] = { "helper", "/nonexistent/basic_ncsa_auth /etc/squid/passwd", "children", "5" };
	static const char *const w_helper[] = {
		"@/pinhole.conf:7: auth basic helper: /nonexistent/basic_ncsa_auth: no such file"
	};
	expect_errors(helper, 4, w_helper, 1, NULL);

	static const char *const w_none[] = {
		"@/pinhole.conf:7: auth basic needs a credential store: write 'auth "
		"basic htpasswd FILE [cache DURATION]' or 'auth basic helper \"CMD\" [children N]'"
	};
	expect_errors(NULL, 0, w_none, 1, NULL);

	char *ldap[] = { "ldap", "x" };
	static const char *const w_ldap[] = {
		"@/pinhole.conf:7: unknown auth basic store 'ldap': write 'auth basic "
		"htpasswd FILE [cache DURATION]' or 'auth basic helper \"CMD\" [children N]'"
	};
	expect_errors(ldap, 2, w_ldap, 1, NULL);

	char *nofile[] = { "htpasswd" };
	static const char *const w_nofile[] = {
		"@/pinhole.conf:7: auth basic htpasswd needs a FILE: write 'auth "
		"basic htpasswd FILE [cache DURATION]' or 'auth basic helper \"CMD\" [children N]'"
	};
	expect_errors(nofile, 1, w_nofile, 1, NULL);

	char *missing[] = { "htpasswd", "missing.htpasswd" };
	static const char *const w_missing[] = {
		"@/pinhole.conf:7: cannot read the htpasswd file '@/missing.htpasswd': No such file or directory"
	};
	expect_errors(missing, 2, w_missing, 1, NULL);

	char *isdir[] = { "htpasswd", "." };
	static const char *const w_isdir[] = {
		"@/pinhole.conf:7: cannot read the htpasswd file '@/.': it is not a regular file"
	};
	expect_errors(isdir, 2, w_isdir, 1, NULL);

	write_file("empty.htpasswd", "# nobody yet\n\n");
	char *empty[] = { "htpasswd", "empty.htpasswd" };
	static const char *const w_empty[] = { "@/pinhole.conf:7: the htpasswd file '@/empty.htpasswd' has no users; "
		                               "add one with 'pinhole passwd --basic USER >> @/empty.htpasswd'" };
	expect_errors(empty, 2, w_empty, 1, NULL);

	char *baddur[] = { "htpasswd", "users.htpasswd", "cache", "5 min" };
	static const char *const w_baddur[] = { "@/pinhole.conf:7: bad duration '5 min' for auth basic cache: write a "
		                                "number with s, m or h (e.g. 5m), or 0 to turn the cache off" };
	expect_errors(baddur, 4, w_baddur, 1, NULL);

	char *nodur[] = { "htpasswd", "users.htpasswd", "cache" };
	static const char *const w_nodur[] = { "@/pinhole.conf:7: bad duration '' for auth basic cache: write a "
		                               "number with s, m or h (e.g. 5m), or 0 to turn the cache off" };
	expect_errors(nodur, 3, w_nodur, 1, NULL);

	char *twice[] = { "htpasswd", "users.htpasswd", "cache", "1m", "cache", "2m" };
	static const char *const w_twice[] = {
		"@/pinhole.conf:7: 'cache' is given twice for auth basic htpasswd: keep one"
	};
	expect_errors(twice, 6, w_twice, 1, NULL);

	char *opt[] = { "htpasswd", "users.htpasswd", "ttl", "5m" };
	static const char *const w_opt[] = {
		"@/pinhole.conf:7: unknown option 'ttl' for auth basic htpasswd: write "
		"'auth basic htpasswd FILE [cache DURATION]' or 'auth basic helper \"CMD\" [children N]'"
	};
	expect_errors(opt, 4, w_opt, 1, NULL);

	/* A second `auth basic` directive. */
	struct cfg_errors errs = { 0 };
	char *ok[] = { "htpasswd", "users.htpasswd" };
	void *st = NULL;
	char *abs = path_in_tmp("users.htpasswd");
	char *okabs[] = { "htpasswd", abs, "cache", "90s" };

	CHECK_INT(auth_basic_ops.configure(&st, ok, 2, conf, 3, &errs), 0);
	CHECK_INT(auth_basic_ops.configure(&st, okabs, 4, conf, 9, &errs), -1);
	CHECK_INT(errs.n, 1);
	if (errs.n == 1) {
		char w[PATH_MAX * 2 + 200];

		snprintf(w, sizeof(w),
		         "%s:9: auth basic is already configured at %s:3; pinhole reads one htpasswd file", conf, conf);
		CHECK_STR(errs.msgs[0], w);
	}
	auth_basic_ops.free(st);
	cfg_errors_free(&errs);

	/* An absolute path, and durations as the rest of the config writes them. */
	static const char *const durs[][2] = {
		{ "90s", "90s" }, { "1h", "1h" }, { "250ms", "250ms" }, { "120", "2m" }, { "0", "0" }
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(durs); i++) {
		struct strbuf out = { 0 };
		char w[PATH_MAX + 100];

		okabs[3] = (char *)durs[i][0];
		st = NULL;
		CHECK_INT(auth_basic_ops.configure(&st, okabs, 4, conf, 3, &errs), 0);
		CHECK_INT(errs.n, 0);
		auth_basic_ops.dump(st, &out);
		snprintf(w, sizeof(w), "auth basic htpasswd %s cache %s\n", abs, durs[i][1]);
		CHECK_STR(out.p, w);
		free(out.p);
		auth_basic_ops.free(st);
	}
	free(abs);
	free(good);
	free(apr);
	free(text);
	remove_file("bad.htpasswd");
	remove_file("empty.htpasswd");
}

static void test_make_line(void)
{
	char err[200];
	char *line = htpasswd_make_line("zoe", "z0e pass:word", err, sizeof(err));
	char *file = path_in_tmp("zoe.htpasswd");

	CHECK(line != NULL);
	if (!line)
		return;
	CHECK(strncmp(line, "zoe:$2b$10$", 11) == 0);
	CHECK_INT(strlen(line), 4 + 60);
	/* Apache's own tool agrees. */
	write_file("zoe.htpasswd", line);
	char *right[] = { "htpasswd", "-vb", file, "zoe", "z0e pass:word", NULL };
	char *wrong[] = { "htpasswd", "-vb", file, "zoe", "z0e pass:wore", NULL };
	char *out = capture(right);

	CHECK(out != NULL);
	free(out);
	out = capture(wrong);
	CHECK(out == NULL);
	free(out);
	free(line);
	free(file);
	remove_file("zoe.htpasswd");

	/* Two lines for one password differ (random salt). */
	char *a = htpasswd_make_line("u", "same", err, sizeof(err));
	char *b = htpasswd_make_line("u", "same", err, sizeof(err));

	CHECK(a && b && strcmp(a, b) != 0);
	free(a);
	free(b);

	static const struct {
		const char *user, *pw, *why;
	} bad[] = {
		{ "", "secretpw", "the user name is empty" },
		{ "a:b", "secretpw", "a user name cannot contain ':'" },
		{ "#root", "secretpw", "cannot start with '#'" },
		{ " bob", "secretpw", "begin or end with a space" },
		{ "bo\tb", "secretpw", "control character" },
		{ "bob", "", "the password is empty" },
		{ "bob", "secretpw-secretpw-secretpw-secretpw-secretpw-secretpw-secretpw-secretpw-x",
		  "longer than 72 bytes" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		const char *why = err;

		CHECK(htpasswd_make_line(bad[i].user, bad[i].pw, err, sizeof(err)) == NULL);
		CHECK_WHY(why, bad[i].why);
		CHECK(!strstr(err, "secretpw"));
	}
}

static void test_store_api(void)
{
	struct cfg_errors errs = { 0 };
	char *path = path_in_tmp("users.htpasswd");
	struct htpasswd *h = htpasswd_load(path, conf, 1, &errs);
	char why[160];

	CHECK(h != NULL);
	CHECK_INT(errs.n, 0);
	CHECK_INT(htpasswd_count(h), PH_ARRAY_LEN(users));
	CHECK_INT(htpasswd_verify(h, B("bob"), B("builder"), why, sizeof(why)), HTPASSWD_MATCH);
	CHECK_INT(htpasswd_verify(h, B("bob"), B("builder!"), why, sizeof(why)), HTPASSWD_MISMATCH);
	CHECK_INT(htpasswd_verify(h, B("nobody"), B("builder"), why, sizeof(why)), HTPASSWD_MISMATCH);
	CHECK_INT(htpasswd_verify(h, B("bo"), B("builder"), NULL, 0), HTPASSWD_MISMATCH);
	htpasswd_free(h);
	free(path);
}

/* An unknown user costs as much as a known one (the most common kind of
 * hash in the file is bcrypt; the first such user, alice, has cost 10). */
static void test_unknown_user_timing(const void *st)
{
	uint64_t known = timed(st, "alice", "not her password", T0, AUTH_DENIED);
	uint64_t unknown = timed(st, "nobody-here", "some password", T0, AUTH_DENIED);

	if (unknown * 3 < known)
		fprintf(stderr, "unknown user took %llu ns, a known one %llu ns\n", (unsigned long long)unknown,
		        (unsigned long long)known);
	CHECK(unknown * 3 >= known);
}

static void test_cache(void)
{
	void *st = load("users.htpasswd", "5m");
	void *nocache = load("users.htpasswd", "0");
	const char *pw = users[0].password;
	uint64_t first, second, other, expired, backwards;

	/* The first check pays a bcrypt (cost 10), the second does not. */
	first = timed(st, "alice", pw, T0, AUTH_OK);
	second = UINT64_MAX;
	for (int i = 0; i < 3; i++) {
		uint64_t t = timed(st, "alice", pw, T0 + 1000 + (uint64_t)i, AUTH_OK);

		second = PH_MIN(second, t);
	}
	if (first <= 100 * second)
		fprintf(stderr, "cache: first check %llu ns, second %llu ns\n", (unsigned long long)first,
		        (unsigned long long)second);
	CHECK(first > 100 * second);

	/* Another password for the same user is not a hit. */
	other = timed(st, "alice", "Wonder:land", T0 + 2000, AUTH_DENIED);
	CHECK(other * 10 > first);
	CHECK(timed(st, "alice", pw, T0 + 3000, AUTH_OK) * 10 < first);

	/* After the TTL, or when the wall clock went back, bcrypt again. */
	expired = timed(st, "alice", pw, T0 + 5 * 60 * 1000 + 1, AUTH_OK);
	CHECK(expired * 10 > first);
	CHECK(timed(st, "alice", pw, T0 + 5 * 60 * 1000 + 2, AUTH_OK) * 10 < first);
	backwards = timed(st, "alice", pw, T0 - 3600 * 1000, AUTH_OK);
	CHECK(backwards * 10 > first);

	/* cache 0: every check pays. */
	timed(nocache, "alice", pw, T0, AUTH_OK);
	CHECK(timed(nocache, "alice", pw, T0, AUTH_OK) * 10 > first);

	/* The password changes and the config is reloaded: the new state
	 * knows only the new password, whatever the old one cached. */
	char *line = htpasswd_line("B", "10", "alice", "new password");
	char *path = path_in_tmp("users.htpasswd");
	char *text = auth_read_file(path, 1 << 20, &(size_t){ 0 });
	char *a = strstr(text, "\nalice:");
	char *eol = strchr(a + 1, '\n');
	char *changed = ph_malloc(strlen(text) + strlen(line) + 2);

	sprintf(changed, "%.*s\n%s%s", (int)(a - text), text, line, eol);
	write_file("users2.htpasswd", changed);
	void *reloaded = load("users2.htpasswd", "5m");
	struct auth_result res;

	CHECK_INT(step(reloaded, "alice", pw, &res), AUTH_DENIED);
	CHECK_INT(step(reloaded, "alice", "new password", &res), AUTH_OK);
	CHECK_INT(step(reloaded, "alice", pw, &res), AUTH_DENIED);
	CHECK_INT(step(reloaded, "bob", "builder", &res), AUTH_OK);
	auth_basic_ops.free(reloaded);
	remove_file("users2.htpasswd");
	free(changed);
	free(text);
	free(path);
	free(line);
	auth_basic_ops.free(st);
	auth_basic_ops.free(nocache);
}

/* ---- threads ---- */

struct worker {
	const void *st;
	int id;
	int rounds;
	size_t nusers; /* for the {SHA} crowd: user0..userN-1, password pwN */
	atomic_int *failures;
};

/* The fast formats and cheap bcrypt, right and wrong, plus the crowd. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	static const size_t fast[] = { 1, 2, 3, 5, 8, 10, 11 }; /* apr1 {SHA} $5$ DES $1$ bcrypt-5 UTF-8 */

	for (int r = 0; r < w->rounds; r++) {
		struct auth_result res;
		char name[32], pw[32];

		if (w->nusers) {
			size_t u = ((size_t)r * 7919 + (size_t)w->id * 104729) % w->nusers;

			snprintf(name, sizeof(name), "user%zu", u);
			snprintf(pw, sizeof(pw), "pw%zu", u);
			if (step_up(w->st, name, strlen(name), pw, strlen(pw), T0 + (uint64_t)r, &res) != AUTH_OK ||
			    strcmp(res.user, name) != 0)
				atomic_fetch_add(w->failures, 1);
			snprintf(pw, sizeof(pw), "pw%zu", u + 1);
			if (step_up(w->st, name, strlen(name), pw, strlen(pw), T0 + (uint64_t)r, &res) != AUTH_DENIED)
				atomic_fetch_add(w->failures, 1);
			continue;
		}
		const struct user *u = &users[fast[(size_t)(r + w->id) % PH_ARRAY_LEN(fast)]];
		bool right = (r + w->id) % 3 != 0;
		const char *p = right ? u->password : "wrong";

		if (step_up(w->st, u->name, strlen(u->name), p, strlen(p), T0, &res) != (right ? AUTH_OK : AUTH_DENIED))
			atomic_fetch_add(w->failures, 1);
		if (right && strcmp(res.user, u->name) != 0)
			atomic_fetch_add(w->failures, 1);
	}
	return NULL;
}

static void run_workers(const void *st, int nthreads, int rounds, size_t nusers)
{
	pthread_t t[16];
	struct worker w[16];
	atomic_int failures = 0;

	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .st = st, .id = i, .rounds = rounds, .nusers = nusers, .failures = &failures };
		CHECK_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&failures), 0);
}

static void test_threads(void)
{
	void *st = load("users.htpasswd", "5m");
	void *nocache = load("users.htpasswd", "0");

	run_workers(st, 8, 60, 0);
	run_workers(nocache, 4, 20, 0);
	auth_basic_ops.free(st);
	auth_basic_ops.free(nocache);

	/* More users than cache entries: eviction under contention.  {SHA}
	 * lines are made here (SHA-1, base64) to keep it fast. */
	enum { CROWD = 6000 };
	size_t cap = (size_t)CROWD * 64, len = 0;
	char *text = ph_malloc(cap);

	for (size_t i = 0; i < CROWD; i++) {
		char pw[32], b64[64];
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen;

		snprintf(pw, sizeof(pw), "pw%zu", i);
		EVP_Digest(pw, strlen(pw), md, &mdlen, EVP_sha1(), NULL);
		base64_encode(md, mdlen, b64, sizeof(b64));
		len += (size_t)snprintf(text + len, cap - len, "user%zu:{SHA}%s\n", i, b64);
	}
	write_file("crowd.htpasswd", text);
	st = load("crowd.htpasswd", "1h");
	run_workers(st, 8, 2000, CROWD);
	auth_basic_ops.free(st);
	free(text);
	remove_file("crowd.htpasswd");
}

int main(void)
{
	char *text;
	void *st;

	if (!have_tool("htpasswd")) {
		printf("test_auth_basic: skipped: Apache's htpasswd is not installed (Debian package apache2-utils)\n");
		return 77;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/pinhole-basic-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		return 2;
	}
	snprintf(conf, sizeof(conf), "%s/pinhole.conf", tmpdir);

	text = make_users_file();
	write_file("users.htpasswd", text);
	free(text);
	st = load("users.htpasswd", NULL);

	test_base64();
	test_every_format(st);
	test_apr1_lengths();
	test_malformed(st);
	test_challenge_and_dump(st);
	test_config_errors();
	test_make_line();
	test_store_api();
	test_unknown_user_timing(st);
	auth_basic_ops.free(st);
	test_cache();
	test_threads();

	remove_file("users.htpasswd");
	if (rmdir(tmpdir) != 0)
		perror(tmpdir);
	return unit_summary("test_auth_basic");
}
