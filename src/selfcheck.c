/*
 * selfcheck.c - the self-check page and the results browsers post back
 * (selfcheck.h).
 */
#include "selfcheck.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "acl.h"
#include "auth.h"
#include "checkwebrtc.h"
#include "common.h"
#include "config.h"
#include "selfcheck_cfg.h"
#include "escape.h"
#include "lru.h"
#include "strbuf.h"
#include "surrogate.h"
#include "turn.h"

bool selfcheck_is_host(const struct config *cfg, const char *host)
{
	return cfg->selfcheck->host && host && strcmp(cfg->selfcheck->host, host) == 0;
}

/* ---- the page ---- */

/* Runs in the employee's browser: a WebSocket through the proxy to
 * pinhole's echo, then for each TURN server with credentials two
 * relay-only peer connections that must exchange a message over TURN/TCP
 * through the proxy; the results are shown as they come and posted back.
 * Its facts come from the JSON block #facts (never executed). */
static const char page_script[] =
        "(function () {\n"
        "'use strict';\n"
        "var facts = JSON.parse(document.getElementById('facts').textContent);\n"
        "var form = new URLSearchParams();\n"
        "function show(id, ok, text) {\n"
        "  var el = document.getElementById(id);\n"
        "  el.className = ok ? 'ok' : 'breaks';\n"
        "  el.textContent = text;\n"
        "}\n"
        "function websocket() {\n"
        "  return new Promise(function (resolve) {\n"
        "    var done = false, ws;\n"
        "    function end(ok, text) {\n"
        "      if (done) return;\n"
        "      done = true;\n"
        "      try { ws.close(); } catch (e) {}\n"
        "      resolve({ ok: ok, text: text });\n"
        "    }\n"
        "    setTimeout(function () { end(false, 'no answer within 10 s'); }, 10000);\n"
        "    try { ws = new WebSocket(facts.echo); } catch (e) { end(false, String(e)); return; }\n"
        "    ws.onopen = function () { ws.send('pinhole self-check'); };\n"
        "    ws.onmessage = function (m) {\n"
        "      end(m.data === 'pinhole self-check', m.data === 'pinhole self-check' ?\n"
        "          'a WebSocket through the proxy works (opened, echoed, closed)' : 'the echo came back wrong');\n"
        "    };\n"
        "    ws.onerror = function () { end(false, 'the WebSocket could not be opened through the proxy'); };\n"
        "    ws.onclose = function (e) { end(false, 'the WebSocket was closed (' + e.code + ') before its echo'); };\n"
        "  });\n"
        "}\n"
        "function relay(server) {\n"
        "  return new Promise(function (resolve) {\n"
        "    var cfg = { iceServers: [{ urls: 'turn:' + server.address + '?transport=tcp',\n"
        "                username: server.user, credential: server.password }], iceTransportPolicy: 'relay' };\n"
        "    var a, b, errors = [], done = false, relays = 0;\n"
        "    function end(ok, text) {\n"
        "      if (done) return;\n"
        "      done = true;\n"
        "      try { a.close(); b.close(); } catch (e) {}\n"
        "      resolve({ ok: ok, text: text });\n"
        "    }\n"
        "    try { a = new RTCPeerConnection(cfg); b = new RTCPeerConnection(cfg); }\n"
        "    catch (e) { end(false, 'this browser cannot make a peer connection: ' + e); return; }\n"
        "    [[a, b], [b, a]].forEach(function (p) {\n"
        "      p[0].onicecandidate = function (e) {\n"
        "        if (!e.candidate || !e.candidate.candidate) return;\n"
        "        relays++;\n"
        "        p[1].addIceCandidate(e.candidate).catch(function () {});\n"
        "      };\n"
        "      p[0].onicecandidateerror = function (e) {\n"
        "        errors.push(e.errorCode + (e.errorText ? ' ' + e.errorText : ''));\n"
        "      };\n"
        "    });\n"
        "    var dc = a.createDataChannel('pinhole');\n"
        "    dc.onopen = function () { dc.send('media through the proxy'); };\n"
        "    b.ondatachannel = function (e) {\n"
        "      e.channel.onmessage = function () {\n"
        "        end(true, 'a call through the proxy works: media relayed by ' + server.address + ' over TCP');\n"
        "      };\n"
        "    };\n"
        "    a.createOffer().then(function (o) { return a.setLocalDescription(o); })\n"
        "      .then(function () { return b.setRemoteDescription(a.localDescription); })\n"
        "      .then(function () { return b.createAnswer(); })\n"
        "      .then(function (o) { return b.setLocalDescription(o); })\n"
        "      .then(function () { return a.setRemoteDescription(b.localDescription); })\n"
        "      .catch(function (e) { end(false, 'signalling failed: ' + e); });\n"
        "    setTimeout(function () {\n"
        "      var why = errors.length ? 'ICE candidate error ' + errors[0] : relays ?\n"
        "          'a relay was allocated but no media passed' : 'no relay was allocated';\n"
        "      if (errors.length && /^701/.test(errors[0]))\n"
        "        why += ' (the TURN server could not be reached through the proxy; a 407 the browser did'\n"
        "            + ' not answer is the usual cause)';\n"
        "      else if (errors.length && /^401/.test(errors[0]))\n"
        "        why += ' (the TURN server was reached through the proxy but refused the test credentials: the'\n"
        "            + ' user or password of this turn-server line in the proxy configuration is wrong)';\n"
        "      end(false, why);\n"
        "    }, 15000);\n"
        "  });\n"
        "}\n"
        "async function run() {\n"
        "  var ws = await websocket();\n"
        "  show('ws', ws.ok, ws.text);\n"
        "  form.append('websocket', ws.ok ? 'ok' : 'failed');\n"
        "  form.append('websocket_detail', ws.text);\n"
        "  for (var i = 0; i < facts.turn.length; i++) {\n"
        "    var r = await relay(facts.turn[i]);\n"
        "    show('turn' + i, r.ok, r.text);\n"
        "    form.append('turn', facts.turn[i].address + (r.ok ? ' ok ' : ' failed ') + r.text);\n"
        "  }\n"
        "  var sent = document.getElementById('sent');\n"
        "  try {\n"
        "    var res = await fetch(facts.result, { method: 'POST', body: form });\n"
        "    sent.textContent = res.ok ? 'The results went to the proxy: its admin sees them in the report.' :\n"
        "        'The proxy did not take the results (' + res.status + ').';\n"
        "  } catch (e) {\n"
        "    sent.textContent = 'The results could not be sent to the proxy: ' + e;\n"
        "  }\n"
        "  document.body.setAttribute('data-done', '1');\n"
        "}\n"
        "run();\n"
        "})();\n";

