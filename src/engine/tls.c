#include "engine/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "engine/errcode.h"

struct tls_client {
	SSL_CTX *ctx;
	int no_resumption;
};

static const unsigned char alpn[] = "\x08http/1.1"; /* h2 goes in front when HTTP/2 lands */

static void openssl_err(char *err, size_t errsz, const char *what)
{
	unsigned long e = ERR_get_error();
	char msg[256];

	ERR_error_string_n(e, msg, sizeof(msg));
	snprintf(err, errsz, "%s: %s", what, e ? msg : "failed");
	ERR_clear_error();
}

tls_client *tls_client_create(const tls_client_opts *opts, char *err, size_t errsz)
{
	tls_client *c = xcalloc(1, sizeof(*c));

	c->no_resumption = opts->no_resumption;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx) {
		openssl_err(err, errsz, "TLS");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	/* Partial writes let a short send behave like send(2); the moving
	 * buffer mode because a retried write may come from a grown buffer.
	 * An EOF without close_notify is a plain EOF, as HTTP/1.1 over TLS
	 * (bodies delimited by close, stale kept-alive connections) needs. */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | (opts->no_resumption ? SSL_OP_NO_TICKET : 0));
	/* Sessions are kept per VU (tls_conn_free), not in a shared cache. */
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1) != 0) {
		openssl_err(err, errsz, "TLS ALPN");
		goto fail;
	}
	if (opts->insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			openssl_err(err, errsz, "TLS: system CA store");
			goto fail;
		}
	}
	if (opts->cacert && SSL_CTX_load_verify_locations(c->ctx, opts->cacert, NULL) != 1) {
		char what[512];

		snprintf(what, sizeof(what), "--cacert %s", opts->cacert);
		openssl_err(err, errsz, what);
		goto fail;
	}
	return c;
fail:
	tls_client_destroy(c);
	return NULL;
}

void tls_client_destroy(tls_client *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

int tls_client_resumes(const tls_client *c)
{
	return !c->no_resumption;
}

SSL *tls_conn_new(tls_client *c, int fd, const char *host, SSL_SESSION *sess)
{
	SSL *ssl = SSL_new(c->ctx);
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;

	if (!ssl)
		goto fail;
	if (SSL_set_fd(ssl, fd) != 1)
		goto fail;
	if (is_ip) {
		/* No SNI for addresses (RFC 6066); the certificate must name the IP. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
		goto fail;
	}
	if (sess && !c->no_resumption)
		SSL_set_session(ssl, sess);
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

void tls_session_free(SSL_SESSION *sess)
{
	SSL_SESSION_free(sess);
}

void tls_conn_free(SSL *ssl, int clean, SSL_SESSION **sess)
{
	if (!ssl)
		return;
	if (clean && SSL_is_init_finished(ssl)) {
		/* One non-blocking try: close_notify is a courtesy, and without a
		 * shutdown OpenSSL marks the session not resumable. */
		SSL_shutdown(ssl);
		if (sess) {
			SSL_SESSION *s = SSL_get1_session(ssl);

			if (s && SSL_SESSION_is_resumable(s)) {
				SSL_SESSION_free(*sess);
				*sess = s;
			} else {
				SSL_SESSION_free(s);
			}
		}
	}
	ERR_clear_error();
	SSL_free(ssl);
}

/* k6's codes for a failed certificate check. */
static int verify_code(long v)
{
	switch (v) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return ERR_TLS_HOSTNAME;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return ERR_TLS_UNKNOWN_AUTHORITY;
	default:
		return ERR_TLS;
	}
}

/* Maps a failed SSL_* call to a result code. */
static int failure(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret), saved = errno;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (saved == EINTR || saved == EAGAIN)
			return TLS_WANT_READ;
		return saved ? -err_from_io_errno(saved) : 0;
	default: {
		long v = SSL_get_verify_result(ssl);

		ERR_clear_error();
		return -(v != X509_V_OK ? verify_code(v) : ERR_TLS);
	}
	}
}

int tls_conn_handshake(SSL *ssl)
{
	int rc = SSL_do_handshake(ssl);

	if (rc == 1)
		return 0;
	rc = failure(ssl, rc);
	/* A peer that closes during the handshake is a TLS failure. */
	return rc == 0 ? -ERR_TLS : rc;
}

ssize_t tls_conn_read(SSL *ssl, void *p, size_t n)
{
	size_t got = 0;
	int rc = SSL_read_ex(ssl, p, n, &got);

	return rc == 1 ? (ssize_t)got : failure(ssl, 0);
}

ssize_t tls_conn_write(SSL *ssl, const void *p, size_t n)
{
	size_t put = 0;
	int rc = SSL_write_ex(ssl, p, n, &put);

	return rc == 1 ? (ssize_t)put : failure(ssl, 0);
}

const char *tls_conn_version(const SSL *ssl, int *index)
{
	switch (SSL_version(ssl)) {
	case TLS1_2_VERSION:
		*index = 1;
		return "tls1.2";
	case TLS1_3_VERSION:
		*index = 2;
		return "tls1.3";
	default:
		*index = 0;
		return NULL;
	}
}
