/*
 * procstat.h - what /metrics says of the process itself, read from
 * /proc/self as Prometheus's own clients do (the process_* metrics).
 */
#ifndef PINHOLE_PROCSTAT_H
#define PINHOLE_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>

struct procstat {
	double cpu_seconds;      /* user + system time */
	uint64_t resident_bytes; /* RSS */
	uint64_t virtual_bytes;  /* address space */
	uint64_t open_fds;       /* entries of /proc/self/fd */
	uint64_t max_fds;        /* RLIMIT_NOFILE's soft limit */
	bool ok;                 /* /proc/self/stat could be read */
};

void procstat_read(struct procstat *p);

#endif
