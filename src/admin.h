/*
 * admin.h - the admin interface (libmicrohttpd, in a thread of its own):
 * /healthz, /metrics, /config, /stats.json, POST /reload and the
 * dashboard.  It only
 * reads what the workers publish (stats.h) and never touches a connection.
 */
#ifndef PINHOLE_ADMIN_H
#define PINHOLE_ADMIN_H

#include <stddef.h>

struct config;

/* Starts serving cfg->admin when the configuration has one (else does
 * nothing).  0, or -1 with a sentence in err. */
int admin_start(const struct config *cfg, char *err, size_t errlen);
/* A reload in two steps: admin_prepare binds a new admin address and
 * loads the admin-auth users of cfg (-1 with a sentence in err: the reload
 * is refused); admin_reconfigure then applies them (moves, starts or stops
 * the interface, swaps the users), or admin_prepare_cancel forgets them. */
int admin_prepare(const struct config *cfg, char *err, size_t errlen);
void admin_prepare_cancel(void);
void admin_reconfigure(const struct config *cfg);
void admin_stop(void);

/* Called by the main thread every second: keeps the counters of the last
 * minute or so for the dashboard's rates. */
void admin_sample(void);

/* Whether a request may be served, from its method and headers alone
 * (NULL when absent): its Host must name the admin interface (an IP
 * address, localhost, or an admin-host name), so that a DNS-rebinding page
 * cannot read it; a POST must not come from another origin (Origin of
 * another host or port, "null", or Sec-Fetch-Site: cross-site), so that a
 * page in a browser on the proxy host cannot reload it.  0 when it may,
 * else the HTTP status (403) with a sentence for the client in why. */
int admin_check_request(const char *method, const char *host, const char *origin, const char *sec_fetch_site,
                        unsigned admin_port, char *const *admin_hosts, size_t nadmin_hosts, char *why, size_t whylen);

#endif
