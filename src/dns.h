/*
 * dns.h - asynchronous name resolution for one worker: IP literals and the
 * configured hosts-file answer at once; everything else goes to c-ares,
 * driven by the worker's event loop (no thread, no blocking call).  Owns
 * the hosts-file and dns-server directives.
 */
#ifndef PINHOLE_DNS_H
#define PINHOLE_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "cfgparse.h"
#include "hosts.h"

struct loop;
struct dns;
struct dns_query;

/* hosts-file and dns-server (dns_section). */
struct dns_settings {
	char *hosts_file;
	struct hosts hosts;
	char *servers; /* c-ares CSV "1.2.3.4:53,[::1]:53"; NULL = resolv.conf */
	size_t servers_len;
};

extern const struct cfg_section dns_section;

#define DNS_MAX_ADDRS 16

struct dns_result {
	int n;                                        /* addresses, in try order */
	struct sockaddr_storage addrs[DNS_MAX_ADDRS]; /* with the port filled in */
	const char *error;                            /* when n == 0: "no such domain", "timed out", ... */
	uint64_t elapsed_ms;
};

typedef void (*dns_cb)(void *arg, const struct dns_result *res);

struct dns *dns_new(struct loop *loop, const struct dns_settings *ds);
void dns_free(struct dns *dns);
/* Applies a reloaded configuration's dns-server list (hosts come per query). */
void dns_reconfigure(struct dns *dns, const struct dns_settings *ds);

/* Resolves host (normalised) for port.  Answers PH_OK with *res filled when
 * the answer is immediate (IP literal, hosts-file entry), PH_AGAIN when cb
 * will be called later from the event loop (*q is then the handle for
 * dns_cancel), or PH_ERROR with res->error set. Addresses are ordered
 * IPv6 first then IPv4, as getaddrinfo would with default policy. */
int dns_resolve(struct dns *dns, const struct dns_settings *ds, const char *host, uint16_t port, struct dns_result *res,
                dns_cb cb, void *arg, struct dns_query **q);
/* The callback of a cancelled query is never called. */
void dns_cancel(struct dns *dns, struct dns_query *q);

#endif
