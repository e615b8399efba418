/*
 * stats.c - helpers for the per-worker counters (stats.h): status classes,
 * latency buckets, and the registry the admin thread reads.
 */
#include "stats.h"

#include <stdatomic.h>
#include <string.h>

#include "common.h"

const double stats_lat_bounds_ms[STATS_LAT_BUCKETS - 1] = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000 };
const char *const stats_scheme_names[STATS_NSCHEMES] = { "Basic", "Digest", "NTLM", "Negotiate" };

static struct stats *registered;
static atomic_int registered_n;

void stats_status(struct stats *s, int status)
{
	if (status >= 100 && status < 600)
		stats_add(&s->status[STATS_1XX + status / 100 - 1], 1);
	switch (status) {
	case 400:
		stats_add(&s->status[STATS_400], 1);
		break;
	case 403:
		stats_add(&s->status[STATS_403], 1);
		break;
	case 407:
		stats_add(&s->status[STATS_407], 1);
		break;
	case 431:
		stats_add(&s->status[STATS_431], 1);
		break;
	case 502:
		stats_add(&s->status[STATS_502], 1);
		break;
	case 503:
		stats_add(&s->status[STATS_503], 1);
		break;
	case 504:
		stats_add(&s->status[STATS_504], 1);
		break;
	default:
		break;
	}
}

void stats_latency(atomic_uint_fast64_t *buckets, atomic_uint_fast64_t *sum, uint64_t ms)
{
	int i = 0;

	while (i < STATS_LAT_BUCKETS - 1 && (double)ms > stats_lat_bounds_ms[i])
		i++;
	stats_add(&buckets[i], 1);
	stats_add(sum, ms);
}

int stats_scheme_index(const char *scheme)
{
	for (int i = 0; scheme && i < STATS_NSCHEMES; i++)
		if (strcmp(scheme, stats_scheme_names[i]) == 0)
			return i;
	return -1;
}

void stats_register(struct stats *workers, int n)
{
	registered = workers;
	atomic_store(&registered_n, n);
}

int stats_nworkers(void)
{
	return atomic_load(&registered_n);
}

struct stats *stats_worker(int i)
{
	return &registered[i];
}
