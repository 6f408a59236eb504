/* io/resolve: k6's dns names, the policy filter (which family an answer
 * keeps), the select rules (which address a new connection takes), and
 * views of hosts that never go to DNS (numeric, or pinned by hosts:). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/resolve.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static net_addr v4(const char *s)
{
	net_addr a;
	struct sockaddr_in *p = (struct sockaddr_in *)&a.sa;

	memset(&a, 0, sizeof(a));
	p->sin_family = AF_INET;
	inet_pton(AF_INET, s, &p->sin_addr);
	a.len = sizeof(*p);
	return a;
}

static net_addr v6(const char *s)
{
	net_addr a;
	struct sockaddr_in6 *p = (struct sockaddr_in6 *)&a.sa;

	memset(&a, 0, sizeof(a));
	p->sin6_family = AF_INET6;
	inet_pton(AF_INET6, s, &p->sin6_addr);
	a.len = sizeof(*p);
	return a;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(resolve_select_parse("first"), RESOLVE_SELECT_FIRST);
	assert_int_equal(resolve_select_parse("random"), RESOLVE_SELECT_RANDOM);
	assert_int_equal(resolve_select_parse("roundRobin"), RESOLVE_SELECT_ROUND_ROBIN);
	/* k6's spelling exactly. */
	assert_int_equal(resolve_select_parse("roundrobin"), -1);
	assert_int_equal(resolve_select_parse(""), -1);
	assert_int_equal(resolve_policy_parse("preferIPv4"), RESOLVE_PREFER_IPV4);
	assert_int_equal(resolve_policy_parse("preferIPv6"), RESOLVE_PREFER_IPV6);
	assert_int_equal(resolve_policy_parse("onlyIPv4"), RESOLVE_ONLY_IPV4);
	assert_int_equal(resolve_policy_parse("onlyIPv6"), RESOLVE_ONLY_IPV6);
	assert_int_equal(resolve_policy_parse("any"), RESOLVE_ANY);
	assert_int_equal(resolve_policy_parse("ipv4"), -1);
}

/* Which of in[] (by index) the policy keeps, in order. */
static void expect_filter(const net_addr *in, uint32_t n, int policy, const int *want, uint32_t nwant, uint32_t max)
{
	net_addr out[8];
	uint32_t k = resolve_filter(in, n, policy, out, max), i;

	assert_int_equal(k, nwant);
	for (i = 0; i < k; i++)
		assert_memory_equal(&out[i], &in[want[i]], sizeof(net_addr));
}

static void test_filter(void **state)
{
	net_addr mixed[4] = {v4("10.0.0.1"), v6("fd00::1"), v4("10.0.0.2"), v6("fd00::2")};
	net_addr only6[2] = {v6("fd00::1"), v6("fd00::2")};
	net_addr only4[2] = {v4("10.0.0.1"), v4("10.0.0.2")};
	static const int fours[] = {0, 2}, sixes[] = {1, 3}, all[] = {0, 1, 2, 3}, both[] = {0, 1};

	(void)state;
	expect_filter(mixed, 4, RESOLVE_PREFER_IPV4, fours, 2, 8);
	expect_filter(mixed, 4, RESOLVE_PREFER_IPV6, sixes, 2, 8);
	expect_filter(mixed, 4, RESOLVE_ONLY_IPV4, fours, 2, 8);
	expect_filter(mixed, 4, RESOLVE_ONLY_IPV6, sixes, 2, 8);
	expect_filter(mixed, 4, RESOLVE_ANY, all, 4, 8);
	/* prefer falls back to the other family; only does not. */
	expect_filter(only6, 2, RESOLVE_PREFER_IPV4, both, 2, 8);
	expect_filter(only4, 2, RESOLVE_PREFER_IPV6, both, 2, 8);
	expect_filter(only6, 2, RESOLVE_ONLY_IPV4, NULL, 0, 8);
	expect_filter(only4, 2, RESOLVE_ONLY_IPV6, NULL, 0, 8);
	/* At most max, the first ones. */
	expect_filter(mixed, 4, RESOLVE_ANY, all, 3, 3);
	expect_filter(mixed, 0, RESOLVE_ANY, NULL, 0, 8);
}

