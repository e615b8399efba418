/*
 * echod.c - the origin side of the pinhole benchmark: one epoll loop serving
 * a TCP echo port, a "source" port (streams once the client sent a byte), a
 * "sink" port (reads and drops whatever comes), a minimal HTTP/1.1
 * keep-alive origin, and a bare CONNECT relay used as the harness's
 * ceiling. Loopback only; exits after -t seconds or on SIGTERM.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_CHUNK (256 * 1024)
#define HTTP_IN_MAX 8192
#define BODY_LEN 64

enum role {
	R_NONE,
	L_ECHO,
	L_SOURCE,
	L_HTTP,
	L_RELAY,
	L_SINK,
	C_ECHO,
	C_SOURCE,
	C_HTTP,
	C_RHEAD, /* relay: reading the CONNECT request */
	C_RUP,   /* relay: upstream connect in progress */
	C_RELAY, /* relay: tunnel up, copying both ways */
	C_SINK,
};

struct conn {
	unsigned char role;
	unsigned char sending;     /* source: trigger byte seen */
	unsigned char close_after; /* http: close once out is flushed */
	unsigned int events;       /* current epoll interest */
	int peer;                  /* relay: the other side, or -1 */
	char *in;                  /* http request bytes */
	size_t in_len;
	size_t skip; /* http request body still to drop */
	char *out;   /* pending output */
	size_t out_len;
	size_t out_off;
	size_t out_cap;
};

static struct conn *conns;
static size_t nconns;
static int epfd;
static volatile sig_atomic_t stop;
static char iobuf[IO_CHUNK];
static size_t source_chunk = IO_CHUNK; /* -z: bytes per write of the source */
static char relaybuf[IO_CHUNK];
static char resp_ka[256];
static size_t resp_ka_len;
static char resp_close[256];
static size_t resp_close_len;
static unsigned long long stat_accepts;
static unsigned long long stat_http;
static int stat_peak;
static int stat_open;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "echod: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	nconns = rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur;
	conns = calloc(nconns, sizeof(*conns));
	if (!conns)
		die("calloc");
}

static void set_events(int fd, unsigned int ev)
{
	struct epoll_event e;

	if (conns[fd].events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e) < 0)
		die("epoll_ctl mod");
	conns[fd].events = ev;
}

static void add_fd(int fd, int role, unsigned int ev)
{
	struct epoll_event e;

	memset(&conns[fd], 0, sizeof(conns[fd]));
	conns[fd].role = role;
	conns[fd].events = ev;
	conns[fd].peer = -1;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		die("epoll_ctl add");
}

static void close_conn(int fd)
{
	struct conn *c = &conns[fd];
	int peer = c->peer;

	if (c->role >= C_RHEAD && peer >= 0) {
		/* a relay closes both sides together (no half-close) */
		conns[peer].peer = -1;
		c->peer = -1;
		close_conn(peer);
	}
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	close(fd);
	stat_open--;
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			goto bad;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			goto bad;
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "echod: bind %s:%d: %s\n", addr, port, strerror(errno));
		exit(2);
	}
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
bad:
	fprintf(stderr, "echod: bad address %s\n", addr);
	exit(2);
}

/* Queue bytes for output; returns 0, or -1 on allocation failure. */
static int out_append(struct conn *c, const char *p, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *nb;

		while (cap < c->out_len + n)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (!nb)
			return -1;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Write pending output; 1 = all flushed, 0 = would block, -1 = error. */
static int out_flush(int fd, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->out_off += n;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > 65536) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 1;
}

static void do_accept(int lfd, int role)
{
	int i;

	/* bounded batch so one listener cannot starve the others */
	for (i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				fprintf(stderr, "echod: accept: %s\n", strerror(errno));
				return;
			}
			die("accept");
		}
		if ((size_t)fd >= nconns) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		add_fd(fd, role, EPOLLIN);
		stat_accepts++;
		if (++stat_open > stat_peak)
			stat_peak = stat_open;
	}
}

