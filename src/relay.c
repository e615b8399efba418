/*
 * relay.c - the byte pump.  Bytes are read into the source's buffer and
 * written straight out; the buffer is released the moment it is empty, so
 * an idle tunnel holds no memory.  Framing only ever looks at chunk-size
 * lines: chunk data is skipped by count.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "relay.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads per call before yielding to other connections (x BUF_SIZE bytes). */
#define RELAY_BUDGET 16

#define PIPE_POOL_KEEP 64 /* idle pipes kept per thread */
#define PIPE_CHUNK (64 * 1024)

static atomic_int relay_mode = RELAY_AUTO;
static _Thread_local int pipe_pool[PIPE_POOL_KEEP][2];
static _Thread_local int pipe_pool_n;

static bool use_splice(const struct relay_frame *f)
{
	enum relay_mode mode = atomic_load_explicit(&relay_mode, memory_order_relaxed);

	return mode == RELAY_SPLICE || (mode == RELAY_AUTO && f->bulk);
}

void relay_set_mode(enum relay_mode mode)
{
	atomic_store(&relay_mode, mode);
}

enum relay_mode relay_get_mode(void)
{
	return atomic_load(&relay_mode);
}

void relay_pool_drain(void)
{
	while (pipe_pool_n > 0) {
		pipe_pool_n--;
		close(pipe_pool[pipe_pool_n][0]);
		close(pipe_pool[pipe_pool_n][1]);
	}
}

void side_init(struct side *s)
{
	*s = (struct side){ 0 };
	s->io.fd = -1;
	s->pipe[0] = s->pipe[1] = -1;
}

static bool pipe_get(struct side *s)
{
	if (pipe_pool_n > 0) {
		pipe_pool_n--;
		s->pipe[0] = pipe_pool[pipe_pool_n][0];
		s->pipe[1] = pipe_pool[pipe_pool_n][1];
		return true;
	}
	return pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) == 0;
}

/* An empty pipe goes back to the pool; one with bytes in it is closed. */
static void pipe_put(struct side *s)
{
	if (s->pipe[0] < 0)
		return;
	if (s->piped == 0 && pipe_pool_n < PIPE_POOL_KEEP) {
		pipe_pool[pipe_pool_n][0] = s->pipe[0];
		pipe_pool[pipe_pool_n][1] = s->pipe[1];
		pipe_pool_n++;
	} else {
		close(s->pipe[0]);
		close(s->pipe[1]);
	}
	s->pipe[0] = s->pipe[1] = -1;
	s->piped = 0;
}

void side_release(struct side *s)
{
	buf_release(&s->in);
	buf_release(&s->out);
	pipe_put(s);
}

void relay_frame_init(struct relay_frame *f, enum relay_kind kind, uint64_t length)
{
	f->kind = kind;
	f->remaining = length;
	f->done = kind == RELAY_LENGTH && length == 0;
	f->ready = 0;
	f->bad = false;
	f->bulk = false;
	f->rate = 0;
	f->wait_ms = 0;
	http_chunked_init(&f->chunked);
}

void relay_frame_throttle(struct relay_frame *f, uint64_t rate)
{
	f->rate = rate;
	f->tokens = rate / 10; /* a tenth of a second's worth to start */
	f->refilled_ms = ph_mono_ms();
}

/* How many bytes the bucket lets through now; sets wait_ms when none. */
static size_t throttle_allow(struct relay_frame *f, size_t want)
{
	uint64_t now = ph_mono_ms();

	f->tokens = PH_MIN(f->tokens + (now - f->refilled_ms) * f->rate / 1000, PH_MAX(f->rate / 10, 1));
	f->refilled_ms = now;
	if (f->tokens == 0) {
		f->wait_ms = PH_MAX(1000 / PH_MAX(f->rate, 1), 10);
		return 0;
	}
	f->wait_ms = 0;
	return (size_t)PH_MIN((uint64_t)want, f->tokens);
}

/* side_read through TLS.  A short SSL_read says nothing about the socket
 * (one record at a time), so the side stays readable until OpenSSL asks
 * for more bytes. */
