/*
 * pidfile.h - the pid file (pid-file FILE) and the control socket beside
 * it.  The running pinhole holds a lock on its pid file for as long as it
 * runs, so a second one on the same file is refused and a file left by a
 * crash is taken over; `pinhole reload` finds the instance through it and
 * talks to it over the control socket (control.h).
 */
#ifndef PINHOLE_PIDFILE_H
#define PINHOLE_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes this process's id to path and keeps it locked: 0, or -1 with a
 * sentence in err (another live pinhole holds it, naming its pid). */
int pidfile_claim(const char *path, char *err, size_t errlen);
/* Removes the claimed pid file (at exit). */
void pidfile_release(void);
/* The pid of the live process that holds path locked, or -1 with a
 * sentence in err (no such file, or nobody holds it: a stale file). */
pid_t pidfile_holder(const char *path, char *err, size_t errlen);
/* The control socket's path for a pid file: its name with ".pid" replaced
 * by ".ctl" (or ".ctl" added).  false when it does not fit a socket name. */
bool pidfile_control_path(const char *pidfile, char *out, size_t outlen);

#endif
