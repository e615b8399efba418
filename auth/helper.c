/*
 * helper.c - pools of Squid auth helpers (`sh -c CMD` children) on one
 * worker's event loop: spawning and restarting, the request queue,
 * channel-IDs, leases for stateful handshakes, timeouts, reaping, and the
 * reply parser.  It logs nothing: failures go back to callers as sentences.
 */
#include "helper.h"
#include "buf.h"
#include "common.h"
#include "list.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 1000
#define MAX_CONCURRENCY 1000
#define EOF_GRACE_MS 300   /* after EOF, how long to wait for the exit status */
#define GRAVE_POLL_MS 50   /* killed children not reaped yet are polled this often */
#define GRAVE_KILL_MS 2000 /* and get SIGKILL after this long */
#define FREE_PHASE_MS 300  /* helper_pool_free: wait after closing stdin, then after SIGTERM */
#define WHY_MAX 256

enum req_state {
	REQ_QUEUED,    /* in the pool's queue */
	REQ_SENT,      /* in a child's slot, written or being written */
	REQ_DEFERRED,  /* failing from a 0 ms timer (queue full), not inside submit */
	REQ_FINISHING, /* taken off everything, its callback about to run */
};

struct helper_req {
	struct list link; /* in the queue, the deferred list, or a list being answered */
	struct helper_pool *pool;
	struct helper_child *child; /* REQ_SENT */
	struct helper_lease *lease; /* NULL once released */
	helper_cb cb;               /* NULL once cancelled */
	void *arg;
	enum req_state state;
	bool stateful;
	unsigned slot;
	struct loop_timer timer;
	size_t len;
	char line[]; /* without channel-ID and newline */
};

enum child_state {
	CHILD_DOWN,    /* no process; timer: the restart */
	CHILD_UP,      /* talking; timer: a kill deferred from a failed write */
	CHILD_CLOSING, /* its stdout hit EOF; timer: polling for the exit status */
};

struct helper_child {
	struct helper_pool *pool;
	enum child_state state;
	pid_t pid;   /* 0 when there is no process to reap */
	int to_fd;   /* its stdin */
	int from_fd; /* its stdout */
	struct loop_io rio, wio;
	struct buf in, out;
	struct helper_req **slots; /* pool->width of them: index = channel-ID */
	unsigned nbusy;
	struct helper_lease *lease;
	struct loop_timer timer;
	uint64_t spawned_at;
	uint64_t closing_since;
	bool started;      /* has run once: a start is a restart */
	bool write_failed; /* a kill is scheduled */
	char why[WHY_MAX];
};

struct helper_lease {
	struct list link;           /* in the pool's leases; unlinked once the pool is freed */
	struct helper_pool *pool;   /* NULL once the pool is freed */
	struct helper_child *child; /* NULL once it lost it */
	struct helper_req *req;     /* in flight */
	struct loop_timer timer;
	uint64_t timeout_ms;
};

struct grave {
	pid_t pid;
	uint64_t since;
	bool killed;
};

struct helper_pool {
	struct loop *loop;
	char *shell_cmd; /* what sh -c runs: "exec CMD" when CMD is a simple command */
	unsigned nchildren;
	unsigned concurrency;
	unsigned width; /* requests per child: max(concurrency, 1) */
	uint64_t timeout_ms;
	unsigned queue_max;
	unsigned queued;
	struct helper_child *children;
	struct list queue;    /* REQ_QUEUED, oldest first */
	struct list deferred; /* REQ_DEFERRED */
	struct list leases;
	struct grave *graves;
	size_t ngraves, graves_cap;
	struct loop_timer grave_timer;
	int depth; /* > 0 while one of our callbacks runs */
	struct helper_pool_stats st;
	char last_error[WHY_MAX];
	char *store; /* parsed replies live here during their callback */
};

static void child_start(struct helper_child *c);
static void child_kill(struct helper_child *c, const char *why);
static void pool_dispatch(struct helper_pool *p);

/* ---- small helpers ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* A short, printable excerpt of what a helper wrote, for a why. */
static void excerpt(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0, max = PH_MIN(len, (size_t)60);

	for (size_t i = 0; i < max && n + 1 < cap; i++)
		out[n++] = is_ctl((unsigned char)s[i]) ? '?' : s[i];
	out[n] = '\0';
	if (len > max && n + 4 < cap)
		strcpy(out + n, "...");
}

static void status_why(char *out, size_t cap, pid_t pid, int status)
{
	if (WIFEXITED(status))
		snprintf(out, cap, "helper (pid %ld) exited with status %d", (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "helper (pid %ld) was killed by signal %d%s", (long)pid, WTERMSIG(status),
		         WTERMSIG(status) == SIGSEGV ? " (segmentation fault)" : "");
	else
		snprintf(out, cap, "helper (pid %ld) stopped", (long)pid);
}

enum exit_state { RUNNING, EXITED, NOT_OURS };

/* Whether pid has exited, without reaping it: an unreaped leader (a zombie)
 * keeps its process group id from being reused, so the group can still be
 * signalled.  NOT_OURS: someone ignored SIGCHLD and the kernel reaped it. */
static enum exit_state exit_state(pid_t pid)
{
	siginfo_t si;

	si.si_pid = 0;
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD ? NOT_OURS : RUNNING;
	return si.si_pid == pid ? EXITED : RUNNING;
}

/* Signals the child's whole process group: it leads one, so that what a
 * shell wrapper or the helper started goes too.  Only while the leader is
 * not reaped (see exit_state). */
static void signal_child(pid_t pid, int sig)
{
	if (pid > 0)
		kill(-pid, sig);
}

/* Whether pid is gone: then what is left of its group is killed and the
 * leader reaped, why saying how it ended. */
static bool reaped(pid_t pid, char *why, size_t cap)
{
	int status;

	switch (exit_state(pid)) {
	case RUNNING:
		return false;
	case NOT_OURS:
		snprintf(why, cap, "helper (pid %ld) exited", (long)pid);
		return true;
	case EXITED:
		break;
	}
	signal_child(pid, SIGKILL); /* leftovers: a helper's own children */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, cap, "helper (pid %ld) exited", (long)pid);
			return true;
		}
	status_why(why, cap, pid, status);
	return true;
}

