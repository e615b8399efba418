#!/usr/bin/python3
"""Reads pinhole's WebRTC report (/report.json) for the scenarios (stdlib only).

usage: report.py ADMIN_URL [--client ADDR] [--user USER] [--rule ID]
                 [--absent] [--wait SECONDS]

  --client ADDR --rule ID   prints the finding of rule ID for that client,
                            one "key: value" line each (rule, severity, count,
                            vendors, source, evidence, advice) and the
                            client's verdict; exit 1 when the client has no
                            such finding
  --client ADDR             prints the client (client, user, user_agent,
                            browser, os, requests, verdict, rules)
  --absent                  with --rule: exit 0 when the client is listed
                            without that finding, 1 when it has it
  (neither)                 prints one line per client:
                            "ADDR USER VERDICT RULE,RULE..." ("-" when empty)
  --user USER               the client's user name ("" = none); without it
                            the first client with that address is taken

--wait SECONDS retries (every 0.2 s) until the answer is the wanted one.
Values are printed with control characters as \\xNN, so one value is one
line.  Exit 2 when the report cannot be fetched or is not JSON, or when
the client is not listed.
"""

import argparse
import json
import re
import sys
import time
import urllib.request


def clean(v):
    if v is None:
        return "null"
    if isinstance(v, list):
        return ",".join(clean(x) for x in v)
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: "\\x%02x" % ord(m.group()), str(v))


def fetch(url):
    with urllib.request.urlopen(url.rstrip("/") + "/report.json", timeout=10) as r:
        return json.loads(r.read().decode("utf-8"))


def find_client(rep, addr, user):
    for c in rep.get("clients", []):
        if c.get("client") != addr:
            continue
        if user is not None and (c.get("user") or "") != user:
            continue
        return c
    return None


def answer(args):
    """(exit status, lines)."""
    try:
        rep = fetch(args.url)
    except Exception as e:  # noqa: BLE001 - any failure is the same answer
        return 2, ["cannot read %s/report.json: %s" % (args.url, e)]
    if not args.client:
        out = []
        for c in rep.get("clients", []):
            rules = [f["rule"] for f in c.get("findings", [])]
            out.append("%s %s %s %s" % (c.get("client"), clean(c.get("user")) or "-", c.get("verdict"),
                                         ",".join(rules) or "-"))
        return 0, out
    c = find_client(rep, args.client, args.user)
    if c is None:
        listed = ["%s (user %r)" % (x.get("client"), x.get("user")) for x in rep.get("clients", [])]
        return 2, ["client %s%s is not in the report; it lists: %s" % (
            args.client, "" if args.user is None else " (user %r)" % args.user, ", ".join(listed) or "nobody")]
    rules = [f["rule"] for f in c.get("findings", [])]
    if not args.rule:
        keys = ["client", "user", "user_agent", "browser", "os", "requests", "verdict"]
        return 0, ["%s: %s" % (k, clean(c.get(k))) for k in keys] + ["rules: %s" % " ".join(rules)]
    f = next((x for x in c.get("findings", []) if x.get("rule") == args.rule), None)
    if args.absent:
        if f is None:
            return 0, ["verdict: %s" % c.get("verdict"), "rules: %s" % " ".join(rules)]
        return 1, ["%s has finding %s: %s" % (args.client, args.rule, json.dumps(f))]
    if f is None:
        return 1, ["%s has no finding %s; its findings: %s" % (args.client, args.rule, json.dumps(c.get("findings")))]
    keys = ["rule", "severity", "count", "vendors", "source", "evidence", "advice"]
    return 0, ["%s: %s" % (k, clean(f.get(k))) for k in keys] + ["verdict: %s" % c.get("verdict")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("--client")
    ap.add_argument("--user")
    ap.add_argument("--rule")
    ap.add_argument("--absent", action="store_true")
    ap.add_argument("--wait", type=float, default=0)
    args = ap.parse_args()
    deadline = time.monotonic() + args.wait
    while True:
        rc, lines = answer(args)
        if rc == 0 or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    stream = sys.stdout if rc == 0 else sys.stderr
    for line in lines:
        stream.write(line + "\n")
    sys.exit(rc)


if __name__ == "__main__":
    main()
