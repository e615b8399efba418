/*
 * quirks.h - known-broken proxy behaviour pinhole reproduces on purpose
 * (quirk NAME [ARG]; quirks_section), so that a customer's problem can be
 * reproduced in the lab.  The request path reads the flags.
 */
#ifndef PINHOLE_QUIRKS_H
#define PINHOLE_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

#include "cfgparse.h"

struct quirks {
	bool http10_connect;          /* answer CONNECT with HTTP/1.0 */
	bool no_websocket;            /* refuse Upgrade */
	uint64_t idle_cut_ms;         /* cut tunnels idle this long (0 = off) */
	uint64_t throttle_bps;        /* bytes per second per direction (0 = off) */
	uint64_t delay_ms;            /* delay every answer by this much (0 = off) */
	bool close_after_407;         /* close the connection after every 407 */
	bool strict_tls;              /* close tunnels whose first client bytes are not a TLS ClientHello */
	bool inspect_all;             /* ignore no-inspect and what was learned */
	bool auth_everything;         /* ignore noauth */
	const char *inspect_all_file; /* where inspect-all is (it needs tls-inspect) */
	int inspect_all_line;
};

extern const struct cfg_section quirks_section;

#endif