/* ---- requests ---- */

static struct helper_req *req_new(struct helper_pool *p, const char *line, helper_cb cb, void *arg)
{
	size_t len = strlen(line);

	if (len > HELPER_LINE_MAX || memchr(line, '\n', len) || memchr(line, '\r', len))
		return NULL;
	struct helper_req *r = ph_calloc(1, sizeof(*r) + len + 1);

	r->pool = p;
	r->cb = cb;
	r->arg = arg;
	r->len = len;
	memcpy(r->line, line, len);
	list_init(&r->link);
	r->timer.data = r;
	p->st.requests++;
	return r;
}

/* Runs r's callback (unless cancelled) and frees r, which must already be
 * off every list, its timer stopped. */
static void req_finish(struct helper_req *r, const struct helper_reply *reply, const char *why)
{
	struct helper_pool *p = r->pool;
	helper_cb cb = r->cb;
	void *arg = r->arg;

	if (r->lease && r->lease->req == r)
		r->lease->req = NULL;
	free(r);
	if (reply)
		p->st.replies++;
	else
		p->st.failures++;
	if (!cb)
		return;
	p->depth++;
	cb(arg, reply, why);
	p->depth--;
}

static void queue_unlink(struct helper_pool *p, struct helper_req *r)
{
	list_del(&r->link);
	p->queued--;
}

static struct helper_req *first_req(const struct list *head)
{
	struct list *l = list_first(head);

	return l ? list_entry(l, struct helper_req, link) : NULL;
}

static void req_timer(struct loop *loop, struct loop_timer *t)
{
	struct helper_req *r = t->data;
	struct helper_pool *p = r->pool;
	char why[WHY_MAX + 64];

	switch (r->state) {
	case REQ_DEFERRED:
		list_del(&r->link);
		snprintf(why, sizeof(why), "helper queue full (%u requests waiting)", p->queue_max);
		r->state = REQ_FINISHING;
		req_finish(r, NULL, why);
		break;
	case REQ_QUEUED:
		queue_unlink(p, r);
		snprintf(why, sizeof(why), "no helper became free within %llu ms%s%s",
		         (unsigned long long)p->timeout_ms, p->last_error[0] ? ": last failure: " : "", p->last_error);
		r->state = REQ_FINISHING;
		req_finish(r, NULL, why);
		break;
	case REQ_SENT:
		snprintf(why, sizeof(why), "helper (pid %ld) did not answer within %llu ms", (long)r->child->pid,
		         (unsigned long long)p->timeout_ms);
		p->st.timeouts++;
		child_kill(r->child, why);
		break;
	case REQ_FINISHING:
		break;
	}
}

/* ---- children: output ---- */

static void child_flush(struct helper_child *c)
{
	while (buf_len(&c->out) > 0) {
		ssize_t n = write(c->to_fd, buf_data(&c->out), buf_len(&c->out));

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT (edge) calls us again */
		/* Its stdin is gone: kill it from a timer, not from inside
		 * whatever submitted (possibly a callback of this child). */
		snprintf(c->why, sizeof(c->why), "helper (pid %ld) stopped reading its input: %s", (long)c->pid,
		         n < 0 ? strerror(errno) : "write returned 0");
		buf_release(&c->out);
		c->write_failed = true;
		loop_timer_start(c->pool->loop, &c->timer, 0);
		return;
	}
}

static void child_writable(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct helper_child *c = io->data;

	if (c->state == CHILD_UP && !c->write_failed)
		child_flush(c);
}

/* Puts r on c: a free channel, the line into c's output buffer, which is
 * bounded by width * (HELPER_LINE_MAX + 12) since no more are given. */
static void child_send(struct helper_child *c, struct helper_req *r)
{
	struct helper_pool *p = c->pool;
	unsigned slot = 0;

	while (c->slots[slot])
		slot++;
	c->slots[slot] = r;
	c->nbusy++;
	r->state = REQ_SENT;
	r->child = c;
	r->slot = slot;
	if (p->concurrency)
		buf_printf(&c->out, "%u ", slot);
	buf_append(&c->out, r->line, r->len);
	buf_append(&c->out, "\n", 1);
	if (p->timeout_ms)
		loop_timer_start(p->loop, &r->timer, p->timeout_ms);
	else
		loop_timer_stop(p->loop, &r->timer);
	child_flush(c);
}

static bool child_can_take(const struct helper_child *c)
{
	return c->state == CHILD_UP && !c->lease && !c->write_failed && c->nbusy < c->pool->width;
}

/* The least busy child that can take a request now, or NULL. */
static struct helper_child *pool_free_child(struct helper_pool *p)
{
	struct helper_child *best = NULL;

