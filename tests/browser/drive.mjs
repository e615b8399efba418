// tests/browser/drive.mjs - drives one real browser through a proxy and
// prints what the user saw as one JSON line on stdout (the last line).
//
//   node drive.mjs --browser chromium|firefox [--proxy HOST:PORT]
//        [--proxy-user USER --proxy-password PASSWORD] [--profile DIR]
//        [--user-agent UA] [--timeout SECONDS] STEP...
//
// Chromium 156 is driven by playwright-core over CDP, Firefox ESR by
// puppeteer-core over WebDriver BiDi; both are Debian's binaries
// (/usr/bin/chromium, /usr/bin/firefox-esr; PH_CHROMIUM and PH_FIREFOX
// override).  Nothing is ever downloaded.  --profile is a fresh directory
// the caller prepared: Chromium gets it as HOME (so it reads an NSS database
// in DIR/.pki/nssdb) with its user data in DIR/chromium; Firefox uses
// DIR/firefox as its profile (a cert9.db there is trusted).
//
// Steps, run in order in one page (so credentials cached by a page load are
// there for the steps after it):
//   page=URL          load URL; records HTTP status, page text, error
//   content=HTML      replace the page with HTML (page.setContent): a page
//                     that came from nowhere, so the browser used no proxy
//                     credentials for it
//   webrtc=JSON       two relay-only RTCPeerConnections in the current page
//                     with {"turn": "turn:HOST:PORT?transport=tcp",
//                     "username": U, "credential": P, "seconds": N}: ICE
//                     states, candidate errors, the selected pair, whether a
//                     data channel message went through
//   ws=URL            a WebSocket from the current page: open, echo, close
//   selfcheck=URL     load pinhole's self-check page at URL and wait (up to
//                     --timeout) for its checks to end (the body's
//                     data-done="1"); records HTTP status, the whole page
//                     text, the marker, each check the page shows ({id,
//                     class, text} of its result cells), the line about
//                     the results it posted back and the page's console
//   screenshot=FILE   a full-page PNG of the current page
//
// Output: {"browser":"chromium","version":"156.0...","user_agent":"...",
// "steps":[{"step":"page","url":...,"ok":true,"status":200,"text":...},
// ...]}.  Exit status 0 when the browser ran (whatever the pages did), 2 on
// bad arguments, 3 when the browser could not be driven.

import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = { browser: null, proxy: null, proxyUser: null, proxyPassword: null, profile: null, userAgent: null,
              timeout: 30, steps: [] };

function usage(msg) {
	console.error(`drive.mjs: ${msg}`);
	process.exit(2);
}

for (let i = 0; i < args.length; i++) {
	const a = args[i];
	const val = () => {
		if (i + 1 >= args.length)
			usage(`${a} needs a value`);
		return args[++i];
	};
	if (a === '--browser') opt.browser = val();
	else if (a === '--proxy') opt.proxy = val();
	else if (a === '--proxy-user') opt.proxyUser = val();
	else if (a === '--proxy-password') opt.proxyPassword = val();
	else if (a === '--profile') opt.profile = val();
	else if (a === '--user-agent') opt.userAgent = val();
	else if (a === '--timeout') opt.timeout = Number(val());
	else if (/^(page|content|webrtc|ws|selfcheck|screenshot)=/.test(a)) {
		const eq = a.indexOf('=');
		opt.steps.push({ kind: a.slice(0, eq), arg: a.slice(eq + 1) });
	} else usage(`unknown argument '${a}'`);
}
if (opt.browser !== 'chromium' && opt.browser !== 'firefox')
	usage('--browser chromium|firefox');
if (!opt.profile)
	opt.profile = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'pinhole-browser-'));