static void echo_event(int fd, unsigned int ev)
{
	struct conn *c = &conns[fd];
	ssize_t n;
	int r;

	if (ev & EPOLLOUT) {
		r = out_flush(fd, c);
		if (r < 0) {
			close_conn(fd);
			return;
		}
		if (r == 0)
			return;
		set_events(fd, EPOLLIN);
		return;
	}
	n = recv(fd, iobuf, sizeof(iobuf), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn(fd);
		return;
	}
	if (n < 0)
		return;
	if (out_append(c, iobuf, n) < 0) {
		close_conn(fd);
		return;
	}
	r = out_flush(fd, c);
	if (r < 0)
		close_conn(fd);
	else if (r == 0)
		set_events(fd, EPOLLOUT); /* stop reading until drained */
}

static void source_event(int fd, unsigned int ev)
{
	struct conn *c = &conns[fd];
	int i;

	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(fd, iobuf, sizeof(iobuf), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close_conn(fd);
			return;
		}
		if (n > 0 && !c->sending) {
			c->sending = 1;
			set_events(fd, EPOLLIN | EPOLLOUT);
		}
	}
	if (!c->sending || !(ev & EPOLLOUT))
		return;
	/* a few writes per wakeup keep the connections fair to each other */
	for (i = 0; i < 4; i++) {
		ssize_t n = send(fd, iobuf, source_chunk, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			close_conn(fd);
			return;
		}
	}
}

/* The sink: bytes in, dropped, until the client closes. */
static void sink_event(int fd)
{
	int i;

	for (i = 0; i < 8; i++) {
		ssize_t n = recv(fd, iobuf, source_chunk, 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close_conn(fd);
			return;
		}
		if (n < 0)
			return;
	}
}

/* Case-insensitive search for a header token in a request head. */
static int head_has(const char *head, size_t len, const char *name, const char *token)
{
	size_t nl = strlen(name), tl = strlen(token);
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *v;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			for (v = p + nl + 1; v + tl <= eol; v++)
				if (strncasecmp(v, token, tl) == 0)
					return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static long head_content_length(const char *head, size_t len)
{
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);

		if (!eol)
			eol = end;
		if (eol - p > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
			return strtol(p + 15, NULL, 10);
		p = eol + 1;
	}
	return 0;
}

/* True when the request line ends in HTTP/1.0 (default: close). */
static int request_is_http10(const char *head, size_t len)
{
	const char *eol = memchr(head, '\r', len);

	return eol && eol - head >= 8 && memcmp(eol - 8, "HTTP/1.0", 8) == 0;
}

/* Parse every complete request in c->in and queue one response each. */
static int http_process(struct conn *c)
{
	size_t off = 0;

	while (off < c->in_len) {
		char *h = c->in + off, *e;
		size_t avail = c->in_len - off, hl;
		int keep;

		if (c->skip) {
			size_t k = c->skip < avail ? c->skip : avail;

			c->skip -= k;
			off += k;
			continue;
		}
		e = memmem(h, avail, "\r\n\r\n", 4);
		if (!e)
			break;
		hl = e - h + 4;
		if (head_has(h, hl, "Transfer-Encoding", "chunked"))
			return -1; /* GET-only origin */
		if (request_is_http10(h, hl))
			keep = head_has(h, hl, "Connection", "keep-alive");
		else
			keep = !head_has(h, hl, "Connection", "close");
		c->skip = head_content_length(h, hl);
		off += hl;
		stat_http++;
		if (keep) {
			if (out_append(c, resp_ka, resp_ka_len) < 0)
				return -1;
		} else {
			if (out_append(c, resp_close, resp_close_len) < 0)
				return -1;
			c->close_after = 1;
			off = c->in_len; /* ignore anything after */
			break;
		}
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->in_len >= HTTP_IN_MAX)
		return -1;
	return 0;
}

static void http_event(int fd, unsigned int ev)
{
	struct conn *c = &conns[fd];
	int r;

	if (ev & EPOLLOUT) {
		r = out_flush(fd, c);
		if (r < 0 || (r == 1 && c->close_after)) {
			close_conn(fd);
			return;
		}
		if (r == 1)
			set_events(fd, EPOLLIN);
		return;
	}
	if (!c->in) {
		c->in = malloc(HTTP_IN_MAX);
		if (!c->in) {
			close_conn(fd);
			return;
		}
	}
	for (;;) {
		ssize_t n = recv(fd, c->in + c->in_len, HTTP_IN_MAX - c->in_len, 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close_conn(fd);
			return;
		}
		if (n < 0)
			break;
		c->in_len += n;
		if (http_process(c) < 0) {
			close_conn(fd);
			return;
		}
		if (c->close_after || c->in_len < HTTP_IN_MAX)
			break;
	}
	r = out_flush(fd, c);
	if (r < 0 || (r == 1 && c->close_after)) {
		close_conn(fd);
		return;
	}
	if (r == 0)
		set_events(fd, EPOLLOUT);
}

