"""The request-smuggling corpus: what pinhole must do with ambiguous HTTP/1.1.

Three lists, each entry one variant with its expected outcome and, in
`why`, the RFC clause or published attack it comes from:

  REQUEST_VARIANTS   bytes a client sends (Q)
  RESPONSE_VARIANTS  bytes the origin answers to GET /resp/ID (S)
  POOL_VARIANTS      a client authenticates to the origin with NTLM or
                     Negotiate; a second client must not inherit that (P)

The vocabulary (Q, S, P, forward, refuse, either, Req, Answer, Pause,
Await, {T}, {H}) is explained in model.py; how to run one variant is in
README.md.  Papers cited by short name:
  Watchfire 2005  Linhart, Klein, Heled, Orrin: "HTTP Request Smuggling"
  Kettle 2019     J. Kettle: "HTTP Desync Attacks: Request Smuggling Reborn"
  Davison 2019    N. Davison: "Abusing HTTP hop-by-hop request headers"
  Kettle 2022     J. Kettle: "Browser-Powered Desync Attacks" (CL.0, pause)
  Kettle 2025     J. Kettle: "HTTP/1.1 must die" (Expect-based desyncs)
  Funky chunks    J. B. Weinberger, 2025: chunk-line terminator and
                  extension parsing differentials (TERM.EXT, EXT.TERM)
"""

from model import (BAD_GATEWAY, INSPECT, PLAIN, Answer, Await, P, Pause, Q, Req, S, cl, either, forward,
                   refuse)

H = "Host: {H}\r\n"
SMUG = "GET /smuggled HTTP/1.1\r\nHost: smuggled.test\r\n\r\n"
CHUNKED_HELLO = "5\r\nhello\r\n0\r\n\r\n"
TE = "Transfer-Encoding: chunked\r\n"


def line(method, vid, version="HTTP/1.1"):
    return "%s {T}/q/%s %s\r\n" % (method, vid, version)


def post(vid, fields, body="", version="HTTP/1.1"):
    """POST {T}/q/VID with a Host line, the given field lines, the empty
    line, then body."""
    return line("POST", vid, version) + H + fields + "\r\n" + body


def get(vid, fields="", version="HTTP/1.1"):
    return line("GET", vid, version) + H + fields + "\r\n"


def at(vid, body="", method="POST", headers=None):
    """The request the origin must see for variant vid."""
    return Req(method, "/q/" + vid, body, headers)


def chunk(data):
    return "%x\r\n%s\r\n" % (len(data), data)


