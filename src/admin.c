/*
 * admin.c - the admin interface: a libmicrohttpd daemon in a thread of its
 * own serving /healthz, /metrics, /config, POST /reload and the dashboard.
 * It reads the workers' counters with relaxed loads and the configuration
 * through running_get(); it never touches a connection or a worker's lock.
 */
#include "admin.h"
#include "common.h"
#include "config.h"
#include "quirks.h"
#include "acl.h"
#include "server.h"
#include "admin_cfg.h"
#include "running.h"
#include "htpasswd.h"
#include "http.h"
#include "log.h"
#include "base64.h"
#include "stats.h"
#include "strbuf.h"
#include "escape.h"
#include "selfcheck.h"
#include "selfcheck_cfg.h"
#include "surrogate.h"
#include "tls.h"
#include "upstream.h"
#include "webrtc.h"
#include "portcheck.h"
#include "procstat.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for a fleet of scrapers (200 at once is measured by the benchmark);
 * each is a few kilobytes inside libmicrohttpd. */
#define ADMIN_MAX_CONNECTIONS 512
#define ADMIN_TIMEOUT_S 10
#define ADMIN_REALM "pinhole admin"
/* Longest Authorization value looked at: a user and a password of 255
 * bytes each fit with room to spare. */
#define ADMIN_MAX_CRED 1024
/* Longest part of an unknown path echoed back in a 404. */
#define ADMIN_MAX_ECHO 200

#define TYPE_TEXT "text/plain; charset=utf-8"
#define TYPE_HTML "text/html; charset=utf-8"
/* Prometheus text exposition format 0.0.4. */
#define TYPE_JSON "application/json; charset=utf-8"
#define TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* admin-auth users: a loaded htpasswd file shared by the requests being
 * checked.  A reload swaps the pointer under users_lock; the old store is
 * freed when the last check that took it lets it go, so a reload never
 * waits for a password hash. */
struct admin_users {
	atomic_int refs;
	struct htpasswd *h;
};

static struct MHD_Daemon *daemon_handle;
static struct listen_cfg running; /* the address being served (set before the thread starts) */
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct admin_users *users; /* NULL: no admin-auth */

/* ---- untrusted text in answers ---- */

/* Untrusted bytes (a request path) for a text/plain answer or a log line:
 * printable ASCII as is, the rest as \xNN, at most max bytes of input. */
static void abuf_visible(struct strbuf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			strbuf_add(b, (const char *)&c, 1);
		else
			strbuf_printf(b, "\\x%02x", c);
	}
	if (s[i])
		strbuf_puts(b, "...");
}

/* ---- counters ---- */

/* Every worker's counters added up (stats.h); plain numbers, so that a
 * page shows one consistent-enough snapshot. */
struct totals {
	uint64_t connections_total, connections_active;
	uint64_t tunnels_total, tunnels_active;
	uint64_t requests_total;
	uint64_t bytes_from_clients, bytes_to_clients;
	uint64_t status[STATS_NSTATUS];
	uint64_t denials[STATS_NDENIAL];
	uint64_t auth[STATS_NSCHEMES][STATS_NAUTH_RESULT];
	uint64_t auth_surrogate;
	uint64_t dns_ms[STATS_LAT_BUCKETS], dns_ms_sum;
	uint64_t connect_ms[STATS_LAT_BUCKETS], connect_ms_sum;
	uint64_t inspect[TLS_NDECISIONS];
	uint64_t pinning_failures, sni_mismatches;
	uint64_t listener_tls_failures, wrong_protocol[2];
	int workers;
};

static void sum_counters(struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->workers = stats_nworkers();
	for (int w = 0; w < t->workers; w++) {
		const struct stats *s = stats_worker(w);

		t->connections_total += stats_get(&s->connections_total);
		t->connections_active += stats_get(&s->connections_active);
		t->tunnels_total += stats_get(&s->tunnels_total);
		t->tunnels_active += stats_get(&s->tunnels_active);
		t->requests_total += stats_get(&s->requests_total);
		t->bytes_from_clients += stats_get(&s->bytes_from_clients);
		t->bytes_to_clients += stats_get(&s->bytes_to_clients);
		for (int i = 0; i < STATS_NSTATUS; i++)
			t->status[i] += stats_get(&s->status[i]);
		for (int i = 0; i < STATS_NDENIAL; i++)
			t->denials[i] += stats_get(&s->denials[i]);
		for (int i = 0; i < STATS_NSCHEMES; i++)
			for (int j = 0; j < STATS_NAUTH_RESULT; j++)
				t->auth[i][j] += stats_get(&s->auth[i][j]);
		t->auth_surrogate += stats_get(&s->auth_surrogate);
		for (int i = 0; i < STATS_LAT_BUCKETS; i++) {
			t->dns_ms[i] += stats_get(&s->dns_ms[i]);
			t->connect_ms[i] += stats_get(&s->connect_ms[i]);
		}
		for (int i = 0; i < TLS_NDECISIONS; i++)
			t->inspect[i] += stats_get(&s->inspect[i]);
		t->pinning_failures += stats_get(&s->pinning_failures);
		t->sni_mismatches += stats_get(&s->sni_mismatches);
		t->listener_tls_failures += stats_get(&s->listener_tls_failures);
		for (int i = 0; i < 2; i++)
			t->wrong_protocol[i] += stats_get(&s->wrong_protocol[i]);
		t->dns_ms_sum += stats_get(&s->dns_ms_sum);
		t->connect_ms_sum += stats_get(&s->connect_ms_sum);
	}
	/* The loads are relaxed and not one instant across workers: never
	 * show more open than were ever opened. */
	if (t->connections_active > t->connections_total)
		t->connections_active = t->connections_total;
	if (t->tunnels_active > t->tunnels_total)
		t->tunnels_active = t->tunnels_total;
}

/* ---- rates over the last minute ---- */

/* A sample every RATE_STEP_MS, kept for a little more than RATE_WINDOW_S:
 * the rates are the difference between now and the oldest sample of the
 * window, so the dashboard shows them without JavaScript too. */
#define RATE_STEP_MS 5000
#define RATE_WINDOW_S 60
#define RATE_SAMPLES (RATE_WINDOW_S * 1000 / RATE_STEP_MS + 2)

struct sample {
	uint64_t at_ms; /* monotonic */
	uint64_t requests, tunnels, bytes_in, bytes_out, challenges;
};

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sample samples[RATE_SAMPLES];
static size_t nsamples, next_sample;

static void sample_now(struct sample *sm, const struct totals *t)
{
	sm->at_ms = ph_mono_ms();
	sm->requests = t->requests_total;
	sm->tunnels = t->tunnels_total;
	sm->bytes_in = t->bytes_from_clients;
	sm->bytes_out = t->bytes_to_clients;
	sm->challenges = t->status[STATS_407];
}

void admin_sample(void)
{
	struct totals t;
	struct sample sm;
	uint64_t last;

	if (stats_nworkers() == 0)
		return;
	pthread_mutex_lock(&rate_lock);
	last = nsamples ? samples[(next_sample + RATE_SAMPLES - 1) % RATE_SAMPLES].at_ms : 0;
	pthread_mutex_unlock(&rate_lock);
	if (nsamples && ph_mono_ms() - last < RATE_STEP_MS)
		return;
	sum_counters(&t);
	sample_now(&sm, &t);
	pthread_mutex_lock(&rate_lock);
	samples[next_sample] = sm;
	next_sample = (next_sample + 1) % RATE_SAMPLES;
	if (nsamples < RATE_SAMPLES)
		nsamples++;
	pthread_mutex_unlock(&rate_lock);
}

