/*
 * fuzz_proxyproto.c - libFuzzer target for proxyproto.c: parses the input as
 * the first bytes of a proxy-protocol connection and aborts when an
 * invariant of proxyproto.h breaks (length bounds, addresses, and that fewer
 * bytes only ever mean "need more" for a header that parses).
 */
#include "common.h"
#include "proxyproto.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_family(const struct sockaddr_storage *ss)
{
	FUZZ_ASSERT(ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_result r, r2;
	const char *why = NULL;
	size_t k = size ? (size_t)data[0] * 7 % size : 0;
	int rc, rk;

	rc = proxyproto_parse(data, size, &r, &why);
	FUZZ_ASSERT(rc >= -1);
	if (rc < 0)
		FUZZ_ASSERT(why != NULL);
	rk = proxyproto_parse(data, k, &r2, &why);
	FUZZ_ASSERT(rk >= -1);
	if (rk < 0)
		FUZZ_ASSERT(rc < 0);
	if (rc == 0) {
		FUZZ_ASSERT(rk == 0);
		FUZZ_ASSERT(size < PROXYPROTO_MAX_LEN);
		FUZZ_ASSERT(!r.has_addr);
		return 0;
	}
	if (rc < 0)
		return 0;

	FUZZ_ASSERT((size_t)rc <= size && rc <= PROXYPROTO_MAX_LEN);
	FUZZ_ASSERT(r.version == 1 || r.version == 2);
	if (r.version == 1) {
		FUZZ_ASSERT(rc <= 107 && rc >= 8);
		FUZZ_ASSERT(data[rc - 2] == '\r' && data[rc - 1] == '\n');
		FUZZ_ASSERT(memcmp(data, "PROXY ", 6) == 0);
	} else {
		FUZZ_ASSERT(rc >= 16);
		FUZZ_ASSERT(rc == 16 + (data[14] << 8 | data[15]));
	}
	if (r.has_addr) {
		check_family(&r.src);
		check_family(&r.dst);
		FUZZ_ASSERT(r.src.ss_family == r.dst.ss_family);
	}
	if (k < (size_t)rc)
		FUZZ_ASSERT(rk == 0);
	/* the header alone parses the same; one byte less needs more */
	rk = proxyproto_parse(data, (size_t)rc, &r2, &why);
	FUZZ_ASSERT(rk == rc && r2.has_addr == r.has_addr && r2.version == r.version);
	if (r.has_addr)
		FUZZ_ASSERT(memcmp(&r.src, &r2.src, sizeof(r.src)) == 0 && memcmp(&r.dst, &r2.dst, sizeof(r.dst)) == 0);
	FUZZ_ASSERT(proxyproto_parse(data, (size_t)rc - 1, &r2, &why) == 0);
	return 0;
}
