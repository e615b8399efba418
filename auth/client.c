/*
 * client.c - pinhole authenticating to a parent proxy (client.h): the
 * challenges of its 407, the choice of the strongest scheme pinhole can
 * answer, and each leg: Negotiate through the GSSAPI initiator (SPNEGO,
 * service HTTP@parent), NTLMv2 (the messages of ntlm_msg.c, the hashes of
 * ntlm_users.c), Digest (RFC 7616: MD5 and SHA-256, qop auth, cnonce, nc)
 * and Basic.  What the parent accepted is remembered per parent so that
 * Basic and Digest go pre-emptively; connection-based schemes remember
 * nothing (their connection is the memory).  The first Negotiate leg asks
 * the Kerberos library on the calling thread: with a ticket in the cache
 * that costs nothing, with a client keytab it asks the KDC (a TGT and a
 * service ticket, then cached).
 */
#include "client.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "digest.h"
#include "negotiate.h"
#include "ntlm_msg.h"
#include "ntlm_users.h"
#include "scheme.h"
#include "strbuf.h"

/* A handshake that goes on longer is refused: NTLM needs two legs, a
 * stale Digest nonce or a SPNEGO continuation one more. */
#define MAX_LEGS 4

/* SPNEGO, the mechanism HTTP Negotiate (RFC 4559) speaks. */
static gss_OID_desc spnego_oid = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

static const char *const scheme_names[AUTH_CLIENT_NSCHEMES] = {
	[AUTH_CLIENT_NONE] = "none", [AUTH_CLIENT_BASIC] = "Basic",         [AUTH_CLIENT_DIGEST] = "Digest",
	[AUTH_CLIENT_NTLM] = "NTLM", [AUTH_CLIENT_NEGOTIATE] = "Negotiate",
};

const char *auth_client_scheme_name(enum auth_client_scheme s)
{
	return s < AUTH_CLIENT_NSCHEMES ? scheme_names[s] : "none";
}

bool auth_client_connection_based(enum auth_client_scheme s)
{
	return s == AUTH_CLIENT_NTLM || s == AUTH_CLIENT_NEGOTIATE;
}

/* ---- challenges ---- */

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token68(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("-._~+/", c));
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A cursor over one header value. */
struct scan {
	const char *p, *end;
};

static void skip_ows(struct scan *s)
{
	while (s->p < s->end && is_ows(*s->p))
		s->p++;
}

static size_t token_len(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && is_tchar((unsigned char)p[n]))
		n++;
	return n;
}

/* Whether "token BWS =" starts at p: an auth-param, not a new challenge. */
static bool param_follows(const char *p, const char *end)
{
	size_t n = token_len(p, end);

	if (n == 0)
		return false;
	p += n;
	while (p < end && is_ows(*p))
		p++;
	return p < end && *p == '=';
}

/* A token68 running to the end of the challenge (OWS, then a comma or
 * the end): its length, or 0. */
static size_t token68_len(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && is_token68((unsigned char)p[n]))
		n++;
	if (n == 0)
		return 0;
	while (p + n < end && p[n] == '=')
		n++;
	for (const char *q = p + n; q < end; q++) {
		if (*q == ',')
			return n;
		if (!is_ows(*q))
			return 0;
	}
	return n;
}

/* A parameter's value, a token or a quoted-string, unescaped into out
 * (cap with its NUL).  0, 1 when it does not fit (skipped whole), -1 when
 * malformed. */
static int param_value(struct scan *s, char *out, size_t cap, const char **why)
{
	size_t o = 0;
	bool long_value = false;

	if (s->p < s->end && *s->p == '"') {
		for (s->p++;; s->p++) {
			char c;

			if (s->p >= s->end) {
				*why = "a quoted string is not closed";
				return -1;
			}
			c = *s->p;
			if (c == '"')
				break;
			if (c == '\\') {
				if (++s->p >= s->end) {
					*why = "a quoted string is not closed";
					return -1;
				}
				c = *s->p;
			}
			if ((unsigned char)c < 0x20 && c != '\t') {
				*why = "a quoted string holds a control character";
				return -1;
			}
			if (o + 1 < cap)
				out[o++] = c;
			else
				long_value = true;
		}
		s->p++;
	} else {
		size_t n = token_len(s->p, s->end);

		if (n == 0) {
			*why = "a parameter has no value";
			return -1;
		}
		if (n < cap) {
			memcpy(out, s->p, n);
			o = n;
		} else {
			long_value = true;
		}
		s->p += n;
	}
	out[o] = '\0';
	return long_value ? 1 : 0;
}

