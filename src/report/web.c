#include "report/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "io/ev.h"
#include "io/net.h"
#include "io/tls_server.h"
#include "report/web_doc.h"

/* A dashboard has a handful of viewers; past this many, a new connection
 * is told 503 and closed. A server that takes pushes (web_set_post) says
 * how many it needs. */
#define WEB_MAX_CLIENTS 32
/* A request head larger than this is refused (431). */
#define WEB_HEAD_MAX 8192
/* Bytes a client may have waiting to be read before it is dropped. A live
 * document of a 12-hour run is a few megabytes at most; the page and the
 * final summary are shared, not copied, and do not count. */
#define WEB_OUT_MAX (8u * 1024 * 1024)
/* A client that sends no complete request head in this time is closed, and
 * a closing client gets this long to read our answer. */
#define WEB_HEAD_TIMEOUT (10 * NS_PER_SEC)
/* An answer (the page, a document) is given this long to be read. */
#define WEB_REPLY_TIMEOUT (30 * NS_PER_SEC)
/* An idle event stream gets a comment this often, so that proxies and
 * browsers do not cut it. */
#define WEB_KEEPALIVE (15 * NS_PER_SEC)
/* When the server stops, the streams get this long to take what they are
 * still owed (the final summary, without linger). */
#define WEB_CLOSE_GRACE (2 * NS_PER_SEC)

typedef enum {
	C_FREE,    /* slot unused */
	C_HEAD,    /* reading the request head */
	C_REPLY,   /* writing an answer, then closing */
	C_DRAIN,   /* answer written and our side shut: reading until EOF */
	C_EVENTS,  /* an event stream: open until the client or the server ends it */
	C_BODY,    /* reading a POST's body (web_set_post) */
} client_state;

typedef struct client {
	ev_io io;
	ev_timer timer;            /* head timeout, then the drain's */
	client_state state;
	struct web_server *w;
	char head[WEB_HEAD_MAX];
	size_t nhead;
	buf out;                   /* bytes of our own to send */
	size_t sent;               /* of out */
	/* After out: an immutable text the server keeps until it stops (the
	 * page, the final summary), sent from where it lies. */
	const char *tail;
	size_t tail_len, tail_sent;
	int got_final;             /* an event stream that has had "event: final" */
	buf body;                  /* C_BODY: the request body so far */
	size_t body_want;          /* its Content-Length */
	char auth[512];            /* C_BODY: the Authorization header's value */
	SSL *ssl;                  /* web_set_tls: the connection's TLS, or NULL */
	int handshaking;           /* ssl's handshake is not done yet */
} client;

struct web_server {
	int lfd, wake_fd;
	net_addr addr;
	char url[96];
	ev_loop *loop;
	ev_io lio, wio;
	ev_timer keepalive;
	int closing;               /* stopping: only delivering what is owed */
	SSL_CTX *tls;              /* web_set_tls: HTTPS (borrowed), or NULL */
	pthread_t thread;
	int started;
	web_run run;
	int dashboard;             /* web_start was given a run: serve it */
	client *clients;
	uint32_t nclients;
	/* web_set_post: the one path that takes POSTs, and its handler. */
	char post_path[64];
	size_t post_max;
	web_post_fn post_fn;
	void *post_ctx;

	/* Shared with the collector (atomics) and the main thread (mu). */
	_Atomic uint64_t elapsed_ns;
	_Atomic int snapshots;     /* snapshots taken in since the thread last looked */
	_Atomic int stop;
	pthread_mutex_t mu;
	web_phase_time *phases;    /* by run.cfg->phases index; under mu */
	char *final_in;            /* handed over by web_final; under mu */

	/* The server thread's own. */
	char *page;
	size_t page_len;
	web_phase_time *phases_seen; /* a copy of phases, taken under mu */
	char *live;                /* the last live document, or NULL: build anew */
	size_t live_len;
	char *final;               /* the final summary, once it came */
	size_t final_len;
	char *final_event;         /* the same as an "event: final" message */
	size_t final_event_len;
};

