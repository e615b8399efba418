/*
 * test_auth_digest.c - Digest (digest.c, htdigest.c): RFC 7616's example,
 * files written by Apache's htdigest, configuration errors, every refusal
 * with its reason, the replay table, and curl's own Digest code answering
 * pinhole's challenges (through a small Python server on loopback).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth.h"
#include "common.h"
#include "strbuf.h"
#include "config.h"
#include "digest.h"
#include "htdigest.h"
#include "scheme.h"
#include "unit.h"

/* ---- the errors the configuration functions reported ---- */

static char last_err[1024];
static int nerrors;
static struct cfg_errors errs;

/* Takes the errors reported so far into last_err and nerrors. */
static void take_errors(void)
{
	if (errs.n)
		snprintf(last_err, sizeof(last_err), "%s", errs.msgs[errs.n - 1]);
	nerrors += (int)errs.n;
	cfg_errors_free(&errs);
}

/* A pointer, which CHECK_WHY may test against NULL. */
static const char *lasterr(void)
{
	return last_err;
}

/* ---- fixture ---- */

static char tmpdir[PATH_MAX];
static char conf_path[PATH_MAX + 32];

static void write_file(const char *name, const char *content)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
}

static char *read_text(const char *name)
{
	char path[PATH_MAX + 64];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return auth_read_file(path, 1 << 20, &len);
}

/* Feeds "auth digest" directives, one per line of text (the words after
 * "digest"), then finish().  0, or -1 with the last error in last_err. */
static int conf(void **st, const char *text)
{
	char copy[2048];
	int line = 0, rc = 0;

	*st = NULL;
	nerrors = 0;
	last_err[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *argv[16];
		int argc = 0;

		line++;
		for (char *s2 = NULL, *w = strtok_r(l, " ", &s2); w && argc < 16; w = strtok_r(NULL, " ", &s2))
			argv[argc++] = w;
		if (auth_digest_ops.configure(st, argv, argc, conf_path, line, &errs) != 0)
			rc = -1;
	}
	if (*st && auth_digest_ops.finish(*st, conf_path, &errs) != 0)
		rc = -1;
	take_errors();
	if (rc == 0)
		CHECK_INT(nerrors, 0);
	else
		CHECK(nerrors > 0);
	return rc;
}

static void unconf(void *st)
{
	if (st)
		auth_digest_ops.free(st);
}

/* ---- an independent client: OpenSSL directly, not htdigest.c ---- */

static void h_hex(const char *alg, const char *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_get_digestbyname(strcmp(alg, "SHA-256") == 0 ? "SHA256" : "MD5"), NULL);
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

struct answer {
	const char *alg;  /* "MD5", "SHA-256", NULL: no algorithm parameter (MD5) */
	const char *user; /* the name in the file */
	const char *pass;
	const char *realm;
	const char *method;
	const char *uri;
	const char *nonce;
	const char *opaque;
	const char *nc;
	bool userhash;
	const char *extra; /* appended as is */
};

/* The Proxy-Authorization value (without "Digest ") a client would send. */
static const char *client(const struct answer *a, char *out, size_t cap)
{
	const char *alg = a->alg ? a->alg : "MD5";
	char buf[1024], ha1[129], ha2[129], resp[129], name[300];

	snprintf(buf, sizeof(buf), "%s:%s:%s", a->user, a->realm, a->pass);
	h_hex(alg, buf, ha1);
	snprintf(buf, sizeof(buf), "%s:%s", a->method, a->uri);
	h_hex(alg, buf, ha2);
	snprintf(buf, sizeof(buf), "%s:%s:%s:%s:auth:%s", ha1, a->nonce, a->nc ? a->nc : "00000001", "0a4f113b", ha2);
	h_hex(alg, buf, resp);
	if (a->userhash) {
		snprintf(buf, sizeof(buf), "%s:%s", a->user, a->realm);
		h_hex(alg, buf, name);
	} else {
		snprintf(name, sizeof(name), "%s", a->user);
	}
	snprintf(out, cap,
	         "username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", %s%s%sresponse=\"%s\", qop=auth, "
	         "nc=%s, cnonce=\"0a4f113b\"%s%s%s%s%s",
	         name, a->realm, a->nonce, a->uri, a->alg ? "algorithm=" : "", a->alg ? a->alg : "", a->alg ? ", " : "",
	         resp, a->nc ? a->nc : "00000001", a->opaque ? ", opaque=\"" : "", a->opaque ? a->opaque : "",
	         a->opaque ? "\"" : "", a->userhash ? ", userhash=true" : "", a->extra ? a->extra : "");
	return out;
}

/* The parameter p="..." of the first challenge line. */
static void param_of(const char *text, const char *p, char *out, size_t cap)
{
	char key[32];
	const char *s, *e;

	snprintf(key, sizeof(key), "%s=\"", p);
	s = strstr(text, key);
	out[0] = '\0';
	if (!s)
		return;
	s += strlen(key);
	e = strchr(s, '"');
	snprintf(out, cap, "%.*s", (int)(e - s), s);
}

struct nonce {
	char nonce[64];
	char opaque[64];
};

static struct nonce fresh(void *st, const char *realm)
{
	struct buf b = { 0 };
	struct nonce n;

	auth_digest_ops.challenge(st, realm, &b);
	buf_append(&b, "", 1);
	param_of(buf_data(&b), "nonce", n.nonce, sizeof(n.nonce));
	param_of(buf_data(&b), "opaque", n.opaque, sizeof(n.opaque));
	buf_release(&b);
	return n;
}

/* One step; res->headers is NUL-terminated for strstr (or empty). */
static enum auth_status step(void *st, const char *realm, const char *method, const char *target, const char *cred,
                             uint64_t now, struct auth_result *res)
{
	struct auth_request req = {
		.method = method,
		.uri = target,
		.uri_len = strlen(target),
		.now_ms = now ? now : ph_wall_ms(),
	};
	void *session = NULL;
	enum auth_status s;

	req.authorization = cred;
	req.authorization_len = strlen(cred);
	memset(res, 0, sizeof(*res));
	s = auth_digest_ops.step(st, &session, realm, &req, cred, strlen(cred), res);
	CHECK(session == NULL);
	if (buf_len(&res->headers))
		buf_append(&res->headers, "", 1);
	return s;
}

static const char *hdrs(const struct auth_result *res)
{
	return buf_len(&res->headers) ? buf_data(&res->headers) : "";
}

/* ---- RFC 7616 section 3.9.1 ---- */