/* One Digest challenge as it is read, before it is compared with the best. */
struct digest_offer {
	bool realm, nonce, usable, qop_auth, stale, userhash, sess, has_opaque;
	enum htdigest_alg alg;
	char realm_s[AUTH_CLIENT_PARAM_MAX], nonce_s[AUTH_CLIENT_PARAM_MAX], opaque_s[AUTH_CLIENT_PARAM_MAX];
};

static void digest_param(struct digest_offer *d, const char *name, size_t nlen, const char *v, int fit)
{
	if (ph_memcaseeq(name, nlen, "realm", 5)) {
		d->realm = fit == 0;
		snprintf(d->realm_s, sizeof(d->realm_s), "%s", v);
	} else if (ph_memcaseeq(name, nlen, "nonce", 5)) {
		d->nonce = fit == 0;
		snprintf(d->nonce_s, sizeof(d->nonce_s), "%s", v);
	} else if (ph_memcaseeq(name, nlen, "opaque", 6)) {
		d->has_opaque = true;
		if (fit != 0)
			d->usable = false;
		snprintf(d->opaque_s, sizeof(d->opaque_s), "%s", v);
	} else if (ph_memcaseeq(name, nlen, "algorithm", 9)) {
		if (ph_strcaseeq(v, "MD5") || ph_strcaseeq(v, "MD5-sess")) {
			d->alg = HTDIGEST_MD5;
		} else if (ph_strcaseeq(v, "SHA-256") || ph_strcaseeq(v, "SHA-256-sess")) {
			d->alg = HTDIGEST_SHA256;
		} else {
			d->usable = false; /* SHA-512-256 and the unknown ones */
		}
		d->sess = strstr(v, "-sess") || strstr(v, "-SESS");
	} else if (ph_memcaseeq(name, nlen, "qop", 3)) {
		d->qop_auth = false;
		for (const char *t = v; *t;) {
			size_t n;

			while (*t == ',' || is_ows(*t))
				t++;
			n = strcspn(t, ", \t");
			if (n == 4 && ph_memcaseeq(t, n, "auth", 4))
				d->qop_auth = true;
			t += n;
		}
		/* qop=auth-int alone: pinhole does not hash bodies. */
		if (!d->qop_auth)
			d->usable = false;
	} else if (ph_memcaseeq(name, nlen, "stale", 5)) {
		d->stale = ph_strcaseeq(v, "true");
	} else if (ph_memcaseeq(name, nlen, "userhash", 8)) {
		d->userhash = ph_strcaseeq(v, "true");
	}
}

static void offer_digest(struct auth_client_challenges *ch, const struct digest_offer *d)
{
	if (!d->usable || !d->realm || !d->nonce)
		return;
	/* SHA-256 wins over MD5; among equals the first offered. */
	if (ch->digest && !(d->alg == HTDIGEST_SHA256 && ch->digest_alg == HTDIGEST_MD5))
		return;
	ch->digest = true;
	ch->digest_alg = d->alg;
	ch->digest_sess = d->sess;
	ch->digest_qop_auth = d->qop_auth;
	ch->digest_stale = d->stale;
	ch->digest_userhash = d->userhash;
	ch->has_opaque = d->has_opaque;
	memcpy(ch->realm, d->realm_s, sizeof(ch->realm));
	memcpy(ch->nonce, d->nonce_s, sizeof(ch->nonce));
	memcpy(ch->opaque, d->opaque_s, sizeof(ch->opaque));
}

/* Adds a scheme to the list of names offered, once. */
static void add_name(struct auth_client_challenges *ch, const char *name, size_t len)
{
	size_t have = strlen(ch->names);
	const char *p = ch->names;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (ph_memcaseeq(p, n, name, len))
			return;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (have + len + 3 >= sizeof(ch->names))
		return;
	if (have) {
		memcpy(ch->names + have, ", ", 2);
		have += 2;
	}
	memcpy(ch->names + have, name, len);
	ch->names[have + len] = '\0';
}

void auth_client_challenges_init(struct auth_client_challenges *ch)
{
	memset(ch, 0, sizeof(*ch));
}

