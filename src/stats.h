/*
 * stats.h - counters the request path publishes for /metrics.  Each worker
 * owns one struct stats and is its only writer (relaxed atomic adds, no
 * lock, no shared cache line with another worker); the admin thread sums
 * the workers' structs when it is asked.
 */
#ifndef PINHOLE_STATS_H
#define PINHOLE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* Latency histogram buckets, in milliseconds (upper bounds; +Inf last). */
#define STATS_LAT_BUCKETS 12
extern const double stats_lat_bounds_ms[STATS_LAT_BUCKETS - 1];

enum stats_status {
	STATS_1XX,
	STATS_2XX,
	STATS_3XX,
	STATS_4XX,
	STATS_5XX,
	STATS_400,
	STATS_403,
	STATS_407,
	STATS_431,
	STATS_502,
	STATS_503,
	STATS_504,
	STATS_NSTATUS,
};

enum stats_denial {
	STATS_DENY_RULE,    /* 403 by a deny rule */
	STATS_DENY_NO_RULE, /* 403: no rule allowed it */
	STATS_DENY_AUTH,    /* 407 */
	STATS_DENY_LIMIT,   /* 503 max-connections */
	STATS_NDENIAL,
};

enum stats_auth_result {
	STATS_AUTH_OK,
	STATS_AUTH_CHALLENGE,
	STATS_AUTH_DENIED,
	STATS_AUTH_BROKEN,
	STATS_NAUTH_RESULT,
};

#define STATS_NSCHEMES 4 /* Basic, Digest, NTLM, Negotiate */
extern const char *const stats_scheme_names[STATS_NSCHEMES];

struct stats {
	atomic_uint_fast64_t connections_total;
	atomic_uint_fast64_t connections_active;
	atomic_uint_fast64_t tunnels_total;
	atomic_uint_fast64_t tunnels_active;
	atomic_uint_fast64_t requests_total; /* HTTP requests forwarded */
	atomic_uint_fast64_t bytes_from_clients;
	atomic_uint_fast64_t bytes_to_clients;
	atomic_uint_fast64_t status[STATS_NSTATUS];
	atomic_uint_fast64_t denials[STATS_NDENIAL];
	atomic_uint_fast64_t auth[STATS_NSCHEMES][STATS_NAUTH_RESULT];
	atomic_uint_fast64_t auth_surrogate; /* requests accepted by auth-surrogate */
	atomic_uint_fast64_t inspect[8];     /* tunnels by TLS decision (enum tls_decision, < 8) */
	atomic_uint_fast64_t pinning_failures;
	atomic_uint_fast64_t sni_mismatches;        /* TLS tunnels whose SNI named another host than the CONNECT */
	atomic_uint_fast64_t listener_tls_failures; /* handshakes an HTTPS proxy listener's clients failed */
	atomic_uint_fast64_t wrong_protocol[2];     /* plain HTTP to a TLS listener [0], TLS to a plain one [1] */
	atomic_uint_fast64_t dns_ms[STATS_LAT_BUCKETS];
	atomic_uint_fast64_t dns_ms_sum;
	atomic_uint_fast64_t connect_ms[STATS_LAT_BUCKETS];
	atomic_uint_fast64_t connect_ms_sum;
} __attribute__((aligned(64)));

static inline void stats_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void stats_sub(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t stats_get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void stats_status(struct stats *s, int status);
void stats_latency(atomic_uint_fast64_t *buckets, atomic_uint_fast64_t *sum, uint64_t ms);
/* The scheme's index in stats_scheme_names, or -1. */
int stats_scheme_index(const char *scheme);

/* All workers' counters, registered by the engine. */
struct stats *stats_worker(int i);
int stats_nworkers(void);
void stats_register(struct stats *workers, int n);

#endif
