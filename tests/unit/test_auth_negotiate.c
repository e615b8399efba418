/*
 * test_auth_negotiate.c - auth/negotiate.c against a real MIT realm: the
 * program re-runs itself under sh with tests/lib/kdc.sh, which starts a KDC
 * on loopback for TEST.PINHOLE and stops it afterwards, pass or fail; real
 * GSSAPI initiators then talk to the scheme's step().  Exit 77 without krb5-kdc.
 */
#include "unit.h"
#include "common.h"
#include "strbuf.h"
#include "config.h"
#include "negotiate.h"
#include "scheme.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#define REALM "TEST.PINHOLE"
#define ALICE_PW "alice-secret"

/* The realm the inner run finds (sh, kdc.sh): alice, the proxy's principal
 * in proxy.keytab, other services the keytab lacks, a keytab holding two
 * principals, and a keytab whose key the KDC has since changed. */
static const char kdc_script[] =
        "set -u\n"
        ". \"$PH_SRCDIR/tests/lib/kdc.sh\"\n"
        "if ! kdc_have_binaries; then\n"
        "	echo 'SKIP: test_auth_negotiate: needs the MIT KDC (apt-get install krb5-kdc)' >&2\n"
        "	exit 77\n"
        "fi\n"
        "dir=$(mktemp -d \"${TMPDIR:-/tmp}/pinhole-negotiate.XXXXXX\") || exit 1\n"
        "cleanup() {\n"
        "	st=$?\n"
        "	trap - EXIT\n"
        "	kdc_stop\n"
        "	if [ \"$st\" != 0 ] && [ \"$st\" != 77 ]; then\n"
        "		echo \"--- kdc.log:\" >&2; tail -n 20 \"$dir/kdc.log\" >&2 2>/dev/null\n"
        "	fi\n"
        "	[ -n \"${PH_KEEP:-}\" ] && echo \"kept $dir\" >&2 || rm -rf \"$dir\"\n"
        "	exit \"$st\"\n"
        "}\n"
        "trap cleanup EXIT\n"
        "trap 'exit 1' INT TERM HUP\n"
        "kdc_start \"$dir\" " REALM " pinhole.test || exit 1\n"
        "kdc_add_user alice " ALICE_PW " || exit 1\n"
        "kdc_add_service HTTP/proxy.pinhole.test \"$dir/proxy.keytab\" || exit 1\n"
        "kdc_add_service HTTP/other.pinhole.test || exit 1\n"
        "kdc_add_service HTTP/127.0.0.1 || exit 1\n"
        "kdc_add_service HTTP/proxy.pinhole.test \"$dir/two.keytab\" || exit 1\n"
        "kdc_add_service HTTP/second.pinhole.test \"$dir/two.keytab\" || exit 1\n"
        "kdc_add_service HTTP/stale.pinhole.test \"$dir/stale.keytab\" || exit 1\n"
        "kdc_rekey HTTP/stale.pinhole.test || exit 1\n"
        "if command -v kinit >/dev/null 2>&1; then\n"
        "	kdc_kinit alice " ALICE_PW " || exit 1\n"
        "else\n"
        "	echo '# no kinit (krb5-user): alice gets her ticket through GSSAPI' >&2\n"
        "	PH_KDC_PASSWORD=" ALICE_PW "; export PH_KDC_PASSWORD\n"
        "fi\n"
        "PH_KDC_DIR=$dir \"$0\"\n";

/* ---- the last error the configuration functions reported ---- */

static char last_error[512];

static void take_error(struct cfg_errors *errs)
{
	if (errs->n)
		snprintf(last_error, sizeof(last_error), "%s", errs->msgs[errs->n - 1]);
}

/* ---- helpers ---- */

/* An array as a plain pointer, for CHECK_WHY. */
static const char *text(const char *s)
{
	return s;
}

static const char *kdc_dir;
static const struct auth_scheme_ops *ops = &auth_negotiate_ops;
static gss_OID_desc spnego_oid = { 6, "\x2b\x06\x01\x05\x05\x02" };
static gss_OID_desc krb5_oid = { 9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };

static char *path_in(const char *name)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", kdc_dir, name);
	return p[i];
}

/* Runs `auth negotiate WORDS` (split at spaces) as if line 7 of file
 * said it; the state, or NULL with last_error set. */