const timeoutMs = opt.timeout * 1000;
// What the pages said on their console and the errors they threw (the
// selfcheck step reports those of its page: a policy that blocked the
// script, an exception).
const consoleLog = [];
function listen(page) {
	page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`.slice(0, 500)));
	page.on('pageerror', (e) => consoleLog.push(`error: ${e && e.message ? e.message : e}`.slice(0, 500)));
}
const chromiumPath = process.env.PH_CHROMIUM || '/usr/bin/chromium';
const firefoxPath = process.env.PH_FIREFOX || '/usr/bin/firefox-esr';

// What a browser offers the steps: one page, the same calls for both.
// goto() resolves to {status, text} or throws with the browser's error.
async function openChromium() {
	const { chromium } = await import('playwright-core');
	const launch = {
		executablePath: chromiumPath,
		headless: true,
		timeout: timeoutMs,
		env: { ...process.env, HOME: opt.profile },
		args: [
			'--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--no-first-run', '--disable-quic', '--disable-features=MediaRouter,OptimizationHints',
			// WebRTC's UDP must not bypass the proxy: TURN over TCP inside
			// CONNECT is all that is left, as in an office behind a proxy.
			'--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
		],
	};
	if (opt.proxy) {
		// playwright adds <-loopback> to the bypass list, so loopback
		// names and addresses go through the proxy too.
		launch.proxy = { server: `http://${opt.proxy}` };
		if (opt.proxyUser !== null) {
			launch.proxy.username = opt.proxyUser;
			launch.proxy.password = opt.proxyPassword ?? '';
		}
	}
	const browser = await chromium.launch(launch);
	const context = await browser.newContext(opt.userAgent ? { userAgent: opt.userAgent } : {});
	const page = await context.newPage();
	page.setDefaultTimeout(timeoutMs);
	listen(page);
	return {
		version: browser.version(),
		async goto(url) {
			const r = await page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
			const out = { status: r ? r.status() : null, text: await pageText(page) };
			const sd = r ? await r.securityDetails() : null;
			if (sd)
				out.certificate = { issuer: sd.issuer ?? null, subject: sd.subjectName ?? null,
				                    protocol: sd.protocol ?? null };
			return out;
		},
		setContent: (html) => page.setContent(html, { timeout: timeoutMs }),
		evaluate: (fn, arg) => page.evaluate(fn, arg),
		text: (max) => pageText(page, max),
		screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
		close: () => browser.close(),
	};
}

