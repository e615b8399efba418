/*
 * fuzz_admin.c - libFuzzer target for the admin interface's request check
 * (admin_check_request: the Host, Origin and Sec-Fetch-Site a browser or
 * anyone on the network sent, against the admin-host names).  The input is
 * fields separated by newlines: method, Host, Origin, Sec-Fetch-Site, then
 * admin-host names; the first byte says which of the headers are absent
 * and how big the answer's buffer is, the next two the admin port.
 * Beyond the sanitizers: the answer is 0 or 403 with a sentence that fits
 * its buffer; GET and HEAD are refused only for their Host; a state-changing
 * request passes only with a web Origin of this port, or none, and never
 * from a cross-site page; more admin-host names never refuse what fewer let
 * through.
 */
#include "admin.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

#define MAX_NAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(char *const field[4], unsigned port, char *const *names, size_t nnames, size_t whylen)
{
	char *why = malloc(whylen);
	int r;

	why[0] = '\0';
	r = admin_check_request(field[0], field[1], field[2], field[3], port, names, nnames, why, whylen);
	FUZZ_ASSERT(r == 0 || r == 403);
	if (r) {
		size_t n = strnlen(why, whylen);

		FUZZ_ASSERT(n < whylen && (n > 0 || whylen == 1));
	}
	free(why);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *p, *field[4] = { 0 }, *names[MAX_NAMES];
	size_t nnames = 0, nfields = 0, whylen;
	unsigned port;
	uint8_t flags;
	int r;

	if (size < 3)
		return 0;
	flags = data[0];
	port = (unsigned)data[1] << 8 | data[2];
	whylen = (flags & 0x80) ? 400 : (size_t)(flags & 0x70) + 1;
	copy = malloc(size - 3 + 1);
	memcpy(copy, data + 3, size - 3);
	copy[size - 3] = '\0';
	for (p = copy; p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl++ = '\0';
		if (nfields < 4)
			field[nfields++] = p;
		else if (nnames < MAX_NAMES)
			names[nnames++] = p;
		p = nl;
	}
	if (!field[0]) {
		free(copy);
		return 0;
	}
	for (int i = 1; i < 4; i++)
		if (flags & (1u << i))
			field[i] = NULL;

	r = check(field, port, names, nnames, whylen);
	FUZZ_ASSERT(check(field, port, names, nnames, whylen) == r);
	/* Fewer names refuse at least as much. */
	if (nnames && r == 403)
		FUZZ_ASSERT(check(field, port, names, nnames - 1, whylen) == 403);
	if (strcmp(field[0], "GET") == 0 || strcmp(field[0], "HEAD") == 0) {
		/* Reading is refused for a foreign Host only. */
		char *no_host[4] = { field[0], NULL, field[2], field[3] };

		FUZZ_ASSERT(check(no_host, port, names, nnames, whylen) == 0);
	} else if (r == 0) {
		FUZZ_ASSERT(!field[3] || strcmp(field[3], "cross-site") != 0);
		FUZZ_ASSERT(!field[2] || strncmp(field[2], "http://", 7) == 0 || strncmp(field[2], "https://", 8) == 0);
	}
	free(copy);
	return 0;
}
