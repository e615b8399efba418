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
#include "scheme.h"
#include "stats.h"
#include "strbuf.h"
#include "tls.h"
#include "upstream.h"
#include "webrtc.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <sched.h>
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

/* ---- a growing text buffer for response bodies ---- */

/* Text for HTML element content and attribute values. */
static void abuf_html(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			strbuf_puts(b, "&amp;");
			break;
		case '<':
			strbuf_puts(b, "&lt;");
			break;
		case '>':
			strbuf_puts(b, "&gt;");
			break;
		case '"':
			strbuf_puts(b, "&quot;");
			break;
		case '\'':
			strbuf_puts(b, "&#39;");
			break;
		default:
			strbuf_add(b, s, 1);
		}
	}
}

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
	uint64_t dns_ms[STATS_LAT_BUCKETS], dns_ms_sum;
	uint64_t connect_ms[STATS_LAT_BUCKETS], connect_ms_sum;
	uint64_t inspect[TLS_NDECISIONS];
	uint64_t pinning_failures, sni_mismatches;
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
		for (int i = 0; i < STATS_LAT_BUCKETS; i++) {
			t->dns_ms[i] += stats_get(&s->dns_ms[i]);
			t->connect_ms[i] += stats_get(&s->connect_ms[i]);
		}
		for (int i = 0; i < TLS_NDECISIONS; i++)
			t->inspect[i] += stats_get(&s->inspect[i]);
		t->pinning_failures += stats_get(&s->pinning_failures);
		t->sni_mismatches += stats_get(&s->sni_mismatches);
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
	metric_one(&b, "pinhole_client_bytes_received_total", "counter", "Bytes received from clients.",
	           t.bytes_from_clients);
	metric_one(&b, "pinhole_client_bytes_sent_total", "counter", "Bytes sent to clients.", t.bytes_to_clients);

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
	metric_head(&b, "pinhole_build_info", "gauge", "Always 1; the labels say which pinhole this is.");
	strbuf_printf(&b, "pinhole_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	*len = b.len;
	return b.p;
}

/* ---- the dashboard ---- */

static void row_num(struct strbuf *b, const char *what, uint64_t v)
{
	strbuf_puts(b, "<tr><th scope=\"row\">");
	abuf_html(b, what);
	strbuf_printf(b, "</th><td>%llu</td></tr>\n", (unsigned long long)v);
}

static void row_listener(struct strbuf *b, const char *addr, const char *kind, const char *file, int line)
{
	strbuf_puts(b, "<tr><td><code>");
	abuf_html(b, addr);
	strbuf_puts(b, "</code></td><td>");
	abuf_html(b, kind);
	strbuf_puts(b, "</td><td>");
	if (file && line > 0) {
		abuf_html(b, file);
		strbuf_printf(b, ":%d", line);
	} else {
		strbuf_puts(b, "default");
	}
	strbuf_puts(b, "</td></tr>\n");
}

/* The report's verdict badges and findings, shared by / and /report. */
#define REPORT_STYLE                                                                    \
	".verdict { font-weight: bold; padding: 0.1em 0.5em; border-radius: 0.3em; }\n" \
	".verdict.breaks { background: #c62828; color: #fff; }\n"                       \
	".verdict.degraded { background: #f9a825; color: #000; }\n"                     \
	".verdict.ok { background: #2e7d32; color: #fff; }\n"                           \
	"td.advice, td.evidence { text-align: left; }\n"                                \
	"code { background: #f4f4f4; padding: 0 0.2em; }\n"

static void append_report(struct strbuf *b, const struct config *cfg)
{
	size_t n = 0;
	char *html = webrtc_report_html(cfg, &n);

	if (html)
		strbuf_add(b, html, n);
	else
		strbuf_puts(b, "<p>The WebRTC report is not running.</p>\n");
	free(html);
}

