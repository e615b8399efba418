/*
 * proxyproto.h - HAProxy PROXY protocol v1 (text) and v2 (binary) headers,
 * received on listeners marked `proxy-protocol`, so that the client address
 * behind a load balancer is the one that policy and logs see.
 */
#ifndef PINHOLE_PROXYPROTO_H
#define PINHOLE_PROXYPROTO_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/socket.h>

struct proxyproto_result {
	bool has_addr; /* false for v1 UNKNOWN and v2 LOCAL/UNSPEC: keep the socket's */
	struct sockaddr_storage src;
	struct sockaddr_storage dst;
	int version; /* 1 or 2 */
};

/* Longest header accepted: v1 is at most 107 bytes; v2 is 16 + a length
 * field, bounded here (TLVs are skipped). */
#define PROXYPROTO_MAX_LEN (16 + 2048)

/* Returns > 0 the header's length (bytes to drop from the stream), 0 when
 * more bytes are needed, -1 when the bytes are not a valid PROXY header
 * (*why says what is wrong: "no PROXY protocol header", "malformed PROXY v1
 * address", ...). */
int proxyproto_parse(const void *buf, size_t len, struct proxyproto_result *out, const char **why);
/* Whether buf starts like a PROXY header of either version (enough to tell
 * a header from a request, not to trust it). */
bool proxyproto_looks_like(const void *buf, size_t len);

#endif