static const char page_style[] = "body{font-family:sans-serif;margin:2em auto;max-width:52em;padding:0 1em;color:#222}"
                                 "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}"
                                 "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
                                 "padding:.3em .6em;border-bottom:1px solid #ddd}"
                                 ".ok{color:#176b2c}.degraded{color:#8a5a00}.breaks{color:#a11}.pending{color:#666}"
                                 "code{background:#f3f3f3;padding:0 .2em}";

static char page_csp[512];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void hash_into(const char *text, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[EVP_MAX_MD_SIZE * 2];
	unsigned int mdlen = 0;

	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	snprintf(out, cap, "%.*s", (int)cap - 1, (const char *)b64);
}

/* The page's script and style by their hashes, and nothing from outside:
 * it must work with no network but the proxy.  Its icon is the empty
 * data: URL of the page's head (img-src data:), so that no browser asks
 * for /favicon.ico and logs that the policy refused it. */
static void make_csp(void)
{
	char script[64], style[64];

	hash_into(page_script, script, sizeof(script));
	hash_into(page_style, style, sizeof(style));
	snprintf(page_csp, sizeof(page_csp),
	         "default-src 'none'; script-src 'sha256-%s'; style-src 'sha256-%s'; connect-src 'self' ws:; "
	         "img-src data:; frame-ancestors 'none'; form-action 'none'",
	         script, style);
}

/* A JSON string inside a <script type="application/json"> block: "<" is
 * written \u003c so that no "</script>" can end the block early. */
