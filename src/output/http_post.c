#include "output/http_post.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "http/http_parse.h"
#include "io/net.h"
#include "io/tls.h"

/* A response head bigger than this is not from InfluxDB. */
#define HEAD_MAX (64 * 1024)

/* A wait that a cutoff may end is cut into slices this long. */
#define CUTOFF_POLL (50 * NS_PER_MS)

struct http_post {
	char *host, *port;
	int fd;
	tls_client *tls;                /* https: borrowed, or NULL */
	struct ssl_st *ssl;             /* the connection's TLS, with tls */
	const _Atomic uint64_t *cutoff; /* or NULL */
	buf in;      /* response bytes */
	buf head;    /* request head with Content-Length */
};

http_post *http_post_create(const char *host, const char *port)
{
	http_post *c = xcalloc(1, sizeof(*c));

	c->host = xstrdup(host);
	c->port = xstrdup(port);
	c->fd = -1;
	buf_init(&c->in, 4096, HEAD_MAX + 4096);
	buf_init(&c->head, 1024, 64 * 1024);
	return c;
}

static void drop_conn(http_post *c)
{
	tls_conn_free(c->ssl, 0, NULL);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_reset(&c->in);
}

void http_post_destroy(http_post *c)
{
	if (!c)
		return;
	drop_conn(c);
	buf_free(&c->in);
	buf_free(&c->head);
	free(c->host);
	free(c->port);
	free(c);
}

void http_post_set_tls(http_post *c, tls_client *tls)
{
	c->tls = tls;
}

void http_post_set_cutoff(http_post *c, const _Atomic uint64_t *cutoff)
{
	c->cutoff = cutoff;
}

/* Waits for events on the socket until deadline, or c's cutoff. 1 ready,
 * 0 timed out, -1 error. */