static char *render_report(const struct config *cfg, size_t *len)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<title>pinhole: WebRTC report</title>\n<style>\n"
	                "body { font-family: sans-serif; margin: 2em; color: #222; max-width: 75em; }\n"
	                "table { border-collapse: collapse; margin-bottom: 1.5em; }\n"
	                "th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; "
	                "vertical-align: top; }\n"
	                "thead th { background: #eee; }\n" REPORT_STYLE "</style>\n</head>\n<body>\n"
	                "<h1>WebRTC report</h1>\n<p>Which clients' video calls would break behind this proxy, why, "
	                "and the configuration line that fixes it. <a href=\"/\">Dashboard</a> &middot; "
	                "<a href=\"/report.json\">JSON</a></p>\n");
	append_report(&b, cfg);
	strbuf_puts(&b, "</body>\n</html>\n");
	*len = b.len;
	return b.p;
}

static char *render_dashboard(const struct config *cfg, size_t *len)
{
	struct strbuf b = { 0 };
	struct totals t;

	sum_counters(&t);
	strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<title>pinhole</title>\n<style>\n"
	                "body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }\n"
	                "h1 { margin-bottom: 0.2em; }\n"
	                "table { border-collapse: collapse; margin-bottom: 1.5em; }\n"
	                "th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }\n"
	                "td { font-variant-numeric: tabular-nums; }\n"
	                "thead th { background: #eee; }\n"
	                "tbody th { font-weight: normal; }\n"
	                "td { text-align: right; }\n"
	                ".meta { color: #555; }\n" REPORT_STYLE "</style>\n</head>\n<body>\n<h1>pinhole</h1>\n"
	                "<p class=\"meta\">version ");
	abuf_html(&b, PACKAGE_VERSION);
	strbuf_printf(&b, ", configuration generation %llu from ", (unsigned long long)cfg->generation);
	abuf_html(&b, cfg->path ? cfg->path : "the embedded default");
	strbuf_printf(&b, ", %d worker%s</p>\n", t.workers, t.workers == 1 ? "" : "s");
	strbuf_puts(&b, "<nav><p><a href=\"/metrics\">/metrics</a> &middot;\n"
	                "<a href=\"/config\">/config</a> &middot;\n"
	                "<a href=\"/healthz\">/healthz</a> &middot;\n"
	                "<a href=\"/report\">/report</a></p></nav>\n");

	strbuf_puts(&b, "<h2>Listeners</h2>\n<table>\n"
	                "<thead><tr><th>address</th><th>serves</th><th>defined at</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < cfg->server->nlistens; i++) {
		const struct listen_cfg *l = &cfg->server->listens[i];

		row_listener(&b, l->text, l->proxy_protocol ? "proxy (PROXY protocol)" : "proxy", l->file, l->line);
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
		abuf_html(&b, auth_result_names[j]);
		strbuf_puts(&b, "</th>");
	}
	strbuf_puts(&b, "</tr></thead>\n<tbody>\n");
	for (int i = 0; i < STATS_NSCHEMES; i++) {
		strbuf_puts(&b, "<tr><th scope=\"row\">");
		abuf_html(&b, stats_scheme_names[i]);
		strbuf_puts(&b, "</th>");
		for (int j = 0; j < STATS_NAUTH_RESULT; j++)
			strbuf_printf(&b, "<td>%llu</td>", (unsigned long long)t.auth[i][j]);
		strbuf_puts(&b, "</tr>\n");
	}
	strbuf_puts(&b, "</tbody>\n</table>\n");

	strbuf_puts(&b, "<h2>WebRTC report</h2>\n");
	append_report(&b, cfg);
	strbuf_puts(&b, "</body>\n</html>\n");
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
	if (strncmp(type, "text/html", 9) == 0)
		MHD_add_response_header(r, "Content-Security-Policy",
		                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
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
	n = len <= ADMIN_MAX_CRED ? auth_base64_decode(v, len, dec, sizeof(dec)) : -1;

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
		b.p = render_report(cfg, &b.len);
		ret = reply_abuf(c, MHD_HTTP_OK, TYPE_HTML, &b, NULL, NULL);
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
	    strcmp(url, "/") == 0 || strcmp(url, "/report") == 0 || strcmp(url, "/report.json") == 0) {
		if (!get)
			return not_allowed(c, method, "GET, HEAD");
		if (strcmp(url, "/healthz") == 0)
			return reply_text(c, MHD_HTTP_OK, "ok\n", NULL, NULL);
		return reply_page(c, url);
	}
	struct strbuf b = { 0 };

	strbuf_puts(&b, "No such page on the pinhole admin interface: ");
	abuf_visible(&b, url, ADMIN_MAX_ECHO);
	strbuf_puts(&b, "\nThe pages are /, /report, /report.json, /metrics, /config, /healthz and POST /reload.\n");
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

