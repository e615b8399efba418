/*
 * test_auth_ntlm.c - NTLM as SPEC.md and MS-NLMP define it: the one-way
 * functions against MS-NLMP 4.2's vectors, the Type 2 pinhole sends, Type 3s
 * from independent clients (libntlm; curl through a loopback Python server
 * when both are installed), every refusal, and the users file's errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ntlm.h>

#include "common.h"
#include "strbuf.h"
#include "config.h"
#include "ntlm_msg.h"
#include "ntlm_users.h"
#include "scheme.h"
#include "unit.h"

#define CONF_LINE 7
#define T0 1700000000000ULL /* a wall clock, in ms */

/* ---- collecting configuration errors (cfg_error from config.c) ---- */

static struct cfg_errors errs;

static void errors_reset(void)
{
	for (size_t i = 0; i < errs.n; i++)
		free(errs.msgs[i]);
	free(errs.msgs);
	errs.msgs = NULL;
	errs.n = 0;
}

static const char *error_text(size_t i)
{
	return i < errs.n ? errs.msgs[i] : NULL;
}

/* ---- small tools ---- */

static char dir[64];
static char conf[128];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void hex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

static bool same_hex(const uint8_t *got, const char *want)
{
	uint8_t w[64];
	size_t n = strlen(want) / 2;

	hex(want, w);
	return memcmp(got, w, n) == 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* UTF-8 (one to three byte sequences) to UTF-16LE, for the test's own
 * client; the length in bytes. */
static size_t utf16(const char *s, uint8_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p) {
		unsigned cp;

		if (*p < 0x80)
			cp = *p++;
		else if ((*p & 0xe0) == 0xc0)
			cp = (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu), p += 2;
		else
			cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu), p += 3;
		put16(out + o, cp);
		o += 2;
	}
	return o;
}

static void split_words(char *buf, char **argv, int *argc)
{
	*argc = 0;
	for (char *t = strtok(buf, " "); t && *argc < 15; t = strtok(NULL, " "))
		argv[(*argc)++] = t;
	argv[*argc] = NULL;
}

/* `auth ntlm WORDS` at conf:7; NULL when it fails (errors in errs). */
static void *configure(const char *words)
{
	char buf[512], *argv[16];
	int argc;
	void *st = NULL;

	snprintf(buf, sizeof(buf), "%s", words);
	split_words(buf, argv, &argc);
	if (auth_ntlm_ops.configure(&st, argv, argc, conf, CONF_LINE, &errs) < 0) {
		CHECK(st == NULL);
		return NULL;
	}
	CHECK(auth_ntlm_ops.finish(st, conf, &errs) == 0);
	return st;
}

/* One Proxy-Authorization: NTLM <base64 of m> through step(). */
static enum auth_status step(const void *st, void **sess, const uint8_t *m, size_t n, uint64_t now,
                             struct auth_result *res)
{
	struct auth_request req = { .method = "CONNECT", .uri = "example.com:443", .uri_len = 15, .now_ms = now };
	char b64[8192];

	buf_release(&res->headers);
	memset(res, 0, sizeof(*res));
	if (base64_encode(m, n, b64, sizeof(b64)) == 0 && n)
		abort();
	req.authorization = b64;
	req.authorization_len = strlen(b64);
	return auth_ntlm_ops.step(st, sess, "pinhole", &req, b64, strlen(b64), res);
}

static enum auth_status step_text(const void *st, void **sess, const char *cred, struct auth_result *res)
{
	struct auth_request req = { .method = "GET", .uri = "/", .uri_len = 1, .now_ms = T0 };

	buf_release(&res->headers);
	memset(res, 0, sizeof(*res));
	return auth_ntlm_ops.step(st, sess, "pinhole", &req, cred, strlen(cred), res);
}

/* The Type 2 in res->headers, decoded; its length or 0. */
static size_t type2_of(const struct auth_result *res, uint8_t *out, size_t cap)
{
	const char *pfx = "Proxy-Authenticate: NTLM ";
	size_t len = buf_len(&res->headers);
	const char *h = buf_data(&res->headers);
	long n;

	if (!h || len < strlen(pfx) + 2 || memcmp(h, pfx, strlen(pfx)) != 0 || memcmp(h + len - 2, "\r\n", 2) != 0)
		return 0;
	n = base64_decode(h + strlen(pfx), len - strlen(pfx) - 2, out, cap);
	return n > 0 ? (size_t)n : 0;
}

/* A Type 1 with these flags (32 bytes, no domain or workstation). */
static size_t make_type1(uint32_t flags, uint8_t *m)
{
	memset(m, 0, 32);
	memcpy(m, "NTLMSSP", 8);
	put32(m + 8, 1);
	put32(m + 12, flags);
	return 32;
}

/* What a test client puts in its Type 3. */
struct t3 {
	uint32_t flags;
	const uint8_t *lm;
	size_t lm_len;
	const uint8_t *nt;
	size_t nt_len;
	const char *domain, *user, *ws;
};

static size_t put_string(uint8_t *m, size_t *at, size_t hdr, const char *s, bool unicode)
{
	size_t n = unicode ? utf16(s, m + *at) : strlen(s);

	if (!unicode)
		memcpy(m + *at, s, n);
	put16(m + hdr, (unsigned)n);
	put16(m + hdr + 2, (unsigned)n);
	put32(m + hdr + 4, (uint32_t)*at);
	*at += n;
	return n;
}

static size_t put_bytes(uint8_t *m, size_t *at, size_t hdr, const uint8_t *p, size_t n)
{
	if (n)
		memcpy(m + *at, p, n);
	put16(m + hdr, (unsigned)n);
	put16(m + hdr + 2, (unsigned)n);
	put32(m + hdr + 4, (uint32_t)*at);
	*at += n;
	return n;
}

static size_t make_type3(const struct t3 *c, uint8_t *m)
{
	bool unicode = c->flags & NTLM_NEGOTIATE_UNICODE;
	size_t at = 64;

	memset(m, 0, 64);
	memcpy(m, "NTLMSSP", 8);
	put32(m + 8, 3);
	put_bytes(m, &at, 12, c->lm, c->lm_len);
	put_bytes(m, &at, 20, c->nt, c->nt_len);
	put_string(m, &at, 28, c->domain, unicode);
	put_string(m, &at, 36, c->user, unicode);
	put_string(m, &at, 44, c->ws ? c->ws : "WS1", unicode);
	put32(m + 60, c->flags);
	return at;
}

/* The test's own NTLMv2 client: NTOWFv2 over UPPER(user)||domain given in
 * UTF-16 by the caller, blob with the Type 2's target info. */
static size_t make_v2_response(const uint8_t nthash[16], const uint8_t *ident, size_t idlen, const uint8_t *type2,
                               uint8_t *nt)
{
	const uint8_t *ti = type2 + get32(type2 + 44);
	size_t tilen = get16(type2 + 40), blen = 28 + tilen + 4;
	uint8_t key[16], *blob = nt + 16, cc[8];

	memset(cc, 0x5a, sizeof(cc));
	memset(blob, 0, blen);
	blob[0] = 1;
	blob[1] = 1;
	memcpy(blob + 16, cc, 8);
	memcpy(blob + 28, ti, tilen);
	CHECK(ntlm_users_ntowfv2(nthash, ident, idlen, key) == 0);
	CHECK(ntlm_users_v2_proof(key, type2 + 24, blob, blen, nt) == 0);
	return 16 + blen;
}

