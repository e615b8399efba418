/*
 * loadgen.c - the client side of the pinhole benchmark: a single-threaded
 * epoll load generator for CONNECT tunnel setup rate, bulk tunnel
 * throughput (either way), idle-tunnel memory (reads the proxy's RSS) and
 * plain-HTTP keep-alive rate, with the CPU time each side spent per cycle,
 * request or MB, plus helpers for run.sh (ports, CPU load, reload time,
 * memory). Loopback only.
 * Built with authgen.c (-DBENCH_AUTH), tunnels and handshakes also carry
 * Basic, NTLM or Negotiate credentials (-A); built with tlsgen.c
 * (-DBENCH_TLS), the tls mode makes TLS handshakes through a tunnel.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_AUTH
#include "authgen.h"
#else
/* Built alone (the core suite): no credentials, -A is refused. */
static int authgen_init(const char *spec, char *err, size_t cap)
{
	(void)spec;
	snprintf(err, cap, "built without authgen.c (cc -DBENCH_AUTH loadgen.c authgen.c ...)");
	return -1;
}
static int authgen_static(void)
{
	return 0;
}
static const char *authgen_scheme(void)
{
	return "";
}
static long authgen_first(char *out, size_t cap)
{
	(void)out;
	(void)cap;
	return -1;
}
static long authgen_answer(const char *challenge, char *out, size_t cap)
{
	(void)challenge;
	(void)out;
	(void)cap;
	return -1;
}
static const char *authgen_error(void)
{
	return "built without authgen.c";
}
#endif

#ifdef BENCH_TLS
#include "tlsgen.h"
#else
/* Built without tlsgen.c: the tls mode is refused. */
#define TG_WANT_READ (-1)
#define TG_WANT_WRITE (-2)
#define TG_EOF (-3)
#define TG_ERROR (-4)
static int tlsgen_init(const char *cafile, char *err, size_t cap)
{
	(void)cafile;
	snprintf(err, cap, "built without tlsgen.c (cc -DBENCH_TLS loadgen.c tlsgen.c -lssl -lcrypto)");
	return -1;
}
static void *tlsgen_new(int fd, const char *sni)
{
	(void)fd;
	(void)sni;
	return NULL;
}
static int tlsgen_handshake(void *t)
{
	(void)t;
	return TG_ERROR;
}
static long tlsgen_write(void *t, const void *p, size_t n)
{
	(void)t;
	(void)p;
	(void)n;
	return TG_ERROR;
}
static long tlsgen_read(void *t, void *p, size_t n)
{
	(void)t;
	(void)p;
	(void)n;
	return TG_ERROR;
}
static void tlsgen_free(void *t, int clean)
{
	(void)t;
	(void)clean;
}
static const char *tlsgen_error(void)
{
	return "built without tlsgen.c";
}
#endif

#define HEAD_MAX 4096
#define RX_CHUNK (256 * 1024)
#define MAX_PAYLOAD 4096
#define MAX_CHECKPOINTS 8
#define MAX_ERRORS 20000
/* A request with a Kerberos ticket in base64 (a few KiB with a PAC). */
#define RQ_MAX 16384
#define OPTS "a:p:t:c:d:w:n:s:o:b:k:r:S:x:m:A:N:C:u:KH:B:UT:"
#define MAX_SOURCES 16384
#define NAME_MAX_LEN 200
#define MAX_PATHS 8

enum mode { M_TUNNEL, M_BULK, M_IDLE, M_HTTP, M_TLS, M_QUIET };

enum state {
	S_FREE,
	S_CONNECTING,
	S_SEND_REQ,  /* CONNECT or GET request */
	S_READ_HEAD, /* CONNECT response head */
	S_SEND_DATA, /* echo payload */
	S_READ_DATA, /* echoed payload */
	S_READY,     /* bulk: tunnel up, waiting for the others */
	S_STREAM,    /* bulk: counting bytes */
	S_UPLOAD,    /* bulk -U: sending bytes */
	S_IDLE,      /* idle: established, held open */
	S_READ_RESP, /* http: response head and body */
	S_READ_BODY, /* auth: body of a 407 before the next leg */
	S_TLS_HS,    /* tls: handshake */
	S_TLS_SEND,  /* tls: GET request */
	S_TLS_RESP,  /* tls: response head and body */
};

enum err_kind {
	E_CONNECT, /* connect() failed or refused */
	E_STATUS,  /* CONNECT/GET answered with non-200 */
	E_PROTO,   /* malformed or unexpected bytes */
	E_EOF,     /* peer closed early */
	E_IO,      /* send/recv error */
	E_TIMEOUT, /* operation exceeded -o */
	E_DATA,    /* echo payload mismatch */
	E_AUTH,    /* no credentials could be built (token, challenge) */
	E_TLS,     /* TLS handshake or certificate verification failed */
	E_KINDS,
};

static const char *const err_names[E_KINDS] = {
	"connect", "status", "proto", "eof", "io", "timeout", "data", "auth", "tls",
};

enum body_mode { B_NONE, B_LENGTH, B_CHUNKED, B_EOF };
enum chunk_state { CH_SIZE, CH_EXT, CH_DATA, CH_CRLF, CH_TRAILER };

struct cl {
	int fd;
	unsigned char state;
	unsigned char head_done;
	unsigned char keep;
	unsigned char body;
	unsigned char chunk;
	unsigned char got_any; /* http: bytes of this response seen */
	unsigned char legs;    /* auth: 407s answered on this connection */
	unsigned char pidx;    /* http: which of the -u paths this request asks */
	unsigned int events;
	unsigned int nreq;     /* http: requests done on this connection */
	unsigned int line_len; /* chunked trailer: current line length */
	uint64_t t0;           /* start of cycle / request, ns */
	uint64_t tdead;        /* operation deadline, ns */
	size_t off;
	size_t hlen;
	long long remain;
	char *rq; /* auth, tls: this connection's request, or NULL: req */
	size_t rq_len;
	void *tls;                    /* tls: the session, or NULL */
	char name[NAME_MAX_LEN + 16]; /* tls: this connection's server name */
	char head[HEAD_MAX];
};

struct cfg {
	enum mode mode;
	const char *addr;
	int proxy_port; /* 0 = direct */
	int target_port;
	int conc;
	double duration;
	double warmup;
	double settle;
	long long max_cycles;
	int payload;
	int timeout_ms;
	int nsrc;
	int root_pid; /* proxy: RSS (idle) and not background */
	int nexclude;
	int exclude[8]; /* more of our processes (the origin) */
	int ncheck;
	int checks[MAX_CHECKPOINTS];
	const char *auth; /* -A spec, or NULL */
	int handshake;    /* tunnel mode without the echo: 200, then close */
	const char *name; /* tls: server name, "%u" = a new one per connection */
	const char *cafile;
	int close_each;     /* http: Connection: close on every request */
	const char *target; /* -H: the name CONNECT and GET ask for (default: the address) */
	size_t io_size;     /* -B: bulk bytes per read or write */
	int upload;         /* -U: bulk from the client to the origin's sink */
	const char *hello;  /* -T: the echoed payload is a TLS ClientHello naming this */
};

static struct cfg cfg;
static struct cl *cls;
static int ncls;
static int epfd;
static struct sockaddr_storage dst;
static socklen_t dst_len;
static char req[2048];
static size_t req_len;
static char hostport[96];
static int auth_per_conn; /* credentials differ per connection */
static int name_per_conn; /* tls: the -N pattern has a counter */
static unsigned long name_next;
static char preq[MAX_PATHS][600]; /* http: one request per -u path */
static size_t preq_len[MAX_PATHS];
static int npaths;
static char payload[MAX_PAYLOAD];
static char rxbuf[RX_CHUNK];
static char txbuf[RX_CHUNK];
static unsigned int src_next;

/* results */
static uint64_t t_measure; /* start of the counted window */
static uint64_t t_end;
static long long started;
static long long ok;
static long long retries;
static long long reconnects;
static long long dropped;
static long long errs[E_KINDS];
static long long errs_total;
static unsigned long long bytes;
static uint32_t *lat;
static size_t lat_len;
static size_t lat_cap;
static int running;
static int live;   /* connections currently open */
static int n_idle; /* idle mode: tunnels established */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fatal(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int parse_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
	}
}

/*
 * A TLS 1.3 ClientHello naming sni (server_name, ALPN http/1.1,
 * supported_versions), as the tunnel's payload: the echo origin sends it
 * back, but on the way a proxy that looks at a tunnel's first bytes sees
 * TLS and decides what to do with it.  No handshake follows.  Its length.
 */
