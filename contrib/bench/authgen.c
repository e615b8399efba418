/*
 * authgen.c - credentials for loadgen's auth modes: a fixed Basic header,
 * NTLM Type 1 and NTLMv2 Type 3 messages (MS-NLMP 2.2, 3.3.2) answering each
 * connection's challenge, and a fresh SPNEGO/Kerberos token per connection
 * from MIT GSSAPI.  No sockets and no HTTP parsing: loadgen.c does those.
 */
#include "authgen.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

/* Largest NTLM message we build or accept (a Type 2's target info list is
 * a few hundred bytes). */
#define NTLM_MAX 2048
#define NAME_MAX_BYTES 256

/* NegotiateFlags (MS-NLMP 2.2.2.5) of our Type 1: Unicode or OEM, ask for
 * the target, NTLM, always sign, extended session security, 128/56-bit. */
#define F_UNICODE 0x00000001u
#define F_OEM 0x00000002u
#define F_REQUEST_TARGET 0x00000004u
#define F_NTLM 0x00000200u
#define F_ALWAYS_SIGN 0x00008000u
#define F_ESS 0x00080000u
#define F_TARGET_INFO 0x00800000u
#define F_128 0x20000000u
#define F_56 0x80000000u
#define T1_FLAGS (F_UNICODE | F_OEM | F_REQUEST_TARGET | F_NTLM | F_ALWAYS_SIGN | F_ESS | F_128 | F_56)

/* AvId of the timestamp in a Type 2's target info (MS-NLMP 2.2.2.1). */
#define AV_EOL 0
#define AV_TIMESTAMP 7
/* FILETIME (100 ns since 1601) of the Unix epoch. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL

enum scheme { A_NONE, A_BASIC, A_NTLM, A_NEGOTIATE };

static enum scheme scheme;
static char errbuf[256];

/* Basic: the whole value, built once. */
static char basic_value[1024];
static long basic_len;

/* NTLM: the identity as sent, and NTOWFv2 (computed once, as a client
 * does per logon). */
static uint8_t ntlm_user16[2 * NAME_MAX_BYTES], ntlm_domain16[2 * NAME_MAX_BYTES];
static size_t ntlm_user16_len, ntlm_domain16_len;
static char ntlm_user[NAME_MAX_BYTES], ntlm_domain[NAME_MAX_BYTES];
static uint8_t ntlm_key[16];
static char ntlm_type1[64];
static long ntlm_type1_len;

/* Negotiate: the client's credential over an in-memory copy of its ticket
 * cache, so that the service ticket is fetched once and found again without
 * reading a file per connection. */
static gss_cred_id_t gss_cred = GSS_C_NO_CREDENTIAL;
static gss_name_t gss_target = GSS_C_NO_NAME;
static gss_OID_desc spnego_oid = { 6, "\x2b\x06\x01\x05\x05\x02" };