REQUEST_VARIANTS = [
    # ---- baselines: what must get through unchanged
    Q("cl-body", post("cl-body", cl("hello"), "hello"), forward(at("cl-body", "hello")),
      "RFC 9112 6.2: Content-Length framing"),
    Q("chunked-body", post("chunked-body", TE, CHUNKED_HELLO), forward(at("chunked-body", "hello")),
      "RFC 9112 7.1: chunked framing"),
    Q("get-no-body", get("get-no-body"), forward(at("get-no-body", method="GET")),
      "RFC 9112 6.3 rule 7: no framing header, no body"),

    # ---- CL.TE / TE.CL: both framing headers
    Q("cl-te", post("cl-te", "Content-Length: 6\r\n" + TE, "0\r\n\r\nG"), refuse(400),
      "RFC 9112 6.3 rule 3 (both: 'ought to be handled as an error'); CL.TE, Watchfire 2005, Kettle 2019"),
    Q("te-cl", post("te-cl", TE + "Content-Length: 3\r\n", "8\r\nSMUGGLED\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 6.3 rule 3; TE.CL, Kettle 2019"),
    Q("cl-te-smuggled-request", post("cl-te-smuggled-request", cl("0\r\n\r\n" + SMUG) + TE, "0\r\n\r\n" + SMUG),
      refuse(400), "RFC 9112 6.3 rule 3; CL.TE with a whole request after the last chunk, Kettle 2019"),
    Q("cl0-te", post("cl0-te", "Content-Length: 0\r\n" + TE, CHUNKED_HELLO), refuse(400),
      "RFC 9112 6.2: no Content-Length with Transfer-Encoding; CL.TE with CL 0"),

    # ---- TE.TE: obfuscated Transfer-Encoding values (Kettle 2019)
    Q("te-trailing-space", post("te-trailing-space", "Transfer-Encoding: chunked \r\n", CHUNKED_HELLO),
      forward(at("te-trailing-space", "hello")), "RFC 9110 5.5: trailing OWS is not part of the value"),
    Q("te-trailing-space+cl", post("te-trailing-space+cl", "Transfer-Encoding: chunked \r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 6.3 rule 3; TE.TE 'chunked ' with CL, Kettle 2019"),
    Q("te-leading-tab", post("te-leading-tab", "Transfer-Encoding:\tchunked\r\n", CHUNKED_HELLO),
      forward(at("te-leading-tab", "hello")), "RFC 9112 5.1: OWS after the colon, HTAB included"),
    Q("te-leading-tab+cl", post("te-leading-tab+cl", "Transfer-Encoding:\tchunked\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 6.3 rule 3; TE.TE with a tab, Kettle 2019"),
    Q("te-capitalised", post("te-capitalised", "Transfer-Encoding: Chunked\r\n", CHUNKED_HELLO),
      forward(at("te-capitalised", "hello")), "RFC 9112 7: transfer-coding names are case-insensitive"),
    Q("te-capitalised+cl", post("te-capitalised+cl", "Transfer-Encoding: CHUNKED\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 6.3 rule 3; TE.TE by case, Kettle 2019"),
    Q("te-chunked-identity", post("te-chunked-identity", "Transfer-Encoding: chunked, identity\r\n", CHUNKED_HELLO),
      refuse(400, 501), "RFC 9112 6.3 rule 4: chunked not final in a request, 400"),
    Q("te-identity-chunked", post("te-identity-chunked", "Transfer-Encoding: identity, chunked\r\n", CHUNKED_HELLO),
      either(forward(at("te-identity-chunked", "hello")), 400, 501),
      "RFC 9112 6.1: chunked is final, so framing is clear; 'identity' is unregistered (501 allowed)"),
    Q("te-xchunked", post("te-xchunked", "Transfer-Encoding: xchunked\r\n", CHUNKED_HELLO), refuse(400, 501),
      "RFC 9112 6.3 rule 4; TE.TE 'xchunked', Kettle 2019"),
    Q("te-xchunked+cl", post("te-xchunked+cl", "Transfer-Encoding: xchunked\r\n" + cl("hello"), "hello"),
      refuse(400, 501), "RFC 9112 6.3 rule 3; TE.TE 'xchunked' with CL, Kettle 2019"),
    Q("te-chunked-param", post("te-chunked-param", "Transfer-Encoding: chunked;x=y\r\n", CHUNKED_HELLO),
      refuse(400, 501), "RFC 9112 7.1: chunked has no parameters, their presence SHOULD be an error"),
    Q("te-chunked-param+cl", post("te-chunked-param+cl", "Transfer-Encoding: chunked;x=y\r\n" + cl("hello"), "hello"),
      refuse(400, 501), "RFC 9112 6.3 rule 3; TE.TE by parameter"),
    Q("te-two-fields-chunked", post("te-two-fields-chunked", TE + TE, CHUNKED_HELLO), refuse(400, 501),
      "RFC 9112 6.1: chunked MUST NOT be applied more than once; duplicate TE, Kettle 2019"),
    Q("te-two-fields-identity-last", post("te-two-fields-identity-last", TE + "Transfer-Encoding: identity\r\n",
                                          CHUNKED_HELLO), refuse(400, 501),
      "RFC 9112 6.3 rule 4: the combined list ends in identity; duplicate TE, Kettle 2019"),
    Q("te-two-fields-gzip-chunked", post("te-two-fields-gzip-chunked", "Transfer-Encoding: gzip\r\n" + TE,
                                         chunk("\x1f\x8b\x08\x00") + "0\r\n\r\n"),
      either(forward(at("te-two-fields-gzip-chunked", "\x1f\x8b\x08\x00")), 400, 501),
      "RFC 9110 5.3: two fields are one list 'gzip, chunked': chunked is final"),
    Q("te-list-chunked-twice", post("te-list-chunked-twice", "Transfer-Encoding: chunked, chunked\r\n", CHUNKED_HELLO),
      refuse(400, 501), "RFC 9112 6.1: chunked MUST NOT be applied more than once"),
    Q("te-empty", post("te-empty", "Transfer-Encoding: \r\n" + cl("hello"), "hello"), refuse(400, 501),
      "RFC 9112 6.1: Transfer-Encoding = #transfer-coding; empty value with CL, Kettle 2019 'Transfer-Encoding: x'"),
    Q("te-folded-value", post("te-folded-value", "Transfer-Encoding:\r\n chunked\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 5.2: obs-fold in a request, 400 or replace by SP; TE.TE by folding, Kettle 2019"),
    Q("te-folded-into-other", post("te-folded-into-other", "X-Padding: x\r\n Transfer-Encoding: chunked\r\n" +
                                   cl("hello"), "hello"), refuse(400),
      "RFC 9112 5.2; 'X: X[\\n] Transfer-Encoding: chunked', Kettle 2019"),
    Q("te-space-before-colon", post("te-space-before-colon", "Transfer-Encoding : chunked\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 5: a server MUST reject whitespace before the colon with 400; Kettle 2019"),
    Q("te-space-before-colon-alone", post("te-space-before-colon-alone", "Transfer-Encoding : chunked\r\n",
                                          CHUNKED_HELLO), refuse(400), "RFC 9112 5: MUST reject with 400"),
    Q("te-vertical-tab", post("te-vertical-tab", "Transfer-Encoding: \x0bchunked\r\n" + cl("hello"), "hello"),
      refuse(400, 501), "RFC 9110 5.5: VT is not a field-vchar; TE.TE by control byte, Kettle 2019"),
    Q("te-nul-in-value", post("te-nul-in-value", "Transfer-Encoding: chunked\x00\r\n", CHUNKED_HELLO),
      refuse(400), "RFC 9110 5.5: NUL in a field value MUST be rejected or replaced"),
    Q("te-http10", post("te-http10", TE, CHUNKED_HELLO, "HTTP/1.0"), refuse(400),
      "RFC 9112 6.1: TE in an HTTP/1.0 message means faulty framing"),
    Q("te-http10+cl", post("te-http10+cl", TE + cl("hello"), "hello", "HTTP/1.0"), refuse(400),
      "RFC 9112 6.1: faulty framing 'even if a Content-Length is present'"),

    # ---- Connection naming framing headers (hop-by-hop abuse, Davison 2019)
    Q("connection-content-length", post("connection-content-length", "Connection: Content-Length\r\n" + cl(SMUG),
                                        SMUG), refuse(400),
      "RFC 9110 7.6.1: Content-Length is end-to-end, naming it drops the framing; Davison 2019"),
    Q("connection-content-length-busy-origin",
      [x for k in range(8) for x in (get("connection-content-length-busy-origin-%d" % k),
                                     Await(r"X-Request: GET /q/connection-content-length-busy-origin-%d\r\n.*?ok\n" % k))]
      + [post("connection-content-length-busy-origin", "Connection: Content-Length\r\n" + cl(SMUG), SMUG)],
      refuse(400, before=[at("connection-content-length-busy-origin-%d" % k, method="GET") for k in range(8)]),
      "RFC 9110 7.6.1; on an origin connection past TCP quick-ack, the smuggled answer is still in flight "
      "when the connection is reused: response queue poisoning"),
    Q("connection-transfer-encoding", post("connection-transfer-encoding", "Connection: Transfer-Encoding\r\n" + TE,
                                           chunk(SMUG) + "0\r\n\r\n"), refuse(400),
      "RFC 9110 7.6.1; dropping TE would leave the chunks as the next request, Davison 2019"),
    Q("connection-host", get("connection-host", "Connection: Host\r\n"), refuse(400),
      "RFC 9110 7.6.1 and RFC 9112 3.2: Host is not hop-by-hop; Davison 2019"),
    Q("connection-upgrade-without-upgrade", get("connection-upgrade-without-upgrade", "Connection: Upgrade\r\n"),
      refuse(400), "RFC 9110 7.8: Connection: upgrade without Upgrade; h2c/upgrade smuggling"),
    Q("connection-mixed-case", post("connection-mixed-case", "Connection: cOnTeNt-LeNgTh\r\n" + cl(SMUG), SMUG),
      refuse(400), "RFC 9110 7.6.1: connection options are case-insensitive; Davison 2019"),
    Q("connection-second-field", post("connection-second-field", "Connection: keep-alive\r\n"
                                      "Connection: Content-Length\r\n" + cl(SMUG), SMUG), refuse(400),
      "RFC 9110 5.3: two Connection fields are one list; Davison 2019"),
    Q("connection-in-list", post("connection-in-list", "Connection: keep-alive, Content-Length, x-foo\r\n" + cl(SMUG),
                                 SMUG), refuse(400), "RFC 9110 7.6.1; option in a list, Davison 2019"),
    Q("connection-list-te", post("connection-list-te", "Connection: x-foo,transfer-encoding\r\n" + TE,
                                 CHUNKED_HELLO), refuse(400), "RFC 9110 7.6.1; Davison 2019"),
    Q("connection-custom-header", get("connection-custom-header", "Connection: X-Secret\r\nX-Secret: 1\r\n"),
      forward(at("connection-custom-header", method="GET", headers={"x-secret": None, "connection": None})),
      "RFC 9110 7.6.1: a field named by Connection is removed"),
    Q("upgrade-h2c", get("upgrade-h2c", "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
                                         "Connection: Upgrade, HTTP2-Settings\r\n"),
      either(forward(at("upgrade-h2c", method="GET")), 400),
      "RFC 9110 7.8; h2c smuggling (Miller, 2020): the origin declines, the connection stays HTTP/1.1"),
    Q("upgrade-without-connection", get("upgrade-without-connection", "Upgrade: websocket\r\n"),
      forward(at("upgrade-without-connection", method="GET", headers={"upgrade": None})),
      "RFC 9110 7.8: Upgrade is hop-by-hop; without Connection: upgrade it is not an upgrade"),

    # ---- field syntax: obs-fold, bare CR/LF, whitespace, control bytes
    Q("obs-fold", get("obs-fold", "X-Folded: a\r\n b\r\n"), refuse(400), "RFC 9112 5.2: obs-fold, 400"),
    Q("obs-fold-tab", get("obs-fold-tab", "X-Folded: a\r\n\tb\r\n"), refuse(400), "RFC 9112 5.2: obs-fold, 400"),
    Q("whitespace-before-first-field", line("GET", "whitespace-before-first-field") + " X-Space: 1\r\n" + H +
      "\r\n", refuse(400), "RFC 9112 2.2: whitespace before the first field, reject or ignore the line"),
    Q("bare-cr-in-value", get("bare-cr-in-value", "X-Cr: a\rb\r\n"), refuse(400),
      "RFC 9112 2.2: a bare CR MUST be rejected or replaced by SP"),
    Q("bare-cr-ends-line", post("bare-cr-ends-line", "X-Cr: a\r" + cl("hello"), "hello"), refuse(400),
      "RFC 9112 2.2: bare CR; a reader splitting on CR sees Content-Length"),
    Q("bare-cr-hides-te", post("bare-cr-hides-te", "X-Cr: a\rTransfer-Encoding: chunked\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 2.2: bare CR; CR-splitting readers see TE, others do not"),
    Q("bare-lf-head", "POST {T}/q/bare-lf-head HTTP/1.1\nHost: {H}\nContent-Length: 5\n\nhello",
      either(forward(at("bare-lf-head", "hello")), 400), "RFC 9112 2.2: a recipient MAY accept LF alone"),
    Q("bare-lf-one-line", "POST {T}/q/bare-lf-one-line HTTP/1.1\r\nHost: {H}\r\nX-Lf: 1\nContent-Length: 5\r\n\r\n"
      "hello", either(forward(at("bare-lf-one-line", "hello")), 400), "RFC 9112 2.2: LF alone MAY end a line"),
    Q("bare-lf-hides-te", post("bare-lf-hides-te", "X-Lf: a\nTransfer-Encoding: chunked\r\n" + cl("hello"), "hello"),
      refuse(400), "RFC 9112 2.2 and 6.3 rule 3: read as two fields it is CL and TE"),
    Q("space-before-colon", post("space-before-colon", "Content-Length : 5\r\n", "hello"), refuse(400),
      "RFC 9112 5: MUST reject whitespace before the colon with 400"),
    Q("tab-before-colon", post("tab-before-colon", "Content-Length\t: 5\r\n", "hello"), refuse(400),
      "RFC 9112 5: MUST reject whitespace before the colon with 400"),
    Q("nul-in-name", get("nul-in-name", "X-N\x00ul: 1\r\n"), refuse(400), "RFC 9110 5.1: field names are tokens"),
    Q("nul-in-value", get("nul-in-value", "X-Nul: a\x00b\r\n"), refuse(400),
      "RFC 9110 5.5: NUL MUST be rejected or replaced"),
    Q("control-in-name", get("control-in-name", "X-Ctl\x01: 1\r\n"), refuse(400),
      "RFC 9110 5.1: field names are tokens"),
    Q("control-in-value", get("control-in-value", "X-Ctl: a\x01b\r\n"), refuse(400),
      "RFC 9110 5.5: CTLs are not field-vchar"),
    Q("del-in-value", get("del-in-value", "X-Del: a\x7fb\r\n"), refuse(400), "RFC 9110 5.5: DEL is a CTL"),
    Q("empty-field-name", get("empty-field-name", ": 1\r\n"), refuse(400), "RFC 9110 5.1: name = 1*tchar"),
    Q("non-ascii-name", get("non-ascii-name", "X-F\xf6o: 1\r\n"), refuse(400), "RFC 9110 5.1: name = 1*tchar"),
    Q("obs-text-value", get("obs-text-value", "X-Caf: caf\xe9\r\n"),
      forward(at("obs-text-value", method="GET", headers={"x-caf": "caf\xe9"})),
      "RFC 9110 5.5: obs-text is allowed in values"),
    Q("header-too-large", get("header-too-large", "X-Big: " + "a" * 70000 + "\r\n"), refuse(431, 400),
      "RFC 6585 5: header fields too large, 431"),
    Q("too-many-fields", get("too-many-fields", "".join("X-F%d: 1\r\n" % i for i in range(300))), refuse(431, 400),
      "RFC 6585 5: 431"),

    # ---- Content-Length values
    Q("cl-twice-same", post("cl-twice-same", cl("hello") * 2, "hello"), refuse(400),
      "RFC 9112 6.3 rule 5 (pinhole refuses even equal duplicates); CL.CL, Watchfire 2005"),
    Q("cl-twice-different", post("cl-twice-different", "Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
      refuse(400), "RFC 9112 6.3 rule 5: invalid Content-Length, 400; CL.CL, Watchfire 2005"),
    Q("cl-list-same", post("cl-list-same", "Content-Length: 5, 5\r\n", "hello"), refuse(400),
      "RFC 9112 6.3 rule 5: list value (pinhole refuses even equal ones)"),
    Q("cl-list-different", post("cl-list-different", "Content-Length: 5,6\r\n", "hello!"), refuse(400),
      "RFC 9112 6.3 rule 5: differing list values, 400"),
    Q("cl-trailing-space", post("cl-trailing-space", "Content-Length: 5 \r\n", "hello"),
      forward(at("cl-trailing-space", "hello")), "RFC 9112 5.1: OWS around a field value is not part of it"),
    Q("cl-plus", post("cl-plus", "Content-Length: +5\r\n", "hello"), refuse(400), "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-leading-zero", post("cl-leading-zero", "Content-Length: 05\r\n", "hello"),
      either(forward(at("cl-leading-zero", "hello")), 400), "RFC 9110 8.6: 1*DIGIT allows leading zeros"),
    Q("cl-octal-looking", post("cl-octal-looking", "Content-Length: 010\r\n", "0123456789"),
      either(forward(at("cl-octal-looking", "0123456789")), 400),
      "RFC 9110 8.6: decimal; an octal reader would take 8 bytes and read 2 as a request"),
    Q("cl-hex", post("cl-hex", "Content-Length: 0x5\r\n", "hello"), refuse(400), "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-space-inside", post("cl-space-inside", "Content-Length: 5 5\r\n", "hello"), refuse(400),
      "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-negative", post("cl-negative", "Content-Length: -1\r\n", "hello"), refuse(400), "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-empty", post("cl-empty", "Content-Length: \r\n", "hello"), refuse(400), "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-trailing-letter", post("cl-trailing-letter", "Content-Length: 5a\r\n", "hello"), refuse(400),
      "RFC 9110 8.6: 1*DIGIT"),
    Q("cl-huge", post("cl-huge", "Content-Length: 99999999999999999999999999\r\n", "hello"), refuse(400, 413),
      "RFC 9110 8.6: recipients MUST prevent integer overflow"),
    Q("cl-2-pow-64", post("cl-2-pow-64", "Content-Length: 18446744073709551616\r\n", "hello"), refuse(400, 413),
      "RFC 9110 8.6: 2^64 wraps to 0 in a 64-bit reader"),
    Q("cl-smaller-than-body", post("cl-smaller-than-body", "Content-Length: 5\r\n", "hello" +
                                   get("cl-smaller-than-body-2")),
      forward(at("cl-smaller-than-body", "hello"), at("cl-smaller-than-body-2", method="GET")),
      "RFC 9112 6.3: the bytes after Content-Length are the next request, for both readers"),

    # ---- chunk sizes and chunk lines (RFC 9112 7.1)
    Q("chunk-size-0x", post("chunk-size-0x", TE, "0x5\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: chunk-size = 1*HEXDIG"),
    Q("chunk-size-trailing-space", post("chunk-size-trailing-space", TE, "5 \r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1.1: BWS only before ';'"),
    Q("chunk-size-bws-ext", post("chunk-size-bws-ext", TE, "5 ;x=y\r\nhello\r\n0\r\n\r\n"),
      forward(at("chunk-size-bws-ext", "hello")), "RFC 9112 7.1.1: BWS ';' ext"),
    Q("chunk-ext", post("chunk-ext", TE, "5;ext=val\r\nhello\r\n0;last\r\n\r\n"), forward(at("chunk-ext", "hello")),
      "RFC 9112 7.1.1: unrecognised extensions are ignored"),
    Q("chunk-ext-quoted", post("chunk-ext-quoted", TE, '5;a="b;c"\r\nhello\r\n0\r\n\r\n'),
      forward(at("chunk-ext-quoted", "hello")), "RFC 9112 7.1.1: chunk-ext-val = token / quoted-string"),
    Q("chunk-ext-bare-lf", post("chunk-ext-bare-lf", TE, "5;a\nxx\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: CRLF ends the chunk line; TERM.EXT, Funky chunks"),
    Q("chunk-ext-bare-cr", post("chunk-ext-bare-cr", TE, "5;a\rxx\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 2.2 and 7.1: bare CR; Funky chunks"),
    Q("chunk-ext-nul", post("chunk-ext-nul", TE, "5;\x00ext\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1.1: chunk-ext-name is a token"),
    Q("chunk-ext-quoted-crlf", post("chunk-ext-quoted-crlf", TE, '5;a="b\r\nhello\r\n0\r\n\r\n"\r\n'), refuse(400),
      "RFC 9112 7.1.1: no CR or LF in a quoted-string; EXT.TERM, Funky chunks"),
    Q("chunk-ext-no-name", post("chunk-ext-no-name", TE, "5;\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1.1: chunk-ext-name = token; extension parsing differentials, Funky chunks"),
    Q("chunk-ext-overlong", post("chunk-ext-overlong", TE, "5;x=" + "a" * 8000 + "\r\nhello\r\n0\r\n\r\n"),
      refuse(400, 413, 431), "RFC 9112 7.1.1: a server ought to limit extension length"),
    Q("chunk-size-lf-only", post("chunk-size-lf-only", TE, "5\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: chunk lines end in CRLF; LF-only, Funky chunks"),
    Q("chunk-data-lf-only", post("chunk-data-lf-only", TE, "5\r\nhello\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: chunk-data CRLF"),
    Q("chunk-last-lf-only", post("chunk-last-lf-only", TE, "5\r\nhello\r\n0\n\n"), refuse(400),
      "RFC 9112 7.1: last-chunk and the final CRLF"),
    Q("chunk-missing-crlf-after-data", post("chunk-missing-crlf-after-data", TE, "5\r\nhelloX\r\n0\r\n\r\n"),
      refuse(400), "RFC 9112 7.1: chunk-data CRLF"),
    Q("chunk-data-longer-than-size", post("chunk-data-longer-than-size", TE, "3\r\nhello\r\n0\r\n\r\n"),
      refuse(400), "RFC 9112 7.1: exactly chunk-size octets, then CRLF"),
    Q("chunk-data-shorter-than-size", post("chunk-data-shorter-than-size", TE, "8\r\nhello\r\n0\r\n\r\n"),
      refuse(400), "RFC 9112 7.1: the size counts the data; a short chunk swallows the CRLF"),
    Q("chunk-size-negative", post("chunk-size-negative", TE, "-5\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: 1*HEXDIG"),
    Q("chunk-size-plus", post("chunk-size-plus", TE, "+5\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: 1*HEXDIG"),
    Q("chunk-size-missing", post("chunk-size-missing", TE, "\r\nhello\r\n0\r\n\r\n"), refuse(400),
      "RFC 9112 7.1: 1*HEXDIG"),
    Q("chunk-size-uppercase", post("chunk-size-uppercase", TE, "A\r\n0123456789\r\n0\r\n\r\n"),
      forward(at("chunk-size-uppercase", "0123456789")), "RFC 9112 7.1: HEXDIG is case-insensitive"),
    Q("chunk-size-leading-zeros", post("chunk-size-leading-zeros", TE, "0000000000000005\r\nhello\r\n0\r\n\r\n"),
      forward(at("chunk-size-leading-zeros", "hello")), "RFC 9112 7.1: 1*HEXDIG, 16 digits"),
    Q("chunk-size-17-digits", post("chunk-size-17-digits", TE, "00000000000000005\r\nhello\r\n0\r\n\r\n"),
      either(forward(at("chunk-size-17-digits", "hello")), 400, 413),
      "RFC 9112 7.1: MUST anticipate large numerals; refusing them is safe"),
    Q("chunk-size-overlong-zeros", post("chunk-size-overlong-zeros", TE, "0" * 5000 + "5\r\nhello\r\n0\r\n\r\n"),
      either(forward(at("chunk-size-overlong-zeros", "hello")), 400, 413),
      "RFC 9112 7.1: 1*HEXDIG has no length limit; an overlong size line may be refused"),
    Q("chunk-size-2-pow-64-plus-5", post("chunk-size-2-pow-64-plus-5", TE, "10000000000000005\r\nhello\r\n0\r\n\r\n" +
                                         SMUG), refuse(400, 413),
      "RFC 9112 7.1: integer overflow; a 64-bit wrap reads 5 and then the smuggled request", modes=(PLAIN,), shut=True),
    Q("chunk-size-past-2-pow-63", post("chunk-size-past-2-pow-63", TE, "8000000000000005\r\nhello\r\n0\r\n\r\n" +
                                       SMUG), refuse(400, 413),
      "RFC 9112 7.1: a signed 64-bit reader sees a negative size (nginx CVE-2013-2028 class)", modes=(PLAIN,),
      shut=True),
    Q("chunk-many-small", post("chunk-many-small", TE, "".join(chunk(c) for c in "hello") + "0\r\n\r\n"),
      forward(at("chunk-many-small", "hello")), "RFC 9112 7.1: any number of chunks"),
    Q("chunk-body-never-ends", post("chunk-body-never-ends", TE, "5\r\nhello\r\n"), refuse(400),
      "RFC 9112 8: an incomplete message is not forwarded as complete", modes=(PLAIN,), shut=True),

    # ---- trailer section (RFC 9112 7.1.2, RFC 9110 6.5)
    Q("trailer-field", post("trailer-field", TE, "5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"),
      forward(at("trailer-field", "hello")), "RFC 9112 7.1.2: trailer fields"),
    Q("trailer-content-length", post("trailer-content-length", TE, "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"),
      forward(at("trailer-content-length", "hello")), "RFC 9110 6.5.1: framing fields in a trailer are not framing"),
    Q("trailer-transfer-encoding", post("trailer-transfer-encoding", TE, "5\r\nhello\r\n0\r\n" + TE + "\r\n"),
      forward(at("trailer-transfer-encoding", "hello")), "RFC 9110 6.5.1"),
    Q("trailer-smuggled-request", post("trailer-smuggled-request", TE, "5\r\nhello\r\n0\r\n" + SMUG), refuse(400),
      "RFC 9112 7.1.2: a request line is not a trailer field; a reader skipping '0\\r\\n\\r\\n' finds it"),
    Q("trailer-huge", post("trailer-huge", TE, "5\r\nhello\r\n0\r\n" + "X-T: " + "a" * 70000 + "\r\n\r\n"),
      refuse(400, 413, 431), "RFC 9112 7.1.2: a recipient may limit the trailer section"),
    Q("trailer-obs-fold", post("trailer-obs-fold", TE, "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"), refuse(400),
      "RFC 9112 5.2: obs-fold"),
    Q("trailer-bare-lf", post("trailer-bare-lf", TE, "5\r\nhello\r\n0\r\nX-T: a\n\r\n"), refuse(400),
      "RFC 9112 7.1: trailer-section CRLF"),
    Q("trailer-space-before-colon", post("trailer-space-before-colon", TE, "5\r\nhello\r\n0\r\nX-T : a\r\n\r\n"),
      refuse(400), "RFC 9112 5: no whitespace before the colon"),
    Q("trailer-nul", post("trailer-nul", TE, "5\r\nhello\r\n0\r\nX-T: a\x00\r\n\r\n"), refuse(400),
      "RFC 9110 5.5: NUL"),

    # ---- pipelining and requests inside bodies
    Q("pipeline-two-gets", get("pipeline-two-gets") + get("pipeline-two-gets-2"),
      forward(at("pipeline-two-gets", method="GET"), at("pipeline-two-gets-2", method="GET")),
      "RFC 9112 9.3.2: pipelined requests answered in order"),
    Q("pipeline-post-then-get", post("pipeline-post-then-get", cl("hello"), "hello") + get("pipeline-post-then-get-2"),
      forward(at("pipeline-post-then-get", "hello"), at("pipeline-post-then-get-2", method="GET")),
      "RFC 9112 9.3.2"),
    Q("pipeline-chunked-then-get", post("pipeline-chunked-then-get", TE, CHUNKED_HELLO) +
      get("pipeline-chunked-then-get-2"),
      forward(at("pipeline-chunked-then-get", "hello"), at("pipeline-chunked-then-get-2", method="GET")),
      "RFC 9112 9.3.2"),
    Q("pipeline-three", get("pipeline-three") + post("pipeline-three-2", TE, CHUNKED_HELLO) +
      post("pipeline-three-3", cl("bye"), "bye"),
      forward(at("pipeline-three", method="GET"), at("pipeline-three-2", "hello"), at("pipeline-three-3", "bye")),
      "RFC 9112 9.3.2"),
    Q("pipeline-head-then-get", line("HEAD", "pipeline-head-then-get") + H + "\r\n" + get("pipeline-head-then-get-2"),
      forward(at("pipeline-head-then-get", method="HEAD"), at("pipeline-head-then-get-2", method="GET")),
      "RFC 9110 9.3.2 and RFC 9112 6.3 rule 1: the answer to HEAD has Content-Length but no body"),
    Q("pipeline-good-then-folded", get("pipeline-good-then-folded") + get("pipeline-good-then-folded-2",
                                                                          "X-F: a\r\n b\r\n"),
      refuse(400, before=[at("pipeline-good-then-folded", method="GET")]),
      "RFC 9112 5.2: the second request is refused, the first was answered"),
    Q("pipeline-good-then-cl-te", get("pipeline-good-then-cl-te") + post("pipeline-good-then-cl-te-2",
                                                                         cl(CHUNKED_HELLO) + TE, CHUNKED_HELLO),
      refuse(400, before=[at("pipeline-good-then-cl-te", method="GET")]), "RFC 9112 6.3 rule 3"),
    Q("pipeline-after-connection-close", get("pipeline-after-connection-close", "Connection: close\r\n") +
      get("pipeline-after-connection-close-2"),
      forward(at("pipeline-after-connection-close", method="GET", headers={"connection": None})),
      "RFC 9112 9.6: nothing after a request with Connection: close is processed"),
    Q("pipeline-after-http10", get("pipeline-after-http10", version="HTTP/1.0") + get("pipeline-after-http10-2"),
      forward(at("pipeline-after-http10", method="GET")), "RFC 9112 9.3: HTTP/1.0 without keep-alive closes"),
    Q("body-is-a-request", post("body-is-a-request", cl(SMUG), SMUG), forward(at("body-is-a-request", SMUG)),
      "RFC 9112 6.2: a body that looks like a request is content"),
    Q("chunked-body-is-a-request", post("chunked-body-is-a-request", TE, chunk(SMUG) + "0\r\n\r\n"),
      forward(at("chunked-body-is-a-request", SMUG)), "RFC 9112 7.1: chunk data is content"),
    Q("get-with-body-is-a-request", get("get-with-body-is-a-request", cl(SMUG)) + SMUG,
      forward(at("get-with-body-is-a-request", SMUG, method="GET")),
      "RFC 9110 9.3.1 and RFC 9112 6.3: a GET body is framed like any other; CL.0, Kettle 2022"),
    Q("leading-empty-lines", "\r\n\r\n" + get("leading-empty-lines"), forward(at("leading-empty-lines", method="GET")),
      "RFC 9112 2.2: SHOULD ignore at least one empty line before the request line"),
    Q("crlf-after-body", post("crlf-after-body", cl("hello"), "hello") + "\r\n" + get("crlf-after-body-2"),
      forward(at("crlf-after-body", "hello"), at("crlf-after-body-2", method="GET")),
      "RFC 9112 2.2: an extra CRLF after a body (old clients)"),

    # ---- Expect: 100-continue races (RFC 9110 10.1.1; Kettle 2025)
    Q("expect-body-sent-at-once", post("expect-body-sent-at-once", "Expect: 100-continue\r\n" + cl("hello"), "hello"),
      forward(at("expect-body-sent-at-once", "hello")), "RFC 9110 10.1.1: the client MAY send the body without waiting"),
    Q("expect-waits-for-100", [post("expect-waits-for-100", "Expect: 100-continue\r\n" + cl("hello")),
                               Await(r"HTTP/1\.[01] 100 "), "hello"],
      forward(at("expect-waits-for-100", "hello")), "RFC 9110 10.1.1: body after the 100"),
    Q("expect-body-after-pause", [post("expect-body-after-pause", "Expect: 100-continue\r\n" + cl("hello")),
                                  Pause(0.3), "hello"],
      forward(at("expect-body-after-pause", "hello")), "RFC 9110 10.1.1: body without a 100, later"),
    Q("expect-body-and-next-request", post("expect-body-and-next-request", "Expect: 100-continue\r\n" + cl("hello"),
                                           "hello") + get("expect-body-and-next-request-2"),
      forward(at("expect-body-and-next-request", "hello"), at("expect-body-and-next-request-2", method="GET")),
      "RFC 9110 10.1.1; Expect-based desync, Kettle 2025"),
    Q("expect-body-is-a-request", post("expect-body-is-a-request", "Expect: 100-continue\r\n" + cl(SMUG), SMUG),
      forward(at("expect-body-is-a-request", SMUG)),
      "Expect-based desync (Kettle 2025): the body must stay a body whether or not a 100 was sent"),
    Q("expect-chunked-at-once", post("expect-chunked-at-once", "Expect: 100-continue\r\n" + TE, CHUNKED_HELLO),
      forward(at("expect-chunked-at-once", "hello")), "RFC 9110 10.1.1"),
    Q("expect-without-body", get("expect-without-body", "Expect: 100-continue\r\n"),
      forward(at("expect-without-body", method="GET")), "RFC 9110 10.1.1: no content, nothing to wait for"),
    Q("expect-cl0-then-request", post("expect-cl0-then-request", "Expect: 100-continue\r\nContent-Length: 0\r\n") +
      get("expect-cl0-then-request-2"),
      forward(at("expect-cl0-then-request"), at("expect-cl0-then-request-2", method="GET")),
      "0.CL with Expect, Kettle 2025: the next request is not a body"),

    # ---- Host and request target
    Q("host-mismatch", "GET {T}/q/host-mismatch HTTP/1.1\r\nHost: evil.test\r\n\r\n",
      forward(at("host-mismatch", method="GET", headers={"host": "{H}"})),
      "RFC 9112 3.2.2: a proxy replaces Host with the target's authority"),
    Q("host-twice", "GET {T}/q/host-twice HTTP/1.1\r\nHost: {H}\r\nHost: evil.test\r\n\r\n", refuse(400),
      "RFC 9112 3.2: a server MUST answer 400 to more than one Host"),
    Q("host-list", "GET {T}/q/host-list HTTP/1.1\r\nHost: {H}, evil.test\r\n\r\n", refuse(400),
      "RFC 9112 3.2: a Host field with an invalid value, 400"),
    Q("host-missing", "GET {T}/q/host-missing HTTP/1.1\r\n\r\n",
      either(forward(at("host-missing", method="GET", headers={"host": "{H}"})), 400),
      "RFC 9112 3.2: 400 without Host; 3.2.2: the proxy writes Host from the target anyway"),
    Q("absolute-form-inside-tls", "GET http://{H}/q/absolute-form-inside-tls HTTP/1.1\r\nHost: {H}\r\n\r\n",
      either(forward(at("absolute-form-inside-tls", method="GET")), 400),
      "RFC 9112 3.2.2: servers accept absolute-form; pinhole wants origin-form inside TLS", modes=(INSPECT,)),
    Q("absolute-form-other-host-inside-tls", "GET http://evil.test/q/absolute-form-other-host-inside-tls "
      "HTTP/1.1\r\nHost: evil.test\r\n\r\n",
      either(forward(at("absolute-form-other-host-inside-tls", method="GET", headers={"host": "{H}"})), 400),
      "RFC 9112 3.2.2: the target inside a tunnel cannot name another origin", modes=(INSPECT,)),

    # ---- request line (RFC 9112 3)
    Q("rl-double-space", "GET  {T}/q/rl-double-space HTTP/1.1\r\n" + H + "\r\n", refuse(400),
      "RFC 9112 3: single SP; lenient word-splitting parsers disagree"),
    Q("rl-trailing-space", "GET {T}/q/rl-trailing-space HTTP/1.1 \r\n" + H + "\r\n", refuse(400),
      "RFC 9112 3: HTTP-version CRLF"),
    Q("rl-tabs", "GET\t{T}/q/rl-tabs\tHTTP/1.1\r\n" + H + "\r\n", refuse(400), "RFC 9112 3: SP, not HTAB"),
    Q("rl-http12", get("rl-http12", version="HTTP/1.2"),
      either(forward(at("rl-http12", method="GET")), 400, 505), "RFC 9110 6.2: a higher minor version is read as 1.1"),
    Q("rl-http20", get("rl-http20", version="HTTP/2.0"), refuse(505, 400),
      "RFC 9110 15.6.6: major version not supported"),
    Q("rl-http-lowercase", get("rl-http-lowercase", version="http/1.1"), refuse(400),
      "RFC 9112 2.3: HTTP-version is case-sensitive"),
    Q("rl-http-two-digit-minor", get("rl-http-two-digit-minor", version="HTTP/1.10"), refuse(400, 505),
      "RFC 9112 2.3: HTTP-version = HTTP-name '/' DIGIT '.' DIGIT"),
    Q("rl-http09", "GET {T}/q/rl-http09\r\n\r\n", refuse(400), "RFC 9112 3: HTTP/0.9 request lines are not HTTP/1.1"),
    Q("rl-missing-target", "GET  HTTP/1.1\r\n" + H + "\r\n", refuse(400), "RFC 9112 3"),
    Q("rl-leading-space", " GET {T}/q/rl-leading-space HTTP/1.1\r\n" + H + "\r\n", refuse(400), "RFC 9112 3"),
    Q("rl-bare-cr", "GET {T}/q/rl-bare-cr HTTP/1.1\r" + H + "\r\n", refuse(400), "RFC 9112 2.2: bare CR"),
    Q("rl-nul-in-target", "GET {T}/q/rl-nul\x00x HTTP/1.1\r\n" + H + "\r\n", refuse(400),
      "RFC 9112 3.2: request-target has no NUL"),
    Q("rl-long-method", line("A" * 10000, "rl-long-method") + H + "\r\n",
      either(forward(Req("A" * 10000, "/q/rl-long-method")), 400, 414, 431, 501),
      "RFC 9112 3: method = token, any length; a server may limit it"),
    Q("rl-lowercase-method", line("get", "rl-lowercase-method") + H + "\r\n",
      either(forward(Req("get", "/q/rl-lowercase-method")), 400, 501),
      "RFC 9110 9.1: methods are case-sensitive, 'get' is not GET"),
]

SMUG_RESP = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Origin: smuggled\r\n\r\nSMUGGLED"
OK = "HTTP/1.1 200 OK\r\n"
HELLO = Answer(200, "hello")

RESPONSE_VARIANTS = [
    # ---- baselines
    S("resp-cl", OK + "Content-Length: 5\r\n\r\nhello", HELLO, "RFC 9112 6.3 rule 6"),
    S("resp-chunked", OK + TE + "\r\n" + CHUNKED_HELLO, HELLO, "RFC 9112 6.3 rule 4"),
    S("resp-close-delimited", OK + "\r\nhello", HELLO, "RFC 9112 6.3 rule 8: read until close", after="close"),
    S("resp-interim-100", "HTTP/1.1 100 Continue\r\n\r\n" + OK + "Content-Length: 5\r\n\r\nhello", HELLO,
      "RFC 9110 15.2: 1xx before the final response"),
    S("resp-chunk-ext", OK + TE + "\r\n5;x=y\r\nhello\r\n0\r\n\r\n", HELLO, "RFC 9112 7.1.1"),
    S("resp-trailer-content-length", OK + TE + "\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n", HELLO,
      "RFC 9110 6.5.1: framing fields in a trailer are not framing"),

    # ---- ambiguous framing
    S("resp-cl-te", OK + "Content-Length: 5\r\n" + TE + "\r\n" + CHUNKED_HELLO, BAD_GATEWAY,
      "RFC 9112 6.3 rule 3; response splitting, RFC 9112 11.1"),
    S("resp-cl0-te-smuggle", OK + "Content-Length: 0\r\n" + TE + "\r\n" + chunk(SMUG_RESP) + "0\r\n\r\n",
      BAD_GATEWAY, "RFC 9112 6.3 rule 3: a CL reader would take the chunks as a second response"),
    S("resp-cl-twice-same", OK + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 6.3 rule 5 (pinhole refuses even equal duplicates)"),
    S("resp-cl-twice-different", OK + "Content-Length: 5\r\nContent-Length: 0\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 6.3 rule 5: the proxy MUST send 502"),
    S("resp-cl-list", OK + "Content-Length: 5, 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 6.3 rule 5 (pinhole refuses even equal list values)"),
    S("resp-cl-plus", OK + "Content-Length: +5\r\n\r\nhello", BAD_GATEWAY, "RFC 9110 8.6: 1*DIGIT"),
    S("resp-cl-hex", OK + "Content-Length: 0x5\r\n\r\nhello", BAD_GATEWAY, "RFC 9110 8.6: 1*DIGIT"),
    S("resp-cl-negative", OK + "Content-Length: -5\r\n\r\nhello", BAD_GATEWAY, "RFC 9110 8.6: 1*DIGIT"),
    S("resp-cl-huge", OK + "Content-Length: 99999999999999999999999\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9110 8.6: overflow"),
    S("resp-cl-leading-zero", OK + "Content-Length: 05\r\n\r\nhello", (HELLO, BAD_GATEWAY),
      "RFC 9110 8.6: 1*DIGIT allows leading zeros"),
    S("resp-connection-content-length", OK + "Connection: Content-Length\r\n" + cl(SMUG_RESP) + "\r\n" + SMUG_RESP,
      BAD_GATEWAY, "RFC 9110 7.6.1: framing is end-to-end; without its CL the client cannot delimit; Davison 2019"),
    S("resp-connection-transfer-encoding", OK + "Connection: Transfer-Encoding\r\n" + TE + "\r\n" + CHUNKED_HELLO,
      BAD_GATEWAY, "RFC 9110 7.6.1; Davison 2019"),
    S("resp-connection-list-cl", OK + "Connection: keep-alive, content-length\r\nContent-Length: 5\r\n\r\nhello",
      BAD_GATEWAY, "RFC 9110 7.6.1; Davison 2019"),
    S("resp-connection-host", OK + "Connection: Host\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "pinhole's contract: framing and routing fields are never hop-by-hop, in either direction; Davison 2019"),
    S("resp-connection-upgrade-without-upgrade", OK + "Connection: Upgrade\r\nContent-Length: 5\r\n\r\nhello",
      BAD_GATEWAY, "RFC 9110 7.8: upgrade named without Upgrade; pinhole's contract: 502"),
    S("resp-te-gzip-only", OK + "Transfer-Encoding: gzip\r\n\r\nhello", (Answer(200, "hello"), BAD_GATEWAY),
      "RFC 9112 6.3 rule 4: a response whose final coding is not chunked is read until close (one reading)",
      after="close"),
    S("resp-te-chunked-identity", OK + "Transfer-Encoding: chunked, identity\r\n\r\n" + CHUNKED_HELLO,
      (Answer(200, CHUNKED_HELLO), BAD_GATEWAY), "RFC 9112 6.3 rule 4: read until close", after="close"),
    S("resp-te-chunked-twice", OK + "Transfer-Encoding: chunked, chunked\r\n\r\n" + CHUNKED_HELLO, BAD_GATEWAY,
      "RFC 9112 6.1: chunked at most once"),
    S("resp-te-two-fields", OK + TE + TE + "\r\n" + CHUNKED_HELLO, BAD_GATEWAY, "RFC 9112 6.1: chunked at most once"),
    S("resp-te-http10", "HTTP/1.0 200 OK\r\n" + TE + "\r\n" + CHUNKED_HELLO, BAD_GATEWAY,
      "RFC 9112 6.1: TE in an HTTP/1.0 message is faulty framing"),
    S("resp-te-space-before-colon", OK + "Transfer-Encoding : chunked\r\n\r\n" + CHUNKED_HELLO, BAD_GATEWAY,
      "RFC 9112 5: whitespace before the colon; Kettle 2019"),
    S("resp-te-xchunked-cl", OK + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 6.3 rule 3"),
    S("resp-te-folded", OK + "Transfer-Encoding:\r\n chunked\r\n\r\n" + CHUNKED_HELLO, BAD_GATEWAY,
      "RFC 9112 5.2: obs-fold in a response, 502 or SP"),
    S("resp-te-identity-chunked", OK + "Transfer-Encoding: identity, chunked\r\n\r\n" + CHUNKED_HELLO,
      (HELLO, BAD_GATEWAY), "RFC 9112 6.1: chunked is final"),

    # ---- field syntax
    S("resp-obs-fold", OK + "X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY, "RFC 9112 5.2"),
    S("resp-bare-cr", OK + "X-Cr: a\rContent-Length: 5\r\n\r\nhello", BAD_GATEWAY, "RFC 9112 2.2: bare CR"),
    S("resp-bare-lf", "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", (HELLO, BAD_GATEWAY),
      "RFC 9112 2.2: a recipient MAY accept LF alone"),
    S("resp-space-before-colon", OK + "Content-Length : 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 5: whitespace before the colon (a proxy MUST remove it or refuse)"),
    S("resp-control-in-value", OK + "X-Ctl: a\x01b\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9110 5.5"),
    S("resp-nul-in-name", OK + "X-N\x00ul: 1\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY, "RFC 9110 5.1"),
    S("resp-status-four-digits", "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 4: status-code = 3DIGIT"),
    S("resp-http20-status-line", "HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 2.3: only HTTP/1.x over this connection"),
    S("resp-http09", "hello\r\n", BAD_GATEWAY, "RFC 9112 4: no status line", after="close"),

    # ---- bad chunked bodies
    S("resp-chunk-size-0x", OK + TE + "\r\n0x5\r\nhello\r\n0\r\n\r\n", BAD_GATEWAY, "RFC 9112 7.1: 1*HEXDIG"),
    S("resp-chunk-size-lf", OK + TE + "\r\n5\nhello\r\n0\r\n\r\n", BAD_GATEWAY, "RFC 9112 7.1: CRLF; Funky chunks"),
    S("resp-chunk-size-17-digits", OK + TE + "\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", BAD_GATEWAY,
      "RFC 9112 7.1: overflow"),
    S("resp-chunk-no-crlf-after-data", OK + TE + "\r\n5\r\nhelloXX0\r\n\r\n", BAD_GATEWAY,
      "RFC 9112 7.1: chunk-data CRLF"),
    S("resp-chunk-ext-lf", OK + TE + "\r\n5;a\nxx\r\nhello\r\n0\r\n\r\n", BAD_GATEWAY,
      "RFC 9112 7.1: TERM.EXT, Funky chunks"),

    # ---- responses that have no body, and bytes that follow a response
    S("resp-1xx-with-body", "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello" + OK +
      "Content-Length: 2\r\n\r\nok", BAD_GATEWAY,
      "RFC 9110 15.2: a 1xx ends with its header section; 'hello' is then not a status line"),
    S("resp-1xx-content-length-ignored", "HTTP/1.1 102 Processing\r\nContent-Length: 5\r\n\r\n" + OK +
      "Content-Length: 5\r\n\r\nhello", HELLO, "RFC 9110 15.2: Content-Length on a 1xx means nothing"),
    S("resp-204-with-body", "HTTP/1.1 204 No Content\r\n" + cl(SMUG_RESP) + "\r\n" + SMUG_RESP, Answer(204),
      "RFC 9110 15.3.5: a 204 ends with its header section; response queue poisoning"),
    S("resp-304-with-body", "HTTP/1.1 304 Not Modified\r\n" + cl(SMUG_RESP) + "\r\n" + SMUG_RESP, Answer(304),
      "RFC 9110 15.4.5: a 304 ends with its header section"),
    S("resp-204-chunked-body", "HTTP/1.1 204 No Content\r\n" + TE + "\r\n" + chunk(SMUG_RESP) + "0\r\n\r\n",
      Answer(204), "RFC 9110 15.3.5"),
    S("resp-head-with-body", OK + cl(SMUG_RESP) + "\r\n" + SMUG_RESP, Answer(200),
      "RFC 9110 9.3.2: a HEAD response has no content", method="HEAD"),
    S("resp-head-chunked-with-body", OK + TE + "\r\n" + chunk(SMUG_RESP) + "0\r\n\r\n", Answer(200),
      "RFC 9110 9.3.2", method="HEAD"),
    S("resp-extra-bytes-after-response", OK + "Content-Length: 5\r\n\r\nhello" + SMUG_RESP, HELLO,
      "RFC 9112 9.3.2: an answer nobody asked for; response queue poisoning"),
    S("resp-extra-bytes-later", OK + "Content-Length: 5\r\n\r\nhello", HELLO,
      "a second answer after the first, while the connection is idle; response queue poisoning", late=SMUG_RESP),
    S("resp-connection-close-then-extra", OK + "Connection: close\r\nContent-Length: 5\r\n\r\nhello" + SMUG_RESP,
      HELLO, "RFC 9112 9.6: nothing after Connection: close"),
    S("resp-101-without-upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket"
      "\r\n\r\n" + SMUG_RESP, BAD_GATEWAY, "RFC 9110 15.2.2: 101 only to a request that asked to upgrade"),
    S("resp-content-length-short-then-close", OK + "Content-Length: 10\r\n\r\nhello", BAD_GATEWAY,
      "RFC 9112 8: an incomplete response is not complete", after="close"),
]

NTLM_1 = "Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==\r\n"
NTLM_3 = "Authorization: NTLM TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAAAAABwAAAA\r\n"
PROBE = "GET {T}/ntlm/private HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n"


def ntlm(n, fields=""):
    return "GET {T}/ntlm/%s HTTP/1.1\r\nHost: {H}\r\n%s\r\n" % (n, fields)


POOL_VARIANTS = [
    P("ntlm-challenge-connection-not-shared", ntlm("private"), forward(Req("GET", "/ntlm/private")),
      PROBE, 401, "RFC 4559: a connection that was answered with an NTLM/Negotiate challenge is mid-handshake"),
    P("ntlm-handshake-connection-not-shared",
      [ntlm("private"), Await(r"401 .*?who are you"), ntlm("private", NTLM_1), Await(r"ntlm challenge"),
       ntlm("private", NTLM_3)],
      forward(Req("GET", "/ntlm/private"), Req("GET", "/ntlm/private"), Req("GET", "/ntlm/private")),
      PROBE, 401, "RFC 4559 and MS-NTHT: NTLM authenticates the connection, so it is never shared"),
    P("ntlm-one-request-connection-not-shared", ntlm("login", NTLM_3), forward(Req("GET", "/ntlm/login")),
      PROBE, 401, "MS-NTHT: a connection that carried NTLM credentials belongs to that client"),
    P("negotiate-connection-not-shared",
      ntlm("login", "Authorization: Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXegDTALBgkqhkiG9xIBAgI=\r\n"),
      forward(Req("GET", "/ntlm/login")), PROBE, 401,
      "RFC 4559: Negotiate authenticates the connection"),
    P("ntlm-connection-not-shared-after-origin-switch",
      [ntlm("login", NTLM_3), Await(r"welcome alice"),
       "GET http://{H2}/q/other-origin HTTP/1.1\r\nHost: {H2}\r\n\r\n"],
      forward(Req("GET", "/ntlm/login"), Req("GET", "/q/other-origin")), PROBE, 401,
      "MS-NTHT: the authenticated origin connection is set aside when the client moves on, not pooled",
      modes=(PLAIN,)),
]

ALL = REQUEST_VARIANTS + RESPONSE_VARIANTS + POOL_VARIANTS
RESPONSES = {v.id: v for v in RESPONSE_VARIANTS}

_seen = set()
for _v in ALL:
    assert _v.id not in _seen, "duplicate variant id %s" % _v.id
    _seen.add(_v.id)