static int build_hello(const char *sni, char *out, size_t cap)
{
	static const unsigned char alpn[] = { 0x00, 0x10, 0x00, 0x0b, 0x00, 0x09, 0x08, 'h',
		                              't',  't',  'p',  '/',  '1',  '.',  '1' };
	static const unsigned char versions[] = { 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04 };
	unsigned char *b = (unsigned char *)out;
	size_t nl = strlen(sni), ext = 9 + nl + sizeof(alpn) + sizeof(versions);
	size_t body = 2 + 32 + 1 + 4 + 2 + 2 + ext, n = 0;

	if (nl == 0 || nl > 200 || 5 + 4 + body > cap)
		return -1;
	b[n++] = 0x16; /* handshake record, TLS 1.0 on the record layer */
	b[n++] = 0x03;
	b[n++] = 0x01;
	b[n++] = (unsigned char)((4 + body) >> 8);
	b[n++] = (unsigned char)(4 + body);
	b[n++] = 0x01; /* ClientHello */
	b[n++] = 0;
	b[n++] = (unsigned char)(body >> 8);
	b[n++] = (unsigned char)body;
	b[n++] = 0x03;
	b[n++] = 0x03;
	for (int i = 0; i < 32; i++)
		b[n++] = (unsigned char)(i * 37 + 11); /* random */
	b[n++] = 0;                                    /* no session id */
	b[n++] = 0;
	b[n++] = 2;
	b[n++] = 0x13; /* TLS_AES_128_GCM_SHA256 */
	b[n++] = 0x01;
	b[n++] = 1; /* compression: null */
	b[n++] = 0;
	b[n++] = (unsigned char)(ext >> 8);
	b[n++] = (unsigned char)ext;
	b[n++] = 0; /* server_name */
	b[n++] = 0;
	b[n++] = (unsigned char)((5 + nl) >> 8);
	b[n++] = (unsigned char)(5 + nl);
	b[n++] = (unsigned char)((3 + nl) >> 8);
	b[n++] = (unsigned char)(3 + nl);
	b[n++] = 0; /* host_name */
	b[n++] = (unsigned char)(nl >> 8);
	b[n++] = (unsigned char)nl;
	memcpy(b + n, sni, nl);
	n += nl;
	memcpy(b + n, alpn, sizeof(alpn));
	n += sizeof(alpn);
	memcpy(b + n, versions, sizeof(versions));
	n += sizeof(versions);
	return (int)n;
}

/* ---- latency samples ---- */

static void lat_add(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (lat_len == lat_cap) {
		size_t cap = lat_cap ? lat_cap * 2 : 65536;
		uint32_t *n;

		if (cap > (size_t)cfg.max_cycles + 1)
			cap = cfg.max_cycles + 1;
		if (cap <= lat_cap)
			return;
		n = realloc(lat, cap * sizeof(*lat));
		if (!n)
			return;
		lat = n;
		lat_cap = cap;
	}
	lat[lat_len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t pct(double p)
{
	size_t i;

	if (!lat_len)
		return 0;
	i = (size_t)(p * (lat_len - 1) + 0.5);
	return lat[i];
}

/* ---- RSS of a process tree, from /proc ---- */

static long read_vmrss(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

struct proc {
	int pid;
	int ppid;
	int mark;
	unsigned long long ticks; /* utime + stime */
};

/* Read every process's parent and CPU ticks from /proc; returns count. */
static size_t proc_scan(struct proc **out)
{
	struct proc *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		*out = NULL;
		return 0;
	}
	while ((de = readdir(d))) {
		char path[64], buf[1024], *p;
		unsigned long long ut, st;
		int ppid;
		size_t r;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", atoi(de->d_name));
		f = fopen(path, "r");
		if (!f)
			continue;
		r = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[r] = '\0';
		p = strrchr(buf, ')'); /* comm may hold spaces, parens */
		if (!p || sscanf(p + 1,
		                 " %*c %d %*d %*d %*d %*d %*u %*u %*u "
		                 "%*u %*u %llu %llu",
		                 &ppid, &ut, &st) != 3)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				fatal("realloc");
		}
		v[n].pid = atoi(de->d_name);
		v[n].ppid = ppid;
		v[n].mark = 0;
		v[n].ticks = ut + st;
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

/* Mark root and all of its descendants. */
static void proc_mark_tree(struct proc *v, size_t n, int root)
{
	int changed;
	size_t i, j;

	for (i = 0; i < n; i++)
		if (v[i].pid == root)
			v[i].mark = 1;
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			if (v[i].mark)
				continue;
			for (j = 0; j < n; j++) {
				if (v[j].mark && v[j].pid == v[i].ppid) {
					v[i].mark = 1;
					changed = 1;
					break;
				}
			}
		}
	} while (changed);
}

/* Sum VmRSS (KiB) over root and all its descendants; -1 if root is gone. */
static long tree_rss(int root)
{
	struct proc *v;
	size_t n, i;
	long total, r;

	total = read_vmrss(root);
	if (total < 0)
		return -1;
	n = proc_scan(&v);
	proc_mark_tree(v, n, root);
	for (i = 0; i < n; i++) {
		if (v[i].mark && v[i].pid != root) {
			r = read_vmrss(v[i].pid);
			if (r > 0)
				total += r;
		}
	}
	free(v);
	return total;
}

/*
 * Background load: CPU time used on the machine by anything that is not
 * part of the benchmark (us, the proxy tree, -x pids, kernel threads),
 * i.e. user+system time from /proc/stat minus our processes' time. This
 * also catches short-lived processes (compilers, test runs). A busy
 * machine makes every number here unreliable.
 */
static unsigned long long bg_busy0;
static unsigned long long bg_ticks0[3];
static uint64_t bg_t0;
static double cpu_proxy;   /* CPUs used by the proxy tree */
static double cpu_client;  /* CPUs used by us and the -x processes */
static double cpu_proxy_s; /* the same in CPU seconds over the window */
static double cpu_client_s;
static unsigned long long cpun_busy0[2], cpun_all0[2];
static double cpun_busy[2]; /* CPU 0 and 1: busy fraction, incl. irq */

/* Busy (not idle/iowait) and total ticks of CPU 0 and CPU 1. */
static void cpun_ticks(unsigned long long busy[2], unsigned long long all[2])
{
	char line[512];
	FILE *f = fopen("/proc/stat", "r");

	busy[0] = busy[1] = all[0] = all[1] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		int cpu, i;

		if (sscanf(line,
		           "cpu%d %llu %llu %llu %llu %llu %llu %llu "
		           "%llu",
		           &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9 ||
		    cpu < 0 || cpu > 1)
			continue;
		for (i = 0; i < 8; i++)
			all[cpu] += v[i];
		busy[cpu] = all[cpu] - v[3] - v[4];
	}
	fclose(f);
}

static unsigned long long cpu_busy_ticks(void)
{
	unsigned long long u = 0, ni = 0, sy = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu", &u, &ni, &sy) != 3)
		u = ni = sy = 0;
	fclose(f);
	return u + ni + sy;
}

/* CPU ticks of [0] the proxy tree, [1] us and -x pids, [2] kthreads. */
static void our_ticks(unsigned long long t[3])
{
	struct proc *v;
	size_t n, i;
	int k, g;

	t[0] = t[1] = t[2] = 0;
	n = proc_scan(&v);
	for (g = 0; g < 3; g++) {
		for (i = 0; i < n; i++)
			v[i].mark = 0;
		if (g == 0 && cfg.root_pid > 0)
			proc_mark_tree(v, n, cfg.root_pid);
		if (g == 1) {
			proc_mark_tree(v, n, getpid());
			for (k = 0; k < cfg.nexclude; k++)
				proc_mark_tree(v, n, cfg.exclude[k]);
		}
		if (g == 2)
			proc_mark_tree(v, n, 2); /* kthreadd */
		for (i = 0; i < n; i++)
			if (v[i].mark)
				t[g] += v[i].ticks;
	}
	free(v);
}

static void bg_start(void)
{
	cpun_ticks(cpun_busy0, cpun_all0);
	bg_busy0 = cpu_busy_ticks();
	our_ticks(bg_ticks0);
	bg_t0 = now_ns();
}

/*
 * CPUs' worth of foreign load since bg_start(), e.g. 0.50 = half a CPU;
 * also sets cpu_proxy and cpu_client for the same window.
 */
static double bg_load(void)
{
	unsigned long long busy = cpu_busy_ticks() - bg_busy0, t[3], ours;
	unsigned long long nb[2], na[2];
	double secs = (now_ns() - bg_t0) / 1e9;
	long hz = sysconf(_SC_CLK_TCK);
	int i;

	our_ticks(t);
	cpun_ticks(nb, na);
	for (i = 0; i < 2; i++)
		cpun_busy[i] = na[i] > cpun_all0[i] ? (double)(nb[i] - cpun_busy0[i]) / (na[i] - cpun_all0[i]) : 0;
	if (secs <= 0 || hz <= 0)
		return 0;
	cpu_proxy_s = (double)(t[0] - bg_ticks0[0]) / hz;
	cpu_client_s = (double)(t[1] - bg_ticks0[1]) / hz;
	cpu_proxy = cpu_proxy_s / secs;
	cpu_client = cpu_client_s / secs;
	ours = t[0] + t[1] + t[2] - bg_ticks0[0] - bg_ticks0[1] - bg_ticks0[2];
	if (busy <= ours)
		return 0;
	return (double)(busy - ours) / hz / secs;
}

/* ---- connection plumbing ---- */

static void want(struct cl *c, unsigned int ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.u32 = (uint32_t)(c - cls);
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		fatal("epoll_ctl mod");
	c->events = ev;
}

static void cl_close(struct cl *c)
{
	if (c->tls) {
		tlsgen_free(c->tls, 0);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd); /* also drops it from the epoll set */
		live--;
	}
	c->fd = -1;
	c->state = S_FREE;
	c->events = 0;
}

