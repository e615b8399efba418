/*
 * negotiate.c - Negotiate proxy authentication (RFC 4559): SPNEGO or raw
 * Kerberos tokens accepted with MIT GSSAPI against a keytab.  It owns the
 * `auth negotiate keytab` directive and each connection's security context;
 * routing, sessions' lifetime and the 407s are auth.c's.
 */
#include "negotiate.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "common.h"
#include "cfgparse.h"
#include "helpmode.h"
#include "scheme.h"

/* Bounds: a Kerberos ticket with a large PAC stays well below 64 KiB
 * (Windows' MaxTokenSize is 48000); a context that needs more legs than
 * SPNEGO ever does is a client going round in circles. */
#define NEGOTIATE_MAX_TOKEN (96 * 1024)
#define NEGOTIATE_MAX_LEGS 4
/* A keytab that gave no credentials is tried again at most this often. */
#define NEGOTIATE_RETRY_MS 1000

/* Mechanism OIDs: SPNEGO 1.3.6.1.5.5.2, Kerberos 1.2.840.113554.1.2.2 and
 * the one Microsoft's SPNEGO advertises for it, 1.2.840.48018.1.2.2. */
#define OID_SPNEGO "\x2b\x06\x01\x05\x05\x02"
#define OID_KRB5 "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
#define OID_KRB5_MS "\x2a\x86\x48\x82\xf7\x12\x01\x02\x02"

static gss_OID_desc negotiate_accept_oids[] = {
	{ 6, OID_SPNEGO },
	{ 9, OID_KRB5 },
};
static gss_OID_desc negotiate_krb5_oid = { 9, OID_KRB5 };
static gss_OID_desc negotiate_krb5_ms_oid = { 9, OID_KRB5_MS };

/* The acceptor credentials, acquired once and shared by every worker:
 * MIT's credential handles lock themselves; the lock here only guards
 * the first acquisition and its retries. */
struct negotiate_creds {
	pthread_mutex_t lock;
	gss_cred_id_t cred; /* GSS_C_NO_CREDENTIAL until acquired */
	uint64_t tried_ms;  /* last failed attempt (0: try at first use) */
	char why[200];      /* why that attempt failed */
};

struct negotiate {
	struct helpmode_cfg helper; /* helper.cmd set: a Squid Negotiate helper, no keytab */
	char *keytab;               /* absolute path */
	char *store;                /* "FILE:<keytab>" for the credential store */
	char *principal;            /* as configured; NULL = any key in the keytab */
	gss_name_t name;            /* principal imported, or GSS_C_NO_NAME */
	bool strip_realm;
	char *where;                   /* "FILE:LINE" of the directive */
	struct negotiate_creds *creds; /* mutable behind a const state */
};

/* One client connection: the context while legs go back and forth. */
struct negotiate_session {
	gss_ctx_id_t ctx;
	int legs;
	struct helpmode_session *helper;
};

/* Writes a reason for the logs; a long one is cut, never refused. */
static void negotiate_say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void negotiate_say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

/* ---- the ticket's service name, read without decrypting anything ---- */

/* The bytes of a DER element not read yet. */
struct negotiate_der {
	const unsigned char *p;
	size_t n;
};

/* Takes the next element, whatever its tag (single-byte tags only), into
 * *tag and *val.  Definite lengths of up to four bytes; -1 otherwise. */
static int negotiate_der_next(struct negotiate_der *d, unsigned char *tag, struct negotiate_der *val)
{
	size_t len, hdr = 2;

	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	len = d->p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;

		if (k == 0 || k > 4 || d->n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		hdr += k;
	}
	if (len > d->n - hdr)
		return -1;
	*tag = d->p[0];
	val->p = d->p + hdr;
	val->n = len;
	d->p += hdr + len;
	d->n -= hdr + len;
	return 0;
}

/* Takes the next element if it has tag want. */
static int negotiate_der_take(struct negotiate_der *d, unsigned char want, struct negotiate_der *val)
{
	struct negotiate_der save = *d;
	unsigned char tag;

	if (negotiate_der_next(d, &tag, val) < 0 || tag != want) {
		*d = save;
		return -1;
	}
	return 0;
}

/* The field with context tag want of a SEQUENCE whose fields all carry
 * context tags in increasing order (SPNEGO's NegTokenInit, NegTokenResp). */
static int negotiate_der_field(struct negotiate_der seq, unsigned char want, struct negotiate_der *val)
{
	unsigned char tag, last = 0;

	while (seq.n > 0) {
		if (negotiate_der_next(&seq, &tag, val) < 0 || tag <= last || (tag & 0xe0) != 0xa0)
			return -1;
		if (tag == want)
			return 0;
		last = tag;
	}
	return -1;
}

static bool negotiate_der_is(struct negotiate_der v, const char *bytes, size_t n)
{
	return v.n == n && memcmp(v.p, bytes, n) == 0;
}

