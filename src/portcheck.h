/*
 * portcheck.h - a listening port belongs to one process.  pinhole's
 * workers share each port through SO_REUSEPORT, which would also let a
 * second pinhole (same user) bind it and silently take a share of the
 * connections; a probe bound without SO_REUSEPORT first fails as Squid or
 * HAProxy would, and the owner is looked up in /proc to be named.
 */
#ifndef PINHOLE_PORTCHECK_H
#define PINHOLE_PORTCHECK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* 0 when nothing listens on addr (any other socket in the LISTEN state on
 * it, or on a wildcard address of its port); -1 with errno and, in why,
 * what holds it ("in use by pid 1234 (pinhole)") when /proc tells. */
int portcheck_probe(const struct sockaddr_storage *addr, socklen_t len, char *why, size_t whylen);

/* The process (not this one) with a socket listening on addr's port and
 * address (or a wildcard one), from /proc/net/tcp{,6} and /proc/PID/fd;
 * -1 when it cannot be told (another user's process under ProtectProc,
 * or none).  comm gets its command name. */
pid_t portcheck_owner(const struct sockaddr_storage *addr, char *comm, size_t commlen);

#endif
