/*
 * pidfile.c - the pid file and its lock (pidfile.h).  The lock is flock(2)
 * on the open file: it goes with the process, whatever way it ends, and a
 * reader can tell a live holder from a stale file without trusting a
 * number that may belong to another process by now.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

static int held_fd = -1;
static char *held_path;

/* The number written in an open pid file, or -1. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long v;
	char *end;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	return v > 0 && (*end == '\n' || *end == '\0') ? (pid_t)v : -1;
}

int pidfile_claim(const char *path, char *err, size_t errlen)
{
	char line[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open the pid-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		pid_t other = read_pid(fd);

		if (other > 0)
			snprintf(err, errlen,
			         "another pinhole (pid %d) runs with the pid-file %s: stop it first, or give this one "
			         "another pid-file",
			         (int)other, path);
		else
			snprintf(err, errlen, "another process holds the pid-file %s locked", path);
		close(fd);
		return -1;
	}
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line)) {
		snprintf(err, errlen, "cannot write the pid-file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	held_fd = fd;
	free(held_path);
	held_path = ph_strdup(path);
	return 0;
}

void pidfile_release(void)
{
	if (held_fd < 0)
		return;
	/* Unlinked while still locked: a pinhole starting now either sees
	 * the lock or no file at all. */
	(void)unlink(held_path);
	close(held_fd);
	held_fd = -1;
	free(held_path);
	held_path = NULL;
}

pid_t pidfile_holder(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	pid_t pid;

	if (fd < 0) {
		snprintf(err, errlen, "no pid-file %s (%s): is pinhole running with this configuration?", path,
		         strerror(errno));
		return -1;
	}
	pid = read_pid(fd);
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		snprintf(err, errlen, "the pid-file %s is stale: no pinhole holds it (it names pid %d)", path,
		         (int)pid);
		close(fd);
		return -1;
	}
	close(fd);
	if (pid <= 0)
		snprintf(err, errlen, "the pid-file %s holds no process id", path);
	return pid;
}

bool pidfile_control_path(const char *pidfile, char *out, size_t outlen)
{
	size_t n = strlen(pidfile), max = PH_MIN(outlen, sizeof(((struct sockaddr_un *)0)->sun_path));

	if (n > 4 && strcmp(pidfile + n - 4, ".pid") == 0)
		n -= 4;
	if (n + 5 > max)
		return false;
	memcpy(out, pidfile, n);
	memcpy(out + n, ".ctl", 5);
	return true;
}
