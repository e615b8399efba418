/*
 * checkwebrtc.h - `pinhole check-webrtc -c FILE [VENDOR...]`: tells, offline,
 * whether a configuration meets each requirement of each WebRTC vendor
 * (vendors.h), and which line to add or change when it does not.  It reads
 * policy (config, matchers, auth settings) and never starts the engine.
 */
#ifndef PINHOLE_CHECKWEBRTC_H
#define PINHOLE_CHECKWEBRTC_H

/* argv: the arguments after "check-webrtc".  Returns the exit status: 0 when
 * nothing breaks, 1 when a requirement breaks, 2 on a usage or configuration
 * error (printed as FILE:LINE: message). */
int check_webrtc_main(int argc, char **argv);

struct config;
struct sockaddr_storage;

/* One requirement as judged for one client. */
struct check_webrtc_row {
	const char *vendor; /* "webex", "tokbox", "cms", "turn" (the turn-server lines) */
	const char *title;  /* what the vendor is, in words */
	const char *requirement;
	const char *result; /* "ok", "degraded", "breaks" */
	const char *detail;
	const char *fix; /* the line to add or change, "" for none */
};

/* The same checks for one client (the self-check page): the vendors of
 * the configuration's presets and its own turn-server lines, for a client
 * at src, authenticated as user (NULL: not), with this User-Agent (NULL:
 * unknown; a Firefox answers a 407 where Chromium does not).  Files are
 * named without their directories.  each gets every row. */
void check_webrtc_client(const struct config *cfg, const struct sockaddr_storage *src, const char *user,
                         const char *user_agent, void (*each)(const struct check_webrtc_row *row, void *arg),
                         void *arg);

#endif