/* Per-second rates between the oldest sample not older than the window
 * and now; window_s is 0 before there is one (right after start-up). */
struct rates {
	double window_s;
	double requests, tunnels, bytes_in, bytes_out, challenges;
};

static void rates_now(const struct totals *t, struct rates *r)
{
	struct sample now, old = { 0 };
	bool found = false;

	memset(r, 0, sizeof(*r));
	sample_now(&now, t);
	pthread_mutex_lock(&rate_lock);
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *sm = &samples[(next_sample + RATE_SAMPLES - nsamples + i) % RATE_SAMPLES];

		if (now.at_ms - sm->at_ms <= (RATE_WINDOW_S + 1) * 1000 && now.at_ms - sm->at_ms >= 1000) {
			old = *sm;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&rate_lock);
	if (!found)
		return;
	r->window_s = (double)(now.at_ms - old.at_ms) / 1000.0;
	/* Counters only grow; a sum across workers read in another order
	 * may still look a hair smaller. */
#define RATE(f) (now.f > old.f ? (double)(now.f - old.f) / r->window_s : 0.0)
	r->requests = RATE(requests);
	r->tunnels = RATE(tunnels);
	r->bytes_in = RATE(bytes_in);
	r->bytes_out = RATE(bytes_out);
	r->challenges = RATE(challenges);
#undef RATE
}