/* ---- bare CONNECT relay: the least a proxy can do ---- */

static void relay_head(int fd)
{
	struct conn *c = &conns[fd];
	struct sockaddr_storage ss;
	char host[64], *e, *colon;
	socklen_t sl;
	ssize_t n;
	int up, port, one = 1;

	if (!c->in && !(c->in = malloc(HTTP_IN_MAX))) {
		close_conn(fd);
		return;
	}
	n = recv(fd, c->in + c->in_len, HTTP_IN_MAX - 1 - c->in_len, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn(fd);
		return;
	}
	if (n < 0)
		return;
	c->in_len += n;
	c->in[c->in_len] = '\0';
	e = strstr(c->in, "\r\n\r\n");
	if (!e) {
		if (c->in_len >= HTTP_IN_MAX - 1)
			close_conn(fd);
		return;
	}
	/* "CONNECT 127.0.0.1:PORT" or "CONNECT [::1]:PORT", literals only */
	if (strncmp(c->in, "CONNECT ", 8) != 0 || sscanf(c->in + 8, "%63s", host) != 1 ||
	    !(colon = strrchr(host, ':'))) {
		close_conn(fd);
		return;
	}
	*colon = '\0';
	port = atoi(colon + 1);
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
		n = inet_pton(AF_INET6, host + 1, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
		n = inet_pton(AF_INET, host, &s4->sin_addr);
	}
	if (n != 1 || (size_t)(e + 4 - c->in) != c->in_len) {
		close_conn(fd); /* bad target, or bytes before our 200 */
		return;
	}
	up = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up < 0 || (size_t)up >= nconns) {
		if (up >= 0)
			close(up);
		close_conn(fd);
		return;
	}
	setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(up, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		close(up);
		close_conn(fd);
		return;
	}
	add_fd(up, C_RUP, EPOLLOUT);
	stat_open++;
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	c->peer = up;
	conns[up].peer = fd;
	set_events(fd, 0); /* quiet until the upstream answers */
}

static void relay_up_ready(int up, unsigned int ev)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int fd = conns[up].peer, err = 0;
	socklen_t el = sizeof(err);

	if (ev & (EPOLLERR | EPOLLHUP))
		getsockopt(up, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err || fd < 0 || send(fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) != sizeof(ok) - 1) {
		close_conn(up);
		return;
	}
	conns[up].role = C_RELAY;
	conns[fd].role = C_RELAY;
	set_events(up, EPOLLIN);
	set_events(fd, EPOLLIN);
}

/* Copy from fd to its peer; park fd while the peer has a backlog. */
static void relay_event(int fd, unsigned int ev)
{
	struct conn *c = &conns[fd];
	int peer = c->peer, r;
	ssize_t n;

	if (peer < 0) {
		close_conn(fd);
		return;
	}
	if (ev & EPOLLOUT) {
		r = out_flush(fd, c);
		if (r < 0) {
			close_conn(fd);
			return;
		}
		if (r == 0)
			return;
		set_events(fd, EPOLLIN);
		set_events(peer, EPOLLIN); /* resume the other side */
		return;
	}
	n = recv(fd, relaybuf, sizeof(relaybuf), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn(fd);
		return;
	}
	if (n < 0)
		return;
	if (out_append(&conns[peer], relaybuf, n) < 0) {
		close_conn(fd);
		return;
	}
	r = out_flush(peer, &conns[peer]);
	if (r < 0) {
		close_conn(fd);
	} else if (r == 0) {
		set_events(peer, EPOLLOUT);
		set_events(fd, 0);
	}
}

