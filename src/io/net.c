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