/* Start a TCP connection for slot c; returns 0 or -1 (error counted). */
static int cl_open(struct cl *c)
{
	struct epoll_event e;
	int fd, one = 1, r;

	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			errs[E_CONNECT]++;
			errs_total++;
			return -1;
		}
		fatal("socket");
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cfg.nsrc > 1 && dst.ss_family == AF_INET) {
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000001u + src_next++ % (unsigned)cfg.nsrc);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			fatal("bind source address");
	}
	c->fd = fd;
	live++;
	c->events = EPOLLOUT;
	c->state = S_CONNECTING;
	c->off = c->hlen = 0;
	c->head_done = 0;
	c->nreq = 0;
	c->got_any = 0;
	c->legs = 0;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLOUT;
	e.data.u32 = (uint32_t)(c - cls);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		fatal("epoll_ctl add");
	r = connect(fd, (struct sockaddr *)&dst, dst_len);
	if (r < 0 && errno != EINPROGRESS) {
		errs[errno == EADDRNOTAVAIL ? E_IO : E_CONNECT]++;
		errs_total++;
		cl_close(c);
		return -1;
	}
	return 0;
}

static void fail(struct cl *c, enum err_kind k)
{
	errs[k]++;
	errs_total++;
	if (errs_total <= 5)
		fprintf(stderr, "loadgen: error: %s (state %d)\n", err_names[k], c->state);
	cl_close(c);
}

/* Begin a new cycle (tunnel/idle) or connection (http) in slot c. */
static void cycle_start(struct cl *c)
{
	if (started >= cfg.max_cycles || errs_total >= MAX_ERRORS) {
		running = 0;
		return;
	}
	started++;
	c->t0 = now_ns();
	c->tdead = c->t0 + (uint64_t)cfg.timeout_ms * 1000000ull;
	if (cfg.mode == M_TLS) {
		/* a name of its own per connection: each is a first visit */
		if (name_per_conn)
			snprintf(c->name, sizeof(c->name), cfg.name, (unsigned int)name_next++);
		else
			snprintf(c->name, sizeof(c->name), "%s", cfg.name);
	}
	cl_open(c);
}

/* Find the end of a response head; returns its length or 0. */
static size_t head_end(const char *h, size_t len)
{
	const char *e = memmem(h, len, "\r\n\r\n", 4);

	return e ? (size_t)(e - h) + 4 : 0;
}

static int head_status(const char *h, size_t len)
{
	if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
		return -1;
	if (!isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) || !isdigit((unsigned char)h[11]))
		return -1;
	return (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
}

/* Value of header name in head (NUL-terminated copy), or NULL. */
static const char *head_value(const char *h, size_t len, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *p = memchr(h, '\n', len), *end = h + len;

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *v;
		size_t vl;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			vl = eol - v;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= outsz)
				vl = outsz - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		p = eol;
	}
	return NULL;
}

static int has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	for (; v && *v; v++)
		if (strncasecmp(v, tok, tl) == 0)
			return 1;
	return 0;
}

/* ---- tunnel / idle / bulk state machine ---- */

static void tunnel_done(struct cl *c)
{
	uint64_t t = now_ns();

	if (c->tls) {
		tlsgen_free(c->tls, 1);
		c->tls = NULL;
	}
	if (t >= t_measure) {
		ok++;
		lat_add(t - c->t0);
	}
	cl_close(c);
	if (running && t < t_end)
		cycle_start(c);
}

/* ---- proxy authentication (tunnel and handshake modes) ---- */

static int http_parse_head(struct cl *c, size_t hl);
static int http_body(struct cl *c, const char *p, size_t n, size_t *used);

/* Fail a connection for an auth reason, saying why for the first few. */
static void auth_fail(struct cl *c, enum err_kind k, const char *why)
{
	if (errs_total < 5)
		fprintf(stderr, "loadgen: %s: %s\n", authgen_scheme(), why);
	fail(c, k);
}

/* c's CONNECT with this connection's credentials: the first leg's when
 * challenge is NULL, else the answer to it.  0, or -1. */
static int auth_request(struct cl *c, const char *challenge)
{
	int n = snprintf(c->rq, RQ_MAX, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: ", hostport, hostport);
	long v = challenge ? authgen_answer(challenge, c->rq + n, RQ_MAX - n - 4)
	                   : authgen_first(c->rq + n, RQ_MAX - n - 4);

	if (v < 0)
		return -1;
	memcpy(c->rq + n + v, "\r\n\r\n", 4);
	c->rq_len = n + v + 4;
	c->off = 0;
	return 0;
}

/* The Proxy-Authenticate value for our scheme in a head (a proxy may
 * offer several schemes, one header each), as a string in out. */
static const char *auth_challenge(const char *h, size_t len, char *out, size_t outsz)
{
	static const char name[] = "Proxy-Authenticate:";
	const char *scheme = authgen_scheme(), *p = memchr(h, '\n', len), *end = h + len;
	size_t nl = sizeof(name) - 1, sl = strlen(scheme);

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', end - p), *v;
		size_t vl;

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0) {
			for (v = p + nl; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			vl = eol - v;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= sl && strncasecmp(v, scheme, sl) == 0 && (vl == sl || v[sl] == ' ') && vl < outsz) {
				memcpy(out, v, vl);
				out[vl] = '\0';
				return out;
			}
		}
		p = eol;
	}
	return NULL;
}

/*
 * A 407 to the first leg of a two-leg scheme (NTLM's Type 1): read its body
 * and answer its challenge on the same connection, as clients must.  0, or
 * -1 once the connection has failed.
 */
static int tun_challenge(struct cl *c, size_t hl)
{
	char chal[HEAD_MAX];
	size_t used;

	c->legs++;
	if (http_parse_head(c, hl) < 0) {
		fail(c, E_PROTO);
		return -1;
	}
	if (!c->keep) {
		auth_fail(c, E_PROTO, "the proxy closes the connection after its 407: no handshake possible");
		return -1;
	}
	if (!auth_challenge(c->head, hl, chal, sizeof(chal))) {
		auth_fail(c, E_STATUS, "a 407 without a challenge for this scheme");
		return -1;
	}
	if (auth_request(c, chal) < 0) {
		auth_fail(c, E_AUTH, authgen_error());
		return -1;
	}
	if (!http_body(c, c->head + hl, c->hlen - hl, &used)) {
		c->state = S_READ_BODY;
		return 0;
	}
	if (used != c->hlen - hl) {
		fail(c, E_PROTO); /* bytes past the 407's body */
		return -1;
	}
	c->state = S_SEND_REQ;
	return 0;
}

/* ---- tls mode: a TLS session and one GET inside the tunnel ---- */

static void tls_fail(struct cl *c, enum err_kind k)
{
	if (errs_total < 5)
		fprintf(stderr, "loadgen: tls %s: %s\n", c->name, tlsgen_error());
	fail(c, k);
}

/* The tunnel (or, direct, the TCP connection) is up: start the session.
 * 0, or -1 once the connection has failed. */
