/*
 * surrogate.h - surrogate authentication (auth-surrogate DURATION
 * [MATCHERS]): once a client address has authenticated with any scheme,
 * its requests that match MATCHERS (default: webrtc) pass as that user
 * without a 407 until DURATION has passed since its last successful
 * authentication.  This is what lets Chromium's WebRTC media tunnels, which
 * cannot answer a 407, through an authenticating proxy.
 *
 * The table of addresses is the process's, not a configuration's: a
 * reload keeps who authenticated where.  It is bounded (SURROGATE_MAX
 * addresses; the one whose last authentication is oldest goes first) and
 * locked by a mutex held for a lookup or an update, never across I/O.
 */
#ifndef PINHOLE_SURROGATE_H
#define PINHOLE_SURROGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "cfgparse.h"

#define SURROGATE_MAX 65536

struct surrogate_settings {
	uint64_t duration_ms; /* 0: off */
	struct rule rule;     /* the matchers, the line as written and where */
};
extern const struct cfg_section surrogate_section;

/* A successful authentication of user from client (nothing when off). */
void surrogate_remember(const struct surrogate_settings *s, const struct sockaddr_storage *client, const char *user,
                        uint64_t now_ms);
/* Credentials from client were refused: whoever sits at that address now
 * is not known to be the user who authenticated there before. */
void surrogate_forget(const struct surrogate_settings *s, const struct sockaddr_storage *client);
/* Whether the request subj (its src the client) passes as the user who
 * last authenticated from its address, copied to user: the matchers match
 * and that authentication is younger than the duration. */
bool surrogate_user(const struct surrogate_settings *s, const struct acl_subject *subj, uint64_t now_ms, char *user,
                    size_t cap);
/* Addresses in the table now (for /metrics). */
size_t surrogate_count(void);
/* Empties the table (tests, exit). */
void surrogate_clear(void);

#endif