/* Appends a GeneralString to out[*o..cap), escaping the separators. */
static int negotiate_sname_put(const struct negotiate_der *s, char *out, size_t cap, size_t *o)
{
	if (s->n == 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		unsigned char c = s->p[i];

		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c == '/' || c == '@' || c == '\\') {
			if (*o + 1 >= cap)
				return -1;
			out[(*o)++] = '\\';
		}
		if (*o + 1 >= cap)
			return -1;
		out[(*o)++] = (char)c;
	}
	return 0;
}

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1],
 * ap-options [2], ticket [3] Ticket, ... }; Ticket ::= [APPLICATION 1]
 * SEQUENCE { tkt-vno [0], realm [1] GeneralString, sname [2] PrincipalName,
 * enc-part [3] }; PrincipalName ::= SEQUENCE { name-type [0],
 * name-string [1] SEQUENCE OF GeneralString } (RFC 4120 5.3, 5.5.1). */
static int negotiate_sname_from_ap_req(struct negotiate_der d, char *out, size_t cap)
{
	struct negotiate_der app, seq, v, tkt, t, realm, sn, pn, names, comp;
	size_t o = 0;
	int ncomp = 0;

	if (negotiate_der_take(&d, 0x6e, &app) < 0 || d.n != 0 || negotiate_der_take(&app, 0x30, &seq) < 0 ||
	    negotiate_der_take(&seq, 0xa0, &v) < 0 || !negotiate_der_is(v, "\x02\x01\x05", 3) ||
	    negotiate_der_take(&seq, 0xa1, &v) < 0 || !negotiate_der_is(v, "\x02\x01\x0e", 3) ||
	    negotiate_der_take(&seq, 0xa2, &v) < 0 || negotiate_der_take(&seq, 0xa3, &tkt) < 0 ||
	    negotiate_der_take(&tkt, 0x61, &app) < 0 || negotiate_der_take(&app, 0x30, &t) < 0 ||
	    negotiate_der_take(&t, 0xa0, &v) < 0 || negotiate_der_take(&t, 0xa1, &v) < 0 ||
	    negotiate_der_take(&v, 0x1b, &realm) < 0 || v.n != 0 || negotiate_der_take(&t, 0xa2, &sn) < 0 ||
	    negotiate_der_take(&sn, 0x30, &pn) < 0 || sn.n != 0 || negotiate_der_take(&pn, 0xa0, &v) < 0 ||
	    negotiate_der_take(&pn, 0xa1, &v) < 0 || negotiate_der_take(&v, 0x30, &names) < 0 || v.n != 0)
		return -1;
	while (names.n > 0) {
		if (negotiate_der_take(&names, 0x1b, &comp) < 0 || ++ncomp > 10)
			return -1;
		if (ncomp > 1) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = '/';
		}
		if (negotiate_sname_put(&comp, out, cap, &o) < 0)
			return -1;
	}
	if (ncomp == 0 || o + 1 >= cap)
		return -1;
	out[o++] = '@';
	if (negotiate_sname_put(&realm, out, cap, &o) < 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* InitialContextToken ::= [APPLICATION 0] { thisMech OID, innerToken }
 * (RFC 2743 3.1); *mech gets the OID and *inner what follows it. */
static int negotiate_gss_frame(struct negotiate_der d, struct negotiate_der *mech, struct negotiate_der *inner)
{
	if (negotiate_der_take(&d, 0x60, inner) < 0 || d.n != 0 || negotiate_der_take(inner, 0x06, mech) < 0)
		return -1;
	return 0;
}

/* A Kerberos initial token: the mechanism OID, TOK_ID 01 00, an AP-REQ
 * (RFC 4121 4.1). */
static int negotiate_sname_from_krb5(struct negotiate_der d, char *out, size_t cap)
{
	struct negotiate_der mech, inner;

	if (negotiate_gss_frame(d, &mech, &inner) < 0 ||
	    !(negotiate_der_is(mech, OID_KRB5, 9) || negotiate_der_is(mech, OID_KRB5_MS, 9)) || inner.n < 2 ||
	    inner.p[0] != 0x01 || inner.p[1] != 0x00)
		return -1;
	inner.p += 2;
	inner.n -= 2;
	return negotiate_sname_from_ap_req(inner, out, cap);
}

/* The contents of the SEQUENCE of a SPNEGO NegTokenInit [0] SEQUENCE {
 * mechTypes [0], reqFlags [1], mechToken [2] OCTET STRING, mechListMIC [3] }
 * (RFC 4178 4.2.1), framed as an InitialContextToken. */
static int negotiate_spnego_init(struct negotiate_der d, struct negotiate_der *seq)
{
	struct negotiate_der mech, inner, outer;

	if (negotiate_gss_frame(d, &mech, &inner) < 0 || !negotiate_der_is(mech, OID_SPNEGO, 6) ||
	    negotiate_der_take(&inner, 0xa0, &outer) < 0 || inner.n != 0 || negotiate_der_take(&outer, 0x30, seq) < 0 ||
	    outer.n != 0)
		return -1;
	return 0;
}

int negotiate_ticket_sname(const unsigned char *tok, size_t len, char *out, size_t cap)
{
	struct negotiate_der d = { tok, len }, outer, seq, field, mt;

	if (!tok || !out || cap == 0)
		return -1;
	out[0] = '\0';
	/* NegTokenResp [1] SEQUENCE { ..., responseToken [2] OCTET STRING }:
	 * the second leg after the acceptor picked another mechanism. */
	if (len > 0 && tok[0] == 0xa1) {
		if (negotiate_der_take(&d, 0xa1, &outer) < 0 || d.n != 0 ||
		    negotiate_der_take(&outer, 0x30, &seq) < 0 || outer.n != 0)
			return -1;
	} else if (negotiate_spnego_init(d, &seq) < 0) {
		return negotiate_sname_from_krb5(d, out, cap);
	}
	if (negotiate_der_field(seq, 0xa2, &field) < 0 || negotiate_der_take(&field, 0x04, &mt) < 0 || field.n != 0)
		return -1;
	return negotiate_sname_from_krb5(mt, out, cap);
}

/* For a SPNEGO NegTokenInit: 1 if its mechTypes offer Kerberos, 0 if not
 * (a client with no ticket offering NTLM alone); -1 for any other token. */
static int negotiate_offers_kerberos(const unsigned char *tok, size_t len)
{
	struct negotiate_der d = { tok, len }, seq, field, list, oid;

	if (negotiate_spnego_init(d, &seq) < 0 || negotiate_der_field(seq, 0xa0, &field) < 0 ||
	    negotiate_der_take(&field, 0x30, &list) < 0)
		return -1;
	while (list.n > 0) {
		if (negotiate_der_take(&list, 0x06, &oid) < 0)
			return -1;
		if (negotiate_der_is(oid, OID_KRB5, 9) || negotiate_der_is(oid, OID_KRB5_MS, 9))
			return 1;
	}
	return 0;
}

/* ---- GSSAPI helpers ---- */

/* Appends the text GSSAPI has for one status code to out[*o..cap). */
static void negotiate_status_text(OM_uint32 code, int kind, char *out, size_t cap, size_t *o)
{
	OM_uint32 ctx = 0, st, min;

	do {
		gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;

		st = gss_display_status(&min, code, kind, GSS_C_NO_OID, &ctx, &msg);
		if (GSS_ERROR(st))
			break;
		if (msg.length > 0 && *o + 3 < cap) {
			if (*o > 0) {
				memcpy(out + *o, "; ", 2);
				*o += 2;
			}
			for (size_t i = 0; i < msg.length && *o + 1 < cap; i++) {
				char c = ((const char *)msg.value)[i];

				out[(*o)++] = (c >= 0x20 && c < 0x7f) ? c : '?';
			}
			out[*o] = '\0';
		}
		gss_release_buffer(&min, &msg);
	} while (ctx != 0);
}

/* What GSSAPI says about a failure, for an admin: the mechanism's words
 * first (they name principals, key versions, clocks), then the generic
 * ones, left out when they only say "Unspecified GSS failure". */
void negotiate_status(OM_uint32 major, OM_uint32 minor, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	if (minor != 0)
		negotiate_status_text(minor, GSS_C_MECH_CODE, out, cap, &o);
	if (minor == 0 || GSS_ROUTINE_ERROR(major) != GSS_S_FAILURE)
		negotiate_status_text(major, GSS_C_GSS_CODE, out, cap, &o);
	if (o == 0)
		snprintf(out, cap, "GSSAPI status %#x/%#x", (unsigned)major, (unsigned)minor);
}

/* 1 if the keytab holds a key for principal, 0 if not, -1 if unknown.
 * Asked of libkrb5 directly: MIT's gss_acquire_cred_from() leaks a little
 * each time it is asked for a name the keytab lacks, and the name comes from
 * the client's token. */
static int negotiate_keytab_has(const struct negotiate *ng, const char *principal)
{
	krb5_context k;
	krb5_keytab kt = NULL;
	krb5_principal p = NULL;
	krb5_keytab_entry e;
	krb5_error_code code;
	int r = -1;

	if (krb5_init_context(&k) != 0)
		return -1;
	if (krb5_kt_resolve(k, ng->store, &kt) == 0 && krb5_parse_name(k, principal, &p) == 0) {
		code = krb5_kt_get_entry(k, kt, p, 0, 0, &e);
		if (code == 0) {
			krb5_free_keytab_entry_contents(k, &e);
			r = 1;
		} else if (code == KRB5_KT_NOTFOUND) {
			r = 0;
		}
	}
	if (p)
		krb5_free_principal(k, p);
	if (kt)
		krb5_kt_close(k, kt);
	krb5_free_context(k);
	return r;
}

static OM_uint32 negotiate_acquire(const struct negotiate *ng, gss_name_t name, gss_OID_set mechs, gss_cred_id_t *cred,
                                   OM_uint32 *minor)
{
	gss_key_value_element_desc kv = { "keytab", ng->store };
	gss_key_value_set_desc store = { 1, &kv };

	*cred = GSS_C_NO_CREDENTIAL;
	return gss_acquire_cred_from(minor, name, GSS_C_INDEFINITE, mechs, GSS_C_ACCEPT, &store, cred, NULL, NULL);
}

/* Acquires the acceptor credentials from the keytab (caller holds the lock).
 * SPNEGO is limited to Kerberos so that no other installed mechanism
 * (gss-ntlmssp, IAKERB) authenticates anyone behind the keytab's back. */
static int negotiate_acquire_locked(const struct negotiate *ng, struct negotiate_creds *c)
{
	gss_OID_set_desc mechs = { PH_ARRAY_LEN(negotiate_accept_oids), negotiate_accept_oids };
	gss_OID_set_desc neg = { 1, &negotiate_krb5_oid };
	OM_uint32 major, minor, tmp;
	gss_cred_id_t cred;
	char gss[160];
	int fd;

	/* The two usual causes, said plainly (and without asking GSSAPI for
	 * a name the keytab lacks: see negotiate_keytab_has). */
	fd = open(ng->keytab, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		negotiate_say(c->why, sizeof(c->why), "cannot read Negotiate keytab %s: %s", ng->keytab,
		              strerror(errno));
		return -1;
	}
	close(fd);
	if (ng->principal && negotiate_keytab_has(ng, ng->principal) == 0) {
		negotiate_say(c->why, sizeof(c->why), "Negotiate keytab %s has no key for %s", ng->keytab,
		              ng->principal);
		return -1;
	}
	major = negotiate_acquire(ng, ng->name, &mechs, &cred, &minor);
	if (!GSS_ERROR(major)) {
		major = gss_set_neg_mechs(&minor, cred, &neg);
		if (!GSS_ERROR(major)) {
			c->cred = cred;
			c->why[0] = '\0';
			return 0;
		}
		gss_release_cred(&tmp, &cred);
	}
	negotiate_status(major, minor, gss, sizeof(gss));
	negotiate_say(c->why, sizeof(c->why), "Negotiate keytab %s gives no credentials%s%s: %s", ng->keytab,
	              ng->principal ? " for " : "", ng->principal ? ng->principal : "", gss);
	return -1;
}

/* The shared acceptor credentials, acquired now if they are not yet. */
static gss_cred_id_t negotiate_cred(const struct negotiate *ng, uint64_t now_ms, char *why, size_t cap)
{
	struct negotiate_creds *c = ng->creds;
	gss_cred_id_t cred;

	pthread_mutex_lock(&c->lock);
	if (c->cred == GSS_C_NO_CREDENTIAL &&
	    (c->tried_ms == 0 || now_ms < c->tried_ms || now_ms - c->tried_ms >= NEGOTIATE_RETRY_MS)) {
		if (negotiate_acquire_locked(ng, c) < 0)
			c->tried_ms = now_ms ? now_ms : 1;
	}
	cred = c->cred;
	if (cred == GSS_C_NO_CREDENTIAL)
		snprintf(why, cap, "%s", c->why);
	pthread_mutex_unlock(&c->lock);
	return cred;
}

/* True when the host part of "SERVICE/HOST@REALM" is an IP address. */
static bool negotiate_host_is_ip(const char *principal)
{
	const char *slash = strchr(principal, '/');
	const char *at = slash ? strchr(slash, '@') : NULL;
	char host[64];
	unsigned char addr[16];

	if (!slash || !at || (size_t)(at - slash - 1) >= sizeof(host))
		return false;
	memcpy(host, slash + 1, (size_t)(at - slash - 1));
	host[at - slash - 1] = '\0';
	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* The offset of the '@' before the realm in a principal, or its length. */
static size_t negotiate_realm_at(const char *p)
{
	size_t at = strlen(p);

	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1])
			i++;
		else if (p[i] == '@')
			at = i;
	}
	return at;
}

