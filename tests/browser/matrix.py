#!/usr/bin/python3
"""Writes doc/browser-matrix.md from the browser suite's results.

usage: matrix.py RESULTS_DIR OUTPUT.md

RESULTS_DIR holds one NAME.jsonl per browser scenario (tests/browser/lib.sh
`record`): one JSON object per thing a browser tried through pinhole, with
what was configured (scheme, credentials, inspection, quirk, url) and what
the browser showed (works, error, ICE state, selected candidate pair).
Stdlib only; run by `make browser-matrix`.
"""

import datetime
import glob
import json
import os
import sys

BROWSER_NAMES = {"chromium": "Chromium", "firefox": "Firefox ESR"}
SCHEMES = ["none", "basic", "digest", "ntlm", "negotiate"]


def load(results):
    rows = []
    for path in sorted(glob.glob(os.path.join(results, "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    return rows


CHECK_NAMES = {"ws": "WebSocket"}


def cell(r):
    if r["works"]:
        if r.get("what") == "webrtc":
            return "connects (%s)" % (r.get("pair") or "relay")
        if r.get("what") == "self-check" and r.get("checks"):
            return "; ".join("%s %s" % (CHECK_NAMES.get(c["id"], "TURN call"),
                                        "works" if c["ok"] else "fails: `%s`" % (c["text"] or "").split(" (")[0].replace("|", "/"))
                             for c in r["checks"])
        return "works"
    err = r.get("error") or "fails"
    if err.startswith("Navigation timeout"):
        err = "navigation never ended (%s)" % err.split(" of ", 1)[-1].replace(" exceeded", "")
    return "fails: `%s`" % err.replace("|", "/")


WHATS = ["page", "websocket", "webrtc", "self-check", "report-page"]


def order(key):
    what, scheme, cred, insp, quirk, url, scen = key
    return (WHATS.index(what) if what in WHATS else 9,
            SCHEMES.index(scheme) if scheme in SCHEMES else 9, quirk, url, insp, cred, scen)


def report_said(rows, r):
    """What the report said after the WebRTC row r: "breaks (rule, ...)"."""
    for x in rows:
        if x.get("what") != "report" or x["scenario"] != r["scenario"] or x["browser"] != r["browser"]:
            continue
        if all(x.get(k, "") == r.get(k, "") for k in ("scheme", "credentials", "inspection", "quirk")):
            return "report: %s%s" % (x.get("verdict"), " (%s)" % ", ".join(x["rules"]) if x.get("rules") else "")
    return None


def table(rows, browsers, what, title, out):
    keyed = {}
    for r in rows:
        if r.get("what") not in what:
            continue
        key = (r.get("what"), r.get("scheme", "none"), r.get("credentials", ""), r.get("inspection", "off"),
               r.get("quirk", ""), r.get("url", ""), r["scenario"])
        keyed.setdefault(key, {}).setdefault(r["browser"], []).append(r)
    if not keyed:
        return
    out.append("## %s\n" % title)
    head = ["what", "scheme", "credentials", "inspection", "quirk", "scenario"] + [browsers[b] for b in browsers]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for key in sorted(keyed, key=order):
        what, scheme, cred, insp, quirk, url, scen = key
        label = what if not url else "%s %s://" % (what, url)
        cells = []
        for b in browsers:
            rs = keyed[key].get(b)
            if not rs:
                cells.append("not driven")
                continue
            seen = []
            for r in rs:
                c = cell(r)
                said = report_said(rows, r) if r.get("what") == "webrtc" else None
                if said:
                    c += "; " + said
                if c not in seen:
                    seen.append(c)
            cells.append("; ".join(seen))
        out.append("| " + " | ".join([label, scheme, cred or "-", insp, quirk or "-", "`%s`" % scen] + cells) + " |")
    out.append("")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = load(sys.argv[1])
    if not rows:
        sys.exit("matrix.py: no results in %s (run make check-browser first)" % sys.argv[1])
    versions = {}
    for r in rows:
        versions.setdefault(r["browser"], set()).add(r.get("version") or "?")
    browsers = {}
    for b in sorted(versions):
        browsers[b] = "%s %s" % (BROWSER_NAMES.get(b, b), ", ".join(sorted(versions[b])))
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [
        "# Browser compatibility matrix",
        "",
        "What today's browsers do behind each pinhole configuration, measured by the browser",
        "suite (`tests/browser/`, `make check-browser`) and written by `make browser-matrix`;",
        "do not edit by hand.  Measured on %s with %s, driven headless on Debian 12, every" % (
            today, " and ".join(browsers[b] for b in browsers)),
        "server on loopback: pinhole, HTTP and TLS origins, coturn (TURN over TCP, long-term",
        "credentials) and an MIT Kerberos KDC.",
        "",
        "A cell says what the page saw: `works` (the page's own text arrived), `connects`",
        "(two relay-only RTCPeerConnections exchanged a data channel message; the selected",
        "pair's local candidate, its transport to the TURN server / to the peer), or `fails`",
        "with the browser's error (a `net::ERR_*` of Chromium, an `NS_ERROR_*` of Firefox,",
        "the HTTP status the page ended on, or the RTCPeerConnection's ICE candidate error).",
        "A WebRTC cell ends with what pinhole's report then said of that browser (its worst",
        "verdict and the rules of all its entries).",
        "WebRTC always runs with UDP forbidden outside the proxy (Chromium",
        "`--force-webrtc-ip-handling-policy=disable_non_proxied_udp`, Firefox with a manual",
        "proxy): media can only be TURN over TCP inside a CONNECT tunnel.",
        "",
        "Credentials: `right`/`wrong` are what was given to the browser's proxy prompt;",
        "`cached` means the page was loaded through the proxy with them first; `none-cached`",
        "means the page needed no authentication (`noauth`) so the browser held none when",
        "its TURN CONNECT got 407; `ticket` is a Kerberos ticket in KRB5CCNAME.",
        "",
        "The self-check page (`http://pinhole.check/`) is loaded with the proxy credentials;",
        "its cell says what each of its checks showed once they were over (the WebSocket",
        "through the proxy, the call through each `turn-server` with test credentials, right",
        "or wrong as the credentials column says).",
        "",
    ]
    table(rows, browsers, {"page"}, "Page loads", out)
    table(rows, browsers, {"websocket"}, "WebSocket", out)
    table(rows, browsers, {"webrtc"}, "WebRTC calls", out)
    table(rows, browsers, {"self-check"}, "The self-check page", out)
    table(rows, browsers, {"report-page"}, "The report page", out)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
