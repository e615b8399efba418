/*
 * http.h - HTTP/1.x message heads and body framing, parsed strictly from
 * untrusted bytes.  No allocation: parsed fields point into the caller's
 * buffer.  What to do with a message (forward, tunnel, refuse) is decided in
 * conn.c and forward.c; this module only says what the bytes mean.
 */
#ifndef PINHOLE_HTTP_H
#define PINHOLE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HTTP_MAX_HEADERS 128

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading/trailing whitespace trimmed */
	size_t value_len;
};

struct http_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int version_minor; /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	size_t head_len; /* bytes up to and including the empty line */
};

struct http_response {
	int status;
	int version_minor;
	const char *reason;
	size_t reason_len;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	size_t head_len;
};

/* Step results (common.h): PH_OK the head is complete (head_len bytes),
 * PH_AGAIN more bytes are needed, PH_ERROR the head is refused: *status is
 * the HTTP status to answer with (400 malformed, 431 too large or too many
 * fields, 505 unsupported version; 502 for a response) and *why a static
 * sentence naming the cause.  max_head bounds the head size: a head that
 * is not complete within max_head bytes is refused with 431. */
int http_parse_request(const char *buf, size_t len, size_t max_head, struct http_request *req, int *status,
                       const char **why);
int http_parse_response(const char *buf, size_t len, size_t max_head, struct http_response *resp, int *status,
                        const char **why);

/* The first header with this name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_header *h, size_t n, const char *name);
/* Whether a comma-separated header value lists token (case-insensitive). */
bool http_value_has_token(const char *value, size_t len, const char *token);
/* Whether any header called name lists token. */
bool http_headers_have_token(const struct http_header *h, size_t n, const char *name, const char *token);
/* The same with a token that is not NUL-terminated, e.g. a field name inside
 * the message: whether "Connection" lists it (RFC 9110 7.6.1). */
bool http_headers_have_token_len(const struct http_header *h, size_t n, const char *name, const char *token,
                                 size_t token_len);

/* Whether a header called name (Authorization, WWW-Authenticate) carries
 * a connection-based scheme, NTLM or Negotiate (RFC 4559): the connection it
 * travels on is authenticated, not the request. */
bool http_auth_connection_based(const struct http_header *h, size_t n, const char *name);

/* How a message body is delimited. */
enum http_body_kind {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH, /* Content-Length: length bytes */
	HTTP_BODY_CHUNKED,
	HTTP_BODY_CLOSE, /* until the sender closes (responses only) */
};

struct http_framing {
	enum http_body_kind kind;
	uint64_t length;
};

/* Framing of a request body (RFC 9112 section 6): PH_OK, or PH_ERROR (a
 * 400) with *why for: Content-Length together with Transfer-Encoding, more than one
 * Content-Length header or value, a malformed Content-Length, a
 * Transfer-Encoding whose final coding is not chunked, a Connection header
 * naming Content-Length, Transfer-Encoding or Host (they are never
 * hop-by-hop: removing them would let the next hop read the body
 * differently), or naming Upgrade without an Upgrade header. */
int http_request_framing(const struct http_request *req, struct http_framing *f, const char **why);
/* RFC 9112 3.2: a request with more than one Host header line, or a Host
 * value that is a list, is refused (PH_ERROR, a 400, with *why): hops that
 * picked different ones would route it differently.  PH_OK otherwise. */
int http_request_check_host(const struct http_request *req, const char **why);
/* Framing of a response body, given the request method and status: HEAD,
 * 1xx, 204 and 304 have none; CONNECT 2xx has none.  Refuses (PH_ERROR, a
 * 502) the same
 * ambiguities as requests (the Connection check also for bodiless ones),
 * since forwarding them would desynchronise. */
int http_response_framing(const struct http_response *resp, bool head_request, struct http_framing *f,
                          const char **why);

/* Streaming chunked-body scanner: follows chunk-size lines, data, and the
 * trailer section without copying, so a relay can forward bytes unchanged
 * and learn where the body ends.  Only chunk-size lines and trailers are
 * looked at byte by byte; chunk data is skipped by count. */
struct http_chunked {
	int state;
	uint64_t remaining; /* bytes of chunk data still to skip */
	uint32_t line_len;  /* length of the current size/trailer line */
	uint32_t trailer_bytes;
	bool saw_digit;
	uint8_t ext; /* where in a chunk extension */
};
void http_chunked_init(struct http_chunked *c);
/* Scans buf[0..len).  Returns PH_OK when the body ended (*used = bytes that
 * belong to the body, the rest is the next message), PH_AGAIN when all of
 * buf belongs to the body (*used = len), PH_ERROR with *why on a bad chunk
 * size, an overlong size line (> 4096), or trailers larger than 64 KiB. */
int http_chunked_scan(struct http_chunked *c, const char *buf, size_t len, size_t *used, const char **why);

/* The ALPN header of a CONNECT (RFC 7639): the protocols the client will
 * speak inside the tunnel, a comma-separated list of tokens with
 * percent-encoded octets.  Decodes one header value into out (empty list
 * elements are skipped, as RFC 9110 5.6.1 asks): PH_OK, or PH_ERROR with
 * *why when an element is not a token, a '%' is not followed by two hex
 * digits, or the list has more than HTTP_ALPN_MAX ids. */
#define HTTP_ALPN_MAX 8
struct http_alpn {
	size_t n;
	struct {
		unsigned char id[255]; /* ALPN ids are 1 to 255 octets (RFC 7301) */
		size_t len;
	} ids[HTTP_ALPN_MAX];
};
int http_alpn_parse(const char *value, size_t len, struct http_alpn *out, const char **why);
/* Whether one of the request's ALPN headers names the protocol id (octets
 * compared exactly); a malformed header names nothing. */
bool http_alpn_names(const struct http_header *h, size_t n, const char *id);

/* host[:port] authority (CONNECT targets, Host headers).  host is copied
 * lower-case into out->host, without IPv6 brackets and trailing dot.
 * is_ip tells an IP literal.  PH_OK, or PH_ERROR with *why. */
#define HTTP_HOST_MAX 256
struct http_authority {
	char host[HTTP_HOST_MAX];
	uint16_t port; /* 0 when absent */
	bool is_ip;
	bool is_ipv6;
};
int http_parse_authority(const char *s, size_t len, bool port_required, struct http_authority *out, const char **why);

/* Absolute-form target "http://host[:port]/path?query".  path points into
 * the target ("/" when empty: path_len 1 and path a static "/").  Only the
 * http scheme is accepted; "https://" targets get -1 with a why saying to
 * use CONNECT.  Userinfo ("user@host") is refused. */
struct http_uri {
	struct http_authority authority;
	const char *path;
	size_t path_len;
};
int http_parse_absolute_uri(const char *target, size_t len, struct http_uri *out, const char **why);

/* Whether a header is hop-by-hop (RFC 9110 7.6.1) and must not be forwarded:
 * Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
 * Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade. */
bool http_is_hop_by_hop(const char *name, size_t len);

/* The reason phrase of a status code pinhole sends ("Forbidden"...). */
const char *http_reason(int status);

#endif