static void json_in_html(struct strbuf *out, const char *s)
{
	struct strbuf tmp = { 0 };

	esc_json_str(&tmp, s);
	for (size_t i = 0; i < tmp.len; i++) {
		if (tmp.p[i] == '<')
			strbuf_puts(out, "\\u003c");
		else
			strbuf_add(out, &tmp.p[i], 1);
	}
	free(tmp.p);
}

struct rows {
	struct strbuf *out;
	const char *vendor;
	size_t n;
};

static void vendor_row(const struct check_webrtc_row *row, void *arg)
{
	struct rows *r = arg;

	if (!r->vendor || strcmp(r->vendor, row->vendor) != 0) {
		strbuf_puts(r->out, "<tr><th colspan=\"3\">");
		esc_html(r->out, row->title);
		strbuf_puts(r->out, "</th></tr>\n");
		r->vendor = row->vendor;
	}
	strbuf_printf(r->out, "<tr><td>");
	esc_html(r->out, row->requirement);
	strbuf_printf(r->out, "</td><td class=\"%s\">%s</td><td>", row->result, row->result);
	esc_html(r->out, row->detail);
	if (row->fix[0]) {
		strbuf_puts(r->out, " <br>For the proxy's admin: <code>");
		esc_html(r->out, row->fix);
		strbuf_puts(r->out, "</code>");
	}
	strbuf_puts(r->out, "</td></tr>\n");
	r->n++;
}

static const char *scheme_words(const char *auth)
{
	if (!auth)
		return NULL;
	if (strcmp(auth, "basic") == 0)
		return "Basic (a password your browser sends with every request)";
	if (strcmp(auth, "digest") == 0)
		return "Digest (a password your browser proves it knows)";
	if (strcmp(auth, "ntlm") == 0)
		return "NTLM (your Windows or domain login)";
	if (strcmp(auth, "negotiate") == 0)
		return "Negotiate (Kerberos: your domain login, without a password prompt)";
	if (strcmp(auth, "surrogate") == 0)
		return "your address, which authenticated a moment ago (auth-surrogate)";
	return auth;
}