static int tls_begin(struct cl *c)
{
	int n;

	c->tls = tlsgen_new(c->fd, c->name);
	if (!c->tls) {
		tls_fail(c, E_TLS);
		return -1;
	}
	if (cfg.target_port == 443)
		n = snprintf(c->rq, RQ_MAX, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", c->name);
	else
		n = snprintf(c->rq, RQ_MAX, "GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", c->name,
		             cfg.target_port);
	c->rq_len = n;
	c->off = 0;
	c->state = S_TLS_HS;
	return 0;
}

/* A TLS call r that did not complete: wait for the socket (1), or fail
 * the connection (0). */
static int tls_wait(struct cl *c, long r)
{
	if (r == TG_WANT_READ) {
		want(c, EPOLLIN);
		return 1;
	}
	if (r == TG_WANT_WRITE) {
		want(c, EPOLLOUT);
		return 1;
	}
	tls_fail(c, r == TG_EOF ? E_EOF : E_TLS);
	return 0;
}

/* Handshake, GET, response (200, whole body), close; the cycle ends in
 * tunnel_done. */
static void tls_step(struct cl *c)
{
	long n;

	for (;;) {
		switch (c->state) {
		case S_TLS_HS:
			n = tlsgen_handshake(c->tls);
			if (n != 1) {
				tls_wait(c, n);
				return;
			}
			c->state = S_TLS_SEND;
			break;
		case S_TLS_SEND:
			n = tlsgen_write(c->tls, c->rq + c->off, c->rq_len - c->off);
			if (n < 0) {
				tls_wait(c, n);
				return;
			}
			c->off += n;
			if (c->off < c->rq_len)
				break;
			c->state = S_TLS_RESP;
			c->hlen = 0;
			c->head_done = 0;
			break;
		case S_TLS_RESP: {
			const char *p;
			size_t avail, used;

			if (!c->head_done)
				n = tlsgen_read(c->tls, c->head + c->hlen, sizeof(c->head) - 1 - c->hlen);
			else
				n = tlsgen_read(c->tls, rxbuf, sizeof(rxbuf));
			if (n == TG_EOF && c->head_done && c->body == B_EOF) {
				tunnel_done(c);
				return;
			}
			if (n < 0) {
				tls_wait(c, n);
				return;
			}
			if (!c->head_done) {
				size_t hl;
				int st;

				c->hlen += n;
				hl = head_end(c->head, c->hlen);
				if (!hl) {
					if (c->hlen >= sizeof(c->head) - 1)
						fail(c, E_PROTO);
					break;
				}
				st = http_parse_head(c, hl);
				if (st < 0) {
					fail(c, E_PROTO);
					return;
				}
				if (st != 200) {
					fail(c, E_STATUS);
					return;
				}
				c->head_done = 1;
				p = c->head + hl;
				avail = c->hlen - hl;
			} else {
				p = rxbuf;
				avail = n;
			}
			if (!http_body(c, p, avail, &used))
				break;
			if (used != avail) {
				fail(c, E_PROTO);
				return;
			}
			tunnel_done(c);
			return;
		}
		default:
			return;
		}
	}
}

/*
 * Advance a tunnel-style connection as far as it goes without blocking.
 * Used by the tunnel, bulk and idle modes, and by handshake mode, which
 * stops at the 200.
 */
static void tun_step(struct cl *c, unsigned int ev)
{
	ssize_t n;

	for (;;) {
		switch (c->state) {
		case S_CONNECTING:
			if (ev & (EPOLLERR | EPOLLHUP)) {
				fail(c, E_CONNECT);
				return;
			}
			if (!(ev & EPOLLOUT))
				return;
			c->off = 0;
			if (cfg.mode == M_TLS && cfg.proxy_port) {
				c->rq_len = snprintf(c->rq, RQ_MAX, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
				                     c->name, cfg.target_port, c->name, cfg.target_port);
				c->state = S_SEND_REQ;
			} else if (cfg.mode == M_TLS) {
				if (tls_begin(c) < 0)
					return;
				tls_step(c);
				return;
			} else if (cfg.proxy_port) {
				if (auth_per_conn && auth_request(c, NULL) < 0) {
					auth_fail(c, E_AUTH, authgen_error());
					return;
				}
				c->state = S_SEND_REQ;
			} else if (cfg.mode == M_BULK)
				c->state = S_READY;
			else
				c->state = S_SEND_DATA;
			break;
		case S_SEND_REQ: {
			const char *r = c->rq ? c->rq : req;
			size_t rl = c->rq ? c->rq_len : req_len;

			n = send(c->fd, r + c->off, rl - c->off, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN) {
					want(c, EPOLLOUT);
					return;
				}
				fail(c, E_IO);
				return;
			}
			c->off += n;
			if (c->off < rl)
				break;
			c->state = S_READ_HEAD;
			c->hlen = 0;
			want(c, EPOLLIN);
			return;
		}
		case S_READ_HEAD: {
			size_t hl;
			int st;

			n = recv(c->fd, c->head + c->hlen, sizeof(c->head) - 1 - c->hlen, 0);
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				fail(c, E_IO);
				return;
			}
			if (n == 0) {
				fail(c, E_EOF);
				return;
			}
			c->hlen += n;
			hl = head_end(c->head, c->hlen);
			if (!hl) {
				if (c->hlen >= sizeof(c->head) - 1)
					fail(c, E_PROTO);
				return;
			}
			st = head_status(c->head, hl);
			if (st == 407 && auth_per_conn && c->legs == 0) {
				if (tun_challenge(c, hl) < 0)
					return;
				break;
			}
			if (st != 200) {
				fail(c, st < 0 ? E_PROTO : E_STATUS);
				return;
			}
			if (c->hlen != hl) {
				/* nothing was sent, nothing may come back */
				fail(c, E_PROTO);
				return;
			}
			if (cfg.handshake) {
				tunnel_done(c);
				return;
			}
			if (cfg.mode == M_TLS) {
				if (tls_begin(c) < 0)
					return;
				tls_step(c);
				return;
			}
			c->off = 0;
			c->state = cfg.mode == M_BULK ? S_READY : S_SEND_DATA;
			break;
		}
		case S_READ_BODY: {
			size_t used;

			n = recv(c->fd, rxbuf, sizeof(rxbuf), 0);
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				fail(c, E_IO);
				return;
			}
			if (n == 0) {
				fail(c, E_EOF);
				return;
			}
			if (!http_body(c, rxbuf, n, &used))
				return;
			if (used != (size_t)n) {
				fail(c, E_PROTO);
				return;
			}
			c->state = S_SEND_REQ;
			break;
		}
		case S_SEND_DATA:
			n = send(c->fd, payload + c->off, cfg.payload - c->off, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN) {
					want(c, EPOLLOUT);
					return;
				}
				fail(c, E_IO);
				return;
			}
			c->off += n;
			if (c->off < (size_t)cfg.payload)
				break;
			c->off = 0;
			c->state = S_READ_DATA;
			want(c, EPOLLIN);
			return;
		case S_READ_DATA:
			n = recv(c->fd, c->head + c->off, cfg.payload - c->off, 0);
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				fail(c, E_IO);
				return;
			}
			if (n == 0) {
				fail(c, E_EOF);
				return;
			}
			c->off += n;
			if (c->off < (size_t)cfg.payload)
				return;
			if (memcmp(c->head, payload, cfg.payload) != 0) {
				fail(c, E_DATA);
				return;
			}
			if (cfg.mode == M_IDLE) {
				c->state = S_IDLE;
				n_idle++;
				want(c, EPOLLIN);
				return;
			}
			tunnel_done(c);
			return;
		case S_READY:
			/* a ready tunnel must stay silent until triggered */
			want(c, EPOLLIN);
			if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				return;
			/* fall through */
		case S_IDLE:
			n = recv(c->fd, rxbuf, sizeof(rxbuf), 0);
			if (n < 0 && errno == EAGAIN)
				return;
			if (c->state == S_IDLE) {
				dropped++;
				n_idle--;
				cl_close(c);
			} else {
				fail(c, n == 0 ? E_EOF : n < 0 ? E_IO : E_PROTO);
			}
			return;
		case S_STREAM: {
			int i;

			/* bounded reads per wakeup keep the tunnels fair */
			for (i = 0; i < 8; i++) {
				n = recv(c->fd, rxbuf, cfg.io_size, 0);
				if (n < 0) {
					if (errno == EAGAIN)
						return;
					fail(c, E_IO);
					return;
				}
				if (n == 0) {
					fail(c, E_EOF);
					return;
				}
				if (now_ns() >= t_measure)
					bytes += n;
			}
			return;
		}
		case S_UPLOAD: {
			int i;

			if (ev & (EPOLLERR | EPOLLHUP)) {
				fail(c, E_EOF);
				return;
			}
			for (i = 0; i < 8; i++) {
				n = send(c->fd, txbuf, cfg.io_size, MSG_NOSIGNAL);
				if (n < 0) {
					if (errno == EAGAIN)
						return;
					fail(c, E_IO);
					return;
				}
				if (now_ns() >= t_measure)
					bytes += n;
			}
			return;
		}
		case S_TLS_HS:
		case S_TLS_SEND:
		case S_TLS_RESP:
			tls_step(c);
			return;
		default:
			return;
		}
	}
}

/* ---- http keep-alive state machine ---- */

static void http_send(struct cl *c)
{
	if (npaths)
		c->pidx = (c->pidx + 1) % npaths; /* each client alternates */
	c->state = S_SEND_REQ;
	c->off = 0;
	c->hlen = 0;
	c->head_done = 0;
	c->got_any = 0;
	c->t0 = now_ns();
	c->tdead = c->t0 + (uint64_t)cfg.timeout_ms * 1000000ull;
}

