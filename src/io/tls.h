/* TLS for the engine's connections (OpenSSL): one client context per run,
 * shared read-only by every worker, and one SSL object per connection,
 * driven non-blocking by the VU's event loop. */
#ifndef STRAIN_IO_TLS_H
#define STRAIN_IO_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ssl_st;
struct ssl_session_st;

typedef struct tls_client tls_client;

typedef struct tls_client_opts {
	int insecure;        /* --insecure-skip-tls-verify: no certificate checks */
	const char *cacert;  /* --cacert: a PEM file of extra trusted CAs, or NULL */
	int no_resumption;   /* --no-tls-resumption: every handshake is a full one */
	const char *cert;    /* --cert: client certificate (chain), PEM, or NULL */
	const char *key;     /* --key: its private key; NULL: in the cert file */
	int lazy_ca;         /* no request is https (only a redirect may lead there): the system
			      * CAs are looked up by hash when a certificate is checked, not
			      * all loaded at start (the bundle costs about 4 MiB) */
} tls_client_opts;

/* Results of tls_conn_* besides byte counts: would block, waiting for the
 * socket to become readable or writable. Errors are negative k6 codes. */
#define TLS_WANT_READ (-1)
#define TLS_WANT_WRITE (-2)

/* Creates the run's client context: TLS 1.2 or later, the system CA store
 * plus opts->cacert, ALPN http/1.1, and the client certificate if any. Returns NULL with a message in err.
 * Free with tls_client_destroy (accepts NULL). */
tls_client *tls_client_create(const tls_client_opts *opts, char *err, size_t errsz);
void tls_client_destroy(tls_client *c);
/* Whether sessions are kept for resumption. */
int tls_client_resumes(const tls_client *c);

/* A new client connection over the connected socket fd to host (SNI and
 * the name checked in the certificate; an IP literal is checked as an IP),
 * offering sess for resumption when not NULL. Returns NULL when out of
 * memory. Free with tls_conn_free. */
struct ssl_st *tls_conn_new(tls_client *c, int fd, const char *host, struct ssl_session_st *sess);
/* Frees a connection (NULL is fine). clean: nothing failed on it, so send
 * close_notify (best effort, never blocks) and keep its session resumable.
 * When sess is not NULL and the session can be resumed, *sess is replaced by
 * it (the caller owns the reference; free with tls_session_free). */
void tls_conn_free(struct ssl_st *ssl, int clean, struct ssl_session_st **sess);
void tls_session_free(struct ssl_session_st *sess);

/* Advances the handshake. Returns 0 when done, TLS_WANT_READ/WRITE, or a
 * negative error code (-ERR_TLS*, or a TCP one for a socket error). */
int tls_conn_handshake(struct ssl_st *ssl);
/* Why the peer's certificate was refused ("self-signed certificate"), or
 * NULL when it was not (or was not checked). The text is static. */
const char *tls_conn_verify_error(const struct ssl_st *ssl);
/* Like read(2)/send(2): bytes moved, 0 at the end of the stream (read),
 * TLS_WANT_READ/WRITE, or a negative error code. */
ssize_t tls_conn_read(struct ssl_st *ssl, void *p, size_t n);
ssize_t tls_conn_write(struct ssl_st *ssl, const void *p, size_t n);
/* Whether the connection holds bytes it read from the socket but has not
 * returned yet (read-ahead): the socket won't signal them again. */
int tls_conn_pending(const struct ssl_st *ssl);
/* Bytes the connection has moved on the wire (records, handshake and
 * all), for data_received/data_sent. */
void tls_conn_wire(const struct ssl_st *ssl, uint64_t *in, uint64_t *out);
/* The negotiated cipher suite's IANA name, as k6's tls_cipher_suite has it
 * ("TLS_AES_128_GCM_SHA256"), with its 16-bit id in *id; NULL before the
 * handshake. The name is static. */
const char *tls_conn_cipher(const struct ssl_st *ssl, unsigned *id);
/* The negotiated version as k6 tags it ("tls1.2", "tls1.3"), and its index
 * (1, 2; 0 for anything else) for keys. */
const char *tls_conn_version(const struct ssl_st *ssl, int *index);

#endif