int auth_client_parse(struct auth_client_challenges *ch, const char *value, size_t len, const char **why)
{
	struct scan s = { value, value + len };

	for (;;) {
		const char *scheme;
		size_t slen, t68;
		enum auth_client_scheme kind = AUTH_CLIENT_NONE;
		struct digest_offer d;

		while (s.p < s.end && (is_ows(*s.p) || *s.p == ','))
			s.p++;
		if (s.p >= s.end)
			return 0;
		scheme = s.p;
		slen = token_len(s.p, s.end);
		if (slen == 0) {
			*why = "a challenge does not start with a scheme name";
			return -1;
		}
		s.p += slen;
		if (ph_memcaseeq(scheme, slen, "Basic", 5))
			kind = AUTH_CLIENT_BASIC;
		else if (ph_memcaseeq(scheme, slen, "Digest", 6))
			kind = AUTH_CLIENT_DIGEST;
		else if (ph_memcaseeq(scheme, slen, "NTLM", 4))
			kind = AUTH_CLIENT_NTLM;
		else if (ph_memcaseeq(scheme, slen, "Negotiate", 9))
			kind = AUTH_CLIENT_NEGOTIATE;
		add_name(ch, scheme, slen);
		if (kind != AUTH_CLIENT_NONE && kind != AUTH_CLIENT_DIGEST)
			ch->offered |= 1u << kind;
		memset(&d, 0, sizeof(d));
		d.usable = true;
		d.alg = HTDIGEST_MD5;
		if (s.p < s.end && *s.p != ',' && !is_ows(*s.p)) {
			*why = "a scheme name is followed by neither a space nor a comma";
			return -1;
		}
		skip_ows(&s);
		if (s.p >= s.end || *s.p == ',')
			continue; /* a bare scheme: "NTLM", "Negotiate", "Basic" */
		/* A token68 runs to the end of its challenge ("abc==" is no
		 * auth-param: "=" is no value); anything else is auth-params. */
		t68 = token68_len(s.p, s.end);
		if (t68) {
			struct auth_client_token tok = { s.p, t68 };

			if (kind == AUTH_CLIENT_NTLM)
				ch->ntlm = tok;
			else if (kind == AUTH_CLIENT_NEGOTIATE)
				ch->negotiate = tok;
			s.p += t68;
			continue;
		}
		/* auth-params, up to the next challenge. */
		for (;;) {
			char v[AUTH_CLIENT_PARAM_MAX];
			const char *name = s.p;
			size_t nlen = token_len(s.p, s.end);
			int fit;

			if (nlen == 0) {
				*why = "an auth-param does not start with a name";
				return -1;
			}
			s.p += nlen;
			skip_ows(&s);
			if (s.p >= s.end || *s.p != '=') {
				*why = "an auth-param has no '='";
				return -1;
			}
			s.p++;
			skip_ows(&s);
			fit = param_value(&s, v, sizeof(v), why);
			if (fit < 0)
				return -1;
			if (kind == AUTH_CLIENT_DIGEST)
				digest_param(&d, name, nlen, v, fit);
			skip_ows(&s);
			if (s.p >= s.end)
				break;
			if (*s.p != ',') {
				*why = "auth-params are not separated by commas";
				return -1;
			}
			/* The comma ends this parameter; a parameter or a new
			 * challenge follows (or nothing, or more commas). */
			while (s.p < s.end && (*s.p == ',' || is_ows(*s.p)))
				s.p++;
			if (s.p >= s.end || !param_follows(s.p, s.end))
				break;
		}
		if (kind == AUTH_CLIENT_DIGEST) {
			offer_digest(ch, &d);
			if (ch->digest)
				ch->offered |= 1u << AUTH_CLIENT_DIGEST;
		}
	}
}

/* ---- one request's handshake ---- */

struct auth_client {
	enum auth_client_scheme scheme; /* answered last */
	unsigned legs;
	bool preempted;  /* the answer was sent before any challenge */
	bool final_sent; /* Basic, Digest or an NTLM Type 3 went out */
	bool negotiate_failed;
	/* Digest: what was answered. */
	enum htdigest_alg alg;
	bool sess, qop_auth, userhash, has_opaque;
	char realm[AUTH_CLIENT_PARAM_MAX];
	char nonce[AUTH_CLIENT_PARAM_MAX];
	char opaque[AUTH_CLIENT_PARAM_MAX];
	uint32_t nc;
	/* Negotiate. */
	gss_ctx_id_t gss;
	gss_name_t target;
};

struct auth_client *auth_client_new(void)
{
	struct auth_client *ac = ph_calloc(1, sizeof(*ac));

	ac->gss = GSS_C_NO_CONTEXT;
	ac->target = GSS_C_NO_NAME;
	return ac;
}

