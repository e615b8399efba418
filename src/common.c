/*
 * common.c - clocks, allocation that never fails silently, and the small
 * string and address helpers every module uses.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

uint64_t ph_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t ph_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *oom(size_t n)
{
	fprintf(stderr, "pinhole: out of memory allocating %zu bytes\n", n);
	abort();
}

void *ph_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *ph_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *ph_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom(n);
}

void ph_strlcpy(char *dst, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

char *ph_strdup(const char *s)
{
	return ph_strndup(s, strlen(s));
}

char *ph_strndup(const char *s, size_t n)
{
	char *p = ph_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool ph_memcaseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ph_tolower(a[i]) != ph_tolower(b[i]))
			return false;
	return true;
}

bool ph_strcaseeq(const char *a, const char *b)
{
	return ph_memcaseeq(a, strlen(a), b, strlen(b));
}

const char *ph_addr_str(const void *ss, char *buf, size_t len)
{
	const struct sockaddr_storage *sa = ss;

	if (!sa || len == 0)
		return "-";
	buf[0] = '\0';
	if (sa->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		/* IPv4-mapped addresses are shown as IPv4, as admins expect. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)len);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}
