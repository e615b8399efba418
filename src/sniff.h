/*
 * sniff.h - what a client speaks inside a CONNECT tunnel, told from its first
 * bytes (a TLS ClientHello, a STUN/TURN request, plain HTTP, or something
 * else).  The bytes are only looked at, never consumed: the caller peeks or
 * keeps them in its buffer and relays them unchanged afterwards.  What to do
 * with the answer (report it, close a non-TLS tunnel) is decided in conn.c.
 */
#ifndef PINHOLE_SNIFF_H
#define PINHOLE_SNIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The most bytes sniff() ever asks for: with this many, the answer is never
 * SNIFF_NEED_MORE.  A ClientHello that does not fit is SNIFF_OTHER. */
#define SNIFF_MAX_LEN 16384

enum sniff_kind {
	SNIFF_NEED_MORE, /* a valid beginning of something; wait for more bytes */
	SNIFF_TLS,
	SNIFF_STUN,
	SNIFF_HTTP,
	SNIFF_OTHER,
};

struct sniff_result {
	enum sniff_kind kind;
	/* From record_version to alpn: SNIFF_TLS only, zero otherwise. */
	uint16_t record_version;        /* TLS record layer version (first record) */
	uint16_t client_version;        /* ClientHello legacy_version */
	bool has_supported_versions_13; /* supported_versions lists TLS 1.3 */
	char sni[256];                  /* server_name host_name, lower-cased; "" if none */
	char alpn[64];                  /* ALPN protocols joined by ',', e.g. "h2,http/1.1" */
	uint16_t stun_type;             /* SNIFF_STUN: message type (0x0001 Binding request, 0x0003 Allocate) */
	const char *why;                /* SNIFF_OTHER after a malformed TLS or STUN header: what was wrong */
};

/* Classifies buf[0..len), the first bytes of a tunnel.  The result is also
 * stored in out->kind.  A prefix of bytes whose answer is not
 * SNIFF_NEED_MORE never gets a different answer once more bytes follow.
 *
 * TLS is a ClientHello in handshake records (record version 0x0301 to
 * 0x0304), checked length by length, possibly spread over several records;
 * it must end where its last record ends.  The sni is a host name of
 * letters, digits, '-', '_' and dots; a server_name that is not one makes
 * the whole hello malformed.  ALPN names that are not printable, contain a
 * comma, or no longer fit are left out of alpn; the list itself is still
 * checked.  STUN is an RFC 8489 header (top bits 00, length a multiple of 4,
 * magic cookie).  HTTP is a request line starting with GET, POST, HEAD, PUT,
 * OPTIONS, CONNECT, DELETE or PATCH, or the HTTP/2 connection preface. */
enum sniff_kind sniff(const unsigned char *buf, size_t len, struct sniff_result *out);

/* "tls", "stun", "http", "other"; "incomplete" for SNIFF_NEED_MORE (a caller
 * that gave up waiting reports such bytes as "other"). */
const char *sniff_kind_name(enum sniff_kind k);

#endif
