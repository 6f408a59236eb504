#include "core/errcode.h"

#include <errno.h>

int err_from_dial_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return ERR_DIAL_REFUSED;
	case ETIMEDOUT:
		return ERR_DIAL_TIMEOUT;
	case ECONNRESET:
		return ERR_TCP_RESET;
	case EMFILE:
	case ENFILE:
		return ERR_DIAL_NOFILE;
	case EADDRNOTAVAIL:
		return ERR_DIAL_NOPORT;
	case 0:
		return ERR_DIAL;
	default:
		return ERR_DIAL_ERRNO;
	}
}

int err_from_io_errno(int e)
{
	switch (e) {
	case ECONNRESET:
		return ERR_TCP_RESET;
	case EPIPE:
		return ERR_TCP_BROKEN_PIPE;
	case ETIMEDOUT:
		return ERR_TCP;
	default:
		return ERR_TCP_ERRNO;
	}
}

int err_names_fix(int code)
{
	return code == ERR_DIAL_TIMEOUT || code == ERR_DIAL_NOFILE || code == ERR_DIAL_NOPORT;
}

const char *err_describe(int code)
{
	if (code >= 1400 && code <= 1599)
		return code < 1500 ? "HTTP 4xx status" : "HTTP 5xx status";
	switch (code) {
	case ERR_NONE:
		return "ok";
	case ERR_GENERIC:
		return "unknown error";
	case ERR_INVALID_URL:
		return "invalid URL";
	case ERR_REQUEST_VALUE:
		return "request: a value holds a line break or control byte";
	case ERR_REQUEST_TOO_LARGE:
		return "request: over 64 MiB";
	case ERR_DECOMPRESS:
		return "response decompression error";
	case ERR_CODING_UNSUPPORTED:
		return "response: unsupported Content-Encoding";
	case ERR_DECODED_TOO_LARGE:
		return "response: decoded body over 4 MiB";
	case ERR_ABANDONED:
		return "abandoned in flight when the run ended";
	case ERR_TIMEOUT:
		return "request timeout";
	case ERR_DNS:
		return "DNS lookup failed";
	case ERR_DNS_NO_HOST:
		return "lookup: no such host";
	case ERR_TCP:
		return "TCP error";
	case ERR_TCP_BROKEN_PIPE:
		return "write: broken pipe";
	case ERR_TCP_ERRNO:
		return "TCP: unexpected errno";
	case ERR_DIAL:
		return "dial: failed";
	case ERR_DIAL_TIMEOUT:
		/* On Linux a listener whose accept queue is full drops the SYN
		 * (tcp_abort_on_overflow=1 resets only handshakes that complete
		 * after it filled): the client sees only silence, as from a
		 * host or firewall that drops packets. */
		return "dial: i/o timeout (no answer to the SYN: the server's listen backlog is full or it does "
		       "not accept: raise its backlog (somaxconn) or its accept rate; or a firewall drops it)";
	case ERR_DIAL_REFUSED:
		return "dial: connection refused";
	case ERR_DIAL_ERRNO:
		return "dial: unexpected errno";
	case ERR_DIAL_NOFILE:
		return "dial: out of file descriptors (raise ulimit -n)";
	case ERR_DIAL_NOPORT:
		return "dial: out of local ports (reuse connections: drop --no-connection-reuse, or fewer VUs)";
	case ERR_TCP_RESET:
		return "read: connection reset by peer";
	case ERR_PROXY_CONNECT:
		return "proxy: CONNECT refused";
	case ERR_TLS:
		return "tls: handshake failed";
	case ERR_TLS_UNKNOWN_AUTHORITY:
		return "x509: certificate signed by unknown authority";
	case ERR_TLS_HOSTNAME:
		return "x509: certificate is not valid for the host";
	case ERR_TLS_EXPIRED:
		return "x509: certificate has expired or is not yet valid";
	case ERR_TLS_CLIENT_CERT:
		return "tls: the server refused the client certificate";
	case ERR_CLOSED_EARLY:
		return "connection closed before the response was complete";
	case ERR_MALFORMED:
		return "malformed HTTP response";
	case ERR_HEAD_TOO_LARGE:
		return "response head too large";
	case ERR_JSON_LIMIT:
		return "JSON path: nested deeper than 256 levels";
	case ERR_BODY_TRUNCATED:
		return "check on a body over the 4 MiB kept";
	case ERR_REGEX_LIMIT:
		return "regex: match, depth or heap limit reached";
	case ERR_REDIRECT_LIMIT:
		return "redirect: more than max_redirects hops";
	case ERR_REDIRECT_LOCATION:
		return "redirect: Location missing, invalid or not http(s)";
	case ERR_REDIRECT_HOST:
		return "redirect: past 16 new endpoints per worker";
	}
	return "error";
}
