/*
 * common.h - what every pinhole module shares: the step results, a few
 * size helpers and the monotonic clock. Nothing protocol-specific lives here.
 */
#ifndef PINHOLE_COMMON_H
#define PINHOLE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Every non-blocking step answers with one of these, and only these:
 *   PH_OK     done: the state may have changed, run the current step again
 *             (a parser: the whole thing was read);
 *   PH_AGAIN  not yet: come back when the event loop says so (readiness, a
 *             timer, a helper's answer); the loop is the only waiter;
 *   PH_DONE   the work is over: a normal end (a tunnel whose both sides
 *             closed, a connection that asked to close, a request already
 *             answered);
 *   PH_ERROR  failed: give up (the cause was logged or answered). */
enum {
	PH_OK = 0,
	PH_AGAIN = 1,
	PH_DONE = 2,
	PH_ERROR = -1,
};

#define PH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PH_MAX(a, b) ((a) > (b) ? (a) : (b))
#define PH_UNUSED(x) ((void)(x))

/* Monotonic milliseconds, for timers and durations. */
uint64_t ph_mono_ms(void);
/* Wall-clock milliseconds since the epoch, for logs. */
uint64_t ph_wall_ms(void);

/* Allocation that never returns NULL: pinhole aborts on out-of-memory
 * rather than carrying a half-built state around. */
void *ph_malloc(size_t n);
void *ph_calloc(size_t n, size_t size);
void *ph_realloc(void *p, size_t n);
char *ph_strdup(const char *s);
char *ph_strndup(const char *s, size_t n);
/* Copies s into dst (cap bytes, cap > 0), cut to fit, always terminated:
 * snprintf(dst, cap, "%s", s) without the format interpreter, for the
 * request path. */
void ph_strlcpy(char *dst, const char *s, size_t cap);

/* ASCII case-insensitive helpers (locale-independent). */
bool ph_strcaseeq(const char *a, const char *b);
bool ph_memcaseeq(const char *a, size_t alen, const char *b, size_t blen);
/* The value of a hexadecimal digit, or -1. */
static inline int ph_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline char ph_tolower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Formats a socket address as "1.2.3.4" or "::1" (no port) into buf. */
const char *ph_addr_str(const void *sockaddr_storage, char *buf, size_t len);

#endif