static const char *const class_names[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
static const struct {
	enum stats_status idx;
	const char *code, *label;
} code_names[] = {
	{ STATS_400, "400", "400 malformed request" },
	{ STATS_403, "403", "403 denied" },
	{ STATS_407, "407", "407 proxy authentication required" },
	{ STATS_431, "431", "431 header too large" },
	{ STATS_502, "502", "502 DNS failure or connection refused" },
	{ STATS_503, "503", "503 too many connections" },
	{ STATS_504, "504", "504 upstream timeout" },
};
static const char *const denial_names[STATS_NDENIAL] = { "rule", "no-rule", "auth", "max-connections" };
static const char *const auth_result_names[STATS_NAUTH_RESULT] = { "ok", "challenge", "denied", "broken" };

/* ---- /metrics ---- */

static void metric_head(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_one(struct strbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	metric_head(b, name, type, help);
	strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Milliseconds as seconds, exactly ("1.250"). */
static void abuf_ms_as_s(struct strbuf *b, uint64_t ms)
{
	strbuf_printf(b, "%llu.%03llu", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

static void metric_histogram(struct strbuf *b, const char *name, const char *help, const uint64_t *buckets,
                             uint64_t sum_ms)
{
	uint64_t cum = 0;

	metric_head(b, name, "histogram", help);
	for (int i = 0; i < STATS_LAT_BUCKETS; i++) {
		cum += buckets[i];
		if (i < STATS_LAT_BUCKETS - 1)
			strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, stats_lat_bounds_ms[i] / 1000.0,
			              (unsigned long long)cum);
		else
			strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	}
	strbuf_printf(b, "%s_sum ", name);
	abuf_ms_as_s(b, sum_ms);
	strbuf_printf(b, "\n%s_count %llu\n", name, (unsigned long long)cum);
}

/* The process (as Prometheus's client libraries name it) and the state of
 * its configuration: what alerts are written on. */
static void render_process_metrics(struct strbuf *b)
{
	struct procstat ps;
	struct running_status st;

	running_status(&st);
	procstat_read(&ps);
	metric_one(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
	           st.started);
	if (ps.ok) {
		metric_head(b, "process_cpu_seconds_total", "counter",
		            "Total user and system CPU time spent in seconds.");
		strbuf_printf(b, "process_cpu_seconds_total %.2f\n", ps.cpu_seconds);
		metric_one(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
		           ps.resident_bytes);
		metric_one(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
		           ps.virtual_bytes);
	}
	metric_one(b, "process_open_fds", "gauge", "Number of open file descriptors.", ps.open_fds);
	if (ps.max_fds)
		metric_one(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.", ps.max_fds);
	metric_one(b, "pinhole_config_last_reload_successful", "gauge",
	           "Whether the last configuration reload succeeded (1; also before any) or was refused (0).",
	           st.last_reload_ok ? 1 : 0);
	metric_one(b, "pinhole_config_last_reload_success_timestamp_seconds", "gauge",
	           "When the configuration in force was loaded (start-up or the last successful reload).",
	           st.last_success);
	metric_head(b, "pinhole_config_reloads_total", "counter", "Configuration reloads, by result.");
	strbuf_printf(b, "pinhole_config_reloads_total{result=\"ok\"} %llu\n", (unsigned long long)st.reloads_ok);
	strbuf_printf(b, "pinhole_config_reloads_total{result=\"refused\"} %llu\n",
	              (unsigned long long)st.reloads_refused);
}

static char *render_metrics(const struct config *cfg, size_t *len)
{
	struct strbuf b = { 0 };
	struct totals t;

	sum_counters(&t);
	metric_one(&b, "pinhole_connections_total", "counter", "Client connections accepted.", t.connections_total);
	metric_one(&b, "pinhole_connections_active", "gauge", "Client connections open now.", t.connections_active);
	metric_one(&b, "pinhole_tunnels_total", "counter", "CONNECT tunnels established.", t.tunnels_total);
	metric_one(&b, "pinhole_tunnels_active", "gauge", "CONNECT tunnels open now.", t.tunnels_active);
	metric_one(&b, "pinhole_http_requests_total", "counter", "Plain HTTP requests forwarded to an origin.",
	           t.requests_total);
	metric_one(&b, "pinhole_client_received_bytes_total", "counter", "Bytes received from clients.",
	           t.bytes_from_clients);
	metric_one(&b, "pinhole_client_sent_bytes_total", "counter", "Bytes sent to clients.", t.bytes_to_clients);

	metric_head(&b, "pinhole_responses_total", "counter", "Responses and CONNECT answers sent, by status class.");
	for (int i = STATS_1XX; i <= STATS_5XX; i++)
		strbuf_printf(&b, "pinhole_responses_total{class=\"%s\"} %llu\n", class_names[i - STATS_1XX],
		              (unsigned long long)t.status[i]);
	metric_head(&b, "pinhole_responses_by_code_total", "counter",
	            "Responses sent with the status codes pinhole itself produces.");
	for (size_t i = 0; i < PH_ARRAY_LEN(code_names); i++)
		strbuf_printf(&b, "pinhole_responses_by_code_total{code=\"%s\"} %llu\n", code_names[i].code,
		              (unsigned long long)t.status[code_names[i].idx]);
	metric_head(&b, "pinhole_denials_total", "counter", "Requests refused, by reason.");
	for (int i = 0; i < STATS_NDENIAL; i++)
		strbuf_printf(&b, "pinhole_denials_total{reason=\"%s\"} %llu\n", denial_names[i],
		              (unsigned long long)t.denials[i]);
	metric_head(&b, "pinhole_auth_total", "counter", "Proxy authentication outcomes, by scheme and result.");
	for (int i = 0; i < STATS_NSCHEMES; i++)
		for (int j = 0; j < STATS_NAUTH_RESULT; j++)
			strbuf_printf(&b, "pinhole_auth_total{scheme=\"%s\",result=\"%s\"} %llu\n",
			              stats_scheme_names[i], auth_result_names[j], (unsigned long long)t.auth[i][j]);
	metric_one(&b, "pinhole_auth_surrogate_total", "counter",
	           "Requests without credentials accepted by auth-surrogate as the user last authenticated from "
	           "their address.",
	           t.auth_surrogate);
	metric_one(&b, "pinhole_auth_surrogate_addresses", "gauge",
	           "Client addresses auth-surrogate remembers an authentication of.", (uint64_t)surrogate_count());

	metric_histogram(&b, "pinhole_dns_lookup_seconds", "Time to resolve an origin's name.", t.dns_ms, t.dns_ms_sum);
	metric_histogram(&b, "pinhole_upstream_connect_seconds", "Time to open a TCP connection to an origin.",
	                 t.connect_ms, t.connect_ms_sum);

	metric_head(&b, "pinhole_tls_tunnels_total", "counter",
	            "Tunnels by TLS inspection decision (inspect, or why they were spliced).");
	for (int i = 0; i < TLS_NDECISIONS; i++)
		strbuf_printf(&b, "pinhole_tls_tunnels_total{decision=\"%s\"} %llu\n", tls_decision_name(i),
		              (unsigned long long)t.inspect[i]);
	metric_one(&b, "pinhole_tls_pinning_failures_total", "counter",
	           "Clients that refused a minted certificate or left right after the handshake.", t.pinning_failures);
	metric_one(&b, "pinhole_tls_sni_mismatches_total", "counter",
	           "TLS tunnels whose SNI named another host than their CONNECT.", t.sni_mismatches);
	metric_one(&b, "pinhole_listener_tls_handshake_failures_total", "counter",
	           "TLS handshakes with clients of an HTTPS proxy listener that failed (timeouts included).",
	           t.listener_tls_failures);
	metric_head(&b, "pinhole_listener_wrong_protocol_total", "counter",
	            "Clients that spoke plain HTTP to an HTTPS proxy listener (listener=\"tls\") or TLS to a "
	            "plain one (listener=\"plain\").");
	strbuf_printf(&b, "pinhole_listener_wrong_protocol_total{listener=\"tls\"} %llu\n",
	              (unsigned long long)t.wrong_protocol[0]);
	strbuf_printf(&b, "pinhole_listener_wrong_protocol_total{listener=\"plain\"} %llu\n",
	              (unsigned long long)t.wrong_protocol[1]);
	metric_one(&b, "pinhole_tls_learned_pinned_domains", "gauge", "Domains learned as certificate-pinned.",
	           (uint64_t)tls_learned_count());
	unsigned long mint_hits, mint_misses;

	tls_cache_figures(&mint_hits, &mint_misses);
	metric_head(&b, "pinhole_tls_minted_certificates_total", "counter",
	            "Leaf certificates handed to clients, from the cache or freshly signed.");
	strbuf_printf(&b, "pinhole_tls_minted_certificates_total{source=\"cache\"} %lu\n", mint_hits);
	strbuf_printf(&b, "pinhole_tls_minted_certificates_total{source=\"signed\"} %lu\n", mint_misses);

	struct webrtc_counts wc;

	webrtc_counts(cfg, &wc);
	metric_head(&b, "pinhole_webrtc_clients", "gauge", "Clients in the WebRTC report, by verdict.");
	strbuf_printf(&b, "pinhole_webrtc_clients{verdict=\"breaks\"} %llu\n", (unsigned long long)wc.breaks);
	strbuf_printf(&b, "pinhole_webrtc_clients{verdict=\"degraded\"} %llu\n", (unsigned long long)wc.degraded);
	strbuf_printf(&b, "pinhole_webrtc_clients{verdict=\"ok\"} %llu\n", (unsigned long long)wc.ok);
	metric_head(&b, "pinhole_webrtc_clients_with_finding", "gauge",
	            "Clients in the WebRTC report with a finding of this rule.");
	for (size_t i = 0; webrtc_rule_id(i) && i < PH_ARRAY_LEN(wc.findings_by_rule); i++)
		strbuf_printf(&b, "pinhole_webrtc_clients_with_finding{rule=\"%s\"} %llu\n", webrtc_rule_id(i),
		              (unsigned long long)wc.findings_by_rule[i]);
	metric_one(&b, "pinhole_webrtc_clients_evicted_total", "counter",
	           "Clients dropped from the full report table (least recently seen first).", wc.evicted);
	metric_one(&b, "pinhole_webrtc_events_dropped_total", "counter",
	           "Report events lost because a worker's queue was full.", wc.dropped);

	upstream_metrics(cfg->upstream, &b);

	metric_one(&b, "pinhole_workers", "gauge", "Worker threads.", (uint64_t)t.workers);
	metric_one(&b, "pinhole_config_generation", "gauge", "Generation of the running configuration (one per load).",
	           cfg->generation);
	render_process_metrics(&b);
	metric_head(&b, "pinhole_build_info", "gauge", "Always 1; the labels say which pinhole this is.");
	strbuf_printf(&b, "pinhole_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	*len = b.len;
	return b.p;
}

/* ---- the dashboard ---- */

static void row_num(struct strbuf *b, const char *what, uint64_t v)
{
	strbuf_puts(b, "<tr><th scope=\"row\">");
	esc_html(b, what);
	strbuf_printf(b, "</th><td>%llu</td></tr>\n", (unsigned long long)v);
}

static void row_listener(struct strbuf *b, const char *addr, const char *kind, const char *file, int line)
{
	strbuf_puts(b, "<tr><td><code>");
	esc_html(b, addr);
	strbuf_puts(b, "</code></td><td>");
	esc_html(b, kind);
	strbuf_puts(b, "</td><td>");
	if (file && line > 0) {
		esc_html(b, file);
		strbuf_printf(b, ":%d", line);
	} else {
		strbuf_puts(b, "default");
	}
	strbuf_puts(b, "</td></tr>\n");
}

/* The report's style (webrtc.h), shared by / and /report. */
#define REPORT_STYLE WEBRTC_REPORT_CSS

/* sort: /report?sort=... (NULL = by verdict). */
static void append_report(struct strbuf *b, const struct config *cfg, const char *sort)
{
	size_t n = 0;
	char *html = webrtc_report_html(cfg, sort, &n);

	if (html)
		strbuf_add(b, html, n);
	else
		strbuf_puts(b, "<p>The WebRTC report is not running.</p>\n");
	free(html);
}

/* A page for a wall screen: it reloads itself every minute, no script. */
static char *render_report(const struct config *cfg, const char *sort, size_t *len)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<meta http-equiv=\"refresh\" content=\"60\">\n"
	                "<title>pinhole: WebRTC report</title>\n<style>\n"
	                "body { font-family: sans-serif; margin: 1.5em; color: #222; }\n" REPORT_STYLE
	                "</style>\n</head>\n<body>\n"
	                "<h1>WebRTC report</h1>\n<p>Which clients' video calls would break behind this proxy, why, "
	                "and the configuration line that fixes it. <a href=\"/\">Dashboard</a> &middot; "
	                "<a href=\"/report.json\">JSON</a></p>\n");
	append_report(&b, cfg, sort);
	strbuf_puts(&b, "</body>\n</html>\n");
	*len = b.len;
	return b.p;
}

/* ---- status: uptime, the last reload, rates ---- */

static void abuf_iso(struct strbuf *b, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_puts(b, buf);
}

/* "3d 4h 12m", "5m 3s". */
static void abuf_duration(struct strbuf *b, uint64_t s)
{
	if (s >= 86400)
		strbuf_printf(b, "%llud %lluh %llum", (unsigned long long)(s / 86400),
		              (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60));
	else if (s >= 3600)
		strbuf_printf(b, "%lluh %llum", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
	else
		strbuf_printf(b, "%llum %llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
}

/* A rate as the page shows it: "12.5/s", or bytes as "1.2 MB/s". */
static void abuf_rate(struct strbuf *b, double v, bool bytes)
{
	if (!bytes)
		strbuf_printf(b, "%.1f/s", v);
	else if (v >= 1e9)
		strbuf_printf(b, "%.1f GB/s", v / 1e9);
	else if (v >= 1e6)
		strbuf_printf(b, "%.1f MB/s", v / 1e6);
	else if (v >= 1e3)
		strbuf_printf(b, "%.1f kB/s", v / 1e3);
	else
		strbuf_printf(b, "%.0f B/s", v);
}

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

/* GET /stats.json: what the dashboard refreshes itself with. */
static char *render_stats_json(const struct config *cfg, size_t *len)
{
	struct strbuf b = { 0 };
	struct running_status st;
	struct totals t;
	struct rates r;
	uint64_t now = now_s();

	sum_counters(&t);
	rates_now(&t, &r);
	running_status(&st);
	strbuf_printf(&b, "{\"now\":%llu,\"started\":%llu,\"uptime_s\":%llu,\"generation\":%llu,",
	              (unsigned long long)now, (unsigned long long)st.started,
	              (unsigned long long)(now > st.started ? now - st.started : 0),
	              (unsigned long long)cfg->generation);
	strbuf_printf(&b, "\"last_reload\":{\"at\":%llu,\"ok\":%s,\"last_success\":%llu,\"error\":",
	              (unsigned long long)st.last_reload, st.last_reload_ok ? "true" : "false",
	              (unsigned long long)st.last_success);
	strbuf_puts(&b, "\"");
	for (const char *p = st.last_error; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_printf(&b, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			strbuf_printf(&b, "\\u%04x", (unsigned char)*p);
		else
			strbuf_add(&b, p, 1);
	}
	strbuf_puts(&b, "\"},");
	strbuf_printf(&b,
	              "\"connections_active\":%llu,\"tunnels_active\":%llu,\"connections_total\":%llu,"
	              "\"tunnels_total\":%llu,\"requests_total\":%llu,\"received_bytes_total\":%llu,"
	              "\"sent_bytes_total\":%llu,\"auth_required_total\":%llu,",
	              (unsigned long long)t.connections_active, (unsigned long long)t.tunnels_active,
	              (unsigned long long)t.connections_total, (unsigned long long)t.tunnels_total,
	              (unsigned long long)t.requests_total, (unsigned long long)t.bytes_from_clients,
	              (unsigned long long)t.bytes_to_clients, (unsigned long long)t.status[STATS_407]);
	strbuf_printf(&b,
	              "\"rates\":{\"window_s\":%.1f,\"requests\":%.3f,\"tunnels\":%.3f,\"received_bytes\":%.1f,"
	              "\"sent_bytes\":%.1f,\"auth_required\":%.3f}}\n",
	              r.window_s, r.requests, r.tunnels, r.bytes_in, r.bytes_out, r.challenges);
	*len = b.len;
	return b.p;
}

/* The dashboard's script: every 5 s it reads /stats.json and rewrites the
 * elements whose data-k names a field of it (data-f says how to show it).
 * The page says the same things without it, as of its loading. */
static const char dashboard_script[] =
        "(function () {\n"
        "  function dur(s) {\n"
        "    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);\n"
        "    return d ? d + 'd ' + h + 'h ' + m + 'm' : h ? h + 'h ' + m + 'm' : m + 'm ' + (s % 60) + 's';\n"
        "  }\n"
        "  function bytes(v) {\n"
        "    return v >= 1e9 ? (v / 1e9).toFixed(1) + ' GB/s' : v >= 1e6 ? (v / 1e6).toFixed(1) + ' MB/s' :\n"
        "      v >= 1e3 ? (v / 1e3).toFixed(1) + ' kB/s' : v.toFixed(0) + ' B/s';\n"
        "  }\n"
        "  var show = {\n"
        "    rate: function (v) { return v.toFixed(1) + '/s'; },\n"
        "    bytes: bytes,\n"
        "    dur: dur,\n"
        "    num: function (v) { return String(v); }\n"
        "  };\n"
        "  function get(o, path) {\n"
        "    return path.split('.').reduce(function (x, k) { return x == null ? x : x[k]; }, o);\n"
        "  }\n"
        "  function update(s) {\n"
        "    var els = document.querySelectorAll('[data-k]');\n"
        "    for (var i = 0; i < els.length; i++) {\n"
        "      var v = get(s, els[i].getAttribute('data-k'));\n"
        "      if (v != null) els[i].textContent = show[els[i].getAttribute('data-f')](v);\n"
        "    }\n"
        "    var w = document.getElementById('window');\n"
        "    if (w) w.textContent = s.rates.window_s ? 'over the last ' + Math.round(s.rates.window_s) + ' s' :\n"
        "      'measured from the first minute on';\n"
        "    var l = document.getElementById('live');\n"
        "    if (l) l.textContent = 'updated ' + new Date(s.now * 1000).toLocaleTimeString();\n"
        "  }\n"
        "  function poll() {\n"
        "    fetch('/stats.json', { cache: 'no-store', credentials: 'same-origin' })\n"
        "      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })\n"
        "      .then(update)\n"
        "      .catch(function (e) {\n"
        "        var l = document.getElementById('live');\n"
        "        if (l) l.textContent = 'not updating: ' + e.message;\n"
        "      });\n"
        "  }\n"
        "  setInterval(poll, 5000);\n"
        "})();\n";

/* The page's Content-Security-Policy allows this script by its hash and
 * nothing else: no other script, no script from outside. */
static char script_csp[256];
static pthread_once_t script_once = PTHREAD_ONCE_INIT;

static void script_hash(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char b64[EVP_MAX_MD_SIZE * 2];

	EVP_Digest(dashboard_script, strlen(dashboard_script), md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	snprintf(script_csp, sizeof(script_csp),
	         "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'; connect-src 'self'; "
	         "frame-ancestors 'none'",
	         b64);
}

/* The latest self-check results browsers posted (selfcheck.h). */
static void append_selfchecks(struct strbuf *b, const struct config *cfg)
{
	struct selfcheck_result *r = ph_calloc(10, sizeof(*r));
	char(*addr)[64] = ph_calloc(10, sizeof(*addr));
	size_t n = selfcheck_recent(r, addr, 10);

	strbuf_puts(b, "<h2>Self-checks</h2>\n");
	if (!cfg->selfcheck->host)
		strbuf_puts(b, "<p>The self-check page is off (<code>self-check off</code>).</p>\n");
	else if (n == 0) {
		strbuf_puts(b, "<p>No one has run the self-check page yet: ask a user to open <code>http://");
		esc_html(b, cfg->selfcheck->host);
		strbuf_puts(b, "/</code> through the proxy.</p>\n");
	} else {
		strbuf_puts(b, "<table class=\"selfchecks\">\n<thead><tr><th>client</th><th>user</th><th>result</th>"
		               "</tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < n; i++) {
			strbuf_puts(b, "<tr><td>");
			esc_html(b, addr[i]);
			strbuf_puts(b, "</td><td>");
			esc_html(b, r[i].user[0] ? r[i].user : "-");
			strbuf_puts(b, "</td><td>");
			selfcheck_html(&r[i], b);
			strbuf_puts(b, "</td></tr>\n");
		}
		strbuf_puts(b, "</tbody>\n</table>\n");
	}
	free(r);
	free(addr);
}

static void row_live(struct strbuf *b, const char *what, const char *key, const char *fmt, const char *text)
{
	strbuf_puts(b, "<tr><th scope=\"row\">");
	esc_html(b, what);
	strbuf_printf(b, "</th><td data-k=\"%s\" data-f=\"%s\">", key, fmt);
	esc_html(b, text);
	strbuf_puts(b, "</td></tr>\n");
}

static void row_live_rate(struct strbuf *b, const char *what, const char *key, double v, bool bytes)
{
	struct strbuf t = { 0 };

	abuf_rate(&t, v, bytes);
	row_live(b, what, key, bytes ? "bytes" : "rate", t.p);
	free(t.p);
}

static void row_live_num(struct strbuf *b, const char *what, const char *key, uint64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	row_live(b, what, key, "num", num);
}

/* Uptime, the last reload and the rates, at the top of the dashboard. */
static void append_status(struct strbuf *b, const struct totals *t)
{
	struct running_status st;
	struct rates r;
	uint64_t now = now_s();
	struct strbuf up = { 0 };

	running_status(&st);
	rates_now(t, &r);
	strbuf_puts(b, "<section class=\"cards\">\n<div>\n<h2>Process</h2>\n<table>\n<tbody>\n");
	abuf_duration(&up, now > st.started ? now - st.started : 0);
	row_live(b, "up for", "uptime_s", "dur", up.p);
	free(up.p);
	strbuf_puts(b, "<tr><th scope=\"row\">started</th><td>");
	abuf_iso(b, st.started);
	strbuf_puts(b, "</td></tr>\n<tr><th scope=\"row\">last reload</th><td>");
	if (!st.last_reload) {
		strbuf_puts(b, "none since start-up");
	} else {
		abuf_iso(b, st.last_reload);
		strbuf_puts(b, st.last_reload_ok ? ", <span class=\"verdict ok\">in force</span>"
		                                 : ", <span class=\"verdict breaks\">refused</span>");
	}
	strbuf_puts(b, "</td></tr>\n");
	if (!st.last_reload_ok) {
		strbuf_puts(b, "<tr><th scope=\"row\">why</th><td class=\"why\">");
		esc_html(b, st.last_error);
		strbuf_puts(b, "</td></tr>\n<tr><th scope=\"row\">in force since</th><td>");
		abuf_iso(b, st.last_success);
		strbuf_puts(b, "</td></tr>\n");
	}
	strbuf_puts(b, "</tbody>\n</table>\n</div>\n<div>\n<h2>Now</h2>\n<table>\n<tbody>\n");
	row_live_num(b, "client connections open", "connections_active", t->connections_active);
	row_live_num(b, "tunnels open", "tunnels_active", t->tunnels_active);
	row_live_rate(b, "HTTP requests", "rates.requests", r.requests, false);
	row_live_rate(b, "tunnels", "rates.tunnels", r.tunnels, false);
	row_live_rate(b, "from clients", "rates.received_bytes", r.bytes_in, true);
	row_live_rate(b, "to clients", "rates.sent_bytes", r.bytes_out, true);
	row_live_rate(b, "407 answers", "rates.auth_required", r.challenges, false);
	strbuf_puts(b, "</tbody>\n</table>\n<p class=\"meta\"><span id=\"window\">");
	if (r.window_s > 0)
		strbuf_printf(b, "over the last %.0f s", r.window_s);
	else
		strbuf_puts(b, "rates are measured from the first minute on");
	strbuf_puts(b, "</span>; <span id=\"live\">as of this page's loading (reload it to refresh)</span></p>\n"
	               "</div>\n</section>\n");
}

static char *render_dashboard(const struct config *cfg, size_t *len)
{
	struct strbuf b = { 0 };
	struct totals t;

	sum_counters(&t);
	strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<title>pinhole</title>\n<style>\n"
	                "body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }\n"
	                "h1 { margin-bottom: 0.2em; }\n"
	                "table { border-collapse: collapse; margin-bottom: 1.5em; }\n"
	                "th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }\n"
	                "td { font-variant-numeric: tabular-nums; }\n"
	                "thead th { background: #eee; }\n"
	                "tbody th { font-weight: normal; }\n"
	                "td { text-align: right; }\n"
	                "td.why { text-align: left; max-width: 30em; }\n"
	                ".cards { display: flex; flex-wrap: wrap; gap: 0 2em; }\n"
	                ".cards > div { flex: 1 1 24em; }\n"
	                ".cards table { width: 100%; }\n"
	                ".meta { color: #555; }\n" REPORT_STYLE "</style>\n</head>\n<body>\n<h1>pinhole</h1>\n"
	                "<p class=\"meta\">version ");
	esc_html(&b, PACKAGE_VERSION);
	strbuf_printf(&b, ", configuration generation %llu from ", (unsigned long long)cfg->generation);
	esc_html(&b, cfg->path ? cfg->path : "the embedded default");
	strbuf_printf(&b, ", %d worker%s</p>\n", t.workers, t.workers == 1 ? "" : "s");
	strbuf_puts(&b, "<nav><p><a href=\"/metrics\">/metrics</a> &middot;\n"
	                "<a href=\"/config\">/config</a> &middot;\n"
	                "<a href=\"/healthz\">/healthz</a> &middot;\n"
	                "<a href=\"/stats.json\">/stats.json</a> &middot;\n"
	                "<a href=\"/report\">/report</a></p></nav>\n");
	append_status(&b, &t);

	strbuf_puts(&b, "<h2>Listeners</h2>\n<table>\n"
	                "<thead><tr><th>address</th><th>serves</th><th>defined at</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < cfg->server->nlistens; i++) {
		const struct listen_cfg *l = &cfg->server->listens[i];

		row_listener(&b, l->text,
		             l->tls ? (l->proxy_protocol ? "HTTPS proxy (PROXY protocol)" : "HTTPS proxy")
		                    : (l->proxy_protocol ? "proxy (PROXY protocol)" : "proxy"),
		             l->file, l->line);
	}
	/* The admin address served is the one of the start-up configuration. */
	bool same = cfg->admin->enabled && strcmp(cfg->admin->listen.text, running.text) == 0;

	row_listener(&b, running.text, cfg->admin->htpasswd ? "admin (admin-auth)" : "admin",
	             same ? cfg->admin->listen.file : NULL, same ? cfg->admin->listen.line : 0);
	strbuf_puts(&b, "</tbody>\n</table>\n");

	strbuf_puts(&b, "<h2>Traffic</h2>\n<table>\n<tbody>\n");
	row_num(&b, "client connections accepted", t.connections_total);
	row_num(&b, "client connections open", t.connections_active);
	row_num(&b, "tunnels established", t.tunnels_total);
	row_num(&b, "tunnels open", t.tunnels_active);
	row_num(&b, "HTTP requests forwarded", t.requests_total);
	row_num(&b, "bytes received from clients", t.bytes_from_clients);
	row_num(&b, "bytes sent to clients", t.bytes_to_clients);
	strbuf_puts(&b, "</tbody>\n</table>\n");

	strbuf_puts(&b, "<h2>Responses</h2>\n<table>\n<tbody>\n");
	for (int i = STATS_1XX; i <= STATS_5XX; i++)
		row_num(&b, class_names[i - STATS_1XX], t.status[i]);
	for (size_t i = 0; i < PH_ARRAY_LEN(code_names); i++)
		row_num(&b, code_names[i].label, t.status[code_names[i].idx]);
	strbuf_puts(&b, "</tbody>\n</table>\n");

	strbuf_puts(&b, "<h2>Denials</h2>\n<table>\n<tbody>\n");
	row_num(&b, "denied by a rule (403)", t.denials[STATS_DENY_RULE]);
	row_num(&b, "no rule allowed it (403)", t.denials[STATS_DENY_NO_RULE]);
	row_num(&b, "authentication required (407)", t.denials[STATS_DENY_AUTH]);
	row_num(&b, "max-connections reached (503)", t.denials[STATS_DENY_LIMIT]);
	strbuf_puts(&b, "</tbody>\n</table>\n");

	strbuf_puts(&b, "<h2>Authentication</h2>\n<table>\n<thead><tr><th>scheme</th>");
	for (int j = 0; j < STATS_NAUTH_RESULT; j++) {
		strbuf_puts(&b, "<th>");
		esc_html(&b, auth_result_names[j]);
		strbuf_puts(&b, "</th>");
	}
	strbuf_puts(&b, "</tr></thead>\n<tbody>\n");
	for (int i = 0; i < STATS_NSCHEMES; i++) {
		strbuf_puts(&b, "<tr><th scope=\"row\">");
		esc_html(&b, stats_scheme_names[i]);
		strbuf_puts(&b, "</th>");
		for (int j = 0; j < STATS_NAUTH_RESULT; j++)
			strbuf_printf(&b, "<td>%llu</td>", (unsigned long long)t.auth[i][j]);
		strbuf_puts(&b, "</tr>\n");
	}
	strbuf_puts(&b, "</tbody>\n</table>\n");

	append_selfchecks(&b, cfg);
	strbuf_puts(&b, "<h2>WebRTC report</h2>\n");
	append_report(&b, cfg, NULL);
	strbuf_puts(&b, "<script>");
	strbuf_puts(&b, dashboard_script);
	strbuf_puts(&b, "</script>\n</body>\n</html>\n");
	*len = b.len;
	return b.p;
}

/* ---- HTTP plumbing ---- */

/* Queues r with the headers every admin answer carries, plus one more
 * when name is not NULL, and lets go of r. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *type, struct MHD_Response *r,
                             const char *name, const char *value)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (strncmp(type, "text/html", 9) == 0) {
		pthread_once(&script_once, script_hash);
		MHD_add_response_header(r, "Content-Security-Policy", script_csp);
	}
	if (name)
		MHD_add_response_header(r, name, value);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A constant text. */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text, const char *name,
                                  const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

	return queue(c, status, TYPE_TEXT, r, name, value);
}

/* A built body, taken over (MHD frees it with the response). */
static enum MHD_Result reply_abuf(struct MHD_Connection *c, unsigned status, const char *type, struct strbuf *b,
                                  const char *name, const char *value)
{
	struct MHD_Response *r;

	if (!b->p)
		strbuf_puts(b, "");
	r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
	if (!r)
		free(b->p);
	b->p = NULL;
	return queue(c, status, type, r, name, value);
}

static const char *client_str(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (!ci || !ci->client_addr)
		return "?";
	return ph_addr_str(ci->client_addr, buf, len);
}

static struct admin_users *users_take(void)
{
	struct admin_users *u;

	pthread_mutex_lock(&users_lock);
	u = users;
	if (u)
		atomic_fetch_add(&u->refs, 1);
	pthread_mutex_unlock(&users_lock);
	return u;
}

static void users_drop(struct admin_users *u)
{
	if (u && atomic_fetch_sub(&u->refs, 1) == 1) {
		htpasswd_free(u->h);
		free(u);
	}
}

/* Swaps in the new users (NULL: no admin-auth) and lets the old ones go. */
static void users_set(struct admin_users *u)
{
	struct admin_users *old;

	pthread_mutex_lock(&users_lock);
	old = users;
	users = u;
	pthread_mutex_unlock(&users_lock);
	users_drop(old);
}

/* Loads cfg's admin-auth file; NULL with the problems in err. */
static struct admin_users *users_load(const struct config *cfg, char *err, size_t errlen)
{
	struct cfg_errors errs = { 0 };
	struct htpasswd *h = htpasswd_load(cfg->admin->htpasswd, cfg->path, 0, &errs);
	size_t off = 0;

	if (!h) {
		err[0] = '\0';
		for (size_t i = 0; i < errs.n && off + 1 < errlen; i++) {
			int n = snprintf(err + off, errlen - off, "%s%s", i ? "; " : "", errs.msgs[i]);

			if (n < 0)
				break;
			off += (size_t)n;
		}
		if (!errs.n)
			snprintf(err, errlen, "cannot load the admin-auth file %s", cfg->admin->htpasswd);
		cfg_errors_free(&errs);
		return NULL;
	}
	cfg_errors_free(&errs);

	struct admin_users *u = ph_calloc(1, sizeof(*u));

	atomic_init(&u->refs, 1);
	u->h = h;
	return u;
}

/* Checks the request's Basic credentials against the admin-auth users:
 * true when they match.  The password is never kept or logged; the decoded
 * token is wiped before returning. */
static bool authorized(struct MHD_Connection *c, const struct admin_users *u)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char dec[ADMIN_MAX_CRED];
	char why[256], addr[64];
	size_t len;
	long n;

	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!ph_memcaseeq(v, PH_MIN(strlen(v), 5), "Basic", 5) || (v[5] != ' ' && v[5] != '\t'))
		return false;
	v += 5;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	n = len <= ADMIN_MAX_CRED ? base64_decode(v, len, dec, sizeof(dec)) : -1;

	/* RFC 7617: the user-id ends at the first colon. */
	const unsigned char *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
	size_t ulen = colon ? (size_t)(colon - dec) : 0;
	enum htpasswd_result res = HTPASSWD_MISMATCH;

	why[0] = '\0';
	if (colon)
		res = htpasswd_verify(u->h, (const char *)dec, ulen, (const char *)colon + 1, (size_t)n - ulen - 1, why,
		                      sizeof(why));
	if (res != HTPASSWD_MATCH) {
		/* The user name, made printable, tells a typo from a probe. */
		struct strbuf who = { 0 };
		char name[HTPASSWD_MAX_USER + 1];
		size_t nlen = PH_MIN(ulen, sizeof(name) - 1);

		memcpy(name, dec, nlen);
		name[nlen] = '\0';
		abuf_visible(&who, name, 40);
		if (!colon)
			log_warn("admin: malformed Basic credentials from %s refused",
			         client_str(c, addr, sizeof(addr)));
		else if (res == HTPASSWD_ERROR)
			log_error("admin: cannot check the password of user '%s' from %s: %s", who.p ? who.p : "",
			          client_str(c, addr, sizeof(addr)), why);
		else
			log_warn("admin: wrong user name or password for user '%s' from %s", who.p ? who.p : "",
			         client_str(c, addr, sizeof(addr)));
		free(who.p);
		OPENSSL_cleanse(name, sizeof(name));
	}
	if (n > 0)
		OPENSSL_cleanse(dec, (size_t)n);
	return res == HTPASSWD_MATCH;
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, const char *method, const char *allow)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "Method ");
	abuf_visible(&b, method, 20);
	strbuf_printf(&b, " is not allowed here; use %s.\n", allow);
	return reply_abuf(c, MHD_HTTP_METHOD_NOT_ALLOWED, TYPE_TEXT, &b, MHD_HTTP_HEADER_ALLOW, allow);
}

/* The pages that read the running configuration. */
static enum MHD_Result reply_page(struct MHD_Connection *c, const char *url)
{
	struct config *cfg = running_get();
	struct strbuf b = { 0 };
	enum MHD_Result ret;

	if (!cfg)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "pinhole is stopping.\n", NULL, NULL);
	if (strcmp(url, "/metrics") == 0) {
		b.p = render_metrics(cfg, &b.len);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_METRICS, &b, NULL, NULL);
	} else if (strcmp(url, "/report.json") == 0) {
		b.p = webrtc_report_json(cfg, &b.len);
		ret = b.p ? reply_abuf(c, MHD_HTTP_OK, TYPE_JSON, &b, NULL, NULL)
		          : reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "The WebRTC report is not running.\n", NULL,
		                       NULL);
	} else if (strcmp(url, "/report") == 0) {
		b.p = render_report(cfg, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort"), &b.len);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_HTML, &b, NULL, NULL);
	} else if (strcmp(url, "/stats.json") == 0) {
		b.p = render_stats_json(cfg, &b.len);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_JSON, &b, NULL, NULL);
	} else if (strcmp(url, "/config") == 0) {
		b.p = config_dump(cfg);
		b.len = strlen(b.p);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_TEXT, &b, NULL, NULL);
	} else {
		b.p = render_dashboard(cfg, &b.len);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_HTML, &b, NULL, NULL);
	}
	config_unref(cfg);
	return ret;
}

