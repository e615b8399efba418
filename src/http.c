/*
 * http.c - strict HTTP/1.x parsing of untrusted bytes (RFC 9112): request and
 * status lines, header fields, body framing, chunked bodies scanned in place,
 * authorities and absolute-form URIs.  Nothing here allocates or decides
 * policy; conn.c and forward.c act on what these functions report.
 */
#include "http.h"

#include "common.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#define HTTP_STR_(x) #x
#define HTTP_STR(x) HTTP_STR_(x)

/* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the
 * request-line (old clients append CRLF after a POST body).  A few are
 * tolerated; a stream of them is not a request. */
#define HTTP_MAX_LEADING_EMPTY 8

/* RFC 9112 7.1: bounds on what a chunked body may make us scan. */
#define CHUNK_LINE_MAX 4096
#define CHUNK_TRAILER_MAX (64 * 1024)
#define CHUNK_SIZE_DIGITS 16

/* ---- character classes (RFC 9110 5.6.2, 5.5) ---- */

static bool is_tchar(char ch)
{
	unsigned char c = (unsigned char)ch;

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Visible ASCII: what a request-target may contain. */
static bool is_vchar(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c > 0x20 && c < 0x7f;
}

/* field-vchar / SP / HTAB: what a field value or reason phrase may contain
 * (obs-text, bytes >= 0x80, is passed through as RFC 9110 5.5 allows). */
static bool is_field_char(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* ---- message heads ---- */

/* Offset just past the empty line that ends a head, looking in
 * buf[from..len), or 0 when it has not arrived yet.  from must be the start
 * of a non-empty line.  A line ends with LF (RFC 9112 2.2 lets a recipient
 * accept a bare LF); memchr keeps the repeated calls on a growing buffer
 * cheap. */
static size_t head_end(const char *buf, size_t len, size_t from)
{
	const char *p = buf + from, *end = buf + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		if (!lf)
			return 0;
		p = lf + 1;
		if (p < end && p[0] == '\n')
			return (size_t)(p + 1 - buf);
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p + 2 - buf);
	}
	return 0;
}

/* Skips the empty lines a client may send before a request-line.  Returns
 * 1 with *pos at the first byte of the request-line, 0 when only empty lines
 * (or a trailing CR) have arrived, or -400. */
static int skip_empty_lines(const char *buf, size_t len, size_t *pos, const char **why)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		if (buf[i] == '\n') {
			i++;
		} else if (buf[i] == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n') {
				*why = "bare CR (not followed by LF) before the request line";
				return -400;
			}
			i += 2;
		} else {
			break;
		}
		if (++n > HTTP_MAX_LEADING_EMPTY) {
			*why = "too many empty lines before the request line";
			return -400;
		}
	}
	*pos = i;
	return i < len ? 1 : 0;
}

/* The line at buf[from..end): *content_end excludes the CRLF or LF, and the
 * return value is the offset of the next line. */
static size_t next_line(const char *buf, size_t from, size_t end, size_t *content_end)
{
	const char *lf = memchr(buf + from, '\n', end - from);
	size_t eol = lf ? (size_t)(lf - buf) : end;
	size_t ce = eol;

	if (ce > from && buf[ce - 1] == '\r')
		ce--;
	*content_end = ce;
	return lf ? eol + 1 : end;
}

/* Matches "HTTP/d.d" at p[0..n).  complete says whether p ends where the
 * version must end.  Returns 1 with the digits in *major and *minor, 0 for
 * a valid prefix of an incomplete line, -1 malformed. */
static int parse_version(const char *p, size_t n, bool complete, int *major, int *minor)
{
	static const char pattern[] = "HTTP/d.d";

	for (size_t k = 0; k < 8; k++) {
		if (k == n)
			return complete ? -1 : 0;
		if (pattern[k] == 'd' ? !is_digit(p[k]) : p[k] != pattern[k])
			return -1;
	}
	*major = p[5] - '0';
	*minor = p[7] - '0';
	return 1;
}

/* RFC 9112 3: method SP request-target SP HTTP-version.  p[0..n) is the line
 * without its CRLF when complete, else everything received so far (so that
 * garbage is refused at once instead of after max_head bytes).  Returns 1
 * when parsed, 0 for a valid prefix, or -status. */
static int parse_request_line(const char *p, size_t n, bool complete, struct http_request *req, const char **why)
{
	size_t i = 0, start;
	int major, minor, rc;

	if (!complete && n > 0 && p[n - 1] == '\r')
		n--; /* may be the CR of the CRLF still on its way */
	if (n > 0 && p[0] == 0x16) {
		*why = "TLS handshake received where an HTTP request was expected "
		       "(is the client set up for an https:// proxy?)";
		return -400;
	}
	while (i < n && is_tchar(p[i]))
		i++;
	if (i == n && !complete)
		return 0;
	if (i == 0 || i == n || p[i] != ' ') {
		*why = "malformed request line (expected METHOD target HTTP/1.1)";
		return -400;
	}
	req->method = p;
	req->method_len = i;

	start = ++i;
	while (i < n && is_vchar(p[i]))
		i++;
	if (i == n && !complete)
		return 0;
	if (i == n || (p[i] == ' ' && i == start)) {
		*why = "malformed request line (expected METHOD target HTTP/1.1)";
		return -400;
	}
	if (p[i] != ' ') {
		*why = "invalid character in request target";
		return -400;
	}
	req->target = p + start;
	req->target_len = i - start;

	start = ++i;
	rc = parse_version(p + start, n - start, complete, &major, &minor);
	if (rc == 0)
		return 0;
	if (rc < 0 || n - start > 8) {
		if (rc > 0 && p[start + 8] == '\r')
			*why = "bare CR (not followed by LF) in request line";
		else
			*why = "malformed HTTP version in request line";
		return -400;
	}
	if (!complete)
		return 0;
	if (major != 1 || minor > 1) {
		*why = "HTTP version not supported (only HTTP/1.0 and HTTP/1.1)";
		return -505;
	}
	req->version_minor = minor;
	return 1;
}

/* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason-phrase].  A missing SP after
 * the status code is tolerated (some servers send "HTTP/1.1 200").  Same
 * contract as parse_request_line; errors are -502. */
static int parse_status_line(const char *p, size_t n, bool complete, struct http_response *resp, const char **why)
{
	int major, minor, rc, status = 0;
	size_t i;

	if (!complete && n > 0 && p[n - 1] == '\r')
		n--;
	rc = parse_version(p, n, complete, &major, &minor);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		*why = "upstream sent a malformed status line (not an HTTP/1.x response)";
		return -502;
	}
	if (major != 1 || minor > 1) {
		*why = "upstream answered with an unsupported HTTP version";
		return -502;
	}
	for (i = 8; i < 12; i++) {
		if (i == n) {
			if (!complete)
				return 0;
			break;
		}
		if (i == 8 ? p[i] != ' ' : !is_digit(p[i])) {
			*why = "upstream sent a malformed status line (bad status code)";
			return -502;
		}
		if (i > 8)
			status = status * 10 + (p[i] - '0');
	}
	if (i < 12 || status < 100) {
		*why = "upstream sent a malformed status line (bad status code)";
		return -502;
	}
	if (i < n && p[i] != ' ') {
		*why = "upstream sent a malformed status line (bad status code)";
		return -502;
	}
	for (size_t k = i; k < n; k++) {
		if (!is_field_char(p[k])) {
			*why = "upstream sent a control character in the status line";
			return -502;
		}
	}
	if (!complete)
		return 0;
	resp->status = status;
	resp->version_minor = minor;
	resp->reason = i < n ? p + i + 1 : p + n;
	resp->reason_len = i < n ? n - i - 1 : 0;
	return 1;
}

struct field_errors {
	int status;   /* to answer a malformed field with */
	int too_many; /* to answer too many fields with */
	const char *fold, *ws_colon, *no_colon, *bad_name, *bad_value, *count;
};

static const struct field_errors request_field_errors = {
	400,
	431,
	"obsolete line folding in header field (a line starting with whitespace)",
	"whitespace before colon in header field",
	"header field without a colon",
	"invalid character in header field name",
	"control character in header field value",
	"too many header fields (more than " HTTP_STR(HTTP_MAX_HEADERS) ")",
};

static const struct field_errors response_field_errors = {
	502,
	502,
	"upstream used obsolete line folding in a header field",
	"upstream sent whitespace before colon in a header field",
	"upstream sent a header field without a colon",
	"upstream sent an invalid character in a header field name",
	"upstream sent a control character in a header field value",
	"upstream sent too many header fields (more than " HTTP_STR(HTTP_MAX_HEADERS) ")",
};

/* RFC 9112 5: field-name ":" OWS field-value OWS, one per line, from `from`
 * up to the empty line that ends at `end`. */
static int parse_fields(const char *buf, size_t from, size_t end, struct http_header *h, size_t *nheaders,
                        const struct field_errors *e, const char **why)
{
	size_t pos = from, n = 0;

	while (pos < end) {
		size_t ce, next = next_line(buf, pos, end, &ce), i = pos, v, ve;

		if (ce == pos)
			break; /* the empty line: head_end found the first one */
		if (is_ows(buf[pos])) {
			*why = e->fold;
			return -e->status;
		}
		while (i < ce && is_tchar(buf[i]))
			i++;
		if (i < ce && is_ows(buf[i]) && i > pos) {
			size_t k = i;

			while (k < ce && is_ows(buf[k]))
				k++;
			*why = k < ce && buf[k] == ':' ? e->ws_colon : e->bad_name;
			return -e->status;
		}
		if (i == ce) {
			*why = e->no_colon;
			return -e->status;
		}
		if (buf[i] != ':' || i == pos) {
			*why = e->bad_name;
			return -e->status;
		}
		for (v = i + 1; v < ce; v++) {
			if (!is_field_char(buf[v])) {
				*why = e->bad_value;
				return -e->status;
			}
		}
		v = i + 1;
		while (v < ce && is_ows(buf[v]))
			v++;
		ve = ce;
		while (ve > v && is_ows(buf[ve - 1]))
			ve--;
		if (n == HTTP_MAX_HEADERS) {
			*why = e->count;
			return -e->too_many;
		}
		h[n].name = buf + pos;
		h[n].name_len = i - pos;
		h[n].value = buf + v;
		h[n].value_len = ve - v;
		n++;
		pos = next;
	}
	*nheaders = n;
	return 0;
}

/* Inside this file, the parsers answer as they always did: > 0 the head's
 * length, 0 more bytes needed, < 0 the status to refuse with; the public
 * functions turn that into step results. */