void selfcheck_page(const struct config *cfg, const struct selfcheck_client *cl, struct strbuf *out, char *csp,
                    size_t csplen)
{
	char addr[64];
	const char *host = cfg->selfcheck->host;
	size_t nturn = 0;

	pthread_once(&csp_once, make_csp);
	snprintf(csp, csplen, "%s", page_csp);
	ph_addr_str(cl->addr, addr, sizeof(addr));
	strbuf_printf(out,
	              "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	              "<link rel=\"icon\" href=\"data:,\">\n"
	              "<title>pinhole self-check</title>\n<style>%s</style>\n</head>\n<body>\n",
	              page_style);
	strbuf_puts(out, "<h1>Will a video call work through this proxy?</h1>\n"
	                 "<p>This page comes from the proxy itself (pinhole); nothing here left the "
	                 "office network.</p>\n<h2>What the proxy knows of you</h2>\n<table>\n");
	strbuf_puts(out, "<tr><th scope=\"row\">Your address</th><td>");
	esc_html(out, addr);
	strbuf_puts(out, "</td></tr>\n<tr><th scope=\"row\">Proxy authentication</th><td>");
	if (cl->user && cl->user[0]) {
		strbuf_puts(out, "you are <b>");
		esc_html(out, cl->user);
		strbuf_puts(out, "</b>, by ");
		esc_html(out, scheme_words(cl->auth) ? scheme_words(cl->auth) : "a scheme of the proxy");
	} else if (auth_config_enabled(cfg->auth)) {
		strbuf_puts(out, "none for this page (a noauth rule lets it through); other sites ask for your "
		                 "login");
	} else {
		strbuf_puts(out, "this proxy asks no one for a login");
	}
	strbuf_puts(out, "</td></tr>\n<tr><th scope=\"row\">Your browser</th><td>");
	esc_html(out, cl->user_agent && cl->user_agent[0] ? cl->user_agent : "(it did not say)");
	strbuf_puts(out, "</td></tr>\n</table>\n");

	strbuf_puts(out, "<h2>Video services, for you</h2>\n");
	{
		struct strbuf rows = { 0 };
		struct rows r = { .out = &rows };

		check_webrtc_client(cfg, cl->addr, cl->user, cl->user_agent, vendor_row, &r);
		if (r.n) {
			strbuf_puts(out, "<table>\n<tr><th>What a call needs</th><th>Result</th><th>Why</th></tr>\n");
			strbuf_add(out, rows.p, rows.len);
			strbuf_puts(out, "</table>\n");
		} else {
			strbuf_puts(out, "<p>The proxy names no video service (no vendor preset, no TURN server of "
			                 "its own).</p>\n");
		}
		free(rows.p);
	}

	strbuf_puts(out, "<h2>Checks in your browser</h2>\n<noscript><p class=\"breaks\">Your browser runs no "
	                 "JavaScript here, so these checks cannot run; a video call needs JavaScript too.</p>"
	                 "</noscript>\n<table>\n<tr><th scope=\"row\">WebSocket through the proxy</th>"
	                 "<td id=\"ws\" class=\"pending\">checking...</td></tr>\n");
	for (size_t i = 0; i < cfg->turn->n; i++) {
		const struct turn_server *t = &cfg->turn->servers[i];

		if (!t->user || !t->port)
			continue;
		strbuf_puts(out, "<tr><th scope=\"row\">A call through TURN server ");
		esc_html(out, t->host);
		strbuf_printf(out, ":%u</th><td id=\"turn%zu\" class=\"pending\">checking...</td></tr>\n", t->port,
		              nturn);
		nturn++;
	}
	if (nturn == 0)
		strbuf_puts(out, "<tr><th scope=\"row\">A call through a TURN server</th><td>not checked: no "
		                 "<code>turn-server</code> line of the proxy gives test credentials</td></tr>\n");
	strbuf_puts(out, "</table>\n<p id=\"sent\">The checks take up to half a minute. If these lines still say "
	                 "checking... after that, the page's script did not run: a browser extension or a policy "
	                 "of your browser may block it.</p>\n");

	/* The facts the script needs. */
	strbuf_puts(out, "<script type=\"application/json\" id=\"facts\">{\"echo\":");
	{
		char url[300];

		snprintf(url, sizeof(url), "ws://%s/echo", host);
		json_in_html(out, url);
		snprintf(url, sizeof(url), "http://%s/result", host);
		strbuf_puts(out, ",\"result\":");
		json_in_html(out, url);
	}
	strbuf_puts(out, ",\"turn\":[");
	nturn = 0;
	for (size_t i = 0; i < cfg->turn->n; i++) {
		const struct turn_server *t = &cfg->turn->servers[i];
		char address[300];
		bool v6 = strchr(t->host, ':') != NULL;

		if (!t->user || !t->port)
			continue;
		snprintf(address, sizeof(address), "%s%s%s:%u", v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
		strbuf_puts(out, nturn++ ? ",{\"address\":" : "{\"address\":");
		json_in_html(out, address);
		strbuf_puts(out, ",\"user\":");
		json_in_html(out, t->user);
		strbuf_puts(out, ",\"password\":");
		json_in_html(out, t->password);
		strbuf_puts(out, "}");
	}
	strbuf_printf(out, "]}</script>\n<script>%s</script>\n</body>\n</html>\n", page_script);
}

/* ---- results ---- */

/* src into dst, cut to fit (cap > 0). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int hexval(int c)
{
	return ph_hexval((char)c);
}

/* Decodes one form value (application/x-www-form-urlencoded) into out
 * (cap bytes, NUL-terminated, cut to fit); non-printable bytes become '?'.
 * PH_ERROR on a bad escape. */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return PH_ERROR;
			c = hexval(s[i + 1]) << 4 | hexval(s[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (o + 1 < cap)
			out[o++] = (char)c;
	}
	if (cap)
		out[o] = '\0';
	return PH_OK;
}

int selfcheck_parse_result(const char *body, size_t len, struct selfcheck_result *r, const char **why)
{
	const char *p = body, *end = body + len;

	r->websocket_tested = r->websocket_ok = false;
	r->websocket_detail[0] = '\0';
	r->nturn = 0;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		char key[32], val[512];

		if (fe == p) {
			p = fe + 1;
			continue;
		}
		if (!eq || form_decode(p, (size_t)(eq - p), key, sizeof(key)) != PH_OK ||
		    form_decode(eq + 1, (size_t)(fe - eq - 1), val, sizeof(val)) != PH_OK) {
			*why = "the results are not a form (name=value&..., %-escapes of two hex digits)";
			return PH_ERROR;
		}
		if (strcmp(key, "websocket") == 0) {
			if (strcmp(val, "ok") != 0 && strcmp(val, "failed") != 0) {
				*why = "websocket is ok or failed";
				return PH_ERROR;
			}
			r->websocket_tested = true;
			r->websocket_ok = strcmp(val, "ok") == 0;
		} else if (strcmp(key, "websocket_detail") == 0) {
			copy(r->websocket_detail, sizeof(r->websocket_detail), val);
		} else if (strcmp(key, "turn") == 0) {
			struct selfcheck_turn *t;
			char *sp = strchr(val, ' '), *word, *rest;

			if (r->nturn == SELFCHECK_TURN_MAX) {
				*why = "more turn results than a page sends";
				return PH_ERROR;
			}
			if (!sp || sp == val) {
				*why = "a turn result is SERVER ok|failed [DETAIL]";
				return PH_ERROR;
			}
			*sp = '\0';
			word = sp + 1;
			rest = strchr(word, ' ');
			if (rest)
				*rest++ = '\0';
			if (strcmp(word, "ok") != 0 && strcmp(word, "failed") != 0) {
				*why = "a turn result is SERVER ok|failed [DETAIL]";
				return PH_ERROR;
			}
			t = &r->turn[r->nturn++];
			copy(t->server, sizeof(t->server), val);
			t->ok = strcmp(word, "ok") == 0;
			copy(t->detail, sizeof(t->detail), rest ? rest : "");
		}
		p = fe + 1;
	}
	return PH_OK;
}

