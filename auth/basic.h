/*
 * basic.h - what basic.c exposes beyond auth_basic_ops: the decoding of a
 * Basic credential into user-id and password (for the fuzzer and the
 * tests).
 */
#ifndef PINHOLE_BASIC_H
#define PINHOLE_BASIC_H

#include <stddef.h>

/* Longest Proxy-Authorization value after "Basic " (base64 characters). */
#define BASIC_MAX_CRED 4096

/* Decodes cred[0..len) (the base64 after "Basic ") into dec (cap bytes) and
 * splits "user-id:password" at the first colon (RFC 7617 section 2).
 * Returns the decoded length n with *user_len: the user-id is
 * dec[0..*user_len), the password dec[*user_len + 1..n).  -1 when cred is
 * longer than BASIC_MAX_CRED, not base64, or has no colon or a NUL in the
 * user-id. */
long basic_parse(const char *cred, size_t len, unsigned char *dec, size_t cap, size_t *user_len);

#endif