static int wait_fd(const http_post *c, int fd, short events, uint64_t deadline)
{
	struct pollfd p = {fd, events, 0};

	for (;;) {
		uint64_t now = clock_mono_ns(), cut = c->cutoff ? atomic_load(c->cutoff) : 0, end = deadline, wait;
		int rc;

		if (cut && cut < end)
			end = cut;
		if (now >= end)
			return 0;
		wait = end - now;
		if (c->cutoff && wait > CUTOFF_POLL)
			wait = CUTOFF_POLL;
		rc = poll(&p, 1, (int)((wait + NS_PER_MS - 1) / NS_PER_MS));
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* The TLS handshake on the connected c->fd, until deadline. On failure
 * the connection is dropped and msg says why, naming the certificate's
 * problem when that was it. */
static int handshake(http_post *c, uint64_t deadline, char *msg, size_t msgsz)
{
	int rc;

	c->ssl = tls_conn_new(c->tls, c->fd, c->host, NULL);
	if (!c->ssl) {
		snprintf(msg, msgsz, "TLS with %s:%s: out of memory", c->host, c->port);
		drop_conn(c);
		return -1;
	}
	for (;;) {
		rc = tls_conn_handshake(c->ssl);
		if (rc == 0)
			return 0;
		if (rc != TLS_WANT_READ && rc != TLS_WANT_WRITE)
			break;
		rc = wait_fd(c, c->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (rc != 1) {
			snprintf(msg, msgsz, "TLS handshake with %s:%s: %s", c->host, c->port,
				 rc == 0 ? "timed out" : strerror(errno));
			drop_conn(c);
			return -1;
		}
	}
	{
		const char *why = tls_conn_verify_error(c->ssl);

		if (why)
			snprintf(msg, msgsz, "TLS handshake with %s:%s: certificate verify failed: %s (trust its CA with "
					     "--cacert)", c->host, c->port, why);
		else
			snprintf(msg, msgsz, "TLS handshake with %s:%s failed: %s", c->host, c->port, err_describe(-rc));
	}
	drop_conn(c);
	return -1;
}

static int connect_to(http_post *c, uint64_t deadline, char *msg, size_t msgsz)
{
	net_addr addrs[4];
	int n = net_resolve(c->host, c->port, addrs, 4), i, rc, fd;

	if (n < 0) {
		snprintf(msg, msgsz, "resolve %s: %s", c->host, gai_strerror(n));
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = net_socket(&addrs[i]);
		if (fd < 0)
			continue;
		rc = net_connect(fd, &addrs[i]);
		if (rc == 1) {
			rc = wait_fd(c, fd, POLLOUT, deadline);
			if (rc == 1) {
				errno = net_socket_error(fd);
				rc = errno ? -1 : 0;
			} else if (rc == 0) {
				errno = ETIMEDOUT;
				rc = -1;
			}
		}
		if (rc == 0) {
			c->fd = fd;
			return c->tls ? handshake(c, deadline, msg, msgsz) : 0;
		}
		snprintf(msg, msgsz, "connect %s:%s: %s", c->host, c->port, strerror(errno));
		close(fd);
	}
	return -1;
}

/* send_all over TLS: the head, then the body, each in records of its own
 * (SSL_write takes one buffer). */
static int send_all_tls(http_post *c, const char *body, size_t len, uint64_t deadline, char *msg, size_t msgsz)
{
	size_t off = 0, total = c->head.len + len;

	while (off < total) {
		const char *p = off < c->head.len ? c->head.data + off : body + (off - c->head.len);
		size_t n = off < c->head.len ? c->head.len - off : total - off;
		ssize_t put = tls_conn_write(c->ssl, p, n);
		int rc;

		if (put > 0) {
			off += (size_t)put;
			continue;
		}
		if (put != TLS_WANT_READ && put != TLS_WANT_WRITE) {
			snprintf(msg, msgsz, "send: %s", put < 0 ? err_describe((int)-put) : "connection closed");
			return -2; /* a kept-alive connection the server closed looks like this */
		}
		rc = wait_fd(c, c->fd, put == TLS_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (rc != 1) {
			snprintf(msg, msgsz, "send: %s", rc == 0 ? "timed out" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int send_all(http_post *c, const char *body, size_t len, uint64_t deadline, char *msg, size_t msgsz)
{
	size_t off = 0, total = c->head.len + len;

	if (c->ssl)
		return send_all_tls(c, body, len, deadline, msg, msgsz);

	while (off < total) {
		struct iovec iov[2];
		int niov = 0;
		ssize_t n;

		if (off < c->head.len) {
			iov[niov].iov_base = c->head.data + off;
			iov[niov++].iov_len = c->head.len - off;
		}
		if (len) {
			size_t boff = off > c->head.len ? off - c->head.len : 0;

			iov[niov].iov_base = (char *)body + boff;
			iov[niov++].iov_len = len - boff;
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};

		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c, c->fd, POLLOUT, deadline);

			if (rc == 1)
				continue;
			snprintf(msg, msgsz, "send: %s", rc == 0 ? "timed out" : strerror(errno));
			return -1;
		}
		snprintf(msg, msgsz, "send: %s", n < 0 ? strerror(errno) : "connection closed");
		return n < 0 && (errno == EPIPE || errno == ECONNRESET) ? -2 : -1;
	}
	return 0;
}

typedef struct body_sink {
	char *out;
	size_t len, cap;
} body_sink;

static void keep_body(void *ctx, const char *data, size_t n)
{
	body_sink *s = ctx;

	if (n > s->cap - 1 - s->len)
		n = s->cap - 1 - s->len;
	memcpy(s->out + s->len, data, n);
	s->len += n;
	s->out[s->len] = '\0';
}

static ssize_t read_some(http_post *c, uint64_t deadline, char *msg, size_t msgsz)
{
	for (;;) {
		ssize_t n;
		int rc;

		if (buf_reserve(&c->in, 4096) < 0) {
			snprintf(msg, msgsz, "response head too large");
			return -1;
		}
		if (c->ssl) {
			n = tls_conn_read(c->ssl, c->in.data + c->in.len, buf_room(&c->in));
			if (n >= 0)
				return n;
			if (n != TLS_WANT_READ && n != TLS_WANT_WRITE) {
				snprintf(msg, msgsz, "read: %s", err_describe((int)-n));
				return c->in.len == 0 ? -2 : -1;
			}
			rc = wait_fd(c, c->fd, n == TLS_WANT_READ ? POLLIN : POLLOUT, deadline);
			if (rc != 1) {
				snprintf(msg, msgsz, "read: %s",
					 rc == 0 ? "timed out waiting for the response" : strerror(errno));
				return -1;
			}
			continue;
		}
		n = read(c->fd, c->in.data + c->in.len, buf_room(&c->in));
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(msg, msgsz, "read: %s", strerror(errno));
			return errno == ECONNRESET && c->in.len == 0 ? -2 : -1;
		}
		rc = wait_fd(c, c->fd, POLLIN, deadline);
		if (rc != 1) {
			snprintf(msg, msgsz, "read: %s", rc == 0 ? "timed out waiting for the response" : strerror(errno));
			return -1;
		}
	}
}

/* Reads one response. Returns 0, -1 on error, -2 when the connection was
 * closed or reset before any byte arrived (a stale keep-alive connection:
 * worth one retry). */
static int read_response(http_post *c, uint64_t deadline, http_post_result *res)
{
	http_head h;
	http_body b;
	body_sink sink = {res->body, 0, sizeof(res->body)};
	size_t scan = 0, hlen;
	ssize_t n, used;

	res->body[0] = '\0';
	buf_reset(&c->in);
	for (;;) {
		n = read_some(c, deadline, res->body, sizeof(res->body));
		if (n < 0)
			return (int)n;
		if (n == 0) {
			if (c->in.len)
				snprintf(res->body, sizeof(res->body), "connection closed mid-response");
			else
				snprintf(res->body, sizeof(res->body), "connection closed before the response");
			return c->in.len ? -1 : -2;
		}
		c->in.len += (size_t)n;
		hlen = http_head_end(c->in.data, c->in.len, &scan);
		if (hlen)
			break;
	}
	if (http_head_parse_response(c->in.data, hlen, &h) != HTTP_OK) {
		snprintf(res->body, sizeof(res->body), "malformed response");
		return -1;
	}
	if (h.status < 200) { /* 100 Continue and friends: InfluxDB sends none unasked */
		snprintf(res->body, sizeof(res->body), "unexpected interim response %d", h.status);
		return -1;
	}
	res->status = h.status;
	http_body_init_response(&b, &h, 0);
	used = http_body_feed(&b, c->in.data + hlen, c->in.len - hlen, keep_body, &sink);
	while (used >= 0 && !b.done) {
		buf_reset(&c->in);
		n = read_some(c, deadline, res->body, sizeof(res->body));
		if (n < 0)
			return -1;
		if (n == 0) {
			http_body_eof(&b);
			break;
		}
		c->in.len = (size_t)n;
		used = http_body_feed(&b, c->in.data, c->in.len, keep_body, &sink);
	}
	if (used < 0 || !b.done) {
		snprintf(res->body, sizeof(res->body), "malformed response body");
		return -1;
	}
	if (h.conn_close || b.mode == HTTP_BODY_EOF)
		drop_conn(c);
	return 0;
}

int http_post_send(http_post *c, const char *head, const char *body, size_t len, uint64_t deadline,
		   http_post_result *res)
{
	int attempt, rc = -1;

	res->status = 0;
	buf_reset(&c->head);
	if (buf_printf(&c->head, "%sContent-Length: %zu\r\n\r\n", head, len) < 0) {
		snprintf(res->body, sizeof(res->body), "request head too large");
		return -1;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		int reused = c->fd >= 0;

		if (!reused && connect_to(c, deadline, res->body, sizeof(res->body)) < 0)
			return -1;
		rc = send_all(c, body, len, deadline, res->body, sizeof(res->body));
		if (rc == 0)
			rc = read_response(c, deadline, res);
		if (rc == 0)
			return 0;
		drop_conn(c);
		/* Only a connection that had been idle may be retried, and only
		 * when the server closed it without answering: it may have
		 * timed it out just before we wrote. */
		if (!reused || rc != -2)
			break;
	}
	return -1;
}