static void *configure(const char *file, const char *words)
{
	char copy[1024], *argv[16], *save = NULL;
	int argc = 0;
	void *state = NULL;
	struct cfg_errors errs = { 0 };

	snprintf(copy, sizeof(copy), "%s", words);
	for (char *w = strtok_r(copy, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	last_error[0] = '\0';
	if (ops->configure(&state, argv, argc, file, 7, &errs) < 0) {
		CHECK(state == NULL);
		CHECK(errs.n > 0);
		take_error(&errs);
		cfg_errors_free(&errs);
		return NULL;
	}
	CHECK_INT(errs.n, 0);
	CHECK_INT(ops->finish(state, file, &errs), 0);
	return state;
}

static void *configure_ok(const char *words)
{
	void *state = configure(path_in("pinhole.conf"), words);

	if (!state)
		fprintf(stderr, "configure \"%s\" failed: %s\n", words, last_error);
	CHECK(state != NULL);
	return state;
}

/* Without kinit, alice's ticket is got through GSSAPI and stored into
 * $KRB5CCNAME, where kinit would have put it. */
static int alice_login(const char *pw)
{
	gss_buffer_desc nb = { 5, "alice" }, pb = { strlen(pw), (void *)pw };
	gss_OID_set_desc mechs = { 1, &krb5_oid };
	gss_key_value_element_desc kv = { "ccache", getenv("KRB5CCNAME") };
	gss_key_value_set_desc store = { 1, &kv };
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 major, minor;

	major = gss_import_name(&minor, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
	if (!GSS_ERROR(major))
		major = gss_acquire_cred_with_password(&minor, name, &pb, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
		                                       &cred, NULL, NULL);
	if (!GSS_ERROR(major))
		major = gss_store_cred_into(&minor, cred, GSS_C_INITIATE, &krb5_oid, 1, 1, &store, NULL, NULL);
	gss_release_cred(&minor, &cred);
	gss_release_name(&minor, &name);
	return GSS_ERROR(major) ? -1 : 0;
}

/* A client: the security context towards target ("HTTP@host") with mech. */
struct client {
	gss_ctx_id_t ctx;
	gss_name_t target;
	gss_OID mech;
	OM_uint32 flags;
	unsigned char tok[16384];
	size_t len;
};

static void client_start(struct client *c, const char *target, gss_OID mech, OM_uint32 flags)
{
	gss_buffer_desc nb = { strlen(target), (void *)target };
	OM_uint32 minor;

	memset(c, 0, sizeof(*c));
	c->ctx = GSS_C_NO_CONTEXT;
	c->mech = mech;
	c->flags = flags;
	CHECK(!GSS_ERROR(gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &c->target)));
}

/* One initiator leg: in (NULL at first) -> c->tok.  The major status. */
static OM_uint32 client_leg(struct client *c, const unsigned char *in, size_t inlen)
{
	gss_buffer_desc ib = { inlen, (void *)in }, ob = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor, tmp;

	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &c->ctx, c->target, c->mech, c->flags, 0,
	                             GSS_C_NO_CHANNEL_BINDINGS, in ? &ib : GSS_C_NO_BUFFER, NULL, &ob, NULL, NULL);
	if (GSS_ERROR(major)) {
		gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
		OM_uint32 ctx = 0;

		gss_display_status(&tmp, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &msg);
		fprintf(stderr, "# gss_init_sec_context: %.*s\n", (int)msg.length, (const char *)msg.value);
		gss_release_buffer(&tmp, &msg);
	}
	c->len = 0;
	if (ob.length > 0 && ob.length <= sizeof(c->tok)) {
		memcpy(c->tok, ob.value, ob.length);
		c->len = ob.length;
	}
	gss_release_buffer(&tmp, &ob);
	return major;
}

static void client_end(struct client *c)
{
	OM_uint32 minor;

	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
	gss_release_name(&minor, &c->target);
}

static uint64_t now_ms = 1000000;

/* Hands the base64 form of tok to step(). */
static enum auth_status step_raw(void *state, void **session, const char *cred, struct auth_result *res)
{
	struct auth_request req = { .method = "CONNECT", .uri = "x:443", .uri_len = 5, .now_ms = now_ms };

	buf_release(&res->headers);
	memset(res, 0, sizeof(*res));
	return ops->step(state, session, "pinhole", &req, cred, strlen(cred), res);
}

static enum auth_status step_tok(void *state, void **session, const unsigned char *tok, size_t len,
                                 struct auth_result *res)
{
	char b64[24000];

	CHECK(base64_encode(tok, len, b64, sizeof(b64)) > 0);
	return step_raw(state, session, b64, res);
}

/* The token of res->headers' "Proxy-Authenticate: Negotiate TOKEN\r\n". */
static long header_token(const struct auth_result *res, unsigned char *out, size_t cap)
{
	static const char pre[] = "Proxy-Authenticate: Negotiate ";
	const char *h = buf_data(&res->headers);
	size_t n = buf_len(&res->headers);

	if (n < sizeof(pre) + 2 || memcmp(h, pre, sizeof(pre) - 1) != 0 || memcmp(h + n - 2, "\r\n", 2) != 0)
		return -1;
	if (memchr(h, '\n', n - 1))
		return -1; /* exactly one line */
	return base64_decode(h + sizeof(pre) - 1, n - sizeof(pre) + 1 - 2, out, cap);
}

/* A whole exchange: client legs and step() until one side is done.
 * *mutual: the proxy's last token was checked by the client. */
static enum auth_status exchange(void *state, const char *target, gss_OID mech, OM_uint32 flags,
                                 struct auth_result *res, bool *mutual, int *legs)
{
	struct client c;
	void *session = NULL;
	enum auth_status st = AUTH_BROKEN;
	unsigned char back[8192];
	OM_uint32 major;

	*mutual = false;
	*legs = 0;
	client_start(&c, target, mech, flags);
	major = client_leg(&c, NULL, 0);
	while (!GSS_ERROR(major) && c.len > 0 && *legs < 6) {
		long n;

		++*legs;
		st = step_tok(state, &session, c.tok, c.len, res);
		if (st != AUTH_CHALLENGE && st != AUTH_OK)
			break;
		n = buf_len(&res->headers) ? header_token(res, back, sizeof(back)) : 0;
		CHECK(n >= 0);
		if (st == AUTH_OK) {
			if (n > 0) {
				major = client_leg(&c, back, (size_t)n);
				*mutual = major == GSS_S_COMPLETE;
			}
			break;
		}
		major = client_leg(&c, back, (size_t)(n > 0 ? n : 0));
	}
	client_end(&c);
	ops->session_free(session);
	return st;
}

/* With PH_NEGOTIATE_SEEDS=DIR, real tokens are kept there as seeds for
 * tests/fuzz/fuzz_negotiate (tests/fuzz/corpus/fuzz_negotiate). */
static void save_seed(const char *name, const unsigned char *tok, size_t len)
{
	const char *dir = getenv("PH_NEGOTIATE_SEEDS");
	char p[600];
	FILE *f;

	if (!dir)
		return;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	if (!f)
		return;
	fwrite(tok, 1, len, f);
	fclose(f);
}

/* ---- cases ---- */

static void test_configure(void)
{
	char file[512], conf[512], bad[512];
	struct buf dump = { 0 };
	void *state;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/conf", kdc_dir);
	mkdir(conf, 0755);
	snprintf(file, sizeof(file), "%s/conf/pinhole.conf", kdc_dir);

	/* The keytab's path is relative to the config file's directory. */
	state = configure(file, "keytab ../proxy.keytab principal HTTP/proxy.pinhole.test strip-realm");
	CHECK(state != NULL);
	if (state) {
		struct strbuf written = { 0 };

		ops->dump(state, &written);
		char want[600];

		snprintf(
		        want, sizeof(want),
		        "auth negotiate keytab %s/conf/../proxy.keytab principal HTTP/proxy.pinhole.test strip-realm\n",
		        kdc_dir);
		CHECK_STR(written.p, want);
		free(written.p);
		ops->challenge(state, "pinhole", &dump);
		buf_append(&dump, "", 1);
		CHECK_STR(buf_data(&dump), "Proxy-Authenticate: Negotiate\r\n");
		buf_release(&dump);
		/* A second `auth negotiate` line. */
		struct cfg_errors errs = { 0 };
		char *argv[] = { "keytab", "x" };

		CHECK_INT(ops->configure(&state, argv, 2, file, 9, &errs), -1);
		take_error(&errs);
		cfg_errors_free(&errs);
		CHECK_WHY(text(last_error), "configured twice");
		ops->free(state);
	}

	CHECK(configure(file, "keytab missing.keytab") == NULL);
	snprintf(bad, sizeof(bad), "pinhole.conf:7: cannot read keytab %s/conf/missing.keytab: No such file", kdc_dir);
	CHECK_WHY(text(last_error), bad);

	CHECK(configure("t.conf", "helper") == NULL);
	CHECK_WHY(text(last_error), "auth negotiate helper needs a command");
	CHECK(configure(file, "") == NULL);
	CHECK_WHY(text(last_error), "needs a keytab");
	CHECK(configure(file, "file x") == NULL);
	CHECK_WHY(text(last_error), "does not know 'file'");
	CHECK(configure(file, "keytab") == NULL);
	CHECK_WHY(text(last_error), "needs a file name");
	CHECK(configure(file, "keytab ../proxy.keytab principal") == NULL);
	CHECK_WHY(text(last_error), "principal needs a name");
	CHECK(configure(file, "keytab ../proxy.keytab strip-domain") == NULL);
	CHECK_WHY(text(last_error), "does not know 'strip-domain'");
	CHECK(configure(file, "keytab ../proxy.keytab principal a principal b") == NULL);
	CHECK_WHY(text(last_error), "given twice");

	/* Files that are not keytabs. */
	snprintf(bad, sizeof(bad), "%s/conf/empty.keytab", kdc_dir);
	f = fopen(bad, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(configure(file, "keytab empty.keytab") == NULL);
	CHECK_WHY(text(last_error), "empty.keytab is empty");
	snprintf(bad, sizeof(bad), "%s/conf/text.keytab", kdc_dir);
	f = fopen(bad, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("HTTP/proxy.pinhole.test secret\n", f);
		fclose(f);
	}
	CHECK(configure(file, "keytab text.keytab") == NULL);
	CHECK_WHY(text(last_error), "text.keytab is not a Kerberos keytab");
}

static void test_spnego(void)
{
	struct auth_result res = { 0 };
	bool mutual;
	int legs;
	void *state = configure_ok("keytab proxy.keytab");
	void *strip = configure_ok("keytab proxy.keytab strip-realm");
	void *named = configure_ok("keytab proxy.keytab principal HTTP/proxy.pinhole.test");

	if (!state || !strip || !named)
		return;
	/* SPNEGO with mutual authentication, as browsers do it. */
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &spnego_oid, GSS_C_MUTUAL_FLAG, &res, &mutual, &legs),
	          AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);
	CHECK_INT(legs, 1);
	CHECK(buf_len(&res.headers) > 0);
	CHECK(mutual);

	CHECK_INT(exchange(strip, "HTTP@proxy.pinhole.test", &spnego_oid, GSS_C_MUTUAL_FLAG, &res, &mutual, &legs),
	          AUTH_OK);
	CHECK_STR(res.user, "alice");
	CHECK(mutual);

	/* Without mutual authentication (curl's default). */
	CHECK_INT(exchange(named, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);

	/* A raw Kerberos token, no SPNEGO around it. */
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &krb5_oid, GSS_C_MUTUAL_FLAG, &res, &mutual, &legs),
	          AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);
	CHECK(mutual);
	CHECK_INT(exchange(named, "HTTP@proxy.pinhole.test", &krb5_oid, 0, &res, &mutual, &legs), AUTH_OK);

	buf_release(&res.headers);
	ops->free(state);
	ops->free(strip);
	ops->free(named);
}

