/*
 * test_http.c - unit tests for http.c: request and response heads (every
 * accept and refuse case, every split point), body framing, the chunked
 * scanner over every split, authorities, absolute URIs and the small lookups.
 */
#include "common.h"
#include "http.h"
#include "../lib/http_head.h"
#include "unit.h"

#include <stdlib.h>

#define BIG_HEAD 65536

/* ---- request heads ---- */

struct head_case {
	const char *in;
	size_t len;
	int want;           /* > 0 head length, 0 incomplete, < 0 -status */
	const char *phrase; /* in *why, for refusals */
};

static const struct head_case request_cases[] = {
	/* accepted */
	{ B("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"), 55, NULL },
	{ B("GET / HTTP/1.0\r\n\r\n"), 18, NULL },
	{ B("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 59, NULL },
	{ B("GET / HTTP/1.1\nHost: a\n\n"), 24, NULL },
	{ B("GET / HTTP/1.1\r\nHost: a\n\r\n"), 26, NULL },
	{ B("\r\nGET / HTTP/1.1\r\n\r\n"), 20, NULL },
	{ B("\r\n\r\n\nGET / HTTP/1.1\r\n\r\n"), 23, NULL },
	{ B("GET / HTTP/1.1\r\nX:  a b \t\r\nY:\r\nZ:\t\r\n\r\n"), 38, NULL },
	{ B("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n"), 28, NULL },
	{ B("M-SEARCH * HTTP/1.1\r\n\r\n"), 23, NULL },
	{ B("GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), 18, NULL },
	{ B("OPTIONS * HTTP/1.1\r\nA!#$%&'*+-.^_`|~z: 1\r\n\r\n"), 44, NULL },
	/* incomplete */
	{ B(""), 0, NULL },
	{ B("\r\n"), 0, NULL },
	{ B("\r"), 0, NULL },
	{ B("GET / HTTP/1.1\r\nHost: a\r\n"), 0, NULL },
	{ B("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0, NULL },
	{ B("GET / HTTP/1.1\r\nHost: a\n\r"), 0, NULL },
	{ B("GET / HTTP/1.1\r\nX: \x01 (checked once complete)"), 0, NULL },
	/* refused: request line */
	{ B("GET  / HTTP/1.1\r\n\r\n"), -400, "malformed request line" },
	{ B("GET /  HTTP/1.1\r\n\r\n"), -400, "malformed HTTP version" },
	{ B(" GET / HTTP/1.1\r\n\r\n"), -400, "malformed request line" },
	{ B("GET\t/ HTTP/1.1\r\n\r\n"), -400, "malformed request line" },
	{ B("G(T / HTTP/1.1\r\n\r\n"), -400, "malformed request line" },
	{ B("GET /\r\n\r\n"), -400, "malformed request line" },
	{ B("GET / HTTP/1.1 \r\n\r\n"), -400, "malformed HTTP version" },
	{ B("GET / http/1.1\r\n\r\n"), -400, "malformed HTTP version" },
	{ B("GET / HTTP/1\r\n\r\n"), -400, "malformed HTTP version" },
	{ B("GET / HTTP/1.x\r\n"), -400, "malformed HTTP version" },
	{ B("GET / HTTP/11.1\r\n\r\n"), -400, "malformed HTTP version" },
	{ B("GET / HTTP/2.0\r\n\r\n"), -505, "HTTP version not supported" },
	{ B("GET / HTTP/1.2\r\n\r\n"), -505, "HTTP version not supported" },
	{ B("GET / HTTP/0.9\r\n\r\n"), -505, "HTTP version not supported" },
	{ B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), -505, "HTTP version not supported" },
	{ B("GET /a\x01 HTTP/1.1\r\n\r\n"), -400, "invalid character in request target" },
	{ B("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), -400, "invalid character in request target" },
	{ B("GET /\x7f HTTP/1.1\r\n\r\n"), -400, "invalid character in request target" },
	{ B("GET /\0 HTTP/1.1\r\n\r\n"), -400, "invalid character in request target" },
	{ B("G\0T / HTTP/1.1\r\n\r\n"), -400, "malformed request line" },
	{ B("GET / HTTP/1.1\rX\r\n\r\n"), -400, "bare CR" },
	{ B("GET / HTTP/1.1\r\r\n\r\n"), -400, "bare CR" },
	{ B("\rGET / HTTP/1.1\r\n\r\n"), -400, "bare CR" },
	{ B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), -400, "too many empty lines" },
	{ B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), -400, "TLS handshake" },
	{ B("\x05\x01\x00"), -400, "malformed request line" },
	/* refused: header fields */
	{ B("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), -400, "whitespace before colon in header field" },
	{ B("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), -400, "whitespace before colon in header field" },
	{ B("GET / HTTP/1.1\r\nHo st: a\r\n\r\n"), -400, "invalid character in header field name" },
	{ B("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), -400, "obsolete line folding" },
	{ B("GET / HTTP/1.1\r\n\tX: a\r\n\r\n"), -400, "obsolete line folding" },
	{ B("GET / HTTP/1.1\r\nX: a\x01"
	    "b\r\n\r\n"),
	  -400, "control character in header field value" },
	{ B("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), -400, "control character in header field value" },
	{ B("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), -400, "control character in header field value" },
	{ B("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), -400, "control character in header field value" },
	{ B("GET / HTTP/1.1\r\nX: a\r\r\n\r\n"), -400, "control character in header field value" },
	{ B("GET / HTTP/1.1\r\nX\0: a\r\n\r\n"), -400, "invalid character in header field name" },
	{ B("GET / HTTP/1.1\r\n: a\r\n\r\n"), -400, "invalid character in header field name" },
	{ B("GET / HTTP/1.1\r\nX(y): a\r\n\r\n"), -400, "invalid character in header field name" },
	{ B("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), -400, "header field without a colon" },
	{ B("GET / HTTP/1.1\r\n\rX: a\r\n\r\n"), -400, "invalid character in header field name" },
};

static void check_request_case(const struct head_case *t)
{
	struct http_request req;
	const char *why = NULL;
	int rc = head_request(t->in, t->len, BIG_HEAD, &req, &why);

	CHECK_INT(rc, t->want);
	if (rc != t->want)
		fprintf(stderr, "  case: %.*s\n", (int)t->len, t->in);
	if (t->want < 0)
		CHECK_WHY(why, t->phrase);
	if (t->want > 0)
		CHECK_INT(req.head_len, (size_t)t->want);

	/* Every prefix: an accepted head is incomplete until its last byte; a
	 * refused one is incomplete or already refused the same way. */
	for (size_t k = 0; k < t->len; k++) {
		size_t stop = t->want > 0 ? (size_t)t->want : t->len;
		int r;

		if (k >= stop)
			break;
		why = NULL;
		r = head_request(t->in, k, BIG_HEAD, &req, &why);
		if (t->want >= 0) {
			CHECK_INT(r, 0);
		} else {
			CHECK(r == 0 || r == t->want);
			if (r < 0)
				CHECK_WHY(why, t->phrase);
		}
		if (r != 0 && t->want >= 0)
			fprintf(stderr, "  prefix %zu of: %.*s\n", k, (int)t->len, t->in);
	}
}

static void test_request_table(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(request_cases); i++)
		check_request_case(&request_cases[i]);
}

static void test_request_fields(void)
{
	static const char in[] = "\r\nPOST http://example.com:8080/a?b HTTP/1.1\r\n"
	                         "Host: example.com:8080\r\n"
	                         "Content-Length:5\r\n"
	                         "X-Empty:\r\n"
	                         "X-Pad: \t  padded value \t\r\n"
	                         "\r\nhello";
	struct http_request req;
	const char *why = NULL;
	int rc = head_request(in, sizeof(in) - 1, BIG_HEAD, &req, &why);

	CHECK_INT(rc, (int)(sizeof(in) - 1 - 5));
	CHECK_INT(req.method_len, 4);
	CHECK(memcmp(req.method, "POST", 4) == 0);
	CHECK_INT(req.target_len, strlen("http://example.com:8080/a?b"));
	CHECK(memcmp(req.target, "http://example.com:8080/a?b", req.target_len) == 0);
	CHECK_INT(req.version_minor, 1);
	CHECK_INT(req.nheaders, 4);
	CHECK(ph_memcaseeq(req.headers[0].name, req.headers[0].name_len, "host", 4));
	CHECK(ph_memcaseeq(req.headers[0].value, req.headers[0].value_len, "example.com:8080", 16));
	CHECK(ph_memcaseeq(req.headers[1].value, req.headers[1].value_len, "5", 1));
	CHECK_INT(req.headers[2].value_len, 0);
	CHECK_INT(req.headers[3].value_len, strlen("padded value"));
	CHECK(memcmp(req.headers[3].value, "padded value", 12) == 0);
	for (size_t i = 0; i < req.nheaders; i++) {
		CHECK(req.headers[i].name >= in && req.headers[i].name < in + rc);
		CHECK(req.headers[i].value >= in && req.headers[i].value <= in + rc);
	}
	CHECK(head_request("GET / HTTP/1.0\r\n\r\n", 18, BIG_HEAD, &req, &why) == 18);
	CHECK_INT(req.version_minor, 0);
}

/* Builds "GET / HTTP/1.1\r\n" + n fields + "\r\n" into a new buffer. */
static char *many_fields(size_t n, size_t *len)
{
	char *buf = malloc(32 + n * 16);
	size_t l = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");

	for (size_t i = 0; i < n; i++)
		l += (size_t)sprintf(buf + l, "X-%zu: v\r\n", i);
	l += (size_t)sprintf(buf + l, "\r\n");
	*len = l;
	return buf;
}

static void test_request_limits(void)
{
	struct http_request req;
	const char *why = NULL;
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t hl = sizeof(head) - 1, len;
	char *buf;
	int rc;

	/* exactly HTTP_MAX_HEADERS fields pass, one more is 431 */
	buf = many_fields(HTTP_MAX_HEADERS, &len);
	rc = head_request(buf, len, BIG_HEAD, &req, &why);
	CHECK_INT(rc, (int)len);
	CHECK_INT(req.nheaders, HTTP_MAX_HEADERS);
	free(buf);
	buf = many_fields(HTTP_MAX_HEADERS + 1, &len);
	rc = head_request(buf, len, BIG_HEAD, &req, &why);
	CHECK_INT(rc, -431);
	CHECK_WHY(why, "too many header fields");
	free(buf);

	/* max_head: a head of exactly max_head bytes fits */
	CHECK_INT(head_request(head, hl, hl, &req, &why), (int)hl);
	rc = head_request(head, hl, hl - 1, &req, &why);
	CHECK_INT(rc, -431);
	CHECK_WHY(why, "max-header-size");
	/* incomplete but already max_head bytes long */
	rc = head_request(head, hl - 2, hl - 2, &req, &why);
	CHECK_INT(rc, -431);
	CHECK_INT(head_request(head, hl - 2, hl - 1, &req, &why), 0);
	/* bytes beyond max_head after a complete head are the next message */
	CHECK_INT(head_request("GET / HTTP/1.1\r\n\r\nXXXXXXXXXXXXXXXX", 34, 18, &req, &why), 18);

	/* a long incomplete request line keeps asking for more until the limit */
	buf = malloc(9000);
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', 9000 - 5);
	CHECK_INT(head_request(buf, 8000, 8192, &req, &why), 0);
	CHECK_INT(head_request(buf, 9000, 8192, &req, &why), -431);
	free(buf);
}

/* ---- response heads ---- */

static const struct head_case response_cases[] = {
	{ B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 38, NULL },
	{ B("HTTP/1.0 404 Not Found\n\n"), 24, NULL },
	{ B("HTTP/1.1 200\r\n\r\n"), 16, NULL },
	{ B("HTTP/1.1 200 \r\n\r\n"), 17, NULL },
	{ B("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n"), 83, NULL },
	{ B("HTTP/1.1 200 caf\xc3\xa9\tok\r\n\r\n"), 25, NULL },
	{ B("HTTP/1.1 599 Custom\r\n\r\n"), 23, NULL },
	{ B("HTTP/1.1 200 OK\r\n"), 0, NULL },
	{ B("HTTP/1."), 0, NULL },
	{ B("HTTP/1.1 2"), 0, NULL },
	{ B("HTTP/2.0 200 OK\r\n\r\n"), -502, "unsupported HTTP version" },
	{ B("HTTP/1.2 200 OK\r\n\r\n"), -502, "unsupported HTTP version" },
	{ B("HTTP/1.1 20 OK\r\n\r\n"), -502, "bad status code" },
	{ B("HTTP/1.1 2000 OK\r\n\r\n"), -502, "bad status code" },
	{ B("HTTP/1.1 099 Low\r\n\r\n"), -502, "bad status code" },
	{ B("HTTP/1.1 200OK\r\n\r\n"), -502, "bad status code" },
	{ B("HTTP/1.1  200 OK\r\n\r\n"), -502, "bad status code" },
	{ B("HTTP/1.1\r\n\r\n"), -502, "malformed status line" },
	{ B("ICY 200 OK\r\n\r\n"), -502, "malformed status line" },
	{ B("http/1.1 200 OK\r\n\r\n"), -502, "malformed status line" },
	{ B("<html>hello"), -502, "malformed status line" },
	{ B("\r\nHTTP/1.1 200 OK\r\n\r\n"), -502, "empty line" },
	{ B("HTTP/1.1 200 O\x01K\r\n\r\n"), -502, "control character in the status line" },
	{ B("HTTP/1.1 200 OK\rX\r\n\r\n"), -502, "control character in the status line" },
	{ B("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), -502, "whitespace before colon" },
	{ B("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), -502, "obsolete line folding" },
	{ B("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"), -502, "control character" },
	{ B("HTTP/1.1 200 OK\r\nX\r\n\r\n"), -502, "without a colon" },
};

static void check_response_case(const struct head_case *t)
{
	struct http_response resp;
	const char *why = NULL;
	int rc = head_response(t->in, t->len, BIG_HEAD, &resp, &why);

	CHECK_INT(rc, t->want);
	if (rc != t->want)
		fprintf(stderr, "  case: %.*s\n", (int)t->len, t->in);
	if (t->want < 0)
		CHECK_WHY(why, t->phrase);
	for (size_t k = 0; k < t->len; k++) {
		size_t stop = t->want > 0 ? (size_t)t->want : t->len;
		int r;

		if (k >= stop)
			break;
		r = head_response(t->in, k, BIG_HEAD, &resp, &why);
		if (t->want >= 0)
			CHECK_INT(r, 0);
		else
			CHECK(r == 0 || r == t->want);
	}
}

static void test_response_table(void)
{
	struct http_response resp;
	const char *why = NULL;
	static const char in[] = "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n";

	for (size_t i = 0; i < PH_ARRAY_LEN(response_cases); i++)
		check_response_case(&response_cases[i]);

	CHECK_INT(head_response(in, sizeof(in) - 1, BIG_HEAD, &resp, &why), (int)sizeof(in) - 1);
	CHECK_INT(resp.status, 404);
	CHECK_INT(resp.version_minor, 1);
	CHECK_INT(resp.reason_len, 9);
	CHECK(memcmp(resp.reason, "Not Found", 9) == 0);
	CHECK_INT(resp.nheaders, 1);
	CHECK_INT(head_response("HTTP/1.0 200\r\n\r\n", 16, BIG_HEAD, &resp, &why), 16);
	CHECK_INT(resp.status, 200);
	CHECK_INT(resp.version_minor, 0);
	CHECK_INT(resp.reason_len, 0);
	CHECK_INT(head_response(in, sizeof(in) - 1, 20, &resp, &why), -502);
	CHECK_WHY(why, "max-header-size");
}

/* ---- body framing ---- */

struct framing_case {
	const char *head;
	bool response;
	bool head_request;
	int want; /* 0 accepted, else the status refused with, negated */
	enum http_body_kind kind;
	uint64_t length;
	const char *phrase;
};

static const struct framing_case framing_cases[] = {
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, false, 0, HTTP_BODY_NONE, 0, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", false, false, 0, HTTP_BODY_LENGTH, 5, NULL },
	{ "POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n", false, false, 0, HTTP_BODY_LENGTH, 0, NULL },
	{ "POST / HTTP/1.0\r\nContent-Length: 7\r\n\r\n", false, false, 0, HTTP_BODY_LENGTH, 7, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", false, false, 0, HTTP_BODY_LENGTH,
	  UINT64_MAX, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", false, false, -400, 0, 0, "too large" },
	{ "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", false, false, -400, 0, 0, "too large" },
	{ "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", false, false, -400, 0, 0, "malformed Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false, false, -400, 0, 0,
	  "duplicate Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", false, false, -400, 0, 0,
	  "duplicate Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", false, false, -400, 0, 0, "duplicate Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", false, false, -400, 0, 0, "duplicate Content-Length" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", false, false, 0, HTTP_BODY_CHUNKED, 0, NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", false, false, 0, HTTP_BODY_CHUNKED, 0, NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, false, 0, HTTP_BODY_CHUNKED, 0, NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", false, false, 0,
	  HTTP_BODY_CHUNKED, 0, NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip,,chunked , \r\n\r\n", false, false, 0, HTTP_BODY_CHUNKED, 0,
	  NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", false, false, -400, 0, 0,
	  "Transfer-Encoding without chunked as final coding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false, false, -400, 0, 0,
	  "Transfer-Encoding without chunked as final coding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", false, false, -400, 0, 0,
	  "Transfer-Encoding without chunked as final coding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", false, false, -400, 0, 0,
	  "Transfer-Encoding without chunked as final coding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", false, false, -400, 0, 0,
	  "Transfer-Encoding without chunked as final coding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", false, false, -400, 0, 0,
	  "more than once" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", false, false, -400, 0, 0, "empty Transfer-Encoding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: , \r\n\r\n", false, false, -400, 0, 0, "empty Transfer-Encoding" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, false, -400, 0, 0,
	  "both Content-Length and Transfer-Encoding" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", false, false, -400, 0, 0,
	  "both Content-Length and Transfer-Encoding" },
	{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", false, false, -400, 0, 0, "HTTP/1.0" },
	/* Connection naming a framing header: never stripped, refused. */
	{ "POST / HTTP/1.1\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\n", false, false, -400, 0, 0,
	  "names a framing header" },
	{ "POST / HTTP/1.1\r\nConnection: keep-alive, content-length\r\nContent-Length: 5\r\n\r\n", false, false, -400,
	  0, 0, "names a framing header" },
	{ "POST / HTTP/1.1\r\nConnection: close\r\nConnection: Transfer-Encoding\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  false, false, -400, 0, 0, "names a framing header" },
	{ "GET / HTTP/1.1\r\nConnection: HOST\r\nHost: a\r\n\r\n", false, false, -400, 0, 0, "names a framing header" },
	{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", false, false, -400, 0, 0, "no Upgrade header" },
	{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false, false, 0, HTTP_BODY_NONE, 0,
	  NULL },
	{ "GET / HTTP/1.1\r\nConnection: keep-alive, x-content-length\r\n\r\n", false, false, 0, HTTP_BODY_NONE, 0,
	  NULL },

	{ "HTTP/1.1 200 OK\r\n\r\n", true, false, 0, HTTP_BODY_CLOSE, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, false, 0, HTTP_BODY_LENGTH, 10, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, 0, HTTP_BODY_CHUNKED, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true, false, 0, HTTP_BODY_CLOSE, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", true, false, 0, HTTP_BODY_CLOSE, 0, NULL },
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", true, false, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.1 100 Continue\r\n\r\n", true, false, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", true, false, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, true, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", true, true, 0, HTTP_BODY_NONE, 0, NULL },
	{ "HTTP/1.0 200 OK\r\n\r\n", true, false, 0, HTTP_BODY_CLOSE, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, -502, 0, 0,
	  "both Content-Length and Transfer-Encoding" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", true, false, -502, 0, 0,
	  "duplicate Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n", true, false, -502, 0, 0, "duplicate Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", true, false, -502, 0, 0, "malformed Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", true, false, -502, 0, 0, "too large" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", true, false, -502, 0, 0, "more than once" },
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, -502, 0, 0, "HTTP/1.0" },
	{ "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 1\r\n\r\n", true, false, -502, 0, 0,
	  "names a framing header" },
	{ "HTTP/1.1 304 Not Modified\r\nConnection: transfer-encoding\r\n\r\n", true, false, -502, 0, 0,
	  "names a framing header" },
	{ "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n", true, false, -502, 0, 0,
	  "no Upgrade header" },
	{ "HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade\r\nContent-Length: 1\r\n\r\n", true, false, 0,
	  HTTP_BODY_LENGTH, 1, NULL },
};

static void test_framing_table(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(framing_cases); i++) {
		const struct framing_case *t = &framing_cases[i];
		struct http_framing f = { HTTP_BODY_CLOSE, 12345 };
		const char *why = NULL;
		size_t len = strlen(t->head);
		int rc;

		if (t->response) {
			struct http_response resp;

			CHECK_INT(head_response(t->head, len, BIG_HEAD, &resp, &why), (int)len);
			rc = http_response_framing(&resp, t->head_request, &f, &why);
		} else {
			struct http_request req;

			CHECK_INT(head_request(t->head, len, BIG_HEAD, &req, &why), (int)len);
			rc = http_request_framing(&req, &f, &why);
		}
		CHECK_INT(rc, t->want ? PH_ERROR : PH_OK);
		if (rc != (t->want ? PH_ERROR : PH_OK))
			fprintf(stderr, "  case: %s\n", t->head);
		if (t->want == 0) {
			CHECK_INT(f.kind, t->kind);
			if (t->kind == HTTP_BODY_LENGTH)
				CHECK(f.length == t->length);
		} else {
			CHECK_WHY(why, t->phrase);
		}
	}
}

/* ---- chunked bodies ---- */

struct chunk_case {
	const char *in;
	size_t len;
	size_t body;        /* bytes of body when valid, 0 when refused */
	const char *phrase; /* for refusals */
};

static const struct chunk_case chunk_cases[] = {
	{ B("0\r\n\r\n"), 5, NULL },
	{ B("5\r\nhello\r\n0\r\n\r\n"), 15, NULL },
	{ B("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 15, NULL },
	{ B("5\nhello\r\n0\n\n"), 0, "not ended by CRLF" },
	{ B("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"), 35, NULL },
	{ B("5;ext=1\r\nhello\r\n0;last\r\n\r\n"), 26, NULL },
	{ B("5 ;ext\r\nhello\r\n0\t; x = \"q; v\"\r\n\r\n"), 33, NULL },
	{ B("0\r\nX-Sum: abc\r\nY:\r\n\r\nNEXT"), 21, NULL },
	{ B("0\nX-Sum: abc\nY: z\n\nNEXT"), 0, "not ended by CRLF" },
	{ B("5;ext\nhello\r\n"), 0, "not ended by CRLF" },
	{ B("0\r\nX: a\n\r\n"), 0, "trailer line not ended by CRLF" },
	{ B("0\r\n\n"), 0, "trailer line not ended by CRLF" },
	{ B("0000000000000005\r\nhello\r\n0\r\n\r\n"), 30, NULL },
	{ B("1\r\n\0\r\n0\r\n\r\n"), 11, NULL },
	{ B("g\r\n"), 0, "not a hex number" },
	{ B("\r\n"), 0, "not a hex number" },
	{ B(";x\r\n"), 0, "not a hex number" },
	{ B("-5\r\n"), 0, "not a hex number" },
	{ B("0x5\r\n"), 0, "not a hex number" },
	{ B("5\r\nhelloX\r\n"), 0, "data not followed by CRLF" },
	{ B("5\r\nhello\n0\r\n\r\n"), 0, "data not followed by CRLF" },
	{ B("5\r\nhello\r0\r\n\r\n"), 0, "data not followed by CRLF" },
	{ B("00000000000000005\r\n"), 0, "more than 16 hex digits" },
	{ B("5 \r\nhello"), 0, "whitespace after chunk size" },
	{ B("5\rX"), 0, "bare CR" },
	{ B("5;\x01\r\n"), 0, "malformed chunk extension" },
	{ B("5;\r\nhello\r\n0\r\n\r\n"), 0, "malformed chunk extension" },
	{ B("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 0, "malformed chunk extension" },
	{ B("5;=x\r\n"), 0, "malformed chunk extension" },
	{ B("5;a==b\r\n"), 0, "malformed chunk extension" },
	{ B("5;a b\r\n"), 0, "malformed chunk extension" },
	{ B("5;a=b c\r\n"), 0, "malformed chunk extension" },
	{ B("5;a=\"b\\\"; c\" ; d\r\nhello\r\n0\r\n\r\n"), 30, NULL },
	{ B("5;a\rb\r\n"), 0, "bare CR" },
	{ B("0\r\nXY\r\n\r\n"), 0, "malformed trailer" },
	{ B("0\r\nX: a\r\n b\r\n\r\n"), 0, "malformed trailer" },
	{ B("0\r\nX : a\r\n\r\n"), 0, "malformed trailer" },
	{ B("0\r\nX: a\x01\r\n\r\n"), 0, "control character in trailer" },
	{ B("0\r\nX: a\rb\r\n\r\n"), 0, "bare CR" },
	{ B("0\r\n\rX"), 0, "bare CR" },
};

/* Feeds buf in pieces cut at the given points (ascending, within len) and
 * checks the scanner: AGAIN consumes a whole piece, OK ends at body, an
 * error shows up with the phrase and nothing before it said OK. */
static void feed_chunked(const struct chunk_case *t, const size_t *cuts, size_t ncuts)
{
	struct http_chunked c;
	size_t start = 0, consumed = 0;
	int rc = PH_AGAIN;
	const char *why = NULL;

	http_chunked_init(&c);
	for (size_t k = 0; k <= ncuts && rc == PH_AGAIN; k++) {
		size_t end = k < ncuts ? cuts[k] : t->len, used = 99999;

		rc = http_chunked_scan(&c, t->in + start, end - start, &used, &why);
		CHECK(used <= end - start);
		if (rc == PH_AGAIN)
			CHECK_INT(used, end - start);
		consumed += used;
		start = end;
	}
	if (t->body) {
		CHECK_INT(rc, PH_OK);
		CHECK_INT(consumed, t->body);
	} else {
		CHECK_INT(rc, PH_ERROR);
		CHECK_WHY(why, t->phrase);
	}
}

static void test_chunked_table(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(chunk_cases); i++) {
		const struct chunk_case *t = &chunk_cases[i];
		size_t cuts[2], *all = malloc((t->len + 1) * sizeof(size_t));
		int before = unit_failures;

		feed_chunked(t, NULL, 0);
		for (size_t a = 0; a <= t->len; a++) {
			cuts[0] = a;
			feed_chunked(t, cuts, 1);
			for (size_t b = a; b <= t->len; b++) {
				cuts[1] = b;
				feed_chunked(t, cuts, 2);
			}
		}
		for (size_t a = 0; a < t->len; a++)
			all[a] = a + 1;
		feed_chunked(t, all, t->len ? t->len - 1 : 0);
		free(all);
		if (unit_failures != before)
			fprintf(stderr, "  chunk case %zu: %.*s\n", i, (int)t->len, t->in);
	}
}

static void test_chunked_limits(void)
{
	struct http_chunked c;
	const char *why = NULL;
	size_t used, total;
	char *buf = malloc(70000);
	int rc;

	/* a 4096-byte size line passes, 4097 does not */
	memset(buf, 'x', 5000);
	memcpy(buf, "5;", 2);
	memcpy(buf + 4094, "\r\n", 2);
	http_chunked_init(&c);
	rc = http_chunked_scan(&c, buf, 4096, &used, &why);
	CHECK_INT(rc, PH_AGAIN);
	CHECK_INT(c.remaining, 5);
	memcpy(buf + 4094, "x\r\n", 3);
	http_chunked_init(&c);
	rc = http_chunked_scan(&c, buf, 4097, &used, &why);
	CHECK_INT(rc, PH_ERROR);
	CHECK_WHY(why, "longer than 4096");
	CHECK(used <= 4097);

	/* trailers: just under 64 KiB passes, over fails */
	total = 0;
	memcpy(buf, "0\r\n", 3);
	total = 3;
	while (total < 3 + 65536 - 2 - 100) {
		memcpy(buf + total, "X: 0123456789\r\n", 15);
		total += 15;
	}
	memcpy(buf + total, "\r\n", 2);
	http_chunked_init(&c);
	rc = http_chunked_scan(&c, buf, total + 2, &used, &why);
	CHECK_INT(rc, PH_OK);
	CHECK_INT(used, total + 2);
	while (total < 3 + 65536 + 10) {
		memcpy(buf + total, "X: 0123456789\r\n", 15);
		total += 15;
	}
	memcpy(buf + total, "\r\n", 2);
	http_chunked_init(&c);
	rc = http_chunked_scan(&c, buf, total + 2, &used, &why);
	CHECK_INT(rc, PH_ERROR);
	CHECK_WHY(why, "64 KiB");

	/* the largest size is followed by its data, skipped by count */
	http_chunked_init(&c);
	rc = http_chunked_scan(&c, "ffffffffffffffff\r\nab", 20, &used, &why);
	CHECK_INT(rc, PH_AGAIN);
	CHECK(c.remaining == UINT64_MAX - 2);

	/* after the end, the scanner stays done; after an error, failed */
	http_chunked_init(&c);
	CHECK_INT(http_chunked_scan(&c, "0\r\n\r\n", 5, &used, &why), PH_OK);
	CHECK_INT(http_chunked_scan(&c, "XYZ", 3, &used, &why), PH_OK);
	CHECK_INT(used, 0);
	http_chunked_init(&c);
	CHECK_INT(http_chunked_scan(&c, "z", 1, &used, &why), PH_ERROR);
	CHECK_INT(http_chunked_scan(&c, "0\r\n\r\n", 5, &used, &why), PH_ERROR);
	free(buf);
}

/* A keep-alive connection: a request with a body, then the next request. */
static void test_pipelining(void)
{
	static const char cl[] = "POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
	                         "GET http://a/next HTTP/1.1\r\n\r\n";
	static const char ch[] = "POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "5\r\nhello\r\n0\r\n\r\n"
	                         "GET http://a/next HTTP/1.1\r\n\r\n";
	struct http_request req;
	struct http_framing f;
	struct http_chunked c;
	const char *why = NULL;
	size_t used, off;
	int rc;

	rc = head_request(cl, sizeof(cl) - 1, BIG_HEAD, &req, &why);
	CHECK(rc > 0);
	CHECK_INT(http_request_framing(&req, &f, &why), 0);
	CHECK_INT(f.kind, HTTP_BODY_LENGTH);
	off = (size_t)rc + f.length;
	rc = head_request(cl + off, sizeof(cl) - 1 - off, BIG_HEAD, &req, &why);
	CHECK_INT(rc, (int)(sizeof(cl) - 1 - off));
	CHECK_INT(req.target_len, 13);

	rc = head_request(ch, sizeof(ch) - 1, BIG_HEAD, &req, &why);
	CHECK(rc > 0);
	CHECK_INT(http_request_framing(&req, &f, &why), 0);
	CHECK_INT(f.kind, HTTP_BODY_CHUNKED);
	http_chunked_init(&c);
	CHECK_INT(http_chunked_scan(&c, ch + rc, sizeof(ch) - 1 - (size_t)rc, &used, &why), PH_OK);
	CHECK_INT(used, 15);
	off = (size_t)rc + used;
	rc = head_request(ch + off, sizeof(ch) - 1 - off, BIG_HEAD, &req, &why);
	CHECK_INT(rc, (int)(sizeof(ch) - 1 - off));
	CHECK(memcmp(req.target, "http://a/next", 13) == 0);
}

/* ---- authorities ---- */

struct authority_case {
	const char *in;
	bool port_required;
	int want;
	const char *host; /* when accepted */
	uint16_t port;
	bool is_ip, is_ipv6;
	const char *phrase; /* when refused */
};

#define L63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"

static const struct authority_case authority_cases[] = {
	{ "example.com:443", true, 0, "example.com", 443, false, false, NULL },
	{ "Example.COM.:80", true, 0, "example.com", 80, false, false, NULL },
	{ "example.com", false, 0, "example.com", 0, false, false, NULL },
	{ "example.com.", false, 0, "example.com", 0, false, false, NULL },
	{ "localhost:65535", true, 0, "localhost", 65535, false, false, NULL },
	{ "a:1", true, 0, "a", 1, false, false, NULL },
	{ "under_score-dash.example:8080", true, 0, "under_score-dash.example", 8080, false, false, NULL },
	{ "xn--bcher-kva.example:443", true, 0, "xn--bcher-kva.example", 443, false, false, NULL },
	{ "127.0.0.1:8080", true, 0, "127.0.0.1", 8080, true, false, NULL },
	{ "10.0.0.1.", false, 0, "10.0.0.1", 0, true, false, NULL },
	{ "[::1]:443", true, 0, "::1", 443, true, true, NULL },
	{ "[2001:DB8::1]", false, 0, "2001:db8::1", 0, true, true, NULL },
	{ "[::ffff:10.0.0.1]:80", true, 0, "::ffff:10.0.0.1", 80, true, true, NULL },
	{ "host:0080", true, 0, "host", 80, false, false, NULL },
	{ L63 ".com:443", true, 0, L63 ".com", 443, false, false, NULL },
	{ L63 "." L63 "." L63 "." L63, false, 0, L63 "." L63 "." L63 "." L63, 0, false, false, NULL },
	{ L63 "." L63 "." L63 "." L63 ".", false, 0, L63 "." L63 "." L63 "." L63, 0, false, false, NULL },
	{ "example.com", true, -1, NULL, 0, false, false, "CONNECT needs host:port" },
	{ "[::1]", true, -1, NULL, 0, false, false, "CONNECT needs host:port" },
	{ "::1", false, -1, NULL, 0, false, false, "IPv6 addresses need brackets, e.g. [::1]:443" },
	{ "2001:db8::1:443", true, -1, NULL, 0, false, false, "IPv6 addresses need brackets" },
	{ "fe80::1", false, -1, NULL, 0, false, false, "IPv6 addresses need brackets" },
	{ "[::1", true, -1, NULL, 0, false, false, "closing bracket" },
	{ "[::1]x", false, -1, NULL, 0, false, false, "unexpected characters after the IPv6 address" },
	{ "[::1]:", false, -1, NULL, 0, false, false, "missing port" },
	{ "[]:80", true, -1, NULL, 0, false, false, "invalid IPv6 address" },
	{ "[1.2.3.4]:80", true, -1, NULL, 0, false, false, "invalid IPv6 address" },
	{ "[fe80::1%25eth0]:80", true, -1, NULL, 0, false, false, "invalid IPv6 address" },
	{ "[example.com]:80", true, -1, NULL, 0, false, false, "invalid IPv6 address" },
	{ "host:0", true, -1, NULL, 0, false, false, "out of range" },
	{ "host:65536", true, -1, NULL, 0, false, false, "out of range" },
	{ "host:123456", true, -1, NULL, 0, false, false, "out of range" },
	{ "host:+80", true, -1, NULL, 0, false, false, "decimal" },
	{ "host:8a", true, -1, NULL, 0, false, false, "decimal" },
	{ "host: 80", true, -1, NULL, 0, false, false, "decimal" },
	{ "host:", true, -1, NULL, 0, false, false, "missing port" },
	{ "", false, -1, NULL, 0, false, false, "empty host" },
	{ ":80", true, -1, NULL, 0, false, false, "empty host" },
	{ ".", false, -1, NULL, 0, false, false, "empty host" },
	{ "a..b", false, -1, NULL, 0, false, false, "empty label" },
	{ ".a", false, -1, NULL, 0, false, false, "empty label" },
	{ "a..", false, -1, NULL, 0, false, false, "empty label" },
	{ L63 "x.com", false, -1, NULL, 0, false, false, "longer than 63" },
	{ L63 "." L63 "." L63 "." L63 "x", false, -1, NULL, 0, false, false, "longer than 255" },
	{ "exa mple.com", false, -1, NULL, 0, false, false, "invalid character" },
	{ "exa%41.com", false, -1, NULL, 0, false, false, "invalid character" },
	{ "user@host:80", true, -1, NULL, 0, false, false, "user information (user:password@) is not allowed" },
	{ "user:pw@host:443", true, -1, NULL, 0, false, false, "user information (user:password@) is not allowed" },
	{ "host/path:80", true, -1, NULL, 0, false, false, "a path, query or fragment is not allowed" },
	{ "host:443/path", true, -1, NULL, 0, false, false, "a path, query or fragment is not allowed" },
	{ "host:443?q", true, -1, NULL, 0, false, false, "a path, query or fragment is not allowed" },
	{ "[::1]:443/", true, -1, NULL, 0, false, false, "a path, query or fragment is not allowed" },
	{ "h\xc3\xa9.com", false, -1, NULL, 0, false, false, "invalid character" },
	{ "127.1", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "2130706433:80", true, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "0x7f.0.0.1", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "010.0.0.1", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "1.2.3.4.5", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "256.0.0.1", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
	{ "example.0x1F", false, -1, NULL, 0, false, false, "malformed IPv4 address" },
};

static void test_authority_table(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(authority_cases); i++) {
		const struct authority_case *t = &authority_cases[i];
		struct http_authority a;
		const char *why = NULL;
		int rc = http_parse_authority(t->in, strlen(t->in), t->port_required, &a, &why);

		CHECK_INT(rc, t->want ? PH_ERROR : PH_OK);
		if (rc != (t->want ? PH_ERROR : PH_OK))
			fprintf(stderr, "  case: %s (%s)\n", t->in, why ? why : "");
		if (t->want == 0 && rc == 0) {
			CHECK_STR(a.host, t->host);
			CHECK_INT(a.port, t->port);
			CHECK_INT(a.is_ip, t->is_ip);
			CHECK_INT(a.is_ipv6, t->is_ipv6);
		} else if (t->want < 0) {
			CHECK_WHY(why, t->phrase);
		}
	}
}

/* ---- absolute URIs ---- */

struct uri_case {
	const char *in;
	int want;
	const char *host;
	uint16_t port;
	const char *path; /* expected path bytes */
	const char *phrase;
};

static const struct uri_case uri_cases[] = {
	{ "http://example.com/path?q=1", 0, "example.com", 80, "/path?q=1", NULL },
	{ "HTTP://Example.com:8080", 0, "example.com", 8080, "/", NULL },
	{ "http://example.com?x=1", 0, "example.com", 80, "?x=1", NULL },
	{ "http://[::1]:8080/a", 0, "::1", 8080, "/a", NULL },
	{ "http://10.0.0.1/", 0, "10.0.0.1", 80, "/", NULL },
	{ "http://example.com/@foo:bar", 0, "example.com", 80, "/@foo:bar", NULL },
	{ "http://example.com./x", 0, "example.com", 80, "/x", NULL },
	{ "https://example.com/", -1, NULL, 0, NULL, "https:// URLs must be sent through CONNECT" },
	{ "HTTPS://example.com/", -1, NULL, 0, NULL, "through CONNECT" },
	{ "ftp://example.com/file", -1, NULL, 0, NULL, "ftp:// is not supported" },
	{ "ws://example.com/", -1, NULL, 0, NULL, "ws:// is not supported" },
	{ "foo+bar://x/", -1, NULL, 0, NULL, "unsupported URL scheme" },
	{ "http://user:pass@example.com/", -1, NULL, 0, NULL, "credentials in the URL are not accepted" },
	{ "http://user@example.com", -1, NULL, 0, NULL, "credentials in the URL" },
	{ "http://example.com/a#frag", -1, NULL, 0, NULL, "fragment" },
	{ "http://example.com#frag", -1, NULL, 0, NULL, "fragment" },
	{ "http:/example.com", -1, NULL, 0, NULL, "malformed http URL" },
	{ "http:", -1, NULL, 0, NULL, "malformed http URL" },
	{ "http://", -1, NULL, 0, NULL, "without a host" },
	{ "http:///path", -1, NULL, 0, NULL, "without a host" },
	{ "/path", -1, NULL, 0, NULL, "not an absolute URL" },
	{ "example.com:80", -1, NULL, 0, NULL, "unsupported URL scheme" },
	{ "1http://x/", -1, NULL, 0, NULL, "not an absolute URL" },
	{ "", -1, NULL, 0, NULL, "not an absolute URL" },
	{ "http://exa mple.com/", -1, NULL, 0, NULL, "invalid character in URL" },
	{ "http://example.com:99999/", -1, NULL, 0, NULL, "out of range" },
	{ "http://::1/", -1, NULL, 0, NULL, "need brackets" },
	{ "http://127.1/", -1, NULL, 0, NULL, "malformed IPv4" },
};

static void test_uri_table(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(uri_cases); i++) {
		const struct uri_case *t = &uri_cases[i];
		struct http_uri u;
		const char *why = NULL;
		size_t len = strlen(t->in);
		int rc = http_parse_absolute_uri(t->in, len, &u, &why);

		CHECK_INT(rc, t->want ? PH_ERROR : PH_OK);
		if (rc != (t->want ? PH_ERROR : PH_OK))
			fprintf(stderr, "  case: %s (%s)\n", t->in, why ? why : "");
		if (t->want == 0 && rc == 0) {
			CHECK_STR(u.authority.host, t->host);
			CHECK_INT(u.authority.port, t->port);
			CHECK_INT(u.path_len, strlen(t->path));
			CHECK(memcmp(u.path, t->path, u.path_len) == 0);
			if (u.path_len > 0 && strcmp(t->path, "/") != 0)
				CHECK(u.path >= t->in && u.path + u.path_len == t->in + len);
		} else if (t->want < 0) {
			CHECK_WHY(why, t->phrase);
		}
	}
}

/* ---- lookups ---- */

static void test_lookups(void)
{
	static const char in[] = "GET / HTTP/1.1\r\n"
	                         "Connection: keep-alive, Upgrade\r\n"
	                         "connection: X-Custom\r\n"
	                         "Upgrade: websocket\r\n"
	                         "Expect: 100-continue\r\n"
	                         "X-List: ,  a ,b,,\tc\t,\r\n"
	                         "\r\n";
	struct http_request req;
	const struct http_header *h;
	const char *why = NULL;

	CHECK(head_request(in, sizeof(in) - 1, BIG_HEAD, &req, &why) > 0);
	h = http_find_header(req.headers, req.nheaders, "CONNECTION");
	CHECK(h == &req.headers[0]);
	h = http_find_header(req.headers, req.nheaders, "upgrade");
	CHECK(h == &req.headers[2]);
	CHECK(http_find_header(req.headers, req.nheaders, "Host") == NULL);
	CHECK(http_find_header(req.headers, req.nheaders, "Upgrad") == NULL);

	CHECK(http_headers_have_token(req.headers, req.nheaders, "Connection", "upgrade"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "Connection", "KEEP-ALIVE"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "Connection", "x-custom"));
	CHECK(!http_headers_have_token(req.headers, req.nheaders, "Connection", "close"));
	CHECK(!http_headers_have_token(req.headers, req.nheaders, "Connection", "keep"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "Expect", "100-Continue"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "X-List", "a"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "X-List", "b"));
	CHECK(http_headers_have_token(req.headers, req.nheaders, "X-List", "c"));
	CHECK(!http_headers_have_token(req.headers, req.nheaders, "X-List", ""));
	CHECK(!http_headers_have_token(req.headers, req.nheaders, "X-Missing", "a"));
	CHECK(http_headers_have_token_len(req.headers, req.nheaders, "Connection", "X-Custom: no", 8));
	CHECK(!http_headers_have_token_len(req.headers, req.nheaders, "Connection", "X-Custom: no", 7));
	CHECK(!http_headers_have_token_len(req.headers, req.nheaders, "Connection", "", 0));
	CHECK(http_value_has_token("close", 5, "Close"));
	CHECK(!http_value_has_token("closed", 6, "close"));
	CHECK(!http_value_has_token("", 0, "close"));

	CHECK(http_is_hop_by_hop("Connection", 10));
	CHECK(http_is_hop_by_hop("keep-alive", 10));
	CHECK(http_is_hop_by_hop("PROXY-CONNECTION", 16));
	CHECK(http_is_hop_by_hop("Proxy-Authenticate", 18));
	CHECK(http_is_hop_by_hop("Proxy-Authorization", 19));
	CHECK(http_is_hop_by_hop("te", 2));
	CHECK(http_is_hop_by_hop("Trailer", 7));
	CHECK(http_is_hop_by_hop("Transfer-Encoding", 17));
	CHECK(http_is_hop_by_hop("Upgrade", 7));
	CHECK(!http_is_hop_by_hop("Trailers", 8));
	CHECK(!http_is_hop_by_hop("Host", 4));
	CHECK(!http_is_hop_by_hop("Content-Length", 14));
	CHECK(!http_is_hop_by_hop("Connection", 9));

	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 100, "Continue" },
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 400, "Bad Request" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
		{ 299, "Unknown" },
		{ 0, "Unknown" },
		{ -1, "Unknown" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(reasons); i++)
		CHECK_STR(http_reason(reasons[i].status), reasons[i].reason);
}

/* RFC 7639: comma-separated tokens, percent-decoded. */
struct alpn_case {
	const char *value;
	int want;        /* PH_OK or PH_ERROR */
	const char *ids; /* PH_OK: the decoded ids joined by '|' */
	const char *why; /* PH_ERROR: a phrase of the reason */
};

static const struct alpn_case alpn_cases[] = {
	{ "webrtc", PH_OK, "webrtc", NULL },
	{ "webrtc,c-webrtc", PH_OK, "webrtc|c-webrtc", NULL },
	{ " webrtc , c-webrtc ", PH_OK, "webrtc|c-webrtc", NULL },
	{ "h2, http%2F1.1", PH_OK, "h2|http/1.1", NULL },
	{ "%77ebrtc", PH_OK, "webrtc", NULL },
	{ "c%2dwebrtc", PH_OK, "c-webrtc", NULL },
	{ "a,,b, ,", PH_OK, "a|b", NULL },
	{ "", PH_OK, "", NULL },
	{ "%25", PH_OK, "%", NULL },
	{ "web rtc", PH_ERROR, NULL, "not a token" },
	{ "\"webrtc\"", PH_ERROR, NULL, "not a token" },
	{ "webrtc;q=1", PH_ERROR, NULL, "not a token" },
	{ "%", PH_ERROR, NULL, "two hex digits" },
	{ "%4", PH_ERROR, NULL, "two hex digits" },
	{ "%zz", PH_ERROR, NULL, "two hex digits" },
	{ "a,b,c,d,e,f,g,h,i", PH_ERROR, NULL, "too many" },
};

static void test_alpn(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(alpn_cases); i++) {
		const struct alpn_case *t = &alpn_cases[i];
		struct http_alpn a;
		const char *why = NULL;
		char joined[512] = "";
		int rc = http_alpn_parse(t->value, strlen(t->value), &a, &why);

		CHECK_INT(rc, t->want);
		if (rc != t->want) {
			fprintf(stderr, "  case: %s\n", t->value);
			continue;
		}
		if (rc != PH_OK) {
			CHECK_WHY(why, t->why);
			continue;
		}
		for (size_t k = 0; k < a.n; k++)
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%.*s", k ? "|" : "",
			         (int)a.ids[k].len, (const char *)a.ids[k].id);
		CHECK_STR(joined, t->ids);
	}
	/* 255 octets at most (RFC 7301). */
	char big[300];

	memset(big, 'a', sizeof(big));
	{
		struct http_alpn a;
		const char *why = NULL;

		CHECK_INT(http_alpn_parse(big, 255, &a, &why), PH_OK);
		CHECK_INT(http_alpn_parse(big, 256, &a, &why), PH_ERROR);
		CHECK_WHY(why, "255 octets");
	}
	/* Over a request's headers: any ALPN line, exact ids only. */
	static const char head[] = "CONNECT turn.example.com:443 HTTP/1.1\r\nHost: turn.example.com:443\r\n"
	                           "ALPN: h2\r\nalpn: c-webrtc\r\nALPN: bad value\r\n\r\n";
	struct http_request req;
	const char *why;

	CHECK(head_request(head, sizeof(head) - 1, BIG_HEAD, &req, &why) > 0);
	CHECK(http_alpn_names(req.headers, req.nheaders, "c-webrtc"));
	CHECK(http_alpn_names(req.headers, req.nheaders, "h2"));
	CHECK(!http_alpn_names(req.headers, req.nheaders, "webrtc"));
	CHECK(!http_alpn_names(req.headers, req.nheaders, "C-WEBRTC"));
	CHECK(!http_alpn_names(req.headers, req.nheaders, "bad"));
}

int main(void)
{
	test_request_table();
	test_request_fields();
	test_request_limits();
	test_response_table();
	test_framing_table();
	test_chunked_table();
	test_chunked_limits();
	test_pipelining();
	test_authority_table();
	test_uri_table();
	test_lookups();
	test_alpn();
	return unit_summary("test_http");
}
