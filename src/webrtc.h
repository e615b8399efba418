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
 * turn servers, presets and rules the advice refers to.  The caller frees
 * the text. */
char *webrtc_report_json(const struct config *cfg, size_t *len);
/* The report as an HTML fragment (a <table> per client, no <html>), for
 * /report and the dashboard. */
char *webrtc_report_html(const struct config *cfg, size_t *len);

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
/* The reports as of now_ms (pending TURN retries older than the window
 * become findings). */
char *webrtc_report_json_at(const struct config *cfg, uint64_t now_ms, size_t *len);
char *webrtc_report_html_at(const struct config *cfg, uint64_t now_ms, size_t *len);

#endif