static int parse_request(const char *buf, size_t len, size_t max_head, struct http_request *req, const char **why)
{
	size_t pos = 0, end, ce, next;
	int rc;

	req->nheaders = 0;
	req->head_len = 0;
	rc = skip_empty_lines(buf, len, &pos, why);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		end = head_end(buf, PH_MIN(len, max_head), pos);
		if (end) {
			next = next_line(buf, pos, end, &ce);
			rc = parse_request_line(buf + pos, ce - pos, true, req, why);
			if (rc < 0)
				return rc;
			rc = parse_fields(buf, next, end, req->headers, &req->nheaders, &request_field_errors, why);
			if (rc < 0)
				return rc;
			if (end > INT_MAX) {
				*why = "request header exceeds max-header-size";
				return -431;
			}
			req->head_len = end;
			return (int)end;
		}
		/* Incomplete: refuse now what can never become a request. */
		next = next_line(buf, pos, len, &ce);
		if (next < len || (len > 0 && buf[len - 1] == '\n'))
			rc = parse_request_line(buf + pos, ce - pos, true, req, why);
		else
			rc = parse_request_line(buf + pos, len - pos, false, req, why);
		if (rc < 0)
			return rc;
	}
	if (len >= max_head) {
		*why = "request header exceeds max-header-size";
		return -431;
	}
	return 0;
}

static int parse_response(const char *buf, size_t len, size_t max_head, struct http_response *resp, const char **why)
{
	size_t end, ce, next;
	int rc;

	resp->nheaders = 0;
	resp->head_len = 0;
	if (len > 0 && (buf[0] == '\r' || buf[0] == '\n')) {
		*why = "upstream sent an empty line where a status line was expected";
		return -502;
	}
	end = head_end(buf, PH_MIN(len, max_head), 0);
	if (end) {
		next = next_line(buf, 0, end, &ce);
		rc = parse_status_line(buf, ce, true, resp, why);
		if (rc < 0)
			return rc;
		rc = parse_fields(buf, next, end, resp->headers, &resp->nheaders, &response_field_errors, why);
		if (rc < 0)
			return rc;
		if (end > INT_MAX) {
			*why = "upstream response header exceeds max-header-size";
			return -502;
		}
		resp->head_len = end;
		return (int)end;
	}
	next = next_line(buf, 0, len, &ce);
	if (len > 0 && (next < len || buf[len - 1] == '\n'))
		rc = parse_status_line(buf, ce, true, resp, why);
	else
		rc = parse_status_line(buf, len, false, resp, why);
	if (rc < 0)
		return rc;
	if (len >= max_head) {
		*why = "upstream response header exceeds max-header-size";
		return -502;
	}
	return 0;
}

static int step_result(int rc, int *status)
{
	if (rc < 0) {
		*status = -rc;
		return PH_ERROR;
	}
	return rc > 0 ? PH_OK : PH_AGAIN;
}

int http_parse_request(const char *buf, size_t len, size_t max_head, struct http_request *req, int *status,
                       const char **why)
{
	return step_result(parse_request(buf, len, max_head, req, why), status);
}

int http_parse_response(const char *buf, size_t len, size_t max_head, struct http_response *resp, int *status,
                        const char **why)
{
	return step_result(parse_response(buf, len, max_head, resp, why), status);
}

/* ---- header lookups ---- */

const struct http_header *http_find_header(const struct http_header *h, size_t n, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (ph_memcaseeq(h[i].name, h[i].name_len, name, nlen))
			return &h[i];
	return NULL;
}

/* Calls back each non-empty element of a comma-separated list (RFC 9110
 * 5.6.1: empty elements are ignored), OWS trimmed.  Stops when fn says so. */