#define RFC_REALM "http-auth@example.org"
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static void test_rfc7616_example(void)
{
	char ha1[129], out[129], line[512];
	struct auth_result res;
	void *st;
	char *l;

	/* The client of this test agrees with the RFC... */
	h_hex("SHA-256", "Mufasa:" RFC_REALM ":Circle of Life", ha1);
	CHECK_STR(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	/* ...and so does digest_response(). */
	CHECK_INT(digest_response(HTDIGEST_SHA256, ha1, RFC_NONCE, "00000001", RFC_CNONCE, "auth", "GET",
	                          "/dir/index.html", out),
	          0);
	CHECK_STR(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	h_hex("MD5", "Mufasa:" RFC_REALM ":Circle of Life", ha1);
	CHECK_INT(digest_response(HTDIGEST_MD5, ha1, RFC_NONCE, "00000001", RFC_CNONCE, "auth", "GET",
	                          "/dir/index.html", out),
	          0);
	CHECK_STR(out, "8ca523f5e9506fed4657c9700eebdbec");

	/* The RFC's Authorization verbatim: the nonce is not pinhole's, but
	 * the response proves the password, hence stale=true. */
	l = htdigest_make_line("Mufasa", RFC_REALM, "Circle of Life");
	snprintf(line, sizeof(line), "%s\n", l);
	free(l);
	write_file("rfc.digest", line);
	CHECK_INT(conf(&st, "file rfc.digest"), 0);
	const char *sha = "username=\"Mufasa\", realm=\"" RFC_REALM "\", uri=\"/dir/index.html\", algorithm=SHA-256, "
	                  "nonce=\"" RFC_NONCE "\", nc=00000001, cnonce=\"" RFC_CNONCE "\", qop=auth, "
	                  "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
	                  "opaque=\"" RFC_OPAQUE "\"";
	const char *md5 = "username=\"Mufasa\", realm=\"" RFC_REALM "\", uri=\"/dir/index.html\", algorithm=MD5, "
	                  "nonce=\"" RFC_NONCE "\", nc=00000001, cnonce=\"" RFC_CNONCE "\", qop=auth, "
	                  "response=\"8ca523f5e9506fed4657c9700eebdbec\", opaque=\"" RFC_OPAQUE "\"";
	const char *bad = "username=\"Mufasa\", realm=\"" RFC_REALM "\", uri=\"/dir/index.html\", algorithm=MD5, "
	                  "nonce=\"" RFC_NONCE "\", nc=00000001, cnonce=\"" RFC_CNONCE "\", qop=auth, "
	                  "response=\"8ca523f5e9506fed4657c9700eebdbed\", opaque=\"" RFC_OPAQUE "\"";

	CHECK_INT(step(st, RFC_REALM, "GET", "/dir/index.html", sha, 0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "nonce not issued by this proxy");
	CHECK(strstr(hdrs(&res), "stale=true") != NULL);
	CHECK(strstr(hdrs(&res), "algorithm=SHA-256") != NULL);
	buf_release(&res.headers);
	CHECK_INT(step(st, RFC_REALM, "GET", "/dir/index.html", md5, 0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "nonce not issued by this proxy");
	CHECK(strstr(hdrs(&res), "stale=true") != NULL);
	buf_release(&res.headers);
	CHECK_INT(step(st, RFC_REALM, "GET", "/dir/index.html", bad, 0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "nonce not issued by this proxy");
	CHECK_INT(buf_len(&res.headers), 0); /* no stale=true without the password */
	buf_release(&res.headers);
	unconf(st);
}

/* ---- the credential file ---- */

static void test_make_line(void)
{
	char *l = htdigest_make_line("alice", "pinhole", "secret1");

	/* Values from Python's hashlib. */
	CHECK_STR(l, "alice:pinhole:0fa946f1045ef6bdf189a27d12838e1a:"
	             "d14aea7125801a2e675f9a5ce9ceccbca24064ba3c9f8ad28daf97b3710c1c96");
	free(l);
	l = htdigest_make_line("j\xc3\xbcrgen", "pinhole",
	                       "gr\xc3\xbc\xc3\x9f"
	                       "e");
	CHECK_STR(l, "j\xc3\xbcrgen:pinhole:96ad34d66e51ac5118ff2f7d1dfc9d8f:"
	             "75b713ba4ea54039bb9da4a47eeaadc85d6db90d973675c9322e29a380f1a328");
	free(l);
	CHECK(htdigest_make_line("a:b", "pinhole", "x") == NULL);
	CHECK(htdigest_make_line("a", "pin:hole", "x") == NULL);
	CHECK(htdigest_make_line("", "pinhole", "x") == NULL);
	CHECK(htdigest_make_line("a\nb", "pinhole", "x") == NULL);
}

/* Lines made by Debian's htdigest (apache2-utils) load and verify. */
static void test_real_htdigest(void)
{
	char cmd[PATH_MAX * 2 + 256], cred[2048];
	struct auth_result res;
	struct nonce n;
	void *st;

	if (system("command -v htdigest >/dev/null 2>&1") != 0) {
		printf("test_auth_digest: htdigest not installed (apache2-utils), skipping its files\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && printf 'pw one\\npw one\\n' | htdigest -c ht.digest 'Example Corp proxy' bob >/dev/null "
	         "2>&1 && printf 'two\\ntwo\\n' | htdigest ht.digest 'Example Corp proxy' carol >/dev/null 2>&1",
	         tmpdir);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(conf(&st, "file ht.digest"), 0);
	if (!st)
		return;
	n = fresh(st, "Example Corp proxy");
	client(&(struct answer){ .user = "bob",
	                         .pass = "pw one",
	                         .realm = "Example Corp proxy",
	                         .method = "CONNECT",
	                         .uri = "www.example.com:443",
	                         .nonce = n.nonce,
	                         .opaque = n.opaque },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "Example Corp proxy", "CONNECT", "www.example.com:443", cred, 0, &res), AUTH_OK);
	CHECK_STR(res.user, "bob");
	CHECK_STR(res.scheme, "Digest");
	n = fresh(st, "Example Corp proxy");
	client(&(struct answer){ .user = "carol",
	                         .pass = "two",
	                         .realm = "Example Corp proxy",
	                         .method = "GET",
	                         .uri = "/",
	                         .nonce = n.nonce,
	                         .opaque = n.opaque },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "Example Corp proxy", "GET", "http://www.example.com/", cred, 0, &res), AUTH_OK);
	CHECK_STR(res.user, "carol");
	/* Only MD5 is offered: htdigest writes no SHA-256 field. */
	{
		struct buf b = { 0 };

		auth_digest_ops.challenge(st, "Example Corp proxy", &b);
		buf_append(&b, "", 1);
		CHECK(strstr(buf_data(&b), "algorithm=MD5") != NULL);
		CHECK(strstr(buf_data(&b), "SHA-256") == NULL);
		buf_release(&b);
	}
	unconf(st);
}

#define ALICE_MD5 "0fa946f1045ef6bdf189a27d12838e1a"
#define ALICE_SHA "d14aea7125801a2e675f9a5ce9ceccbca24064ba3c9f8ad28daf97b3710c1c96"

static void test_config_errors(void)
{
	void *st;
	char want[PATH_MAX + 256];

	write_file("good.digest", "alice:pinhole:" ALICE_MD5 ":" ALICE_SHA "\n");
	write_file("md5only.digest", "# made by htdigest\n\nalice:pinhole:" ALICE_MD5 "\r\n");

	CHECK_INT(conf(&st, "file"), -1);
	CHECK_WHY(lasterr(), "auth digest file needs a file name");
	unconf(st);
	CHECK_INT(conf(&st, "file missing.digest"), -1);
	snprintf(want, sizeof(want), "pinhole.conf:1: cannot read digest file %s/missing.digest: No such file", tmpdir);
	CHECK_WHY(lasterr(), want);
	unconf(st);

	write_file("bad.digest", "alice:pinhole\n"
	                         ":pinhole:" ALICE_MD5 "\n"
	                         "bob:pinhole:xyz\n"
	                         "carol:pinhole:" ALICE_MD5 ":abc\n"
	                         "dave:pinhole:" ALICE_MD5 ":" ALICE_SHA ":extra\n");
	CHECK_INT(conf(&st, "file bad.digest"), -1);
	CHECK_INT(nerrors, 5); /* one per line; "needs its users" is not added */
	snprintf(want, sizeof(want), "%s/bad.digest:5: expected user:realm:HA1", tmpdir);
	CHECK_WHY(lasterr(), want);
	unconf(st);
	write_file("bad2.digest", ":pinhole:" ALICE_MD5 "\n");
	CHECK_INT(conf(&st, "file bad2.digest"), -1);
	snprintf(want, sizeof(want), "%s/bad2.digest:1: the user name is empty", tmpdir);
	CHECK_WHY(lasterr(), want);
	unconf(st);
	write_file("bad3.digest", "alice:pinhole:" ALICE_MD5 ":abc\n");
	CHECK_INT(conf(&st, "file bad3.digest"), -1);
	CHECK_WHY(lasterr(), "bad3.digest:1: the fourth field must be 64 hex digits");
	unconf(st);
	write_file("bad4.digest", "alice:pinhole:" ALICE_MD5 "x\n");
	CHECK_INT(conf(&st, "file bad4.digest"), -1);
	CHECK_WHY(lasterr(), "bad4.digest:1: the third field must be 32 hex digits");
	unconf(st);
	write_file("dup.digest", "alice:pinhole:" ALICE_MD5 "\nbob:pinhole:" ALICE_MD5 "\nalice:pinhole:" ALICE_MD5
	                         "\nalice:other:" ALICE_MD5 "\n");
	CHECK_INT(conf(&st, "file dup.digest"), -1);
	CHECK_WHY(lasterr(), "dup.digest:3: user 'alice' of realm 'pinhole' is already on line 1");
	unconf(st);
	write_file("empty.digest", "# nobody yet\n");
	CHECK_INT(conf(&st, "file empty.digest"), -1);
	CHECK_WHY(lasterr(), "holds no user");
	unconf(st);

	CHECK_INT(conf(&st, "file md5only.digest algorithm SHA-256"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:1: algorithm SHA-256 needs the HA1-SHA-256 field");
	unconf(st);
	CHECK_INT(conf(&st, "file md5only.digest algorithm MD5 SHA-256"), -1);
	CHECK_WHY(lasterr(), "no line of");
	unconf(st);
	write_file("mixed.digest", "alice:pinhole:" ALICE_MD5 ":" ALICE_SHA "\nbob:pinhole:" ALICE_MD5 "\n");
	CHECK_INT(conf(&st, "file mixed.digest"), -1);
	CHECK_WHY(lasterr(), "mixed.digest:2: user 'bob' has no HA1-SHA-256 field while 1 other line has one");
	unconf(st);
	CHECK_INT(conf(&st, "file mixed.digest algorithm MD5"), 0);
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest algorithm MD5-sess"), -1);
	CHECK_WHY(lasterr(), "algorithm MD5-sess is not supported");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest algorithm SHA-512-256"), -1);
	CHECK_WHY(lasterr(), "unknown digest algorithm 'SHA-512-256'");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest algorithm"), -1);
	CHECK_WHY(lasterr(), "algorithm needs MD5, SHA-256 or both");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest sha256"), -1);
	CHECK_WHY(lasterr(), "unexpected 'sha256' after auth digest file");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest\nfile good.digest"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:2: auth digest file or helper is already given on line 1");
	unconf(st);

	CHECK_INT(conf(&st, "helper"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:1: auth digest helper needs a command");
	unconf(st);
	CHECK_INT(conf(&st, "nonce-ttl 5m"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:1: auth digest needs its users: add auth digest file FILE");
	unconf(st);
	CHECK_INT(conf(&st, "fiel good.digest"), -1);
	CHECK_WHY(lasterr(), "unknown auth digest setting 'fiel'");
	unconf(st);
	st = NULL;
	CHECK_INT(auth_digest_ops.configure(&st, NULL, 0, conf_path, 7, &errs), -1);
	take_errors();
	CHECK_WHY(lasterr(),
	          "pinhole.conf:7: auth digest needs file FILE [algorithm MD5|SHA-256 ...], nonce-secret FILE "
	          "or nonce-ttl DURATION");
	unconf(st);

	write_file("short.secret", "0123456789abcdef0123456789abcde\n");
	write_file("good.secret", "0123456789abcdef0123456789abcdef\n");
	CHECK_INT(conf(&st, "file good.digest\nnonce-secret short.secret"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:2: nonce secret file");
	CHECK_WHY(lasterr(), "holds 31 bytes, fewer than 32");
	CHECK(strstr(last_err, "0123456789") == NULL); /* never the secret itself */
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest\nnonce-secret none.secret"), -1);
	CHECK_WHY(lasterr(), "cannot read nonce secret file");
	unconf(st);
	CHECK_INT(conf(&st, "nonce-secret good.secret\nnonce-secret good.secret\nfile good.digest"), -1);
	CHECK_WHY(lasterr(), "pinhole.conf:2: auth digest nonce-secret is already given on line 1");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest\nnonce-ttl 0"), -1);
	CHECK_WHY(lasterr(), "bad nonce-ttl '0'");
	unconf(st);
	CHECK_INT(conf(&st, "file good.digest\nnonce-ttl soon"), -1);
	CHECK_WHY(lasterr(), "bad nonce-ttl 'soon'");
	unconf(st);

	/* The file is found next to the configuration, not in the cwd. */
	CHECK_INT(conf(&st, "nonce-secret good.secret\nfile md5only.digest\nnonce-ttl 90s"), 0);
	{
		struct strbuf b = { 0 };
		char dump[PATH_MAX * 2 + 256];

		auth_digest_ops.dump(st, &b);
		snprintf(dump, sizeof(dump),
		         "auth digest file %s/md5only.digest algorithm MD5\n"
		         "auth digest nonce-secret %s/good.secret\n"
		         "auth digest nonce-ttl 90s\n",
		         tmpdir, tmpdir);
		CHECK_STR(b.p, dump);
		free(b.p);
	}
	unconf(st);
}

/* ---- challenges ---- */

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_challenge(void)
{
	struct buf b = { 0 };
	const char *s, *l2;
	char nonce[64], nonce2[64];
	void *st;

	CHECK_INT(conf(&st, "file good.digest"), 0);
	auth_digest_ops.challenge(st, "Example Corp", &b);
	buf_append(&b, "", 1);
	s = buf_data(&b);
	CHECK(starts(s,
	             "Proxy-Authenticate: Digest realm=\"Example Corp\", qop=\"auth\", algorithm=SHA-256, nonce=\""));
	l2 = strstr(s, "\r\n");
	CHECK(l2 != NULL);
	if (!l2) {
		buf_release(&b);
		unconf(st);
		return;
	}
	l2 += 2;
	CHECK(starts(l2, "Proxy-Authenticate: Digest realm=\"Example Corp\", qop=\"auth\", algorithm=MD5, nonce=\""));
	CHECK(unit_contains(s, "\", opaque=\""));
	CHECK(unit_contains(s, ", charset=UTF-8, userhash=true\r\n"));
	CHECK(!unit_contains(s, "stale"));
	param_of(s, "nonce", nonce, sizeof(nonce));
	param_of(l2, "nonce", nonce2, sizeof(nonce2));
	CHECK_INT(strlen(nonce), 40);
	CHECK_STR(nonce, nonce2); /* one nonce for both lines */
	CHECK_INT(strlen(s + strlen(s) - 2), 2);
	CHECK_STR(s + strlen(s) - 2, "\r\n");
	buf_release(&b);

	/* Every challenge has a new nonce. */
	CHECK(strcmp(fresh(st, "pinhole").nonce, fresh(st, "pinhole").nonce) != 0);
	unconf(st);

	CHECK_INT(conf(&st, "file good.digest algorithm MD5"), 0);
	auth_digest_ops.challenge(st, "pinhole", &b);
	buf_append(&b, "", 1);
	CHECK(unit_contains(buf_data(&b), "algorithm=MD5"));
	CHECK(!unit_contains(buf_data(&b), "SHA-256"));
	buf_release(&b);
	unconf(st);
}

/* ---- requests ---- */

static void test_accept(void)
{
	char cred[2048], upper[2100];
	struct auth_result res;
	struct nonce n;
	void *st;
	char *l1 = htdigest_make_line("alice", "pinhole", "secret1");
	char *l2 = htdigest_make_line("j\xc3\xbcrgen", "pinhole", "pw");
	char *l3 = htdigest_make_line("alice", "elsewhere", "other");
	char file[1024];

	snprintf(file, sizeof(file), "%s\n%s\n%s\n", l1, l2, l3);
	free(l1);
	free(l2);
	free(l3);
	write_file("users.digest", file);
	CHECK_INT(conf(&st, "file users.digest"), 0);

	/* SHA-256 and MD5, CONNECT with the authority form. */
	for (int i = 0; i < 2; i++) {
		n = fresh(st, "pinhole");
		client(&(struct answer){ .alg = i ? "MD5" : "SHA-256",
		                         .user = "alice",
		                         .pass = "secret1",
		                         .realm = "pinhole",
		                         .method = "CONNECT",
		                         .uri = "api.opentok.com:443",
		                         .nonce = n.nonce,
		                         .opaque = n.opaque },
		       cred, sizeof(cred));
		CHECK_INT(step(st, "pinhole", "CONNECT", "api.opentok.com:443", cred, 0, &res), AUTH_OK);
		CHECK_STR(res.user, "alice");
		CHECK_STR(res.scheme, "Digest");
		CHECK_INT(buf_len(&res.headers), 0);
	}
	/* No algorithm parameter means MD5. */
	n = fresh(st, "pinhole");
	client(&(struct answer){ .user = "alice",
	                         .pass = "secret1",
	                         .realm = "pinhole",
	                         .method = "CONNECT",
	                         .uri = "[::1]:8443",
	                         .nonce = n.nonce,
	                         .opaque = n.opaque },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "[::1]:8443", cred, 0, &res), AUTH_OK);
	/* Absolute form: curl signs the whole target, browsers its path. */
	n = fresh(st, "pinhole");
	client(&(struct answer){ .alg = "SHA-256",
	                         .user = "alice",
	                         .pass = "secret1",
	                         .realm = "pinhole",
	                         .method = "GET",
	                         .uri = "http://example.com/a/b?c=d",
	                         .nonce = n.nonce },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "GET", "http://example.com/a/b?c=d", cred, 0, &res), AUTH_OK);
	client(&(struct answer){ .alg = "SHA-256",
	                         .user = "alice",
	                         .pass = "secret1",
	                         .realm = "pinhole",
	                         .method = "GET",
	                         .uri = "/a/b?c=d",
	                         .nonce = n.nonce,
	                         .nc = "00000002" },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "GET", "http://example.com/a/b?c=d", cred, 0, &res), AUTH_OK);
	client(&(struct answer){ .alg = "SHA-256",
	                         .user = "alice",
	                         .pass = "secret1",
	                         .realm = "pinhole",
	                         .method = "GET",
	                         .uri = "/",
	                         .nonce = n.nonce,
	                         .nc = "00000003" },
	       cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "GET", "http://example.com", cred, 0, &res), AUTH_OK);
	/* A UTF-8 user by username* (RFC 8187). */
	n = fresh(st, "pinhole");
	client(&(struct answer){ .alg = "SHA-256",
	                         .user = "j\xc3\xbcrgen",
	                         .pass = "pw",
	                         .realm = "pinhole",
	                         .method = "GET",
	                         .uri = "/",
	                         .nonce = n.nonce },
	       cred, sizeof(cred));
	{
		/* Replace username="jürgen" with username*=UTF-8''j%C3%BCrgen. */
		char *p = strstr(cred, "\", realm=");
		char star[2048];

		snprintf(star, sizeof(star), "username*=UTF-8''j%%C3%%BCrgen%s", p + 1);
		CHECK_INT(step(st, "pinhole", "GET", "http://x.example/", star, 0, &res), AUTH_OK);
		CHECK_STR(res.user, "j\xc3\xbcrgen");
	}
	/* Hashed user names, both algorithms. */
	for (int i = 0; i < 2; i++) {
		n = fresh(st, "pinhole");
		client(&(struct answer){ .alg = i ? "MD5" : "SHA-256",
		                         .user = "alice",
		                         .pass = "secret1",
		                         .realm = "pinhole",
		                         .method = "CONNECT",
		                         .uri = "h:443",
		                         .nonce = n.nonce,
		                         .userhash = true },
		       cred, sizeof(cred));
		CHECK_INT(step(st, "pinhole", "CONNECT", "h:443", cred, 0, &res), AUTH_OK);
		CHECK_STR(res.user, "alice");
	}
	/* Upper-case hex in the response, quoted qop and algorithm, odd spacing. */
	n = fresh(st, "pinhole");
	client(&(struct answer){ .alg = "SHA-256",
	                         .user = "alice",
	                         .pass = "secret1",
	                         .realm = "pinhole",
	                         .method = "GET",
	                         .uri = "/",
	                         .nonce = n.nonce },
	       cred, sizeof(cred));
	{
		char *r = strstr(cred, "response=\"") + 10;
		char *q;

		for (; *r != '"'; r++)
			*r = (char)(*r >= 'a' && *r <= 'f' ? *r - 32 : *r);
		snprintf(upper, sizeof(upper), ",, %s ,", cred);
		q = strstr(upper, "qop=auth");
		memmove(q + 10, q + 8, strlen(q + 8) + 1);
		memcpy(q, "qop=\"auth\"", 10);
		q = strstr(upper, "algorithm=SHA-256");
		memmove(q + 19, q + 17, strlen(q + 17) + 1);
		memcpy(q, "algorithm=\"sha-256\"", 19);
		CHECK_INT(step(st, "pinhole", "GET", "http://e.example/", upper, 0, &res), AUTH_OK);
	}
	unconf(st);
}

#define CHECK_DENIED(call, why)                               \
	do {                                                  \
		CHECK_INT((call), AUTH_DENIED);               \
		CHECK_STR(res.reason, why);                   \
		CHECK(!unit_contains(res.reason, "secret1")); \
		CHECK(!unit_contains(res.reason, ALICE_MD5)); \
		buf_release(&res.headers);                    \
	} while (0)

static void test_refusals(void)
{
	char cred[2048], c2[2048];
	struct auth_result res;
	struct nonce n;
	void *st;
	uint64_t now = ph_wall_ms();
	struct answer a = { .alg = "SHA-256",
		            .user = "alice",
		            .pass = "secret1",
		            .realm = "pinhole",
		            .method = "CONNECT",
		            .uri = "h.example:443" };

	CHECK_INT(conf(&st, "file users.digest\nnonce-ttl 5m"), 0);

	/* Stale: the right password with an old nonce gets stale=true. */
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	a.opaque = n.opaque;
	client(&a, cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, now + 6 * 60 * 1000, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "stale nonce");
	CHECK(unit_contains(hdrs(&res), "algorithm=SHA-256, nonce=\""));
	CHECK(unit_contains(hdrs(&res), ", stale=true, charset=UTF-8, userhash=true\r\n"));
	CHECK(unit_contains(hdrs(&res), "algorithm=MD5"));
	buf_release(&res.headers);
	/* ...a wrong one is just wrong, stale or not. */
	a.pass = "guess";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, now + 6 * 60 * 1000, &res),
	             "wrong user name or password for alice");
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "wrong user name or password for alice");
	CHECK_INT(buf_len(&res.headers), 0);
	a.pass = "secret1";
	a.user = "mallory";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "wrong user name or password for mallory");
	a.user = "alice";
	/* alice of realm "elsewhere" cannot log in to "pinhole" with that password. */
	a.pass = "other";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "wrong user name or password for alice");
	a.pass = "secret1";

	/* Replays: the same count twice; out of order is fine. */
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	a.nc = "00000003";
	client(&a, cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_OK);
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "nonce count replayed");
	CHECK(unit_contains(hdrs(&res), "stale=true"));
	buf_release(&res.headers);
	a.nc = "00000002";
	client(&a, cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_OK);
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), "nonce count replayed");
	a.nc = "00000050";
	client(&a, cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_OK);
	a.nc = "00000001"; /* 79 behind the highest: out of the window */
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), "nonce count replayed");
	a.nc = NULL;

	/* A forged request cannot spend a count. */
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	a.pass = "guess";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "wrong user name or password for alice");
	a.pass = "secret1";
	client(&a, cred, sizeof(cred));
	CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_OK);

	/* Realm, uri, nonce, opaque, algorithm, qop. */
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	a.realm = "other";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "realm \"other\" is not this proxy's realm");
	a.realm = "pinhole";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "evil.example:443", cred, 0, &res),
	             "digest uri \"h.example:443\" is not the request target");
	CHECK_DENIED(step(st, "pinhole", "GET", "http://h.example:443/", cred, 0, &res),
	             "digest uri \"h.example:443\" is not the request target");
	a.method = "GET";
	a.uri = "/a";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "GET", "http://h.example/b", cred, 0, &res),
	             "digest uri \"/a\" is not the request target");
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "/a", cred, 0, &res), "wrong user name or password for alice");
	a.method = "CONNECT";
	a.uri = "h.example:443";
	/* The nonce of another secret, or realm, or tampered with. */
	{
		void *other;
		struct nonce on;

		CHECK_INT(conf(&other, "file users.digest\nnonce-secret good.secret"), 0);
		on = fresh(other, "pinhole");
		a.nonce = on.nonce;
		client(&a, cred, sizeof(cred));
		CHECK_INT(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_DENIED);
		CHECK_STR(res.reason, "nonce not issued by this proxy");
		CHECK(unit_contains(hdrs(&res), "stale=true"));
		buf_release(&res.headers);
		/* Instances sharing the secret accept each other's nonces. */
		void *twin;

		CHECK_INT(conf(&twin, "file users.digest\nnonce-secret good.secret"), 0);
		a.opaque = on.opaque;
		client(&a, cred, sizeof(cred));
		CHECK_INT(step(twin, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), AUTH_OK);
		a.opaque = NULL;
		unconf(twin);
		unconf(other);
	}
	n = fresh(st, "elsewhere");
	a.nonce = n.nonce;
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), "nonce not issued by this proxy");
	n = fresh(st, "pinhole");
	n.nonce[20] = n.nonce[20] == 'A' ? 'B' : 'A';
	a.nonce = n.nonce;
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), "nonce not issued by this proxy");
	a.nonce = "short";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res), "nonce not issued by this proxy");
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	a.opaque = "forged";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "opaque value not issued by this proxy");
	a.opaque = NULL;
	a.alg = "MD5-sess";
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "algorithm MD5-sess was not offered");
	a.alg = "SHA-256";
	client(&a, cred, sizeof(cred));
	{
		char *q = strstr(cred, "qop=auth");

		snprintf(c2, sizeof(c2), "%.*sqop=auth-int%s", (int)(q - cred), cred, q + 8);
		CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", c2, 0, &res),
		             "qop auth-int was not offered (pinhole offers qop=auth)");
		/* A SHA-256 answer needs 64 hex digits. */
		q = strstr(cred, "response=\"") + 10;
		snprintf(c2, sizeof(c2), "%.*s%.32s%s", (int)(q - cred), cred, q, q + 64);
		CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", c2, 0, &res),
		             "malformed Digest credentials: the SHA-256 response has 32 hex digits, not 64");
	}
	unconf(st);

	/* SHA-256 is refused when only MD5 is configured. */
	CHECK_INT(conf(&st, "file users.digest algorithm MD5"), 0);
	n = fresh(st, "pinhole");
	a.nonce = n.nonce;
	client(&a, cred, sizeof(cred));
	CHECK_DENIED(step(st, "pinhole", "CONNECT", "h.example:443", cred, 0, &res),
	             "algorithm SHA-256 was not offered");
	unconf(st);
}

