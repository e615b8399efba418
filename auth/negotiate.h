/*
 * negotiate.h - what auth/negotiate.c exports besides auth_negotiate_ops:
 * the reader of a Kerberos ticket's service name, kept separate so that the
 * unit test and the fuzzer reach it without a KDC, and the wording of
 * GSSAPI failures.
 */
#ifndef PINHOLE_AUTH_NEGOTIATE_H
#define PINHOLE_AUTH_NEGOTIATE_H

#include <stddef.h>

#include <gssapi/gssapi.h>

/* The service principal a client's Kerberos ticket is for, read from the
 * clear-text part of the AP-REQ in tok (a SPNEGO NegTokenInit or
 * NegTokenResp, or a raw Kerberos GSS-API token), nothing decrypted.
 * Writes "HTTP/proxy.example.com@EXAMPLE.COM" (a '/', '@' or '\' inside a
 * component escaped with '\') into out and returns its length, or -1 when
 * tok holds no well-formed AP-REQ, a name has bytes outside printable ASCII,
 * or the name does not fit in cap bytes with its NUL. */
int negotiate_ticket_sname(const unsigned char *tok, size_t len, char *out, size_t cap);

/* What GSSAPI says about a failure, for an admin: the mechanism's words
 * first, then the generic ones (client.c's initiator says it too). */
void negotiate_status(OM_uint32 major, OM_uint32 minor, char *out, size_t cap);

#endif
