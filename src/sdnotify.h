/*
 * sdnotify.h - tells systemd how the service is doing (Type=notify): the
 * sd_notify(3) datagram protocol spoken directly, so pinhole needs no
 * libsystemd.  Without $NOTIFY_SOCKET (not started by systemd) it does
 * nothing.
 */
#ifndef PINHOLE_SDNOTIFY_H
#define PINHOLE_SDNOTIFY_H

/* Sends one notification of NEWLINE-separated KEY=VALUE assignments
 * ("READY=1\nSTATUS=serving"); errors are ignored, as systemd may be gone. */
void sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 with MONOTONIC_USEC (systemd 253's Type=notify-reload wants
 * both; 252 reads RELOADING=1 alone). */
void sdnotify_reloading(void);

#endif