static void test_select(void **state)
{
	uint32_t next = 0, i, seen[5] = {0};
	uint64_t rng = 12345, rng2 = 12345;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(resolve_select(RESOLVE_SELECT_FIRST, 3, &next, &rng), 0);
	for (i = 0; i < 9; i++)
		assert_int_equal(resolve_select(RESOLVE_SELECT_ROUND_ROBIN, 3, &next, &rng), i % 3);
	/* A start past n wraps; a set that shrank keeps the turn in range. */
	next = 7;
	assert_int_equal(resolve_select(RESOLVE_SELECT_ROUND_ROBIN, 3, &next, &rng), 1);
	assert_int_equal(resolve_select(RESOLVE_SELECT_ROUND_ROBIN, 3, &next, &rng), 2);
	assert_int_equal(resolve_select(RESOLVE_SELECT_ROUND_ROBIN, 1, &next, &rng), 0);
	assert_int_equal(resolve_select(RESOLVE_SELECT_ROUND_ROBIN, 1, &next, &rng), 0);
	/* random: in range, every address drawn, the same stream for the same seed. */
	for (i = 0; i < 1000; i++) {
		uint32_t a = resolve_select(RESOLVE_SELECT_RANDOM, 5, &next, &rng);

		assert_true(a < 5);
		assert_int_equal(resolve_select(RESOLVE_SELECT_RANDOM, 5, &next, &rng2), a);
		seen[a]++;
	}
	for (i = 0; i < 5; i++)
		assert_true(seen[i] > 100);
}

static void test_views_of_fixed_hosts(void **state)
{
	resolve_opts o = {RESOLVE_TTL_INF, RESOLVE_SELECT_ROUND_ROBIN, RESOLVE_PREFER_IPV4, NULL};
	resolver *r = resolver_create(&o);
	net_addr pin = v4("127.0.0.3");
	resolve_host *num, *pinned;
	resolve_view v;
	const net_addr *a;

	(void)state;
	((struct sockaddr_in *)&pin.sa)->sin_port = htons(8080);
	num = resolver_add(r, "127.0.0.2", "80", NULL);
	pinned = resolver_add(r, "api.test", "80", &pin);
	/* Nothing goes to DNS: no thread, no lookup, no error. */
	assert_int_equal(resolver_start(r), 0);
	assert_int_equal(resolve_host_error(num), 0);
	assert_int_equal(resolve_host_error(pinned), 0);
	assert_string_equal(resolve_host_name(pinned), "api.test");
	resolve_view_init(&v, num, 3);
	a = resolve_view_pick(&v);
	assert_non_null(a);
	assert_int_equal(a->sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&a->sa)->sin_port), 80);
	assert_int_equal(ntohl(((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr), 0x7f000002);
	resolve_view_init(&v, pinned, 0);
	a = resolve_view_pick(&v);
	assert_memory_equal(a, &pin, sizeof(pin));
	/* The same answer on every pick (one address). */
	assert_ptr_equal(resolve_view_pick(&v), a);
	resolver_destroy(r);
	resolver_destroy(NULL);
}

static void test_localhost_by_policy(void **state)
{
	/* localhost resolves from /etc/hosts, without a DNS server. */
	resolve_opts o = {RESOLVE_TTL_INF, RESOLVE_SELECT_FIRST, RESOLVE_ONLY_IPV4, NULL};
	resolver *r = resolver_create(&o);
	resolve_host *h = resolver_add(r, "localhost", "8080", NULL);
	resolve_view v;
	const net_addr *a;

	(void)state;
	assert_int_equal(resolver_start(r), 0);
	assert_int_equal(resolve_host_error(h), 0);
	resolve_view_init(&v, h, 1);
	a = resolve_view_pick(&v);
	assert_non_null(a);
	assert_int_equal(a->sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&a->sa)->sin_port), 8080);
	resolver_destroy(r);
}

/* A name asked for during the run: the resolver's thread starts with it
 * (the run had no name at start), the caller's eventfd is written when its
 * first lookup ends, and a second ask finds the same host. Numeric and
 * pinned hosts are ready at once and start nothing. */
static void test_want_during_the_run(void **state)
{
	resolve_opts o = {RESOLVE_TTL_INF, RESOLVE_SELECT_FIRST, RESOLVE_ONLY_IPV4, NULL};
	resolver *r = resolver_create(&o);
	int fd = eventfd(0, EFD_CLOEXEC);
	net_addr pin = v4("127.0.0.9");
	resolve_host *n, *p, *h;
	struct pollfd pfd = {fd, POLLIN, 0};
	uint64_t c;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(resolver_start(r), 0);
	n = resolver_want(r, "127.0.0.1", "80", NULL, fd);
	p = resolver_want(r, "pinned.test", "81", &pin, fd);
	assert_int_equal(resolve_host_state(n), 1);
	assert_int_equal(resolve_host_state(p), 1);
	h = resolver_want(r, "localhost", "8080", NULL, fd);
	assert_ptr_equal(resolver_want(r, "LOCALHOST", "8080", NULL, fd), h);
	/* Bounded wait for the wake-up, not a timing assertion. */
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(fd, &c, sizeof(c)), (ssize_t)sizeof(c));
	assert_int_equal(resolve_host_state(h), 1);
	resolver_unlisten(r, fd);
	resolver_destroy(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_views_of_fixed_hosts),
		cmocka_unit_test(test_localhost_by_policy),
		cmocka_unit_test(test_want_during_the_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
