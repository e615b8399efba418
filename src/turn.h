/*
 * turn.h - the TURN servers of the admin's own and of the presets
 * (turn-server HOST[:PORT]... [credentials USER PASSWORD]; turn_section),
 * so that the report and the policy recognise WebRTC media tunnels to them,
 * and the self-check page can test a relay through the proxy with the
 * credentials given.
 */
#ifndef PINHOLE_TURN_H
#define PINHOLE_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfgparse.h"

struct turn_server {
	char *host;    /* normalised (acl_host_normalise); an IPv6 address without brackets */
	uint16_t port; /* 0 = any port */
	char *user;    /* credentials USER PASSWORD: for the self-check page's relay test, or NULL */
	char *password;
	const char *file;
	int line;
};

struct turn_settings {
	struct turn_server *servers;
	size_t n;
};

extern const struct cfg_section turn_section;

/* Whether host:port (as a CONNECT names it: normalised, an IPv6 address
 * without brackets) is a declared TURN server, the admin's or a preset's. */
bool turn_declared(const struct turn_settings *t, const char *host, uint16_t port);

#endif