async function openFirefox() {
	const puppeteer = (await import('puppeteer-core')).default;
	const prefs = {
		'network.http.http3.enable': false,
		'media.peerconnection.ice.loopback': true,
		// true makes Firefox gather no candidate at all here.
		'media.peerconnection.ice.proxy_only': false,
		'app.update.enabled': false,
		'browser.safebrowsing.malware.enabled': false,
		'browser.safebrowsing.phishing.enabled': false,
		'network.captive-portal-service.enabled': false,
		'network.connectivity-service.enabled': false,
		'extensions.update.enabled': false,
	};
	if (opt.proxy) {
		const colon = opt.proxy.lastIndexOf(':');
		const host = opt.proxy.slice(0, colon), port = Number(opt.proxy.slice(colon + 1));
		Object.assign(prefs, {
			'network.proxy.type': 1,
			'network.proxy.http': host,
			'network.proxy.http_port': port,
			'network.proxy.ssl': host,
			'network.proxy.ssl_port': port,
			'network.proxy.allow_hijacking_localhost': true,
			'network.proxy.no_proxies_on': '',
			'network.proxy.share_proxy_settings': true,
			// Negotiate to this proxy with the ticket in KRB5CCNAME.
			'network.negotiate-auth.trusted-uris': host,
			'network.negotiate-auth.allow-proxies': true,
			'network.automatic-ntlm-auth.allow-proxies': true,
		});
	} else {
		prefs['network.proxy.type'] = 0;
	}
	if (opt.userAgent)
		prefs['general.useragent.override'] = opt.userAgent;
	const userDataDir = path.join(opt.profile, 'firefox');
	fs.mkdirSync(userDataDir, { recursive: true });
	const browser = await puppeteer.launch({
		browser: 'firefox',
		protocol: 'webDriverBiDi',
		executablePath: firefoxPath,
		headless: true,
		userDataDir,
		timeout: timeoutMs,
		protocolTimeout: timeoutMs + 10000,
		env: { ...process.env, HOME: opt.profile, MOZ_CRASHREPORTER_DISABLE: '1' },
		extraPrefsFirefox: prefs,
	});
	const page = await browser.newPage();
	page.setDefaultTimeout(timeoutMs);
	listen(page);
	page.setDefaultNavigationTimeout(timeoutMs);
	if (opt.proxyUser !== null)
		await page.authenticate({ username: opt.proxyUser, password: opt.proxyPassword ?? '' });
	return {
		version: (await browser.version()).replace(/^firefox\//i, ''),
		async goto(url) {
			const r = await page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
			const out = { status: r ? r.status() : null, text: await pageText(page) };
			let sd = null;
			try {
				sd = r ? r.securityDetails() : null;
			} catch {
				sd = null;
			}
			if (sd)
				out.certificate = { issuer: sd.issuer?.() ?? null, subject: sd.subjectName?.() ?? null,
				                    protocol: sd.protocol?.() ?? null };
			return out;
		},
		setContent: (html) => page.setContent(html, { timeout: timeoutMs }),
		evaluate: (fn, arg) => page.evaluate(fn, arg),
		text: (max) => pageText(page, max),
		screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
		close: () => browser.close(),
	};
}

async function pageText(page, max = 2000) {
	try {
		const t = await page.evaluate(() => (document.body ? document.body.innerText : document.documentElement.textContent) || '');
		return t.length > max ? t.slice(0, max) : t;
	} catch (e) {
		return null;
	}
}

// Runs in the page: two peer connections that may only use the TURN relay,
// signalled to each other in the page.  Returns what a call would see.
async function webrtcInPage(spec) {
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	const cfg = { iceServers: [{ urls: spec.turn, username: spec.username, credential: spec.credential }],
	              iceTransportPolicy: 'relay' };
	const out = { ice: { a: [], b: [] }, candidates: { a: [], b: [] }, errors: [], message: null,
	              gathering: {}, selected: null, connected: false, error: null };
	let a, b;
	try {
		a = new RTCPeerConnection(cfg);
		b = new RTCPeerConnection(cfg);
	} catch (e) {
		out.error = `RTCPeerConnection: ${e}`;
		return out;
	}
	const pcs = { a, b };
	for (const [name, pc, other] of [['a', a, b], ['b', b, a]]) {
		pc.onicecandidate = (e) => {
			if (!e.candidate || !e.candidate.candidate)
				return;
			out.candidates[name].push(e.candidate.candidate);
			other.addIceCandidate(e.candidate).catch(() => {});
		};
		pc.onicecandidateerror = (e) => {
			out.errors.push({ pc: name, code: e.errorCode, text: e.errorText || '', url: e.url || '' });
		};
		pc.oniceconnectionstatechange = () => out.ice[name].push(pc.iceConnectionState);
	}
	const dc = a.createDataChannel('pinhole');
	dc.onopen = () => dc.send('media through pinhole');
	b.ondatachannel = (e) => {
		e.channel.onmessage = (m) => {
			out.message = String(m.data);
		};
	};
	try {
		await a.setLocalDescription(await a.createOffer());
		await b.setRemoteDescription(a.localDescription);
		await b.setLocalDescription(await b.createAnswer());
		await a.setRemoteDescription(b.localDescription);
	} catch (e) {
		out.error = `signalling: ${e}`;
	}
	const deadline = Date.now() + (spec.seconds || 20) * 1000;
	let gatheredAt = 0;
	while (Date.now() < deadline && !out.error) {
		if (out.message !== null)
			break;
		const st = [a.iceConnectionState, b.iceConnectionState];
		if (st.includes('failed'))
			break;
		// Gathering over with no relay on a side: nothing can connect;
		// give the state machine a moment to say so, then stop.
		if (a.iceGatheringState === 'complete' && b.iceGatheringState === 'complete' &&
		    (out.candidates.a.length === 0 || out.candidates.b.length === 0)) {
			gatheredAt = gatheredAt || Date.now();
			if (Date.now() - gatheredAt > 1500)
				break;
		}
		await sleep(100);
	}
	out.gathering = { a: a.iceGatheringState, b: b.iceGatheringState };
	out.state = { a: a.iceConnectionState, b: b.iceConnectionState };
	out.connected = out.message !== null;
	try {
		const stats = await a.getStats();
		const byId = new Map();
		stats.forEach((s) => byId.set(s.id, s));
		let pair = null;
		stats.forEach((s) => {
			if (s.type === 'transport' && s.selectedCandidatePairId)
				pair = byId.get(s.selectedCandidatePairId) || pair;
		});
		if (!pair)
			stats.forEach((s) => {
				if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected || s.nominated))
					pair = pair || s;
			});
		if (pair) {
			const l = byId.get(pair.localCandidateId) || {}, r = byId.get(pair.remoteCandidateId) || {};
			out.selected = {
				state: pair.state,
				local: { type: l.candidateType, protocol: l.protocol, relayProtocol: l.relayProtocol ?? null,
				         address: l.address ?? l.ip ?? null, url: l.url ?? null },
				remote: { type: r.candidateType, protocol: r.protocol, address: r.address ?? r.ip ?? null },
			};
		}
	} catch (e) {
		out.statsError = String(e);
	}
	for (const pc of Object.values(pcs))
		pc.close();
	return out;
}

async function wsInPage(url) {
	return await new Promise((resolve) => {
		const out = { opened: false, echo: null, closed: null, error: null };
		let ws;
		const timer = setTimeout(() => {
			out.error = out.error || 'timeout';
			resolve(out);
		}, 15000);
		try {
			ws = new WebSocket(url);
		} catch (e) {
			out.error = String(e);
			clearTimeout(timer);
			resolve(out);
			return;
		}
		ws.onopen = () => {
			out.opened = true;
			ws.send('ping through pinhole');
		};
		ws.onmessage = (m) => {
			out.echo = String(m.data);
			ws.close(1000, 'done');
		};
		ws.onerror = () => {
			out.error = 'error event';
		};
		ws.onclose = (e) => {
			out.closed = e.code;
			clearTimeout(timer);
			resolve(out);
		};
	});
}