static int ssl_read(struct side *s, size_t room)
{
	int n;

	/* SSL_get_error reads the thread's error queue: nothing stale in it. */
	ERR_clear_error();
	n = SSL_read(s->ssl, s->in.base + s->in.end, (int)PH_MIN(room, (size_t)INT32_MAX));

	if (n > 0) {
		s->in.end += (uint32_t)n;
		s->rbytes += (uint64_t)n;
		return PH_OK;
	}
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_ZERO_RETURN:
		s->eof = true;
		if (buf_len(&s->in) == 0)
			buf_release(&s->in);
		return PH_OK;
	case SSL_ERROR_WANT_READ:
		s->readable = false;
		break;
	case SSL_ERROR_WANT_WRITE:
		s->writable = false;
		break;
	default:
		if (buf_len(&s->in) == 0)
			buf_release(&s->in);
		return PH_ERROR;
	}
	if (buf_len(&s->in) == 0)
		buf_release(&s->in);
	return PH_AGAIN;
}

int side_read(struct side *s, size_t limit)
{
	if (s->eof)
		return PH_OK;
	if (!s->readable)
		return PH_AGAIN;
	size_t room = buf_reserve(&s->in, limit);

	if (room == 0)
		return PH_AGAIN;
	if (s->ssl)
		return ssl_read(s, room);
	for (;;) {
		ssize_t n = read(s->io.fd, s->in.base + s->in.end, room);

		if (n > 0) {
			s->in.end += (uint32_t)n;
			s->rbytes += (uint64_t)n;
			/* A short read drained the socket: the next bytes bring a
			 * new edge, so no read is spent on EAGAIN.  Unless the peer
			 * closed: its EOF brings no further edge. */
			if ((size_t)n < room && !s->rdhup)
				s->readable = false;
			return PH_OK;
		}
		if (n == 0) {
			s->eof = true;
			if (buf_len(&s->in) == 0)
				buf_release(&s->in);
			return PH_OK;
		}
		if (errno == EINTR)
			continue;
		if (buf_len(&s->in) == 0)
			buf_release(&s->in);
		if (errno == EAGAIN) {
			s->readable = false;
			return PH_AGAIN;
		}
		return PH_ERROR;
	}
}

/* Writes the buffers in order; returns how many bytes went out, or -1 on a
 * socket error.  A short write means the socket is full: EPOLLOUT will say
 * when it is not, so no send is spent on EAGAIN. */
/* side_writev through TLS: one SSL_write per buffer, partial writes
 * allowed; a retry after WANT_WRITE starts with the same bytes, as OpenSSL
 * requires (they stay at the front of the buffer). */
static ssize_t ssl_writev(struct side *s, struct iovec *iov, int iovcnt)
{
	size_t done = 0;

	for (int i = 0; i < iovcnt; i++) {
		size_t off = 0;

		while (off < iov[i].iov_len) {
			size_t len = PH_MIN(iov[i].iov_len - off, (size_t)INT32_MAX);
			int n;

			ERR_clear_error();
			n = SSL_write(s->ssl, (char *)iov[i].iov_base + off, (int)len);

			if (n > 0) {
				off += (size_t)n;
				done += (size_t)n;
				s->wbytes += (uint64_t)n;
				continue;
			}
			switch (SSL_get_error(s->ssl, n)) {
			case SSL_ERROR_WANT_WRITE:
				s->writable = false;
				return (ssize_t)done;
			case SSL_ERROR_WANT_READ:
				s->readable = false;
				return (ssize_t)done;
			default:
				return -1;
			}
		}
	}
	return (ssize_t)done;
}

static ssize_t side_writev(struct side *s, struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
	size_t want = 0;

	for (int i = 0; i < iovcnt; i++)
		want += iov[i].iov_len;
	if (!s->writable || want == 0)
		return 0;
	if (s->ssl)
		return ssl_writev(s, iov, iovcnt);
	for (;;) {
		ssize_t n = sendmsg(s->io.fd, &msg, MSG_NOSIGNAL);

		if (n >= 0) {
			s->wbytes += (uint64_t)n;
			if ((size_t)n < want)
				s->writable = false;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			s->writable = false;
			return 0;
		}
		return -1;
	}
}

static ssize_t side_write(struct side *s, const char *p, size_t len)
{
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };

	return side_writev(s, &iov, 1);
}

