/*
 * forward.h - rewriting HTTP heads on their way through the proxy: absolute-
 * form to origin-form, Host from the target URI, hop-by-hop headers (and the
 * ones Connection names) removed, Via added, Proxy-Authorization never
 * passed on.  Bodies are relayed unchanged (relay.c).
 */
#ifndef PINHOLE_FORWARD_H
#define PINHOLE_FORWARD_H

#include <stdbool.h>

#include "buf.h"
#include "http.h"

/* The head to send to the origin.  upgrade: keep the client's Upgrade. */
void forward_request_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade);
/* The head to send to a parent proxy: absolute form, the same headers,
 * without the final empty line (the caller adds its Proxy-Authorization). */
void forward_parent_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade);
/* The head to send to the client.  close: announce Connection: close. */
void forward_response_head(struct buf *out, const struct http_response *resp, bool close, bool upgrade);
/* Whether the request asks for a protocol upgrade (Upgrade + Connection: upgrade). */
bool forward_wants_upgrade(const struct http_request *req);

#endif