struct entry {
	struct lru_node node; /* recency: the order of the checks */
	int family;
	uint8_t addr[16];
	struct selfcheck_result r;
};

struct key {
	int family;
	const uint8_t *addr;
	const char *user;
};

static struct {
	pthread_mutex_t lock;
	struct lru table;
	bool ready;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = lru_hash(LRU_HASH_INIT, &k->family, sizeof(k->family));

	h = lru_hash(h, k->addr, 16);
	return lru_hash(h, k->user, strlen(k->user));
}

static bool key_eq(const struct lru_node *n, const void *key)
{
	const struct entry *e = (const struct entry *)n;
	const struct key *k = key;

	return e->family == k->family && memcmp(e->addr, k->addr, 16) == 0 && strcmp(e->r.user, k->user) == 0;
}

/* An IPv4-mapped address counts as IPv4, as in the report. */
static bool addr_key(const struct sockaddr_storage *ss, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		*family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (IN6_IS_ADDR_V4MAPPED(a)) {
		*family = AF_INET;
		memcpy(addr, a->s6_addr + 12, 4);
	} else {
		*family = AF_INET6;
		memcpy(addr, a->s6_addr, 16);
	}
	return true;
}

void selfcheck_store(const struct sockaddr_storage *addr, const struct selfcheck_result *r)
{
	uint8_t a[16];
	int family;
	struct entry *e, *old = NULL;

	if (!addr_key(addr, &family, a))
		return;
	struct key k = { family, a, r->user };
	uint64_t h = key_hash(&k);

	pthread_mutex_lock(&T.lock);
	if (!T.ready && lru_init(&T.table, SELFCHECK_MAX) == 0)
		T.ready = true;
	if (!T.ready) {
		pthread_mutex_unlock(&T.lock);
		return;
	}
	e = (struct entry *)lru_find(&T.table, h, key_eq, &k);
	if (e) {
		lru_touch(&T.table, &e->node);
	} else {
		if (lru_full(&T.table)) {
			old = (struct entry *)lru_oldest(&T.table);
			lru_remove(&T.table, &old->node);
		}
		e = old ? old : ph_malloc(sizeof(*e));
		memset(e, 0, sizeof(*e));
		e->family = family;
		memcpy(e->addr, a, 16);
		lru_insert(&T.table, &e->node, h);
	}
	e->r = *r;
	pthread_mutex_unlock(&T.lock);
}

