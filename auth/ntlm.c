/*
 * ntlm.c - the NTLM scheme: `auth ntlm users FILE`, the Type 1 -> Type 2 ->
 * Type 3 exchange of one client connection, and the decision on the Type 3
 * against the users file.  Message bytes are ntlm_msg.c's, hashes
 * ntlm_users.c's.  `auth ntlm helper "CMD"` hands the messages to a Squid
 * NTLM helper instead (Samba's ntlm_auth for Active Directory), one reserved
 * child per handshake (helpmode.c).
 */
#include "scheme.h"
#include "strbuf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common.h"
#include "cfgparse.h"
#include "helpmode.h"
#include "ntlm_msg.h"
#include "ntlm_users.h"

/* A Type 3 must answer its challenge within this time. */
#define CHALLENGE_LIFETIME_MS (5 * 60 * 1000)
/* Longest base64 of a message of NTLM_MSG_MAX bytes, plus trailing blanks. */
#define B64_MAX (4 * ((NTLM_MSG_MAX + 2) / 3) + 16)
/* FILETIME (100 ns since 1601) of the Unix epoch. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL

struct ntlm_state {
	struct helpmode_cfg helper; /* helper.cmd set: helper mode, no users */
	struct ntlm_users users;
	char *path; /* the users file, absolute */
	bool allow_v1;
	char *domain_word; /* `domain NAME` as written, NULL if absent */
	char *host_word;   /* `host NAME` as written, NULL if absent */
	char nb_domain[16], nb_computer[16];
	char dns_domain[256], dns_computer[256];
	char *file; /* where the directive is, for "configured twice" */
	int line;
};

struct ntlm_session {
	bool pending; /* a challenge went out and has not been answered */
	uint8_t challenge[8];
	uint32_t flags; /* as sent in that Type 2 */
	uint64_t sent_ms;
	struct helpmode_session *helper; /* helper mode's handshake */
};

/* ---- configuration ---- */

/* A name for the Type 2: DNS-like, letters, digits, '-', '_' and dots. */
static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || strstr(s, ".."))
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* NetBIOS form: the first label, upper-cased, at most 15 characters;
 * DNS form: the whole name, lower-cased without a trailing dot. */
static void set_names(const char *name, char nb[16], char dns[256])
{
	size_t i, n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	for (i = 0; i < 15 && name[i] && name[i] != '.'; i++)
		nb[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32) : name[i];
	nb[i] = '\0';
	for (i = 0; i < n && i < 255; i++)
		dns[i] = ph_tolower(name[i]);
	dns[i] = '\0';
}

static void state_free(struct ntlm_state *st)
{
	if (!st)
		return;
	ntlm_users_free(&st->users);
	helpmode_cfg_free(&st->helper);
	free(st->path);
	free(st->domain_word);
	free(st->host_word);
	free(st->file);
	free(st);
}

