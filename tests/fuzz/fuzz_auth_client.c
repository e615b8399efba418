/*
 * fuzz_auth_client.c - libFuzzer target for what a parent proxy's 407
 * hands pinhole (auth/client.c): the input is one or more
 * Proxy-Authenticate values separated by NUL bytes, parsed into one set of
 * challenges, then answered twice as a request would (a first leg, then
 * the next leg with the same challenges: an NTLM Type 2 from the input,
 * a stale Digest nonce).  Aborts when the parse breaks what client.h
 * promises (tokens inside the input, strings terminated, a Digest offered
 * only with a realm and a nonce) or an answer is not a Proxy-Authorization
 * value.  Negotiate is left out: it would ask the Kerberos library.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "common.h"
#include "strbuf.h"

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_token(const struct auth_client_token *t, const uint8_t *data, size_t size)
{
	if (!t->len)
		return;
	FUZZ_ASSERT((const uint8_t *)t->p >= data && (const uint8_t *)t->p + t->len <= data + size);
}

static void check_answer(enum auth_client_status st, const struct strbuf *out, const char *why)
{
	static const char *const schemes[] = { "Basic ", "Digest ", "NTLM " };
	bool named = false;

	FUZZ_ASSERT(strlen(why) < 300);
	if (st != AUTH_CLIENT_ANSWER)
		return;
	FUZZ_ASSERT(out->p && out->len == strlen(out->p));
	for (size_t i = 0; i < PH_ARRAY_LEN(schemes); i++)
		named |= strncmp(out->p, schemes[i], strlen(schemes[i])) == 0;
	FUZZ_ASSERT(named);
	/* A header value: no line breaks, nothing the head could split on. */
	FUZZ_ASSERT(!strpbrk(out->p, "\r\n"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct auth_client_creds creds = { "CORP\\fuzz", "pass\"word\\", 7 };
	struct auth_client_challenges ch;
	const char *p = (const char *)data, *end = p + size;
	struct strbuf out = { 0 };
	char why[300];

	auth_client_challenges_init(&ch);
	while (p <= end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul ? nul : end) - p);
		const char *w = NULL;
		int rc = auth_client_parse(&ch, p, len, &w);

		FUZZ_ASSERT(rc == 0 || rc == -1);
		FUZZ_ASSERT(rc == 0 || (w && strlen(w) < 200));
		if (!nul)
			break;
		p = nul + 1;
	}
	FUZZ_ASSERT(strlen(ch.names) < sizeof(ch.names));
	FUZZ_ASSERT(strlen(ch.realm) < sizeof(ch.realm) && strlen(ch.nonce) < sizeof(ch.nonce));
	FUZZ_ASSERT(strlen(ch.opaque) < sizeof(ch.opaque));
	FUZZ_ASSERT(!ch.digest == !(ch.offered & (1u << AUTH_CLIENT_DIGEST)));
	FUZZ_ASSERT(!(ch.offered & ~0x1eu));
	FUZZ_ASSERT(!ch.offered || ch.names[0]);
	check_token(&ch.ntlm, data, size);
	check_token(&ch.negotiate, data, size);

	ch.offered &= ~(1u << AUTH_CLIENT_NEGOTIATE);
	struct auth_client *ac = auth_client_new();
	struct auth_client_request rq = { "CONNECT", "www.example:443", "parent.example", &creds, 1700000000000ULL };

	for (int leg = 0; leg < 2; leg++) {
		enum auth_client_status st;

		out.len = 0;
		if (out.p)
			out.p[0] = '\0';
		why[0] = '\0';
		st = auth_client_answer(ac, &rq, &ch, &out, why, sizeof(why));
		check_answer(st, &out, why);
		if (st != AUTH_CLIENT_ANSWER)
			break;
	}
	auth_client_free(ac);
	free(out.p);
	return 0;
}