int side_flush(struct side *s)
{
	size_t len = buf_len(&s->out);

	if (len == 0)
		return PH_OK;
	ssize_t n = side_write(s, buf_data(&s->out), len);

	if (n < 0)
		return PH_ERROR;
	buf_consume(&s->out, (size_t)n);
	return buf_len(&s->out) == 0 ? PH_OK : PH_AGAIN;
}

/* How many of the buffered bytes belong to the message, marking it done
 * when its end is among them. */
static int frame_take(struct relay_frame *f, const char *p, size_t len, size_t *take, const char **why)
{
	switch (f->kind) {
	case RELAY_STREAM:
		*take = len;
		return PH_OK;
	case RELAY_LENGTH:
		*take = (size_t)PH_MIN((uint64_t)len, f->remaining);
		f->remaining -= *take;
		f->done = f->remaining == 0;
		return PH_OK;
	case RELAY_CHUNKED: {
		int r = http_chunked_scan(&f->chunked, p, len, take, why);

		if (r == PH_ERROR)
			return PH_ERROR;
		f->done = r == PH_OK;
		return PH_OK;
	}
	}
	return PH_ERROR;
}

/* The splice(2) path of a stream: socket -> pipe -> socket, no copy
 * through user space.  The pipe is held only while bytes are in it. */
/* A close_notify: a clean end of the TLS stream (none on a session whose
 * handshake never ended). */