/* 200 "ok" while pinhole serves (a load balancer keeps sending traffic),
 * saying so when the last reload was refused: the old configuration is
 * still in force, and the admin should look.  503 while it drains: a load
 * balancer takes it out of rotation while its open tunnels go on. */
static enum MHD_Result reply_healthz(struct MHD_Connection *c)
{
	struct running_status st;
	struct strbuf b = { 0 };

	running_status(&st);
	if (st.draining)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "draining: pinhole is stopping\n", NULL, NULL);
	if (st.last_reload_ok)
		return reply_text(c, MHD_HTTP_OK, "ok\n", NULL, NULL);
	strbuf_puts(&b, "ok\nthe last reload, at ");
	abuf_iso(&b, st.last_reload);
	strbuf_puts(&b, ", was refused: ");
	abuf_visible(&b, st.last_error, sizeof(st.last_error));
	strbuf_puts(&b, "\nthe configuration loaded at ");
	abuf_iso(&b, st.last_success);
	strbuf_puts(&b, " is in force\n");
	return reply_abuf(c, MHD_HTTP_OK, TYPE_TEXT, &b, NULL, NULL);
}

/* True when the request announces a body. */
static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0") != 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static unsigned admin_port(void)
{
	if (running.addr.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&running.addr)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&running.addr)->sin_port);
}