static int ntlm_configure(void **state, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	struct ntlm_state *st;
	const char *domain = "PINHOLE", *host = NULL, *file_domain;
	char hostname[256];

	if (argc < 1 || (strcmp(argv[0], "users") != 0 && strcmp(argv[0], "helper") != 0)) {
		cfg_error(errs, file, line, "auth ntlm takes 'users FILE [allow-v1]' or 'helper \"CMD\"'%s%s%s",
		          argc ? " (not '" : "", argc ? argv[0] : "", argc ? "')" : "");
		return -1;
	}
	if (*state) {
		st = *state;
		cfg_error(errs, file, line,
		          "auth ntlm is configured twice (first at %s:%d); NTLM takes one users file or helper",
		          st->file, st->line);
		return -1;
	}
	if (strcmp(argv[0], "helper") == 0) {
		st = ph_calloc(1, sizeof(*st));
		if (helpmode_parse(&st->helper, "ntlm", argv, argc, true, NULL, file, line, errs) != 0) {
			state_free(st);
			return -1;
		}
		st->file = ph_strdup(file);
		st->line = line;
		*state = st;
		return 0;
	}
	if (argc < 2) {
		cfg_error(errs, file, line, "auth ntlm users needs the users FILE");
		return -1;
	}
	st = ph_calloc(1, sizeof(*st));
	st->file = ph_strdup(file);
	st->line = line;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "allow-v1") == 0) {
			/* NTLMv1 (and LMv1) responses are DES of the NT hash in
			 * 56-bit pieces over a challenge the server chose: one
			 * captured exchange gives the NT hash back offline, and
			 * the NT hash is the password for every NTLM service.
			 * Off by default so that such clients get noticed. */
			if (st->allow_v1) {
				cfg_error(errs, file, line, "allow-v1 is given twice");
				goto fail;
			}
			st->allow_v1 = true;
		} else if (strcmp(argv[i], "domain") == 0 || strcmp(argv[i], "host") == 0) {
			bool is_domain = argv[i][0] == 'd';
			char **word = is_domain ? &st->domain_word : &st->host_word;

			if (i + 1 >= argc) {
				cfg_error(errs, file, line, "'%s' needs a NAME", argv[i]);
				goto fail;
			}
			if (*word) {
				cfg_error(errs, file, line, "'%s' is given twice", argv[i]);
				goto fail;
			}
			if (!dns_name_ok(argv[i + 1])) {
				cfg_error(errs, file, line,
				          "'%s' is not a usable %s name (letters, digits, '-', '_', dots)", argv[i + 1],
				          argv[i]);
				goto fail;
			}
			*word = ph_strdup(argv[++i]);
		} else {
			cfg_error(errs, file, line,
			          "unknown word '%s' after the users file (allow-v1, domain NAME, host NAME)", argv[i]);
			goto fail;
		}
	}
	st->path = cfg_path(file, argv[1]);
	if (ntlm_users_load(&st->users, st->path, file, line, errs) < 0)
		goto fail;
	if (st->domain_word)
		domain = st->domain_word;
	else if ((file_domain = ntlm_users_only_domain(&st->users)) && dns_name_ok(file_domain))
		domain = file_domain;
	if (st->host_word) {
		host = st->host_word;
	} else {
		if (gethostname(hostname, sizeof(hostname)) == 0)
			hostname[sizeof(hostname) - 1] = '\0';
		else
			hostname[0] = '\0';
		host = dns_name_ok(hostname) ? hostname : "pinhole";
	}
	set_names(domain, st->nb_domain, st->dns_domain);
	set_names(host, st->nb_computer, st->dns_computer);
	*state = st;
	return 0;
fail:
	state_free(st);
	return -1;
}

static int ntlm_finish(void *state, const char *file, struct cfg_errors *errs)
{
	PH_UNUSED(state);
	PH_UNUSED(file);
	PH_UNUSED(errs);
	return 0;
}

static void ntlm_free(void *state)
{
	state_free(state);
}

static void ntlm_dump(const void *state, struct strbuf *out)
{
	const struct ntlm_state *st = state;

	if (!st)
		return;
	if (st->helper.cmd) {
		strbuf_printf(out, "auth ntlm");
		helpmode_dump(&st->helper, out);
		strbuf_printf(out, " reservation-timeout %llums\n", (unsigned long long)st->helper.reservation_ms);
		return;
	}
	strbuf_printf(out, "auth ntlm users");
	auth_dump_arg(out, st->path);
	if (st->allow_v1)
		strbuf_printf(out, " allow-v1");
	if (st->domain_word) {
		strbuf_printf(out, " domain");
		auth_dump_arg(out, st->domain_word);
	}
	if (st->host_word) {
		strbuf_printf(out, " host");
		auth_dump_arg(out, st->host_word);
	}
	strbuf_printf(out, "\n");
}

static void ntlm_challenge(const void *state, const char *realm, struct buf *out)
{
	PH_UNUSED(state);
	PH_UNUSED(realm);
	buf_printf(out, "Proxy-Authenticate: NTLM\r\n");
}

/* ---- the exchange ---- */

static enum auth_status refuse(struct auth_result *res, enum auth_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Fills res->reason (never with a secret) and the status. */
static enum auth_status refuse(struct auth_result *res, enum auth_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	res->status = status;
	return status;
}

#define deny(res, ...) refuse(res, AUTH_DENIED, __VA_ARGS__)

static enum auth_status type1(const struct ntlm_state *st, struct ntlm_session **sp, const uint8_t *m, size_t len,
                              const struct auth_request *req, struct auth_result *res)
{
	const struct ntlm_names names = { st->nb_domain, st->nb_computer, st->dns_domain, st->dns_computer };
	struct ntlm_type1 t1;
	struct ntlm_session *s;
	const char *why = NULL;
	uint8_t msg[NTLM_MSG_MAX];
	char b64[4 * (NTLM_MSG_MAX / 3) + 8];
	size_t n;

	if (ntlm_msg_parse_type1(m, len, &t1, &why) < 0)
		return deny(res, "malformed NTLM message: %s", why);
	if (!*sp)
		*sp = ph_calloc(1, sizeof(**sp));
	s = *sp;
	/* A new Type 1 on the connection starts over. */
	s->pending = false;
	if (RAND_bytes(s->challenge, sizeof(s->challenge)) != 1)
		return refuse(res, AUTH_BROKEN, "the random number generator failed");
	n = ntlm_msg_build_type2(t1.flags, s->challenge, req->now_ms * 10000 + FILETIME_UNIX_EPOCH, &names, msg,
	                         sizeof(msg), &s->flags);
	if (n == 0 || base64_encode(msg, n, b64, sizeof(b64)) == 0)
		return refuse(res, AUTH_BROKEN, "the NTLM challenge does not fit in %d bytes", NTLM_MSG_MAX);
	s->sent_ms = req->now_ms;
	s->pending = true;
	buf_printf(&res->headers, "Proxy-Authenticate: NTLM %s\r\n", b64);
	res->status = AUTH_CHALLENGE;
	return AUTH_CHALLENGE;
}

enum verdict {
	V_OK,
	V_WRONG,
	V_V1_OFF,
	V_BROKEN,
};

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= p[i];
	return d == 0;
}