/* Parse the head in c->head; sets body mode and keep-alive. */
static int http_parse_head(struct cl *c, size_t hl)
{
	char v[128];
	int st = head_status(c->head, hl);
	int http11;

	if (st < 0)
		return -1;
	http11 = c->head[7] == '1';
	c->keep = http11;
	if (head_value(c->head, hl, "Connection", v, sizeof(v)) ||
	    head_value(c->head, hl, "Proxy-Connection", v, sizeof(v))) {
		if (has_token(v, "close"))
			c->keep = 0;
		else if (has_token(v, "keep-alive"))
			c->keep = 1;
	}
	c->remain = 0;
	if (st < 200 || st == 204 || st == 304) {
		c->body = B_NONE;
	} else if (head_value(c->head, hl, "Transfer-Encoding", v, sizeof(v)) && has_token(v, "chunked")) {
		c->body = B_CHUNKED;
		c->chunk = CH_SIZE;
	} else if (head_value(c->head, hl, "Content-Length", v, sizeof(v))) {
		char *end;

		c->remain = strtoll(v, &end, 10);
		if (end == v || c->remain < 0)
			return -1;
		c->body = B_LENGTH;
	} else {
		c->body = B_EOF;
		c->keep = 0;
	}
	return st;
}

/* Feed body bytes; returns 1 when the body is complete, 0 for more. */
static int http_body(struct cl *c, const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	if (c->body == B_NONE) {
		*used = 0;
		return 1;
	}
	if (c->body == B_EOF) {
		*used = n;
		return 0;
	}
	if (c->body == B_LENGTH) {
		size_t k = (long long)n < c->remain ? n : (size_t)c->remain;

		c->remain -= k;
		*used = k;
		return c->remain == 0;
	}
	while (i < n) {
		char ch = p[i];

		switch (c->chunk) {
		case CH_SIZE:
			i++;
			if (isxdigit((unsigned char)ch)) {
				int d = isdigit((unsigned char)ch) ? ch - '0' : (tolower((unsigned char)ch) - 'a' + 10);

				c->remain = c->remain * 16 + d;
			} else if (ch == '\n') {
				c->chunk = c->remain ? CH_DATA : CH_TRAILER;
				c->line_len = 0;
			} else {
				c->chunk = CH_EXT;
			}
			break;
		case CH_EXT:
			i++;
			if (ch == '\n') {
				c->chunk = c->remain ? CH_DATA : CH_TRAILER;
				c->line_len = 0;
			}
			break;
		case CH_DATA: {
			size_t k = n - i;

			if ((long long)k > c->remain)
				k = c->remain;
			c->remain -= k;
			i += k;
			if (!c->remain)
				c->chunk = CH_CRLF;
			break;
		}
		case CH_CRLF:
			i++;
			if (ch == '\n') {
				c->chunk = CH_SIZE;
				c->remain = 0;
			}
			break;
		case CH_TRAILER:
			i++;
			if (ch == '\n') {
				if (c->line_len == 0) {
					*used = i;
					return 1;
				}
				c->line_len = 0;
			} else if (ch != '\r') {
				c->line_len++;
			}
			break;
		}
	}
	*used = i;
	return 0;
}

static void http_complete(struct cl *c, int status)
{
	uint64_t t = now_ns();

	if (status != 200) {
		fail(c, E_STATUS);
	} else if (t >= t_measure) {
		ok++;
		lat_add(t - c->t0);
	}
	if (c->state == S_FREE) {
		/* failed above */
	} else if (c->keep && running && t < t_end && started < cfg.max_cycles) {
		c->nreq++;
		started++;
		http_send(c);
		return;
	} else {
		cl_close(c);
	}
	if (running && t < t_end) {
		reconnects++;
		cycle_start(c);
	}
}

static void http_step(struct cl *c, unsigned int ev)
{
	ssize_t n;

	for (;;) {
		switch (c->state) {
		case S_CONNECTING:
			if (ev & (EPOLLERR | EPOLLHUP)) {
				fail(c, E_CONNECT);
				return;
			}
			if (!(ev & EPOLLOUT))
				return;
			http_send(c);
			break;
		case S_SEND_REQ: {
			const char *r = npaths ? preq[c->pidx] : req;
			size_t rl = npaths ? preq_len[c->pidx] : req_len;

			n = send(c->fd, r + c->off, rl - c->off, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN) {
					want(c, EPOLLOUT);
					return;
				}
				if (c->nreq && !c->got_any)
					goto stale;
				fail(c, E_IO);
				return;
			}
			c->off += n;
			if (c->off < rl)
				break;
			c->state = S_READ_RESP;
			want(c, EPOLLIN);
			return;
		}
		case S_READ_RESP: {
			const char *p;
			size_t avail, used;
			int st, done;

			if (!c->head_done) {
				n = recv(c->fd, c->head + c->hlen, sizeof(c->head) - 1 - c->hlen, 0);
			} else {
				n = recv(c->fd, rxbuf, sizeof(rxbuf), 0);
			}
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				if (c->nreq && !c->got_any)
					goto stale;
				fail(c, E_IO);
				return;
			}
			if (n == 0) {
				if (c->head_done && c->body == B_EOF) {
					c->keep = 0;
					http_complete(c, (int)c->off);
					return; /* closed: never kept */
				}
				if (c->nreq && !c->got_any)
					goto stale;
				fail(c, E_EOF);
				return;
			}
			c->got_any = 1;
			if (!c->head_done) {
				size_t hl;

				c->hlen += n;
				hl = head_end(c->head, c->hlen);
				if (!hl) {
					if (c->hlen >= sizeof(c->head) - 1)
						fail(c, E_PROTO);
					return;
				}
				st = http_parse_head(c, hl);
				if (st < 0) {
					fail(c, E_PROTO);
					return;
				}
				c->head_done = 1;
				p = c->head + hl;
				avail = c->hlen - hl;
				c->off = st; /* status, until complete */
			} else {
				p = rxbuf;
				avail = n;
			}
			done = http_body(c, p, avail, &used);
			if (!done)
				return;
			if (used != avail) {
				/* bytes past the body */
				fail(c, E_PROTO);
				return;
			}
			http_complete(c, (int)c->off);
			if (c->state != S_SEND_REQ)
				return;
			break; /* kept alive: send the next request now */
		}
		default:
			return;
		}
	}
stale:
	/* a kept-alive connection closed before answering: reconnect */
	retries++;
	cl_close(c);
	if (running && now_ns() < t_end) {
		c->t0 = now_ns();
		c->tdead = c->t0 + (uint64_t)cfg.timeout_ms * 1000000ull;
		cl_open(c);
	}
}

/* ---- driver ---- */

/* Rate modes keep every slot busy: restart a slot that failed. */
static void refill(struct cl *c, uint64_t t)
{
	if (c->state == S_FREE && running && t < t_end &&
	    (cfg.mode == M_TUNNEL || cfg.mode == M_HTTP || cfg.mode == M_TLS))
		cycle_start(c);
}

static void check_timeouts(uint64_t t)
{
	int i;

	for (i = 0; i < ncls; i++) {
		struct cl *c = &cls[i];

		if (c->state == S_IDLE || c->state == S_READY || c->state == S_STREAM || c->state == S_UPLOAD)
			continue;
		if (c->state != S_FREE && t > c->tdead)
			fail(c, E_TIMEOUT);
		refill(c, t);
	}
}

static void dispatch(struct cl *c, unsigned int ev)
{
	if (c->state == S_FREE)
		return;
	if (cfg.mode == M_HTTP)
		http_step(c, ev);
	else
		tun_step(c, ev);
	if (c->state == S_FREE)
		refill(c, now_ns());
}

/* Run the loop until time t_stop or until cond() returns true. */
static void loop_until(uint64_t t_stop, int (*cond)(void))
{
	struct epoll_event evs[512];
	uint64_t last_check = now_ns();

	for (;;) {
		uint64_t t = now_ns();
		int n, i, ms;

		if (t >= t_stop || (cond && cond()))
			return;
		if (!running && !live)
			return;
		ms = (int)((t_stop - t) / 1000000ull);
		if (ms > 20)
			ms = 20;
		n = epoll_wait(epfd, evs, 512, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < n; i++)
			dispatch(&cls[evs[i].data.u32], evs[i].events);
		t = now_ns();
		if (t - last_check > 50000000ull) {
			check_timeouts(t);
			last_check = t;
		}
	}
}

static void alloc_slots(int n)
{
	int i;

	cls = calloc(n, sizeof(*cls));
	if (!cls)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		cls[i].fd = -1;
		if ((auth_per_conn || cfg.mode == M_TLS) && !(cls[i].rq = malloc(RQ_MAX)))
			fatal("malloc");
		cls[i].pidx = npaths ? i % npaths : 0;
	}
	ncls = n;
}