/* A host (no port) the admin interface answers to. */
static bool host_is_ours(const char *host, size_t len, char *const *names, size_t nnames)
{
	struct http_authority a;
	const char *why;

	if (http_parse_authority(host, len, false, &a, &why) < 0)
		return false;
	/* DNS rebinding needs a name: an address in Host cannot come from
	 * a page of another site. */
	if (a.is_ip || strcmp(a.host, "localhost") == 0)
		return true;
	for (size_t i = 0; i < nnames; i++)
		if (strcmp(a.host, names[i]) == 0)
			return true;
	return false;
}

/* Splits "host[:port]" (IPv6 in brackets) into its host part and port (0
 * when absent, -1 when malformed). */
static long split_port(const char *s, size_t *hostlen)
{
	const char *colon = NULL, *p = s;
	size_t len = strlen(s);

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -1;
		p = close;
	}
	colon = strchr(p, ':');
	*hostlen = colon ? (size_t)(colon - s) : len;
	if (!colon)
		return 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);

	return colon[1] && *end == '\0' && port > 0 && port < 65536 ? port : -1;
}

int admin_check_request(const char *method, const char *host, const char *origin, const char *sec_fetch_site,
                        unsigned admin_port, char *const *admin_hosts, size_t nadmin_hosts, char *why, size_t whylen)
{
	size_t hlen;

	if (host && (split_port(host, &hlen) < 0 || !host_is_ours(host, hlen, admin_hosts, nadmin_hosts))) {
		snprintf(why, whylen,
		         "The pinhole admin interface answers to its address, localhost and the names of admin-host; "
		         "this request's Host is none of them (add `admin-host NAME` if the name is this proxy's).\n");
		return 403;
	}
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return 0;
	if (sec_fetch_site && strcmp(sec_fetch_site, "cross-site") == 0) {
		snprintf(why, whylen, "A page of another site may not change pinhole (Sec-Fetch-Site: cross-site).\n");
		return 403;
	}
	if (origin) {
		const char *rest = NULL;
		long port = -1;

		if (strncmp(origin, "http://", 7) == 0)
			rest = origin + 7, port = 80;
		else if (strncmp(origin, "https://", 8) == 0)
			rest = origin + 8, port = 443;
		if (rest) {
			long p = split_port(rest, &hlen);

			port = p > 0 ? p : p == 0 ? port : -1;
		}
		if (!rest || port != (long)admin_port || !host_is_ours(rest, hlen, admin_hosts, nadmin_hosts)) {
			snprintf(why, whylen,
			         "A page of another origin may not change pinhole (Origin is not this "
			         "admin interface).\n");
			return 403;
		}
	}
	return 0;
}