static void build_responses(void)
{
	char body[BODY_LEN + 1];
	int i;

	for (i = 0; i < BODY_LEN - 1; i++)
		body[i] = 'a' + i % 26;
	body[BODY_LEN - 1] = '\n';
	body[BODY_LEN] = '\0';
	resp_ka_len = snprintf(resp_ka, sizeof(resp_ka),
	                       "HTTP/1.1 200 OK\r\n"
	                       "Content-Type: text/plain\r\n"
	                       "Content-Length: %d\r\n"
	                       "\r\n%s",
	                       BODY_LEN, body);
	resp_close_len = snprintf(resp_close, sizeof(resp_close),
	                          "HTTP/1.1 200 OK\r\n"
	                          "Content-Type: text/plain\r\n"
	                          "Content-Length: %d\r\n"
	                          "Connection: close\r\n"
	                          "\r\n%s",
	                          BODY_LEN, body);
}

static void usage(void)
{
	fprintf(stderr, "usage: echod [-a ADDR] [-e ECHOPORT] [-s SOURCEPORT] [-k SINKPORT] "
	                "[-H HTTPPORT] [-R RELAYPORT] [-z BYTES] [-t LIFETIME_S]\n"
	                "  at least one port; ADDR defaults to 127.0.0.1; "
	                "lifetime defaults to 3600 s\n"
	                "  -z: bytes per write of the source and per read of the sink "
	                "(default and at most 262144)\n"
	                "  -R: a bare CONNECT relay (IP literals only), the ceiling "
	                "for proxies\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int eport = 0, sport = 0, hport = 0, rport = 0, kport = 0, opt;
	long lifetime = 3600;
	struct epoll_event evs[256];
	struct sigaction sa;
	time_t deadline;

	while ((opt = getopt(argc, argv, "a:e:s:k:H:R:t:z:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'e':
			eport = atoi(optarg);
			break;
		case 's':
			sport = atoi(optarg);
			break;
		case 'H':
			hport = atoi(optarg);
			break;
		case 'R':
			rport = atoi(optarg);
			break;
		case 'k':
			kport = atoi(optarg);
			break;
		case 'z':
			source_chunk = (size_t)atol(optarg);
			if (source_chunk == 0 || source_chunk > IO_CHUNK)
				usage();
			break;
		case 't':
			lifetime = atol(optarg);
			break;
		default:
			usage();
		}
	}
	if (!eport && !sport && !hport && !rport && !kport)
		usage();
	if (lifetime <= 0)
		lifetime = 3600;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	build_responses();
	memset(iobuf, 'x', sizeof(iobuf));

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	if (eport)
		add_fd(listen_on(addr, eport), L_ECHO, EPOLLIN);
	if (sport)
		add_fd(listen_on(addr, sport), L_SOURCE, EPOLLIN);
	if (hport)
		add_fd(listen_on(addr, hport), L_HTTP, EPOLLIN);
	if (rport)
		add_fd(listen_on(addr, rport), L_RELAY, EPOLLIN);
	if (kport)
		add_fd(listen_on(addr, kport), L_SINK, EPOLLIN);

	deadline = time(NULL) + lifetime;
	while (!stop && time(NULL) < deadline) {
		int n = epoll_wait(epfd, evs, 256, 500), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			unsigned int ev = evs[i].events;

			switch (conns[fd].role) {
			case L_ECHO:
				do_accept(fd, C_ECHO);
				break;
			case L_SOURCE:
				do_accept(fd, C_SOURCE);
				break;
			case L_HTTP:
				do_accept(fd, C_HTTP);
				break;
			case L_RELAY:
				do_accept(fd, C_RHEAD);
				break;
			case L_SINK:
				do_accept(fd, C_SINK);
				break;
			case C_SINK:
				sink_event(fd);
				break;
			case C_ECHO:
				echo_event(fd, ev);
				break;
			case C_SOURCE:
				source_event(fd, ev);
				break;
			case C_HTTP:
				http_event(fd, ev);
				break;
			case C_RHEAD:
				relay_head(fd);
				break;
			case C_RUP:
				relay_up_ready(fd, ev);
				break;
			case C_RELAY:
				relay_event(fd, ev);
				break;
			default:
				break;
			}
		}
	}
	fprintf(stderr,
	        "echod: exiting: %llu accepts, peak %d open, "
	        "%llu http requests\n",
	        stat_accepts, stat_peak, stat_http);
	return 0;
}