static long fail_with(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long fail_with(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -1;
}

const char *authgen_error(void)
{
	return errbuf;
}

const char *authgen_scheme(void)
{
	switch (scheme) {
	case A_BASIC:
		return "Basic";
	case A_NTLM:
		return "NTLM";
	case A_NEGOTIATE:
		return "Negotiate";
	default:
		return "";
	}
}

int authgen_static(void)
{
	return scheme == A_BASIC;
}

/* "<prefix> <base64 of p>" into out; its length or -1. */
static long b64_value(const char *prefix, const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t pl = strlen(prefix);

	if (pl + 1 + 4 * ((n + 2) / 3) + 1 > cap)
		return fail_with("a %s token does not fit in the request buffer", prefix);
	memcpy(out, prefix, pl);
	out[pl] = ' ';
	return (long)(pl + 1) + EVP_EncodeBlock((unsigned char *)out + pl + 1, p, (int)n);
}

/* ---- NTLM ---- */

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static unsigned int get16(const uint8_t *p)
{
	return p[0] | (unsigned int)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* ASCII to UTF-16LE (the bench's names and password are ASCII). */
static size_t utf16(const char *s, int upper, uint8_t *out)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (upper && c >= 'a' && c <= 'z')
			c -= 32;
		put16(out + 2 * i, c);
	}
	return 2 * i;
}

/* NTOWFv1 = MD4(UTF-16LE(password)); MD4 lives in OpenSSL's legacy
 * provider. */
static int nt_hash(const char *password, uint8_t out[16])
{
	uint8_t pw16[2 * NAME_MAX_BYTES];
	unsigned int len = 0;
	EVP_MD *md4;
	int ok;

	if (strlen(password) >= NAME_MAX_BYTES)
		return (int)fail_with("the NTLM password is too long");
	if (!OSSL_PROVIDER_load(NULL, "legacy") || !OSSL_PROVIDER_load(NULL, "default") ||
	    !(md4 = EVP_MD_fetch(NULL, "MD4", NULL)))
		return (int)fail_with("OpenSSL has no MD4 (its legacy provider is needed for the NT hash)");
	ok = EVP_Digest(pw16, utf16(password, 0, pw16), out, &len, md4, NULL) && len == 16;
	EVP_MD_free(md4);
	return ok ? 0 : (int)fail_with("MD4 failed");
}

static int ntlm_init(const char *arg)
{
	const char *bs = strchr(arg, '\\'), *colon;
	uint8_t nthash[16], ident[4 * NAME_MAX_BYTES];
	uint8_t t1[32];
	unsigned int kl = 0;

	colon = bs ? strchr(bs, ':') : NULL;
	if (!bs || !colon || bs == arg || colon == bs + 1 || (size_t)(bs - arg) >= NAME_MAX_BYTES ||
	    (size_t)(colon - bs - 1) >= NAME_MAX_BYTES)
		return (int)fail_with("ntlm needs DOMAIN\\USER:PASSWORD, not '%s'", arg);
	memcpy(ntlm_domain, arg, bs - arg);
	ntlm_domain[bs - arg] = '\0';
	memcpy(ntlm_user, bs + 1, colon - bs - 1);
	ntlm_user[colon - bs - 1] = '\0';
	if (nt_hash(colon + 1, nthash) < 0)
		return -1;
	ntlm_user16_len = utf16(ntlm_user, 0, ntlm_user16);
	ntlm_domain16_len = utf16(ntlm_domain, 0, ntlm_domain16);
	/* NTOWFv2 = HMAC-MD5(NTOWFv1, UNICODE(Uppercase(user) || domain)) */
	utf16(ntlm_user, 1, ident);
	memcpy(ident + ntlm_user16_len, ntlm_domain16, ntlm_domain16_len);
	if (!HMAC(EVP_md5(), nthash, 16, ident, ntlm_user16_len + ntlm_domain16_len, ntlm_key, &kl) || kl != 16)
		return (int)fail_with("HMAC-MD5 failed");
	/* NEGOTIATE_MESSAGE: signature, type 1, flags, empty domain and
	 * workstation fields pointing at the end of the header. */
	memset(t1, 0, sizeof(t1));
	memcpy(t1, "NTLMSSP", 8);
	put32(t1 + 8, 1);
	put32(t1 + 12, T1_FLAGS);
	put32(t1 + 20, 32);
	put32(t1 + 28, 32);
	ntlm_type1_len = b64_value("NTLM", t1, sizeof(t1), ntlm_type1, sizeof(ntlm_type1));
	return ntlm_type1_len < 0 ? -1 : 0;
}

/* Appends a payload field: its (len, maxlen, offset) at hdr, bytes at *off. */
static void put_field(uint8_t *m, size_t hdr, size_t *off, const void *p, size_t n)
{
	put16(m + hdr, (unsigned int)n);
	put16(m + hdr + 2, (unsigned int)n);
	put32(m + hdr + 4, (uint32_t)*off);
	memcpy(m + *off, p, n);
	*off += n;
}

/* AUTHENTICATE_MESSAGE with the NTLMv2 response to the CHALLENGE in b64. */
static long ntlm_type3(const char *b64, char *out, size_t cap)
{
	/* the blob is 32 bytes and the Type 2's target info; the Type 3 the
	 * blob, the names and a 64-byte header */
	uint8_t t2[NTLM_MAX + 4], blob[NTLM_MAX + 64], m[2 * NTLM_MAX + 1024], lm[24], proof[16];
	uint8_t hm_in[8 + sizeof(blob)];
	const uint8_t *chal, *info = NULL, *ts = NULL;
	size_t b64len = strlen(b64), infolen = 0, bl = 0, off = 64, i;
	uint32_t flags, info_off;
	unsigned int hl = 0;
	uint64_t ft;
	uint8_t cc[8], ws16[32];
	int n;

	while (b64len && (b64[b64len - 1] == ' ' || b64[b64len - 1] == '\r'))
		b64len--;
	if (b64len == 0 || b64len % 4 || b64len / 4 * 3 > NTLM_MAX)
		return fail_with("the NTLM challenge is not usable base64");
	n = EVP_DecodeBlock(t2, (const unsigned char *)b64, (int)b64len);
	if (n < 0)
		return fail_with("the NTLM challenge is not base64");
	n -= (b64[b64len - 1] == '=') + (b64[b64len - 2] == '=');
	if (n < 32 || memcmp(t2, "NTLMSSP", 8) != 0 || get32(t2 + 8) != 2)
		return fail_with("the 407 carries no NTLM Type 2");
	flags = get32(t2 + 20);
	chal = t2 + 24;
	/* TargetInfoFields, when present: the AV pairs the NTLMv2 blob repeats */
	if (n >= 48 && (flags & F_TARGET_INFO)) {
		infolen = get16(t2 + 40);
		info_off = get32(t2 + 44);
		if (info_off > (uint32_t)n || infolen > (size_t)n - info_off)
			return fail_with("the Type 2's target info lies outside it");
		info = t2 + info_off;
		for (i = 0; i + 4 <= infolen;) {
			unsigned int id = get16(info + i), len = get16(info + i + 2);

			if (id == AV_EOL || i + 4 + len > infolen)
				break;
			if (id == AV_TIMESTAMP && len == 8)
				ts = info + i + 4;
			i += 4 + len;
		}
	}
	if (RAND_bytes(cc, sizeof(cc)) != 1)
		return fail_with("RAND_bytes failed");
	/* NTLMv2_CLIENT_CHALLENGE: versions 1 1, Z(6), time, client
	 * challenge, Z(4), the server's AV pairs (MsvAvEOL if none), Z(4). */
	memset(blob, 0, 28);
	blob[0] = blob[1] = 1;
	if (ts) {
		memcpy(blob + 8, ts, 8);
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		ft = (uint64_t)now.tv_sec * 10000000u + now.tv_nsec / 100 + FILETIME_UNIX_EPOCH;
		put32(blob + 8, (uint32_t)ft);
		put32(blob + 12, (uint32_t)(ft >> 32));
	}
	memcpy(blob + 16, cc, 8);
	bl = 28;
	if (infolen) {
		memcpy(blob + bl, info, infolen);
		bl += infolen;
	} else {
		memset(blob + bl, 0, 4);
		bl += 4;
	}
	memset(blob + bl, 0, 4);
	bl += 4;
	/* NTProofStr = HMAC-MD5(NTOWFv2, ServerChallenge || blob) */
	memcpy(hm_in, chal, 8);
	memcpy(hm_in + 8, blob, bl);
	if (!HMAC(EVP_md5(), ntlm_key, 16, hm_in, 8 + bl, proof, &hl))
		return fail_with("HMAC-MD5 failed");
	/* LMv2 = HMAC-MD5(NTOWFv2, ServerChallenge || client challenge) ||
	 * client challenge; all zeros when the server sent a timestamp. */
	if (ts) {
		memset(lm, 0, sizeof(lm));
	} else {
		memcpy(hm_in + 8, cc, 8);
		if (!HMAC(EVP_md5(), ntlm_key, 16, hm_in, 16, lm, &hl))
			return fail_with("HMAC-MD5 failed");
		memcpy(lm + 16, cc, 8);
	}
	/* header: signature, type 3, six fields, flags; payload from 64 on */
	memset(m, 0, 64);
	memcpy(m, "NTLMSSP", 8);
	put32(m + 8, 3);
	put_field(m, 12, &off, lm, 24);
	put16(m + 20, (unsigned int)(16 + bl));
	put16(m + 22, (unsigned int)(16 + bl));
	put32(m + 24, (uint32_t)off);
	memcpy(m + off, proof, 16);
	memcpy(m + off + 16, blob, bl);
	off += 16 + bl;
	if (flags & F_UNICODE) {
		put_field(m, 28, &off, ntlm_domain16, ntlm_domain16_len);
		put_field(m, 36, &off, ntlm_user16, ntlm_user16_len);
		put_field(m, 44, &off, ws16, utf16("BENCH", 0, ws16));
	} else {
		put_field(m, 28, &off, ntlm_domain, strlen(ntlm_domain));
		put_field(m, 36, &off, ntlm_user, strlen(ntlm_user));
		put_field(m, 44, &off, "BENCH", 5);
	}
	put_field(m, 52, &off, "", 0);
	put32(m + 60, flags & (T1_FLAGS | F_TARGET_INFO));
	return b64_value("NTLM", m, off, out, cap);
}

/* ---- Negotiate ---- */

static long gss_fail(const char *what, OM_uint32 major, OM_uint32 minor)
{
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
	OM_uint32 ctx = 0, min;
	int mech = major == GSS_S_FAILURE && minor;

	gss_display_status(&min, mech ? minor : major, mech ? GSS_C_MECH_CODE : GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx,
	                   &msg);
	snprintf(errbuf, sizeof(errbuf), "%s: %.*s", what, (int)msg.length, (const char *)msg.value);
	gss_release_buffer(&min, &msg);
	return -1;
}

static int negotiate_init(const char *service)
{
	gss_buffer_desc nb = { strlen(service), (void *)service };
	gss_OID_set_desc mechs = { 1, &spnego_oid };
	krb5_context k;
	krb5_ccache src = NULL, mem = NULL;
	krb5_principal me = NULL;
	OM_uint32 major, minor;
	char *memname = NULL, tok[16384];

	if (!strchr(service, '@'))
		return (int)fail_with("negotiate needs SERVICE@HOST (e.g. HTTP@proxy.example), not '%s'", service);
	if (krb5_init_context(&k) != 0)
		return (int)fail_with("krb5_init_context failed");
	if (krb5_cc_default(k, &src) != 0 || krb5_cc_get_principal(k, src, &me) != 0)
		return (int)fail_with("no Kerberos ticket in the credential cache (KRB5CCNAME; run kinit)");
	if (krb5_cc_new_unique(k, "MEMORY", NULL, &mem) != 0 || krb5_cc_initialize(k, mem, me) != 0 ||
	    krb5_cc_copy_creds(k, src, mem) != 0 || krb5_cc_get_full_name(k, mem, &memname) != 0)
		return (int)fail_with("copying the credential cache into memory failed");
	krb5_cc_close(k, src);
	/* A SPNEGO credential of our own: given a Kerberos-only one, SPNEGO
	 * would acquire the default credential again for every context. The
	 * memory cache lives as long as the process; k is kept open. */
	major = gss_krb5_ccache_name(&minor, memname, NULL);
	if (GSS_ERROR(major))
		return (int)gss_fail("gss_krb5_ccache_name", major, minor);
	major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &gss_cred, NULL,
	                         NULL);
	if (GSS_ERROR(major))
		return (int)gss_fail("gss_acquire_cred", major, minor);
	major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &gss_target);
	if (GSS_ERROR(major))
		return (int)gss_fail("gss_import_name", major, minor);
	/* the first token asks the KDC for the service ticket: not measured */
	scheme = A_NEGOTIATE;
	return authgen_first(tok, sizeof(tok)) < 0 ? -1 : 0;
}