static size_t make_lmv2_response(const uint8_t nthash[16], const uint8_t *ident, size_t idlen, const uint8_t *type2,
                                 uint8_t *lm)
{
	uint8_t key[16];

	memset(lm + 16, 0x77, 8);
	CHECK(ntlm_users_ntowfv2(nthash, ident, idlen, key) == 0);
	CHECK(ntlm_users_v2_proof(key, type2 + 24, lm + 16, 8, lm) == 0);
	return 24;
}

/* UPPER(user) || domain for ASCII names, in UTF-16LE. */
static size_t ascii_ident(const char *user, const char *domain, uint8_t *out)
{
	char u[128];
	size_t i;

	for (i = 0; user[i]; i++)
		u[i] = user[i] >= 'a' && user[i] <= 'z' ? (char)(user[i] - 32) : user[i];
	u[i] = '\0';
	i = utf16(u, out);
	return i + utf16(domain, out + i);
}

static void hash_of(const char *password, uint8_t out[16])
{
	CHECK(ntlm_users_nt_hash(password, out) == 0);
}

/* ---- MS-NLMP 4.2: the one-way functions ---- */

static void test_vectors(void)
{
	static const uint8_t server[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	uint8_t client[8], nthash[16], key[16], out[24], ident[64], temp[128];
	struct ntlm_type3 t3;
	uint8_t user[16], domain[16];
	size_t n;

	memset(client, 0xaa, sizeof(client));
	/* 4.2.2.1.2 NTOWFv1("Password") */
	hash_of("Password", nthash);
	CHECK(same_hex(nthash, "a4f49c406510bdcab6824ee7c30fd852"));
	/* 4.2.2.2.1 NTLMv1 response */
	CHECK(ntlm_users_desl(nthash, server, out) == 0);
	CHECK(same_hex(out, "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"));
	/* 4.2.3.2.2 NTLMv1 with extended session security (NTLM2 session) */
	CHECK(ntlm_users_ntlm2_session(nthash, server, client, out) == 0);
	CHECK(same_hex(out, "7537f803ae367128ca458204bde7caf81e97ed2683267232"));

	/* 4.2.4.1.1 NTOWFv2, with the salt made as the server makes it */
	memset(&t3, 0, sizeof(t3));
	t3.unicode = true;
	t3.user.p = user;
	t3.user.len = utf16("User", user);
	t3.domain.p = domain;
	t3.domain.len = utf16("Domain", domain);
	n = ntlm_msg_v2_identity(&t3, ident, sizeof(ident));
	CHECK_INT(n, 20);
	CHECK(memcmp(ident, "U\0S\0E\0R\0D\0o\0m\0a\0i\0n\0", 20) == 0);
	CHECK(ntlm_users_ntowfv2(nthash, ident, n, key) == 0);
	CHECK(same_hex(key, "0c868a403bfd7a93a3001ef22ef02e3f"));
	/* 4.2.4.2.1 LMv2 response */
	CHECK(ntlm_users_v2_proof(key, server, client, 8, out) == 0);
	CHECK(same_hex(out, "86c35097ac9cec102554764a57cccc19"));
	/* 4.2.4.2.2 NTProofStr over temp (4.2.4.1.3: time 0, AV pairs
	 * MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server") */
	hex("0101000000000000"
	    "0000000000000000"
	    "aaaaaaaaaaaaaaaa"
	    "00000000"
	    "02000c0044006f006d00610069006e00"
	    "01000c00530065007200760065007200"
	    "00000000"
	    "00000000",
	    temp);
	CHECK(ntlm_users_v2_proof(key, server, temp, 68, out) == 0);
	CHECK(same_hex(out, "68cd0ab851e51c96aabc927bebef6a1c"));

	/* an OEM client's salt: bytes widened, ASCII upper-cased */
	t3.unicode = false;
	t3.user.p = (const uint8_t *)"User";
	t3.user.len = 4;
	t3.domain.p = (const uint8_t *)"Domain";
	t3.domain.len = 6;
	n = ntlm_msg_v2_identity(&t3, ident, sizeof(ident));
	CHECK_INT(n, 20);
	CHECK(memcmp(ident, "U\0S\0E\0R\0D\0o\0m\0a\0i\0n\0", 20) == 0);
}

static void test_strings(void)
{
	char out[64];
	const char *why = NULL;
	uint8_t u16[16];
	struct ntlm_field f = { u16, 0 };

	CHECK_INT(ntlm_msg_upcase('a'), 'A');
	CHECK_INT(ntlm_msg_upcase(0xe9), 0xc9); /* e acute */
	CHECK_INT(ntlm_msg_upcase(0xf7), 0xf7); /* division sign */
	CHECK_INT(ntlm_msg_upcase(0xff), 0x178);
	CHECK_INT(ntlm_msg_upcase(0x142), 0x141); /* l stroke */
	CHECK_INT(ntlm_msg_upcase(0x17e), 0x17d); /* z caron */
	CHECK_INT(ntlm_msg_upcase(0x3c2), 0x3a3); /* final sigma */
	CHECK_INT(ntlm_msg_upcase(0x44f), 0x42f); /* ya */
	CHECK_INT(ntlm_msg_upcase(0x451), 0x401); /* yo */
	CHECK_INT(ntlm_msg_upcase(0x4e00), 0x4e00);
	CHECK(ntlm_msg_fold_utf8("m\xc3\xbcller", out, sizeof(out)) == 0);
	CHECK_STR(out, "M\xc3\x9cLLER");
	CHECK(ntlm_msg_fold_utf8("\xc3\x28", out, sizeof(out)) < 0);
	CHECK(ntlm_msg_fold_utf8("\xc0\xaf", out, sizeof(out)) < 0); /* overlong '/' */
	CHECK(ntlm_msg_fold_utf8("abcdef", out, 4) < 0);

	f.len = utf16("J\xc3\xb6rg", u16);
	CHECK(ntlm_msg_string_utf8(&f, true, out, sizeof(out), &why) == 0);
	CHECK_STR(out, "J\xc3\xb6rg");
	put16(u16, 0xd83d); /* a lone high surrogate */
	put16(u16 + 2, 'x');
	f.len = 4;
	CHECK(ntlm_msg_string_utf8(&f, true, out, sizeof(out), &why) < 0);
	CHECK_WHY(why, "not valid UTF-16");
	put16(u16 + 2, 0xde00); /* ... now paired: U+1F600 */
	CHECK(ntlm_msg_string_utf8(&f, true, out, sizeof(out), &why) == 0);
	CHECK_STR(out, "\xf0\x9f\x98\x80");
	f.p = (const uint8_t *)"a\tb";
	f.len = 3;
	CHECK(ntlm_msg_string_utf8(&f, false, out, sizeof(out), &why) < 0);
	CHECK_WHY(why, "control character");
	f.p = (const uint8_t *)"caf\xe9";
	f.len = 4;
	CHECK(ntlm_msg_string_utf8(&f, false, out, sizeof(out), &why) < 0);
	CHECK_WHY(why, "neither ASCII nor UTF-8");
	f.p = (const uint8_t *)"abcdef";
	f.len = 6;
	CHECK(ntlm_msg_string_utf8(&f, false, out, 6, &why) < 0);
	CHECK_WHY(why, "too long");
}

/* ---- the users file ---- */

static void test_users_file(void)
{
	struct ntlm_users u;
	const struct ntlm_user *e;
	char *line;
	static const char good[] = "# pinhole NTLM users\n"
	                           "\n"
	                           "CORP\\alice:0123456789abcdef0123456789ABCDEF\r\n"
	                           "  bob : 00000000000000000000000000000001  \n"
	                           "\tOTHER\\bob:00000000000000000000000000000002\n"
	                           "corp\\J\xc3\xb6rg:00000000000000000000000000000003\n"
	                           "alice@corp.example:00000000000000000000000000000004";

	CHECK(ntlm_users_parse(&u, "users", good, strlen(good), &errs) == 0);
	CHECK_INT(errs.n, 0);
	CHECK_INT(u.n, 5);
	e = ntlm_users_find(&u, "alice", "CORP");
	CHECK(e && e->line == 3 && e->nthash[0] == 0x01 && e->nthash[15] == 0xef);
	CHECK(ntlm_users_find(&u, "ALICE", "corp") == e);
	CHECK(ntlm_users_find(&u, "alice", "OTHER") == NULL);
	CHECK(ntlm_users_find(&u, "alice", "") == NULL);
	CHECK(ntlm_users_only_domain(&u) == NULL); /* CORP and OTHER */
	e = ntlm_users_find(&u, "bob", "OTHER");
	CHECK(e && e->line == 5);
	e = ntlm_users_find(&u, "Bob", "anything");
	CHECK(e && e->line == 4);
	e = ntlm_users_find(&u, "bob", "");
	CHECK(e && e->line == 4);
	e = ntlm_users_find(&u, "J\xc3\x96RG", "Corp");
	CHECK(e && e->line == 6);
	e = ntlm_users_find(&u, "ALICE@CORP.EXAMPLE", "");
	CHECK(e && e->line == 7);
	CHECK(ntlm_users_find(&u, "carol", "CORP") == NULL);
	ntlm_users_free(&u);

	static const struct {
		const char *text;
		const char *error;
	} bad[] = {
		{ "alice\n", "users:1: expected DOMAIN\\user:NTHASH or user:NTHASH (no ':' on this line)" },
		{ "\nalice:0123\n", "users:2: the NT hash of 'alice' is not 32 hexadecimal digits" },
		{ "alice:0123456789abcdef0123456789abcdeg\n", "users:1: the NT hash of 'alice' is not 32" },
		{ "alice:\n", "users:1: the NT hash of 'alice' is not 32" },
		{ ":0123456789abcdef0123456789abcdef\n", "users:1: the user name is empty" },
		{ "CORP\\:0123456789abcdef0123456789abcdef\n", "users:1: the user name is empty" },
		{ "\\alice:0123456789abcdef0123456789abcdef\n", "users:1: the domain before '\\' is empty" },
		{ "A\\B\\c:0123456789abcdef0123456789abcdef\n", "users:1: the user name 'B\\c' is not a name" },
		{ "al\x01ice:0123456789abcdef0123456789abcdef\n", "users:1: the user name 'al\x01ice' is not a name" },
		{ "\xff:0123456789abcdef0123456789abcdef\n", "is not a name (printable UTF-8" },
		{ "D\xc3:x\\a:0123456789abcdef0123456789abcdef\n", "users:1: the domain 'D\xc3:x' is not a name" },
		{ "alice:0123456789abcdef0123456789abcdef\n# x\nALICE:0123456789abcdef0123456789abcdef\n",
		  "users:3: ALICE is listed twice (first on line 1)" },
		{ "C\\a:0123456789abcdef0123456789abcdef\nc\\A:0123456789abcdef0123456789abcdef\n",
		  "users:2: C\\A is listed twice (first on line 1)" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		errors_reset();
		CHECK(ntlm_users_parse(&u, "users", bad[i].text, strlen(bad[i].text), &errs) < 0);
		CHECK_INT(errs.n, 1);
		CHECK_WHY(error_text(0), bad[i].error);
		ntlm_users_free(&u);
	}
	/* a NUL inside a line; a hash never appears in an error */
	errors_reset();
	CHECK(ntlm_users_parse(&u, "users", B("a\0b:0123456789abcdef0123456789abcdef\nc:0123"), &errs) < 0);
	CHECK_INT(errs.n, 2);
	CHECK_WHY(error_text(0), "users:1: the line contains a NUL byte");
	CHECK(!unit_contains(error_text(1), "0123"));
	ntlm_users_free(&u);
	errors_reset();

	/* `pinhole passwd --ntlm` lines read back */
	line = ntlm_users_make_line("CORP", "carol", "Password");
	CHECK_STR(line, "CORP\\carol:a4f49c406510bdcab6824ee7c30fd852");
	free(line);
	line = ntlm_users_make_line(NULL, "dave", "Password");
	CHECK_STR(line, "dave:a4f49c406510bdcab6824ee7c30fd852");
	CHECK(ntlm_users_parse(&u, "users", line, strlen(line), &errs) == 0);
	CHECK(ntlm_users_find(&u, "DAVE", "ANY") != NULL);
	ntlm_users_free(&u);
	free(line);
	line = ntlm_users_make_line("", "eve", "");
	CHECK_STR(line, "eve:31d6cfe0d16ae931b73c59d7e0c089c0"); /* MD4 of nothing */
	free(line);
	CHECK(ntlm_users_make_line(NULL, "", "x") == NULL);
	CHECK(ntlm_users_make_line(NULL, "a:b", "x") == NULL);
	CHECK(ntlm_users_make_line(NULL, "a\\b", "x") == NULL);
	CHECK(ntlm_users_make_line("C:D", "a", "x") == NULL);
	CHECK(ntlm_users_make_line(NULL, "#a", "x") == NULL);
	CHECK(ntlm_users_make_line(NULL, "a\nb", "x") == NULL);
	CHECK(ntlm_users_make_line(NULL, "bob", "\xff") == NULL);
}

/* ---- the directive ---- */

static void test_configure(void)
{
	static const struct {
		const char *words;
		const char *error;
	} bad[] = {
		{ "helper", "auth ntlm helper needs a command" },
		{ "helper /bin/cat concurrency 2", "unknown option 'concurrency' for auth ntlm helper" },
		{ "", "auth ntlm takes 'users FILE [allow-v1]'" },
		{ "user ntlm.users", "auth ntlm takes 'users FILE [allow-v1]' or 'helper \"CMD\"' (not 'user')" },
		{ "users", "auth ntlm users needs the users FILE" },
		{ "users ntlm.users allow-v2", "unknown word 'allow-v2' after the users file" },
		{ "users ntlm.users allow-v1 allow-v1", "allow-v1 is given twice" },
		{ "users ntlm.users domain", "'domain' needs a NAME" },
		{ "users ntlm.users domain A domain B", "'domain' is given twice" },
		{ "users ntlm.users host a..b", "'a..b' is not a usable host name" },
		{ "users ntlm.users domain CO/RP", "'CO/RP' is not a usable domain name" },
		{ "users missing.users", "cannot read the NTLM users file '" },
		{ "users empty.users", "lists no user" },
		{ "users broken.users", "broken.users:2: the NT hash of 'bob' is not 32 hexadecimal digits" },
	};
	char want[256];
	void *st;

	write_file("empty.users", "# nobody yet\n");
	write_file("broken.users", "alice:0123456789abcdef0123456789abcdef\nbob:xyz\n");
	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		errors_reset();
		CHECK(configure(bad[i].words) == NULL);
		CHECK_INT(errs.n, 1);
		CHECK_WHY(error_text(0), bad[i].error);
	}
	errors_reset();
	CHECK(configure("helper /nonexistent/ntlm_auth") == NULL);
	snprintf(want, sizeof(want), "%s:7: auth ntlm helper: /nonexistent/ntlm_auth: no such file", conf);
	CHECK_STR(error_text(0), want);
	errors_reset();
	CHECK(configure("users missing.users") == NULL);
	snprintf(want, sizeof(want), "%s:7: cannot read the NTLM users file '", conf);
	CHECK(strncmp(error_text(0), want, strlen(want)) == 0);
	CHECK_WHY(error_text(0), "/missing.users': No such file or directory");
	errors_reset();

	/* twice */
	st = configure("users ntlm.users");
	CHECK(st != NULL);
	{
		char buf[] = "users ntlm.users", *argv[4];
		int argc;

		split_words(buf, argv, &argc);
		CHECK(auth_ntlm_ops.configure(&st, argv, argc, conf, 9, &errs) < 0);
		snprintf(want, sizeof(want), "auth ntlm is configured twice (first at %s:7)", conf);
		CHECK_WHY(error_text(0), want);
	}
	errors_reset();
	{
		struct strbuf b = { 0 };

		auth_ntlm_ops.dump(st, &b);
		CHECK(strncmp(b.p, "auth ntlm users /", 17) == 0);
		CHECK_WHY(b.p, "/ntlm.users\n");
		CHECK(!unit_contains(b.p, "allow-v1"));
		free(b.p);

		struct buf c = { 0 };

		auth_ntlm_ops.challenge(st, "pinhole", &c);
		buf_append(&c, "", 1);
		CHECK_STR(buf_data(&c), "Proxy-Authenticate: NTLM\r\n");
		buf_release(&c);
	}
	auth_ntlm_ops.free(st);
	st = configure("users ntlm.users allow-v1 host proxy1.corp.example domain corp.example");
	CHECK(st != NULL);
	{
		struct strbuf b = { 0 };

		auth_ntlm_ops.dump(st, &b);
		CHECK_WHY(b.p, "/ntlm.users allow-v1 domain corp.example host proxy1.corp.example\n");
		free(b.p);
	}
	auth_ntlm_ops.free(st);
	CHECK(auth_ntlm_ops.name && strcmp(auth_ntlm_ops.name, "NTLM") == 0);
	CHECK(strcmp(auth_ntlm_ops.keyword, "ntlm") == 0);
	CHECK(auth_ntlm_ops.connection_bound);
}

/* ---- the Type 2 ---- */

/* Finds AV pair id in the Type 2's target info; its value or NULL. */
static const uint8_t *av(const uint8_t *m, size_t n, unsigned id, size_t *len)
{
	size_t off = get32(m + 44), tl = get16(m + 40), i = 0;

	CHECK(off + tl <= n);
	while (i + 4 <= tl) {
		unsigned aid = get16(m + off + i), alen = get16(m + off + i + 2);

		if (i + 4 + alen > tl)
			break;
		if (aid == id) {
			*len = alen;
			return m + off + i + 4;
		}
		if (aid == 0)
			break;
		i += 4 + alen;
	}
	return NULL;
}

static bool av_is(const uint8_t *m, size_t n, unsigned id, const char *want)
{
	uint8_t w[512];
	size_t len = 0, wl = utf16(want, w);
	const uint8_t *v = av(m, n, id, &len);

	return v && len == wl && memcmp(v, w, wl) == 0;
}

static void test_type2(void *st)
{
	struct auth_result res = { 0 };
	void *sess = NULL;
	uint8_t t1[64], t2[NTLM_MSG_MAX], other[8];
	size_t n, len;
	uint32_t f;
	const uint8_t *v;
	uint64_t ft;

	/* a Windows-like client: Unicode, target, ESS, 128, 56, always-sign */
	n = make_type1(0xe2088297, t1);
	CHECK_INT(step(st, &sess, t1, n, T0, &res), AUTH_CHALLENGE);
	CHECK_INT(res.status, AUTH_CHALLENGE);
	CHECK_STR(res.scheme, "NTLM");
	CHECK(sess != NULL);
	n = type2_of(&res, t2, sizeof(t2));
	CHECK(n > 56);
	CHECK(memcmp(t2, "NTLMSSP\0\2\0\0\0", 12) == 0);
	f = get32(t2 + 20);
	CHECK_INT(f, NTLM_NEGOTIATE_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_ALWAYS_SIGN |
	                     NTLM_TARGET_TYPE_DOMAIN | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |
	                     NTLM_NEGOTIATE_TARGET_INFO | NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56);
	/* TargetName: the NetBIOS domain, in UTF-16 */
	CHECK_INT(get16(t2 + 12), 8);
	CHECK(get32(t2 + 16) + 8 <= n && memcmp(t2 + get32(t2 + 16), "C\0O\0R\0P\0", 8) == 0);
	CHECK(av_is(t2, n, NTLM_AV_NB_DOMAIN, "CORP"));
	CHECK(av_is(t2, n, NTLM_AV_NB_COMPUTER, "PROXY1"));
	CHECK(av_is(t2, n, NTLM_AV_DNS_DOMAIN, "corp.example"));
	CHECK(av_is(t2, n, NTLM_AV_DNS_COMPUTER, "proxy1.corp.example"));
	v = av(t2, n, NTLM_AV_TIMESTAMP, &len);
	CHECK(v && len == 8);
	ft = v ? (uint64_t)get32(v) | (uint64_t)get32(v + 4) << 32 : 0;
	CHECK(ft == T0 * 10000 + 116444736000000000ULL);
	/* the list ends with MsvAvEOL, which ends the target info */
	CHECK(get32(t2 + 44) + get16(t2 + 40) == n);
	CHECK(memcmp(t2 + n - 4, "\0\0\0\0", 4) == 0);
	memcpy(other, t2 + 24, 8);

	/* an OEM client that asks for nothing: no target name, no ESS */
	n = make_type1(NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM, t1);
	CHECK_INT(step(st, &sess, t1, n, T0, &res), AUTH_CHALLENGE);
	n = type2_of(&res, t2, sizeof(t2));
	f = get32(t2 + 20);
	CHECK_INT(f, NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_TARGET_INFO);
	CHECK_INT(get16(t2 + 12), 0);
	CHECK(av_is(t2, n, NTLM_AV_NB_DOMAIN, "CORP")); /* target info is always there, in UTF-16 */
	CHECK(memcmp(other, t2 + 24, 8) != 0);          /* a fresh challenge */

	/* an OEM client asking for the target gets it in OEM */
	n = make_type1(NTLM_NEGOTIATE_OEM | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM, t1);
	CHECK_INT(step(st, &sess, t1, n, T0, &res), AUTH_CHALLENGE);
	n = type2_of(&res, t2, sizeof(t2));
	CHECK_INT(get16(t2 + 12), 4);
	CHECK(memcmp(t2 + get32(t2 + 16), "CORP", 4) == 0);
	/* a 16-byte Type 1 of the oldest clients */
	CHECK_INT(step(st, &sess, t1, 16, T0, &res), AUTH_CHALLENGE);
	buf_release(&res.headers);
	auth_ntlm_ops.session_free(sess);
}

/* ---- Type 3: what passes ---- */

struct exchange {
	void *sess;
	uint8_t t2[NTLM_MSG_MAX];
	size_t t2_len;
};

/* Type 1 (with these flags) -> Type 2 on a fresh connection. */
static void start(const void *st, struct exchange *x, uint32_t flags)
{
	struct auth_result res = { 0 };
	uint8_t t1[32];

	x->sess = NULL;
	CHECK_INT(step(st, &x->sess, t1, make_type1(flags, t1), T0, &res), AUTH_CHALLENGE);
	x->t2_len = type2_of(&res, x->t2, sizeof(x->t2));
	CHECK(x->t2_len > 56);
	buf_release(&res.headers);
}

static enum auth_status finish(const void *st, struct exchange *x, const struct t3 *c, uint64_t now,
                               struct auth_result *res)
{
	uint8_t m[NTLM_MSG_MAX];
	enum auth_status s = step(st, &x->sess, m, make_type3(c, m), now, res);

	CHECK_INT(res->status, s);
	CHECK_STR(res->scheme, "NTLM");
	CHECK(s == AUTH_OK || buf_len(&res->headers) == 0);
	return s;
}

static void end(struct exchange *x, struct auth_result *res)
{
	auth_ntlm_ops.session_free(x->sess);
	x->sess = NULL;
	buf_release(&res->headers);
}

#define UNICODE_FLAGS 0xe2088297u
#define OEM_ESS_FLAGS (NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY)

static void test_accepted(const void *st, const void *st_v1)
{
	struct auth_result res = { 0 };
	struct exchange x;
	uint8_t alice[16], bob[16], mu[16], user_hash[16], ident[256], nt[1024], lm[24], cc[8];
	struct t3 c;
	size_t idn;

	hash_of("secret", alice);
	hash_of("hunter2", bob);
	hash_of("Gr\303\274\303\237e", mu);
	hash_of("Password", user_hash);

	/* NTLMv2, Unicode */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("alice", "CORP", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice" };
	c.nt = nt;
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	memset(lm, 0, sizeof(lm));
	c.lm = lm;
	c.lm_len = 24;
	CHECK_INT(finish(st, &x, &c, T0 + 1000, &res), AUTH_OK);
	CHECK_STR(res.user, "CORP\\alice");
	end(&x, &res);

	/* NTLMv2 with the domain and user in other cases: the salt is
	 * UPPER(user) || domain exactly as sent; the log shows them as sent */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("aLiCe", "corp", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "corp", .user = "aLiCe" };
	c.nt = nt;
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0 + 299999, &res), AUTH_OK);
	CHECK_STR(res.user, "corp\\aLiCe");
	end(&x, &res);

	/* the MS-NLMP user, domain and password, found case-insensitively */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("User", "Domain", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "Domain", .user = "User" };
	c.nt = nt;
	c.nt_len = make_v2_response(user_hash, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_OK);
	CHECK_STR(res.user, "Domain\\User");
	end(&x, &res);

	/* a non-ASCII user: m\u00fcller is upper-cased to M\u00dcLLER */
	start(st, &x, UNICODE_FLAGS);
	idn = utf16("M\xc3\x9cLLER", ident);
	idn += utf16("CORP", ident + idn);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "m\xc3\xbcller" };
	c.nt = nt;
	c.nt_len = make_v2_response(mu, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_OK);
	CHECK_STR(res.user, "CORP\\m\xc3\xbcller");
	end(&x, &res);

	/* any-domain user, no domain sent: the user alone */
	start(st, &x, OEM_ESS_FLAGS);
	idn = ascii_ident("bob", "", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "", .user = "bob" };
	c.nt = nt;
	c.nt_len = make_v2_response(bob, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_OK);
	CHECK_STR(res.user, "bob");
	end(&x, &res);

	/* LMv2 alone (no NT response) */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("bob", "ELSEWHERE", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "ELSEWHERE", .user = "bob" };
	c.lm = lm;
	c.lm_len = make_lmv2_response(bob, ident, idn, x.t2, lm);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_OK);
	CHECK_STR(res.user, "ELSEWHERE\\bob");
	end(&x, &res);

	/* NTLM2 session response: accepted without allow-v1 */
	start(st, &x, OEM_ESS_FLAGS);
	memset(cc, 0x3c, sizeof(cc));
	memset(lm, 0, sizeof(lm));
	memcpy(lm, cc, 8);
	CHECK(ntlm_users_ntlm2_session(alice, x.t2 + 24, cc, nt) == 0);
	c = (struct t3){ .flags = OEM_ESS_FLAGS, .lm = lm, .lm_len = 24, .nt = nt, .nt_len = 24 };
	c.domain = "CORP";
	c.user = "alice";
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_OK);
	CHECK_STR(res.user, "CORP\\alice");
	end(&x, &res);

	/* NTLMv1: only with allow-v1 */
	start(st_v1, &x, NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM);
	CHECK(ntlm_users_desl(alice, x.t2 + 24, nt) == 0);
	c = (struct t3){ .flags = NTLM_NEGOTIATE_OEM, .nt = nt, .nt_len = 24, .domain = "CORP", .user = "alice" };
	CHECK_INT(finish(st_v1, &x, &c, T0, &res), AUTH_OK);
	end(&x, &res);
	start(st, &x, NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM);
	CHECK(ntlm_users_desl(alice, x.t2 + 24, nt) == 0);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "NTLMv1 response from CORP\\alice refused (NTLMv2 or NTLM2 session only; 'allow-v1' "
	                      "accepts it)");
	end(&x, &res);
	/* ... and a wrong v1 answer under allow-v1 is a wrong password */
	start(st_v1, &x, NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM);
	CHECK(ntlm_users_desl(bob, x.t2 + 24, nt) == 0);
	CHECK_INT(finish(st_v1, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong password for CORP\\alice");
	end(&x, &res);
}

/* ---- Type 3: every refusal ---- */

static void test_refused(const void *st)
{
	struct auth_result res = { 0 };
	struct exchange x;
	uint8_t alice[16], ident[256], nt[1024], m[NTLM_MSG_MAX + 64];
	struct t3 c;
	size_t idn, n;
	void *sess = NULL;
	char *big;

	hash_of("secret", alice);

	/* a Type 3 on a connection that sent no Type 1 */
	c = (struct t3){ .flags = NTLM_NEGOTIATE_UNICODE, .domain = "CORP", .user = "alice", .nt = nt, .nt_len = 24 };
	memset(nt, 1, 24);
	n = make_type3(&c, m);
	CHECK_INT(step(st, &sess, m, n, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "NTLM Type 3 without a Type 1 on this connection");
	CHECK(sess == NULL);

	/* unknown user, wrong password, wrong domain */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("carol", "CORP", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "carol", .nt = nt };
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "unknown user CORP\\carol");
	/* the same Type 3 again (a replay) has no challenge left */
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "NTLM Type 3 without a Type 1 on this connection");
	end(&x, &res);

	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("alice", "ELSEWHERE", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "ELSEWHERE", .user = "alice", .nt = nt };
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "unknown user ELSEWHERE\\alice");
	end(&x, &res);

	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("alice", "CORP", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice", .nt = nt };
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	nt[40] ^= 1; /* the blob (its target info) changed on the way */
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong password for CORP\\alice");
	CHECK(!unit_contains(res.reason, "secret"));
	end(&x, &res);

	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("alice", "CORP", ident);
	hash_of("Secret", ident + 200); /* the password's case matters */
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice", .nt = nt };
	c.nt_len = make_v2_response(ident + 200, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong password for CORP\\alice");
	end(&x, &res);

	/* a salt without upper-casing the user is not NTOWFv2 */
	start(st, &x, UNICODE_FLAGS);
	idn = utf16("aliceCORP", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice", .nt = nt };
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong password for CORP\\alice");
	end(&x, &res);

	/* too late: more than 5 minutes after the challenge */
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident("alice", "CORP", ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice", .nt = nt };
	c.nt_len = make_v2_response(alice, ident, idn, x.t2, nt);
	CHECK_INT(finish(st, &x, &c, T0 + 300001, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "the NTLM answer of CORP\\alice came 300 s after the challenge (at most 300 s)");
	end(&x, &res);

	/* anonymous */
	start(st, &x, UNICODE_FLAGS);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "", .user = "", .lm = (const uint8_t *)"", .lm_len = 1 };
	CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "anonymous NTLM logon refused (the Type 3 names no user)");
	end(&x, &res);

	/* malformed tokens */
	static const struct {
		const char *cred;
		const char *reason;
	} tokens[] = {
		{ "", "malformed NTLM message: the NTLM token is empty" },
		{ "TlRMTVNTUAAB=", "malformed NTLM message: not base64" },
		{ "!!!!", "malformed NTLM message: not base64" },
		{ "aGVsbG8gd29ybGQh", "malformed NTLM message: no NTLMSSP signature" },
		/* "NTLMSSP\0" type 2 */
		{ "TlRMTVNTUAACAAAA", "malformed NTLM message: the client sent a Type 2 (a challenge)" },
		/* type 1, 12 bytes */
		{ "TlRMTVNTUAABAAAA", "malformed NTLM message: Type 1 truncated in its header" },
		/* "NTLMSS" */
		{ "TlRMTVNT", "malformed NTLM message: no NTLMSSP signature" },
		/* type 1, 20 bytes */
		{ "TlRMTVNTUAABAAAABwIAAAAAAAA=", "malformed NTLM message: Type 1 truncated in its header" },
		/* type 3, 12 bytes */
		{ "TlRMTVNTUAADAAAA", "malformed NTLM message: Type 3 truncated in its header" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(tokens); i++) {
		start(st, &x, UNICODE_FLAGS);
		CHECK_INT(step_text(st, &x.sess, tokens[i].cred, &res), AUTH_DENIED);
		CHECK_STR(res.reason, tokens[i].reason);
		end(&x, &res);
	}

	/* Type 1 fields outside the message */
	n = make_type1(UNICODE_FLAGS, m);
	put16(m + 16, 4);
	put32(m + 20, 30);
	CHECK_INT(step(st, &sess, m, n, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed NTLM message: a Type 1 field lies outside the message");
	CHECK(sess == NULL);

	/* oversized: a message of 4097 bytes, and a token too long to decode */
	start(st, &x, UNICODE_FLAGS);
	memset(m, 0, sizeof(m));
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = "CORP", .user = "alice", .nt = nt, .nt_len = 24 };
	n = make_type3(&c, m);
	CHECK_INT(step(st, &x.sess, m, NTLM_MSG_MAX + 1, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed NTLM message: larger than 4096 bytes");
	end(&x, &res);
	start(st, &x, UNICODE_FLAGS);
	CHECK_INT(step(st, &x.sess, m, NTLM_MSG_MAX, T0, &res), AUTH_DENIED); /* 4096 is fine: wrong, not big */
	CHECK(!unit_contains(res.reason, "larger"));
	end(&x, &res);
	big = malloc(100001);
	memset(big, 'A', 100000);
	big[100000] = '\0';
	start(st, &x, UNICODE_FLAGS);
	CHECK_INT(step_text(st, &x.sess, big, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed NTLM message: larger than 4096 bytes");
	end(&x, &res);
	free(big);

	/* each Type 3 field pointing outside the message, or into its header */
	static const char *const fields[] = {
		"LM response", "NT response", "domain name", "user name", "workstation name", "session key",
	};
	for (int i = 0; i < 6; i++) {
		char want[128];

		for (int how = 0; how < 3; how++) {
			start(st, &x, UNICODE_FLAGS);
			c = (struct t3){ .flags = NTLM_NEGOTIATE_UNICODE, .domain = "CORP", .user = "alice" };
			n = make_type3(&c, m);
			put16(m + 12 + 8 * i, 2);
			put32(m + 16 + 8 * i, how == 0 ? (uint32_t)n - 1 : how == 1 ? 0xfffffffeu : 60);
			CHECK_INT(step(st, &x.sess, m, n, T0, &res), AUTH_DENIED);
			snprintf(want, sizeof(want), "malformed NTLM message: the %s lies outside the message",
			         fields[i]);
			CHECK_STR(res.reason, want);
			end(&x, &res);
		}
	}

	/* impossible lengths, odd UTF-16, bad names */
	static const struct {
		size_t lm_len, nt_len;
		const char *user;
		uint32_t flags;
		const char *reason;
	} shapes[] = {
		{ 23, 0, "alice", 1, "malformed NTLM message: the LM response is neither 0, 1 nor 24 bytes long" },
		{ 24, 25, "alice", 1, "malformed NTLM message: the NT response is too short for NTLMv2" },
		{ 24, 43, "alice", 1, "malformed NTLM message: the NT response is too short for NTLMv2" },
		{ 24, 44, "alice", 1, "malformed NTLM message: the NTLMv2 response has an unknown version" },
		{ 24, 24, "al\tice", 1, "malformed NTLM message: the user name contains a control character" },
		{ 24, 24, "al\xe9", 2, "malformed NTLM message: the user name is neither ASCII nor UTF-8" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(shapes); i++) {
		start(st, &x, UNICODE_FLAGS);
		memset(nt, 0, 64);
		c = (struct t3){ .flags = shapes[i].flags, .domain = "CORP", .user = shapes[i].user };
		c.lm = nt;
		c.lm_len = shapes[i].lm_len;
		c.nt = nt;
		c.nt_len = shapes[i].nt_len;
		CHECK_INT(finish(st, &x, &c, T0, &res), AUTH_DENIED);
		CHECK_STR(res.reason, shapes[i].reason);
		end(&x, &res);
	}
	start(st, &x, UNICODE_FLAGS);
	c = (struct t3){ .flags = NTLM_NEGOTIATE_UNICODE, .domain = "CORP", .user = "alice" };
	n = make_type3(&c, m);
	put16(m + 36, 9); /* the user name: 9 bytes of UTF-16 */
	CHECK_INT(step(st, &x.sess, m, n, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed NTLM message: a UTF-16 name has an odd length");
	end(&x, &res);
	start(st, &x, UNICODE_FLAGS);
	memset(m, 'a', sizeof(m));
	c = (struct t3){ .flags = 0, .domain = (const char *)"D", .user = "u" };
	n = make_type3(&c, m);
	put16(m + 36, 300); /* a 300-byte OEM user name */
	put32(m + 40, 64);
	CHECK_INT(step(st, &x.sess, m, 400, T0, &res), AUTH_DENIED);
	CHECK_STR(res.reason, "malformed NTLM message: the user name is too long");
	end(&x, &res);
}

/* ---- libntlm, an independent client ---- */

static void test_libntlm(const void *st, const void *st_v1)
{
	tSmbNtlmAuthRequest req;
	tSmbNtlmAuthChallenge chal;
	tSmbNtlmAuthResponse resp;
	struct auth_result res = { 0 };
	struct ntlm_type3 t3;
	const char *why;
	void *sess = NULL;
	uint8_t t2[NTLM_MSG_MAX];
	size_t n;

	for (int v1 = 0; v1 < 2; v1++) {
		const void *s = v1 ? st_v1 : st;

		for (int pw = 0; pw < 2; pw++) {
			buildSmbNtlmAuthRequest(&req, "alice", "CORP");
			CHECK_INT(step(s, &sess, (const uint8_t *)&req, SmbLength(&req), T0, &res), AUTH_CHALLENGE);
			n = type2_of(&res, t2, sizeof(t2));
			CHECK(n > 0 && n <= sizeof(chal) - sizeof(chal.bufIndex));
			memset(&chal, 0, sizeof(chal));
			memcpy(&chal, t2, n);
			buildSmbNtlmAuthResponse(&chal, &resp, "alice", pw ? "secret" : "wrong");
			CHECK(ntlm_msg_parse_type3((const uint8_t *)&resp, SmbLength(&resp), &t3, &why) == 0);
			if (!v1 && !pw)
				printf("libntlm %s: Type 1 flags %08x, Type 3 flags %08x, LM %zu, NT %zu bytes\n",
				       NTLM_VERSION, (unsigned)req.flags, (unsigned)t3.flags, t3.lm.len, t3.nt.len);
			CHECK_INT(t3.nt.len, 24);
			step(s, &sess, (const uint8_t *)&resp, SmbLength(&resp), T0, &res);
			if (v1 && pw) {
				CHECK_INT(res.status, AUTH_OK);
				CHECK_STR(res.user, "CORP\\alice");
			} else if (v1) {
				CHECK_INT(res.status, AUTH_DENIED);
				CHECK_STR(res.reason, "wrong password for CORP\\alice");
			} else {
				CHECK_INT(res.status, AUTH_DENIED);
				CHECK_WHY(res.reason, "NTLMv1 response from CORP\\alice refused");
			}
			auth_ntlm_ops.session_free(sess);
			sess = NULL;
		}
	}
	buf_release(&res.headers);
}

/* ---- curl, through a loopback Python server ---- */

/* The server answers the first request with a bare NTLM challenge, curl's
 * Type 1 with the Type 2 the test writes to type2 (after writing the Type 1
 * to type1), and the Type 3 with 200 (after writing it to type3). */
static const char server_py[] = "import base64, http.server, os, sys, time\n"
                                "d, proxy = sys.argv[1], sys.argv[2] == 'proxy'\n"
                                "code = 407 if proxy else 401\n"
                                "ask = 'Proxy-Authenticate' if proxy else 'WWW-Authenticate'\n"
                                "got = 'Proxy-Authorization' if proxy else 'Authorization'\n"
                                "def put(name, text):\n"
                                "    with open(os.path.join(d, name + '.tmp'), 'w') as f:\n"
                                "        f.write(text)\n"
                                "    os.rename(os.path.join(d, name + '.tmp'), os.path.join(d, name))\n"
                                "class H(http.server.BaseHTTPRequestHandler):\n"
                                "    protocol_version = 'HTTP/1.1'\n"
                                "    def log_message(self, *a):\n"
                                "        pass\n"
                                "    def reply(self, status, header):\n"
                                "        self.send_response(status)\n"
                                "        if header:\n"
                                "            self.send_header(ask, header)\n"
                                "        self.send_header('Content-Length', '2')\n"
                                "        self.end_headers()\n"
                                "        self.wfile.write(b'ok')\n"
                                "    def do_GET(self):\n"
                                "        a = self.headers.get(got, '')\n"
                                "        if not a.startswith('NTLM '):\n"
                                "            return self.reply(code, 'NTLM')\n"
                                "        tok = a[5:].strip()\n"
                                "        kind = base64.b64decode(tok)[8]\n"
                                "        if kind == 1:\n"
                                "            put('type1', tok)\n"
                                "            p = os.path.join(d, 'type2')\n"
                                "            for i in range(200):\n"
                                "                if os.path.exists(p):\n"
                                "                    break\n"
                                "                time.sleep(0.05)\n"
                                "            with open(p) as f:\n"
                                "                return self.reply(code, 'NTLM ' + f.read().strip())\n"
                                "        put('type3', tok)\n"
                                "        self.reply(200, None)\n"
                                "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
                                "put('port', str(s.server_address[1]))\n"
                                "s.timeout = 30\n"
                                "for i in range(4):\n"
                                "    s.handle_request()\n";

static bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096], full[4200];

	if (!path)
		return false;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *d = strtok(buf, ":"); d; d = strtok(NULL, ":")) {
		snprintf(full, sizeof(full), "%s/%s", d, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* Waits up to 15 s for dir/name; its contents (static) or NULL. */
static const char *wait_file(const char *name)
{
	static char text[8192];
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);

			fclose(f);
			text[n] = '\0';
			return text;
		}
		usleep(50 * 1000);
	}
	return NULL;
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void curl_run(const void *st, bool proxy, const char *password, enum auth_status want)
{
	const char *python = getenv("PYTHON") ? getenv("PYTHON") : "python3";
	char script[256], url[128], user[64], *text;
	struct auth_result res = { 0 };
	struct ntlm_type3 t3;
	const char *why, *tok;
	uint8_t m[NTLM_MSG_MAX + 16];
	void *sess = NULL;
	pid_t server, client;
	long n;
	int status = -1;
	static const char *const files[] = { "type1", "type2", "type3", "port" };

	for (size_t i = 0; i < PH_ARRAY_LEN(files); i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	write_file("server.py", server_py);
	snprintf(script, sizeof(script), "%s/server.py", dir);
	server = spawn((char *const[]){ (char *)python, script, dir, proxy ? "proxy" : "origin", NULL });
	tok = wait_file("port");
	CHECK(tok != NULL);
	if (!tok)
		goto out;
	snprintf(user, sizeof(user), "CORP\\alice:%s", password);
	if (proxy) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%s", tok);
		client = spawn((char *const[]){ "curl", "-s", "-o", "/dev/null", "--max-time", "20", "--noproxy", "",
		                                "--proxy-ntlm", "--proxy-user", user, "-x", url,
		                                "http://origin.invalid/", NULL });
	} else {
		snprintf(url, sizeof(url), "http://127.0.0.1:%s/", tok);
		client = spawn((char *const[]){ "curl", "-s", "-o", "/dev/null", "--max-time", "20", "--noproxy", "*",
		                                "--ntlm", "-u", user, url, NULL });
	}
	tok = wait_file("type1");
	CHECK(tok != NULL);
	if (!tok)
		goto wait;
	CHECK_INT(step_text(st, &sess, tok, &res), AUTH_CHALLENGE);
	text = strndup(buf_data(&res.headers) + 25, buf_len(&res.headers) - 27);
	write_file("type2.tmp", text);
	{
		char a[256], b[256];

		snprintf(a, sizeof(a), "%s/type2.tmp", dir);
		snprintf(b, sizeof(b), "%s/type2", dir);
		rename(a, b);
	}
	free(text);
	tok = wait_file("type3");
	CHECK(tok != NULL);
	if (!tok)
		goto wait;
	n = base64_decode(tok, strlen(tok), m, sizeof(m));
	CHECK(n > 0 && ntlm_msg_parse_type3(m, (size_t)n, &t3, &why) == 0);
	if (n > 0) {
		const char *kind = "NTLMv1";

		if (t3.nt.len > 24)
			kind = "NTLMv2";
		else if (t3.lm.len == 24 && !memcmp(t3.lm.p + 8, "\0\0\0\0\0\0\0\0", 8))
			kind = "NTLM2 session";
		printf("curl (%s): Type 3 flags %08x, LM %zu, NT %zu bytes: %s\n", proxy ? "proxy" : "origin",
		       (unsigned)t3.flags, t3.lm.len, t3.nt.len, kind);
	}
	CHECK_INT(step_text(st, &sess, tok, &res), want);
	if (want == AUTH_OK)
		CHECK_STR(res.user, "CORP\\alice");
	else
		CHECK_STR(res.reason, "wrong password for CORP\\alice");
wait:
	waitpid(client, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
out:
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	auth_ntlm_ops.session_free(sess);
	buf_release(&res.headers);
}

static void test_curl(const void *st)
{
	if (!have_program("curl") || !have_program(getenv("PYTHON") ? getenv("PYTHON") : "python3")) {
		printf("test_auth_ntlm: curl or python3 not found, curl exchange skipped\n");
		return;
	}
	curl_run(st, false, "secret", AUTH_OK);
	curl_run(st, true, "secret", AUTH_OK);
	curl_run(st, true, "Secret", AUTH_DENIED);
}

/* ---- a bare user name: an empty domain is the challenge's ---- */

/* NTLMv2 for user in domain (as sent) with password through st. */
static enum auth_status bare_v2(const void *st, const char *domain, const char *user, const char *password,
                                struct auth_result *res)
{
	struct exchange x;
	uint8_t h[16], ident[256], nt[1024];
	struct t3 c;
	size_t idn;
	enum auth_status s;

	hash_of(password, h);
	start(st, &x, UNICODE_FLAGS);
	idn = ascii_ident(user, domain, ident);
	c = (struct t3){ .flags = get32(x.t2 + 20), .domain = domain, .user = user, .nt = nt };
	c.nt_len = make_v2_response(h, ident, idn, x.t2, nt);
	s = finish(st, &x, &c, T0, res);
	auth_ntlm_ops.session_free(x.sess);
	return s;
}

/* The NetBIOS domain a configuration's challenge announces. */
static bool announces(const void *st, const char *domain)
{
	struct exchange x;
	uint8_t w[64];
	size_t wl = utf16(domain, w);
	bool yes;

	start(st, &x, UNICODE_FLAGS);
	/* the target name and the target information */
	yes = get16(x.t2 + 12) == wl && get32(x.t2 + 16) + wl <= x.t2_len &&
	      memcmp(x.t2 + get32(x.t2 + 16), w, wl) == 0 && av_is(x.t2, x.t2_len, NTLM_AV_NB_DOMAIN, domain);
	auth_ntlm_ops.session_free(x.sess);
	return yes;
}

static void test_bare_user(const void *st)
{
	struct auth_result res = { 0 };
	void *ex, *ex_corp, *dns, *mixed;
	char *a = ntlm_users_make_line("EXAMPLE", "alice", "secret"), *b = ntlm_users_make_line(NULL, "bob", "hunter2");
	char *d = ntlm_users_make_line("corp.example", "dave", "pw"), text[512];

	CHECK(a && b && d);
	snprintf(text, sizeof(text), "%s\n%s\n", a ? a : "", b ? b : "");
	write_file("example.users", text);
	snprintf(text, sizeof(text), "%s\n", d ? d : "");
	write_file("dns.users", text);
	free(a);
	free(b);
	free(d);

	/* Without `domain NAME`, the challenge announces the one domain the
	 * users file names; a file naming several leaves it PINHOLE. */
	ex = configure("users example.users host proxy1");
	ex_corp = configure("users example.users domain CORP host proxy1");
	dns = configure("users dns.users domain corp.example host proxy1");
	mixed = configure("users ntlm.users host proxy1");
	CHECK(ex && ex_corp && dns && mixed);
	if (!ex || !ex_corp || !dns || !mixed)
		goto out;
	CHECK(announces(ex, "EXAMPLE"));
	CHECK(announces(ex_corp, "CORP"));
	CHECK(announces(mixed, "PINHOLE"));

	/* A bare "alice" (what a browser's prompt sends) is EXAMPLE\alice. */
	CHECK_INT(bare_v2(ex, "", "alice", "secret", &res), AUTH_OK);
	CHECK_STR(res.user, "EXAMPLE\\alice");
	buf_release(&res.headers);
	CHECK_INT(bare_v2(ex, "", "ALICE", "secret", &res), AUTH_OK);
	CHECK_STR(res.user, "EXAMPLE\\ALICE");
	buf_release(&res.headers);
	CHECK_INT(bare_v2(ex, "", "alice", "Secret", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "wrong password for EXAMPLE\\alice");
	/* A domain given, in any case, is used as given. */
	CHECK_INT(bare_v2(ex, "example", "alice", "secret", &res), AUTH_OK);
	CHECK_STR(res.user, "example\\alice");
	buf_release(&res.headers);
	CHECK_INT(bare_v2(ex, "OTHER", "alice", "secret", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "unknown user OTHER\\alice");
	/* An any-domain line still fits a bare name, logged bare. */
	CHECK_INT(bare_v2(ex, "", "bob", "hunter2", &res), AUTH_OK);
	CHECK_STR(res.user, "bob");
	buf_release(&res.headers);
	CHECK_INT(bare_v2(ex, "", "carol", "secret", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "unknown user carol (no domain given: looked up in the challenge's domain)");
	/* The challenge named CORP: a bare alice is CORP\alice, unknown. */
	CHECK_INT(bare_v2(ex_corp, "", "alice", "secret", &res), AUTH_DENIED);
	CHECK_STR(res.reason, "unknown user alice (no domain given: looked up in the challenge's domain)");
	/* The DNS form of the announced domain counts too. */
	CHECK_INT(bare_v2(dns, "", "dave", "pw", &res), AUTH_OK);
	CHECK_STR(res.user, "CORP.EXAMPLE\\dave");
	buf_release(&res.headers);
	/* The main test file: CORP.example announced, CORP\alice found. */
	CHECK_INT(bare_v2(st, "", "alice", "secret", &res), AUTH_OK);
	CHECK_STR(res.user, "CORP\\alice");
	buf_release(&res.headers);
	CHECK_INT(bare_v2(st, "", "User", "Password", &res), AUTH_DENIED);
out:
	buf_release(&res.headers);
	auth_ntlm_ops.free(ex);
	auth_ntlm_ops.free(ex_corp);
	auth_ntlm_ops.free(dns);
	auth_ntlm_ops.free(mixed);
}

/* ntlm.users, made with ntlm_users_make_line() as `pinhole passwd` makes it */
static void write_users(void)
{
	static const char *const users[][3] = {
		{ "CORP", "alice", "secret" },
		{ NULL, "bob", "hunter2" },
		{ "Corp", "M\303\274ller", "Gr\303\274\303\237e" },
		{ "Domain", "User", "Password" },
		{ "OTHER", "alice", "not the same" },
	};
	char text[1024] = "# test users\n";

	for (size_t i = 0; i < PH_ARRAY_LEN(users); i++) {
		char *l = ntlm_users_make_line(users[i][0], users[i][1], users[i][2]);

		CHECK(l != NULL);
		if (l && strlen(text) + strlen(l) + 2 < sizeof(text)) {
			strcat(text, l);
			strcat(text, "\n");
		}
		free(l);
	}
	write_file("ntlm.users", text);
}

int main(void)
{
	void *st, *st_v1;

	const char *tmp = getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp";

	snprintf(dir, sizeof(dir), "%s/test_auth_ntlm.XXXXXX", tmp);
	if (!mkdtemp(dir))
		abort();
	snprintf(conf, sizeof(conf), "%s/pinhole.conf", dir);

	test_vectors();
	test_strings();
	test_users_file();

	write_users();
	test_configure();
	st = configure("users ntlm.users domain CORP.example host proxy1.corp.example");
	st_v1 = configure("users ./ntlm.users allow-v1 domain CORP");
	CHECK(st && st_v1);
	CHECK_INT(errs.n, 0);
	if (st && st_v1) {
		test_type2(st);
		test_accepted(st, st_v1);
		test_refused(st);
		test_libntlm(st, st_v1);
		test_curl(st);
		test_bare_user(st);
	}
	auth_ntlm_ops.free(st);
	auth_ntlm_ops.free(st_v1);
	errors_reset();

	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return unit_summary("test_auth_ntlm");
}