/* The live document, built at most once per snapshot. */
static const char *live_get(web_server *w, size_t *len)
{
	uint32_t n = w->run.cfg ? w->run.cfg->nphases : 0;

	if (!w->live) {
		pthread_mutex_lock(&w->mu);
		memcpy(w->phases_seen, w->phases, n * sizeof(*w->phases));
		pthread_mutex_unlock(&w->mu);
		w->live = web_doc_live(&w->run, w->phases_seen, atomic_load(&w->elapsed_ns), &w->live_len);
	}
	*len = w->live_len;
	return w->live;
}

/* ---- clients ---- */

static void client_close(client *c)
{
	web_server *w = c->w;
	uint32_t i;

	ev_io_set(w->loop, &c->io, 0);
	ev_timer_stop(w->loop, &c->timer);
	if (c->ssl) {
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->io.fd);
	c->io.fd = -1;
	buf_free(&c->out);
	buf_free(&c->body);
	c->state = C_FREE;
	if (!w->closing)
		return;
	for (i = 0; i < w->nclients; i++)
		if (w->clients[i].state != C_FREE)
			return;
	ev_loop_stop(w->loop); /* the last one owed anything has it */
}

static ssize_t conn_recv(client *c, void *p, size_t n)
{
	size_t got = 0;

	if (!c->ssl)
		return recv(c->io.fd, p, n, 0);
	return SSL_read_ex(c->ssl, p, n, &got) == 1 ? (ssize_t)got : tls_server_io_fail(c->ssl, 1, NULL);
}

static ssize_t conn_send(client *c, const void *p, size_t n)
{
	size_t put = 0;

	if (!c->ssl)
		return send(c->io.fd, p, n, MSG_NOSIGNAL);
	return SSL_write_ex(c->ssl, p, n, &put) == 1 ? (ssize_t)put : tls_server_io_fail(c->ssl, 0, NULL);
}

static int client_pending(const client *c)
{
	return c->sent < c->out.len || c->tail_sent < c->tail_len;
}

/* Writes what is pending, without blocking; asks for writability only
 * after a short write. Closes the client on an error. Returns 0, or -1 if
 * the client is gone. */
static int client_flush(client *c)
{
	web_server *w = c->w;
	unsigned want;

	while (client_pending(c)) {
		const char *p;
		size_t n;
		ssize_t got;

		if (c->sent < c->out.len) {
			p = c->out.data + c->sent;
			n = c->out.len - c->sent;
		} else {
			p = c->tail + c->tail_sent;
			n = c->tail_len - c->tail_sent;
		}
		got = conn_send(c, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got <= 0) {
			client_close(c);
			return -1;
		}
		if (c->sent < c->out.len) {
			c->sent += (size_t)got;
			if (c->sent == c->out.len) {
				buf_reset(&c->out);
				c->sent = 0;
			}
		} else {
			c->tail_sent += (size_t)got;
		}
	}
	if (!client_pending(c) && c->state == C_REPLY) {
		/* Our answer is out: shut our side and read until the client
		 * closes, so that unread request bytes do not turn our close into
		 * a reset that loses the answer. Over TLS, close_notify first
		 * (one non-blocking try: a courtesy, the answer is delimited). */
		if (c->ssl)
			SSL_shutdown(c->ssl);
		shutdown(c->io.fd, SHUT_WR);
		c->state = C_DRAIN;
		ev_timer_start(w->loop, &c->timer, ev_now(w->loop) + WEB_HEAD_TIMEOUT);
	}
	if (w->closing && !client_pending(c)) {
		client_close(c);
		return -1;
	}
	want = EV_READ | (client_pending(c) ? EV_WRITE : 0);
	if (ev_io_set(w->loop, &c->io, want) < 0) {
		client_close(c);
		return -1;
	}
	return 0;
}

/* Appends N bytes for C; a client that has let more than WEB_OUT_MAX pile
 * up (or already has a shared text waiting) is dropped. Returns 0, or -1 if
 * the client is gone. */
static int client_queue(client *c, const char *p, size_t n)
{
	if (c->tail_sent < c->tail_len || c->out.len - c->sent + n > WEB_OUT_MAX) {
		client_close(c);
		return -1;
	}
	if (c->sent) {
		buf_consume(&c->out, c->sent);
		c->sent = 0;
	}
	if (buf_append(&c->out, p, n) < 0) {
		client_close(c);
		return -1;
	}
	return 0;
}