/* Appends the DER element tag { v[0..n) } at out + *o. */
static void der_put(unsigned char *out, size_t *o, unsigned char tag, const void *v, size_t n)
{
	out[(*o)++] = tag;
	if (n >= 256) {
		out[(*o)++] = 0x82;
		out[(*o)++] = (unsigned char)(n >> 8);
	} else if (n >= 128) {
		out[(*o)++] = 0x81;
	}
	out[(*o)++] = (unsigned char)n;
	memmove(out + *o, v, n);
	*o += n;
}

/* Wraps mechs (a MechTypeList) and mech_token (none when ntoken is 0) in a
 * SPNEGO NegTokenInit. */
static size_t spnego_init(unsigned char *out, const unsigned char *mechs, size_t nmechs,
                          const unsigned char *mech_token, size_t ntoken)
{
	unsigned char a[8192], b[8192];
	size_t na = 0, nb = 0, n = 0;

	der_put(b, &nb, 0xa0, mechs, nmechs);
	if (ntoken > 0) {
		der_put(a, &na, 0x04, mech_token, ntoken);
		der_put(b, &nb, 0xa2, a, na);
		na = 0;
	}
	der_put(a, &na, 0x30, b, nb);
	nb = 0;
	der_put(b, &nb, 0x06, spnego_oid.elements, spnego_oid.length);
	der_put(b, &nb, 0xa0, a, na);
	der_put(out, &n, 0x60, b, nb);
	return n;
}