/* Whether the ticket's sname is the configured principal; a principal
 * configured without a realm matches in any realm. */
static bool negotiate_same_principal(const char *sname, const char *configured)
{
	size_t n = negotiate_realm_at(configured);

	if (configured[n] == '@')
		return strcmp(sname, configured) == 0;
	return negotiate_realm_at(sname) == n && strncmp(sname, configured, n) == 0;
}

/* Why the token was refused.  The most common cause by far is a browser
 * that asked for a ticket under a name the keytab lacks (configured with the
 * proxy's address, or a CNAME): the ticket's service name says so in clear. */
static enum auth_status negotiate_refused(const struct negotiate *ng, const unsigned char *tok, size_t n,
                                          OM_uint32 major, OM_uint32 minor, struct auth_result *res)
{
	char gss[160], sname[128];
	int fd;

	/* First, while GSSAPI's per-thread message for minor is still there. */
	negotiate_status(major, minor, gss, sizeof(gss));
	fd = open(ng->keytab, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		negotiate_say(res->reason, sizeof(res->reason), "cannot read Negotiate keytab %s: %s", ng->keytab,
		              strerror(errno));
		return AUTH_BROKEN;
	}
	close(fd);
	if (negotiate_offers_kerberos(tok, n) == 0) {
		negotiate_say(
		        res->reason, sizeof(res->reason),
		        "the client offered no Kerberos under Negotiate (NTLM only?): it has no Kerberos ticket for "
		        "the "
		        "proxy (browser configured by address? client not logged into the domain?)");
		return AUTH_DENIED;
	}
	if (negotiate_ticket_sname(tok, n, sname, sizeof(sname)) >= 0) {
		int has = negotiate_keytab_has(ng, sname);

		if (has == 0) {
			snprintf(res->wrong_spn, sizeof(res->wrong_spn), "%s", sname);
			if (negotiate_host_is_ip(sname))
				negotiate_say(res->reason, sizeof(res->reason),
				              "Kerberos ticket for a service name the keytab lacks (%.80s): "
				              "configure browsers with the proxy's host name, not its address",
				              sname);
			else
				negotiate_say(res->reason, sizeof(res->reason),
				              "Kerberos ticket for a service name the keytab lacks (%.80s): "
				              "configure browsers with the proxy's host name as in the keytab",
				              sname);
			return AUTH_DENIED;
		}
		if (has == 1 && ng->principal && !negotiate_same_principal(sname, ng->principal)) {
			negotiate_say(res->reason, sizeof(res->reason),
			              "Kerberos ticket for %.70s, but the configured principal is %.70s", sname,
			              ng->principal);
			return AUTH_DENIED;
		}
	}
	negotiate_say(res->reason, sizeof(res->reason), "Negotiate token refused: %s", gss);
	return AUTH_DENIED;
}