static void gss_forget(struct auth_client *ac)
{
	OM_uint32 min;

	if (ac->gss != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ac->gss, GSS_C_NO_BUFFER);
	if (ac->target != GSS_C_NO_NAME)
		gss_release_name(&min, &ac->target);
	ac->gss = GSS_C_NO_CONTEXT;
	ac->target = GSS_C_NO_NAME;
}

void auth_client_free(struct auth_client *ac)
{
	if (!ac)
		return;
	gss_forget(ac);
	free(ac);
}

enum auth_client_scheme auth_client_scheme(const struct auth_client *ac)
{
	return ac ? ac->scheme : AUTH_CLIENT_NONE;
}

static void random_bytes(unsigned char *p, size_t n)
{
	/* Guessable client challenges would weaken NTLMv2 and Digest. */
	if (RAND_bytes(p, (int)n) != 1) {
		fprintf(stderr, "pinhole: the OpenSSL random generator failed\n");
		abort();
	}
}

/* "Scheme " and the base64 of in. */
static void put_token(struct strbuf *out, const char *scheme, const unsigned char *in, size_t len)
{
	size_t cap = (len + 2) / 3 * 4 + 1;

	strbuf_printf(out, "%s ", scheme);
	strbuf_reserve(out, cap);
	out->len += base64_encode(in, len, out->p + out->len, cap);
}

static enum auth_client_status basic(struct auth_client *ac, const struct auth_client_creds *cr, struct strbuf *out)
{
	struct strbuf plain = { 0 };

	strbuf_printf(&plain, "%s:%s", cr->user, cr->password ? cr->password : "");
	put_token(out, "Basic", (const unsigned char *)plain.p, plain.len);
	OPENSSL_cleanse(plain.p, plain.len);
	free(plain.p);
	ac->scheme = AUTH_CLIENT_BASIC;
	ac->final_sent = true;
	return AUTH_CLIENT_ANSWER;
}

/* A quoted-string parameter of the Authorization: ", name=\"value\"", or
 * " name=..." for a name starting with a space (the first one). */
static void put_quoted(struct strbuf *out, const char *name, const char *v)
{
	strbuf_printf(out, "%s%s=\"", name[0] == ' ' ? "" : ", ", name);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			strbuf_add(out, "\\", 1);
		strbuf_add(out, v, 1);
	}
	strbuf_add(out, "\"", 1);
}

/* The Digest answer with ac's parameters and its next nonce count. */
static enum auth_client_status digest(struct auth_client *ac, const struct auth_client_request *rq, struct strbuf *out,
                                      char *why, size_t whylen)
{
	const struct auth_client_creds *cr = rq->creds;
	size_t hlen = htdigest_hash_len(ac->alg);
	unsigned char h[HTDIGEST_HASH_MAX], cn[8];
	char ha1[HTDIGEST_HEX_MAX + 1], resp[HTDIGEST_HEX_MAX + 1], cnonce[17], nc[9], uname[HTDIGEST_HEX_MAX + 1];
	const char *a1[3] = { cr->user, ac->realm, cr->password ? cr->password : "" };

	random_bytes(cn, sizeof(cn));
	htdigest_hex(cn, sizeof(cn), cnonce);
	snprintf(nc, sizeof(nc), "%08x", (unsigned)++ac->nc);
	if (htdigest_hash(ac->alg, a1, 3, h) != 0)
		goto broken;
	htdigest_hex(h, hlen, ha1);
	OPENSSL_cleanse(h, sizeof(h));
	if (ac->sess) {
		const char *s[3] = { ha1, ac->nonce, cnonce };

		if (htdigest_hash(ac->alg, s, 3, h) != 0)
			goto broken;
		htdigest_hex(h, hlen, ha1);
	}
	if (ac->qop_auth) {
		if (digest_response(ac->alg, ha1, ac->nonce, nc, cnonce, "auth", rq->method, rq->uri, resp) != 0)
			goto broken;
	} else {
		/* RFC 2069: no qop, no cnonce, no nc. */
		const char *a2[2] = { rq->method, rq->uri };
		char ha2[HTDIGEST_HEX_MAX + 1];

		if (htdigest_hash(ac->alg, a2, 2, h) != 0)
			goto broken;
		htdigest_hex(h, hlen, ha2);
		const char *kd[3] = { ha1, ac->nonce, ha2 };

		if (htdigest_hash(ac->alg, kd, 3, h) != 0)
			goto broken;
		htdigest_hex(h, hlen, resp);
	}
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (ac->userhash) {
		const char *u[2] = { cr->user, ac->realm };

		if (htdigest_hash(ac->alg, u, 2, h) != 0)
			goto broken;
		htdigest_hex(h, hlen, uname);
	}
	strbuf_printf(out, "Digest");
	put_quoted(out, " username", ac->userhash ? uname : cr->user);
	put_quoted(out, "realm", ac->realm);
	put_quoted(out, "nonce", ac->nonce);
	put_quoted(out, "uri", rq->uri);
	strbuf_printf(out, ", algorithm=%s%s", ac->alg == HTDIGEST_SHA256 ? "SHA-256" : "MD5", ac->sess ? "-sess" : "");
	put_quoted(out, "response", resp);
	if (ac->qop_auth) {
		strbuf_printf(out, ", qop=auth, nc=%s", nc);
		put_quoted(out, "cnonce", cnonce);
	}
	if (ac->has_opaque)
		put_quoted(out, "opaque", ac->opaque);
	if (ac->userhash)
		strbuf_printf(out, ", userhash=true");
	ac->scheme = AUTH_CLIENT_DIGEST;
	ac->final_sent = true;
	return AUTH_CLIENT_ANSWER;
broken:
	OPENSSL_cleanse(ha1, sizeof(ha1));
	snprintf(why, whylen, "OpenSSL refused the Digest algorithm %s",
	         ac->alg == HTDIGEST_SHA256 ? "SHA-256" : "MD5");
	return AUTH_CLIENT_FAILED;
}

