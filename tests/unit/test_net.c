/* io/net's parsers of addresses given by the user: k6's --local-ips
 * (lists, FROM-TO ranges, IP/BITS blocks, IPv4 and IPv6, the cap, and
 * what is refused) and the numeric IP[:PORT] of a plan's hosts:. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/net.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The address of a, without its port. */
static void ip_str(const net_addr *a, char *out, size_t n)
{
	if (a->sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->sa)->sin_addr, out, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->sa)->sin6_addr, out, (socklen_t)n);
}

static void test_ip_lists(void **state)
{
	static const struct {
		const char *spec;
		int n;
		const char *first, *last;
	} cases[] = {
		{"127.0.0.2", 1, "127.0.0.2", "127.0.0.2"},
		{"127.0.0.2,127.0.0.9", 2, "127.0.0.2", "127.0.0.9"},
		{"127.0.0.2-127.0.0.5", 4, "127.0.0.2", "127.0.0.5"},
		{"127.0.0.5-127.0.0.5", 1, "127.0.0.5", "127.0.0.5"},
		/* A range crosses octets like a number. */
		{"10.0.0.254-10.0.1.1", 4, "10.0.0.254", "10.0.1.1"},
		/* A block is every address in it, network and broadcast included (as k6). */
		{"192.168.1.0/30", 4, "192.168.1.0", "192.168.1.3"},
		{"192.168.1.7/30", 4, "192.168.1.4", "192.168.1.7"},
		{"10.1.2.3/32", 1, "10.1.2.3", "10.1.2.3"},
		{"::1", 1, "::1", "::1"},
		{"fd00::1-fd00::3", 3, "fd00::1", "fd00::3"},
		{"fd00::ff-fd00::100", 2, "fd00::ff", "fd00::100"},
		{"fd00::/126", 4, "fd00::", "fd00::3"},
		/* Families may mix across items, in the order given. */
		{"127.0.0.2,::1,127.0.0.3/31", 4, "127.0.0.2", "127.0.0.3"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		net_addr *v = NULL;
		char err[256] = "", first[64], last[64];
		int n = net_parse_ip_list(cases[i].spec, &v, 65536, err, sizeof(err));

		if (n != cases[i].n)
			fail_msg("%s: %d addresses (want %d): %s", cases[i].spec, n, cases[i].n, err);
		ip_str(&v[0], first, sizeof(first));
		ip_str(&v[n - 1], last, sizeof(last));
		if (strcmp(first, cases[i].first) || strcmp(last, cases[i].last))
			fail_msg("%s: %s..%s (want %s..%s)", cases[i].spec, first, last, cases[i].first, cases[i].last);
		/* Port 0: connect picks it. */
		assert_int_equal(((struct sockaddr_in *)&v[0].sa)->sin_port, 0);
		free(v);
	}
}

static void test_ip_lists_refused(void **state)
{
	static const struct {
		const char *spec;
		const char *why;
	} cases[] = {
		{"", "is not an IP address"},
		{"127.0.0.2,", "is not an IP address"},
		{"localhost", "'localhost' is not an IP address, range or CIDR block"},
		{"127.0.0.300", "is not an IP address"},
		{"127.0.0.5-127.0.0.2", "the range ends before it starts"},
		{"127.0.0.2-::1", "two addresses of one family"},
		{"127.0.0.2-", "expected FROM-TO"},
		{"127.0.0.0/33", "a prefix length from 0 to 32"},
		{"::/129", "a prefix length from 0 to 128"},
		{"127.0.0.0/", "expected IP/BITS"},
		{"127.0.0.0/x", "expected IP/BITS"},
		{"127.0.0.0/-1", "expected IP/BITS"},
		{"127.0.0.0/24-127.0.1.0", "expected IP/BITS"},
		/* The cap: more addresses than allowed, however they are written. */
		{"10.0.0.0/8", "more than 1024 addresses"},
		{"fd00::/64", "more than 1024 addresses"},
		{"10.0.0.0-10.0.3.255,10.0.4.0", "more than 1024 addresses"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		net_addr *v = (net_addr *)&v;
		char err[256] = "";
		int n = net_parse_ip_list(cases[i].spec, &v, 1024, err, sizeof(err));

		if (n != -1 || !strstr(err, cases[i].why))
			fail_msg("'%s': %d, '%s' (want -1, '%s')", cases[i].spec, n, err, cases[i].why);
		/* Nothing is handed back on failure. */
		assert_ptr_equal(v, (net_addr *)&v);
	}
}

static void test_cap_exactly(void **state)
{
	net_addr *v = NULL;
	char err[256];

	(void)state;
	assert_int_equal(net_parse_ip_list("10.0.0.0-10.0.3.255", &v, 1024, err, sizeof(err)), 1024);
	free(v);
}

static void test_numeric(void **state)
{
	static const struct {
		const char *s;
		int ok, port, fam;
	} cases[] = {
		{"127.0.0.3", 1, 0, AF_INET},
		{"127.0.0.3:8080", 1, 8080, AF_INET},
		{"::1", 1, 0, AF_INET6},
		{"fd00::1", 1, 0, AF_INET6},
		{"[::1]:9", 1, 9, AF_INET6},
		{"[::1]", 0, 0, 0},
		{"[127.0.0.1]:80", 0, 0, 0},
		{"127.0.0.3:0", 0, 0, 0},
		{"127.0.0.3:65536", 0, 0, 0},
		{"127.0.0.3:", 0, 0, 0},
		{"localhost", 0, 0, 0},
		{"localhost:80", 0, 0, 0},
		{"", 0, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		net_addr a;
		int port = -1, rc = net_parse_numeric(cases[i].s, &a, &port);

		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': %d", cases[i].s, rc);
		if (!cases[i].ok)
			continue;
		assert_int_equal(port, cases[i].port);
		assert_int_equal(a.sa.ss_family, cases[i].fam);
		if (cases[i].fam == AF_INET)
			assert_int_equal(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), cases[i].port);
		else
			assert_int_equal(ntohs(((struct sockaddr_in6 *)&a.sa)->sin6_port), cases[i].port);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_lists),
		cmocka_unit_test(test_ip_lists_refused),
		cmocka_unit_test(test_cap_exactly),
		cmocka_unit_test(test_numeric),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
