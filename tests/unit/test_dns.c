/*
 * test_dns.c - dns.c on the real event loop: IP literals and hosts-file
 * entries answer at once; real lookups go to a dnsmasq this test starts on a
 * free loopback port and always stops.  Without dnsmasq (Debian package
 * dnsmasq-base) the real-DNS part is skipped and the exit status is 77.
 */
#include "unit.h"
#include "common.h"
#include "config.h"
#include "dns.h"
#include "loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CASE_LIMIT_MS 20000 /* no case may take longer */
#define DNSMASQ_PATHS                                                    \
	{                                                                \
		"/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/bin/dnsmasq" \
	}

static struct loop *loop;
static pid_t dnsmasq_pid = -1;
static int outstanding; /* answers the running wait still expects */

struct answer {
	int calls;
	struct dns_result res;
};

static void stop_dnsmasq(void)
{
	int st;

	if (dnsmasq_pid <= 0)
		return;
	/* Its own process group: nothing it forked survives it. */
	if (kill(-dnsmasq_pid, SIGTERM) < 0)
		kill(dnsmasq_pid, SIGTERM);
	waitpid(dnsmasq_pid, &st, 0);
	dnsmasq_pid = -1;
}

/* A hung case must not leave dnsmasq behind. */
static void on_alarm(int sig)
{
	static const char msg[] = "test_dns: hard time limit exceeded\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);

	PH_UNUSED(r);
	if (dnsmasq_pid > 0) {
		kill(-dnsmasq_pid, SIGKILL);
		waitpid(dnsmasq_pid, NULL, 0);
	}
	_exit(1);
}

static void on_answer(void *arg, const struct dns_result *res)
{
	struct answer *a = arg;

	a->calls++;
	a->res = *res;
	if (--outstanding == 0)
		loop_stop(loop);
}

static void on_deadline(struct loop *l, struct loop_timer *t)
{
	*(bool *)t->data = true;
	loop_stop(l);
}

/* Runs the loop until n more answers arrived or limit_ms passed. */
static bool wait_answers(int n, uint64_t limit_ms)
{
	bool expired = false;
	struct loop_timer deadline = { .cb = on_deadline, .data = &expired };

	outstanding = n;
	if (n <= 0)
		return true;
	loop_update_now(loop);
	loop_timer_start(loop, &deadline, limit_ms);
	loop_run(loop);
	loop_timer_stop(loop, &deadline);
	return outstanding <= 0;
}

static void run_for(uint64_t ms)
{
	wait_answers(1 << 30, ms);
}

static const char *addr_at(const struct dns_result *res, int i, char *buf, size_t len)
{
	if (i >= res->n)
		return "(none)";
	return ph_addr_str(&res->addrs[i], buf, len);
}

static uint16_t port_at(const struct dns_result *res, int i)
{
	const struct sockaddr_storage *ss = &res->addrs[i];

	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void set_addr(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
}

/* Immediate answers. */

static void test_literals(struct dns *dns, const struct dns_settings *cfg)
{
	struct dns_result res;
	struct dns_query *q = (struct dns_query *)&res; /* not NULL: must be reset */
	struct answer a = { 0 };
	char buf[64];

	CHECK_INT(dns_resolve(dns, cfg, "192.0.2.7", 443, &res, on_answer, &a, &q), PH_OK);
	CHECK(q == NULL);
	CHECK_INT(res.n, 1);
	CHECK_INT(res.addrs[0].ss_family, AF_INET);
	CHECK_STR(addr_at(&res, 0, buf, sizeof(buf)), "192.0.2.7");
	CHECK_INT(port_at(&res, 0), 443);
	CHECK(res.error == NULL);

	CHECK_INT(dns_resolve(dns, cfg, "2001:db8::1", 8080, &res, on_answer, &a, &q), PH_OK);
	CHECK_INT(res.n, 1);
	CHECK_INT(res.addrs[0].ss_family, AF_INET6);
	CHECK_STR(addr_at(&res, 0, buf, sizeof(buf)), "2001:db8::1");
	CHECK_INT(port_at(&res, 0), 8080);
	CHECK_INT(a.calls, 0);
}

static void expect_bad_name(struct dns *dns, const struct dns_settings *cfg, const char *host, const char *why)
{
	struct dns_result res;
	struct answer a = { 0 };
	struct dns_query *q;

	CHECK_INT(dns_resolve(dns, cfg, host, 80, &res, on_answer, &a, &q), PH_ERROR);
	CHECK_INT(res.n, 0);
	CHECK_STR(res.error, why);
	CHECK(q == NULL);
	CHECK_INT(a.calls, 0);
}

#define NUMERIC_NAME "the host name ends in a number but is not an IP address in the usual dotted form"

static void test_bad_names(struct dns *dns, const struct dns_settings *cfg)
{
	char longname[300];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 50; i < sizeof(longname) - 1; i += 50)
		longname[i] = '.';
	expect_bad_name(dns, cfg, "", "the host name is empty");
	expect_bad_name(dns, cfg, longname, "the host name is longer than 253 characters");
	expect_bad_name(dns, cfg, "a..b", "the host name has an empty label (two dots in a row, or a leading dot)");
	expect_bad_name(dns, cfg, "bad host", "the host name contains a character that is not allowed in DNS names");
	memset(longname, 'a', 70);
	strcpy(longname + 70, ".test");
	expect_bad_name(dns, cfg, longname, "a label of the host name is longer than 63 characters");
	/* Numeric forms resolvers read as IPv4 must not slip past policy. */
	expect_bad_name(dns, cfg, "127.1", NUMERIC_NAME);
	expect_bad_name(dns, cfg, "2130706433", NUMERIC_NAME);
	expect_bad_name(dns, cfg, "0x7f.0x1", NUMERIC_NAME);
}