/* An event message: "event: NAME" when named, then TEXT with every line as
 * a "data:" line, then the blank line that ends it. */
static char *event_build(const char *name, const char *text, size_t *len)
{
	buf b;
	const char *p = text;

	buf_init(&b, strlen(text) + 64, SIZE_MAX / 2);
	if (name)
		buf_printf(&b, "event: %s\n", name);
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		buf_appends(&b, "data: ");
		buf_append(&b, p, n);
		buf_appends(&b, "\n");
		if (!nl)
			break;
		p = nl + 1;
	}
	buf_appends(&b, "\n");
	*len = b.len;
	buf_append(&b, "", 1);
	return b.data;
}

static void reply(client *c, int status, const char *reason, const char *type, const char *extra, const char *body,
		  size_t body_len, int head_only, int shared)
{
	char h[512], length[48] = "";
	int n;

	if (status != 204) /* which has no body, and says no length */
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", body_len);
	n = snprintf(h, sizeof(h),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sCache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n",
		     status, reason, type, length, extra ? extra : "");

	c->state = C_REPLY;
	if (client_queue(c, h, (size_t)n) < 0)
		return;
	if (!head_only && shared) {
		c->tail = body;
		c->tail_len = body_len;
		c->tail_sent = 0;
	} else if (!head_only && client_queue(c, body, body_len) < 0) {
		return;
	}
	client_flush(c);
}

static void reply_text(client *c, int status, const char *reason, const char *extra, int head_only)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	reply(c, status, reason, "text/plain; charset=utf-8", extra, body, (size_t)n, head_only, 0);
}

/* Starts an event stream: the headers, then at once what there is — the
 * final summary if the run is over, else the live document. */
static void events_begin(client *c, int head_only)
{
	web_server *w = c->w;
	static const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
				"X-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\n\r\n"
				"retry: 2000\n\n";

	if (head_only) {
		reply(c, 200, "OK", "text/event-stream", NULL, "", 0, 1, 0);
		return;
	}
	c->state = C_EVENTS;
	ev_timer_stop(w->loop, &c->timer); /* a stream lasts as long as it reads */
	if (client_queue(c, h, sizeof(h) - 1) < 0)
		return;
	if (w->final_event) {
		c->tail = w->final_event;
		c->tail_len = w->final_event_len;
		c->tail_sent = 0;
		c->got_final = 1;
	} else {
		size_t n;
		const char *doc = live_get(w, &n);
		char *ev = event_build(NULL, doc, &n);
		int rc = client_queue(c, ev, n);

		free(ev);
		if (rc < 0)
			return;
	}
	client_flush(c);
}

static int addr_is_loopback(const net_addr *a)
{
	if (a->sa.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr) >> 24) == 127;
	if (a->sa.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
	return 0;
}

/* On a loopback address, a request must name a loopback host: a page
 * elsewhere that points its own name at 127.0.0.1 (DNS rebinding) would
 * otherwise read the dashboard through the visitor's browser. A Host
 * header is required by HTTP/1.1; without one (HTTP/1.0) nothing is named
 * and nothing is refused. */
static int host_allowed(const web_server *w, const char *head)
{
	const char *h = head, *v, *end;
	char host[256];
	size_t n;

	if (!addr_is_loopback(&w->addr))
		return 1; /* the user opened it to a network on purpose */
	for (h = strchr(h, '\n'); h; h = strchr(h, '\n')) {
		h++;
		if (strncasecmp(h, "host:", 5) == 0)
			break;
	}
	if (!h)
		return 1;
	v = h + 5;
	v += strspn(v, " \t");
	end = v + strcspn(v, "\r\n");
	n = (size_t)(end - v);
	if (n >= sizeof(host))
		return 0;
	memcpy(host, v, n);
	host[n] = '\0';
	/* Drop the port: "[::1]:5665", "127.0.0.1:5665", "localhost:5665". */
	if (host[0] == '[') {
		char *close = strchr(host, ']');

		if (!close)
			return 0;
		close[1] = '\0';
	} else {
		char *colon = strrchr(host, ':');

		if (colon)
			*colon = '\0';
	}
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	{
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) == 1)
			return (ntohl(a4.s_addr) >> 24) == 127;
	}
	return 0;
}