	for (unsigned i = 0; i < p->nchildren; i++) {
		struct helper_child *c = &p->children[i];

		if (child_can_take(c) && (!best || c->nbusy < best->nbusy))
			best = c;
	}
	return best;
}

static void pool_dispatch(struct helper_pool *p)
{
	while (!list_empty(&p->queue)) {
		struct helper_child *best = pool_free_child(p);

		if (!best)
			return;
		struct helper_req *r = first_req(&p->queue);

		queue_unlink(p, r);
		child_send(best, r);
	}
}

/* ---- children: death ---- */

static void grave_timer(struct loop *loop, struct loop_timer *t)
{
	struct helper_pool *p = t->data;
	size_t j = 0;

	for (size_t i = 0; i < p->ngraves; i++) {
		struct grave *g = &p->graves[i];
		char why[WHY_MAX];

		if (reaped(g->pid, why, sizeof(why)))
			continue;
		if (!g->killed && loop_now(loop) - g->since >= GRAVE_KILL_MS) {
			signal_child(g->pid, SIGKILL);
			g->killed = true;
		}
		p->graves[j++] = *g;
	}
	p->ngraves = j;
	if (p->ngraves)
		loop_timer_start(loop, t, GRAVE_POLL_MS);
}

/* Reaps pid if it is done, else keeps polling for it (after SIGTERM). */
static void bury(struct helper_pool *p, pid_t pid)
{
	char why[WHY_MAX];

	if (pid <= 0 || reaped(pid, why, sizeof(why)))
		return;
	if (p->ngraves == p->graves_cap) {
		p->graves_cap = p->graves_cap ? p->graves_cap * 2 : 8;
		p->graves = ph_realloc(p->graves, p->graves_cap * sizeof(*p->graves));
	}
	p->graves[p->ngraves++] = (struct grave){ .pid = pid, .since = loop_now(p->loop) };
	if (!loop_timer_active(&p->grave_timer))
		loop_timer_start(p->loop, &p->grave_timer, GRAVE_POLL_MS);
}

static void child_close_fds(struct helper_child *c)
{
	struct loop *loop = c->pool->loop;

	if (c->to_fd >= 0) {
		loop_io_stop(loop, &c->wio);
		close(c->to_fd);
		c->to_fd = -1;
	}
	if (c->from_fd >= 0) {
		loop_io_stop(loop, &c->rio);
		close(c->from_fd);
		c->from_fd = -1;
	}
	buf_release(&c->in);
	buf_release(&c->out);
	c->write_failed = false;
}

/* The process is gone (or being killed): answer what it held with NULL,
 * drop its lease, and schedule its restart, not sooner than
 * HELPER_RESTART_INTERVAL_MS after its previous start. */
static void child_down(struct helper_child *c, const char *why_in)
{
	struct helper_pool *p = c->pool;
	struct list answer;
	struct helper_req *r;
	char why[WHY_MAX];
	uint64_t now = loop_now(p->loop), delay = 0;

	snprintf(why, sizeof(why), "%s", why_in);
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	c->state = CHILD_DOWN;
	list_init(&answer);
	for (unsigned i = 0; i < p->width; i++) {
		r = c->slots[i];
		if (!r)
			continue;
		c->slots[i] = NULL;
		loop_timer_stop(p->loop, &r->timer);
		r->state = REQ_FINISHING;
		r->child = NULL;
		list_add_back(&answer, &r->link);
	}
	c->nbusy = 0;
	if (c->lease) {
		loop_timer_stop(p->loop, &c->lease->timer);
		c->lease->child = NULL;
		c->lease = NULL;
	}
	if (c->spawned_at + HELPER_RESTART_INTERVAL_MS > now)
		delay = c->spawned_at + HELPER_RESTART_INTERVAL_MS - now;
	loop_timer_start(p->loop, &c->timer, delay);
	while ((r = first_req(&answer))) {
		list_del(&r->link);
		req_finish(r, NULL, why);
	}
}

/* Kills a child that misbehaved (garbage, timeout, unwanted output, a
 * failed write): SIGTERM, reaped now or later, its requests answered. */
static void child_kill(struct helper_child *c, const char *why)
{
	child_close_fds(c);
	signal_child(c->pid, SIGTERM);
	bury(c->pool, c->pid);
	c->pid = 0;
	child_down(c, why);
}

/* Its stdout hit EOF: it is exiting (or closed it and is about to be
 * useless).  Wait a little for the status, which says why. */
static void child_eof(struct helper_child *c, const char *how)
{
	char why[WHY_MAX];

	child_close_fds(c);
	if (reaped(c->pid, why, sizeof(why))) {
		c->pid = 0;
		child_down(c, why);
		return;
	}
	snprintf(c->why, sizeof(c->why), "helper (pid %ld) %s", (long)c->pid, how);
	c->state = CHILD_CLOSING;
	c->closing_since = loop_now(c->pool->loop);
	for (unsigned i = 0; i < c->pool->width; i++)
		if (c->slots[i])
			loop_timer_stop(c->pool->loop, &c->slots[i]->timer);
	loop_timer_start(c->pool->loop, &c->timer, 2);
}

