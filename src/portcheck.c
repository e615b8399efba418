/*
 * portcheck.c - exclusive listening ports (portcheck.h).
 *
 * The probe binds with SO_REUSEADDR (a port whose old connections linger in
 * TIME_WAIT is free) and without SO_REUSEPORT: the kernel then refuses it
 * with EADDRINUSE whenever a socket listens there, SO_REUSEPORT or not.
 * It is closed before the workers bind theirs.
 */
#include "portcheck.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define MAX_INODES 64

/* /proc/net/tcp writes an IPv4 address as the hex of its 4 bytes in host
 * order, and an IPv6 one as four such words. */
static bool parse_hex_addr(const char *hex, size_t n, uint8_t out[16], int *family)
{
	if (n != 8 && n != 32)
		return false;
	for (size_t w = 0; w < n / 8; w++) {
		uint32_t v = 0;

		for (size_t i = 0; i < 8; i++) {
			int d = ph_hexval(hex[w * 8 + i]);

			if (d < 0)
				return false;
			v = v << 4 | (uint32_t)d;
		}
		memcpy(out + w * 4, &v, 4); /* host order, as the kernel wrote it */
	}
	*family = n == 8 ? AF_INET : AF_INET6;
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The inodes of the sockets listening where addr would: same port, and
 * the same address or a wildcard on either side. */
static size_t listening_inodes(const struct sockaddr_storage *addr, unsigned long *inodes, size_t max)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	uint8_t want[16] = { 0 };
	size_t wantlen;
	uint16_t port;
	size_t n = 0;

	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)addr;

		memcpy(want, &s->sin_addr, 4);
		wantlen = 4;
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)addr;

		memcpy(want, &s->sin6_addr, 16);
		wantlen = 16;
		port = ntohs(s->sin6_port);
	}
	for (size_t f = 0; f < PH_ARRAY_LEN(files); f++) {
		FILE *fp = fopen(files[f], "re");
		char line[512];

		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp) && n < max) {
			char local[64], state[8];
			unsigned long inode;
			uint8_t a[16];
			int family;
			char *colon;

			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
			if (sscanf(line, " %*s %63s %*s %7s %*s %*s %*s %*s %*s %lu", local, state, &inode) != 3)
				continue;
			colon = strchr(local, ':');
			if (strcmp(state, "0A") != 0 || !colon || strtoul(colon + 1, NULL, 16) != port ||
			    !parse_hex_addr(local, (size_t)(colon - local), a, &family))
				continue;
			size_t alen = family == AF_INET ? 4 : 16;
			bool wild = all_zero(a, alen);

			/* An IPv4 address seen through an IPv6 socket. */
			if (family == AF_INET6 && wantlen == 4 && all_zero(a, 10) && a[10] == 0xff && a[11] == 0xff) {
				memmove(a, a + 12, 4);
				alen = 4;
			}
			if (wild || all_zero(want, wantlen) || (alen == wantlen && memcmp(a, want, alen) == 0))
				inodes[n++] = inode;
		}
		fclose(fp);
	}
	return n;
}

pid_t portcheck_owner(const struct sockaddr_storage *addr, char *comm, size_t commlen)
{
	unsigned long inodes[MAX_INODES];
	size_t ninodes = listening_inodes(addr, inodes, MAX_INODES);
	DIR *proc;
	struct dirent *de;
	pid_t found = -1, self = getpid();

	if (commlen)
		comm[0] = '\0';
	if (ninodes == 0 || !(proc = opendir("/proc")))
		return -1;
	while (found < 0 && (de = readdir(proc))) {
		char path[32], link[64];
		long pid = strtol(de->d_name, NULL, 10);
		DIR *fds;
		struct dirent *fe;

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		if (!(fds = opendir(path)))
			continue;
		while (found < 0 && (fe = readdir(fds))) {
			char fdpath[320];
			ssize_t k;
			unsigned long ino;

			snprintf(fdpath, sizeof(fdpath), "%s/%s", path, fe->d_name);
			k = readlink(fdpath, link, sizeof(link) - 1);
			if (k <= 0)
				continue;
			link[k] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (size_t i = 0; i < ninodes; i++)
				if (inodes[i] == ino)
					found = (pid_t)pid;
		}
		closedir(fds);
	}
	closedir(proc);
	if (found > 0 && commlen) {
		char path[64];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)found);
		if ((fp = fopen(path, "re"))) {
			if (fgets(comm, (int)commlen, fp))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(fp);
		}
	}
	return found;
}

int portcheck_probe(const struct sockaddr_storage *addr, socklen_t len, char *why, size_t whylen)
{
	int one = 1, e;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, len) == 0) {
		close(fd);
		return 0;
	}
	e = errno;
	close(fd);
	if (e == EADDRINUSE) {
		char comm[64];
		pid_t pid = portcheck_owner(addr, comm, sizeof(comm));

		if (pid > 0)
			snprintf(why, whylen, "the address is in use by another process: pid %d (%s)", (int)pid,
			         comm[0] ? comm : "?");
		else
			snprintf(why, whylen,
			         "the address is in use by another process (not found in /proc: another user's, "
			         "or hidden)");
	} else {
		snprintf(why, whylen, "%s", strerror(e));
	}
	errno = e;
	return -1;
}