/* The value of header field NAME ("content-length") in HEAD, copied into
 * out; 0 if found, -1 if not (or too long). */
static int header_value(const char *head, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name);
	const char *h, *v, *end;

	for (h = strchr(head, '\n'); h; h = strchr(h, '\n')) {
		h++;
		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':')
			break;
	}
	if (!h)
		return -1;
	v = h + nlen + 1;
	v += strspn(v, " \t");
	end = v + strcspn(v, "\r\n");
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if ((size_t)(end - v) >= outsz)
		return -1;
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return 0;
}

/* The whole body of a POST is in: the handler answers. */
static void post_done(client *c)
{
	web_server *w = c->w;
	char answer[1024];
	int status;
	const char *reason;

	answer[0] = '\0';
	status = w->post_fn(w->post_ctx, c->auth[0] ? c->auth : NULL, c->body.data ? c->body.data : "", c->body.len,
			    answer, sizeof(answer));
	memset(c->auth, 0, sizeof(c->auth));
	switch (status) {
	case 200: reason = "OK"; break;
	case 400: reason = "Bad Request"; break;
	case 401: reason = "Unauthorized"; break;
	case 409: reason = "Conflict"; break;
	default: reason = "Error"; break;
	}
	reply(c, status, reason, "application/json", status == 401 ? "WWW-Authenticate: Bearer\r\n" : NULL, answer,
	      strlen(answer), 0, 0);
}

/* A POST to the push path: reads its body (Content-Length, at most
 * post_max), then post_done. FROM..FROM+N are body bytes that came with
 * the head. */
static void post_begin(client *c, const char *head, const char *from, size_t n)
{
	web_server *w = c->w;
	char len[32];
	uint64_t want;
	char *end;

	if (header_value(head, "content-length", len, sizeof(len)) < 0) {
		reply_text(c, 411, "Length Required", NULL, 0);
		return;
	}
	want = strtoull(len, &end, 10);
	if (end == len || *end || len[0] == '-') {
		reply_text(c, 400, "Bad Request", NULL, 0);
		return;
	}
	if (want > w->post_max) {
		reply_text(c, 413, "Content Too Large", NULL, 0);
		return;
	}
	if (header_value(head, "authorization", c->auth, sizeof(c->auth)) < 0)
		c->auth[0] = '\0';
	c->state = C_BODY;
	c->body_want = (size_t)want;
	buf_init(&c->body, want < 65536 ? (size_t)want + 1 : 65536, w->post_max + 1);
	if (n > want)
		n = (size_t)want; /* a pipelined request after it: ignored */
	if (n && buf_append(&c->body, from, n) < 0) {
		reply_text(c, 413, "Content Too Large", NULL, 0);
		return;
	}
	if (c->body.len == c->body_want)
		post_done(c);
}

