/*
 * ntlm_msg.c - NTLMSSP messages on the wire (MS-NLMP 2.2).  Every length and
 * offset the client sends is checked against the message size before a byte
 * is read; nothing here allocates, decides or hashes.  Fuzzed by
 * tests/fuzz/fuzz_ntlm.c.
 */
#include "ntlm_msg.h"

#include <string.h>

#define T1_HEADER 32   /* signature, type, flags, domain and workstation fields */
#define T2_HEADER 56   /* ... up to and including the (zero) Version field */
#define T3_HEADER 64   /* six fields and the flags; Version and MIC may follow */
#define V2_BLOB_MIN 28 /* NTLMv2_CLIENT_CHALLENGE without its AV pairs */

static const uint8_t signature[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int ntlm_msg_type(const uint8_t *m, size_t len)
{
	uint32_t type;

	if (len < 12 || memcmp(m, signature, sizeof(signature)) != 0)
		return 0;
	type = le32(m + 8);
	return type >= 1 && type <= 3 ? (int)type : 0;
}

/* Reads the security buffer (Len, MaxLen, Offset) at m + at.  MaxLen is
 * ignored, as MS-NLMP says; a non-empty field must lie wholly inside the
 * message and after its fixed header. */
static int field(const uint8_t *m, size_t len, size_t at, size_t header, struct ntlm_field *f)
{
	size_t flen = le16(m + at);
	size_t off = le32(m + at + 4);

	f->p = NULL;
	f->len = 0;
	if (flen == 0)
		return 0;
	if (off < header || off > len || flen > len - off)
		return -1;
	f->p = m + off;
	f->len = flen;
	return 0;
}

int ntlm_msg_parse_type1(const uint8_t *m, size_t len, struct ntlm_type1 *t1, const char **why)
{
	struct ntlm_field unused;

	memset(t1, 0, sizeof(*t1));
	if (len > NTLM_MSG_MAX) {
		*why = "larger than 4096 bytes";
		return -1;
	}
	if (len < 12 || memcmp(m, signature, sizeof(signature)) != 0) {
		*why = "no NTLMSSP signature";
		return -1;
	}
	if (le32(m + 8) != 1) {
		*why = "expected a Type 1 message";
		return -1;
	}
	if (len < 16) {
		*why = "Type 1 truncated in its header";
		return -1;
	}
	t1->flags = le32(m + 12);
	/* Clients from before Windows 2000 stop after the flags. */
	if (len == 16)
		return 0;
	if (len < T1_HEADER) {
		*why = "Type 1 truncated in its header";
		return -1;
	}
	if (field(m, len, 16, T1_HEADER, &unused) < 0 || field(m, len, 24, T1_HEADER, &unused) < 0) {
		*why = "a Type 1 field lies outside the message";
		return -1;
	}
	return 0;
}

int ntlm_msg_parse_type3(const uint8_t *m, size_t len, struct ntlm_type3 *t3, const char **why)
{
	static const char *const outside[] = {
		"the LM response lies outside the message",      "the NT response lies outside the message",
		"the domain name lies outside the message",      "the user name lies outside the message",
		"the workstation name lies outside the message", "the session key lies outside the message",
	};
	struct ntlm_field *fields[] = { &t3->lm, &t3->nt, &t3->domain, &t3->user, &t3->workstation, &t3->session_key };

	memset(t3, 0, sizeof(*t3));
	if (len > NTLM_MSG_MAX) {
		*why = "larger than 4096 bytes";
		return -1;
	}
	if (len < 12 || memcmp(m, signature, sizeof(signature)) != 0) {
		*why = "no NTLMSSP signature";
		return -1;
	}
	if (le32(m + 8) != 3) {
		*why = "expected a Type 3 message";
		return -1;
	}
	if (len < T3_HEADER) {
		*why = "Type 3 truncated in its header";
		return -1;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (field(m, len, 12 + 8 * i, T3_HEADER, fields[i]) < 0) {
			*why = outside[i];
			return -1;
		}
	}
	t3->flags = le32(m + 60);
	t3->unicode = (t3->flags & NTLM_NEGOTIATE_UNICODE) != 0;
	if (t3->unicode && (t3->domain.len % 2 || t3->user.len % 2 || t3->workstation.len % 2)) {
		*why = "a UTF-16 name has an odd length";
		return -1;
	}
	/* Z(1) is the anonymous LM response; 24 bytes everything else. */
	if (t3->lm.len != 0 && t3->lm.len != 1 && t3->lm.len != 24) {
		*why = "the LM response is neither 0, 1 nor 24 bytes long";
		return -1;
	}
	if (t3->nt.len != 0 && t3->nt.len != 24 && t3->nt.len < 16 + V2_BLOB_MIN) {
		*why = "the NT response is too short for NTLMv2";
		return -1;
	}
	/* NTLMv2_CLIENT_CHALLENGE: RespType and HiRespType are both 1. */
	if (t3->nt.len > 24 && (t3->nt.p[16] != 1 || t3->nt.p[17] != 1)) {
		*why = "the NTLMv2 response has an unknown version";
		return -1;
	}
	return 0;
}

/* Appends an ASCII string as UTF-16LE or as itself. */
static size_t put_name(uint8_t *out, const char *s, bool unicode)
{
	size_t n = strlen(s);

	if (!unicode) {
		memcpy(out, s, n);
		return n;
	}
	for (size_t i = 0; i < n; i++)
		put16(out + 2 * i, (uint8_t)s[i]);
	return 2 * n;
}

static size_t put_av(uint8_t *out, enum ntlm_av_id id, const char *s)
{
	size_t n = put_name(out + 4, s, true);

	put16(out, (uint16_t)id);
	put16(out + 2, (uint16_t)n);
	return 4 + n;
}

size_t ntlm_msg_build_type2(uint32_t client_flags, const uint8_t challenge[8], uint64_t filetime,
                            const struct ntlm_names *names, uint8_t *out, size_t cap, uint32_t *flags)
{
	const uint32_t echoed = NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_ALWAYS_SIGN |
	                        NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56;
	uint32_t f = NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_TARGET_INFO | (client_flags & echoed);
	bool unicode = (client_flags & NTLM_NEGOTIATE_UNICODE) != 0;
	bool target = (client_flags & NTLM_REQUEST_TARGET) != 0;
	size_t need, at, tn, ti;

	f |= unicode ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM;
	if (target)
		f |= NTLM_REQUEST_TARGET | NTLM_TARGET_TYPE_DOMAIN;
	/* Worst case: every name in UTF-16, four AV pairs, timestamp, EOL. */
	need = T2_HEADER +
	       2 * (strlen(names->nb_domain) * 2 + strlen(names->nb_computer) + strlen(names->dns_domain) +
	            strlen(names->dns_computer)) +
	       5 * 4 + 12;
	if (need > cap || need > 0xffff)
		return 0;
	memset(out, 0, T2_HEADER);
	memcpy(out, signature, sizeof(signature));
	put32(out + 8, 2);
	put32(out + 20, f);
	memcpy(out + 24, challenge, 8);
	/* Version (48..55) stays zero: NTLMSSP_NEGOTIATE_VERSION is not set. */
	at = T2_HEADER;
	tn = target ? put_name(out + at, names->nb_domain, unicode) : 0;
	put16(out + 12, (uint16_t)tn);
	put16(out + 14, (uint16_t)tn);
	put32(out + 16, (uint32_t)at);
	at += tn;

	ti = at;
	at += put_av(out + at, NTLM_AV_NB_DOMAIN, names->nb_domain);
	at += put_av(out + at, NTLM_AV_NB_COMPUTER, names->nb_computer);
	at += put_av(out + at, NTLM_AV_DNS_DOMAIN, names->dns_domain);
	at += put_av(out + at, NTLM_AV_DNS_COMPUTER, names->dns_computer);
	put16(out + at, NTLM_AV_TIMESTAMP);
	put16(out + at + 2, 8);
	put32(out + at + 4, (uint32_t)filetime);
	put32(out + at + 8, (uint32_t)(filetime >> 32));
	at += 12;
	put32(out + at, 0); /* MsvAvEOL */
	at += 4;
	put16(out + 40, (uint16_t)(at - ti));
	put16(out + 42, (uint16_t)(at - ti));
	put32(out + 44, (uint32_t)ti);
	*flags = f;
	return at;
}

/* ---- the client's side (pinhole authenticating to a parent proxy) ---- */

size_t ntlm_msg_build_type1(uint8_t *out, size_t cap)
{
	const uint32_t flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM |
	                       NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |
	                       NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56;

	if (cap < T1_HEADER)
		return 0;
	memset(out, 0, T1_HEADER);
	memcpy(out, signature, sizeof(signature));
	put32(out + 8, 1);
	put32(out + 12, flags);
	/* No domain, no workstation: empty fields pointing past the header. */
	put32(out + 20, T1_HEADER);
	put32(out + 28, T1_HEADER);
	return T1_HEADER;
}

int ntlm_msg_parse_type2(const uint8_t *m, size_t len, struct ntlm_type2 *t2, const char **why)
{
	size_t header;

	memset(t2, 0, sizeof(*t2));
	if (len > NTLM_MSG_MAX) {
		*why = "larger than 4096 bytes";
		return -1;
	}
	if (len < 12 || memcmp(m, signature, sizeof(signature)) != 0) {
		*why = "no NTLMSSP signature";
		return -1;
	}
	if (le32(m + 8) != 2) {
		*why = "expected a Type 2 message";
		return -1;
	}
	if (len < 32) {
		*why = "Type 2 truncated in its header";
		return -1;
	}
	/* Servers from before NTLMv2 stop after the reserved bytes. */
	header = len >= 48 ? 48 : 32;
	if (field(m, len, 12, header, &t2->target_name) < 0) {
		*why = "the target name lies outside the message";
		return -1;
	}
	t2->flags = le32(m + 20);
	memcpy(t2->challenge, m + 24, 8);
	if (header == 48 && field(m, len, 40, header, &t2->target_info) < 0) {
		*why = "the target information lies outside the message";
		return -1;
	}
	/* The AV pairs, each inside the field, up to MsvAvEOL. */
	for (size_t at = 0; at < t2->target_info.len;) {
		const uint8_t *av = t2->target_info.p + at;
		size_t left = t2->target_info.len - at, n;

		if (left < 4) {
			*why = "the target information ends inside an AV pair";
			return -1;
		}
		n = le16(av + 2);
		if (n > left - 4) {
			*why = "an AV pair of the target information is longer than the field";
			return -1;
		}
		if (le16(av) == NTLM_AV_EOL)
			break;
		if (le16(av) == NTLM_AV_TIMESTAMP) {
			if (n != 8) {
				*why = "the target information's timestamp is not 8 bytes long";
				return -1;
			}
			t2->has_timestamp = true;
			t2->timestamp = (uint64_t)le32(av + 4) | (uint64_t)le32(av + 8) << 32;
		}
		at += 4 + n;
	}
	return 0;
}

size_t ntlm_msg_build_type3(const struct ntlm_type3 *t3, uint8_t *out, size_t cap)
{
	const struct ntlm_field *fields[] = { &t3->lm,   &t3->nt,          &t3->domain,
		                              &t3->user, &t3->workstation, &t3->session_key };
	size_t at = T3_HEADER;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i]->len > 0xffff || fields[i]->len > cap)
			return 0;
		at += fields[i]->len;
	}
	if (at > cap || at > NTLM_MSG_MAX)
		return 0;
	memset(out, 0, T3_HEADER);
	memcpy(out, signature, sizeof(signature));
	put32(out + 8, 3);
	at = T3_HEADER;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = fields[i]->len;

		put16(out + 12 + 8 * i, (uint16_t)n);
		put16(out + 14 + 8 * i, (uint16_t)n);
		put32(out + 16 + 8 * i, (uint32_t)at);
		if (n)
			memcpy(out + at, fields[i]->p, n);
		at += n;
	}
	put32(out + 60, t3->flags);
	return at;
}

