/*
 * tlsd.c - the TLS origin of the pinhole benchmark's tls suite: one epoll
 * loop on one loopback port that completes a TLS handshake with a fixed
 * certificate, reads one HTTP/1.1 request head, answers a 64-byte 200 with
 * Connection: close and closes. Loadgen's tls mode is its client, directly
 * or through a proxy. Exits after -t seconds or on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define REQ_MAX 8192
#define BODY_LEN 64

enum state { T_FREE, T_HANDSHAKE, T_READ, T_WRITE };

struct tconn {
	SSL *ssl;
	unsigned char state;
	unsigned int events;
	size_t in_len;
	size_t out_off;
	char *in;
};

static struct tconn *tc;
static size_t ntc;
static int epfd;
static volatile sig_atomic_t stop;
static char resp[256];
static size_t resp_len;
static unsigned long long stat_accepts, stat_done, stat_failed;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "tlsd: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void die_ssl(const char *what)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	fprintf(stderr, "tlsd: %s: %s\n", what, buf);
	exit(2);
}

static void set_events(int fd, unsigned int ev)
{
	struct epoll_event e;

	if (tc[fd].events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e) < 0)
		die("epoll_ctl mod");
	tc[fd].events = ev;
}

static void t_close(int fd, int ok)
{
	struct tconn *c = &tc[fd];

	if (c->ssl) {
		/* close_notify without waiting for the peer's: the response
		 * said Connection: close, nothing more is read */
		if (ok)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	free(c->in);
	memset(c, 0, sizeof(*c));
	close(fd);
	if (ok)
		stat_done++;
	else
		stat_failed++;
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tlsd: bad address %s (IPv4 only)\n", addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tlsd: bind %s:%d: %s\n", addr, port, strerror(errno));
		exit(2);
	}
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void do_accept(int lfd, SSL_CTX *ctx)
{
	int i;

	for (i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		int one = 1;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				fprintf(stderr, "tlsd: accept: %s\n", strerror(errno));
				return;
			}
			die("accept");
		}
		if ((size_t)fd >= ntc) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(&tc[fd], 0, sizeof(tc[fd]));
		tc[fd].ssl = SSL_new(ctx);
		if (!tc[fd].ssl || !SSL_set_fd(tc[fd].ssl, fd)) {
			t_close(fd, 0);
			continue;
		}
		SSL_set_accept_state(tc[fd].ssl);
		tc[fd].state = T_HANDSHAKE;
		tc[fd].events = EPOLLIN;
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0)
			die("epoll_ctl add");
		stat_accepts++;
	}
}

/* Park fd until OpenSSL can go on; 0, or -1 when the call failed. */
static int ssl_wait(int fd, int r)
{
	switch (SSL_get_error(tc[fd].ssl, r)) {
	case SSL_ERROR_WANT_READ:
		set_events(fd, EPOLLIN);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		set_events(fd, EPOLLOUT);
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

static void t_event(int fd)
{
	struct tconn *c = &tc[fd];
	int r;

	for (;;) {
		switch (c->state) {
		case T_HANDSHAKE:
			r = SSL_do_handshake(c->ssl);
			if (r != 1) {
				if (ssl_wait(fd, r) < 0)
					t_close(fd, 0);
				return;
			}
			c->in = malloc(REQ_MAX);
			if (!c->in) {
				t_close(fd, 0);
				return;
			}
			c->state = T_READ;
			break;
		case T_READ:
			r = SSL_read(c->ssl, c->in + c->in_len, REQ_MAX - 1 - c->in_len);
			if (r <= 0) {
				if (ssl_wait(fd, r) < 0)
					t_close(fd, 0);
				return;
			}
			c->in_len += r;
			c->in[c->in_len] = '\0';
			if (!strstr(c->in, "\r\n\r\n")) {
				if (c->in_len >= REQ_MAX - 1)
					t_close(fd, 0);
				break;
			}
			c->state = T_WRITE;
			c->out_off = 0;
			break;
		case T_WRITE:
			r = SSL_write(c->ssl, resp + c->out_off, (int)(resp_len - c->out_off));
			if (r <= 0) {
				if (ssl_wait(fd, r) < 0)
					t_close(fd, 0);
				return;
			}
			c->out_off += r;
			if (c->out_off < resp_len)
				break;
			t_close(fd, 1);
			return;
		default:
			return;
		}
	}
}

static SSL_CTX *make_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		die_ssl(cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die_ssl(key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		die_ssl("certificate and key do not match");
	/* every handshake a full one: no tickets, no session cache, so the
	 * origin's cost is the same whoever connects */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

static void usage(void)
{
	fprintf(stderr, "usage: tlsd -p PORT -c CERT.pem -k KEY.pem [-a ADDR] [-t LIFETIME_S]\n"
	                "  a TLS origin: handshake, one request, a 64-byte 200, close\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *cert = NULL, *key = NULL;
	struct epoll_event evs[256], e;
	long lifetime = 3600;
	struct sigaction sa;
	struct rlimit rl;
	time_t deadline;
	char body[BODY_LEN + 1];
	SSL_CTX *ctx;
	int port = 0, opt, lfd, i;

	while ((opt = getopt(argc, argv, "a:p:c:k:t:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 't':
			lifetime = atol(optarg);
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || !cert || !key)
		usage();
	if (lifetime <= 0)
		lifetime = 3600;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	ntc = rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur;
	tc = calloc(ntc, sizeof(*tc));
	if (!tc)
		die("calloc");
	for (i = 0; i < BODY_LEN - 1; i++)
		body[i] = 'a' + i % 26;
	body[BODY_LEN - 1] = '\n';
	body[BODY_LEN] = '\0';
	resp_len = snprintf(resp, sizeof(resp),
	                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	                    "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
	                    BODY_LEN, body);
	ctx = make_ctx(cert, key);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	lfd = listen_on(addr, port);
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.fd = lfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e) < 0)
		die("epoll_ctl add");

	deadline = time(NULL) + lifetime;
	while (!stop && time(NULL) < deadline) {
		int n = epoll_wait(epfd, evs, 256, 500);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd)
				do_accept(lfd, ctx);
			else if (tc[fd].state != T_FREE)
				t_event(fd);
		}
	}
	fprintf(stderr, "tlsd: exiting: %llu accepts, %llu answered, %llu failed\n", stat_accepts, stat_done,
	        stat_failed);
	SSL_CTX_free(ctx);
	return 0;
}