static double bg_result = -1;

/* End the CPU accounting window (once). */
static void bg_stop(void)
{
	if (bg_result < 0)
		bg_result = bg_load();
}

static void print_errors(void)
{
	int k;

	bg_stop();
	if (cfg.root_pid > 0)
		printf(" proxy_cpu=%.2f proxy_cpu_s=%.3f", cpu_proxy, cpu_proxy_s);
	printf(" client_cpu=%.2f client_cpu_s=%.3f cpu0_busy=%.2f cpu1_busy=%.2f bg_cpu=%.2f "
	       "err=%lld",
	       cpu_client, cpu_client_s, cpun_busy[0], cpun_busy[1], bg_result, errs_total);
	for (k = 0; k < E_KINDS; k++)
		if (errs[k])
			printf(" err_%s=%lld", err_names[k], errs[k]);
}

/* CPU time per unit of work (a cycle, a request, a MB) of each side:
 * the proxy tree, and us with the -x processes (loadgen and the origin). */
static void print_cpu_per(const char *unit, double units)
{
	bg_stop();
	if (units <= 0)
		return;
	if (cfg.root_pid > 0)
		printf(" proxy_us_%s=%.1f", unit, cpu_proxy_s * 1e6 / units);
	printf(" client_us_%s=%.1f", unit, cpu_client_s * 1e6 / units);
}

static void print_latency(void)
{
	qsort(lat, lat_len, sizeof(*lat), cmp_u32);
	printf(" p50_us=%u p99_us=%u p999_us=%u max_us=%u", pct(0.50), pct(0.99), pct(0.999),
	       lat_len ? lat[lat_len - 1] : 0);
}

static void run_rate(void)
{
	const char *name;
	uint64_t t0 = now_ns(), t1;
	double secs;
	int i;

	alloc_slots(cfg.conc);
	t_measure = t0 + (uint64_t)(cfg.warmup * 1e9);
	t_end = t_measure + (uint64_t)(cfg.duration * 1e9);
	running = 1;
	for (i = 0; i < cfg.conc; i++)
		cycle_start(&cls[i]);
	loop_until(t_measure, NULL);
	bg_start();
	loop_until(t_end, NULL);
	bg_stop();
	running = 0;
	for (i = 0; i < ncls; i++)
		if (cls[i].state != S_FREE)
			cl_close(&cls[i]);
	/* an error storm may end the run early */
	t1 = now_ns() < t_end ? now_ns() : t_end;
	secs = t1 > t_measure ? (double)(t1 - t_measure) / 1e9 : 0;
	if (cfg.mode == M_HTTP)
		name = "http";
	else if (cfg.mode == M_TLS)
		name = "tls";
	else
		name = cfg.handshake ? "handshake" : "tunnel";
	printf("mode=%s ok=%lld secs=%.3f rate=%.1f", name, ok, secs, secs > 0 ? ok / secs : 0.0);
	print_cpu_per("op", (double)ok);
	print_latency();
	if (cfg.mode == M_HTTP)
		printf(" reconnects=%lld retries=%lld", reconnects, retries);
	print_errors();
	printf("\n");
}

static int bulk_ready;

static int bulk_all_ready(void)
{
	int i, n = 0;

	for (i = 0; i < ncls; i++) {
		if (cls[i].state == S_FREE)
			return 1; /* one failed: stop waiting */
		if (cls[i].state == S_READY)
			n++;
	}
	bulk_ready = n;
	return n == ncls;
}

static void run_bulk(void)
{
	uint64_t t0;
	double secs;
	int i;

	alloc_slots(cfg.conc);
	running = 1;
	t_measure = UINT64_MAX;
	for (i = 0; i < cfg.conc; i++) {
		cls[i].t0 = now_ns();
		cls[i].tdead = cls[i].t0 + (uint64_t)cfg.timeout_ms * 1000000ull;
		started++;
		cl_open(&cls[i]);
	}
	loop_until(now_ns() + (uint64_t)cfg.timeout_ms * 1000000ull, bulk_all_ready);
	if (!bulk_all_ready() || errs_total) {
		printf("mode=bulk ok=0 secs=0 mbps=0 ready=%d", bulk_ready);
		print_errors();
		printf("\n");
		return;
	}
	/* all tunnels up: trigger the source (or start sending) and the
	 * clock; the CPU window starts after the warm-up, as the bytes do */
	t0 = now_ns();
	t_measure = t0 + (uint64_t)(cfg.warmup * 1e9);
	t_end = t_measure + (uint64_t)(cfg.duration * 1e9);
	for (i = 0; i < ncls; i++) {
		struct cl *c = &cls[i];

		if (cfg.upload) {
			c->state = S_UPLOAD;
			want(c, EPOLLOUT);
			continue;
		}
		if (send(c->fd, "G", 1, MSG_NOSIGNAL) != 1) {
			fail(c, E_IO);
			continue;
		}
		c->state = S_STREAM;
		want(c, EPOLLIN);
	}
	loop_until(t_measure, NULL);
	bg_start();
	loop_until(t_end, NULL);
	bg_stop();
	running = 0;
	secs = (double)(t_end - t_measure) / 1e9;
	for (i = 0; i < ncls; i++)
		if (cls[i].state != S_FREE)
			cl_close(&cls[i]);
	printf("mode=bulk dir=%s ok=%d secs=%.3f bytes=%llu mbps=%.1f", cfg.upload ? "up" : "down", ncls, secs, bytes,
	       bytes / 1e6 / secs);
	print_cpu_per("mb", bytes / 1e6);
	print_errors();
	printf("\n");
}

static int idle_target;
static int idle_cursor;

static int idle_reached(void)
{
	int inflight = live - n_idle, scanned;

	if (n_idle >= idle_target)
		return 1;
	if (errs_total >= 100 || started >= cfg.max_cycles)
		return 1;
	/* top up: at most cfg.conc tunnels in setup at once */
	for (scanned = 0; scanned < ncls && inflight < cfg.conc && n_idle + inflight < idle_target; scanned++) {
		struct cl *c = &cls[idle_cursor];

		idle_cursor = (idle_cursor + 1) % ncls;
		if (c->state != S_FREE)
			continue;
		cycle_start(c);
		if (c->state != S_FREE)
			inflight++;
	}
	return 0;
}

static void run_idle(void)
{
	uint64_t deadline;
	long base = -1;
	int k, est = 0;

	alloc_slots(cfg.checks[cfg.ncheck - 1]);
	bg_start();
	t_measure = 0;
	t_end = UINT64_MAX;
	running = 1;
	if (cfg.root_pid > 0) {
		base = tree_rss(cfg.root_pid);
		if (base < 0) {
			printf("mode=idle error=no-such-pid pid=%d\n", cfg.root_pid);
			return;
		}
	}
	printf("mode=idle base_kib=%ld", base);
	deadline = now_ns() + (uint64_t)(cfg.duration * 1e9);
	for (k = 0; k < cfg.ncheck; k++) {
		long rss;

		idle_target = cfg.checks[k];
		loop_until(deadline, idle_reached);
		est = n_idle;
		if (est < idle_target) {
			printf(" reached=%d target=%d", est, idle_target);
			break;
		}
		/* let the proxy settle, still watching for drops */
		loop_until(now_ns() + (uint64_t)(cfg.settle * 1e9), NULL);
		est = n_idle;
		rss = cfg.root_pid > 0 ? tree_rss(cfg.root_pid) : -1;
		printf(" rss_kib_%d=%ld", idle_target, rss);
		if (rss >= 0 && base >= 0)
			printf(" kib_per_tunnel_%d=%.2f", idle_target, (double)(rss - base) / idle_target);
		fflush(stdout);
	}
	printf(" held=%d dropped=%lld", est, dropped);
	print_errors();
	printf("\n");
}

/* ---- helper subcommands ---- */

static int port_free(int port)
{
	struct sockaddr_in sa;
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/* Print n distinct free loopback ports from 20000-31999. */
static int cmd_freeport(int n)
{
	int got[64], ngot = 0, tries;

	if (n < 1 || n > 64)
		n = 1;
	srand((unsigned int)(now_ns() ^ (uint64_t)getpid() << 16));
	for (tries = 0; tries < 10000 && ngot < n; tries++) {
		int p = 20000 + rand() % 12000, i, dup = 0;

		for (i = 0; i < ngot; i++)
			dup |= got[i] == p;
		if (!dup && port_free(p))
			got[ngot++] = p;
	}
	if (ngot < n) {
		fprintf(stderr, "loadgen: no free port found\n");
		return 1;
	}
	for (tries = 0; tries < ngot; tries++)
		printf("%d%c", got[tries], tries == ngot - 1 ? '\n' : ' ');
	return 0;
}

/* Wait until addr:port accepts a connection; 0 on success. */
static int cmd_waitport(const char *addr, int port, int timeout_ms)
{
	struct sockaddr_storage ss;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	socklen_t sl;

	if (parse_addr(addr, port, &ss, &sl) < 0) {
		fprintf(stderr, "loadgen: bad address %s\n", addr);
		return 2;
	}
	while (now_ns() < deadline) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timespec ts = { 0, 50000000 };

		if (fd < 0)
			return 2;
		if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		nanosleep(&ts, NULL);
	}
	return 1;
}