static bool is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr) >> 24) == 127;
	if (a->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr);
	return false;
}

/* The admin socket is bound here rather than by MHD so that a taken
 * address is reported with its errno.  No SO_REUSEPORT: a second pinhole
 * on the same admin address must fail, not share it. */
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
		snprintf(err, errlen, "cannot serve the admin interface on %s: %s", lc->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int admin_start(const struct config *cfg, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
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
	if (cfg->admin->listen.addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	running = cfg->admin->listen;
	running.file = NULL;
	users_set(u);
	/* MHD's thread inherits the scheduling policy of the thread that
	 * starts it: SCHED_IDLE, so that the admin interface only ever runs
	 * on CPU time the workers leave (scrapes wait; tunnels do not). */
	struct sched_param idle = { 0 }, old_param;
	int old_policy = SCHED_OTHER;
	bool idled = pthread_getschedparam(pthread_self(), &old_policy, &old_param) == 0 &&
	             pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) == 0;

	daemon_handle = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
	                                 (unsigned)ADMIN_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	                                 (unsigned)ADMIN_TIMEOUT_S, MHD_OPTION_END);
	int rc = idled ? pthread_setschedparam(pthread_self(), old_policy, &old_param) : 0;

	if (rc != 0)
		log_warn("admin: cannot restore the main thread's scheduling policy: %s", strerror(rc));
	if (!daemon_handle) {
		/* fd is left alone: MHD may have closed it already, and by now
		 * the number may be a worker's socket.  The caller exits. */
		users_set(NULL);
		snprintf(err, errlen, "cannot serve the admin interface on %s: libmicrohttpd did not start",
		         cfg->admin->listen.text);
		return -1;
	}
	log_always("admin interface on http://%s/%s", cfg->admin->listen.text, u ? " (admin-auth)" : "");
	return 0;
}

void admin_reconfigure(const struct config *cfg)
{
	char why[768];

	if (!daemon_handle)
		return;
	if (!cfg->admin->enabled || cfg->admin->listen.addrlen != running.addrlen ||
	    memcmp(&cfg->admin->listen.addr, &running.addr, running.addrlen) != 0)
		log_warn("reload: the admin address changed; the admin interface stays on %s until a restart",
		         running.text);
	if (!cfg->admin->htpasswd) {
		/* The configuration that opened a non-loopback admin address
		 * had to have users; a reload does not take them away while
		 * that address is served. */
		struct admin_users *u = users_take();

		users_drop(u);
		if (u && !is_loopback(&running.addr)) {
			log_error("reload: the admin interface on %s is reachable from other machines; its admin-auth "
			          "users stay until a restart",
			          running.text);
			return;
		}
		users_set(NULL);
		return;
	}

	struct admin_users *u = users_load(cfg, why, sizeof(why));

	if (!u) {
		log_error("reload: the admin-auth users stay as they were: %s", why);
		return;
	}
	users_set(u);
}

void admin_stop(void)
{
	if (daemon_handle) {
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
	}
	users_set(NULL);
}
