/*
 * hosts.h - a hosts-file (the /etc/hosts format: ADDRESS NAME...), read
 * into a sorted table of names and their addresses, for static overrides
 * of DNS in labs and tests (hosts-file; dns.c consults it first).
 */
#ifndef PINHOLE_HOSTS_H
#define PINHOLE_HOSTS_H

#include <stddef.h>
#include <sys/socket.h>

#include "cfgparse.h"

#define HOSTS_MAX_ADDRS 8
struct hosts_entry {
	char *name; /* normalised (acl_host_normalise) */
	size_t naddrs;
	struct sockaddr_storage addrs[HOSTS_MAX_ADDRS]; /* port 0 */
};
struct hosts {
	struct hosts_entry *entries;
	size_t n;
};

/* Parses text (the file fname) into h; errors name fname and the line. */
void hosts_parse(struct hosts *h, const char *fname, const char *text, size_t len, struct cfg_errors *errs);
void hosts_free(struct hosts *h);
/* The entry for a host name, or NULL (case and a trailing dot do not matter). */
const struct hosts_entry *hosts_lookup(const struct hosts *h, const char *name);

#endif
