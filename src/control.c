/*
 * control.c - the control socket (control.h).  It is served by the main
 * thread between signals, one client at a time: a command is a line, and
 * a client that does not send one within a second is dropped, so a stuck
 * client cannot hold up signals for long.
 */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "strbuf.h"

#define CONTROL_MAX_LINE 256

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "the control socket name %s is too long", path);
		return -1;
	}
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

int control_open(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (unix_addr(path, &sa, err, errlen) < 0)
		return -1;
	/* The caller holds the pid file: a socket here is a crashed run's. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0600) != 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) || listen(fd, 8) != 0) {
		snprintf(err, errlen, "cannot make the control socket %s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	return fd;
}

void control_close(int fd, const char *path)
{
	if (fd < 0)
		return;
	close(fd);
	unlink(path);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

void control_serve(int lfd, void (*handler)(const char *cmd, struct strbuf *reply))
{
	struct timeval tv = { .tv_sec = 1 };
	char line[CONTROL_MAX_LINE + 1];
	struct strbuf reply = { 0 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	size_t n = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The socket's mode already keeps others out; this says so. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || (cred.uid != 0 && cred.uid != geteuid())) {
		strbuf_puts(&reply, "refused\nonly root and the user pinhole runs as may control it\n");
		goto out;
	}
	while (n < CONTROL_MAX_LINE) {
		ssize_t k = recv(fd, line + n, CONTROL_MAX_LINE - n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!memchr(line, '\0', n + 1) || n == 0) {
		close(fd);
		return;
	}
	handler(line, &reply);
out:
	if (reply.p)
		write_all(fd, reply.p, reply.len);
	free(reply.p);
	close(fd);
}

int control_call(const char *path, const char *cmd, int timeout_s, struct strbuf *reply, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = timeout_s };
	char buf[4096];
	int fd;

	if (unix_addr(path, &sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errlen, "cannot reach pinhole's control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	write_all(fd, cmd, strlen(cmd));
	write_all(fd, "\n", 1);
	for (;;) {
		ssize_t k = recv(fd, buf, sizeof(buf), 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "no answer on %s within %d s: %s", path, timeout_s,
			         errno == EAGAIN ? "timed out" : strerror(errno));
			close(fd);
			return -1;
		}
		if (k == 0)
			break;
		strbuf_add(reply, buf, (size_t)k);
	}
	close(fd);
	if (!reply->p) {
		snprintf(err, errlen, "pinhole closed its control socket %s without an answer", path);
		return -1;
	}
	return 0;
}
