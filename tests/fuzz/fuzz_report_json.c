/*
 * fuzz_report_json.c - libFuzzer target for how `pinhole report` reads an
 * answer: the input is what an admin interface answered for /report.json,
 * read through jansson into a report (report_read).  What reads is merged
 * with itself, printed, and written back as JSON, which must read back to
 * the very same text; a refusal must say why, safe for a terminal, and
 * leave nothing allocated; the terminal-safe copy of the raw bytes must
 * hold no control character.
 */
#include "report_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	return 0;
}

/* What is shown to the admin: no control character, no C1 (U+0080..U+009F
 * is C2 80..C2 9F in UTF-8). */
static void check_shown(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
		FUZZ_ASSERT(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f));
	}
}

static void check_term_safe(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out = malloc(size + 4);
	size_t maxcols = size ? data[0] % 50 : 0;

	memcpy(s, data, size);
	s[size] = '\0';
	size_t cps = report_term_safe(s, maxcols, out, size + 4);

	FUZZ_ASSERT(!maxcols || cps <= maxcols);
	check_shown(out);
	free(s);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r, m = { 0 }, back;
	char why[256] = "";

	check_term_safe(data, size);
	if (report_read((const char *)data, size, "fuzz:1", &r, why, sizeof(why)) < 0) {
		FUZZ_ASSERT(why[0] != '\0');
		check_shown(why);
		FUZZ_ASSERT(r.nclients == 0 && r.clients == NULL && r.generated == NULL);
		return 0;
	}
	report_merge(&m, &r);
	report_merge(&m, &r);
	report_sort(&m);
	if (devnull)
		report_print_table(devnull, &m, 2);

	struct report_instance inst = { "fuzz:1", m.generated, m.nclients, NULL };
	size_t len;
	char *text = report_to_json(&m, &inst, 1, &len);

	FUZZ_ASSERT(strlen(text) == len);
	FUZZ_ASSERT(report_read(text, len, NULL, &back, why, sizeof(why)) == 0);
	FUZZ_ASSERT(back.nclients == m.nclients);
	report_sort(&back);

	char *again = report_to_json(&back, &inst, 1, NULL);

	FUZZ_ASSERT(strcmp(text, again) == 0);
	free(again);
	free(text);
	report_free(&back);
	report_free(&m);
	report_free(&r);
	return 0;
}