/* A /proc/PID/status field in KiB, or -1. */
static long status_kib(int pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			kib = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

static int cmd_mem(int pid)
{
	long rss = status_kib(pid, "VmRSS"), hwm = status_kib(pid, "VmHWM");

	printf("rss_kib=%ld hwm_kib=%ld\n", rss, hwm);
	return rss < 0;
}

/* CPU ticks of pid and its descendants. */
static unsigned long long tree_ticks(int pid)
{
	struct proc *v;
	size_t n = proc_scan(&v), i;
	unsigned long long t = 0;

	proc_mark_tree(v, n, pid);
	for (i = 0; i < n; i++)
		if (v[i].mark)
			t += v[i].ticks;
	free(v);
	return t;
}

/*
 * SIGHUP to the proxy, then the time until its log (the file its stderr or
 * error-log goes to) gains a line saying the configuration was reloaded,
 * or refused.  Also the proxy's CPU time meanwhile and its memory after.
 */
static int cmd_reload(int pid, const char *logfile, int timeout_ms)
{
	static const char done[] = "configuration reloaded", refused[] = "reload of ";
	char buf[65536];
	size_t have = 0;
	struct stat st;
	uint64_t t0, deadline;
	unsigned long long ticks0;
	long hz = sysconf(_SC_CLK_TCK);
	int fd, result = -1;

	fd = open(logfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		fatal(logfile);
	if (lseek(fd, st.st_size, SEEK_SET) < 0)
		fatal("lseek");
	ticks0 = tree_ticks(pid);
	t0 = now_ns();
	deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
	if (kill(pid, SIGHUP) != 0)
		fatal("kill -HUP");
	while (result < 0 && now_ns() < deadline) {
		struct timespec ts = { 0, 500000 };
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n > 0) {
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, done))
				result = 1;
			else if (strstr(buf, refused))
				result = 0;
			if (have > sizeof(buf) / 2) { /* keep the tail: a line may straddle */
				memmove(buf, buf + have - 256, 256);
				have = 256;
			}
			continue;
		}
		nanosleep(&ts, NULL);
	}
	close(fd);
	printf("reload_ms=%.1f ok=%d proxy_cpu_ms=%.0f rss_kib=%ld hwm_kib=%ld\n", (now_ns() - t0) / 1e6, result == 1,
	       hz > 0 ? (double)(tree_ticks(pid) - ticks0) * 1000.0 / hz : -1.0, status_kib(pid, "VmRSS"),
	       status_kib(pid, "VmHWM"));
	return result == 1 ? 0 : 1;
}

/* Wait up to max_s for a 0.5 s window with background load <= max_cpu. */
static int cmd_quiet(double max_cpu, double max_s)
{
	uint64_t deadline = now_ns() + (uint64_t)(max_s * 1e9);
	double bg;

	for (;;) {
		struct timespec ts = { 0, 500000000 };

		bg_start();
		nanosleep(&ts, NULL);
		bg = bg_load();
		if (bg <= max_cpu) {
			printf("quiet=1 bg_cpu=%.2f\n", bg);
			return 0;
		}
		if (now_ns() >= deadline) {
			printf("quiet=0 bg_cpu=%.2f\n", bg);
			return 1;
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen tunnel|handshake|http|tls|bulk|idle [options]\n"
	                "       loadgen freeport [N] | waitport PORT TIMEOUT_MS [ADDR] | rss PID\n"
	                "       loadgen reload PID LOGFILE [TIMEOUT_MS] | mem PID\n"
	                "       loadgen quiet [-x PID,..] [-r PID] [-d MAX_WAIT_S] [-m MAX_CPUS]\n"
	                "  -a ADDR   server address (127.0.0.1)     -p PORT  proxy port (0: direct)\n"
	                "  -t PORT   echo/source/http origin port   -c N     concurrency (50)\n"
	                "  -d SECS   measured duration (5)          -w SECS  warm-up, not counted (0)\n"
	                "  -n N      max cycles/requests (5000000)  -s N     echo payload bytes (64)\n"
	                "  -o MS     per-operation timeout (5000)   -b N     spread sources over N\n"
	                "            loopback addresses (1)         -k K,K   idle checkpoints\n"
	                "  -r PID    proxy pid: RSS (idle), and its process tree is not counted as\n"
	                "            background load (bg_cpu)       -S SECS  idle settle time (2)\n"
	                "  -x PID,.. more of our processes, not background load (the origin)\n"
	                "  -m CPUS   quiet: background load that counts as quiet (0.10)\n"
	                "  -A SPEC   tunnel/handshake through a proxy with credentials (needs a\n"
	                "            build with authgen.c): basic:USER:PASSWORD (same header on\n"
	                "            every CONNECT), ntlm:DOMAIN\\USER:PASSWORD (Type 1, 407,\n"
	                "            NTLMv2 Type 3 on the same connection), negotiate:SERVICE@HOST\n"
	                "            (a fresh Kerberos token from KRB5CCNAME per connection)\n"
	                "  handshake: CONNECT (and its auth legs) until the 200, then close\n"
	                "  tls: CONNECT NAME:PORT, 200, TLS handshake (needs a build with\n"
	                "            tlsgen.c), GET /, the whole 200, close; direct with -p 0\n"
	                "  -N NAME   tls: server name (SNI, CONNECT, Host); one %%u in it = a new\n"
	                "            name per connection (0, 1, ...: first visits only)\n"
	                "  -C FILE   tls: the CA file the server's certificate must chain to\n"
	                "  -u P,P    http: request these paths, each client alternating (direct)\n"
	                "  -K        http: Connection: close on every request (a new connection\n"
	                "            each)\n"
	                "  -H NAME   through a proxy: CONNECT NAME:PORT and GET http://NAME:PORT/\n"
	                "            (the proxy resolves it) instead of the address\n"
	                "  -B BYTES  bulk: bytes per read or write (262144, the most)\n"
	                "  -U        bulk: upload to a sink (-t) instead of reading a source\n"
	                "  -T NAME   tunnel: the echoed payload is a TLS ClientHello with SNI NAME\n"
	                "  -b N      up to 16384 source addresses (127.0.0.1, 127.0.0.2, ...)\n"
	                "  reload PID LOG [MS]: SIGHUP the proxy, time until LOG says\n"
	                "            'configuration reloaded' (or 'refused'); its CPU, RSS, peak\n"
	                "  mem PID   VmRSS and VmHWM (peak) of one process, KiB\n");
	exit(2);
}

static void parse_checks(const char *s)
{
	while (*s && cfg.ncheck < MAX_CHECKPOINTS) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || v <= 0)
			usage();
		if (cfg.ncheck && v <= cfg.checks[cfg.ncheck - 1])
			usage();
		cfg.checks[cfg.ncheck++] = (int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			usage();
	}
}

/* -u: comma-separated paths, each starting with '/'. */
static void parse_paths(const char *s)
{
	while (*s && npaths < MAX_PATHS) {
		size_t n = strcspn(s, ",");

		if (n == 0 || n > 400 || s[0] != '/')
			usage();
		/* the request is finished in main, once -K is known */
		preq_len[npaths] = snprintf(preq[npaths], sizeof(preq[npaths]), "%.*s", (int)n, s);
		npaths++;
		s += n;
		if (*s == ',')
			s++;
	}
}

/* -N: a name, or a name with one %u in it. */
static int name_ok(const char *n)
{
	const char *p = strchr(n, '%');

	if (strlen(n) == 0 || strlen(n) > NAME_MAX_LEN)
		return 0;
	if (!p)
		return 1;
	return p[1] == 'u' && !strchr(p + 2, '%');
}

static void parse_excludes(const char *s)
{
	while (*s && cfg.nexclude < 8) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s)
			usage();
		if (v > 0)
			cfg.exclude[cfg.nexclude++] = (int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			usage();
	}
}

