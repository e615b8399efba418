/*
 * control.h - the control socket: a UNIX stream socket beside the pid file
 * (mode 0600, owned by the user pinhole runs as) on which the main thread
 * answers one-line commands, so that `pinhole reload` learns whether the
 * new configuration is in force and, when it is not, why.
 *
 * Protocol: the client sends one line ("reload", "status"); pinhole
 * answers with "ok" or "refused" on the first line, then lines of text
 * (errors, warnings, KEY VALUE for status), and closes.
 */
#ifndef PINHOLE_CONTROL_H
#define PINHOLE_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/* Listens on path (a stale socket there is removed), mode 0600, owned by
 * uid:gid when they are not -1.  The descriptor, or -1 with err. */
int control_open(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Closes the socket and removes its file. */
void control_close(int fd, const char *path);

/* Takes one waiting client of the listening fd and answers its command:
 * handler fills reply (its first line "ok" or "refused").  Clients of
 * another user than this process's (or root) are refused. */
void control_serve(int fd, void (*handler)(const char *cmd, struct strbuf *reply));

/* Client side: sends cmd to the socket at path and reads the whole answer
 * into reply (waits up to timeout_s).  0, or -1 with err. */
int control_call(const char *path, const char *cmd, int timeout_s, struct strbuf *reply, char *err, size_t errlen);

#endif
