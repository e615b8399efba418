/*
 * helper.h - Squid's authentication helper protocol, spoken to child
 * processes from one worker's event loop: a pool per `auth SCHEME helper`
 * directive and worker.  It carries lines and parses replies; what a reply
 * means for the client (407, 502, who is it) is the scheme's business.
 */
#ifndef PINHOLE_AUTH_HELPER_H
#define PINHOLE_AUTH_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/* The longest request or reply line, newline excluded.  A reply line longer
 * than this is garbage and gets its helper restarted. */
#define HELPER_LINE_MAX (64 * 1024)
/* Requests waiting for a free child when the pool is not told otherwise. */
#define HELPER_QUEUE_DEFAULT 1024
/* A child slot is not restarted more often than this. */
#define HELPER_RESTART_INTERVAL_MS 1000

struct helper_pool;  /* the children of one `auth SCHEME helper "CMD"` on one worker */
struct helper_req;   /* a request in flight: the handle helper_cancel takes */
struct helper_lease; /* one child reserved for a stateful NTLM/Negotiate handshake */

enum helper_code {
	HELPER_OK,  /* OK; for Digest also the legacy bare-HA1 line */
	HELPER_ERR, /* ERR (also an empty reply, as in Squid): wrong credentials */
	HELPER_BH,  /* BH: the helper itself is broken; also a TT, AF or LD lacking its data */
	HELPER_TT,  /* TT token: send the token in a 407 and wait for the next leg */
	HELPER_AF,  /* AF [token] user: NTLM/Negotiate success */
	HELPER_NA,  /* NA message: NTLM/Negotiate failure */
	HELPER_LD,  /* LD user: Squid 2's NTLM_FAIL_OPEN ("let the user through"), for schemes to refuse or allow */
};

/* A parsed reply.  Strings are NUL-terminated and have no control characters
 * but message (whose control characters are replaced by '?'); a reply whose
 * user, token or ha1 would carry any is turned into HELPER_BH.  They live in
 * the store given to helper_parse_reply, or in the pool's, valid during the
 * callback only. */
struct helper_reply {
	enum helper_code code;
	const char *token;   /* TT/AF token or token=: the NTLM/Negotiate blob, NULL if none */
	const char *user;    /* user=, or the user of "AF user", "AF token user", "LD user" */
	const char *message; /* message= (URL-decoded), NA/BH text, or the text after OK/ERR, for the error log */
	const char *ha1;     /* Digest: ha1= or the bare hex HA1 of pre-3.4 helpers */
};

/* The answer to one request, run on the pool's loop thread, never inside
 * the call that submitted it.  reply NULL: the helper failed (died, timed
 * out, wrote garbage, queue full) and why says how, as a sentence for the
 * error log ("helper (pid 123) exited with status 1"); otherwise why is NULL.
 * The request handle is invalid once the callback runs.  The callback may
 * submit, cancel, reserve and release, but not free the pool. */
typedef void (*helper_cb)(void *arg, const struct helper_reply *reply, const char *why);

/* Starts `/bin/sh -c CMD` children times (1..1000) on loop, as `exec CMD`
 * when CMD is one simple command, each child leading its own process group
 * (killing a child kills the group: what a wrapper shell or the helper
 * started goes too).  concurrency 0: one request at a time per child, no
 * channel-ID; N > 0: up to N requests per child, each line prefixed by its
 * channel-ID and replies matched by it (Squid's `concurrency=N`).
 * timeout_ms: how long a child may take to answer one request (0: forever);
 * a request waiting in the queue also gives up after timeout_ms.  Children's
 * stderr is pinhole's; no SIGCHLD handler is installed, children are reaped
 * by pid.  The process must ignore SIGPIPE (engine_run does).  NULL with err
 * filled when a child cannot be started at all; a command that exits at once
 * (not found: status 127) shows later, in the failures of requests and
 * helper_pool_last_error(). */
struct helper_pool *helper_pool_new(struct loop *loop, const char *cmd, int children, int concurrency,
                                    uint64_t timeout_ms, char *err, size_t errlen);
/* How many requests may wait for a child (default HELPER_QUEUE_DEFAULT);
 * beyond it a request fails with why "helper queue full ...". */