/* ---- the parser ---- */

static void test_parse(void)
{
	struct digest_params p;
	const char *why = NULL;
	const char *base = "username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00ff\", qop=auth, "
	                   "nc=0000000a, cnonce=\"c\"";
	char s[DIGEST_CRED_MAX + 64];

#define PARSE_OK(text)                                                              \
	do {                                                                        \
		int r_ = digest_parse(B(text), &p, &why);                           \
		CHECK_INT(r_, 0);                                                   \
		if (r_)                                                             \
			fprintf(stderr, "  %s\n  why: %s\n", text, why ? why : ""); \
	} while (0)
#define PARSE_BAD(text, phrase)                                 \
	do {                                                    \
		CHECK_INT(digest_parse(B(text), &p, &why), -1); \
		CHECK_WHY(why, phrase);                         \
	} while (0)

	CHECK_INT(digest_parse(base, strlen(base), &p, &why), 0);
	CHECK_STR(p.username.s, "a");
	CHECK_INT(p.nc_value, 10);
	CHECK(!p.userhash);
	CHECK(p.opaque.s == NULL);
	/* Escapes, BWS, empty elements, case, unknown parameters. */
	PARSE_OK("USERNAME = \"a\\\"b\\\\c\" ,realm=\"r\",,nonce=\"n\",uri=\"/x y\",Response=00FF,qop=\"auth\","
	         "nc=0000000A,cnonce=\"c\",foo=bar,baz=\"q,\\\"\", userhash=FALSE,");
	CHECK_STR(p.username.s, "a\"b\\c");
	CHECK_STR(p.uri.s, "/x y");
	CHECK_STR(p.qop.s, "auth");
	CHECK(p.qop.quoted);
	CHECK_STR(p.response.s, "00FF");
	CHECK(!p.response.quoted);
	PARSE_OK("username*=utf-8'de'%C3%BCx, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	         "nc=00000001, cnonce=\"c\"");
	CHECK_STR(p.username_star.s, "\xc3\xbcx");
	CHECK_INT(p.username_star.len, 3);
	PARSE_OK("username=\"6a\", userhash=true, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	         "nc=ffffffff, cnonce=\"c\", opaque=\"\"");
	CHECK(p.userhash);
	CHECK_INT(p.nc_value, 0xffffffffu);
	CHECK_STR(p.opaque.s, "");
	/* obs-text is allowed in quoted strings (raw UTF-8 names). */
	PARSE_OK("username=\"j\xc3\xbcrgen\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	         "nc=00000001, cnonce=\"c\"");

	PARSE_BAD("username=\"a\", username=\"b\"", "parameter username appears twice");
	PARSE_BAD("username=\"a\", realm=\"r\", Realm=\"r\"", "parameter Realm appears twice");
	PARSE_BAD("username=\"a\", nc=00000001, nc=00000002", "parameter nc appears twice");
	PARSE_BAD("username=\"a, realm=\"r\"", "character 0x72 follows the value of username");
	PARSE_BAD("username=\"a\\", "the quoted value of username has no closing quote");
	PARSE_BAD("username=\"a", "the quoted value of username has no closing quote");
	PARSE_BAD("username", "parameter username has no =value");
	PARSE_BAD("username=", "parameter username has an empty value");
	PARSE_BAD("username=\"a\" realm=\"r\"", "character 0x72 follows the value of username where a comma should");
	PARSE_BAD("=x", "a parameter name cannot start with character 0x3d");
	PARSE_BAD("username=\"a\rb\"", "the value of username holds control character 0x0d");
	PARSE_BAD("username=\"a\\\nb\"", "the value of username holds control character 0x0a");
	PARSE_BAD("username=a\0b", "character 0x00 follows the value of username");
	PARSE_BAD("", "no username parameter");
	PARSE_BAD("realm=\"r\"", "no username parameter");
	PARSE_BAD("username=\"a\", username*=UTF-8''a", "both username and username* are present");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", nc=00000001, cnonce=\"c\"",
	          "no qop parameter (RFC 2069 style credentials are not accepted)");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, nc=00000001",
	          "no cnonce parameter");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\"",
	          "no nc parameter");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", response=\"00\", qop=auth, cnonce=\"c\", nc=00000001",
	          "no uri parameter");
	PARSE_BAD("username=\"a\", realm=\"r\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", nc=00000001",
	          "no nonce parameter");
	PARSE_BAD("username=\"a\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", nc=00000001",
	          "no realm parameter");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", qop=auth, cnonce=\"c\", nc=00000001",
	          "no response parameter");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", "
	          "nc=1",
	          "nc is not 8 hex digits");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", "
	          "nc=0000000g",
	          "nc is not 8 hex digits");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0x\", qop=auth, cnonce=\"c\", "
	          "nc=00000001",
	          "the response is not hex digits");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"\", "
	          "nc=00000001",
	          "the cnonce is empty");
	PARSE_BAD("username=\"\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", "
	          "nc=00000001",
	          "the username is empty");
	PARSE_BAD("username=\"a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, cnonce=\"c\", "
	          "nc=00000001, userhash=maybe",
	          "userhash is neither true nor false");
	PARSE_BAD("username*=ISO-8859-1''a, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	          "cnonce=\"c\", nc=00000001",
	          "username* uses charset ISO-8859-1; pinhole accepts UTF-8 only");
	PARSE_BAD("username*=\"UTF-8''a\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	          "cnonce=\"c\", nc=00000001",
	          "username* must be a token");
	PARSE_BAD("username*=UTF-8''a%0, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	          "cnonce=\"c\", nc=00000001",
	          "username* has a % not followed by two hex digits");
	PARSE_BAD("username*=UTF-8''a%00, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	          "cnonce=\"c\", nc=00000001",
	          "username* encodes a NUL byte");
	PARSE_BAD("username*=UTF-8'a, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", qop=auth, "
	          "cnonce=\"c\", nc=00000001",
	          "username* is not charset'language'value");
	PARSE_BAD("username*=UTF-8''a, userhash=true, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\", "
	          "qop=auth, cnonce=\"c\", nc=00000001",
	          "userhash=true goes with username, not username*");

	/* The limit, and a value as long as the limit. */
	memset(s, 'a', sizeof(s));
	CHECK_INT(digest_parse(s, DIGEST_CRED_MAX + 1, &p, &why), -1);
	CHECK_WHY(why, "longer than 4096 bytes");
	{
		size_t n = (size_t)snprintf(s, sizeof(s), "username=\"");

		memset(s + n, 'x', DIGEST_CRED_MAX - n - 1);
		s[DIGEST_CRED_MAX - 1] = '"';
		CHECK_INT(digest_parse(s, DIGEST_CRED_MAX, &p, &why), -1);
		CHECK_WHY(why, "no realm parameter");
		CHECK_INT(p.username.len, DIGEST_CRED_MAX - 11);
	}
	/* Through step, a parse error is "malformed Digest credentials". */
	{
		struct auth_result res;
		void *st;

		CHECK_INT(conf(&st, "file users.digest"), 0);
		CHECK_DENIED(step(st, "pinhole", "GET", "/", "username=\"a\", username=\"b\"", 0, &res),
		             "malformed Digest credentials: parameter username appears twice");
		CHECK_DENIED(step(st, "pinhole", "GET", "/", "realm=\"pinhole\", nonce=\"x\"", 0, &res),
		             "malformed Digest credentials: no username parameter");
		unconf(st);
	}
