#include "io/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/alloc.h"

int net_resolve(const char *host, const char *port, net_addr *out, int max)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	int rc, n = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 on hosts with only loopback IPv6; retry without. */
		hints.ai_flags = 0;
		rc = getaddrinfo(host, port, &hints, &res);
	}
	if (rc)
		return rc < 0 ? rc : -rc;
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(out[n].sa))
			continue;
		memcpy(&out[n].sa, ai->ai_addr, ai->ai_addrlen);
		out[n].len = ai->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	return n ? n : EAI_NONAME;
}

int net_parse_listen(const char *spec, net_addr *out, char *err, size_t errsz)
{
	char host[256];
	const char *port;
	size_t hl;
	int rc;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':') {
			snprintf(err, errsz, "'%s': expected [IPV6]:PORT", spec);
			return -1;
		}
		hl = (size_t)(rb - spec - 1);
		if (hl >= sizeof(host))
			hl = sizeof(host) - 1;
		memcpy(host, spec + 1, hl);
		port = rb + 2;
	} else {
		const char *colon = strrchr(spec, ':');

		if (!colon) {
			snprintf(err, errsz, "'%s': expected HOST:PORT", spec);
			return -1;
		}
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			hl = sizeof(host) - 1;
		memcpy(host, spec, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (!hl)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535) {
		snprintf(err, errsz, "'%s': port must be a number from 0 to 65535", spec);
		return -1;
	}
	rc = net_resolve(host, port, out, 1);
	if (rc < 0) {
		snprintf(err, errsz, "'%s': %s", spec, gai_strerror(rc));
		return -1;
	}
	return 0;
}

char *net_addr_str(const net_addr *a, char *out, size_t outsz)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outsz, "[%s]:%d", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, outsz, "%s:%d", ip, ntohs(s4->sin_port));
	}
	return out;
}

int net_addr_port(const net_addr *a)
{
	if (a->sa.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
}

int net_socket(const net_addr *a)
{
	int one = 1;
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int net_connect(int fd, const net_addr *a)
{
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
		return 0;
	return errno == EINPROGRESS ? 1 : -1;
}

int net_listen(net_addr *a, int backlog, int reuseport)
{
	int one = 1, fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (a->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a->sa, a->len) < 0 || listen(fd, backlog) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	a->len = sizeof(a->sa);
	getsockname(fd, (struct sockaddr *)&a->sa, &a->len);
	return fd;
}

int net_socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

long net_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}

/* An address as 16 bytes, big-endian, so ranges of either family step
 * the same way. */
static int ip_bytes(const char *s, size_t n, int *fam, unsigned char b[16])
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(b, 0, 16);
	if (inet_pton(AF_INET, tmp, b + 12) == 1) {
		*fam = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, b) == 1) {
		*fam = AF_INET6;
		return 0;
	}
	return -1;
}

static void ip_to_addr(int fam, const unsigned char b[16], net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b + 12, 4);
		a->len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b, 16);
		a->len = sizeof(*s6);
	}
}

static void ip_inc(unsigned char b[16])
{
	int i;

	for (i = 15; i >= 0 && ++b[i] == 0; i--)
		;
}

int net_parse_ip_list(const char *spec, net_addr **out, uint32_t max, char *err, size_t errsz)
{
	const char *p = spec;
	uint32_t n = 0, cap = 16;
	net_addr *v = xcalloc(cap, sizeof(*v));

	for (;;) {
		const char *end = strchr(p, ','), *dash, *slash;
		size_t len;
		unsigned char lo[16], hi[16];
		int fam, fam2;

		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		dash = memchr(p, '-', len);
		slash = memchr(p, '/', len);
		if (slash) {
			char *e = NULL;
			long bits = strtol(slash + 1, &e, 10);
			int i, width;

			if (ip_bytes(p, (size_t)(slash - p), &fam, lo) < 0 || e != end || slash + 1 == end ||
			    slash[1] < '0' || slash[1] > '9') {
				snprintf(err, errsz, "'%.*s': expected IP/BITS", (int)len, p);
				goto fail;
			}
			width = fam == AF_INET ? 32 : 128;
			if (bits < 0 || bits > width) {
				snprintf(err, errsz, "'%.*s': a prefix length from 0 to %d", (int)len, p, width);
				goto fail;
			}
			memcpy(hi, lo, 16);
			for (i = 128 - width + (int)bits; i < 128; i++) {
				lo[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
				hi[i / 8] |= (unsigned char)(0x80u >> (i % 8));
			}
		} else if (dash) {
			if (ip_bytes(p, (size_t)(dash - p), &fam, lo) < 0 || ip_bytes(dash + 1, (size_t)(end - dash - 1), &fam2, hi) < 0 ||
			    fam != fam2) {
				snprintf(err, errsz, "'%.*s': expected FROM-TO, two addresses of one family", (int)len, p);
				goto fail;
			}
		} else {
			if (ip_bytes(p, len, &fam, lo) < 0) {
				snprintf(err, errsz, "'%.*s' is not an IP address, range or CIDR block", (int)len, p);
				goto fail;
			}
			memcpy(hi, lo, 16);
		}
		if (memcmp(lo, hi, 16) > 0) {
			snprintf(err, errsz, "'%.*s': the range ends before it starts", (int)len, p);
			goto fail;
		}
		for (;;) {
			if (n == max) {
				snprintf(err, errsz, "more than %u addresses", max);
				goto fail;
			}
			if (n == cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			ip_to_addr(fam, lo, &v[n++]);
			if (!memcmp(lo, hi, 16))
				break;
			ip_inc(lo);
		}
		if (!*end)
			break;
		p = end + 1;
	}
	*out = v;
	return (int)n;
fail:
	free(v);
	return -1;
}

int net_parse_numeric(const char *s, net_addr *out, int *port)
{
	const char *host = s, *ps = NULL, *colon = strchr(s, ':');
	unsigned char b[16];
	size_t hl = strlen(s);
	int fam;
	long p = 0;
	char *e = NULL;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		host = s + 1;
		hl = (size_t)(rb - host);
		ps = rb + 2;
	} else if (colon && strchr(colon + 1, ':') == NULL) {
		/* One colon: IPV4:PORT. More: a bare IPv6 address. */
		hl = (size_t)(colon - s);
		ps = colon + 1;
	}
	if (ip_bytes(host, hl, &fam, b) < 0 || (s[0] == '[' && fam != AF_INET6))
		return -1;
	if (ps) {
		p = strtol(ps, &e, 10);
		if (!*ps || *e || p < 1 || p > 65535)
			return -1;
	}
	ip_to_addr(fam, b, out);
	if (fam == AF_INET)
		((struct sockaddr_in *)&out->sa)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)&out->sa)->sin6_port = htons((uint16_t)p);
	*port = (int)p;
	return 0;
}

int net_bind_local(int fd, const net_addr *local)
{
	int one = 1;

#ifdef IP_BIND_ADDRESS_NO_PORT
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
	return bind(fd, (const struct sockaddr *)&local->sa, local->len);
}