/* One complete request head in c->head. */
static void request(client *c)
{
	web_server *w = c->w;
	char *sp1, *sp2, *q, *path;
	int head_only;
	char *hend, full[WEB_HEAD_MAX];
	size_t hlen;

	/* An answer that is not a stream must be taken within this time too,
	 * or the slot would be held by a client that never reads. */
	ev_timer_start(w->loop, &c->timer, ev_now(w->loop) + WEB_REPLY_TIMEOUT);
	c->head[c->nhead] = '\0';
	hend = memmem(c->head, c->nhead, "\r\n\r\n", 4);
	hlen = hend ? (size_t)(hend - c->head) + 4 : (size_t)((char *)memmem(c->head, c->nhead, "\n\n", 2) - c->head) + 2;
	memcpy(full, c->head, c->nhead + 1);
	if (!host_allowed(w, c->head)) {
		reply_text(c, 403, "Forbidden", NULL, 0);
		return;
	}
	c->head[strcspn(c->head, "\r\n")] = '\0'; /* the request line */
	sp1 = strchr(c->head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		reply_text(c, 400, "Bad Request", NULL, 0);
		return;
	}
	*sp1 = *sp2 = '\0';
	path = sp1 + 1;
	q = strpbrk(path, "?#");
	if (q)
		*q = '\0';
	head_only = strcmp(c->head, "HEAD") == 0;
	if (w->post_fn && strcmp(path, w->post_path) == 0) {
		if (strcmp(c->head, "POST") != 0)
			reply_text(c, 405, "Method Not Allowed", "Allow: POST\r\n", head_only);
		else
			post_begin(c, full, full + hlen, c->nhead - hlen);
		return;
	}
	if (!head_only && strcmp(c->head, "GET") != 0) {
		/* Nothing here changes anything. */
		reply_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", 0);
		return;
	}
	if (!w->dashboard) {
		reply_text(c, 404, "Not Found", NULL, head_only);
	} else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		reply(c, 200, "OK", "text/html; charset=utf-8", NULL, w->page, w->page_len, head_only, 1);
	} else if (strcmp(path, "/summary.json") == 0) {
		if (w->final) {
			reply(c, 200, "OK", "application/json", NULL, w->final, w->final_len, head_only, 1);
		} else {
			size_t n;
			const char *doc = live_get(w, &n);

			reply(c, 200, "OK", "application/json", NULL, doc, n, head_only, 0);
		}
	} else if (strcmp(path, "/events") == 0) {
		events_begin(c, head_only);
	} else if (strcmp(path, "/favicon.ico") == 0) {
		/* Browsers ask for it; a 404 would be an error in their console. */
		reply(c, 204, "No Content", "image/x-icon", NULL, "", 0, 1, 0);
	} else {
		reply_text(c, 404, "Not Found", NULL, head_only);
	}
}

/* The end of the head: an empty line, "\r\n\r\n" or a bare "\n\n". */
static int head_complete(const client *c)
{
	return memmem(c->head, c->nhead, "\r\n\r\n", 4) || memmem(c->head, c->nhead, "\n\n", 2);
}

/* One step of the TLS handshake, never blocking: the head timeout bounds a
 * client that stalls in it. Returns 0 when done, 1 while waiting for the
 * socket, -1 when the client is gone or was answered. */
static int handshake_step(client *c)
{
	web_server *w = c->w;
	int rc = SSL_do_handshake(c->ssl), e;
	unsigned long why;

	if (rc == 1) {
		c->handshaking = 0;
		return 0;
	}
	e = SSL_get_error(c->ssl, rc);
	why = ERR_peek_error();
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (ev_io_set(w->loop, &c->io, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE) < 0) {
			client_close(c);
			return -1;
		}
		return 1;
	}
	if (e == SSL_ERROR_SSL && ERR_GET_LIB(why) == ERR_LIB_SSL && ERR_GET_REASON(why) == SSL_R_HTTP_REQUEST) {
		/* Plain HTTP to the HTTPS port: say so in plain HTTP (as nginx
		 * does), so the pusher's warning tells what to change. */
		static const char msg[] = "this server speaks HTTPS: use an https:// URL\n";

		SSL_free(c->ssl);
		c->ssl = NULL;
		c->handshaking = 0;
		reply(c, 400, "Bad Request", "text/plain; charset=utf-8", NULL, msg, sizeof(msg) - 1, 0, 0);
		return -1;
	}
	client_close(c);
	return -1;
}