/* SPNEGO over two legs, built by hand around a real Kerberos token: the
 * client proposes a mechanism the proxy lacks, then Kerberos, with no
 * optimistic token; the proxy answers with its choice (request-mic), and
 * the second leg carries the AP-REQ and the client's MIC over the mechanism
 * list (RFC 4178 sections 3, 5). */
static void test_two_legs(void)
{
	static const unsigned char mechs[] = { 0x30, 0x10, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x06, 0x09,
		                               0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
	struct auth_result res = { 0 };
	void *state = configure_ok("keytab proxy.keytab");
	void *session = NULL;
	unsigned char a[8192], b[8192], back[8192], init[64];
	size_t na, nb, ninit;
	struct client c;
	gss_buffer_desc msg = { sizeof(mechs), (void *)mechs }, mic = GSS_C_EMPTY_BUFFER;
	OM_uint32 minor;
	char sname[128];
	long n;

	if (!state)
		return;
	/* Leg 1: NegTokenInit { mechTypes [0] } alone. */
	ninit = spnego_init(init, mechs, sizeof(mechs), NULL, 0);
	CHECK_INT(step_tok(state, &session, init, ninit, &res), AUTH_CHALLENGE);
	n = header_token(&res, back, sizeof(back));
	/* NegTokenResp { negState request-mic (3), supportedMech Kerberos } */
	CHECK(n > 20 && back[0] == 0xa1 && memmem(back, (size_t)(n > 0 ? n : 0), "\xa0\x03\x0a\x01\x03", 5) &&
	      memmem(back, (size_t)(n > 0 ? n : 0), krb5_oid.elements, krb5_oid.length));

	/* Leg 2: NegTokenResp { responseToken [2] AP-REQ, mechListMIC [3] }. */
	client_start(&c, "HTTP@proxy.pinhole.test", &krb5_oid, 0);
	CHECK_INT(client_leg(&c, NULL, 0), GSS_S_COMPLETE);
	CHECK(!GSS_ERROR(gss_get_mic(&minor, c.ctx, GSS_C_QOP_DEFAULT, &msg, &mic)));
	na = 0;
	der_put(a, &na, 0x04, c.tok, c.len);
	nb = 0;
	der_put(b, &nb, 0xa2, a, na);
	na = 0;
	der_put(a, &na, 0x04, mic.value, mic.length);
	der_put(b, &nb, 0xa3, a, na);
	gss_release_buffer(&minor, &mic);
	na = 0;
	der_put(a, &na, 0x30, b, nb);
	nb = 0;
	der_put(b, &nb, 0xa1, a, na);
	save_seed("spnego-resp", b, nb);
	CHECK_INT(negotiate_ticket_sname(b, nb, sname, sizeof(sname)), 36);
	CHECK_STR(sname, "HTTP/proxy.pinhole.test@" REALM);
	CHECK_INT(step_tok(state, &session, b, nb, &res), AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);
	if (res.status != AUTH_OK)
		fprintf(stderr, "# two legs: %s\n", res.reason);
	client_end(&c);

	/* A client that starts over half-way gets a fresh context; one that
	 * goes away half-way leaves nothing behind (session_free). */
	CHECK_INT(step_tok(state, &session, init, ninit, &res), AUTH_CHALLENGE);
	client_start(&c, "HTTP@proxy.pinhole.test", &spnego_oid, 0);
	CHECK_INT(client_leg(&c, NULL, 0), GSS_S_CONTINUE_NEEDED);
	CHECK_INT(step_tok(state, &session, c.tok, c.len, &res), AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);
	client_end(&c);
	CHECK_INT(step_tok(state, &session, init, ninit, &res), AUTH_CHALLENGE);
	ops->session_free(session);
	session = NULL;

	buf_release(&res.headers);
	ops->free(state);
}

/* What Windows sends: SPNEGO listing Microsoft's Kerberos OID first, then
 * the real one and NTLMSSP, with a Kerberos token; and, without a ticket
 * for the proxy, NTLMSSP alone. */
static void test_windows(void)
{
	static const unsigned char mechs[] = {
		0x30, 0x20, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02,
		0x02, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
		0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
	};
	static const unsigned char ntlm_only[] = { 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01,
		                                   0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
	static const unsigned char type1[] = "NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
	struct auth_result res = { 0 };
	void *state = configure_ok("keytab proxy.keytab strip-realm");
	void *session = NULL;
	unsigned char tok[8192], back[8192];
	size_t n;
	long nback;
	struct client c;

	if (!state)
		return;
	client_start(&c, "HTTP@proxy.pinhole.test", &krb5_oid, GSS_C_MUTUAL_FLAG);
	CHECK_INT(client_leg(&c, NULL, 0), GSS_S_CONTINUE_NEEDED);
	n = spnego_init(tok, mechs, sizeof(mechs), c.tok, c.len);
	save_seed("spnego-init-ms-oid", tok, n);
	CHECK_INT(step_tok(state, &session, tok, n, &res), AUTH_OK);
	CHECK_STR(res.user, "alice");
	/* The proxy answers in the client's words: Microsoft's OID. */
	nback = header_token(&res, back, sizeof(back));
	CHECK(nback > 0 && memmem(back, (size_t)nback, "\x06\x09\x2a\x86\x48\x82\xf7\x12\x01\x02\x02", 11));
	client_end(&c);

	n = spnego_init(tok, ntlm_only, sizeof(ntlm_only), type1, sizeof(type1) - 1);
	CHECK_INT(step_tok(state, &session, tok, n, &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "offered no Kerberos under Negotiate");
	CHECK_STR(res.user, "");
	ops->session_free(session);
	buf_release(&res.headers);
	ops->free(state);
}

static void test_refused(void)
{
	struct auth_result res = { 0 };
	bool mutual;
	int legs;
	void *state = configure_ok("keytab proxy.keytab");
	void *two = configure_ok("keytab two.keytab principal HTTP/proxy.pinhole.test@" REALM);
	void *two_any = configure_ok("keytab two.keytab principal HTTP/proxy.pinhole.test");
	void *stale = configure_ok("keytab stale.keytab");
	void *session = NULL;
	struct client c;

	if (!state || !two || !two_any || !stale)
		return;
	/* A ticket for a service the keytab lacks names that service. */
	CHECK_INT(exchange(state, "HTTP@other.pinhole.test", &spnego_oid, GSS_C_MUTUAL_FLAG, &res, &mutual, &legs),
	          AUTH_DENIED);
	CHECK_WHY(text(res.reason), "keytab lacks (HTTP/other.pinhole.test@" REALM ")");
	CHECK_WHY(text(res.reason), "configure browsers with the proxy's host name");
	CHECK_INT(buf_len(&res.headers), 0);
	CHECK_STR(res.user, "");
	CHECK_INT(exchange(state, "HTTP@other.pinhole.test", &krb5_oid, 0, &res, &mutual, &legs), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "keytab lacks (HTTP/other.pinhole.test@" REALM ")");

	/* A browser configured with the proxy's address (Chromium asks for
	 * HTTP/<ip>). */
	CHECK_INT(exchange(state, "HTTP@127.0.0.1", &spnego_oid, 0, &res, &mutual, &legs), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "keytab lacks (HTTP/127.0.0.1@" REALM "): configure browsers with the proxy's host "
	                            "name, not its address");

	/* The keytab has the ticket's service, but pinhole accepts only the
	 * configured one. */
	CHECK_INT(exchange(two, "HTTP@second.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "ticket for HTTP/second.pinhole.test@" REALM ", but the configured principal is "
	                            "HTTP/proxy.pinhole.test@" REALM);
	CHECK_INT(exchange(two, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_OK);
	CHECK_INT(exchange(two_any, "HTTP@second.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "ticket for HTTP/second.pinhole.test@" REALM ", but the configured principal is "
	                            "HTTP/proxy.pinhole.test");
	CHECK_INT(exchange(two_any, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_OK);

	/* The KDC changed the service's key after the keytab was exported. */
	CHECK_INT(exchange(stale, "HTTP@stale.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "Negotiate token refused: ");
	CHECK_WHY(text(res.reason), "kvno");
	fprintf(stderr, "# stale keytab: %s\n", res.reason);

	/* The same token twice: the replay cache refuses the second. */
	client_start(&c, "HTTP@proxy.pinhole.test", &krb5_oid, 0);
	CHECK_INT(client_leg(&c, NULL, 0), GSS_S_COMPLETE);
	CHECK_INT(step_tok(state, &session, c.tok, c.len, &res), AUTH_OK);
	ops->session_free(session);
	session = NULL;
	CHECK_INT(step_tok(state, &session, c.tok, c.len, &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "replay");
	CHECK_STR(res.user, "");
	fprintf(stderr, "# replay: %s\n", res.reason);
	client_end(&c);

	/* Malformed credentials. */
	CHECK_INT(step_raw(state, &session, "", &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "empty");
	CHECK_INT(step_raw(state, &session, "!!not base64!!", &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "not valid base64");
	CHECK_INT(step_raw(state, &session, "YIIB", &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "Negotiate token refused");
	CHECK_INT(step_raw(state, &session, "aGVsbG8gd29ybGQsIG5vdCBhIHRva2Vu", &res), AUTH_DENIED);
	CHECK_WHY(text(res.reason), "Negotiate token refused");
	CHECK(!unit_contains(res.reason, "aGVsbG8"));
	fprintf(stderr, "# garbage: %s\n", res.reason);
	/* Windows without a ticket for the proxy: raw NTLMSSP Type 1. */
	CHECK_INT(step_raw(state, &session, "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==", &res),
	          AUTH_DENIED);
	CHECK_WHY(text(res.reason), "NTLM under Negotiate");
	CHECK_INT(buf_len(&res.headers), 0);
	ops->session_free(session);

	buf_release(&res.headers);
	ops->free(state);
	ops->free(two);
	ops->free(two_any);
	ops->free(stale);
}

/* A keytab that gives no credentials is the verifier's fault (502): at
 * finish it is not an error, it is tried again at first use, and once it
 * works, it works. */
static void test_broken(void)
{
	struct auth_result res = { 0 };
	bool mutual;
	int legs;
	char cmd[1200];
	void *absent = configure_ok("keytab proxy.keytab principal HTTP/absent.pinhole.test");
	void *state;
	struct cfg_errors errs = { 0 };
	char *argv[] = { "keytab", "moving.keytab" };

	if (!absent)
		return;
	CHECK_INT(exchange(absent, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_BROKEN);
	CHECK_WHY(text(res.reason), "proxy.keytab has no key for HTTP/absent.pinhole.test");
	fprintf(stderr, "# absent principal: %s\n", res.reason);
	ops->free(absent);

	/* The keytab disappears between configure and finish... */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path_in("proxy.keytab"), path_in("moving.keytab"));
	CHECK_INT(system(cmd), 0);
	state = NULL;
	CHECK_INT(ops->configure(&state, argv, 2, path_in("pinhole.conf"), 3, &errs), 0);
	CHECK_INT(unlink(path_in("moving.keytab")), 0);
	CHECK_INT(ops->finish(state, path_in("pinhole.conf"), &errs), 0);
	CHECK_INT(errs.n, 0);
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_BROKEN);
	CHECK_WHY(text(res.reason), "cannot read Negotiate keytab");
	CHECK_WHY(text(res.reason), "moving.keytab: No such file");
	/* ...comes back: it is tried again, at most once a second. */
	CHECK_INT(system(cmd), 0);
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_BROKEN);
	now_ms += 1500;
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_OK);
	CHECK_STR(res.user, "alice@" REALM);
	/* ...and disappears again while in use. */
	CHECK_INT(unlink(path_in("moving.keytab")), 0);
	CHECK_INT(exchange(state, "HTTP@proxy.pinhole.test", &spnego_oid, 0, &res, &mutual, &legs), AUTH_BROKEN);
	CHECK_WHY(text(res.reason), "cannot read Negotiate keytab");
	CHECK_WHY(text(res.reason), "moving.keytab: No such file");

	buf_release(&res.headers);
	ops->free(state);
}

/* The service-name reader on real tokens, every truncation of them and
 * a few bytes changed: it answers or refuses, never reads out of bounds. */
static void test_sname(void)
{
	static const char want[] = "HTTP/proxy.pinhole.test@" REALM;
	gss_OID mechs[2] = { &spnego_oid, &krb5_oid };
	char out[128];

	for (int m = 0; m < 2; m++) {
		struct client c;

		client_start(&c, "HTTP@proxy.pinhole.test", mechs[m], GSS_C_MUTUAL_FLAG);
		client_leg(&c, NULL, 0);
		CHECK(c.len > 100);
		CHECK_INT(negotiate_ticket_sname(c.tok, c.len, out, sizeof(out)), (int)sizeof(want) - 1);
		CHECK_STR(out, want);
		CHECK_INT(negotiate_ticket_sname(c.tok, c.len, out, sizeof(want)), (int)sizeof(want) - 1);
		CHECK_INT(negotiate_ticket_sname(c.tok, c.len, out, sizeof(want) - 1), -1);
		for (size_t n = 0; n < c.len; n++)
			CHECK_INT(negotiate_ticket_sname(c.tok, n, out, sizeof(out)), -1);
		for (size_t i = 0; i < c.len; i++) {
			unsigned char save = c.tok[i];

			c.tok[i] ^= 0x41;
			int r = negotiate_ticket_sname(c.tok, c.len, out, sizeof(out));

			CHECK(r == -1 || (r >= 0 && (size_t)r == strlen(out)));
			c.tok[i] = save;
		}
		save_seed(m == 0 ? "spnego-init" : "krb5-ap-req", c.tok, c.len);
		client_end(&c);
	}
	/* Hand-made: a name with separators inside components is escaped,
	 * control bytes are refused. */
	static const unsigned char crafted[] = {
		0x60, 0x40, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00, 0x6e, 0x31,
		0x30, 0x2f, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x0e, 0xa2, 0x02, 0x03, 0x00, 0xa3,
		0x1f, 0x61, 0x1d, 0x30, 0x1b, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x1b, 0x01, 0x52, 0xa2, 0x0f,
		0x30, 0x0d, 0xa0, 0x03, 0x02, 0x01, 0x02, 0xa1, 0x06, 0x30, 0x04, 0x1b, 0x02, 'a',  '/',
	};
	unsigned char copy[sizeof(crafted)];

	save_seed("crafted", crafted, sizeof(crafted));
	CHECK_INT(negotiate_ticket_sname(crafted, sizeof(crafted), out, sizeof(out)), 5);
	CHECK_STR(out, "a\\/@R");
	memcpy(copy, crafted, sizeof(copy));
	copy[sizeof(copy) - 1] = '\n';
	CHECK_INT(negotiate_ticket_sname(copy, sizeof(copy), out, sizeof(out)), -1);
	CHECK_INT(negotiate_ticket_sname((const unsigned char *)"", 0, out, sizeof(out)), -1);
	CHECK_INT(negotiate_ticket_sname((const unsigned char *)"NTLMSSP", 8, out, sizeof(out)), -1);
}

/* Re-runs this program under sh with the realm set up (kdc_script). */
static int run_under_kdc(void)
{
	char self[4096];
	const char *srcdir = getenv("PH_SRCDIR");
	char lib[4200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (!srcdir) {
		srcdir = ".";
		setenv("PH_SRCDIR", srcdir, 1);
	}
	snprintf(lib, sizeof(lib), "%s/tests/lib/kdc.sh", srcdir);
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "test_auth_negotiate: cannot read %s (set PH_SRCDIR to the source tree)\n", lib);
		return 99;
	}
	if (n <= 0) {
		fprintf(stderr, "test_auth_negotiate: cannot find my own executable: %s\n", strerror(errno));
		return 99;
	}
	self[n] = '\0';
	fflush(NULL);
	execl("/bin/sh", "sh", "-c", kdc_script, self, (char *)NULL);
	fprintf(stderr, "test_auth_negotiate: cannot run /bin/sh: %s\n", strerror(errno));
	return 99;
}

int main(void)
{
	kdc_dir = getenv("PH_KDC_DIR");
	if (!kdc_dir)
		return run_under_kdc();
	if (getenv("PH_KDC_PASSWORD") && alice_login(getenv("PH_KDC_PASSWORD")) < 0) {
		fprintf(stderr, "test_auth_negotiate: cannot get alice's ticket from the test KDC\n");
		return 99;
	}
	test_configure();
	test_spnego();
	test_two_legs();
	test_windows();
	test_refused();
	test_broken();
	test_sname();
	return unit_summary("test_auth_negotiate");
}
