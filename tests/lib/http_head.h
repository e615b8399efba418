/*
 * http_head.h - the head parsers of http.h as one number, for tests that
 * compare outcomes: > 0 the head's length, 0 more bytes needed, < 0 the
 * refusal's HTTP status, negated.
 */
#ifndef PINHOLE_TEST_HTTP_HEAD_H
#define PINHOLE_TEST_HTTP_HEAD_H

#include "common.h"
#include "http.h"

static inline int head_number(int step, size_t head_len, int status)
{
	if (step == PH_ERROR)
		return -status;
	return step == PH_OK ? (int)head_len : 0;
}

static inline int head_request(const char *buf, size_t len, size_t max_head, struct http_request *req,
                               const char **why)
{
	int status = 0;
	int step = http_parse_request(buf, len, max_head, req, &status, why);

	return head_number(step, req->head_len, status);
}

static inline int head_response(const char *buf, size_t len, size_t max_head, struct http_response *resp,
                                const char **why)
{
	int status = 0;
	int step = http_parse_response(buf, len, max_head, resp, &status, why);

	return head_number(step, resp->head_len, status);
}

#endif
