/*
 * unit.h - the few macros pinhole's unit tests need: a check that reports
 * file:line and what was expected, a summary that sets the exit status
 * Automake's harness reads (0 pass, 1 fail), and an address from its text.
 */
#ifndef PINHOLE_UNIT_H
#define PINHOLE_UNIT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		unit_checks++;                                                                   \
		if (!(cond)) {                                                                   \
			unit_failures++;                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_INT(got, want)                                                                                 \
	do {                                                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);                                     \
		unit_checks++;                                                                               \
		if (g_ != w_) {                                                                              \
			unit_failures++;                                                                     \
			fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
		}                                                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                                            \
	do {                                                                                            \
		const char *g_ = (got), *w_ = (want);                                                   \
		unit_checks++;                                                                          \
		if (!g_ || strcmp(g_, w_) != 0) {                                                       \
			unit_failures++;                                                                \
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got, \
			        g_ ? g_ : "(null)", w_);                                                \
		}                                                                                       \
	} while (0)

/* A byte string with its length, so that cases may contain NUL. */
#define B(s) s, sizeof(s) - 1

/* An IPv4 or IPv6 address (no brackets, no port) as a socket address. */
static inline struct sockaddr_storage unit_ip(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			abort();
	}
	return ss;
}

static inline int unit_contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* The parser's explanation mentions the expected phrase. */
#define CHECK_WHY(why, phrase)                                                                  \
	do {                                                                                    \
		unit_checks++;                                                                  \
		if (!unit_contains((why), (phrase))) {                                          \
			unit_failures++;                                                        \
			fprintf(stderr, "%s:%d: why \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
			        (why) ? (why) : "(null)", (phrase));                            \
		}                                                                               \
	} while (0)

static inline int unit_summary(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