int main(int argc, char **argv)
{
	const char *m;
	double quiet_max = 0.10;
	double limit;
	int opt, i;

	if (argc < 2)
		usage();
	m = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(m, "freeport") == 0)
		return cmd_freeport(argc > 2 ? atoi(argv[2]) : 1);
	if (strcmp(m, "waitport") == 0) {
		if (argc < 4)
			usage();
		return cmd_waitport(argc > 4 ? argv[4] : "127.0.0.1", atoi(argv[2]), atoi(argv[3]));
	}
	if (strcmp(m, "rss") == 0) {
		long r;

		if (argc < 3)
			usage();
		r = tree_rss(atoi(argv[2]));
		printf("%ld\n", r);
		return r < 0;
	}
	if (strcmp(m, "mem") == 0) {
		if (argc < 3)
			usage();
		return cmd_mem(atoi(argv[2]));
	}
	if (strcmp(m, "reload") == 0) {
		if (argc < 4)
			usage();
		return cmd_reload(atoi(argv[2]), argv[3], argc > 4 ? atoi(argv[4]) : 10000);
	}
	if (strcmp(m, "quiet") == 0)
		cfg.mode = M_QUIET;
	else if (strcmp(m, "tunnel") == 0)
		cfg.mode = M_TUNNEL;
	else if (strcmp(m, "handshake") == 0) {
		cfg.mode = M_TUNNEL;
		cfg.handshake = 1;
	} else if (strcmp(m, "bulk") == 0)
		cfg.mode = M_BULK;
	else if (strcmp(m, "idle") == 0)
		cfg.mode = M_IDLE;
	else if (strcmp(m, "http") == 0)
		cfg.mode = M_HTTP;
	else if (strcmp(m, "tls") == 0)
		cfg.mode = M_TLS;
	else
		usage();

	cfg.addr = "127.0.0.1";
	cfg.conc = cfg.mode == M_BULK ? 8 : cfg.mode == M_IDLE ? 100 : 50;
	cfg.duration = cfg.mode == M_IDLE ? 120 : 5;
	cfg.settle = 2;
	cfg.max_cycles = 5000000;
	cfg.payload = 64;
	cfg.timeout_ms = 5000;
	cfg.nsrc = 1;
	cfg.io_size = RX_CHUNK;
	optind = 2;
	while ((opt = getopt(argc, argv, OPTS)) != -1) {
		switch (opt) {
		case 'a':
			cfg.addr = optarg;
			break;
		case 'p':
			cfg.proxy_port = atoi(optarg);
			break;
		case 't':
			cfg.target_port = atoi(optarg);
			break;
		case 'c':
			cfg.conc = atoi(optarg);
			break;
		case 'd':
			cfg.duration = atof(optarg);
			break;
		case 'w':
			cfg.warmup = atof(optarg);
			break;
		case 'n':
			cfg.max_cycles = atoll(optarg);
			break;
		case 's':
			cfg.payload = atoi(optarg);
			break;
		case 'o':
			cfg.timeout_ms = atoi(optarg);
			break;
		case 'b':
			cfg.nsrc = atoi(optarg);
			break;
		case 'k':
			parse_checks(optarg);
			break;
		case 'r':
			cfg.root_pid = atoi(optarg);
			break;
		case 'x':
			parse_excludes(optarg);
			break;
		case 'm':
			quiet_max = atof(optarg);
			break;
		case 'S':
			cfg.settle = atof(optarg);
			break;
		case 'A':
			cfg.auth = optarg;
			break;
		case 'N':
			cfg.name = optarg;
			break;
		case 'C':
			cfg.cafile = optarg;
			break;
		case 'u':
			parse_paths(optarg);
			break;
		case 'K':
			cfg.close_each = 1;
			break;
		case 'H':
			cfg.target = optarg;
			break;
		case 'B':
			cfg.io_size = (size_t)atol(optarg);
			break;
		case 'U':
			cfg.upload = 1;
			break;
		case 'T':
			cfg.hello = optarg;
			break;
		default:
			usage();
		}
	}
	if (cfg.mode == M_QUIET)
		return cmd_quiet(quiet_max, cfg.duration);
	if (cfg.target_port <= 0 || cfg.conc <= 0 || cfg.duration <= 0 || cfg.warmup < 0 || cfg.max_cycles <= 0 ||
	    cfg.payload <= 0 || cfg.payload > MAX_PAYLOAD || cfg.payload >= HEAD_MAX || cfg.timeout_ms <= 0 ||
	    cfg.nsrc <= 0 || cfg.nsrc > MAX_SOURCES || cfg.io_size == 0 || cfg.io_size > RX_CHUNK)
		usage();
	if (cfg.upload && cfg.mode != M_BULK)
		usage();
	if (cfg.target && (strlen(cfg.target) > 80 || strpbrk(cfg.target, " \r\n:")))
		usage();
	if (cfg.mode == M_IDLE && (!cfg.ncheck || !cfg.proxy_port))
		usage();
	if ((cfg.auth || cfg.handshake) && (cfg.mode != M_TUNNEL || !cfg.proxy_port))
		usage();
	if ((npaths || cfg.close_each) && (cfg.mode != M_HTTP || cfg.proxy_port))
		usage();
	if (cfg.mode == M_TLS) {
		char err[400];

		if (!cfg.name || !cfg.cafile || !name_ok(cfg.name))
			usage();
		name_per_conn = strchr(cfg.name, '%') != NULL;
		if (tlsgen_init(cfg.cafile, err, sizeof(err)) < 0) {
			fprintf(stderr, "loadgen: tls: %s\n", err);
			return 2;
		}
	}
	if (parse_addr(cfg.addr, cfg.proxy_port ? cfg.proxy_port : cfg.target_port, &dst, &dst_len) < 0) {
		fprintf(stderr, "loadgen: bad address %s\n", cfg.addr);
		return 2;
	}
	raise_nofile();

	/* hard stop in case anything hangs: the run is bounded in time */
	limit = cfg.duration + cfg.warmup + cfg.timeout_ms / 1000.0 + 30;
	if (cfg.mode == M_IDLE)
		limit += cfg.ncheck * cfg.settle;
	alarm((unsigned int)limit);

	if (cfg.target && cfg.proxy_port)
		snprintf(hostport, sizeof(hostport), "%s:%d", cfg.target, cfg.target_port);
	else if (dst.ss_family == AF_INET6)
		snprintf(hostport, sizeof(hostport), "[%s]:%d", cfg.addr, cfg.target_port);
	else
		snprintf(hostport, sizeof(hostport), "%s:%d", cfg.addr, cfg.target_port);
	if (cfg.mode == M_HTTP && cfg.proxy_port)
		req_len = snprintf(req, sizeof(req),
		                   "GET http://%s/ HTTP/1.1\r\n"
		                   "Host: %s\r\n\r\n",
		                   hostport, hostport);
	else if (cfg.mode == M_HTTP)
		req_len = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hostport);
	else
		req_len = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport);
	if (cfg.mode == M_HTTP && cfg.close_each && !npaths)
		preq_len[npaths++] = snprintf(preq[0], sizeof(preq[0]), "/");
	for (i = 0; i < npaths; i++) {
		char path[420];

		memcpy(path, preq[i], preq_len[i] + 1); /* at most 400 bytes: parse_paths */
		preq_len[i] = snprintf(preq[i], sizeof(preq[i]), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path,
		                       hostport, cfg.close_each ? "Connection: close\r\n" : "");
	}
	if (cfg.auth) {
		char err[300], value[1200];
		long vl;

		/* before the clock: Negotiate fetches its service ticket here */
		if (authgen_init(cfg.auth, err, sizeof(err)) < 0) {
			fprintf(stderr, "loadgen: -A %s: %s\n", cfg.auth, err);
			return 2;
		}
		if (authgen_static()) {
			/* the same header on every request: built once */
			vl = authgen_first(value, sizeof(value));
			if (vl < 0 || req_len + vl + 24 >= sizeof(req)) {
				fprintf(stderr, "loadgen: -A: %s\n", vl < 0 ? authgen_error() : "credentials too long");
				return 2;
			}
			req_len = snprintf(req, sizeof(req),
			                   "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
			                   "Proxy-Authorization: %s\r\n\r\n",
			                   hostport, hostport, value);
		} else {
			auth_per_conn = 1;
		}
	}
	for (i = 0; i < cfg.payload; i++)
		payload[i] = 'A' + i % 26;
	if (cfg.hello) {
		if (cfg.mode != M_TUNNEL || cfg.handshake ||
		    (cfg.payload = build_hello(cfg.hello, payload, sizeof(payload))) < 0)
			usage();
	}
	memset(txbuf, 'u', sizeof(txbuf));

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		fatal("epoll_create1");
	switch (cfg.mode) {
	case M_TUNNEL:
	case M_HTTP:
	case M_TLS:
		run_rate();
		break;
	case M_BULK:
		run_bulk();
		break;
	case M_IDLE:
		run_idle();
		break;
	case M_QUIET:
		break;
	}
	fflush(stdout);
	return 0;
}