bool selfcheck_lookup(int family, const uint8_t *addr, const char *user, struct selfcheck_result *r)
{
	uint8_t a[16] = { 0 };
	struct entry *e = NULL;

	memcpy(a, addr, family == AF_INET ? 4 : 16);
	struct key k = { family, a, user ? user : "" };

	pthread_mutex_lock(&T.lock);
	if (T.ready && (e = (struct entry *)lru_find(&T.table, key_hash(&k), key_eq, &k)))
		*r = e->r;
	pthread_mutex_unlock(&T.lock);
	return e != NULL;
}

size_t selfcheck_recent(struct selfcheck_result *r, char (*addr)[64], size_t n)
{
	size_t i = 0;

	pthread_mutex_lock(&T.lock);
	for (struct list *l = T.ready ? T.table.recency.next : NULL; l && l != &T.table.recency && i < n;
	     l = l->next, i++) {
		const struct entry *e = (const struct entry *)list_entry(l, struct lru_node, recency);
		struct sockaddr_storage ss = { 0 };

		r[i] = e->r;
		if (e->family == AF_INET) {
			ss.ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, e->addr, 4);
		} else {
			ss.ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, e->addr, 16);
		}
		ph_addr_str(&ss, addr[i], 64);
	}
	pthread_mutex_unlock(&T.lock);
	return i;
}

static void free_node(struct lru_node *n)
{
	free(n);
}

void selfcheck_clear(void)
{
	pthread_mutex_lock(&T.lock);
	if (T.ready)
		lru_free(&T.table, free_node);
	T.ready = false;
	pthread_mutex_unlock(&T.lock);
}

static void iso_time(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void selfcheck_json(const struct selfcheck_result *r, struct strbuf *out)
{
	char when[32];

	iso_time(r->when_ms, when, sizeof(when));
	strbuf_printf(out, "{\"time\":\"%s\",\"auth\":", when);
	esc_json_str(out, r->auth[0] ? r->auth : NULL);
	strbuf_puts(out, ",\"user_agent\":");
	esc_json_str(out, r->user_agent);
	strbuf_puts(out, ",\"websocket\":");
	esc_json_str(out, !r->websocket_tested ? NULL : r->websocket_ok ? "ok" : "failed");
	strbuf_puts(out, ",\"websocket_detail\":");
	esc_json_str(out, r->websocket_detail);
	strbuf_puts(out, ",\"turn\":[");
	for (size_t i = 0; i < r->nturn; i++) {
		strbuf_puts(out, i ? ",{\"server\":" : "{\"server\":");
		esc_json_str(out, r->turn[i].server);
		strbuf_printf(out, ",\"result\":\"%s\",\"detail\":", r->turn[i].ok ? "ok" : "failed");
		esc_json_str(out, r->turn[i].detail);
		strbuf_puts(out, "}");
	}
	strbuf_puts(out, "]}");
}

void selfcheck_html(const struct selfcheck_result *r, struct strbuf *out)
{
	char when[32];

	iso_time(r->when_ms, when, sizeof(when));
	strbuf_printf(out, "self-check %s: WebSocket ", when);
	strbuf_puts(out, !r->websocket_tested ? "not run" : r->websocket_ok ? "ok" : "failed");
	for (size_t i = 0; i < r->nturn; i++) {
		strbuf_puts(out, "; call through ");
		esc_html(out, r->turn[i].server);
		strbuf_puts(out, r->turn[i].ok ? " ok" : " failed");
		if (!r->turn[i].ok && r->turn[i].detail[0]) {
			strbuf_puts(out, " (");
			esc_html(out, r->turn[i].detail);
			strbuf_puts(out, ")");
		}
	}
}