static void child_timer(struct loop *loop, struct loop_timer *t)
{
	struct helper_child *c = t->data;
	char why[WHY_MAX];

	switch (c->state) {
	case CHILD_DOWN:
		child_start(c);
		break;
	case CHILD_UP:
		if (c->write_failed) {
			snprintf(why, sizeof(why), "%s", c->why);
			child_kill(c, why);
		}
		break;
	case CHILD_CLOSING:
		if (reaped(c->pid, why, sizeof(why))) {
			c->pid = 0;
			child_down(c, why);
		} else if (loop_now(loop) - c->closing_since >= EOF_GRACE_MS) {
			snprintf(why, sizeof(why), "%s", c->why);
			signal_child(c->pid, SIGTERM);
			bury(c->pool, c->pid);
			c->pid = 0;
			child_down(c, why);
		} else {
			loop_timer_start(loop, t, 10);
		}
		break;
	}
}

/* ---- children: input ---- */

/* One reply line (newline stripped).  false when the child is gone. */
static bool child_line(struct helper_child *c, const char *line, size_t len)
{
	struct helper_pool *p = c->pool;
	struct helper_reply reply;
	const char *perr;
	char why[WHY_MAX], ex[80];
	size_t i = 0;
	unsigned slot = 0;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (p->concurrency) {
		unsigned long id = 0;

		while (i < len && line[i] >= '0' && line[i] <= '9' && i < 9)
			id = id * 10 + (unsigned long)(line[i++] - '0');
		if (i == 0 || (i < len && !is_space(line[i]))) {
			excerpt(ex, sizeof(ex), line, len);
			snprintf(why, sizeof(why), "helper (pid %ld) sent a reply without a channel-ID: \"%s\"",
			         (long)c->pid, ex);
			child_kill(c, why);
			return false;
		}
		while (i < len && is_space(line[i]))
			i++;
		slot = id < p->width ? (unsigned)id : p->width;
	}
	struct helper_req *r = slot < p->width ? c->slots[slot] : NULL;

	if (!r) {
		excerpt(ex, sizeof(ex), line, len);
		snprintf(why, sizeof(why), "helper (pid %ld) wrote \"%s\" before being asked", (long)c->pid, ex);
		child_kill(c, why);
		return false;
	}
	if (helper_parse_reply(line + i, len - i, r->stateful, &reply, p->store, HELPER_LINE_MAX + 8, &perr) != PH_OK) {
		excerpt(ex, sizeof(ex), line, len);
		snprintf(why, sizeof(why), "helper (pid %ld) sent garbage (%s): \"%s\"", (long)c->pid, perr, ex);
		child_kill(c, why);
		return false;
	}
	c->slots[slot] = NULL;
	c->nbusy--;
	loop_timer_stop(p->loop, &r->timer);
	r->state = REQ_FINISHING;
	r->child = NULL;
	if (r->lease && r->lease->child == c && r->lease->timeout_ms)
		loop_timer_start(p->loop, &r->lease->timer, r->lease->timeout_ms);
	pool_dispatch(p);
	req_finish(r, &reply, NULL);
	return c->state == CHILD_UP;
}

static void child_readable(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct helper_child *c = io->data;
	char why[WHY_MAX];

	while (c->state == CHILD_UP) {
		size_t room = buf_reserve(&c->in, HELPER_LINE_MAX + 1);

		if (room == 0) {
			snprintf(why, sizeof(why), "helper (pid %ld) sent garbage: a line longer than %d bytes",
			         (long)c->pid, HELPER_LINE_MAX);
			child_kill(c, why);
			return;
		}
		ssize_t n = read(c->from_fd, c->in.base + c->in.end, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			child_eof(c, n == 0 ? "closed its output" : "output failed");
			return;
		}
		c->in.end += (uint32_t)n;
		while (buf_len(&c->in) > 0) {
			char *d = buf_data(&c->in);
			char *nl = memchr(d, '\n', buf_len(&c->in));

			if (!nl)
				break;
			size_t len = (size_t)(nl - d);

			/* Consumed first: the callback may write to c, never read. */
			if (!child_line(c, d, len))
				return;
			buf_consume(&c->in, len + 1);
		}
	}
}

/* ---- children: birth ---- */

/* Whether sh may exec cmd in its own place: one simple command, no
 * pipeline, list, redirection, substitution, assignment or keyword.  Then
 * the helper itself is the child, its exit status and signals are its own,
 * and no shell sits between holding its stdin open. */
static bool simple_command(const char *cmd)
{
	static const char keywords[] = " if then else elif fi do done case esac while until for in { } ! exec time ";
	size_t n = strcspn(cmd, " \t");
	char word[12];

	if (n == 0 || strpbrk(cmd, "|&;<>()$`\n") || memchr(cmd, '=', n))
		return false;
	if (n > 5)
		return true; /* longer than any keyword */
	snprintf(word, sizeof(word), " %.*s ", (int)n, cmd);
	return strstr(keywords, word) == NULL;
}

