/* Socket helpers shared by the engine and the built-in target: address
 * parsing and resolution, listening sockets, non-blocking connects. */
#ifndef STRAIN_IO_NET_H
#define STRAIN_IO_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct net_addr {
	struct sockaddr_storage sa;
	socklen_t len;
} net_addr;

/* Resolves host:port (host may be a name, IPv4, or IPv6 without brackets)
 * into at most `max` addresses, IPv4 and IPv6 alike, in resolver order.
 * Returns the count (> 0), or a negative EAI_* code; gai_strerror() names it. */
int net_resolve(const char *host, const char *port, net_addr *out, int max);

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host defaults to 127.0.0.1)
 * and resolves it. Returns 0, or -1 with a message in err. */
int net_parse_listen(const char *spec, net_addr *out, char *err, size_t errsz);

/* Writes "127.0.0.1:8080" or "[::1]:8080" into out. Returns out. */
char *net_addr_str(const net_addr *a, char *out, size_t outsz);
/* Port of the address, host order. */
int net_addr_port(const net_addr *a);

/* Non-blocking, close-on-exec TCP socket for a's family with TCP_NODELAY. -1 on error. */
int net_socket(const net_addr *a);
/* Starts a non-blocking connect: 0 connected, 1 in progress, -1 error (errno). */
int net_connect(int fd, const net_addr *a);
/* Listening socket (SO_REUSEADDR; SO_REUSEPORT when reuseport). On port 0
 * the kernel's choice is written back into a. Returns the fd, or -1 (errno). */
int net_listen(net_addr *a, int backlog, int reuseport);
/* The pending error of a connecting socket (SO_ERROR), 0 if connected. */
int net_socket_error(int fd);
/* Parses k6's --local-ips: a comma-separated list of addresses, ranges
 * (FROM-TO, both of one family, FROM <= TO) and CIDR blocks (IP/BITS),
 * IPv4 or IPv6, into a new array of at most max addresses (port 0) in the
 * order given. Returns the count (> 0), or -1 with a message in err. The
 * caller frees *out. */
int net_parse_ip_list(const char *spec, net_addr **out, uint32_t max, char *err, size_t errsz);
/* A numeric address with an optional port: "IP", "IP:PORT", "IPV6" or
 * "[IPV6]:PORT" (never a name: nothing is looked up). *port gets the port
 * (0 when none was given; out's port is set to it). 0, or -1. */
int net_parse_numeric(const char *s, net_addr *out, int *port);
/* Binds fd to local (port 0) before connect, leaving the port to connect
 * time (IP_BIND_ADDRESS_NO_PORT), so one local address is not limited to
 * the ephemeral ports bind() alone would reserve. 0, or -1 (errno). */
int net_bind_local(int fd, const net_addr *local);
/* Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit. */
long net_raise_nofile(void);

#endif
