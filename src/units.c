/*
 * units.c - the numbers with units of the configuration: durations (30s,
 * 5m, 1h, 250ms) and sizes (64k, 1M).  Apart from config.c so that the
 * auth schemes parse their options the same way without the parser.
 */
#include "config.h"

#include <string.h>

#include "common.h"

/* The number and its unit: digits, then the rest of the word. */
static int split_number(const char *s, uint64_t *v, const char **unit)
{
	uint64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return PH_ERROR;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return PH_ERROR;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	*unit = p;
	return PH_OK;
}

int config_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t v, mult;
	const char *unit;

	if (split_number(s, &v, &unit) != PH_OK)
		return PH_ERROR;
	if (strcmp(unit, "") == 0 || strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(unit, "d") == 0)
		mult = 24 * 3600 * 1000;
	else
		return PH_ERROR;
	if (v > UINT64_MAX / mult)
		return PH_ERROR;
	*ms = v * mult;
	return PH_OK;
}

int config_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v, mult;
	const char *unit;

	if (split_number(s, &v, &unit) != PH_OK)
		return PH_ERROR;
	if (strcmp(unit, "") == 0)
		mult = 1;
	else if (strcmp(unit, "k") == 0 || strcmp(unit, "K") == 0)
		mult = 1024;
	else if (strcmp(unit, "m") == 0 || strcmp(unit, "M") == 0)
		mult = 1024 * 1024;
	else
		return PH_ERROR;
	if (v > UINT64_MAX / mult)
		return PH_ERROR;
	*bytes = v * mult;
	return PH_OK;
}
