/* Error classification. Codes follow k6's table where k6 has one, so
 * dashboards and thresholds on error_code carry over; strain's own codes
 * fill gaps k6 leaves under its generic 1000 (docs/error-codes.md). */
#ifndef STRAIN_CORE_ERRCODE_H
#define STRAIN_CORE_ERRCODE_H

enum {
	ERR_NONE = 0,
	ERR_GENERIC = 1000,
	ERR_INVALID_URL = 1020,
	ERR_REQUEST_VALUE = 1730,  /* strain: an expanded value would be framing (CR/LF in a header) */
	ERR_REQUEST_TOO_LARGE = 1731, /* strain: the expanded request is over 64 MiB */
	ERR_TIMEOUT = 1050,        /* request timeout (--timeout) */
	ERR_ABANDONED = 1060,      /* strain: written, then abandoned in flight when the run ended */
	ERR_DNS = 1100,
	ERR_DNS_NO_HOST = 1101,
	ERR_TCP = 1200,
	ERR_TCP_BROKEN_PIPE = 1201,
	ERR_TCP_ERRNO = 1202,      /* unexpected errno on read/write */
	ERR_DIAL = 1210,
	ERR_DIAL_TIMEOUT = 1211,
	ERR_DIAL_REFUSED = 1212,
	ERR_DIAL_ERRNO = 1213,
	/* strain: the generator ran out of something, with the fix in the description */
	ERR_DIAL_NOFILE = 1214,    /* EMFILE/ENFILE: out of file descriptors */
	ERR_DIAL_NOPORT = 1215,    /* EADDRNOTAVAIL: out of local (ephemeral) ports */
	ERR_TCP_RESET = 1220,
	ERR_TLS = 1300,            /* TLS handshake or record failure */
	ERR_TLS_UNKNOWN_AUTHORITY = 1310, /* certificate signed by an unknown CA */
	ERR_TLS_HOSTNAME = 1311,   /* certificate not valid for the host name */
	/* strain extensions */
	ERR_TLS_EXPIRED = 1312,    /* certificate expired or not yet valid */
	ERR_TLS_CLIENT_CERT = 1313, /* the server refused our client certificate (or its absence) */
	ERR_CLOSED_EARLY = 1230,   /* peer closed before the response was complete */
	ERR_PROXY_CONNECT = 1240,  /* strain: the proxy answered CONNECT with a non-2xx status */
	ERR_MALFORMED = 1720,      /* not a valid HTTP/1.x response */
	ERR_HEAD_TOO_LARGE = 1721, /* response head over the client's limit */
	ERR_JSON_LIMIT = 1723,     /* a JSON body nested past the path walker's depth: no answer */
	ERR_BODY_TRUNCATED = 1724, /* a check or extraction failed on a body cut at the 4 MiB kept */
	ERR_DECOMPRESS = 1701,     /* k6's: a compressed body is corrupt or cut short */
	ERR_CODING_UNSUPPORTED = 1702, /* strain: a Content-Encoding it cannot decode (unknown or stacked) */
	ERR_DECODED_TOO_LARGE = 1703, /* strain: a compressed body decodes past the 4 MiB kept (a bomb) */
	ERR_REGEX_LIMIT = 1722,    /* PCRE2 gave up (match, depth, heap or JIT stack limit): no answer, not "no match" */
	ERR_REDIRECT_LIMIT = 1740, /* strain: still a redirect after max_redirects hops (the 3xx is the response) */
	ERR_REDIRECT_LOCATION = 1741, /* strain: a redirect whose Location is missing, unparsable or not http(s) */
	ERR_REDIRECT_HOST = 1742,  /* strain: a redirect past the per-worker cap of endpoints added at run time */
};

/* Classifies a failed non-blocking connect's errno. */
int err_from_dial_errno(int e);
/* Classifies an errno from read or write on an established connection. */
int err_from_io_errno(int e);
/* k6's code for an HTTP status: 1000 + status for 4xx/5xx, else 0. */
static inline int err_from_status(int status)
{
	return status >= 400 && status <= 599 ? 1000 + status : 0;
}
/* 1 when the code's description names a fix the user applies (a resource
 * ran out: descriptors, local ports, the server's listen backlog), so the
 * live line says it as soon as it happens, once; else 0. */
int err_names_fix(int code);
/* A short, stable description of a code ("dial: connection refused"). */
const char *err_describe(int code);

#endif