static void digest_take(struct auth_client *ac, const struct auth_client_challenges *ch)
{
	bool same = strcmp(ac->nonce, ch->nonce) == 0;

	ac->alg = ch->digest_alg;
	ac->sess = ch->digest_sess;
	ac->qop_auth = ch->digest_qop_auth;
	ac->userhash = ch->digest_userhash;
	ac->has_opaque = ch->has_opaque;
	memcpy(ac->realm, ch->realm, sizeof(ac->realm));
	memcpy(ac->nonce, ch->nonce, sizeof(ac->nonce));
	memcpy(ac->opaque, ch->opaque, sizeof(ac->opaque));
	if (!same)
		ac->nc = 0;
}

/* "DOMAIN\user" into its parts (the domain "" when there is none). */
static void split_user(const char *who, char *domain, size_t dcap, char *user, size_t ucap)
{
	const char *bs = strchr(who, '\\');

	if (bs) {
		snprintf(domain, dcap, "%.*s", (int)(bs - who), who);
		snprintf(user, ucap, "%s", bs + 1);
	} else {
		domain[0] = '\0';
		snprintf(user, ucap, "%s", who);
	}
}

/* A name in the Type 3's encoding: UTF-16LE, or the bytes themselves. */
static long encode_name(const char *s, bool unicode, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);

	if (unicode)
		return ntlm_msg_utf8_to_utf16(s, n, out, cap);
	if (n > cap)
		return -1;
	memcpy(out, s, n);
	return (long)n;
}

/* Milliseconds since 1970 as a FILETIME (100 ns since 1601). */
static uint64_t filetime(uint64_t ms)
{
	return (ms + 11644473600000ULL) * 10000ULL;
}

/* The Type 3 answering the server's Type 2 with an NTLMv2 response
 * (MS-NLMP 3.3.2): the blob carries the server's target information and a
 * timestamp (the server's, when it sent one). */
