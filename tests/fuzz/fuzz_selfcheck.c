/*
 * fuzz_selfcheck.c - libFuzzer target for what a browser sends the
 * self-check page: WebSocket frames to the echo (websocket.c) and the
 * posted results (selfcheck_parse_result).  The first input byte picks
 * which and the frame size limit.  Beyond the sanitizers: an accepted
 * frame header is 6, 8 or 14 bytes within the input and its length within
 * the limit, every shorter prefix of it asks for more bytes, and the header
 * pinhole writes for it parses back (masked) to the same frame; unmasking
 * twice gives the bytes back; accepted results hold printable text only,
 * at most SELFCHECK_TURN_MAX TURN results.
 */
#include "common.h"
#include "selfcheck.h"
#include "websocket.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	FUZZ_ASSERT(n < cap);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

static void frames(const uint8_t *buf, size_t len, uint64_t max)
{
	struct ws_frame f, g;
	const char *why = NULL;
	int r = ws_frame_parse(buf, len, max, &f, &why);

	if (r == PH_ERROR) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	if (r != PH_OK)
		return;
	FUZZ_ASSERT(f.header_len == 6 || f.header_len == 8 || f.header_len == 14);
	FUZZ_ASSERT(f.header_len <= len && f.length <= max);
	for (size_t k = 0; k < f.header_len; k++)
		FUZZ_ASSERT(ws_frame_parse(buf, k, max, &g, &why) == PH_AGAIN);

	uint8_t hdr[14];
	size_t n = ws_frame_header(hdr, f.fin, f.opcode, f.length);

	FUZZ_ASSERT(n + 4 == f.header_len);
	hdr[1] |= 0x80;
	memcpy(hdr + n, f.mask, 4);
	FUZZ_ASSERT(ws_frame_parse(hdr, n + 4, max, &g, &why) == PH_OK);
	FUZZ_ASSERT(g.fin == f.fin && g.opcode == f.opcode && g.length == f.length);
	FUZZ_ASSERT(memcmp(g.mask, f.mask, 4) == 0 && g.header_len == f.header_len);

	size_t avail = len - f.header_len;
	size_t take = avail < f.length ? avail : (size_t)f.length;
	uint8_t *p = malloc(take ? take : 1);

	memcpy(p, buf + f.header_len, take);
	ws_unmask(p, take, f.mask, 0);
	ws_unmask(p, take, f.mask, 0);
	FUZZ_ASSERT(memcmp(p, buf + f.header_len, take) == 0);
	free(p);
}

static void results(const char *body, size_t len)
{
	struct selfcheck_result r, again;
	const char *why = NULL;

	memset(&r, 0, sizeof(r));
	if (selfcheck_parse_result(body, len, &r, &why) != PH_OK) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(r.nturn <= SELFCHECK_TURN_MAX);
	printable(r.websocket_detail, sizeof(r.websocket_detail));
	for (size_t i = 0; i < r.nturn; i++) {
		printable(r.turn[i].server, sizeof(r.turn[i].server));
		printable(r.turn[i].detail, sizeof(r.turn[i].detail));
		FUZZ_ASSERT(r.turn[i].server[0] != '\0');
	}
	memset(&again, 0, sizeof(again));
	FUZZ_ASSERT(selfcheck_parse_result(body, len, &again, &why) == PH_OK);
	FUZZ_ASSERT(memcmp(&r, &again, sizeof(r)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		results((const char *)data + 1, size - 1);
	else
		frames(data + 1, size - 1, (data[0] & 0x80) ? 65536 : (uint64_t)(data[0] >> 1));
	return 0;
}