static void test_hosts_entry(struct dns *dns, struct dns_settings *cfg)
{
	static const char *addrs[] = { "10.0.0.1", "fd00::1", "10.0.0.2", "fd00::2", "10.0.0.1" };
	static const char *want[] = { "fd00::1", "fd00::2", "10.0.0.1", "10.0.0.2" };
	struct hosts_entry e;
	struct dns_result res;
	struct answer a = { 0 };
	struct dns_query *q;
	char buf[64];

	memset(&e, 0, sizeof(e));
	e.name = "lab.test";
	e.naddrs = PH_ARRAY_LEN(addrs);
	for (size_t i = 0; i < e.naddrs; i++)
		set_addr(&e.addrs[i], addrs[i]);
	cfg->hosts.entries = &e;
	cfg->hosts.n = 1;

	CHECK_INT(dns_resolve(dns, cfg, "lab.test", 8443, &res, on_answer, &a, &q), PH_OK);
	CHECK_INT(res.n, (int)PH_ARRAY_LEN(want));
	for (size_t i = 0; i < PH_ARRAY_LEN(want); i++) {
		CHECK_STR(addr_at(&res, (int)i, buf, sizeof(buf)), want[i]);
		if ((int)i < res.n)
			CHECK_INT(port_at(&res, (int)i), 8443);
	}
	CHECK_INT(a.calls, 0);
	cfg->hosts.entries = NULL;
	cfg->hosts.n = 0;
}

/* c-ares answers "localhost" from /etc/hosts inside ares_getaddrinfo():
 * the callback must still come later, from the loop. */
static void test_sync_answer_is_deferred(struct dns *dns, const struct dns_settings *cfg)
{
	struct dns_result res;
	struct answer a = { 0 };
	struct dns_query *q = NULL;
	char buf[64];

	CHECK_INT(dns_resolve(dns, cfg, "localhost", 80, &res, on_answer, &a, &q), PH_AGAIN);
	CHECK(q != NULL);
	CHECK_INT(a.calls, 0);
	CHECK(wait_answers(1, CASE_LIMIT_MS));
	CHECK_INT(a.calls, 1);
	CHECK(a.res.n >= 1);
	if (a.res.n >= 1) {
		addr_at(&a.res, 0, buf, sizeof(buf));
		CHECK(strcmp(buf, "127.0.0.1") == 0 || strcmp(buf, "::1") == 0);
		CHECK_INT(port_at(&a.res, 0), 80);
	}
}

/* Loopback ports for servers: outside the kernel's ephemeral range, free for
 * both UDP and TCP right now. */
static bool port_free(int port)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t i = 0; i < PH_ARRAY_LEN(types); i++) {
		int fd = socket(AF_INET, types[i] | SOCK_CLOEXEC, 0);
		int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;

		if (fd >= 0)
			close(fd);
		if (!ok)
			return false;
	}
	return true;
}

