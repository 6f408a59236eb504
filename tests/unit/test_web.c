/* The live dashboard's server (report/web) over real loopback sockets: the
 * event stream's framing (a multi-line summary as "data:" lines), the
 * final summary served as the export writes it, and a stream that is never
 * read being dropped once its bounded buffer is full while other clients
 * are still served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "report/web.h"

static int port_of(const web_server *w)
{
	const char *colon = strrchr(web_url(w), ':');

	return atoi(colon + 1);
}

static int connect_to(const web_server *w, int rcvbuf)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port_of(w));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads into out (NUL-terminated) until it holds WANT, the peer closes,
 * or nothing comes for 10 s. Returns the bytes read. */
static size_t read_until(int fd, char *out, size_t outsz, const char *want)
{
	size_t n = 0;

	out[0] = '\0';
	while (n + 1 < outsz && !(want && strstr(out, want))) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t got;

		if (poll(&p, 1, 10000) <= 0)
			break;
		got = recv(fd, out + n, outsz - 1 - n, 0);
		if (got <= 0)
			break;
		n += (size_t)got;
		out[n] = '\0';
	}
	return n;
}

static web_server *start(const char *description)
{
	char err[256];
	web_server *w = web_create("127.0.0.1:0", err, sizeof(err));
	web_run run = {description, NULL, NULL, NULL, NULL, NULL, clock_wall_ns()};

	assert_non_null(w);
	assert_int_equal(web_start(w, &run, err, sizeof(err)), 0);
	return w;
}

static void snapshot(web_server *w, uint64_t elapsed_ns)
{
	met_output o = web_output(w);
	met_snapshot snap = {.elapsed_ns = elapsed_ns, .interval_ns = NS_PER_SEC};

	o.snapshot(o.self, &snap);
}

static void test_stream_framing_and_final(void **state)
{
	static char got[65536];
	web_server *w = start("framing");
	int ev = connect_to(w, 0), c;

	(void)state;
	send_all(ev, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	/* At once: the headers, the retry hint and the live document. */
	read_until(ev, got, sizeof(got), "}\n\n");
	assert_non_null(strstr(got, "Content-Type: text/event-stream\r\n"));
	assert_non_null(strstr(got, "\r\n\r\nretry: 2000\n\ndata: {"));
	assert_non_null(strstr(got, "\"description\":\"framing\""));
	assert_non_null(strstr(got, "\"live\":true"));
	snapshot(w, 1000 * NS_PER_MS);
	read_until(ev, got, sizeof(got), "\"elapsed_ms\":1000");
	assert_non_null(strstr(got, "\"elapsed_ms\":1000"));
	/* The final summary, one "data:" line per line of it. */
	web_final(w, "{\n  \"a\": 1\n}");
	read_until(ev, got, sizeof(got), "\n\n");
	assert_string_equal(strstr(got, "event: final"), "event: final\ndata: {\ndata:   \"a\": 1\ndata: }\n\n");
	/* Served after the end as the export writes it: with a newline. */
	c = connect_to(w, 0);
	send_all(c, "GET /summary.json?x=1 HTTP/1.0\r\n\r\n");
	read_until(c, got, sizeof(got), NULL);
	assert_non_null(strstr(got, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(got, "Content-Length: 13\r\n"));
	assert_string_equal(strstr(got, "\r\n\r\n") + 4, "{\n  \"a\": 1\n}\n");
	close(c);
	/* A request line that is not HTTP, and a head too large. */
	c = connect_to(w, 0);
	send_all(c, "hello\r\n\r\n");
	read_until(c, got, sizeof(got), NULL);
	assert_true(strncmp(got, "HTTP/1.1 400 ", 13) == 0);
	close(c);
	c = connect_to(w, 0);
	{
		static char big[9000];

		memset(big, 'a', sizeof(big) - 1);
		memcpy(big, "GET /", 5);
		send(c, big, sizeof(big) - 1, MSG_NOSIGNAL);
	}
	read_until(c, got, sizeof(got), NULL);
	assert_true(strncmp(got, "HTTP/1.1 431 ", 13) == 0);
	close(c);
	close(ev);
	web_destroy(w);
}

static void test_a_stream_never_read_is_dropped(void **state)
{
	enum { DESC = 64 * 1024, PUSHES = 600 };
	static char desc[DESC + 1], got[256 * 1024];
	web_server *w;
	int slow, i;
	size_t total = 0, doc = 0;

	(void)state;
	/* A live document of 64 KiB (its description): 600 of them are far
	 * more than the 8 MiB a client may leave unread plus what the kernel
	 * buffers on both sides. */
	memset(desc, 'x', DESC);
	w = start(desc);
	slow = connect_to(w, 4096);
	send_all(slow, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	for (i = 0; i < PUSHES; i++) {
		int c;
		size_t n;

		snapshot(w, (uint64_t)(i + 1) * NS_PER_SEC);
		/* Every other client is still served meanwhile (and the round trip
		 * lets the server's thread take the snapshot in). */
		c = connect_to(w, 0);
		send_all(c, "GET /summary.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
		n = read_until(c, got, sizeof(got), NULL);
		assert_true(n > DESC);
		assert_non_null(strstr(got, "HTTP/1.1 200 OK\r\n"));
		close(c);
		doc = n;
	}
	/* The slow client: whatever was sent before it was dropped, then the
	 * end of the stream (not a stream still waiting for it to read). */
	for (;;) {
		struct pollfd p = {slow, POLLIN, 0};
		ssize_t n;

		assert_true(poll(&p, 1, 10000) == 1);
		n = recv(slow, got, sizeof(got), 0);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	assert_true(total < (size_t)PUSHES * doc / 2);
	close(slow);
	web_destroy(w);
}

static void test_busy_port(void **state)
{
	char err[256], addr[64];
	web_server *a = start("a"), *b;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port_of(a));
	b = web_create(addr, err, sizeof(err));
	assert_null(b);
	assert_non_null(strstr(err, "in use"));
	web_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_framing_and_final),
		cmocka_unit_test(test_a_stream_never_read_is_dropped),
		cmocka_unit_test(test_busy_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
