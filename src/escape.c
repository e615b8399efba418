/*
 * escape.c - JSON, HTML and log-text escaping (escape.h).
 */
#include "escape.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

size_t esc_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

bool esc_invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x2066 && cp <= 0x2069);
}

size_t esc_json(char *dst, size_t cap, const char *s, size_t len, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp;
		size_t l = esc_utf8_len(p + i, len - i, &cp);
		char esc[8];
		const char *out;
		size_t olen;

		if (l == 0) {
			out = "\\ufffd", olen = 6, l = 1;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp;
			out = esc, olen = 2;
		} else if (esc_invisible(cp)) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			out = esc, olen = 6;
		} else {
			out = (const char *)p + i, olen = l;
		}
		if (olen > cap - o)
			break;
		memcpy(dst + o, out, olen);
		o += olen;
		i += l;
	}
	if (used)
		*used = i;
	return o;
}

void esc_json_str(struct strbuf *b, const char *s)
{
	size_t len, done = 0;

	if (!s) {
		strbuf_puts(b, "null");
		return;
	}
	len = strlen(s);
	strbuf_add(b, "\"", 1);
	while (done < len) {
		size_t used, room = 6 * (len - done);

		strbuf_reserve(b, room);
		b->len += esc_json(b->p + b->len, room, s + done, len - done, &used);
		b->p[b->len] = '\0';
		done += used;
	}
	strbuf_add(b, "\"", 1);
}

void esc_html(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	while (n > 0) {
		uint32_t cp;
		size_t l = esc_utf8_len(p, n, &cp);

		if (l == 0) {
			strbuf_puts(b, "&#xfffd;");
			l = 1;
		} else if (cp == '&') {
			strbuf_puts(b, "&amp;");
		} else if (cp == '<') {
			strbuf_puts(b, "&lt;");
		} else if (cp == '>') {
			strbuf_puts(b, "&gt;");
		} else if (cp == '"') {
			strbuf_puts(b, "&quot;");
		} else if (cp == '\'') {
			strbuf_puts(b, "&#39;");
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f) {
			strbuf_puts(b, "&#xfffd;");
		} else {
			strbuf_add(b, (const char *)p, l);
		}
		p += l;
		n -= l;
	}
}

size_t esc_printable(char *dst, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\', dst[o++] = 'x';
			dst[o++] = hex[c >> 4], dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return o;
}