/* MHD calls this once the headers are in, then once per piece of body,
 * then once more.  A request without a body is answered on the second
 * call, which lets MHD keep the connection open (a scraper's keep-alive);
 * no admin page takes a body, so one that has a body is answered at once
 * and never read (MHD then closes the connection). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int seen_headers;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	struct admin_users *u;
	char addr[64];

	if (!*con_cls) {
		*con_cls = &seen_headers;
		if ((get || post) && !has_body(c))
			return MHD_YES;
	}
	*upload_data_size = 0;
	if (!get && !post)
		return not_allowed(c, method, "GET, HEAD, POST");
	struct config *cfg = running_get();
	char why[400];
	int refused =
	        cfg ? admin_check_request(method, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
	                                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN),
	                                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"),
	                                  admin_port(), cfg->admin->hosts, cfg->admin->nhosts, why, sizeof(why))
	            : 0;

	if (cfg)
		config_unref(cfg);
	if (refused) {
		struct strbuf b = { 0 };

		log_info("admin: refused a request from %s: %s", client_str(c, addr, sizeof(addr)), why);
		strbuf_puts(&b, why);
		return reply_abuf(c, (unsigned)refused, TYPE_TEXT, &b, NULL, NULL);
	}
	u = users_take();
	if (u) {
		bool ok = authorized(c, u);

		users_drop(u);
		if (!ok)
			return reply_text(c, MHD_HTTP_UNAUTHORIZED,
			                  "The pinhole admin interface needs a user name and password (admin-auth).\n",
			                  MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"" ADMIN_REALM "\"");
	}
	if (strcmp(url, "/reload") == 0) {
		if (!post)
			return not_allowed(c, method, "POST");
		log_info("admin: reload requested by %s", client_str(c, addr, sizeof(addr)));
		running_request_reload();
		return reply_text(c, MHD_HTTP_ACCEPTED, "reload requested\n", NULL, NULL);
	}
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0 || strcmp(url, "/config") == 0 ||
	    strcmp(url, "/") == 0 || strcmp(url, "/report") == 0 || strcmp(url, "/report.json") == 0 ||
	    strcmp(url, "/stats.json") == 0) {
		if (!get)
			return not_allowed(c, method, "GET, HEAD");
		if (strcmp(url, "/healthz") == 0)
			return reply_healthz(c);
		return reply_page(c, url);
	}
	struct strbuf b = { 0 };

	strbuf_puts(&b, "No such page on the pinhole admin interface: ");
	abuf_visible(&b, url, ADMIN_MAX_ECHO);
	strbuf_puts(&b, "\nThe pages are /, /report, /report.json, /metrics, /stats.json, /config, /healthz and POST "
	                "/reload.\n");
	return reply_abuf(c, MHD_HTTP_NOT_FOUND, TYPE_TEXT, &b, NULL, NULL);
}

/* MHD's own diagnostics go to the error log as warnings. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("admin: %s", msg);
}

/* ---- life ---- */