// Runs in the self-check page: its completion marker, its checks (the
// result cells, by id) and the line about the results it posted.
function selfcheckState() {
	const sent = document.getElementById('sent');
	return {
		done: document.body ? document.body.getAttribute('data-done') : null,
		checks: Array.from(document.querySelectorAll('td[id]')).map((td) => ({
			id: td.id, class: td.className, text: td.textContent })),
		sent: sent ? sent.textContent : null,
	};
}

// Loads the self-check page, then polls it until its marker or the
// deadline; what a user sees when the checks are over (or when the wait
// gave up).
async function selfcheckStep(b, url, r) {
	r.url = url;
	const seen = consoleLog.length;
	Object.assign(r, await b.goto(url));
	const start = Date.now(), deadline = start + timeoutMs;
	let st = await b.evaluate(selfcheckState);
	while (st.done !== '1' && Date.now() < deadline) {
		await new Promise((res) => setTimeout(res, 250));
		st = await b.evaluate(selfcheckState);
	}
	Object.assign(r, st);
	r.waited_ms = Date.now() - start;
	r.text = await b.text(20000);
	r.console = consoleLog.slice(seen, seen + 20);
	r.ok = r.status === 200 && r.done === '1';
	if (r.status !== 200)
		r.error = `HTTP ${r.status}`;
	else if (r.done !== '1')
		r.error = `the page's checks did not end within ${opt.timeout} s`;
}

function errorText(e) {
	const m = String(e && e.message ? e.message : e);
	// The browser's own error, not the driver's call log.
	const first = m.split('\n')[0];
	const net = first.match(/(net::ERR_[A-Z_]+|NS_ERROR_[A-Z_]+|SEC_ERROR_[A-Z_]+|SSL_ERROR_[A-Z_]+|MOZILLA_PKIX_ERROR_[A-Z_]+)/);
	return net ? net[1] : first.slice(0, 300);
}

const result = { browser: opt.browser, version: null, user_agent: null, steps: [] };
let b;
try {
	b = opt.browser === 'chromium' ? await openChromium() : await openFirefox();
} catch (e) {
	result.error = `cannot start ${opt.browser}: ${errorText(e)}`;
	console.log(JSON.stringify(result));
	process.exit(3);
}
result.version = b.version;
for (const s of opt.steps) {
	const r = { step: s.kind };
	try {
		if (s.kind === 'page') {
			r.url = s.arg;
			Object.assign(r, await b.goto(s.arg));
			r.ok = r.status !== null && r.status >= 200 && r.status < 400;
			if (!r.ok)
				r.error = `HTTP ${r.status}`;
			if (!result.user_agent)
				result.user_agent = await b.evaluate(() => navigator.userAgent).catch(() => null);
		} else if (s.kind === 'content') {
			await b.setContent(s.arg);
			r.ok = true;
			if (!result.user_agent)
				result.user_agent = await b.evaluate(() => navigator.userAgent).catch(() => null);
		} else if (s.kind === 'webrtc') {
			const spec = JSON.parse(s.arg);
			r.turn = spec.turn;
			Object.assign(r, await b.evaluate(webrtcInPage, spec));
			r.ok = r.connected;
			if (!r.ok)
				r.error = r.error || (r.errors.length ? `ICE candidate error ${r.errors[0].code}` +
				          (r.errors[0].text ? ` (${r.errors[0].text})` : '') : `ICE ${r.state.a}/${r.state.b}`);
		} else if (s.kind === 'ws') {
			r.url = s.arg;
			Object.assign(r, await b.evaluate(wsInPage, s.arg));
			r.ok = r.opened && r.echo === 'ping through pinhole';
			if (!r.ok)
				r.error = r.error || 'no echo';
		} else if (s.kind === 'selfcheck') {
			await selfcheckStep(b, s.arg, r);
			if (!result.user_agent)
				result.user_agent = await b.evaluate(() => navigator.userAgent).catch(() => null);
		} else if (s.kind === 'screenshot') {
			r.file = s.arg;
			await b.screenshot(s.arg);
			r.bytes = fs.statSync(s.arg).size;
			r.ok = r.bytes > 0;
		}
	} catch (e) {
		r.ok = false;
		r.error = errorText(e);
	}
	result.steps.push(r);
}
try {
	await Promise.race([b.close(), new Promise((r) => setTimeout(r, 10000))]);
} catch {
	// the result is what matters; a browser that will not close is killed
	// with its process group by the caller
}
console.log(JSON.stringify(result));
process.exit(0);
