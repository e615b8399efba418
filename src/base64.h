/*
 * base64.h - standard base64 (RFC 4648 4): proxy credentials, NTLM and
 * Negotiate tokens, helper replies, the WebSocket handshake.
 */
#ifndef PINHOLE_BASE64_H
#define PINHOLE_BASE64_H

#include <stddef.h>

/* Decodes strictly: only the canonical encoding of some bytes (padding
 * bits zero; trailing spaces and tabs tolerated), so that two spellings
 * never pass for one credential.  Returns the decoded length, or -1 on
 * malformed input or when cap is too small. */
long base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);
/* Encodes len bytes into out with a NUL; returns the length, or 0 when cap
 * is too small ((len + 2) / 3 * 4 + 1 is enough). */
size_t base64_encode(const unsigned char *in, size_t len, char *out, size_t cap);

#endif