/* The admin socket is bound here rather than by MHD so that a taken
 * address is reported with its errno (and its owner).  No SO_REUSEPORT: a
 * second pinhole on the same admin address must fail, not share it. */
static int admin_listen(const struct listen_cfg *lc, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(lc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "cannot serve the admin interface on %s: %s", lc->text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lc->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&lc->addr, lc->addrlen) < 0 || listen(fd, ADMIN_MAX_CONNECTIONS) < 0) {
		int e = errno;
		char comm[64] = "";
		pid_t pid = e == EADDRINUSE ? portcheck_owner(&lc->addr, comm, sizeof(comm)) : -1;

		if (pid > 0)
			snprintf(err, errlen, "cannot serve the admin interface on %s: %s: pid %d (%s) listens there",
			         lc->text, strerror(e), (int)pid, comm[0] ? comm : "?");
		else
			snprintf(err, errlen, "cannot serve the admin interface on %s: %s", lc->text, strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

struct starter {
	unsigned flags;
	int fd;
	struct MHD_Daemon *d;
};

/* MHD's thread inherits the scheduling policy of the thread that starts
 * it: this short-lived thread takes SCHED_IDLE before starting it, so that
 * the admin interface only ever runs on CPU time the workers leave
 * (scrapes wait; tunnels do not), and the main thread keeps its own policy
 * (an unprivileged process cannot leave SCHED_IDLE). */
static void *start_idle(void *arg)
{
	struct starter *st = arg;
	struct sched_param idle = { 0 };
	int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);

	if (rc != 0)
		log_info("admin: cannot run the admin interface with SCHED_IDLE: %s", strerror(rc));
	st->d = MHD_start_daemon(st->flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                         MHD_OPTION_LISTEN_SOCKET, st->fd, MHD_OPTION_CONNECTION_LIMIT,
	                         (unsigned)ADMIN_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	                         (unsigned)ADMIN_TIMEOUT_S, MHD_OPTION_END);
	return NULL;
}

/* Serves lc on fd (taken over).  0, or -1 with err. */
static int serve(const struct listen_cfg *lc, int fd, bool with_users, char *err, size_t errlen)
{
	struct starter st = { .flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, .fd = fd };
	pthread_t t;

	if (lc->addr.ss_family == AF_INET6)
		st.flags |= MHD_USE_IPv6;
	running = *lc;
	running.file = NULL;
	running.pp_from = NULL;
	running.pp_from_text = NULL;
	if (pthread_create(&t, NULL, start_idle, &st) != 0) {
		close(fd);
		snprintf(err, errlen, "cannot serve the admin interface on %s: no thread", lc->text);
		return -1;
	}
	pthread_join(t, NULL);
	if (!st.d) {
		/* fd is left alone: MHD may have closed it already, and by now
		 * the number may be a worker's socket. */
		snprintf(err, errlen, "cannot serve the admin interface on %s: libmicrohttpd did not start", lc->text);
		return -1;
	}
	daemon_handle = st.d;
	log_always("admin interface on http://%s/%s", lc->text, with_users ? " (admin-auth)" : "");
	return 0;
}

int admin_start(const struct config *cfg, char *err, size_t errlen)
{
	struct admin_users *u = NULL;
	int fd;

	if (!cfg->admin->enabled || daemon_handle)
		return 0;
	if (cfg->admin->htpasswd) {
		char why[768];

		u = users_load(cfg, why, sizeof(why));
		if (!u) {
			snprintf(err, errlen, "cannot serve the admin interface on %s: %s", cfg->admin->listen.text,
			         why);
			return -1;
		}
	}
	fd = admin_listen(&cfg->admin->listen, err, errlen);
	if (fd < 0) {
		users_drop(u);
		return -1;
	}
	users_set(u);
	if (serve(&cfg->admin->listen, fd, u != NULL, err, errlen) < 0) {
		users_set(NULL);
		return -1;
	}
	return 0;
}

/* What a reload will change, made ready before it is committed. */
static struct {
	bool ready;
	bool stop; /* the admin interface goes (or moves) */
	int fd;    /* the new address's socket, or -1 */
	struct admin_users *users;
} prep = { .fd = -1 };

static bool serving(const struct config *cfg)
{
	return daemon_handle && cfg->admin->enabled && cfg->admin->listen.addrlen == running.addrlen &&
	       server_addr_equal(&cfg->admin->listen.addr, &running.addr);
}

int admin_prepare(const struct config *next, char *err, size_t errlen)
{
	char why[768];

	admin_prepare_cancel();
	if (next->admin->htpasswd) {
		prep.users = users_load(next, why, sizeof(why));
		if (!prep.users) {
			snprintf(err, errlen, "%s:%d: admin-auth: %s",
			         next->admin->listen.file ? next->admin->listen.file : "(config)",
			         next->admin->listen.line, why);
			return -1;
		}
	}
	if (next->admin->enabled && !serving(next)) {
		char msg[768];

		prep.fd = admin_listen(&next->admin->listen, msg, sizeof(msg));
		if (prep.fd < 0) {
			snprintf(err, errlen, "%s:%d: %s", next->admin->listen.file, next->admin->listen.line, msg);
			admin_prepare_cancel();
			return -1;
		}
	}
	prep.stop = daemon_handle && !serving(next);
	prep.ready = true;
	return 0;
}

void admin_prepare_cancel(void)
{
	if (prep.fd >= 0)
		close(prep.fd);
	users_drop(prep.users);
	prep.ready = false;
	prep.stop = false;
	prep.fd = -1;
	prep.users = NULL;
}

void admin_reconfigure(const struct config *cfg)
{
	char err[768];

	if (!prep.ready)
		return;
	if (prep.stop) {
		char was[sizeof(running.text)];

		snprintf(was, sizeof(was), "%s", running.text);
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
		log_always("reload: the admin interface on %s is closed%s", was,
		           cfg->admin->enabled ? "" : " (no admin line)");
	}
	users_set(prep.users);
	prep.users = NULL;
	if (prep.fd >= 0) {
		int fd = prep.fd;

		prep.fd = -1;
		if (serve(&cfg->admin->listen, fd, cfg->admin->htpasswd != NULL, err, sizeof(err)) < 0)
			log_error("reload: %s", err);
	}
	admin_prepare_cancel();
}

void admin_stop(void)
{
	if (daemon_handle) {
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
	}
	users_set(NULL);
	admin_prepare_cancel();
}