static bool list_each(const char *v, size_t len, bool (*fn)(const char *el, size_t n, void *arg), void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (is_ows(v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (e > s && fn(v + s, e - s, arg))
			return true;
	}
	return false;
}

struct token {
	const char *s;
	size_t len;
};

static bool token_eq(const char *el, size_t n, void *arg)
{
	const struct token *t = arg;

	return ph_memcaseeq(el, n, t->s, t->len);
}

bool http_value_has_token(const char *value, size_t len, const char *token)
{
	struct token t = { token, strlen(token) };

	return list_each(value, len, token_eq, &t);
}

bool http_headers_have_token_len(const struct http_header *h, size_t n, const char *name, const char *token,
                                 size_t token_len)
{
	struct token t = { token, token_len };
	size_t nlen = strlen(name);

	if (token_len == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ph_memcaseeq(h[i].name, h[i].name_len, name, nlen) &&
		    list_each(h[i].value, h[i].value_len, token_eq, &t))
			return true;
	return false;
}

bool http_headers_have_token(const struct http_header *h, size_t n, const char *name, const char *token)
{
	return http_headers_have_token_len(h, n, name, token, strlen(token));
}

/* A challenge or credentials element starts with its scheme name. */
static bool scheme_is_connection_based(const char *el, size_t n, void *arg)
{
	size_t w = 0;

	PH_UNUSED(arg);
	while (w < n && el[w] != ' ' && el[w] != '\t')
		w++;
	return ph_memcaseeq(el, w, "NTLM", 4) || ph_memcaseeq(el, w, "Negotiate", 9);
}

bool http_auth_connection_based(const struct http_header *h, size_t n, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (ph_memcaseeq(h[i].name, h[i].name_len, name, nlen) &&
		    list_each(h[i].value, h[i].value_len, scheme_is_connection_based, NULL))
			return true;
	return false;
}

bool http_is_hop_by_hop(const char *name, size_t len)
{
	static const char *const hop[] = {
		"Connection",
		"Keep-Alive",
		"Proxy-Connection",
		"Proxy-Authenticate",
		"Proxy-Authorization",
		"TE",
		"Trailer",
		"Transfer-Encoding",
		"Upgrade",
	};

	for (size_t i = 0; i < PH_ARRAY_LEN(hop); i++)
		if (ph_memcaseeq(name, len, hop[i], strlen(hop[i])))
			return true;
	return false;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 421:
		return "Misdirected Request";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* ---- body framing (RFC 9112 6.3) ---- */

struct te_scan {
	const char *last; /* final transfer coding seen so far */
	size_t last_len;
	int chunked; /* how many times "chunked" was listed */
};

static bool te_element(const char *el, size_t n, void *arg)
{
	struct te_scan *t = arg;

	t->last = el;
	t->last_len = n;
	if (ph_memcaseeq(el, n, "chunked", 7))
		t->chunked++;
	return false;
}

struct framing_errors {
	int status;
	const char *both, *dup_cl, *bad_cl, *big_cl, *te_http10, *te_empty, *te_twice, *te_final, *conn_framing,
	        *conn_upgrade;
};

static const struct framing_errors request_framing_errors = {
	400,
	"both Content-Length and Transfer-Encoding (ambiguous framing)",
	"duplicate Content-Length (ambiguous framing)",
	"malformed Content-Length (must be a decimal number)",
	"Content-Length is too large",
	"Transfer-Encoding in an HTTP/1.0 request (ambiguous framing)",
	"empty Transfer-Encoding",
	"chunked listed more than once in Transfer-Encoding",
	"Transfer-Encoding without chunked as final coding",
	"Connection names a framing header (Content-Length, Transfer-Encoding or Host are never hop-by-hop)",
	"Connection names Upgrade but the request has no Upgrade header",
};

static const struct framing_errors response_framing_errors = {
	502,
	"upstream sent both Content-Length and Transfer-Encoding (ambiguous framing)",
	"upstream sent a duplicate Content-Length (ambiguous framing)",
	"upstream sent a malformed Content-Length",
	"upstream sent a Content-Length that is too large",
	"upstream sent Transfer-Encoding in an HTTP/1.0 response (ambiguous framing)",
	"upstream sent an empty Transfer-Encoding",
	"upstream listed chunked more than once in Transfer-Encoding",
	NULL, /* responses fall back to reading until close */
	"upstream's Connection header names a framing header (Content-Length, Transfer-Encoding or Host)",
	"upstream's Connection header names Upgrade but the response has no Upgrade header",
};

/* RFC 9110 7.6.1 lets a sender name any field in Connection, and a proxy
 * removes what it names; for the framing fields that would strip the length
 * a message was read by and let the next hop read it differently (request
 * smuggling).  Such a message is refused, as HAProxy and Envoy do. */
static bool names_framing(const char *el, size_t n, void *arg)
{
	PH_UNUSED(arg);
	return ph_memcaseeq(el, n, "Content-Length", 14) || ph_memcaseeq(el, n, "Transfer-Encoding", 17) ||
	       ph_memcaseeq(el, n, "Host", 4);
}

static int connection_check(const struct http_header *h, size_t n, const struct framing_errors *e, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (!ph_memcaseeq(h[i].name, h[i].name_len, "Connection", 10))
			continue;
		if (list_each(h[i].value, h[i].value_len, names_framing, NULL)) {
			*why = e->conn_framing;
			return -e->status;
		}
		if (http_value_has_token(h[i].value, h[i].value_len, "upgrade") && !http_find_header(h, n, "Upgrade")) {
			*why = e->conn_upgrade;
			return -e->status;
		}
	}
	return 0;
}

static int framing(const struct http_header *h, size_t n, int version_minor, bool is_request, struct http_framing *f,
                   const char **why)
{
	const struct framing_errors *e = is_request ? &request_framing_errors : &response_framing_errors;
	const struct http_header *cl = NULL;
	struct te_scan te = { NULL, 0, 0 };
	bool has_te = false;

	if (connection_check(h, n, e, why) < 0)
		return -e->status;
	for (size_t i = 0; i < n; i++) {
		if (ph_memcaseeq(h[i].name, h[i].name_len, "Content-Length", 14)) {
			if (cl) {
				*why = e->dup_cl;
				return -e->status;
			}
			cl = &h[i];
		} else if (ph_memcaseeq(h[i].name, h[i].name_len, "Transfer-Encoding", 17)) {
			has_te = true;
			list_each(h[i].value, h[i].value_len, te_element, &te);
		}
	}
	if (cl && has_te) {
		*why = e->both;
		return -e->status;
	}
	if (has_te) {
		/* RFC 9112 6.1: HTTP/1.0 has no chunked coding, so such a
		 * message's framing cannot be trusted. */
		if (version_minor == 0) {
			*why = e->te_http10;
			return -e->status;
		}
		if (!te.last) {
			*why = e->te_empty;
			return -e->status;
		}
		if (te.chunked > 1) {
			*why = e->te_twice;
			return -e->status;
		}
		if (ph_memcaseeq(te.last, te.last_len, "chunked", 7)) {
			f->kind = HTTP_BODY_CHUNKED;
			return 0;
		}
		if (is_request) {
			*why = e->te_final;
			return -e->status;
		}
		f->kind = HTTP_BODY_CLOSE;
		return 0;
	}
	if (cl) {
		uint64_t v = 0;

		if (memchr(cl->value, ',', cl->value_len)) {
			*why = e->dup_cl;
			return -e->status;
		}
		if (cl->value_len == 0) {
			*why = e->bad_cl;
			return -e->status;
		}
		for (size_t i = 0; i < cl->value_len; i++) {
			unsigned d;

			if (!is_digit(cl->value[i])) {
				*why = e->bad_cl;
				return -e->status;
			}
			d = (unsigned)(cl->value[i] - '0');
			if (v > (UINT64_MAX - d) / 10) {
				*why = e->big_cl;
				return -e->status;
			}
			v = v * 10 + d;
		}
		f->kind = HTTP_BODY_LENGTH;
		f->length = v;
		return 0;
	}
	f->kind = is_request ? HTTP_BODY_NONE : HTTP_BODY_CLOSE;
	return 0;
}

int http_request_check_host(const struct http_request *req, const char **why)
{
	const struct http_header *host = NULL;

	for (size_t i = 0; i < req->nheaders; i++) {
		if (!ph_memcaseeq(req->headers[i].name, req->headers[i].name_len, "Host", 4))
			continue;
		if (host || memchr(req->headers[i].value, ',', req->headers[i].value_len)) {
			*why = "more than one Host header (RFC 9112 3.2)";
			return PH_ERROR;
		}
		host = &req->headers[i];
	}
	return PH_OK;
}

/* A request body is Content-Length bytes, chunked, or absent; "Content-Length:
 * 0" gives HTTP_BODY_LENGTH with length 0. */
int http_request_framing(const struct http_request *req, struct http_framing *f, const char **why)
{
	f->kind = HTTP_BODY_NONE;
	f->length = 0;
	return framing(req->headers, req->nheaders, req->version_minor, true, f, why) < 0 ? PH_ERROR : PH_OK;
}

/* The caller handles CONNECT: a 2xx answer to CONNECT has no body either. */
int http_response_framing(const struct http_response *resp, bool head_request, struct http_framing *f, const char **why)
{
	f->kind = HTTP_BODY_NONE;
	f->length = 0;
	int rc;

	if (head_request || resp->status < 200 || resp->status == 204 || resp->status == 304)
		rc = connection_check(resp->headers, resp->nheaders, &response_framing_errors, why);
	else
		rc = framing(resp->headers, resp->nheaders, resp->version_minor, false, f, why);
	return rc < 0 ? PH_ERROR : PH_OK;
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

enum {
	CH_SIZE,    /* chunk-size hex digits */
	CH_SIZE_WS, /* BWS after the size: only ';' may follow */
	CH_EXT,     /* chunk extensions, skipped to the line end */
	CH_SIZE_LF, /* CR seen, LF must follow */
	CH_DATA,
	CH_DATA_CR, /* data done, CRLF must follow */
	CH_DATA_LF,
	CH_TRAILER, /* at the start of a trailer line */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF, /* CR of the final empty line seen */
	CH_DONE,
	CH_FAILED,
};

void http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

static int chunk_fail(struct http_chunked *c, size_t i, size_t *used, const char **why, const char *text)
{
	c->state = CH_FAILED;
	*used = i;
	*why = text;
	return PH_ERROR;
}

/* The size line is over: data follows, or the trailers after a last-chunk. */
static void chunk_size_done(struct http_chunked *c)
{
	c->state = c->remaining ? CH_DATA : CH_TRAILER;
	c->line_len = 0;
	c->saw_digit = false;
}

/* Chunk extensions (RFC 9112 7.1.1), read strictly: every hop must end
 * the size line where pinhole does, so a quoted CR LF or a name-less ";"
 * that one parser skips and another stops at is refused. */
enum {
	EXT_BEFORE_NAME, /* after ';', BWS */
	EXT_NAME,
	EXT_AFTER_NAME, /* BWS, then '=', ';' or CR */
	EXT_BEFORE_VALUE,
	EXT_TOKEN,
	EXT_QUOTED,
	EXT_QUOTED_PAIR,
	EXT_AFTER_VALUE, /* BWS, then ';' or CR */
};

static int chunk_ext(struct http_chunked *c, char ch)
{
	unsigned char u = (unsigned char)ch;

	switch (c->ext) {
	case EXT_BEFORE_NAME:
		if (is_ows(ch))
			return 0;
		if (!is_tchar(ch))
			return -1;
		c->ext = EXT_NAME;
		return 0;
	case EXT_NAME:
		if (is_tchar(ch))
			return 0;
		c->ext = EXT_AFTER_NAME;
		/* fall through */
	case EXT_AFTER_NAME:
	case EXT_AFTER_VALUE:
		if (is_ows(ch))
			return 0;
		if (ch == ';') {
			c->ext = EXT_BEFORE_NAME;
			return 0;
		}
		if (ch == '\r') {
			c->state = CH_SIZE_LF;
			return 0;
		}
		if (ch == '=' && c->ext == EXT_AFTER_NAME) {
			c->ext = EXT_BEFORE_VALUE;
			return 0;
		}
		return -1;
	case EXT_BEFORE_VALUE:
		if (is_ows(ch))
			return 0;
		if (ch == '"') {
			c->ext = EXT_QUOTED;
			return 0;
		}
		if (!is_tchar(ch))
			return -1;
		c->ext = EXT_TOKEN;
		return 0;
	case EXT_TOKEN:
		if (is_tchar(ch))
			return 0;
		c->ext = EXT_AFTER_VALUE;
		return chunk_ext(c, ch);
	case EXT_QUOTED:
		if (ch == '"')
			c->ext = EXT_AFTER_VALUE;
		else if (ch == '\\')
			c->ext = EXT_QUOTED_PAIR;
		else if (!(ch == '\t' || ch == ' ' || (u >= 0x21 && u != 0x7f)))
			return -1;
		return 0;
	case EXT_QUOTED_PAIR:
		if (!(ch == '\t' || ch == ' ' || (u >= 0x21 && u != 0x7f)))
			return -1;
		c->ext = EXT_QUOTED;
		return 0;
	}
	return -1;
}

int http_chunked_scan(struct http_chunked *c, const char *buf, size_t len, size_t *used, const char **why)
{
	size_t i = 0;

	while (i < len) {
		char ch = buf[i];

		if (c->state == CH_DATA) {
			uint64_t take = PH_MIN(c->remaining, (uint64_t)(len - i));

			i += (size_t)take;
			c->remaining -= take;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		if (c->state == CH_DONE) {
			*used = i;
			return PH_OK;
		}
		if (c->state == CH_FAILED)
			return chunk_fail(c, i, used, why, "bad chunk: the body was already refused");
		if (c->state <= CH_SIZE_LF && ++c->line_len > CHUNK_LINE_MAX)
			return chunk_fail(c, i, used, why, "bad chunk: chunk-size line longer than 4096 bytes");
		if (c->state >= CH_TRAILER && ++c->trailer_bytes > CHUNK_TRAILER_MAX)
			return chunk_fail(c, i, used, why, "bad chunk: trailer section larger than 64 KiB");
		switch (c->state) {
		case CH_SIZE:
			if (ph_hexval(ch) >= 0) {
				if (c->line_len > CHUNK_SIZE_DIGITS)
					return chunk_fail(c, i, used, why,
					                  "bad chunk: chunk size has more than 16 hex digits");
				c->remaining = c->remaining << 4 | (uint64_t)ph_hexval(ch);
				c->saw_digit = true;
				break;
			}
			if (!c->saw_digit)
				return chunk_fail(c, i, used, why, "bad chunk: chunk size is not a hex number");
			if (ch == ';') {
				c->state = CH_EXT;
				c->ext = EXT_BEFORE_NAME;
			} else if (is_ows(ch)) {
				c->state = CH_SIZE_WS;
			} else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == '\n')
				/* Strict: a relay that reads chunk lines differently
				 * from the origin could be used to smuggle requests. */
				return chunk_fail(c, i, used, why, "bad chunk: chunk-size line not ended by CRLF");
			else
				return chunk_fail(c, i, used, why, "bad chunk: chunk size is not a hex number");
			break;
		case CH_SIZE_WS:
			if (ch == ';') {
				c->state = CH_EXT;
				c->ext = EXT_BEFORE_NAME;
			} else if (!is_ows(ch))
				return chunk_fail(c, i, used, why, "bad chunk: whitespace after chunk size");
			break;
		case CH_EXT:
			if (chunk_ext(c, ch) < 0)
				return chunk_fail(c, i, used, why,
				                  ch == '\n' ? "bad chunk: chunk-size line not ended by CRLF"
				                             : "bad chunk: malformed chunk extension");
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return chunk_fail(c, i, used, why, "bad chunk: bare CR in chunk-size line");
			chunk_size_done(c);
			break;
		case CH_DATA_CR:
			if (ch != '\r')
				return chunk_fail(c, i, used, why, "bad chunk: data not followed by CRLF");
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return chunk_fail(c, i, used, why, "bad chunk: data not followed by CRLF");
			c->state = CH_SIZE;
			break;
		case CH_TRAILER:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (ch == '\n')
				return chunk_fail(c, i, used, why, "bad chunk: trailer line not ended by CRLF");
			else if (is_tchar(ch))
				c->state = CH_TRAILER_NAME;
			else
				return chunk_fail(c, i, used, why, "bad chunk: malformed trailer field");
			break;
		case CH_TRAILER_NAME:
			if (ch == ':')
				c->state = CH_TRAILER_VALUE;
			else if (!is_tchar(ch))
				return chunk_fail(c, i, used, why, "bad chunk: malformed trailer field");
			break;
		case CH_TRAILER_VALUE:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (ch == '\n')
				return chunk_fail(c, i, used, why, "bad chunk: trailer line not ended by CRLF");
			else if (!is_field_char(ch))
				return chunk_fail(c, i, used, why, "bad chunk: control character in trailer field");
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return chunk_fail(c, i, used, why, "bad chunk: bare CR in trailer field");
			c->state = CH_TRAILER;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return chunk_fail(c, i, used, why, "bad chunk: bare CR after trailers");
			c->state = CH_DONE;
			break;
		}
		i++;
	}
	*used = len;
	if (c->state == CH_DONE)
		return PH_OK;
	if (c->state == CH_FAILED) {
		*used = 0;
		*why = "bad chunk: the body was already refused";
		return PH_ERROR;
	}
	return PH_AGAIN;
}

/* ---- the ALPN header (RFC 7639) ---- */

int http_alpn_parse(const char *value, size_t len, struct http_alpn *out, const char **why)
{
	size_t i = 0;

	out->n = 0;
	while (i <= len) {
		size_t start, end, k = 0;

		while (i < len && (value[i] == ' ' || value[i] == '\t'))
			i++;
		start = i;
		while (i < len && value[i] != ',')
			i++;
		end = i;
		while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
			end--;
		i++; /* past the comma, or past the end */
		if (start == end)
			continue;
		if (out->n == HTTP_ALPN_MAX) {
			*why = "the ALPN header names too many protocols";
			return PH_ERROR;
		}
		for (size_t j = start; j < end; j++) {
			int c = (unsigned char)value[j];

			if (!is_tchar(value[j])) {
				*why = "an ALPN protocol id is not a token (RFC 7639 2)";
				return PH_ERROR;
			}
			if (c == '%') {
				if (j + 2 >= end || ph_hexval(value[j + 1]) < 0 || ph_hexval(value[j + 2]) < 0) {
					*why = "a '%' in the ALPN header is not followed by two hex digits";
					return PH_ERROR;
				}
				c = ph_hexval(value[j + 1]) << 4 | ph_hexval(value[j + 2]);
				j += 2;
			}
			if (k == sizeof(out->ids[0].id)) {
				*why = "an ALPN protocol id is longer than 255 octets";
				return PH_ERROR;
			}
			out->ids[out->n].id[k++] = (unsigned char)c;
		}
		out->ids[out->n++].len = k;
	}
	return PH_OK;
}

bool http_alpn_names(const struct http_header *h, size_t n, const char *id)
{
	size_t idlen = strlen(id);

	for (size_t i = 0; i < n; i++) {
		struct http_alpn alpn;
		const char *why;

		if (!ph_memcaseeq(h[i].name, h[i].name_len, "ALPN", 4) ||
		    http_alpn_parse(h[i].value, h[i].value_len, &alpn, &why) != PH_OK)
			continue;
		for (size_t k = 0; k < alpn.n; k++)
			if (alpn.ids[k].len == idlen && memcmp(alpn.ids[k].id, id, idlen) == 0)
				return true;
	}
	return false;
}

/* ---- authorities and absolute URIs ---- */

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Whether a name that is not a dotted quad would still be read as an IPv4
 * address by inet_aton() or a browser (WHATWG URL: the last label is a
 * number, like "127.1", "2130706433" or "0x7f.1").  Such names are refused
 * so that address rules cannot be dodged by writing an address oddly. */
static bool looks_numeric(const char *host, size_t len)
{
	const char *dot = NULL;
	size_t s, i;

	for (i = len; i > 0; i--) {
		if (host[i - 1] == '.') {
			dot = host + i - 1;
			break;
		}
	}
	s = dot ? (size_t)(dot - host) + 1 : 0;
	if (s == len)
		return false;
	if (len - s >= 2 && host[s] == '0' && (host[s + 1] == 'x' || host[s + 1] == 'X')) {
		for (i = s + 2; i < len; i++)
			if (ph_hexval(host[i]) < 0)
				return false;
		return true;
	}
	for (i = s; i < len; i++)
		if (!is_digit(host[i]))
			return false;
	return true;
}

static int parse_port(const char *p, size_t n, uint16_t *port, const char **why)
{
	unsigned v = 0;

	if (n == 0) {
		*why = "missing port number after ':'";
		return -1;
	}
	if (n > 5) {
		*why = "port number out of range (1-65535)";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i])) {
			*why = "port must be a decimal number";
			return -1;
		}
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v == 0 || v > 65535) {
		*why = "port number out of range (1-65535)";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static int parse_ipv6_literal(const char *h, size_t n, struct http_authority *out, const char **why)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a6;

	if (n == 0 || n >= sizeof(tmp)) {
		*why = "invalid IPv6 address in brackets";
		return -1;
	}
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &a6) != 1) {
		*why = "invalid IPv6 address in brackets";
		return -1;
	}
	for (size_t i = 0; i <= n; i++)
		out->host[i] = ph_tolower(tmp[i]);
	out->is_ip = true;
	out->is_ipv6 = true;
	return 0;
}