void helper_pool_set_queue_max(struct helper_pool *p, unsigned n);
/* Closes the children's stdin (Squid helpers exit on it), waits for them a
 * bounded time (0.3 s, then SIGTERM to their groups, 0.3 s, then SIGKILL)
 * and reaps them; drops pending requests without calling their callbacks.
 * Request handles die with the pool; leases survive as empty shells until
 * helper_release().  As for every object owning an loop_io: call it outside
 * the loop's callbacks or from a loop_defer callback, never from a helper_cb
 * (that aborts). */
void helper_pool_free(struct helper_pool *p);

/* Sends one stateless request: Basic "user password" (both words through
 * helper_url_encode), Digest "\"user\":\"realm\"".  line carries no
 * channel-ID and no newline.  Returns the handle, or NULL when line is
 * unusable (a CR or LF inside, longer than HELPER_LINE_MAX): a caller bug,
 * no callback follows.  Replies parse with stateful false: OK, ERR, BH. */
struct helper_req *helper_submit(struct helper_pool *p, const char *line, helper_cb cb, void *arg);
/* Drops a request whose callback has not run: the callback is never called.
 * A request already written stays on its child until answered, so a late
 * reply never reaches another request. */
void helper_cancel(struct helper_req *r);

/* Reserves an idle child for one NTLM/Negotiate handshake: every line of the
 * handshake goes to it and nothing else does.  NULL when every running child
 * is busy or reserved (answer 502 or retry later).  reservation_timeout_ms
 * (0: none): how long the lease may stay idle between legs before the child
 * is given back (Squid's reservation-timeout); the lease then stays as an
 * empty shell until released. */
struct helper_lease *helper_reserve(struct helper_pool *p, uint64_t reservation_timeout_ms);
/* Sends a YR/KK line ("YR <base64>") to the lease's child; replies parse
 * with stateful true (TT, AF, NA, LD, OK, ERR, BH).  NULL when the lease
 * has lost its child (reservation timed out, child died, pool freed: start
 * the handshake over with a new lease), already has a request in flight, or
 * the line is unusable. */
struct helper_req *helper_lease_submit(struct helper_lease *l, const char *line, helper_cb cb, void *arg);
/* Whether the lease still holds its child. */
bool helper_lease_alive(const struct helper_lease *l);
/* Gives the child back and frees the lease; a request in flight on it is
 * cancelled (its reply, when it comes, is dropped). */
void helper_release(struct helper_lease *l);

/* Parses one reply line (no channel-ID, no newline) the way Squid's
 * Helper::Reply does, strictly: PH_OK with out filled, pointing into store,
 * or PH_ERROR with *why a static phrase (NUL byte, unknown result code,
 * unterminated quote, store too small).  stateful: NTLM/Negotiate codes
 * allowed; otherwise the bare 32-hex-digit HA1 of old Digest helpers is.
 * storelen >= len + 8 always suffices.  Bounded: reads only line[0..len). */
int helper_parse_reply(const char *line, size_t len, bool stateful, struct helper_reply *out, char *store,
                       size_t storelen, const char **why);

/* RFC 1738 escaping of one request word the way Squid's rfc1738_escape
 * does (controls, non-ASCII, space and "<>\"#%{}|\\^~[]`'" become %XX).
 * Writes at most cap bytes including the NUL (truncated if short) and
 * returns the length the whole encoding needs, like snprintf. */
size_t helper_url_encode(const char *in, size_t len, char *out, size_t cap);

/* For /metrics and tests. */
struct helper_pool_stats {
	unsigned children; /* configured */
	unsigned running;  /* processes up and talking */
	unsigned busy;     /* children with a request in flight */
	unsigned reserved; /* children held by a lease */
	unsigned queued;   /* requests waiting for a child */
	uint64_t requests; /* submitted */
	uint64_t replies;  /* parsed replies delivered */
	uint64_t failures; /* requests answered with reply NULL (cancelled ones included) */
	uint64_t timeouts; /* requests a child did not answer in time */
	uint64_t restarts; /* children started again after a death or a kill */
};
void helper_pool_stats(const struct helper_pool *p, struct helper_pool_stats *st);
/* The last thing that went wrong with a child, as a sentence ("" if none):
 * a death, garbage, output nobody asked for.  For the error log. */
const char *helper_pool_last_error(const struct helper_pool *p);

#endif