/* MS-NLMP 3.3: NTLMv2 when the NT response is longer than 24 bytes; a
 * 24-byte NT response is the NTLM2 session response when that was
 * negotiated and the LM response has its form (client challenge, 16 zeros),
 * else NTLMv1; LMv2 when there is no NT response or it was not accepted. */
static enum verdict verify(const struct ntlm_state *st, const struct ntlm_session *s, const struct ntlm_type3 *t3,
                           const struct ntlm_user *u)
{
	uint8_t ident[2 * NTLM_MSG_MAX], key[16], proof[24];
	size_t idlen = ntlm_msg_v2_identity(t3, ident, sizeof(ident));
	enum verdict v = V_WRONG;

	if (ntlm_users_ntowfv2(u->nthash, ident, idlen, key) < 0)
		return V_BROKEN;
	if (t3->nt.len > 24) {
		if (ntlm_users_v2_proof(key, s->challenge, t3->nt.p + 16, t3->nt.len - 16, proof) < 0)
			v = V_BROKEN;
		else if (auth_ct_equal(proof, t3->nt.p, 16))
			v = V_OK;
		goto out;
	}
	if (t3->nt.len == 24) {
		bool ess = (s->flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) && t3->lm.len == 24 &&
		           all_zero(t3->lm.p + 8, 16);

		if (ess) {
			if (ntlm_users_ntlm2_session(u->nthash, s->challenge, t3->lm.p, proof) < 0)
				v = V_BROKEN;
			else if (auth_ct_equal(proof, t3->nt.p, 24))
				v = V_OK;
			goto out;
		}
		if (st->allow_v1) {
			if (ntlm_users_desl(u->nthash, s->challenge, proof) < 0)
				v = V_BROKEN;
			else if (auth_ct_equal(proof, t3->nt.p, 24))
				v = V_OK;
			goto out;
		}
		v = V_V1_OFF;
	}
	if (t3->lm.len == 24) {
		if (ntlm_users_v2_proof(key, s->challenge, t3->lm.p + 16, 8, proof) < 0)
			v = V_BROKEN;
		else if (auth_ct_equal(proof, t3->lm.p, 16))
			v = V_OK;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(proof, sizeof(proof));
	return v;
}

static enum auth_status type3(const struct ntlm_state *st, struct ntlm_session *s, const uint8_t *m, size_t len,
                              const struct auth_request *req, struct auth_result *res)
{
	struct ntlm_type3 t3;
	const struct ntlm_user *u;
	const char *why = NULL;
	char user[sizeof(res->user)], domain[sizeof(res->user)], who[sizeof(res->user)];
	uint64_t age;

	if (!s || !s->pending)
		return deny(res, "NTLM Type 3 without a Type 1 on this connection");
	/* One answer per challenge, right or wrong. */
	s->pending = false;
	if (ntlm_msg_parse_type3(m, len, &t3, &why) < 0)
		return deny(res, "malformed NTLM message: %s", why);
	if (ntlm_msg_string_utf8(&t3.user, t3.unicode, user, sizeof(user), &why) < 0)
		return deny(res, "malformed NTLM message: the user name %s", why);
	if (ntlm_msg_string_utf8(&t3.domain, t3.unicode, domain, sizeof(domain), &why) < 0)
		return deny(res, "malformed NTLM message: the domain name %s", why);
	if (!*user)
		return deny(res, "anonymous NTLM logon refused (the Type 3 names no user)");
	if ((size_t)snprintf(who, sizeof(who), "%s%s%s", domain, *domain ? "\\" : "", user) >= sizeof(who))
		return deny(res, "malformed NTLM message: the domain and user names are too long");
	age = req->now_ms >= s->sent_ms ? req->now_ms - s->sent_ms : s->sent_ms - req->now_ms;
	if (age > CHALLENGE_LIFETIME_MS)
		return deny(res, "the NTLM answer of %s came %llu s after the challenge (at most %d s)", who,
		            (unsigned long long)(age / 1000), CHALLENGE_LIFETIME_MS / 1000);
	if (*domain) {
		u = ntlm_users_find(&st->users, user, domain);
	} else {
		/* An empty domain is the server's own, as a Windows server reads
		 * it: browsers' prompts send a bare "alice" that way.  The
		 * challenge announced that domain in both of its forms. */
		u = ntlm_users_find(&st->users, user, st->nb_domain);
		if (!u || !u->domain) {
			const struct ntlm_user *d = ntlm_users_find(&st->users, user, st->dns_domain);

			if (d && d->domain)
				u = d;
		}
		if (u && u->domain && (size_t)snprintf(who, sizeof(who), "%s\\%s", u->domain, user) >= sizeof(who))
			return deny(res, "malformed NTLM message: the domain and user names are too long");
	}
	if (!u)
		return deny(res, "unknown user %s%s", who,
		            *domain ? "" : " (no domain given: looked up in the challenge's domain)");
	switch (verify(st, s, &t3, u)) {
	case V_OK:
		break;
	case V_WRONG:
		return deny(res, "wrong password for %s", who);
	case V_V1_OFF:
		return deny(res,
		            "NTLMv1 response from %s refused (NTLMv2 or NTLM2 session only; 'allow-v1' accepts it)",
		            who);
	case V_BROKEN:
		return refuse(res, AUTH_BROKEN, "OpenSSL failed while checking the NTLM answer of %s", who);
	}
	snprintf(res->user, sizeof(res->user), "%s", who);
	res->status = AUTH_OK;
	return AUTH_OK;
}

static enum auth_status ntlm_step(const void *state, void **session, const char *realm, const struct auth_request *req,
                                  const char *cred, size_t len, struct auth_result *res)
{
	const struct ntlm_state *st = state;
	uint8_t m[NTLM_MSG_MAX + 16];
	long n;

	PH_UNUSED(realm);
	res->scheme = "NTLM";
	if (len == 0)
		return deny(res, "malformed NTLM message: the NTLM token is empty");
	if (len > B64_MAX)
		return deny(res, "malformed NTLM message: larger than %d bytes", NTLM_MSG_MAX);
	n = base64_decode(cred, len, m, sizeof(m));
	if (n < 0)
		return deny(res, "malformed NTLM message: not base64");
	if (n > NTLM_MSG_MAX)
		return deny(res, "malformed NTLM message: larger than %d bytes", NTLM_MSG_MAX);
	int type = ntlm_msg_type(m, (size_t)n);

	if (st->helper.cmd && (type == 1 || type == 3)) {
		struct ntlm_session *s = *session;

		while (len && (cred[len - 1] == ' ' || cred[len - 1] == '\t'))
			len--;
		if (!s)
			s = *session = ph_calloc(1, sizeof(*s));
		return helpmode_stateful_step(&st->helper, &s->helper, "NTLM", type == 1, req, cred, len, res);
	}
	switch (type) {
	case 1:
		return type1(st, (struct ntlm_session **)session, m, (size_t)n, req, res);
	case 3:
		return type3(st, *session, m, (size_t)n, req, res);
	case 2:
		return deny(res, "malformed NTLM message: the client sent a Type 2 (a challenge)");
	default:
		return deny(res, "malformed NTLM message: no NTLMSSP signature");
	}
}

static void ntlm_session_free(void *session)
{
	struct ntlm_session *s = session;

	if (s) {
		helpmode_session_free(s->helper);
		OPENSSL_cleanse(s, sizeof(*s));
	}
	free(s);
}

static const struct helpmode_cfg *ntlm_helper(const void *state)
{
	const struct ntlm_state *st = state;

	return st && st->helper.cmd ? &st->helper : NULL;
}

const struct auth_scheme_ops auth_ntlm_ops = {
	.name = "NTLM",
	.keyword = "ntlm",
	.connection_bound = true,
	.configure = ntlm_configure,
	.finish = ntlm_finish,
	.free = ntlm_free,
	.dump = ntlm_dump,
	.challenge = ntlm_challenge,
	.step = ntlm_step,
	.session_free = ntlm_session_free,
	.helper = ntlm_helper,
};