static int parse_host_name(const char *h, size_t n, struct http_authority *out, const char **why)
{
	struct in_addr a4;
	size_t label = 0;

	if (n > 0 && h[n - 1] == '.')
		n--; /* "example.com." is example.com */
	if (n == 0) {
		*why = "empty host name";
		return -1;
	}
	if (n >= HTTP_HOST_MAX) {
		*why = "host name longer than 255 characters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0) {
				*why = "empty label in host name (two dots in a row)";
				return -1;
			}
			label = 0;
			continue;
		}
		if (!is_host_char(h[i])) {
			*why = "invalid character in host name";
			return -1;
		}
		if (++label > 63) {
			*why = "host name label longer than 63 characters";
			return -1;
		}
	}
	if (label == 0) {
		*why = "empty label in host name (two dots in a row)";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out->host[i] = ph_tolower(h[i]);
	out->host[n] = '\0';
	if (inet_pton(AF_INET, out->host, &a4) == 1) {
		out->is_ip = true;
	} else if (looks_numeric(out->host, n)) {
		*why = "malformed IPv4 address (write four decimal numbers, e.g. 10.0.0.1)";
		return -1;
	}
	return 0;
}

int http_parse_authority(const char *s, size_t len, bool port_required, struct http_authority *out, const char **why)
{
	const char *port = NULL, *colon;
	size_t port_len = 0, host_len;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		*why = "empty host name";
		return -1;
	}
	/* Say what is wrong with the URL-shaped targets clients and tools
	 * send by mistake, rather than what the host:port parser trips on. */
	if (memchr(s, '@', len)) {
		*why = "user information (user:password@) is not allowed before the host";
		return -1;
	}
	if (memchr(s, '/', len) || memchr(s, '?', len) || memchr(s, '#', len)) {
		*why = "a path, query or fragment is not allowed after host:port";
		return -1;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close) {
			*why = "IPv6 address without a closing bracket";
			return -1;
		}
		host_len = (size_t)(close - s) - 1;
		if (close + 1 < s + len) {
			if (close[1] != ':') {
				*why = "unexpected characters after the IPv6 address (expected ]:port)";
				return -1;
			}
			port = close + 2;
			port_len = len - (size_t)(port - s);
		}
		if (parse_ipv6_literal(s + 1, host_len, out, why) < 0)
			return -1;
	} else {
		colon = memchr(s, ':', len);
		host_len = len;
		if (colon) {
			if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
				*why = "IPv6 addresses need brackets, e.g. [::1]:443";
				return -1;
			}
			host_len = (size_t)(colon - s);
			port = colon + 1;
			port_len = len - host_len - 1;
		}
		if (parse_host_name(s, host_len, out, why) < 0)
			return -1;
	}
	if (port)
		return parse_port(port, port_len, &out->port, why);
	if (port_required) {
		*why = "CONNECT needs host:port (the port is missing)";
		return -1;
	}
	return 0;
}

