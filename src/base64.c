/*
 * base64.c - standard base64 (RFC 4648 4), strict on the way in (base64.h).
 */
#include "base64.h"

#include <stdint.h>

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t o = 0;

	/* Trailing whitespace is tolerated, nothing else. */
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -1; /* data after padding */
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		uint32_t n = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t take = (size_t)(3 - pad);

		/* RFC 4648 3.5: the bits padding leaves over are zero in the one
		 * encoding of these bytes; another spelling of them is refused. */
		if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
			return -1;

		if (o + take > cap)
			return -1;
		out[o++] = (unsigned char)(n >> 16);
		if (take > 1)
			out[o++] = (unsigned char)(n >> 8);
		if (take > 2)
			out[o++] = (unsigned char)n;
	}
	return (long)o;
}

size_t base64_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	if (cap < (len + 2) / 3 * 4 + 1)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			n |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			n |= in[i + 2];
		out[o++] = tab[n >> 18 & 63];
		out[o++] = tab[n >> 12 & 63];
		out[o++] = i + 1 < len ? tab[n >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tab[n & 63] : '=';
	}
	out[o] = '\0';
	return o;
}