static int pick_port(void)
{
	for (int i = 0; i < 200; i++) {
		int port = 20000 + (int)((unsigned)rand() % 12000);

		if (port_free(port))
			return port;
	}
	return -1;
}

/* A UDP socket that receives queries and never answers. */
static int silent_server(int *port)
{
	for (int i = 0; i < 50; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		*port = pick_port();
		sin.sin_port = htons((uint16_t)*port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd >= 0 && *port > 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/* True once dnsmasq answers an A query for a.test on port. */
static bool dnsmasq_answers(int port)
{
	static const unsigned char query[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	};
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned char buf[512];
	struct pollfd p;
	bool ok = false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fd, query, sizeof(query), 0, (struct sockaddr *)&sin, sizeof(sin)) > 0) {
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 200) == 1 && recv(fd, buf, sizeof(buf), 0) >= 12)
			ok = buf[0] == 0x12 && buf[1] == 0x34;
	}
	close(fd);
	return ok;
}

/* $DNSMASQ, else where Debian installs it. */
static const char *find_dnsmasq(void)
{
	static const char *paths[] = DNSMASQ_PATHS;
	const char *env = getenv("DNSMASQ");

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < PH_ARRAY_LEN(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* big.test has more AAAA records than fit in a 512-byte UDP answer, so
 * c-ares must retry over TCP. */
#define BIG_RECORDS 40

/* Starts dnsmasq on 127.0.0.1:port with the test's records; 0 once it
 * answers, -1 (and no process left) if it does not. */
static int start_dnsmasq(const char *path, int port)
{
	char portarg[32];
	static char big[BIG_RECORDS][48];
	char *argv[64] = {
		/* --no-daemon keeps our uid and capabilities, and with them
		 * the parent-death signal (a uid change would clear it). */
		(char *)path,
		"--no-daemon",
		"--conf-file=/dev/null",
		"--pid-file=",
		"--no-resolv",
		"--no-hosts",
		"--bind-interfaces",
		"--listen-address=127.0.0.1",
		portarg,
		"--address=/a.test/127.0.0.2",
		"--local=/a.test/",
		"--address=/six.test/::1",
		"--local=/six.test/",
		"--address=/both.test/127.0.0.3",
		"--address=/both.test/::3",
		"--address=/both.test/127.0.0.4",
		"--local=/both.test/",
		"--local=/nx.test/",
		"--local=/big.test/",
	};
	size_t argc = 0;
	pid_t parent = getpid();
	bool verbose = getenv("TEST_DNS_VERBOSE") != NULL;

	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	while (argv[argc])
		argc++;
	for (int i = 0; i < BIG_RECORDS && argc + 1 < PH_ARRAY_LEN(argv); i++) {
		snprintf(big[i], sizeof(big[i]), "--address=/big.test/2001:db8::%x", i + 1);
		argv[argc++] = big[i];
	}
	argv[argc] = NULL;
	dnsmasq_pid = fork();
	if (dnsmasq_pid < 0)
		return -1;
	if (dnsmasq_pid == 0) {
		/* Dies with the test even if the test crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if (getppid() != parent)
			_exit(127);
		if (!verbose) {
			int null = open("/dev/null", O_RDWR);

			dup2(null, 1);
			dup2(null, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	setpgid(dnsmasq_pid, dnsmasq_pid); /* whichever of us runs first */
	uint64_t until = ph_mono_ms() + 5000;

	while (ph_mono_ms() < until) {
		int st;

		if (waitpid(dnsmasq_pid, &st, WNOHANG) == dnsmasq_pid) {
			dnsmasq_pid = -1;
			return -1;
		}
		if (dnsmasq_answers(port))
			return 0;
		usleep(50 * 1000);
	}
	stop_dnsmasq();
	return -1;
}

/* The dns-server list as config.c writes it for c-ares. */
static bool servers_from_config(int port, char *out, size_t len)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg;
	char text[64];

	snprintf(text, sizeof(text), "dns-server 127.0.0.1:%d\n", port);
	cfg = config_parse_text("test_dns.conf", text, strlen(text), &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	cfg_errors_free(&errs);
	if (!cfg || !cfg->dns->servers) {
		snprintf(out, len, "127.0.0.1:%d", port);
		if (cfg)
			config_unref(cfg);
		return false;
	}
	snprintf(out, len, "%s", cfg->dns->servers);
	config_unref(cfg);
	return true;
}

/* Real lookups against dnsmasq. */

static void resolve_one(struct dns *dns, const struct dns_settings *cfg, const char *host, uint16_t port,
                        struct answer *a)
{
	struct dns_result res;
	struct dns_query *q;

	memset(a, 0, sizeof(*a));
	CHECK_INT(dns_resolve(dns, cfg, host, port, &res, on_answer, a, &q), PH_AGAIN);
	CHECK(wait_answers(1, CASE_LIMIT_MS));
	CHECK_INT(a->calls, 1);
	CHECK(a->res.elapsed_ms < CASE_LIMIT_MS);
	if (getenv("TEST_DNS_VERBOSE"))
		printf("test_dns: %s: %d addresses, %s, %llu ms\n", host, a->res.n,
		       a->res.error ? a->res.error : "no error", (unsigned long long)a->res.elapsed_ms);
}

static void test_real_answers(struct dns *dns, const struct dns_settings *cfg)
{
	struct answer a;
	char buf[64];

	resolve_one(dns, cfg, "a.test", 443, &a);
	CHECK_INT(a.res.n, 1);
	CHECK_STR(addr_at(&a.res, 0, buf, sizeof(buf)), "127.0.0.2");
	if (a.res.n == 1)
		CHECK_INT(port_at(&a.res, 0), 443);
	CHECK(a.res.error == NULL);

	/* IPv6 first, then IPv4. */
	resolve_one(dns, cfg, "www.both.test", 80, &a);
	CHECK_INT(a.res.n, 3);
	CHECK_STR(addr_at(&a.res, 0, buf, sizeof(buf)), "::3");
	addr_at(&a.res, 1, buf, sizeof(buf));
	CHECK(strcmp(buf, "127.0.0.3") == 0 || strcmp(buf, "127.0.0.4") == 0);
	addr_at(&a.res, 2, buf, sizeof(buf));
	CHECK(strcmp(buf, "127.0.0.3") == 0 || strcmp(buf, "127.0.0.4") == 0);
	for (int i = 0; i < a.res.n; i++)
		CHECK_INT(port_at(&a.res, i), 80);

	resolve_one(dns, cfg, "six.test", 8080, &a);
	CHECK_INT(a.res.n, 1);
	CHECK_STR(addr_at(&a.res, 0, buf, sizeof(buf)), "::1");

	/* dnsmasq answers NXDOMAIN inside a --local domain... */
	resolve_one(dns, cfg, "host.nx.test", 80, &a);
	CHECK_INT(a.res.n, 0);
	CHECK_STR(a.res.error, "no such domain");

	/* ...and REFUSED for names it could only forward (--no-resolv). */
	resolve_one(dns, cfg, "nothing.example", 80, &a);
	CHECK_INT(a.res.n, 0);
	CHECK_STR(a.res.error, "the DNS server refused the query");
}

/* Truncated over UDP, answered over TCP; capped at DNS_MAX_ADDRS.  A
 * resolver of its own: c-ares keeps the TCP connection open, and dnsmasq
 * --no-daemon serves nothing else until it is closed by dns_free(). */
static void test_tcp_fallback(const struct dns_settings *cfg)
{
	struct dns *dns = dns_new(loop, cfg);
	struct answer a;

	CHECK(dns != NULL);
	if (!dns)
		return;
	resolve_one(dns, cfg, "big.test", 443, &a);
	CHECK_INT(a.res.n, DNS_MAX_ADDRS);
	for (int i = 0; i < a.res.n; i++) {
		CHECK_INT(a.res.addrs[i].ss_family, AF_INET6);
		CHECK_INT(port_at(&a.res, i), 443);
	}
	CHECK(a.res.elapsed_ms < 1000);
	dns_free(dns);
}

static void test_cancel(struct dns *dns, const struct dns_settings *cfg)
{
	struct dns_result res;
	struct answer cancelled = { 0 }, other = { 0 };
	struct dns_query *q1, *q2;

	CHECK_INT(dns_resolve(dns, cfg, "c1.a.test", 80, &res, on_answer, &cancelled, &q1), PH_AGAIN);
	CHECK_INT(dns_resolve(dns, cfg, "c2.a.test", 80, &res, on_answer, &other, &q2), PH_AGAIN);
	dns_cancel(dns, q1);
	CHECK(wait_answers(1, CASE_LIMIT_MS));
	CHECK_INT(other.calls, 1);
	run_for(300);
	CHECK_INT(cancelled.calls, 0);

	/* Cancelled after c-ares answered but before the loop delivered. */
	memset(&cancelled, 0, sizeof(cancelled));
	CHECK_INT(dns_resolve(dns, cfg, "localhost", 80, &res, on_answer, &cancelled, &q1), PH_AGAIN);
	dns_cancel(dns, q1);
	run_for(300);
	CHECK_INT(cancelled.calls, 0);
}

static void test_many(struct dns *dns, const struct dns_settings *cfg)
{
	enum { N = 100 };
	static struct answer a[N];
	struct dns_result res;
	struct dns_query *q;
	char host[64], buf[64];
	int again = 0, good = 0;

	memset(a, 0, sizeof(a));
	for (int i = 0; i < N; i++) {
		snprintf(host, sizeof(host), "host%d.a.test", i);
		again += dns_resolve(dns, cfg, host, 443, &res, on_answer, &a[i], &q) == PH_AGAIN;
	}
	CHECK_INT(again, N);
	CHECK(wait_answers(N, CASE_LIMIT_MS));
	for (int i = 0; i < N; i++)
		good += a[i].calls == 1 && a[i].res.n == 1 &&
		        strcmp(addr_at(&a[i].res, 0, buf, sizeof(buf)), "127.0.0.2") == 0 &&
		        port_at(&a[i].res, 0) == 443;
	CHECK_INT(good, N);
}

/* No search-list expansion (Squid's dns_defnames off): with a.test as the
 * search domain, "intranet" must not become intranet.a.test. */
static void test_no_search_domains(const struct dns_settings *cfg)
{
	struct answer a;
	struct dns *dns;

	setenv("LOCALDOMAIN", "a.test", 1);
	dns = dns_new(loop, cfg);
	unsetenv("LOCALDOMAIN");
	CHECK(dns != NULL);
	if (!dns)
		return;
	resolve_one(dns, cfg, "intranet", 80, &a);
	CHECK_INT(a.res.n, 0);
	CHECK_STR(a.res.error, "the DNS server refused the query");
	dns_free(dns);
}

/* Nothing listens on the server's port: ICMP says "refused", or, where
 * that is not delivered, the query times out; either way within bounds. */
static void test_closed_port(void)
{
	struct dns_settings cfg;
	struct answer a;
	struct dns *dns;
	char servers[64];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", pick_port());
	cfg.servers = servers;
	dns = dns_new(loop, &cfg);
	CHECK(dns != NULL);
	if (!dns)
		return;
	resolve_one(dns, &cfg, "a.test", 80, &a);
	CHECK_INT(a.res.n, 0);
	CHECK(a.res.error &&
	      (strcmp(a.res.error, "the DNS server refused the query") == 0 || strcmp(a.res.error, "timed out") == 0));
	dns_free(dns);
}

/* A server that never answers: "timed out".  Meanwhile a reload points the
 * worker at dnsmasq; new queries use it at once, the old one still ends. */
static void test_timeout_and_reconfigure(const char *dnsmasq_servers)
{
	struct dns_settings silent_cfg, good_cfg;
	struct dns_result res;
	struct answer slow = { 0 }, fast = { 0 };
	struct dns_query *q;
	struct dns *dns;
	char servers[64], buf[64];
	int port, fd = silent_server(&port);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	memset(&silent_cfg, 0, sizeof(silent_cfg));
	memset(&good_cfg, 0, sizeof(good_cfg));
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	silent_cfg.servers = servers;
	good_cfg.servers = (char *)dnsmasq_servers;
	dns = dns_new(loop, &silent_cfg);
	CHECK(dns != NULL);
	if (!dns) {
		close(fd);
		return;
	}
	CHECK_INT(dns_resolve(dns, &silent_cfg, "slow.a.test", 80, &res, on_answer, &slow, &q), PH_AGAIN);
	dns_reconfigure(dns, &good_cfg);
	CHECK_INT(dns_resolve(dns, &good_cfg, "fast.a.test", 80, &res, on_answer, &fast, &q), PH_AGAIN);
	CHECK(wait_answers(1, CASE_LIMIT_MS));
	CHECK_INT(fast.calls, 1);
	CHECK_INT(slow.calls, 0);
	CHECK_STR(addr_at(&fast.res, 0, buf, sizeof(buf)), "127.0.0.2");

	CHECK(wait_answers(1, CASE_LIMIT_MS));
	CHECK_INT(slow.calls, 1);
	CHECK_INT(slow.res.n, 0);
	CHECK_STR(slow.res.error, "timed out");
	CHECK(slow.res.elapsed_ms >= 1000 && slow.res.elapsed_ms < CASE_LIMIT_MS);
	run_for(50); /* the retired channel is reaped from the loop */
	dns_free(dns);

	/* dns_free() with a query in flight: no callback, nothing leaked. */
	memset(&slow, 0, sizeof(slow));
	dns = dns_new(loop, &silent_cfg);
	CHECK(dns != NULL);
	if (dns) {
		CHECK_INT(dns_resolve(dns, &silent_cfg, "gone.a.test", 80, &res, on_answer, &slow, &q), PH_AGAIN);
		dns_free(dns);
		run_for(200);
		CHECK_INT(slow.calls, 0);
	}
	close(fd);
}

/* A callback may free the resolver; queued answers are then dropped. */
static struct dns *freed_in_cb;

static void free_in_callback(void *arg, const struct dns_result *res)
{
	on_answer(arg, res);
	dns_free(freed_in_cb);
	freed_in_cb = NULL;
}

static void test_free_from_callback(const struct dns_settings *cfg)
{
	struct dns_result res;
	struct answer first = { 0 }, second = { 0 };
	struct dns_query *q;

	freed_in_cb = dns_new(loop, cfg);
	CHECK(freed_in_cb != NULL);
	if (!freed_in_cb)
		return;
	/* Both answered from /etc/hosts: queued for the same delivery. */
	CHECK_INT(dns_resolve(freed_in_cb, cfg, "localhost", 80, &res, free_in_callback, &first, &q), PH_AGAIN);
	CHECK_INT(dns_resolve(freed_in_cb, cfg, "localhost", 81, &res, on_answer, &second, &q), PH_AGAIN);
	CHECK(wait_answers(1, CASE_LIMIT_MS));
	run_for(100);
	CHECK_INT(first.calls, 1);
	CHECK_INT(second.calls, 0);
	CHECK(freed_in_cb == NULL);
}

int main(void)
{
	struct dns_settings cfg;
	struct dns *dns;
	const char *dnsmasq;
	char servers[64];
	int port = -1;

	srand((unsigned)(getpid() ^ time(NULL)));
	signal(SIGALRM, on_alarm);
	alarm(120);
	atexit(stop_dnsmasq);
	loop = loop_new();
	CHECK(loop != NULL);
	if (!loop)
		return unit_summary("test_dns");

	memset(&cfg, 0, sizeof(cfg));
	dns = dns_new(loop, &cfg);
	CHECK(dns != NULL);
	if (!dns)
		return unit_summary("test_dns");
	test_literals(dns, &cfg);
	test_bad_names(dns, &cfg);
	test_hosts_entry(dns, &cfg);
	test_sync_answer_is_deferred(dns, &cfg);
	test_free_from_callback(&cfg);
	dns_free(dns);

	dnsmasq = find_dnsmasq();
	if (!dnsmasq) {
		printf("test_dns: dnsmasq not found (install Debian package dnsmasq-base, "
		       "or set DNSMASQ): skipping the real-DNS cases\n");
		loop_free(loop);
		return unit_summary("test_dns") ? 1 : 77;
	}
	for (int i = 0; i < 5 && dnsmasq_pid < 0; i++) {
		port = pick_port();
		if (port > 0 && start_dnsmasq(dnsmasq, port) < 0)
			port = -1;
	}
	CHECK(port > 0);
	if (port < 0) {
		fprintf(stderr,
		        "test_dns: %s did not start or answer on 127.0.0.1 "
		        "(run with TEST_DNS_VERBOSE=1 to see its messages)\n",
		        dnsmasq);
		loop_free(loop);
		return unit_summary("test_dns");
	}
	CHECK(servers_from_config(port, servers, sizeof(servers)));
	cfg.servers = servers;
	dns = dns_new(loop, &cfg);
	CHECK(dns != NULL);
	if (dns) {
		test_real_answers(dns, &cfg);
		test_cancel(dns, &cfg);
		test_many(dns, &cfg);
		dns_free(dns);
	}
	test_tcp_fallback(&cfg);
	test_no_search_domains(&cfg);
	test_closed_port();
	test_timeout_and_reconfigure(servers);

	stop_dnsmasq();
	loop_free(loop);
	return unit_summary("test_dns");
}