static int spawn(struct helper_pool *p, pid_t *pid, int *to_fd, int *from_fd, char *err, size_t errlen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *argv[] = { "sh", "-c", p->shell_cmd, NULL };
	int rc;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start helper: pipe: %s", strerror(errno));
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawnattr_init(&attr);
	/* Its own process group, an empty signal mask and default dispositions:
	 * workers block signals and ignore SIGPIPE, a helper should not. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGALRM);
	sigaddset(&dfl, SIGUSR1);
	sigaddset(&dfl, SIGUSR2);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start helper: /bin/sh: %s", strerror(rc));
		goto fail;
	}
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	*to_fd = in[1];
	*from_fd = out[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

static void child_start(struct helper_child *c)
{
	struct helper_pool *p = c->pool;
	char err[WHY_MAX];

	c->spawned_at = loop_now(p->loop);
	if (spawn(p, &c->pid, &c->to_fd, &c->from_fd, err, sizeof(err)) < 0) {
		c->pid = 0;
		snprintf(p->last_error, sizeof(p->last_error), "%s", err);
		loop_timer_start(p->loop, &c->timer, HELPER_RESTART_INTERVAL_MS);
		return;
	}
	if (c->started)
		p->st.restarts++;
	c->started = true;
	c->state = CHILD_UP;
	loop_io_start(p->loop, &c->rio, c->from_fd, EPOLLIN);
	loop_io_start(p->loop, &c->wio, c->to_fd, EPOLLOUT);
	pool_dispatch(p);
}

/* ---- pools ---- */

struct helper_pool *helper_pool_new(struct loop *loop, const char *cmd, int children, int concurrency,
                                    uint64_t timeout_ms, char *err, size_t errlen)
{
	if (!cmd || !cmd[0]) {
		snprintf(err, errlen, "helper command is empty");
		return NULL;
	}
	if (children < 1 || children > MAX_CHILDREN) {
		snprintf(err, errlen, "helper children must be 1 to %d, not %d", MAX_CHILDREN, children);
		return NULL;
	}
	if (concurrency < 0 || concurrency > MAX_CONCURRENCY) {
		snprintf(err, errlen, "helper concurrency must be 0 to %d, not %d", MAX_CONCURRENCY, concurrency);
		return NULL;
	}
	struct helper_pool *p = ph_calloc(1, sizeof(*p));

	list_init(&p->queue);
	list_init(&p->deferred);
	list_init(&p->leases);
	p->loop = loop;
	p->shell_cmd = ph_malloc(strlen(cmd) + 6);
	snprintf(p->shell_cmd, strlen(cmd) + 6, "%s%s", simple_command(cmd) ? "exec " : "", cmd);
	p->nchildren = (unsigned)children;
	p->concurrency = (unsigned)concurrency;
	p->width = concurrency > 0 ? (unsigned)concurrency : 1;
	p->timeout_ms = timeout_ms;
	p->queue_max = HELPER_QUEUE_DEFAULT;
	p->store = ph_malloc(HELPER_LINE_MAX + 8);
	p->grave_timer.cb = grave_timer;
	p->grave_timer.data = p;
	p->st.children = p->nchildren;
	p->children = ph_calloc(p->nchildren, sizeof(*p->children));
	for (unsigned i = 0; i < p->nchildren; i++) {
		struct helper_child *c = &p->children[i];

		c->pool = p;
		c->to_fd = c->from_fd = -1;
		c->rio.fd = c->wio.fd = -1;
		c->rio.cb = child_readable;
		c->wio.cb = child_writable;
		c->rio.data = c->wio.data = c;
		c->timer.cb = child_timer;
		c->timer.data = c;
		c->slots = ph_calloc(p->width, sizeof(*c->slots));
	}
	for (unsigned i = 0; i < p->nchildren; i++) {
		struct helper_child *c = &p->children[i];

		c->spawned_at = loop_now(loop);
		if (spawn(p, &c->pid, &c->to_fd, &c->from_fd, err, errlen) < 0) {
			c->pid = 0;
			helper_pool_free(p);
			return NULL;
		}
		c->started = true;
		c->state = CHILD_UP;
		loop_io_start(loop, &c->rio, c->from_fd, EPOLLIN);
		loop_io_start(loop, &c->wio, c->to_fd, EPOLLOUT);
	}
	return p;
}

void helper_pool_set_queue_max(struct helper_pool *p, unsigned n)
{
	p->queue_max = n;
}

static void free_req(struct helper_pool *p, struct helper_req *r)
{
	loop_timer_stop(p->loop, &r->timer);
	free(r);
}

/* Waits up to ms for every pid in pids[] (0: not ours) to exit, reaping
 * none. */
static void exit_wait(pid_t *pids, size_t n, unsigned ms)
{
	for (unsigned waited = 0;; waited += 5) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++) {
			enum exit_state e = pids[i] > 0 ? exit_state(pids[i]) : EXITED;

			if (e == NOT_OURS)
				pids[i] = 0;
			left += e == RUNNING;
		}
		if (left == 0 || waited >= ms)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
}