static void client_io(ev_loop *loop, ev_io *io, unsigned events)
{
	client *c = container_of(io, client, io);

	if (c->state == C_FREE)
		return; /* a stale event of a slot closed earlier in this pass */
	if (c->handshaking) {
		if (events & EV_ERROR) {
			client_close(c);
			return;
		}
		if (handshake_step(c) != 0)
			return;
		if (ev_io_set(loop, &c->io, EV_READ) < 0) {
			client_close(c);
			return;
		}
		events = EV_READ; /* the request may be right behind the handshake */
	}
	if (events & EV_READ) {
		char scratch[4096];

		for (;;) {
			char *dst = scratch;
			size_t room = sizeof(scratch);
			ssize_t got;

			if (c->state == C_HEAD) {
				dst = c->head + c->nhead;
				room = sizeof(c->head) - 1 - c->nhead;
				if (!room) {
					reply_text(c, 431, "Request Header Fields Too Large", NULL, 0);
					return;
				}
			}
			got = conn_recv(c, dst, room);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (got <= 0) {
				client_close(c); /* the client left, or our drain is done */
				return;
			}
			if (c->state == C_HEAD) {
				c->nhead += (size_t)got;
				if (head_complete(c)) {
					request(c);
					if (c->state == C_FREE)
						return;
				}
			} else if (c->state == C_BODY) {
				size_t take = (size_t)got;

				if (take > c->body_want - c->body.len)
					take = c->body_want - c->body.len;
				if (buf_append(&c->body, scratch, take) < 0) {
					reply_text(c, 413, "Content Too Large", NULL, 0);
					return;
				}
				if (c->body.len == c->body_want) {
					post_done(c);
					if (c->state == C_FREE)
						return;
				}
			}
			/* Anything after the head (a body, another request) is read
			 * and ignored: every answer here closes. */
		}
	}
	if (c->state != C_FREE && (events & (EV_WRITE | EV_ERROR)))
		client_flush(c);
	(void)loop;
}

static void client_timeout(ev_loop *loop, ev_timer *t)
{
	client *c = container_of(t, client, timer);

	(void)loop;
	if (c->state != C_EVENTS)
		client_close(c);
}

static void accept_io(ev_loop *loop, ev_io *io, unsigned events)
{
	web_server *w = container_of(io, web_server, lio);

	(void)events;
	for (;;) {
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		client *c = NULL;
		uint32_t i;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: try on the next event */
		}
		for (i = 0; i < w->nclients && !c; i++)
			if (w->clients[i].state == C_FREE)
				c = &w->clients[i];
		if (!c) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
						   "Connection: close\r\n\r\n";

			/* Over TLS the plain answer would only confuse the
			 * client: the close alone says it. */
			if (!w->tls)
				(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->w = w;
		c->state = C_HEAD;
		ev_io_init(&c->io, fd, client_io);
		ev_timer_init(&c->timer, client_timeout);
		buf_init(&c->out, 0, WEB_OUT_MAX + 512);
		if (w->tls) {
			c->ssl = SSL_new(w->tls);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
				client_close(c);
				continue;
			}
			SSL_set_accept_state(c->ssl);
			c->handshaking = 1;
		}
		if (ev_io_set(loop, &c->io, EV_READ) < 0) {
			client_close(c);
			continue;
		}
		ev_timer_start(loop, &c->timer, ev_now(loop) + WEB_HEAD_TIMEOUT);
	}
}

/* ---- pushes (server thread) ---- */

static void push_live(web_server *w)
{
	char *ev = NULL;
	size_t n = 0;
	uint32_t i;

	free(w->live);
	w->live = NULL;
	for (i = 0; i < w->nclients; i++) {
		client *c = &w->clients[i];

		if (c->state != C_EVENTS || c->got_final)
			continue;
		if (!ev) {
			size_t len;
			const char *doc = live_get(w, &len);

			ev = event_build(NULL, doc, &n);
		}
		if (client_queue(c, ev, n) == 0)
			client_flush(c);
	}
	free(ev);
}

static void push_final(web_server *w, char *summary)
{
	uint32_t i;

	w->final_event = event_build("final", summary, &w->final_event_len);
	/* Served as a file, like --summary-export writes it: with its newline. */
	w->final_len = strlen(summary);
	w->final = xrealloc(summary, w->final_len + 2);
	memcpy(w->final + w->final_len, "\n", 2);
	w->final_len++;
	for (i = 0; i < w->nclients; i++) {
		client *c = &w->clients[i];

		if (c->state != C_EVENTS || c->got_final)
			continue;
		c->tail = w->final_event;
		c->tail_len = w->final_event_len;
		c->tail_sent = 0;
		c->got_final = 1;
		client_flush(c);
	}
}

static void close_grace_over(ev_loop *loop, ev_timer *t)
{
	(void)t;
	ev_loop_stop(loop);
}