#undef PARSE_OK
#undef PARSE_BAD
}

/* ---- the replay table ---- */

static void test_replay_table(void)
{
	/* Nonces of one set: rnd = k * SETS + 77.  The table is the
	 * process's: issue times after any real nonce's (year 2109) keep
	 * what other tests left from mattering. */
	uint64_t base = (uint64_t)1 << 42;

	for (uint64_t k = 0; k < DIGEST_REPLAY_WAYS; k++)
		CHECK_INT(digest_replay_check(base + k, k * DIGEST_REPLAY_SETS + 77, 1), DIGEST_REPLAY_FRESH);
	for (uint64_t k = 0; k < DIGEST_REPLAY_WAYS; k++)
		CHECK_INT(digest_replay_check(base + k, k * DIGEST_REPLAY_SETS + 77, 1), DIGEST_REPLAY_REPLAYED);
	/* A ninth evicts the oldest, which is then forgotten: a client
	 * gets stale=true rather than a replay going through. */
	CHECK_INT(digest_replay_check(base + 100, 100 * DIGEST_REPLAY_SETS + 77, 1), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(base + 0, 0 * DIGEST_REPLAY_SETS + 77, 2), DIGEST_REPLAY_FORGOTTEN);
	CHECK_INT(digest_replay_check(base + 1, 1 * DIGEST_REPLAY_SETS + 77, 2), DIGEST_REPLAY_FRESH);
	/* An unseen nonce older than an evicted one is forgotten too. */
	CHECK_INT(digest_replay_check(base - 5, 200 * DIGEST_REPLAY_SETS + 77, 1), DIGEST_REPLAY_FORGOTTEN);
	/* Other sets are untouched. */
	CHECK_INT(digest_replay_check(base - 5, 200 * DIGEST_REPLAY_SETS + 78, 1), DIGEST_REPLAY_FRESH);

	/* The window: any order within 64, each count once. */
	uint64_t ts = base + 5000, rnd = 999 * DIGEST_REPLAY_SETS + 12;

	CHECK_INT(digest_replay_check(ts, rnd, 10), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 8), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 9), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 8), DIGEST_REPLAY_REPLAYED);
	CHECK_INT(digest_replay_check(ts, rnd, 10), DIGEST_REPLAY_REPLAYED);
	CHECK_INT(digest_replay_check(ts, rnd, 73), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 11), DIGEST_REPLAY_FRESH);   /* 62 behind */
	CHECK_INT(digest_replay_check(ts, rnd, 9), DIGEST_REPLAY_REPLAYED); /* 64 behind */
	CHECK_INT(digest_replay_check(ts, rnd, 1000), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 999), DIGEST_REPLAY_FRESH);
	CHECK_INT(digest_replay_check(ts, rnd, 73), DIGEST_REPLAY_REPLAYED);
}