/* Appends "Proxy-Authenticate: Negotiate <base64 token>\r\n". */
static void negotiate_header(struct buf *out, const gss_buffer_desc *tok)
{
	size_t cap = (tok->length + 2) / 3 * 4 + 1;
	char *b64 = ph_malloc(cap);

	base64_encode(tok->value, tok->length, b64, cap);
	buf_printf(out, "Proxy-Authenticate: Negotiate %s\r\n", b64);
	free(b64);
}

/* The user's name as GSSAPI displays it ("alice@EXAMPLE.COM"), the realm
 * cut off with strip-realm.  -1 with res->reason when it cannot be a user
 * name in pinhole's logs and rules. */
static int negotiate_user(const struct negotiate *ng, gss_name_t src, struct auth_result *res)
{
	gss_buffer_desc disp = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	size_t n;
	const char *p;

	major = gss_display_name(&minor, src, &disp, NULL);
	if (GSS_ERROR(major)) {
		char gss[160];

		negotiate_status(major, minor, gss, sizeof(gss));
		negotiate_say(res->reason, sizeof(res->reason), "cannot show the Kerberos client's name: %s", gss);
		return -1;
	}
	p = disp.value;
	n = disp.length;
	if (ng->strip_realm) {
		/* The last '@' not escaped: "alice\@corp@EXAMPLE.COM" is an
		 * enterprise name whose user part keeps its '@'. */
		for (size_t i = n; i-- > 0;) {
			size_t bs = 0;

			if (p[i] != '@')
				continue;
			while (bs < i && p[i - 1 - bs] == '\\')
				bs++;
			if (bs % 2 == 0) {
				n = i;
				break;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
			negotiate_say(res->reason, sizeof(res->reason),
			              "the Kerberos client's name has control characters");
			gss_release_buffer(&minor, &disp);
			return -1;
		}
	}
	if (n == 0 || n >= sizeof(res->user)) {
		negotiate_say(res->reason, sizeof(res->reason), "the Kerberos client's name is %s",
		              n ? "longer than 255 bytes" : "empty");
		gss_release_buffer(&minor, &disp);
		return -1;
	}
	memcpy(res->user, p, n);
	res->user[n] = '\0';
	gss_release_buffer(&minor, &disp);
	return 0;
}

static bool negotiate_is_krb5(const gss_OID mech)
{
	return mech && (gss_oid_equal(mech, &negotiate_krb5_oid) || gss_oid_equal(mech, &negotiate_krb5_ms_oid));
}

static void negotiate_session_reset(struct negotiate_session *s)
{
	OM_uint32 minor;

	if (s->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &s->ctx, GSS_C_NO_BUFFER);
	s->ctx = GSS_C_NO_CONTEXT;
	s->legs = 0;
}

static enum auth_status negotiate_accept(const struct negotiate *ng, struct negotiate_session *s, gss_cred_id_t cred,
                                         const unsigned char *tok, size_t n, struct auth_result *res)
{
	gss_buffer_desc in = { n, (void *)tok }, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	OM_uint32 major, minor, flags = 0, tmp;
	enum auth_status st;

	/* A fresh initial token while a context is half-way: the client
	 * started over (a new request after a lost 407), so do we. */
	if (s->ctx != GSS_C_NO_CONTEXT && tok[0] == 0x60)
		negotiate_session_reset(s);
	if (++s->legs > NEGOTIATE_MAX_LEGS) {
		negotiate_session_reset(s);
		negotiate_say(res->reason, sizeof(res->reason), "Negotiate exchange did not finish in %d legs",
		              NEGOTIATE_MAX_LEGS);
		return AUTH_DENIED;
	}
	major = gss_accept_sec_context(&minor, &s->ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src, &mech, &out, &flags,
	                               NULL, NULL);
	if (GSS_ERROR(major)) {
		/* An output token here (a KRB-ERROR, a SPNEGO reject) is
		 * dropped: auth.c answers with fresh challenges. */
		gss_release_buffer(&tmp, &out);
		st = negotiate_refused(ng, tok, n, major, minor, res);
		negotiate_session_reset(s);
		return st;
	}
	if (major & GSS_S_CONTINUE_NEEDED) {
		if (out.length == 0) {
			negotiate_session_reset(s);
			negotiate_say(res->reason, sizeof(res->reason),
			              "GSSAPI wants another Negotiate leg but gave no token");
			return AUTH_DENIED;
		}
		negotiate_header(&res->headers, &out);
		gss_release_buffer(&tmp, &out);
		return AUTH_CHALLENGE;
	}
	st = AUTH_OK;
	if (!negotiate_is_krb5(mech)) {
		negotiate_say(res->reason, sizeof(res->reason),
		              "Negotiate completed with a mechanism other than Kerberos");
		st = AUTH_DENIED;
	} else if (flags & GSS_C_ANON_FLAG) {
		negotiate_say(res->reason, sizeof(res->reason), "anonymous Kerberos tickets are not accepted");
		st = AUTH_DENIED;
	} else if (negotiate_user(ng, src, res) < 0) {
		st = AUTH_DENIED;
	} else if (out.length > 0) {
		/* Mutual authentication: the client checks this last token
		 * (the AP-REP) to know it talks to the real proxy. */
		negotiate_header(&res->headers, &out);
	}
	gss_release_buffer(&tmp, &out);
	gss_release_name(&tmp, &src);
	/* Nothing is wrapped or signed afterwards: the context has done its
	 * job, and an authenticated connection keeps only its user. */
	negotiate_session_reset(s);
	if (st != AUTH_OK)
		res->user[0] = '\0';
	return st;
}

static enum auth_status negotiate_step(const void *state, void **session, const char *realm,
                                       const struct auth_request *req, const char *cred, size_t len,
                                       struct auth_result *res)
{
	const struct negotiate *ng = state;
	struct negotiate_session *s = *session;
	gss_cred_id_t acceptor;
	unsigned char *tok;
	long n;
	enum auth_status st;

	PH_UNUSED(realm);
	if (!s) {
		s = ph_calloc(1, sizeof(*s));
		s->ctx = GSS_C_NO_CONTEXT;
		*session = s;
	}
	while (len > 0 && (cred[len - 1] == ' ' || cred[len - 1] == '\t'))
		len--;
	if (ng->helper.cmd) {
		st = helpmode_stateful_step(&ng->helper, &s->helper, "Negotiate", -1, req, cred, len, res);
		if (st == AUTH_OK && ng->strip_realm) {
			char *at = strrchr(res->user, '@');

			if (at)
				*at = '\0';
		}
		return st;
	}
	if (len == 0) {
		negotiate_say(res->reason, sizeof(res->reason), "Negotiate credentials are empty");
		return res->status = AUTH_DENIED;
	}
	if (len > NEGOTIATE_MAX_TOKEN / 3 * 4 + 4) {
		negotiate_say(res->reason, sizeof(res->reason), "Negotiate token is larger than %d KiB",
		              NEGOTIATE_MAX_TOKEN / 1024);
		return res->status = AUTH_DENIED;
	}
	tok = ph_malloc(len / 4 * 3 + 3);
	n = base64_decode(cred, len, tok, len / 4 * 3 + 3);
	if (n <= 0) {
		free(tok);
		negotiate_say(res->reason, sizeof(res->reason), "Negotiate credentials are not valid base64");
		return res->status = AUTH_DENIED;
	}
	/* Windows sends raw NTLM under Negotiate when it found no Kerberos
	 * ticket for the proxy's name. */
	if (n >= 8 && memcmp(tok, "NTLMSSP", 8) == 0) {
		free(tok);
		negotiate_say(res->reason, sizeof(res->reason),
		              "the client sent NTLM under Negotiate: it has no Kerberos ticket for the proxy "
		              "(browser configured by address? client not logged into the domain?)");
		return res->status = AUTH_DENIED;
	}
	acceptor = negotiate_cred(ng, req ? req->now_ms : 0, res->reason, sizeof(res->reason));
	if (acceptor == GSS_C_NO_CREDENTIAL) {
		free(tok);
		return res->status = AUTH_BROKEN;
	}
	st = negotiate_accept(ng, s, acceptor, tok, (size_t)n, res);
	free(tok);
	return res->status = st;
}

static void negotiate_session_free(void *session)
{
	struct negotiate_session *s = session;

	if (!s)
		return;
	helpmode_session_free(s->helper);
	negotiate_session_reset(s);
	free(s);
}

static const struct helpmode_cfg *negotiate_helper(const void *state)
{
	const struct negotiate *ng = state;

	return ng && ng->helper.cmd ? &ng->helper : NULL;
}

/* ---- configuration ---- */

/* The keytab must be there now, readable, and look like one (MIT's file
 * format starts with 0x05 0x01 or 0x05 0x02). */
static int negotiate_check_keytab(const char *path, const char *file, int line, struct cfg_errors *errs)
{
	unsigned char head[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t r;

	if (fd < 0) {
		cfg_error(errs, file, line, "cannot read keytab %s: %s", path, strerror(errno));
		return -1;
	}
	r = read(fd, head, sizeof(head));
	close(fd);
	if (r < 0) {
		cfg_error(errs, file, line, "cannot read keytab %s: %s", path, strerror(errno));
		return -1;
	}
	if (r == 0) {
		cfg_error(errs, file, line, "keytab %s is empty: export the proxy's HTTP/ principal into it", path);
		return -1;
	}
	if (r < 2 || head[0] != 0x05 || (head[1] != 0x01 && head[1] != 0x02)) {
		cfg_error(errs, file, line,
		          "%s is not a Kerberos keytab (make it with ktutil, kadmin ktadd, "
		          "msktutil or `net ads keytab`)",
		          path);
		return -1;
	}
	return 0;
}

static void negotiate_free(void *state)
{
	struct negotiate *ng = state;
	OM_uint32 minor;

	if (!ng)
		return;
	if (ng->creds) {
		if (ng->creds->cred != GSS_C_NO_CREDENTIAL)
			gss_release_cred(&minor, &ng->creds->cred);
		pthread_mutex_destroy(&ng->creds->lock);
		free(ng->creds);
	}
	if (ng->name != GSS_C_NO_NAME)
		gss_release_name(&minor, &ng->name);
	helpmode_cfg_free(&ng->helper);
	free(ng->keytab);
	free(ng->store);
	free(ng->principal);
	free(ng->where);
	free(ng);
}

/* Imports the configured principal ("HTTP/proxy.example.com@EXAMPLE.COM";
 * without a realm, the default realm of krb5.conf). */
static int negotiate_import(struct negotiate *ng, const char *file, int line, struct cfg_errors *errs)
{
	gss_buffer_desc nb = { strlen(ng->principal), ng->principal };
	OM_uint32 major, minor;
	char gss[160];

	major = gss_import_name(&minor, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &ng->name);
	if (GSS_ERROR(major)) {
		negotiate_status(major, minor, gss, sizeof(gss));
		cfg_error(errs, file, line, "auth negotiate principal '%s' is not a Kerberos principal name: %s",
		          ng->principal, gss);
		return -1;
	}
	return 0;
}

static int negotiate_configure(void **state, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	const char *principal = NULL;
	bool strip = false;
	struct negotiate *ng;

	if (*state) {
		cfg_error(errs, file, line,
		          "auth negotiate is configured twice (first at %s): use one keytab holding every principal",
		          ((struct negotiate *)*state)->where);
		return -1;
	}
	if (argc >= 1 && strcmp(argv[0], "helper") == 0) {
		/* strip-realm is a flag, the helper options take values. */
		ng = ph_calloc(1, sizeof(*ng));
		ng->name = GSS_C_NO_NAME;
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "strip-realm") == 0) {
				ng->strip_realm = true;
				memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
				argc--;
				break;
			}
		if (helpmode_parse(&ng->helper, "negotiate", argv, argc, true, NULL, file, line, errs) != 0) {
			negotiate_free(ng);
			return -1;
		}
		ng->where = ph_malloc(strlen(file ? file : "-") + 16);
		sprintf(ng->where, "%s:%d", file ? file : "-", line);
		*state = ng;
		return 0;
	}
	if (argc < 1) {
		cfg_error(errs, file, line,
		          "auth negotiate needs a keytab: auth negotiate keytab FILE [principal NAME] [strip-realm]");
		return -1;
	}
	if (strcmp(argv[0], "keytab") != 0) {
		cfg_error(errs, file, line,
		          "auth negotiate does not know '%s': expected auth negotiate keytab FILE [principal NAME] "
		          "[strip-realm]",
		          argv[0]);
		return -1;
	}
	if (argc < 2 || argv[1][0] == '\0') {
		cfg_error(errs, file, line, "auth negotiate keytab needs a file name");
		return -1;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "principal") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				cfg_error(errs, file, line,
				          "auth negotiate principal needs a name, e.g. "
				          "HTTP/proxy.example.com@EXAMPLE.COM");
				return -1;
			}
			if (principal) {
				cfg_error(errs, file, line, "auth negotiate principal is given twice");
				return -1;
			}
			principal = argv[++i];
		} else if (strcmp(argv[i], "strip-realm") == 0) {
			strip = true;
		} else {
			cfg_error(errs, file, line,
			          "auth negotiate does not know '%s' (expected principal NAME or "
			          "strip-realm)",
			          argv[i]);
			return -1;
		}
	}

	ng = ph_calloc(1, sizeof(*ng));
	ng->name = GSS_C_NO_NAME;
	ng->strip_realm = strip;
	ng->keytab = cfg_path(file, argv[1]);
	ng->store = ph_malloc(strlen(ng->keytab) + 6);
	sprintf(ng->store, "FILE:%s", ng->keytab);
	ng->where = ph_malloc(strlen(file ? file : "-") + 16);
	sprintf(ng->where, "%s:%d", file ? file : "-", line);
	if (principal)
		ng->principal = ph_strdup(principal);
	if (negotiate_check_keytab(ng->keytab, file, line, errs) < 0 ||
	    (principal && negotiate_import(ng, file, line, errs) < 0)) {
		negotiate_free(ng);
		return -1;
	}
	ng->creds = ph_calloc(1, sizeof(*ng->creds));
	pthread_mutex_init(&ng->creds->lock, NULL);
	ng->creds->cred = GSS_C_NO_CREDENTIAL;
	*state = ng;
	return 0;
}

