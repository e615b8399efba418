/*
 * fuzz_domainfile.c - libFuzzer target for domain-file's parser: arbitrary
 * bytes as a list file.  Whatever parses is then matched two ways, through
 * the index and pattern by pattern with acl_domain_match, against hosts
 * made from the input's own lines (each line, a subdomain of it, the line
 * upper-cased); the two must agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

/* The lines as the parser sees them: '#' ends one, blanks around it go. */
static size_t split_lines(const char *text, size_t len, char lines[][300])
{
	size_t n = 0;
	const char *p = text, *end = text + len;

	while (p < end && n < MAX_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *b = p, *e = nl ? nl : end, *h = memchr(b, '#', (size_t)(e - b));

		p = nl ? nl + 1 : end;
		if (h)
			e = h;
		while (b < e && strchr(" \t\r\v\f", *b) && *b)
			b++;
		while (e > b && strchr(" \t\r\v\f", e[-1]) && e[-1])
			e--;
		if (b == e || (size_t)(e - b) >= 300 || memchr(b, '\0', (size_t)(e - b)))
			continue;
		memcpy(lines[n], b, (size_t)(e - b));
		lines[n][e - b] = '\0';
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char lines[MAX_LINES][300];
	struct domain_pattern pats[MAX_LINES];
	struct domain_index ix = { 0 };
	struct cfg_errors errs = { 0 };
	size_t nlines, npats = 0, nparsed, bad;

	bad = acl_domain_file_parse(&ix, "fuzz.list", (const char *)data, size, &errs, &nparsed);
	if ((bad == 0) != (errs.n == 0))
		abort(); /* a bad line always says why */
	nlines = split_lines((const char *)data, size, lines);
	for (size_t i = 0; i < nlines; i++)
		if (acl_domain_pattern_parse(&pats[npats], lines[i]) == PH_OK)
			npats++;
	/* Past MAX_LINES the oracle sees only part of the list. */
	if (nlines < MAX_LINES && npats == nparsed) {
		for (size_t i = 0; i < nlines; i++) {
			char host[320];

			for (int form = 0; form < 3; form++) {
				bool want = false, got;

				if (form == 0)
					snprintf(host, sizeof(host), "%s", lines[i]);
				else if (form == 1)
					snprintf(host, sizeof(host), "x.%s", lines[i]);
				else
					for (size_t k = 0; k <= strlen(lines[i]); k++)
						host[k] = (char)(lines[i][k] >= 'a' && lines[i][k] <= 'z'
						                         ? lines[i][k] - 32
						                         : lines[i][k]);
				for (size_t k = 0; k < npats; k++)
					want = want || acl_domain_match(&pats[k], host, NULL);
				got = acl_domain_index_match(&ix, host, NULL);
				if (got != want) {
					fprintf(stderr, "fuzz_domainfile: host '%s': index %d, patterns %d\n", host,
					        got, want);
					abort();
				}
			}
		}
	}
	for (size_t k = 0; k < npats; k++)
		acl_domain_pattern_free(&pats[k]);
	acl_domain_index_free(&ix);
	cfg_errors_free(&errs);
	return 0;
}
