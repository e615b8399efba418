/*
 * webrtc.h - the WebRTC report: which clients' video calls would break
 * behind this proxy, and why.
 *
 * Workers publish one event per finished transaction and per notable thing
 * (an authentication, the first bytes of a tunnel, a refused Upgrade, ...)
 * into their own bounded single-producer ring: no lock, no allocation on the
 * data path; when a ring is full the event is dropped and counted.  A drain
 * thread moves events into a bounded table of clients (least recently seen
 * evicted) and runs the rules (webrtc_rules.c) on them; the admin interface
 * renders the table as JSON and HTML.
 */
#ifndef PINHOLE_WEBRTC_H
#define PINHOLE_WEBRTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;

#include "wr_event.h"

struct wr_ring; /* one per worker */

/* Called once before the workers start: makes nworkers rings and starts the
 * drain thread.  max_clients bounds the table (0 = the default, 4096).
 * 0 or -1. */
int webrtc_start(int nworkers, size_t max_clients);
/* Stops the drain thread and frees everything. */
void webrtc_stop(void);
/* Worker i's ring (NULL before webrtc_start or when it failed). */
struct wr_ring *webrtc_ring(int worker);
/* Worker side: copies ev into the ring, or drops it when the ring is full. */
void webrtc_publish(struct wr_ring *r, const struct wr_event *ev);

/* Admin side (any thread but the workers'): each first drains the rings, so
 * what was published before the call is in the answer.  cfg gives the
 * turn servers, presets and rules the advice refers to, and is the one the
 * findings are judged again by after a reload (those it fixed go).  The
 * caller frees the text. */
char *webrtc_report_json(const struct config *cfg, size_t *len);
/* The report as an HTML fragment (no <html>), for /report and the
 * dashboard: the summary first (clients by verdict, the most frequent
 * findings with their fix), then one table of clients ordered by sort
 * ("verdict", the default, "client", "user", "browser", "requests",
 * "last-seen": /report?sort=...; its column headings link there).  It
 * needs no script; WEBRTC_REPORT_CSS styles it. */
char *webrtc_report_html(const struct config *cfg, const char *sort, size_t *len);

/* The report's style, for the page that holds the fragment: text left,
 * numbers right, verdicts in colour, sized for a wall screen. */
#define WEBRTC_REPORT_CSS                                                                                             \
	".webrtc-report table { border-collapse: collapse; margin: 0 0 1.5em; }\n"                                    \
	".webrtc-report caption { text-align: left; font-weight: bold; padding: 0.3em 0; }\n"                         \
	".webrtc-report th, .webrtc-report td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; "     \
	"vertical-align: top; }\n"                                                                                    \
	".webrtc-report .num { text-align: right; font-variant-numeric: tabular-nums; }\n"                            \
	".webrtc-report thead th { background: #eee; white-space: nowrap; }\n"                                        \
	".webrtc-report thead th a { color: inherit; }\n"                                                             \
	".webrtc-report th[aria-sort] a { text-decoration: none; }\n"                                                 \
	".webrtc-report th[aria-sort] a::after { content: \" \\25BC\"; }\n"                                           \
	".webrtc-report table.wr-clients { width: 100%; }\n"                                                          \
	".wr-counts { display: flex; flex-wrap: wrap; gap: 1em; list-style: none; padding: 0; margin: 0 0 0.5em; }\n" \
	".wr-count a { display: block; min-width: 7em; padding: 0.4em 1em; border-radius: 0.4em; "                    \
	"text-decoration: none; font-size: 1.3em; color: inherit; }\n"                                                \
	".wr-count .n { display: block; font-size: 2.2em; font-weight: bold; font-variant-numeric: tabular-nums; }\n" \
	".wr-count.breaks a { background: #c62828; color: #fff; }\n"                                                  \
	".wr-count.degraded a { background: #f9a825; color: #000; }\n"                                                \
	".wr-count.ok a { background: #2e7d32; color: #fff; }\n"                                                      \
	".verdict, .severity { font-weight: bold; padding: 0.1em 0.5em; border-radius: 0.3em; white-space: nowrap; "  \
	"}\n"                                                                                                         \
	".verdict.breaks, .severity.breaks { background: #c62828; color: #fff; }\n"                                   \
	".verdict.degraded, .severity.degraded { background: #f9a825; color: #000; }\n"                               \
	".verdict.ok, .severity.ok { background: #2e7d32; color: #fff; }\n"                                           \
	".webrtc-report .wr-agent { white-space: nowrap; }\n"                                                         \
	".wr-findings { margin: 0; padding-left: 1.2em; }\n"                                                          \
	".wr-findings li { margin-bottom: 0.4em; }\n"                                                                 \
	".wr-rule { font-weight: bold; white-space: nowrap; }\n"                                                      \
	".wr-meta { color: #555; }\n"                                                                                 \
	".webrtc-report code { background: #f4f4f4; padding: 0 0.2em; }\n"                                            \
	".webrtc-report code.wr-line { display: block; width: max-content; max-width: 100%; "                         \
	"white-space: pre-wrap; margin: 0.1em 0; }\n"

/* For /metrics. */
struct webrtc_counts {
	uint64_t clients; /* in the table now */
	uint64_t breaks, degraded, ok;
	uint64_t evicted;              /* clients evicted from the full table */
	uint64_t dropped;              /* events dropped by full rings */
	uint64_t findings_by_rule[32]; /* clients with a finding, per rule index */
};
void webrtc_counts(const struct config *cfg, struct webrtc_counts *out);
/* The id of rule index i ("auth-required", ...), or NULL past the last. */
const char *webrtc_rule_id(size_t i);

/* ---- for the daemon's start-up, reloads and tests ---- */

/* The configuration the drain thread judges events by (turn servers,
 * presets).  Takes a reference, drops the previous one; call at start and
 * after every reload.  NULL = none (vendors are still known by domain). */
void webrtc_set_config(struct config *cfg);
/* As webrtc_start, without the drain thread: events wait in the rings
 * until a render or webrtc_drain (for tests and one-shot commands). */
int webrtc_start_manual(int nworkers, size_t max_clients);
/* Moves what the rings hold into the table, judging at time now_ms. */
void webrtc_drain(const struct config *cfg, uint64_t now_ms);
/* Feeds one event straight into the table (no ring). */
void webrtc_ingest(const struct config *cfg, const struct wr_event *ev, uint64_t now_ms);
/* The reports as of now_ms (pending 407s older than the retry window
 * become findings). */
char *webrtc_report_json_at(const struct config *cfg, uint64_t now_ms, size_t *len);
char *webrtc_report_html_at(const struct config *cfg, const char *sort, uint64_t now_ms, size_t *len);

#endif