/* Stops accepting and closes every connection that is owed nothing; the
 * others get WEB_CLOSE_GRACE to take the rest, and the loop ends when the
 * last is done. */
static void closing_begin(web_server *w)
{
	uint32_t i, left = 0;

	w->closing = 1;
	ev_io_set(w->loop, &w->lio, 0);
	ev_io_set(w->loop, &w->wio, 0);
	ev_timer_stop(w->loop, &w->keepalive);
	for (i = 0; i < w->nclients; i++) {
		client *c = &w->clients[i];

		if (c->state == C_FREE)
			continue;
		if ((c->state == C_EVENTS || c->state == C_REPLY) && client_pending(c))
			left++;
		else
			client_close(c);
	}
	if (!left) {
		ev_loop_stop(w->loop);
		return;
	}
	ev_timer_init(&w->keepalive, close_grace_over);
	ev_timer_start(w->loop, &w->keepalive, clock_mono_ns() + WEB_CLOSE_GRACE);
}

static void wake_io(ev_loop *loop, ev_io *io, unsigned events)
{
	web_server *w = container_of(io, web_server, wio);
	uint64_t v;
	char *fin;
	int stopping;

	(void)events;
	(void)loop;
	while (read(w->wake_fd, &v, sizeof(v)) > 0)
		;
	/* Read before the final summary: web_final comes before the stop, so
	 * once the stop is seen the summary is there to be taken too. */
	stopping = atomic_load(&w->stop);
	pthread_mutex_lock(&w->mu);
	fin = w->final_in;
	w->final_in = NULL;
	pthread_mutex_unlock(&w->mu);
	if (atomic_exchange(&w->snapshots, 0) && !w->final)
		push_live(w);
	if (fin && !w->final)
		push_final(w, fin);
	else
		free(fin);
	if (stopping)
		closing_begin(w);
}

static void keepalive_timer(ev_loop *loop, ev_timer *t)
{
	web_server *w = container_of(t, web_server, keepalive);
	static const char ka[] = ": keep-alive\n\n";
	uint32_t i;

	for (i = 0; i < w->nclients; i++) {
		client *c = &w->clients[i];

		/* Only an idle stream needs it; a busy one is not idle. */
		if (c->state == C_EVENTS && !client_pending(c) && client_queue(c, ka, sizeof(ka) - 1) == 0)
			client_flush(c);
	}
	ev_timer_start(loop, t, ev_now(loop) + WEB_KEEPALIVE);
}

static void *web_main(void *p)
{
	web_server *w = p;

	if (ev_loop_run(w->loop) < 0)
		fprintf(stderr, "strain: live dashboard: %s; it stops serving\n", strerror(errno));
	return NULL;
}

/* ---- the collector output (collector thread): only a wake-up ---- */

static void web_snapshot(void *self, const met_snapshot *snap)
{
	web_server *w = self;
	uint64_t one = 1;

	atomic_store(&w->elapsed_ns, snap->elapsed_ns);
	atomic_store(&w->snapshots, 1);
	/* A non-blocking eventfd: never waits, whatever the server does. */
	(void)!write(w->wake_fd, &one, sizeof(one));
}

met_output web_output(web_server *w)
{
	met_output o = {web_snapshot, w};

	return o;
}

/* ---- life cycle (main thread) ---- */

web_server *web_create(const char *addr, char *err, size_t errsz)
{
	web_server *w = xcalloc(1, sizeof(*w));
	char shown[80];

	w->lfd = w->wake_fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	w->nclients = WEB_MAX_CLIENTS;
	w->clients = xcalloc(w->nclients, sizeof(*w->clients));
	if (net_parse_listen(addr, &w->addr, err, errsz) < 0)
		goto fail;
	w->lfd = net_listen(&w->addr, 64, 0);
	if (w->lfd < 0) {
		int e = errno;

		snprintf(err, errsz, "cannot listen there: %s%s", strerror(e),
			 e == EADDRINUSE ? " (another program has the port; give another with --web HOST:PORT)" : "");
		goto fail;
	}
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->loop = ev_loop_create(WEB_MAX_CLIENTS + 2);
	if (w->wake_fd < 0 || !w->loop) {
		snprintf(err, errsz, "%s", strerror(errno));
		goto fail;
	}
	snprintf(w->url, sizeof(w->url), "http://%s/", net_addr_str(&w->addr, shown, sizeof(shown)));
	return w;
fail:
	web_destroy(w);
	return NULL;
}