/* Acquires the credentials now, so that the first client does not wait for
 * the keytab; a keytab that gives none yet (being provisioned, principal not
 * exported) is not a configuration error: it is tried again at first use
 * and answers AUTH_BROKEN, with the reason, until it works. */
static int negotiate_finish(void *state, const char *file, struct cfg_errors *errs)
{
	struct negotiate *ng = state;

	PH_UNUSED(file);
	PH_UNUSED(errs);
	if (!ng || ng->helper.cmd)
		return 0;
	pthread_mutex_lock(&ng->creds->lock);
	if (ng->creds->cred == GSS_C_NO_CREDENTIAL && negotiate_acquire_locked(ng, ng->creds) < 0)
		ng->creds->tried_ms = 0;
	pthread_mutex_unlock(&ng->creds->lock);
	return 0;
}

static void negotiate_dump(const void *state, struct strbuf *out)
{
	const struct negotiate *ng = state;

	if (!ng)
		return;
	if (ng->helper.cmd) {
		strbuf_printf(out, "auth negotiate");
		helpmode_dump(&ng->helper, out);
		strbuf_printf(out, " reservation-timeout %llums%s\n", (unsigned long long)ng->helper.reservation_ms,
		              ng->strip_realm ? " strip-realm" : "");
		return;
	}
	strbuf_printf(out, "auth negotiate keytab");
	auth_dump_arg(out, ng->keytab);
	if (ng->principal) {
		strbuf_printf(out, " principal");
		auth_dump_arg(out, ng->principal);
	}
	if (ng->strip_realm)
		strbuf_printf(out, " strip-realm");
	strbuf_printf(out, "\n");
}

static void negotiate_challenge(const void *state, const char *realm, struct buf *out)
{
	PH_UNUSED(state);
	PH_UNUSED(realm);
	buf_printf(out, "Proxy-Authenticate: Negotiate\r\n");
}

const struct auth_scheme_ops auth_negotiate_ops = {
	.name = "Negotiate",
	.keyword = "negotiate",
	.connection_bound = true,
	.configure = negotiate_configure,
	.finish = negotiate_finish,
	.free = negotiate_free,
	.dump = negotiate_dump,
	.challenge = negotiate_challenge,
	.step = negotiate_step,
	.session_free = negotiate_session_free,
	.helper = negotiate_helper,
};