/* ---- curl's Digest against pinhole's challenge ---- */

/* Answers the first request with the challenge in CHALLENGE (as 401 with
 * WWW-Authenticate, or as a proxy's 407), then writes the request line
 * and the credentials of the next request to OUT. */
static const char server_py[] =
        "import os, socket, sys\n"
        "chal_file, mode, port_file, out_file = sys.argv[1:5]\n"
        "chal = open(chal_file, 'rb').read()\n"
        "if mode == 'www':\n"
        "    chal = chal.replace(b'Proxy-Authenticate:', b'WWW-Authenticate:')\n"
        "    status, want = b'401 Unauthorized', 'authorization'\n"
        "else:\n"
        "    status, want = b'407 Proxy Authentication Required', 'proxy-authorization'\n"
        "s = socket.socket()\n"
        "s.bind(('127.0.0.1', 0))\n"
        "s.listen(4)\n"
        "s.settimeout(20)\n"
        "with open(port_file + '.tmp', 'w') as f:\n"
        "    f.write(str(s.getsockname()[1]))\n"
        "os.rename(port_file + '.tmp', port_file)\n"
        "done = False\n"
        "while not done:\n"
        "    c, _ = s.accept()\n"
        "    c.settimeout(20)\n"
        "    data = b''\n"
        "    while not done:\n"
        "        while b'\\r\\n\\r\\n' not in data:\n"
        "            d = c.recv(4096)\n"
        "            if not d:\n"
        "                break\n"
        "            data += d\n"
        "        if b'\\r\\n\\r\\n' not in data:\n"
        "            break\n"
        "        head, data = data.split(b'\\r\\n\\r\\n', 1)\n"
        "        lines = head.decode('latin-1').split('\\r\\n')\n"
        "        value = None\n"
        "        for l in lines[1:]:\n"
        "            k, _, v = l.partition(':')\n"
        "            if k.strip().lower() == want:\n"
        "                value = v.strip()\n"
        "        if value is None:\n"
        "            c.sendall(b'HTTP/1.1 ' + status + b'\\r\\n' + chal + b'Content-Length: 0\\r\\n\\r\\n')\n"
        "            continue\n"
        "        with open(out_file, 'w', encoding='latin-1') as f:\n"
        "            f.write(lines[0] + '\\n' + value + '\\n')\n"
        "        c.sendall(b'HTTP/1.1 403 Forbidden\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "        done = True\n"
        "    c.close()\n";