/* A new context's first token: a fresh authenticator with the cached
 * service ticket.  Mutual authentication is requested, so the proxy also
 * builds an AP-REP; the context is dropped without reading it. */
static long negotiate_token(char *out, size_t cap)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor, min;
	long r;

	major = gss_init_sec_context(&minor, gss_cred, &ctx, gss_target, &spnego_oid, GSS_C_MUTUAL_FLAG, 0,
	                             GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &tok, NULL, NULL);
	if (GSS_ERROR(major)) {
		if (ctx != GSS_C_NO_CONTEXT)
			gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
		return gss_fail("gss_init_sec_context", major, minor);
	}
	r = b64_value("Negotiate", tok.value, tok.length, out, cap);
	gss_release_buffer(&min, &tok);
	gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	return r;
}

/* ---- interface ---- */

int authgen_init(const char *spec, char *err, size_t cap)
{
	int r = -1;

	errbuf[0] = '\0';
	if (strncmp(spec, "basic:", 6) == 0) {
		const char *cred = spec + 6;
		size_t n = strlen(cred);

		if (!strchr(cred, ':') || 6 + 4 * ((n + 2) / 3) + 1 > sizeof(basic_value)) {
			fail_with("basic needs USER:PASSWORD, not '%s'", cred);
		} else {
			basic_len = b64_value("Basic", (const uint8_t *)cred, n, basic_value, sizeof(basic_value));
			scheme = A_BASIC;
			r = basic_len < 0 ? -1 : 0;
		}
	} else if (strncmp(spec, "ntlm:", 5) == 0) {
		r = ntlm_init(spec + 5);
		if (r == 0)
			scheme = A_NTLM;
	} else if (strncmp(spec, "negotiate:", 10) == 0) {
		r = negotiate_init(spec + 10);
	} else {
		fail_with("unknown auth '%s' (basic:USER:PASSWORD, ntlm:DOMAIN\\USER:PASSWORD, "
		          "negotiate:SERVICE@HOST)",
		          spec);
	}
	if (r < 0) {
		scheme = A_NONE;
		snprintf(err, cap, "%s", errbuf);
	}
	return r;
}

long authgen_first(char *out, size_t cap)
{
	switch (scheme) {
	case A_BASIC:
		if ((size_t)basic_len + 1 > cap)
			return fail_with("the Basic value does not fit");
		memcpy(out, basic_value, basic_len + 1);
		return basic_len;
	case A_NTLM:
		if ((size_t)ntlm_type1_len + 1 > cap)
			return fail_with("the NTLM Type 1 does not fit");
		memcpy(out, ntlm_type1, ntlm_type1_len + 1);
		return ntlm_type1_len;
	case A_NEGOTIATE:
		return negotiate_token(out, cap);
	default:
		return fail_with("no auth configured");
	}
}

long authgen_answer(const char *challenge, char *out, size_t cap)
{
	if (scheme != A_NTLM)
		return fail_with("%s has no second leg here: the proxy answered 407 to the credentials",
		                 authgen_scheme());
	if (strncasecmp(challenge, "NTLM ", 5) != 0)
		return fail_with("the 407 has no NTLM challenge");
	return ntlm_type3(challenge + 5, out, cap);
}