void helper_pool_free(struct helper_pool *p)
{
	if (!p)
		return;
	if (p->depth > 0) {
		fprintf(stderr, "pinhole: helper_pool_free called from a helper callback\n");
		abort();
	}
	for (struct helper_req *r; (r = first_req(&p->queue));) {
		queue_unlink(p, r);
		free_req(p, r);
	}
	for (struct helper_req *r; (r = first_req(&p->deferred));) {
		list_del(&r->link);
		free_req(p, r);
	}
	/* A lease outlives the pool until its owner releases it. */
	while (!list_empty(&p->leases)) {
		struct helper_lease *l = list_entry(list_first(&p->leases), struct helper_lease, link);

		list_del(&l->link);
		loop_timer_stop(p->loop, &l->timer);
		l->pool = NULL;
		l->child = NULL;
		l->req = NULL;
	}
	size_t npids = p->nchildren + p->ngraves;
	pid_t *pids = ph_calloc(npids, sizeof(*pids));
	size_t n = 0;

	for (unsigned i = 0; i < p->nchildren; i++) {
		struct helper_child *c = &p->children[i];

		for (unsigned j = 0; j < p->width; j++)
			if (c->slots[j])
				free_req(p, c->slots[j]);
		free(c->slots);
		loop_timer_stop(p->loop, &c->timer);
		child_close_fds(c); /* stdin EOF: Squid helpers exit */
		if (c->pid > 0)
			pids[n++] = c->pid;
	}
	size_t nlive = n;

	for (size_t i = 0; i < p->ngraves; i++)
		pids[n++] = p->graves[i].pid;
	loop_timer_stop(p->loop, &p->grave_timer);
	/* Leaders stay unreaped until the end, so that their groups (what a
	 * shell wrapper or the helper started) can be signalled safely. */
	exit_wait(pids, nlive, FREE_PHASE_MS);
	for (size_t i = 0; i < n; i++)
		signal_child(pids[i], SIGTERM);
	exit_wait(pids, n, FREE_PHASE_MS);
	for (size_t i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		signal_child(pids[i], SIGKILL);
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(pids);
	free(p->graves);
	free(p->children);
	free(p->store);
	free(p->shell_cmd);
	free(p);
}

struct helper_req *helper_submit(struct helper_pool *p, const char *line, helper_cb cb, void *arg)
{
	struct helper_req *r = req_new(p, line, cb, arg);

	if (!r)
		return NULL;
	r->timer.cb = req_timer;
	if (p->queued >= p->queue_max && !pool_free_child(p)) {
		r->state = REQ_DEFERRED;
		list_add_front(&p->deferred, &r->link);
		loop_timer_start(p->loop, &r->timer, 0);
		return r;
	}
	r->state = REQ_QUEUED;
	list_add_back(&p->queue, &r->link);
	p->queued++;
	if (p->timeout_ms)
		loop_timer_start(p->loop, &r->timer, p->timeout_ms);
	pool_dispatch(p);
	return r;
}

void helper_cancel(struct helper_req *r)
{
	struct helper_pool *p;

	if (!r)
		return;
	p = r->pool;
	switch (r->state) {
	case REQ_QUEUED:
		queue_unlink(p, r);
		free_req(p, r);
		break;
	case REQ_DEFERRED:
		list_del(&r->link);
		free_req(p, r);
		break;
	case REQ_SENT:
	case REQ_FINISHING:
		r->cb = NULL;
		break;
	}
}

/* ---- leases ---- */

static void lease_timer(struct loop *loop, struct loop_timer *t)
{
	struct helper_lease *l = t->data;

	if (!l->pool || !l->child || l->req)
		return;
	l->child->lease = NULL;
	l->child = NULL;
	pool_dispatch(l->pool);
}

struct helper_lease *helper_reserve(struct helper_pool *p, uint64_t reservation_timeout_ms)
{
	struct helper_child *c = NULL;

	for (unsigned i = 0; i < p->nchildren && !c; i++)
		if (child_can_take(&p->children[i]) && p->children[i].nbusy == 0)
			c = &p->children[i];
	if (!c)
		return NULL;
	struct helper_lease *l = ph_calloc(1, sizeof(*l));

	l->pool = p;
	l->child = c;
	l->timeout_ms = reservation_timeout_ms;
	l->timer.cb = lease_timer;
	l->timer.data = l;
	list_add_front(&p->leases, &l->link);
	c->lease = l;
	if (l->timeout_ms)
		loop_timer_start(p->loop, &l->timer, l->timeout_ms);
	return l;
}

struct helper_req *helper_lease_submit(struct helper_lease *l, const char *line, helper_cb cb, void *arg)
{
	if (!l->pool || !l->child || l->req || l->child->state != CHILD_UP || l->child->write_failed)
		return NULL;
	struct helper_req *r = req_new(l->pool, line, cb, arg);

	if (!r)
		return NULL;
	r->timer.cb = req_timer;
	r->lease = l;
	r->stateful = true;
	l->req = r;
	loop_timer_stop(l->pool->loop, &l->timer);
	child_send(l->child, r);
	return r;
}

bool helper_lease_alive(const struct helper_lease *l)
{
	return l->pool && l->child;
}

void helper_release(struct helper_lease *l)
{
	struct helper_pool *p;

	if (!l)
		return;
	p = l->pool;
	if (l->req) {
		l->req->cb = NULL;
		l->req->lease = NULL;
		l->req = NULL;
	}
	if (p) {
		loop_timer_stop(p->loop, &l->timer);
		list_del(&l->link);
		if (l->child) {
			l->child->lease = NULL;
			l->child = NULL;
			pool_dispatch(p);
		}
	}
	free(l);
}

/* ---- introspection ---- */

void helper_pool_stats(const struct helper_pool *p, struct helper_pool_stats *st)
{
	*st = p->st;
	st->running = st->busy = st->reserved = 0;
	for (unsigned i = 0; i < p->nchildren; i++) {
		const struct helper_child *c = &p->children[i];

		st->running += c->state == CHILD_UP;
		st->busy += c->nbusy > 0;
		st->reserved += c->lease != NULL;
	}
	st->queued = p->queued;
}

const char *helper_pool_last_error(const struct helper_pool *p)
{
	return p->last_error;
}

/* ---- the reply parser ---- */

struct rp {
	const char *p, *end;
	char *store;
	size_t cap, used;
	const char *err;
};

static void rp_skip_space(struct rp *s)
{
	while (s->p < s->end && is_space(*s->p))
		s->p++;
}

/* Writes n bytes and a NUL to the store; NULL when it is full. */
static char *rp_save(struct rp *s, const char *src, size_t n)
{
	if (s->cap - s->used < n + 1) {
		s->err = "reply too long for the buffer";
		return NULL;
	}
	char *d = s->store + s->used;

	memcpy(d, src, n);
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

/* One word as Squid's strwordtok reads it: double quotes toggle quoting,
 * inside which spaces stay and \n, \r, \X escape; a backslash outside
 * quotes is itself (DOMAIN\user).  NULL at the end of the line or with
 * s->err set. */
static char *rp_word(struct rp *s, bool *quoted)
{
	bool q = false;
	size_t n = 0;
	char *d = s->store + s->used;

	rp_skip_space(s);
	if (s->p == s->end)
		return NULL;
	*quoted = *s->p == '"';
	while (s->p < s->end) {
		char ch = *s->p++;

		if (ch == '"') {
			q = !q;
			continue;
		}
		if (ch == '\\' && q) {
			if (s->p == s->end)
				break;
			ch = *s->p++;
			ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch;
		} else if (!q && is_space(ch)) {
			break;
		}
		if (s->cap - s->used < n + 2) {
			s->err = "reply too long for the buffer";
			return NULL;
		}
		d[n++] = ch;
	}
	if (q) {
		s->err = "unterminated quoted string";
		return NULL;
	}
	if (s->cap - s->used < n + 1) {
		s->err = "reply too long for the buffer";
		return NULL;
	}
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

/* Squid's rfc1738_unescape, in place: %XX, "%%" is "%", and %00 stays as
 * it is (a NUL would cut the value short). */
static void url_unescape(char *s)
{
	size_t i = 0, j = 0;

	for (; s[j]; i++, j++) {
		s[i] = s[j];
		if (s[j] != '%')
			continue;
		if (s[j + 1] == '%') {
			j++;
			continue;
		}
		int hi = ph_hexval(s[j + 1]);
		int lo = hi < 0 ? -1 : ph_hexval(s[j + 2]);

		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			continue;
		s[i] = (char)(hi << 4 | lo);
		j += 2;
	}
	s[i] = '\0';
}

/* Control characters in a message for the error log become '?'. */
static void sanitize(char *m)
{
	for (; *m; m++)
		if (is_ctl((unsigned char)*m))
			*m = '?';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Whether the text at s->p is "key=" (Squid: no space after '='). */
static bool rp_at_pair(const struct rp *s)
{
	const char *q = s->p;

	while (q < s->end && is_key_char(*q))
		q++;
	return q < s->end && *q == '=' && (q + 1 == s->end || !is_space(q[1]));
}

static bool key_is(const char *k, size_t n, const char *name)
{
	return n == strlen(name) && memcmp(k, name, n) == 0;
}

/* key=value pairs to the end, or up to text that is not one: *rest then
 * points at that text.  The first of each known key wins. */
static int rp_pairs(struct rp *s, struct helper_reply *out, const char **rest)
{
	*rest = NULL;
	for (;;) {
		rp_skip_space(s);
		if (s->p == s->end)
			return PH_OK;
		if (!rp_at_pair(s)) {
			*rest = s->p;
			return PH_OK;
		}
		const char *k = s->p;

		while (*s->p != '=')
			s->p++;
		size_t klen = (size_t)(s->p - k);
		size_t mark = s->used;
		bool quoted = false;
		const char **field = NULL;
		char *v;

		s->p++;
		if (s->p == s->end) {
			v = rp_save(s, "", 0);
		} else {
			v = rp_word(s, &quoted);
			if (v && !quoted)
				url_unescape(v);
		}
		if (!v)
			return PH_ERROR;
		if (key_is(k, klen, "user"))
			field = &out->user;
		else if (key_is(k, klen, "token"))
			field = &out->token;
		else if (key_is(k, klen, "message"))
			field = &out->message;
		else if (key_is(k, klen, "ha1"))
			field = &out->ha1;
		if (field && !*field) {
			*field = v;
			if (field == &out->message)
				sanitize(v);
		} else {
			s->used = mark;
		}
	}
}

/* The rest of the line, spaces trimmed, as the message (if none yet). */
static int rp_rest_message(struct rp *s, struct helper_reply *out, const char *rest)
{
	const char *e = s->end;

	if (!rest || out->message)
		return PH_OK;
	while (rest < e && is_space(*rest))
		rest++;
	while (e > rest && is_space(e[-1]))
		e--;
	if (rest == e)
		return PH_OK;
	char *m = rp_save(s, rest, (size_t)(e - rest));

	if (!m)
		return PH_ERROR;
	sanitize(m);
	out->message = m;
	return PH_OK;
}

static bool has_ctl(const char *v)
{
	for (; v && *v; v++)
		if (is_ctl((unsigned char)*v))
			return true;
	return false;
}

static bool all_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ph_hexval(p[i]) < 0)
			return false;
	return true;
}

/* Whether a known key=value pair starts at s->p.  Only known keys: a base64
 * token with its '=' padding looks like any other pair. */
static bool rp_at_known_pair(const struct rp *s)
{
	static const char *const keys[] = { "token=", "user=", "message=", "group=" };

	for (size_t i = 0; i < PH_ARRAY_LEN(keys); i++) {
		size_t n = strlen(keys[i]);

		if ((size_t)(s->end - s->p) >= n && memcmp(s->p, keys[i], n) == 0)
			return true;
	}
	return false;
}

/* The positional words after TT, AF and LD, unless the helper used the
 * key=value form there ("TT token=...", as negotiate_kerberos_auth does). */
static int rp_words(struct rp *s, char **w, int max)
{
	bool quoted;

	for (int i = 0; i < max; i++) {
		rp_skip_space(s);
		if (rp_at_known_pair(s))
			return PH_OK;
		w[i] = rp_word(s, &quoted);
		if (s->err)
			return PH_ERROR;
		if (!w[i])
			return PH_OK;
	}
	return PH_OK;
}

int helper_parse_reply(const char *line, size_t len, bool stateful, struct helper_reply *out, char *store,
                       size_t storelen, const char **why)
{
	struct rp s = { .store = store, .cap = storelen };
	const char *rest = NULL;
	char *w[2] = { NULL, NULL };
	int rc = PH_OK;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!store || storelen == 0 || (len && !line)) {
		*why = "no buffer for the reply";
		return PH_ERROR;
	}
	if (len == 0) {
		out->code = HELPER_ERR; /* Squid reads an empty reply as ERR */
		return PH_OK;
	}
	if (len > HELPER_LINE_MAX) {
		*why = "reply longer than 64 KiB";
		return PH_ERROR;
	}
	if (memchr(line, '\0', len)) {
		*why = "NUL byte in the reply";
		return PH_ERROR;
	}
	s.p = line;
	s.end = line + len;
	const char *c = s.p;

	while (s.p < s.end && !is_space(*s.p))
		s.p++;
	size_t clen = (size_t)(s.p - c);

	if (clen == 0) {
		rp_skip_space(&s);
		if (s.p == s.end) {
			out->code = HELPER_ERR;
			return PH_OK;
		}
		*why = "reply does not start with a result code";
		return PH_ERROR;
	}
	if (key_is(c, clen, "OK") || key_is(c, clen, "ERR") || key_is(c, clen, "BH")) {
		out->code = c[0] == 'O' ? HELPER_OK : c[0] == 'E' ? HELPER_ERR : HELPER_BH;
		rc = rp_pairs(&s, out, &rest);
		if (rc == PH_OK)
			rc = rp_rest_message(&s, out, rest);
	} else if (stateful && key_is(c, clen, "TT")) {
		out->code = HELPER_TT;
		rc = rp_words(&s, w, 1);
		out->token = w[0];
		if (rc == PH_OK)
			rc = rp_pairs(&s, out, &rest);
	} else if (stateful && (key_is(c, clen, "AF") || key_is(c, clen, "LD"))) {
		out->code = c[0] == 'A' ? HELPER_AF : HELPER_LD;
		rc = rp_words(&s, w, out->code == HELPER_AF ? 2 : 1);
		if (w[1]) {
			out->token = w[0];
			out->user = w[1];
		} else {
			out->user = w[0];
		}
		if (rc == PH_OK)
			rc = rp_pairs(&s, out, &rest);
	} else if (stateful && key_is(c, clen, "NA")) {
		/* Squid: the rest of an NA line is the message, pairs and all. */
		out->code = HELPER_NA;
		rc = rp_rest_message(&s, out, s.p);
	} else if (!stateful && clen == 32 && all_hex(c, clen)) {
		rp_skip_space(&s);
		if (s.p != s.end) {
			*why = "text after a bare HA1";
			return PH_ERROR;
		}
		out->code = HELPER_OK;
		out->ha1 = rp_save(&s, c, clen);
		rc = out->ha1 ? PH_OK : PH_ERROR;
	} else {
		*why = "unknown result code";
		return PH_ERROR;
	}
	if (rc != PH_OK) {
		*why = s.err ? s.err : "malformed reply";
		memset(out, 0, sizeof(*out));
		return PH_ERROR;
	}
	/* An empty value is no value; the data a code needs is mandatory
	 * (Squid: "TT" without a token is BH). */
	if (out->user && !out->user[0])
		out->user = NULL;
	if (out->token && !out->token[0])
		out->token = NULL;
	if (out->ha1 && !out->ha1[0])
		out->ha1 = NULL;
	if (out->code == HELPER_TT && !out->token) {
		out->code = HELPER_BH;
		out->message = "helper answered TT without a token";
	} else if ((out->code == HELPER_AF || out->code == HELPER_LD) && !out->user) {
		out->message = out->code == HELPER_AF ? "helper answered AF without a user name"
		                                      : "helper answered LD without a user name";
		out->code = HELPER_BH;
	}
	if (has_ctl(out->user) || has_ctl(out->token) || has_ctl(out->ha1)) {
		out->code = HELPER_BH;
		out->user = out->token = out->ha1 = NULL;
		out->message = "helper returned a user name, token or ha1 with control characters";
	}
	return PH_OK;
}

/* ---- request words ---- */

size_t helper_url_encode(const char *in, size_t len, char *out, size_t cap)
{
	static const char unsafe[] = "<>\"#%{}|\\^~[]`'";
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, written = 0;
	bool fits = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		char enc[3] = { (char)ch, 0, 0 };
		size_t k = 1;

		if (ch <= 0x20 || ch >= 0x7f || strchr(unsafe, ch)) {
			enc[0] = '%';
			enc[1] = hex[ch >> 4];
			enc[2] = hex[ch & 15];
			k = 3;
		}
		/* Whole escapes only: a truncated output never ends in "%4". */
		if (fits && written + k < cap) {
			memcpy(out + written, enc, k);
			written += k;
		} else {
			fits = false;
		}
		n += k;
	}
	if (cap > 0)
		out[written] = '\0';
	return n;
}