static enum auth_client_status ntlm_type3(struct auth_client *ac, const struct auth_client_request *rq,
                                          const struct auth_client_token *tok, struct strbuf *out, char *why,
                                          size_t whylen)
{
	uint8_t msg[NTLM_MSG_MAX], blob[NTLM_MSG_MAX], nt[NTLM_MSG_MAX], m2[NTLM_MSG_MAX], ident[1024], udom[512],
	        uuser[512], nthash[16], key[16], proof[16], cc[8];
	uint8_t lm[24];
	char domain[256], user[256];
	struct ntlm_type2 t2;
	struct ntlm_type3 t3;
	const char *bad = NULL;
	long m2len = base64_decode(tok->p, tok->len, m2, sizeof(m2));
	long dlen, ulen;
	size_t idlen, blen, mlen;
	uint64_t ts;
	bool unicode;

	if (m2len < 0 || ntlm_msg_parse_type2(m2, (size_t)m2len, &t2, &bad) < 0) {
		snprintf(why, whylen, "its NTLM challenge is malformed: %s", m2len < 0 ? "not base64" : bad);
		return AUTH_CLIENT_FAILED;
	}
	unicode = (t2.flags & NTLM_NEGOTIATE_UNICODE) != 0;
	split_user(rq->creds->user, domain, sizeof(domain), user, sizeof(user));
	dlen = encode_name(domain, unicode, udom, sizeof(udom));
	ulen = encode_name(user, unicode, uuser, sizeof(uuser));
	if (dlen < 0 || ulen < 0) {
		snprintf(why, whylen, "the NTLM user name is not UTF-8 or is too long");
		return AUTH_CLIENT_FAILED;
	}
	memset(&t3, 0, sizeof(t3));
	t3.unicode = unicode;
	t3.flags = (t2.flags & (NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_ALWAYS_SIGN |
	                        NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_TARGET_INFO |
	                        NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56)) |
	           (unicode ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM);
	t3.domain = (struct ntlm_field){ udom, (size_t)dlen };
	t3.user = (struct ntlm_field){ uuser, (size_t)ulen };
	idlen = ntlm_msg_v2_identity(&t3, ident, sizeof(ident));
	if (idlen == 0 && (dlen || ulen)) {
		snprintf(why, whylen, "the NTLM user name is too long");
		return AUTH_CLIENT_FAILED;
	}
	/* NTLMv2_CLIENT_CHALLENGE: versions, zeros, time, client challenge,
	 * zeros, the AV pairs, zeros. */
	blen = 28 + t2.target_info.len + 4;
	if (blen > sizeof(blob) - 16) {
		snprintf(why, whylen, "its NTLM target information is too long");
		return AUTH_CLIENT_FAILED;
	}
	random_bytes(cc, sizeof(cc));
	ts = t2.has_timestamp ? t2.timestamp : filetime(rq->now_ms);
	memset(blob, 0, blen);
	blob[0] = blob[1] = 1;
	for (int i = 0; i < 8; i++)
		blob[8 + i] = (uint8_t)(ts >> (8 * i));
	memcpy(blob + 16, cc, 8);
	if (t2.target_info.len)
		memcpy(blob + 28, t2.target_info.p, t2.target_info.len);
	if (ntlm_users_nt_hash(rq->creds->password ? rq->creds->password : "", nthash) < 0 ||
	    ntlm_users_ntowfv2(nthash, ident, idlen, key) < 0 ||
	    ntlm_users_v2_proof(key, t2.challenge, blob, blen, proof) < 0) {
		OPENSSL_cleanse(nthash, sizeof(nthash));
		OPENSSL_cleanse(key, sizeof(key));
		snprintf(why, whylen, "OpenSSL cannot compute NTLM hashes (MD4 or MD5 unavailable)");
		return AUTH_CLIENT_FAILED;
	}
	memcpy(nt, proof, 16);
	memcpy(nt + 16, blob, blen);
	/* With a server timestamp the LMv2 response is zeros (MS-NLMP 3.1.5.1.2). */
	memset(lm, 0, sizeof(lm));
	if (!t2.has_timestamp) {
		if (ntlm_users_v2_proof(key, t2.challenge, cc, 8, lm) < 0) {
			OPENSSL_cleanse(nthash, sizeof(nthash));
			OPENSSL_cleanse(key, sizeof(key));
			snprintf(why, whylen, "OpenSSL cannot compute NTLM hashes");
			return AUTH_CLIENT_FAILED;
		}
		memcpy(lm + 16, cc, 8);
	}
	OPENSSL_cleanse(nthash, sizeof(nthash));
	OPENSSL_cleanse(key, sizeof(key));
	t3.lm = (struct ntlm_field){ lm, sizeof(lm) };
	t3.nt = (struct ntlm_field){ nt, 16 + blen };
	mlen = ntlm_msg_build_type3(&t3, msg, sizeof(msg));
	if (mlen == 0) {
		snprintf(why, whylen, "the NTLM answer would be longer than %d bytes", NTLM_MSG_MAX);
		return AUTH_CLIENT_FAILED;
	}
	put_token(out, "NTLM", msg, mlen);
	ac->final_sent = true;
	return AUTH_CLIENT_ANSWER;
}

/* One leg of the GSSAPI initiator; in: the parent's token (empty at
 * first).  ANSWER with the next token, or FAILED with why. */