const char *web_url(const web_server *w)
{
	return w->url;
}

int web_set_post(web_server *w, const char *path, size_t body_max, uint32_t max_clients, web_post_fn fn, void *ctx)
{
	ev_loop *loop;

	if (w->started || strlen(path) >= sizeof(w->post_path) || max_clients < 1)
		return -1;
	loop = ev_loop_create(max_clients + 2);
	if (!loop)
		return -1;
	ev_loop_destroy(w->loop);
	w->loop = loop;
	free(w->clients);
	w->nclients = max_clients;
	w->clients = xcalloc(w->nclients, sizeof(*w->clients));
	snprintf(w->post_path, sizeof(w->post_path), "%s", path);
	w->post_max = body_max;
	w->post_fn = fn;
	w->post_ctx = ctx;
	return 0;
}

int web_set_tls(web_server *w, SSL_CTX *ctx)
{
	char shown[80];

	if (w->started || !ctx)
		return -1;
	w->tls = ctx;
	snprintf(w->url, sizeof(w->url), "https://%s/", net_addr_str(&w->addr, shown, sizeof(shown)));
	return 0;
}

int web_start(web_server *w, const web_run *run, char *err, size_t errsz)
{
	static const web_run none;
	sigset_t all, old;
	int rc;

	w->dashboard = run != NULL;
	if (!run)
		run = &none;
	w->run = *run;
	w->phases = xcalloc(run->cfg ? run->cfg->nphases + 1 : 1, sizeof(*w->phases));
	w->phases_seen = xcalloc(run->cfg ? run->cfg->nphases + 1 : 1, sizeof(*w->phases));
	w->page = web_doc_page(&w->page_len);
	ev_io_init(&w->lio, w->lfd, accept_io);
	ev_io_init(&w->wio, w->wake_fd, wake_io);
	ev_timer_init(&w->keepalive, keepalive_timer);
	if (ev_io_set(w->loop, &w->lio, EV_READ) < 0 || ev_io_set(w->loop, &w->wio, EV_READ) < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	ev_timer_start(w->loop, &w->keepalive, clock_mono_ns() + WEB_KEEPALIVE);
	/* Signals are the main thread's to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, web_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errsz, "cannot start its thread: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

static void wake(web_server *w)
{
	uint64_t one = 1;

	(void)!write(w->wake_fd, &one, sizeof(one));
}

void web_phase(web_server *w, uint32_t i, uint64_t start_ns, uint64_t end_ns)
{
	if (!w || !w->phases || !w->run.cfg || i >= w->run.cfg->nphases)
		return;
	pthread_mutex_lock(&w->mu);
	w->phases[i].started = 1;
	w->phases[i].start_ns = start_ns;
	w->phases[i].end_ns = end_ns;
	pthread_mutex_unlock(&w->mu);
}

void web_final(web_server *w, const char *summary)
{
	char *copy;

	if (!w || !summary)
		return;
	copy = xstrdup(summary);
	pthread_mutex_lock(&w->mu);
	free(w->final_in);
	w->final_in = copy;
	pthread_mutex_unlock(&w->mu);
	wake(w);
}

void web_destroy(web_server *w)
{
	uint32_t i;

	if (!w)
		return;
	if (w->started) {
		atomic_store(&w->stop, 1);
		wake(w);
		pthread_join(w->thread, NULL);
	}
	for (i = 0; i < w->nclients; i++)
		if (w->clients[i].state != C_FREE)
			client_close(&w->clients[i]);
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	ev_loop_destroy(w->loop);
	pthread_mutex_destroy(&w->mu);
	free(w->phases);
	free(w->phases_seen);
	free(w->final_in);
	free(w->page);
	free(w->live);
	free(w->final);
	free(w->final_event);
	free(w->clients);
	free(w);
}