/* Schemes clients are known to send to a proxy, with a sentence each; the
 * rest get a generic one (a why must be a static string). */
static const struct {
	const char *scheme;
	const char *why;
} unsupported_schemes[] = {
	{ "https", "https:// URLs must be sent through CONNECT "
	           "(configure the client to use the proxy for HTTPS)" },
	{ "ftp", "ftp:// is not supported (only http:// URLs are forwarded)" },
	{ "ws", "ws:// is not supported as a proxy URL (WebSocket clients should use CONNECT)" },
	{ "wss", "wss:// URLs must be sent through CONNECT" },
	{ "file", "file:// is not supported (only http:// URLs are forwarded)" },
	{ "gopher", "gopher:// is not supported (only http:// URLs are forwarded)" },
};

/* absolute-form (RFC 9112 3.2.2).  When the target has no path but a query
 * ("http://h?q"), path points at the '?' and the caller writes "/" first:
 * the rule is "path[0] != '/' means prefix a slash". */
int http_parse_absolute_uri(const char *target, size_t len, struct http_uri *out, const char **why)
{
	size_t i = 0, auth, auth_end;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < len; k++) {
		if (!is_vchar(target[k])) {
			*why = "invalid character in URL";
			return -1;
		}
	}
	while (i < len &&
	       ((target[i] >= 'a' && target[i] <= 'z') || (target[i] >= 'A' && target[i] <= 'Z') ||
	        (i > 0 && (is_digit(target[i]) || target[i] == '+' || target[i] == '-' || target[i] == '.'))))
		i++;
	if (i == 0 || i == len || target[i] != ':') {
		*why = "request target is not an absolute URL (expected http://host/path)";
		return -1;
	}
	if (!ph_memcaseeq(target, i, "http", 4)) {
		for (size_t k = 0; k < PH_ARRAY_LEN(unsupported_schemes); k++) {
			const char *sch = unsupported_schemes[k].scheme;

			if (ph_memcaseeq(target, i, sch, strlen(sch))) {
				*why = unsupported_schemes[k].why;
				return -1;
			}
		}
		*why = "unsupported URL scheme (only http:// URLs are forwarded; HTTPS goes through CONNECT)";
		return -1;
	}
	if (len - i < 3 || target[i + 1] != '/' || target[i + 2] != '/') {
		*why = "malformed http URL (expected http://host/path)";
		return -1;
	}
	if (memchr(target, '#', len)) {
		*why = "fragment (#) is not allowed in a request target";
		return -1;
	}
	auth = i + 3;
	auth_end = auth;
	while (auth_end < len && target[auth_end] != '/' && target[auth_end] != '?')
		auth_end++;
	if (memchr(target + auth, '@', auth_end - auth)) {
		*why = "credentials in the URL are not accepted (user@host)";
		return -1;
	}
	if (auth_end == auth) {
		*why = "URL without a host name";
		return -1;
	}
	if (http_parse_authority(target + auth, auth_end - auth, false, &out->authority, why) < 0)
		return -1;
	if (out->authority.port == 0)
		out->authority.port = 80;
	if (auth_end == len) {
		out->path = "/";
		out->path_len = 1;
	} else {
		out->path = target + auth_end;
		out->path_len = len - auth_end;
	}
	return 0;
}