static enum auth_client_status negotiate(struct auth_client *ac, const struct auth_client_request *rq,
                                         const struct auth_client_token *in, struct strbuf *out, char *why,
                                         size_t whylen)
{
	OM_uint32 major, minor;
	gss_buffer_desc tin = GSS_C_EMPTY_BUFFER, tout = GSS_C_EMPTY_BUFFER;
	unsigned char *dec = NULL;
	char status[300];

	if (ac->target == GSS_C_NO_NAME) {
		struct strbuf svc = { 0 };
		gss_buffer_desc nb;

		strbuf_printf(&svc, "HTTP@%s", rq->host);
		nb.value = svc.p;
		nb.length = svc.len;
		major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &ac->target);
		free(svc.p);
		if (GSS_ERROR(major)) {
			negotiate_status(major, minor, status, sizeof(status));
			snprintf(why, whylen, "GSSAPI cannot name HTTP@%s: %s", rq->host, status);
			return AUTH_CLIENT_FAILED;
		}
	}
	if (in->len) {
		long n;

		dec = ph_malloc(in->len);
		n = base64_decode(in->p, in->len, dec, in->len);
		if (n < 0) {
			free(dec);
			snprintf(why, whylen, "its Negotiate token is not base64");
			return AUTH_CLIENT_FAILED;
		}
		tin.value = dec;
		tin.length = (size_t)n;
	}
	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ac->gss, ac->target, &spnego_oid, 0, 0,
	                             GSS_C_NO_CHANNEL_BINDINGS, &tin, NULL, &tout, NULL, NULL);
	free(dec);
	if (GSS_ERROR(major)) {
		negotiate_status(major, minor, status, sizeof(status));
		snprintf(why, whylen, "Negotiate for HTTP@%s failed: %s", rq->host, status);
		gss_release_buffer(&minor, &tout);
		return AUTH_CLIENT_FAILED;
	}
	if (tout.length == 0) {
		snprintf(why, whylen, "Negotiate for HTTP@%s has no token to send", rq->host);
		return AUTH_CLIENT_FAILED;
	}
	put_token(out, "Negotiate", tout.value, tout.length);
	gss_release_buffer(&minor, &tout);
	ac->scheme = AUTH_CLIENT_NEGOTIATE;
	return AUTH_CLIENT_ANSWER;
}

/* The first answer: the strongest scheme offered that pinhole can do. */
static enum auth_client_status choose(struct auth_client *ac, const struct auth_client_request *rq,
                                      const struct auth_client_challenges *ch, struct strbuf *out, char *why,
                                      size_t whylen)
{
	bool creds = rq->creds && rq->creds->user;
	char gss_why[300] = "";

	if ((ch->offered & (1u << AUTH_CLIENT_NEGOTIATE)) && !ac->negotiate_failed) {
		size_t mark = out->len;
		struct auth_client_token none = { NULL, 0 };

		if (negotiate(ac, rq, &none, out, gss_why, sizeof(gss_why)) == AUTH_CLIENT_ANSWER)
			return AUTH_CLIENT_ANSWER;
		/* No ticket to be had: a weaker scheme may still do. */
		ac->negotiate_failed = true;
		gss_forget(ac);
		out->len = mark;
		if (out->p)
			out->p[mark] = '\0';
	}
	if (creds && (ch->offered & (1u << AUTH_CLIENT_NTLM))) {
		uint8_t m1[64];
		size_t n = ntlm_msg_build_type1(m1, sizeof(m1));

		put_token(out, "NTLM", m1, n);
		ac->scheme = AUTH_CLIENT_NTLM;
		return AUTH_CLIENT_ANSWER;
	}
	if (creds && ch->digest) {
		digest_take(ac, ch);
		return digest(ac, rq, out, why, whylen);
	}
	if (creds && (ch->offered & (1u << AUTH_CLIENT_BASIC)))
		return basic(ac, rq->creds, out);
	if (creds && ch->offered) {
		snprintf(why, whylen, "%s (none of them in a form pinhole can answer%s%s)", ch->names,
		         gss_why[0] ? "; " : "", gss_why);
		return AUTH_CLIENT_FAILED;
	}
	snprintf(why, whylen, "%s", ch->names[0] ? ch->names : "no scheme named");
	if (gss_why[0])
		snprintf(why + strlen(why), whylen - strlen(why), "; %s", gss_why);
	return AUTH_CLIENT_NO_CREDENTIALS;
}