static void close_notify(SSL *ssl)
{
	if (ssl && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
}

/* src ended: dst learns it by a FIN.  When the other direction has ended
 * too, the connection is about to be closed and close() sends that FIN:
 * one syscall less per tunnel. */
static void propagate_eof(struct side *src, struct side *dst)
{
	if (dst->shut_wr)
		return;
	close_notify(dst->ssl);
	close_notify(dst->lower);
	if (!(dst->eof && src->shut_wr && buf_len(&dst->in) == 0))
		shutdown(dst->io.fd, SHUT_WR);
	dst->shut_wr = true;
}

static int splice_pump(struct side *src, struct side *dst, const char **why)
{
	for (int budget = RELAY_BUDGET;; budget--) {
		if (src->piped > 0) {
			if (!dst->writable)
				return PH_AGAIN;
			ssize_t n = splice(src->pipe[0], NULL, dst->io.fd, NULL, src->piped,
			                   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

			if (n < 0 && errno == EAGAIN) {
				dst->writable = false;
				return PH_AGAIN;
			}
			if (n <= 0 && errno != EINTR) {
				*why = "write failed";
				return PH_ERROR;
			}
			if (n > 0) {
				src->piped -= (uint32_t)n;
				dst->wbytes += (uint64_t)n;
			}
			if (src->piped > 0)
				continue;
			pipe_put(src);
		}
		if (src->eof) {
			propagate_eof(src, dst);
			return PH_OK;
		}
		if (!src->readable || budget == 0)
			return PH_AGAIN;
		if (src->pipe[0] < 0 && !pipe_get(src)) {
			*why = "out of pipes";
			return PH_ERROR;
		}
		ssize_t n = splice(src->io.fd, NULL, src->pipe[1], NULL, PIPE_CHUNK, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

		if (n > 0) {
			src->piped += (uint32_t)n;
			src->rbytes += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			src->eof = true;
			pipe_put(src);
			continue;
		}
		if (errno == EINTR)
			continue;
		pipe_put(src);
		if (errno == EAGAIN) {
			src->readable = false;
			return PH_AGAIN;
		}
		*why = "read failed";
		return PH_ERROR;
	}
}

int relay_discard(struct side *src, struct relay_frame *f, const char **why)
{
	for (;;) {
		size_t len = buf_len(&src->in), take = 0;

		if (f->done)
			return PH_OK;
		if (len) {
			if (frame_take(f, buf_data(&src->in), len, &take, why) != PH_OK) {
				f->bad = true;
				return PH_ERROR;
			}
			buf_consume(&src->in, take);
			continue;
		}
		if (src->eof) {
			*why = "connection closed in the middle of a message";
			return PH_ERROR;
		}
		int r = side_read(src, BUF_SIZE);

		if (r == PH_ERROR)
			*why = "read failed";
		if (r != PH_OK)
			return r;
	}
}

int relay_pump(struct side *src, struct side *dst, struct relay_frame *f, const char **why)
{
	int budget = RELAY_BUDGET;

	if (f->kind == RELAY_STREAM && !f->rate && buf_len(&dst->out) == 0 && buf_len(&src->in) == 0 && !src->ssl &&
	    !dst->ssl && use_splice(f))
		return splice_pump(src, dst, why);
	for (;;) {
		size_t len = buf_len(&src->in);
		size_t olen = buf_len(&dst->out);

		/* Account newly buffered bytes to the message, once. */
		if (f->ready < len && !f->done) {
			size_t take;

			if (frame_take(f, buf_data(&src->in) + f->ready, len - f->ready, &take, why) != PH_OK) {
				f->bad = true;
				return PH_ERROR;
			}
			f->ready += take;
		}
		if (olen || f->ready) {
			/* pinhole's own bytes (a head) first, then the message's,
			 * in one send. */
			struct iovec iov[2];
			int n_iov = 0;
			size_t body = (size_t)f->ready;

			if (body && f->rate && (body = throttle_allow(f, body)) == 0 && !olen)
				return PH_AGAIN;
			if (olen)
				iov[n_iov++] = (struct iovec){ buf_data(&dst->out), olen };
			if (body)
				iov[n_iov++] = (struct iovec){ buf_data(&src->in), body };
			ssize_t n = side_writev(dst, iov, n_iov);

			if (n < 0) {
				*why = "write failed";
				return PH_ERROR;
			}
			size_t from_out = PH_MIN((size_t)n, olen), from_body = (size_t)n - from_out;

			buf_consume(&dst->out, from_out);
			buf_consume(&src->in, from_body);
			f->ready -= from_body;
			if (f->rate)
				f->tokens -= from_body;
			if ((size_t)n < olen + body || !dst->writable)
				return PH_AGAIN;
			continue;
		}
		if (f->done)
			return PH_OK;
		if (src->eof) {
			if (f->kind != RELAY_STREAM) {
				*why = "connection closed in the middle of a message";
				return PH_ERROR;
			}
			propagate_eof(src, dst);
			return PH_OK;
		}
		if (budget-- == 0)
			return PH_AGAIN; /* the caller sees readiness left and yields */
		int r = side_read(src, BUF_SIZE);

		if (r == PH_ERROR)
			*why = "read failed";
		if (r != PH_OK)
			return r;
		if (buf_len(&src->in) >= BUF_SIZE)
			f->bulk = true;
	}
}

void side_close(struct loop *loop, struct side *s)
{
	int fd = s->io.fd;

	/* The inner session first: its BIO reads through the lower one. */
	SSL_free(s->ssl);
	SSL_free(s->lower);
	s->ssl = s->lower = NULL;
	loop_io_forget(&s->io);
	if (fd >= 0)
		close(fd);
	side_release(s);
	s->readable = s->writable = s->eof = s->shut_wr = s->failed = s->rdhup = false;
}

void side_open(struct loop *loop, struct side *s, int fd, loop_io_cb cb, void *data)
{
	s->io.cb = cb;
	s->io.data = data;
	s->readable = s->writable = s->eof = s->shut_wr = s->failed = s->rdhup = false;
	loop_io_start(loop, &s->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

void side_shut_write(struct side *s)
{
	if (s->shut_wr)
		return;
	close_notify(s->ssl);
	close_notify(s->lower);
	shutdown(s->io.fd, SHUT_WR);
	s->shut_wr = true;
}

ssize_t side_peek(struct side *s, void *p, size_t len)
{
	int n;

	if (!s->ssl)
		return recv(s->io.fd, p, len, MSG_PEEK | MSG_DONTWAIT);
	ERR_clear_error();
	n = SSL_peek(s->ssl, p, (int)PH_MIN(len, (size_t)INT_MAX));
	if (n > 0)
		return n;
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	default:
		errno = EIO;
		return -1;
	}
}

/* ---- a TLS session over a side ----
 *
 * The BIO under a side's TLS session: it hands out first the bytes read
 * from the side before the session started (those after a PROXY protocol
 * header), then reads and writes the socket, or, for a session inside
 * another (an inspected tunnel through the HTTPS proxy's TLS), the session
 * beneath.  OpenSSL's socket BIO could do the socket alone; one BIO for
 * every case keeps the retry and EOF rules in one place.
 */
struct side_bio {
	int fd;
	SSL *lower; /* NULL: the socket */
	char *pre;  /* bytes read before the session started */
	size_t npre, pre_off;
	bool eof; /* a read found the end: BIO_eof says so, as OpenSSL asks */
};

static BIO_METHOD *side_bio_meth;

/* SSL_get_error for the session beneath, which looks first at the thread's
 * error queue: when the upper session failed, its reason is there (the
 * log wants it) while it sends its alert down, and is left alone. */
static int lower_error(SSL *lower, int n)
{
	if (ERR_peek_error() == 0)
		return SSL_get_error(lower, n);
	if (SSL_want_read(lower))
		return SSL_ERROR_WANT_READ;
	if (SSL_want_write(lower))
		return SSL_ERROR_WANT_WRITE;
	return SSL_ERROR_SSL;
}
static pthread_once_t side_bio_once = PTHREAD_ONCE_INIT;

static int side_bio_read(BIO *b, char *out, int len)
{
	struct side_bio *sb = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (sb->pre_off < sb->npre) {
		size_t n = PH_MIN((size_t)len, sb->npre - sb->pre_off);

		memcpy(out, sb->pre + sb->pre_off, n);
		sb->pre_off += n;
		if (sb->pre_off == sb->npre) {
			free(sb->pre);
			sb->pre = NULL;
			sb->npre = sb->pre_off = 0;
		}
		return (int)n;
	}
	if (sb->lower) {
		int n = SSL_read(sb->lower, out, len);

		if (n > 0)
			return n;
		switch (lower_error(sb->lower, n)) {
		case SSL_ERROR_ZERO_RETURN:
			sb->eof = true;
			return 0;
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			BIO_set_retry_read(b);
			return -1;
		default:
			return -1;
		}
	}
	for (;;) {
		ssize_t n = read(sb->fd, out, (size_t)len);

		if (n == 0)
			sb->eof = true;
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			BIO_set_retry_read(b);
		return -1;
	}
}

static int side_bio_write(BIO *b, const char *in, int len)
{
	struct side_bio *sb = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (sb->lower) {
		int n = SSL_write(sb->lower, in, len);

		if (n > 0)
			return n;
		switch (lower_error(sb->lower, n)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			BIO_set_retry_write(b);
			return -1;
		default:
			return -1;
		}
	}
	for (;;) {
		ssize_t n = send(sb->fd, in, (size_t)len, MSG_NOSIGNAL);

		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			BIO_set_retry_write(b);
		return -1;
	}
}

static long side_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct side_bio *sb = BIO_get_data(b);

	PH_UNUSED(num);
	PH_UNUSED(ptr);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return sb && sb->eof;
	case BIO_CTRL_PENDING:
		return sb ? (long)(sb->npre - sb->pre_off) : 0;
	default:
		return 0;
	}
}

static int side_bio_destroy(BIO *b)
{
	struct side_bio *sb = BIO_get_data(b);

	if (sb) {
		free(sb->pre);
		free(sb);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static void side_bio_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pinhole side");

	if (m && BIO_meth_set_read(m, side_bio_read) && BIO_meth_set_write(m, side_bio_write) &&
	    BIO_meth_set_ctrl(m, side_bio_ctrl) && BIO_meth_set_destroy(m, side_bio_destroy))
		side_bio_meth = m;
	else
		BIO_meth_free(m);
}

int side_tls_start(struct side *s, SSL *ssl)
{
	struct side_bio *sb;
	BIO *b;

	pthread_once(&side_bio_once, side_bio_init);
	if (!side_bio_meth || !(b = BIO_new(side_bio_meth)))
		return PH_ERROR;
	sb = ph_calloc(1, sizeof(*sb));
	sb->fd = s->io.fd;
	sb->lower = s->ssl;
	if (buf_len(&s->in)) {
		sb->npre = buf_len(&s->in);
		sb->pre = ph_malloc(sb->npre);
		memcpy(sb->pre, buf_data(&s->in), sb->npre);
		buf_release(&s->in);
	}
	BIO_set_data(b, sb);
	BIO_set_init(b, 1);
	SSL_set_bio(ssl, b, b);
	s->lower = s->ssl;
	s->ssl = ssl;
	return PH_OK;
}