static const char *python(void)
{
	/* Debian's interpreter, not whatever python3 comes first in PATH. */
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Runs curl (args with %d for the port) against the server; fills the
 * request line and the credentials curl sent.  0, or -1. */
static int curl_exchange(const char *chal, const char *mode, const char *args, char *reqline, char *cred, size_t cap)
{
	char script[PATH_MAX + 32], chalf[PATH_MAX + 32], portf[PATH_MAX + 32], outf[PATH_MAX + 32];
	char cmd[4096], fmt[2048];
	int port = 0, status, rc = -1;
	pid_t pid;
	char *out;

	snprintf(script, sizeof(script), "%s/server.py", tmpdir);
	snprintf(chalf, sizeof(chalf), "%s/challenge", tmpdir);
	snprintf(portf, sizeof(portf), "%s/port", tmpdir);
	snprintf(outf, sizeof(outf), "%s/captured", tmpdir);
	write_file("server.py", server_py);
	write_file("challenge", chal);
	unlink(portf);
	unlink(outf);
	pid = fork();
	if (pid == 0) {
		execlp(python(), "python3", script, chalf, mode, portf, outf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && port == 0; i++) {
		char *p = read_text("port");

		if (p) {
			port = atoi(p);
			free(p);
		} else {
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		}
	}
	if (port) {
		snprintf(fmt, sizeof(fmt), "curl -q -s -o /dev/null --max-time 10 %s", args);
		snprintf(cmd, sizeof(cmd), fmt, port);
		if (system(cmd) == -1)
			perror("system");
	}
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	out = read_text("captured");
	if (out) {
		char *nl = strchr(out, '\n');

		if (nl) {
			*nl = '\0';
			snprintf(reqline, cap, "%s", out);
			snprintf(cred, cap, "%s", nl + 1);
			cred[strcspn(cred, "\n")] = '\0';
			rc = 0;
		}
		free(out);
	}
	return rc;
}

static void curl_case(const char *what, const char *conf_text, bool userhash, const char *mode, const char *args,
                      const char *want_alg)
{
	char reqline[2048], cred[2048], method[32], target[1024];
	struct auth_result res;
	struct buf b = { 0 };
	char *chal, *uh;
	void *st;

	CHECK_INT(conf(&st, conf_text), 0);
	auth_digest_ops.challenge(st, "pinhole", &b);
	buf_append(&b, "", 1);
	chal = ph_strdup(buf_data(&b));
	buf_release(&b);
	/* Without userhash=true, curl sends the name itself. */
	while (!userhash && (uh = strstr(chal, ", userhash=true")))
		memmove(uh, uh + 15, strlen(uh + 15) + 1);
	if (curl_exchange(chal, mode, args, reqline, cred, sizeof(reqline)) != 0) {
		fprintf(stderr, "curl %s: no credentials captured\n", what);
		CHECK(!"curl sent credentials");
	} else if (sscanf(reqline, "%31s %1023s", method, target) != 2 || strncmp(cred, "Digest ", 7) != 0) {
		fprintf(stderr, "curl %s: odd request %s / %s\n", what, reqline, cred);
		CHECK(!"curl request parsed");
	} else {
		enum auth_status s =
		        step(st, "pinhole", method, strcmp(mode, "www") == 0 ? "/x" : target, cred + 7, 0, &res);

		if (s != AUTH_OK)
			fprintf(stderr, "curl %s: %s %s\n  %s\n  -> %s\n", what, method, target, cred, res.reason);
		CHECK_INT(s, AUTH_OK);
		CHECK_STR(res.user, "alice");
		CHECK(unit_contains(cred, want_alg));
		CHECK(userhash == unit_contains(cred, "userhash=true"));
		buf_release(&res.headers);
		printf("test_auth_digest: curl %s: %s %s verified\n", what, method, target);
	}
	free(chal);
	unconf(st);
}

static void test_curl(void)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "command -v curl >/dev/null 2>&1 && command -v %s >/dev/null 2>&1", python());
	if (system(cmd) != 0) {
		printf("test_auth_digest: curl or python3 missing, skipping the curl exchange\n");
		return;
	}
	const char *www = "--noproxy '*' --digest -u alice:secret1 http://127.0.0.1:%d/x";
	const char *proxy_get = "-x http://127.0.0.1:%d --proxy-digest -U alice:secret1 http://origin.invalid/x?y=1";
	const char *proxy_connect =
	        "-x http://127.0.0.1:%d --proxy-digest -U alice:secret1 https://origin.invalid:8443/";

	curl_case("MD5", "file users.digest algorithm MD5", false, "www", www, "algorithm=MD5");
	curl_case("MD5 userhash", "file users.digest algorithm MD5", true, "www", www, "algorithm=MD5");
	curl_case("SHA-256", "file users.digest algorithm SHA-256", false, "www", www, "algorithm=SHA-256");
	curl_case("SHA-256 userhash", "file users.digest algorithm SHA-256", true, "www", www, "algorithm=SHA-256");
	curl_case("both offered", "file users.digest", true, "www", www, "algorithm=");
	curl_case("proxy GET", "file users.digest", false, "proxy", proxy_get, "algorithm=");
	curl_case("proxy CONNECT", "file users.digest", true, "proxy", proxy_connect, "algorithm=");
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	char cmd[PATH_MAX + 32];

	snprintf(tmpdir, sizeof(tmpdir), "%s/pinhole-digest-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* Files are named relative to the configuration's directory. */
	snprintf(conf_path, sizeof(conf_path), "%s/pinhole.conf", tmpdir);

	test_rfc7616_example();
	test_make_line();
	test_real_htdigest();
	test_config_errors();
	test_challenge();
	test_accept();
	test_refusals();
	test_parse();
	test_replay_table();
	test_curl();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_summary("test_auth_digest");
}
