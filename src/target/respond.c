/* Response writing of the target: status lines, heads, bodies, and the
 * counting and ending of a request. */
#include "target/respond.h"

#include <sys/uio.h>
#include <time.h>

#include "target/routes.h"
#include "target/server.h"

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

static const char *date_now(tgt_worker *w)
{
	time_t now = time(NULL);

	if ((long long)now != w->date_sec) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_sec = (long long)now;
	}
	return w->date;
}

static int bodiless(int status)
{
	return status < 200 || status == 204 || status == 304;
}

/* Builds a response head in w->hbuf. */
static void build_head(tgt_conn *c, int status, const char *ctype, const char *extra,
		       size_t extra_len, int64_t clen)
{
	buf *h = &c->w->hbuf;
	const char *conn = "";

	if (c->req.close || c->close_after)
		conn = "Connection: close\r\n";
	else if (c->req.minor == 0)
		conn = "Connection: keep-alive\r\n";
	h->len = 0;
	buf_printf(h, "HTTP/1.1 %d %s\r\nServer: strain-target\r\nDate: %s\r\n", status,
		   reason(status), date_now(c->w));
	if (!bodiless(status) || clen >= 0) {
		if (ctype)
			buf_printf(h, "Content-Type: %s\r\n", ctype);
		if (clen >= 0 && status >= 200 && status != 204)
			buf_printf(h, "Content-Length: %lld\r\n", (long long)clen);
		else if (clen == -1)
			buf_appends(h, "Transfer-Encoding: chunked\r\n");
	}
	buf_appends(h, conn);
	if (extra && extra_len)
		buf_append(h, extra, extra_len);
	buf_appends(h, "\r\n");
}

void tgt_send_head(tgt_conn *c, int status, const char *ctype, const char *extra, size_t extra_len,
		    int64_t clen)
{
	build_head(c, status, ctype, extra, extra_len, clen);
	tgt_send(c, c->w->hbuf.data, c->w->hbuf.len);
}

static void request_end(tgt_conn *c)
{
	if (c->req.close)
		c->close_after = 1;
	c->state = CS_HEAD;
	c->line_checked = 0;
	c->want_body = 0;
	c->head_scan = 0;
	c->bodybuf.len = 0;
}

/* Counted before the answer leaves: a client that reads /__stats right
 * after its response must find it counted, even on another worker. */
void tgt_count(tgt_conn *c, int slot)
{
	if (c->counted)
		return;
	c->counted = 1;
	if (c->req.route != R_STATS && c->req.route != R_STATS_RESET)
		stats_count(c->w->stats, c->req.route, slot);
}

void tgt_finish(tgt_conn *c, int slot)
{
	tgt_count(c, slot);
	request_end(c);
	c->counted = 0;
}

void tgt_finish_close(tgt_conn *c, int slot, int rst)
{
	tgt_count(c, slot);
	request_end(c);
	c->counted = 0;
	c->close_after = 1;
	if (rst)
		tgt_conn_close(c, 1);
}

void tgt_respond(tgt_conn *c, int status, const char *ctype, const char *extra, size_t extra_len,
		  const char *body, size_t blen)
{
	struct iovec iov[2];
	int send_body = !bodiless(status) && c->req.method != TM_HEAD;

	if (c->req.close)
		c->close_after = 1;
	build_head(c, status, ctype ? ctype : "application/json", extra, extra_len,
		   bodiless(status) ? -2 : (int64_t)blen);
	iov[0].iov_base = c->w->hbuf.data;
	iov[0].iov_len = c->w->hbuf.len;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = send_body ? blen : 0;
	tgt_count(c, status);
	tgt_conn_sendv(c, iov, send_body && blen ? 2 : 1);
	tgt_finish(c, status);
}

void tgt_error(tgt_conn *c, int status, const char *msg)
{
	buf *j = &c->w->json;

	j->len = 0;
	buf_printf(j, "{\"error\":\"%s\",\"status\":%d}\n", msg, status);
	tgt_respond(c, status, NULL, NULL, 0, j->data, j->len);
}