/* ---- strings ---- */

/* Decodes one code point of strict UTF-8 (no overlong forms, surrogates or
 * values past U+10FFFF); -1 at an invalid sequence. */
static int utf8_next(const uint8_t *s, size_t len, size_t *i, uint32_t *cp)
{
	uint8_t c = s[*i];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, v = c & 0x07, min = 0x10000;
	else
		return -1;
	if (len - *i <= n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		v = v << 6 | (s[*i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	*i += n + 1;
	return 0;
}

/* Encodes cp as UTF-8 at out + *o if it fits (keeping room for a NUL). */
static int utf8_put(char *out, size_t cap, size_t *o, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (cap - *o <= n)
		return -1;
	memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

int ntlm_msg_string_utf8(const struct ntlm_field *f, bool unicode, char *out, size_t cap, const char **why)
{
	size_t i = 0, o = 0;

	if (cap == 0) {
		*why = "is too long";
		return -1;
	}
	while (i < f->len) {
		uint32_t cp;

		if (unicode) {
			cp = le16(f->p + i);
			i += 2;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				*why = "is not valid UTF-16";
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = i + 2 <= f->len ? le16(f->p + i) : 0;

				if (lo < 0xdc00 || lo > 0xdfff) {
					*why = "is not valid UTF-16";
					return -1;
				}
				i += 2;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
		} else if (utf8_next(f->p, f->len, &i, &cp) < 0) {
			*why = "is neither ASCII nor UTF-8";
			return -1;
		}
		if (cp < 0x20 || cp == 0x7f) {
			*why = "contains a control character";
			return -1;
		}
		if (utf8_put(out, cap, &o, cp) < 0) {
			*why = "is too long";
			return -1;
		}
	}
	out[o] = '\0';
	return 0;
}

uint32_t ntlm_msg_upcase(uint32_t c)
{
	if (c < 0x80)
		return c >= 'a' && c <= 'z' ? c - 32 : c;
	if (c == 0xb5)
		return 0x39c;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 32;
	if (c == 0xff)
		return 0x178;
	if (c == 0x131)
		return 'I';
	if (c == 0x17f)
		return 'S';
	if (((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) && (c & 1))
		return c - 1;
	if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && !(c & 1))
		return c - 1;
	if (c == 0x3ac)
		return 0x386;
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37;
	if (c == 0x3c2)
		return 0x3a3;
	if (c >= 0x3b1 && c <= 0x3cb)
		return c - 32;
	if (c == 0x3cc)
		return 0x38c;
	if (c == 0x3cd || c == 0x3ce)
		return c - 63;
	if (c >= 0x430 && c <= 0x44f)
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	return c;
}

size_t ntlm_msg_v2_identity(const struct ntlm_type3 *t3, uint8_t *out, size_t cap)
{
	const struct ntlm_field *u = &t3->user, *d = &t3->domain;
	size_t o = 0;

	if (t3->unicode) {
		if (u->len + d->len > cap)
			return 0;
		/* Surrogate halves map to themselves. */
		for (size_t i = 0; i < u->len; i += 2, o += 2)
			put16(out + o, (uint16_t)ntlm_msg_upcase(le16(u->p + i)));
		if (d->len)
			memcpy(out + o, d->p, d->len);
		return o + d->len;
	}
	/* OEM strings (curl, libntlm) are widened byte by byte and only
	 * ASCII letters upper-cased: what those clients do themselves. */
	if (2 * (u->len + d->len) > cap)
		return 0;
	for (size_t i = 0; i < u->len; i++, o += 2)
		put16(out + o, (uint16_t)(u->p[i] >= 'a' && u->p[i] <= 'z' ? u->p[i] - 32 : u->p[i]));
	for (size_t i = 0; i < d->len; i++, o += 2)
		put16(out + o, d->p[i]);
	return o;
}

long ntlm_msg_utf8_to_utf16(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp;

		if (utf8_next(s, len, &i, &cp) < 0)
			return -1;
		if (cp >= 0x10000) {
			if (cap - o < 4)
				return -1;
			cp -= 0x10000;
			put16(out + o, (uint16_t)(0xd800 | cp >> 10));
			put16(out + o + 2, (uint16_t)(0xdc00 | (cp & 0x3ff)));
			o += 4;
		} else {
			if (cap - o < 2)
				return -1;
			put16(out + o, (uint16_t)cp);
			o += 2;
		}
	}
	return (long)o;
}

int ntlm_msg_fold_utf8(const char *in, char *out, size_t cap)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t len = strlen(in), i = 0, o = 0;

	if (cap == 0)
		return -1;
	while (i < len) {
		uint32_t cp;

		if (utf8_next(s, len, &i, &cp) < 0 || utf8_put(out, cap, &o, ntlm_msg_upcase(cp)) < 0)
			return -1;
	}
	out[o] = '\0';
	return 0;
}