enum auth_client_status auth_client_answer(struct auth_client *ac, const struct auth_client_request *rq,
                                           const struct auth_client_challenges *ch, struct strbuf *out, char *why,
                                           size_t whylen)
{
	if (ac->preempted) {
		/* The parent forgot what it accepted (a new nonce, a restart):
		 * start over from its challenge. */
		ac->preempted = false;
		ac->scheme = AUTH_CLIENT_NONE;
		ac->final_sent = false;
		ac->legs = 0;
	}
	if (++ac->legs > MAX_LEGS) {
		snprintf(why, whylen, "its %s handshake went on for more than %d legs",
		         auth_client_scheme_name(ac->scheme), MAX_LEGS);
		return AUTH_CLIENT_FAILED;
	}
	switch (ac->scheme) {
	case AUTH_CLIENT_NONE:
		return choose(ac, rq, ch, out, why, whylen);
	case AUTH_CLIENT_BASIC:
		break;
	case AUTH_CLIENT_DIGEST:
		/* A stale nonce is no refusal: the same credentials, the new nonce. */
		if (ch->digest && ch->digest_stale) {
			digest_take(ac, ch);
			return digest(ac, rq, out, why, whylen);
		}
		break;
	case AUTH_CLIENT_NTLM:
		if (!ac->final_sent && ch->ntlm.len)
			return ntlm_type3(ac, rq, &ch->ntlm, out, why, whylen);
		break;
	case AUTH_CLIENT_NEGOTIATE:
		if (ch->negotiate.len)
			return negotiate(ac, rq, &ch->negotiate, out, why, whylen);
		break;
	default:
		break;
	}
	snprintf(why, whylen, "%s", auth_client_scheme_name(ac->scheme));
	return AUTH_CLIENT_REFUSED;
}

/* ---- what a parent accepted ---- */

void auth_client_cache_init(struct auth_client_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
	pthread_mutex_init(&cache->lock, NULL);
}

void auth_client_cache_destroy(struct auth_client_cache *cache)
{
	pthread_mutex_destroy(&cache->lock);
}

void auth_client_remember(struct auth_client_cache *cache, const struct auth_client *ac,
                          const struct auth_client_creds *creds)
{
	if (!ac || !creds || !ac->final_sent)
		return;
	if (ac->scheme != AUTH_CLIENT_BASIC && ac->scheme != AUTH_CLIENT_DIGEST)
		return;
	pthread_mutex_lock(&cache->lock);
	cache->scheme = ac->scheme;
	cache->creds_id = creds->id;
	if (ac->scheme == AUTH_CLIENT_DIGEST) {
		bool same = strcmp(cache->nonce, ac->nonce) == 0;

		cache->alg = ac->alg;
		cache->sess = ac->sess;
		cache->qop_auth = ac->qop_auth;
		cache->userhash = ac->userhash;
		cache->has_opaque = ac->has_opaque;
		memcpy(cache->realm, ac->realm, sizeof(cache->realm));
		memcpy(cache->nonce, ac->nonce, sizeof(cache->nonce));
		memcpy(cache->opaque, ac->opaque, sizeof(cache->opaque));
		if (!same || cache->nc < ac->nc)
			cache->nc = ac->nc;
	}
	pthread_mutex_unlock(&cache->lock);
}

void auth_client_forget(struct auth_client_cache *cache)
{
	pthread_mutex_lock(&cache->lock);
	cache->scheme = AUTH_CLIENT_NONE;
	pthread_mutex_unlock(&cache->lock);
}

bool auth_client_preempt(struct auth_client_cache *cache, struct auth_client *ac, const struct auth_client_request *rq,
                         struct strbuf *out)
{
	bool sent = false;

	if (!rq->creds || !rq->creds->user)
		return false;
	pthread_mutex_lock(&cache->lock);
	if (cache->scheme == AUTH_CLIENT_BASIC && cache->creds_id == rq->creds->id) {
		basic(ac, rq->creds, out);
		sent = true;
	} else if (cache->scheme == AUTH_CLIENT_DIGEST && cache->creds_id == rq->creds->id && cache->qop_auth) {
		char why[64];

		/* A nonce count of its own for every request, from the
		 * shared one: the parent refuses a count it saw. */
		ac->alg = cache->alg;
		ac->sess = cache->sess;
		ac->qop_auth = cache->qop_auth;
		ac->userhash = cache->userhash;
		ac->has_opaque = cache->has_opaque;
		memcpy(ac->realm, cache->realm, sizeof(ac->realm));
		memcpy(ac->nonce, cache->nonce, sizeof(ac->nonce));
		memcpy(ac->opaque, cache->opaque, sizeof(ac->opaque));
		ac->nc = cache->nc++;
		sent = digest(ac, rq, out, why, sizeof(why)) == AUTH_CLIENT_ANSWER;
	}
	pthread_mutex_unlock(&cache->lock);
	ac->preempted = sent;
	return sent;
}
