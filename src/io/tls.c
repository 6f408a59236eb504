#include "io/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/errcode.h"

struct tls_client {
	SSL_CTX *ctx;
	int no_resumption;
};

static const unsigned char alpn[] = "\x08http/1.1"; /* h2 goes in front when HTTP/2 lands */

/* A passphrase-protected key would make OpenSSL prompt on the terminal,
 * halting a run that may be unattended: refuse it instead, and say why. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	*(int *)arg = 1;
	return -1;
}

/* Called when the server asks for a client certificate: remembered on the
 * connection, so that a TLS 1.2 handshake_failure alert that follows can be
 * told apart from, say, no common cipher. */
static int on_cert_request(SSL *ssl, void *arg)
{
	SSL_set_app_data(ssl, (char *)"asked");
	return 1;
}

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
	/* One read(2) for as many records as arrived, not two per record
	 * (header, then body); the VU drains what is held (tls_conn_pending). */
	SSL_CTX_set_read_ahead(c->ctx, 1);
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | (opts->no_resumption ? SSL_OP_NO_TICKET : 0));
	/* Sessions are kept per VU (tls_conn_free), not in a shared cache. */
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_cert_cb(c->ctx, on_cert_request, NULL);
	if (SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1) != 0) {
		openssl_err(err, errsz, "TLS ALPN");
		goto fail;
	}
	if (opts->insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		const char *dir = getenv(X509_get_default_cert_dir_env());

		if (opts->lazy_ca ? SSL_CTX_load_verify_dir(c->ctx, dir ? dir : X509_get_default_cert_dir()) != 1
				  : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			openssl_err(err, errsz, "TLS: system CA store");
			goto fail;
		}
	}
	if (opts->cert) {
		const char *key = opts->key ? opts->key : opts->cert;
		char what[512];
		int encrypted = 0;

		snprintf(what, sizeof(what), "--cert %s", opts->cert);
		if (SSL_CTX_use_certificate_chain_file(c->ctx, opts->cert) != 1) {
			openssl_err(err, errsz, what);
			goto fail;
		}
		snprintf(what, sizeof(what), "--key %s", key);
		SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
		SSL_CTX_set_default_passwd_cb_userdata(c->ctx, &encrypted);
		if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1) {
			if (encrypted) {
				snprintf(err, errsz, "%s: the key is encrypted; give a decrypted copy "
						     "(openssl pkey -in KEY -out PLAIN)", what);
				ERR_clear_error();
			} else {
				openssl_err(err, errsz, what);
			}
			goto fail;
		}
		SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
		if (SSL_CTX_check_private_key(c->ctx) != 1) {
			openssl_err(err, errsz, "--key does not match --cert");
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
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return ERR_TLS_EXPIRED;
	default:
		return ERR_TLS;
	}
}

/* The server's alerts that are about our (client) certificate: it was
 * missing, unknown to it, expired, revoked or refused. TLS 1.2 servers
 * (OpenSSL's among them) say handshake_failure when one they asked for is
 * missing. */
static int client_cert_alert(const SSL *ssl, unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return 0;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		return SSL_get_app_data(ssl) != NULL;
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return 1;
	default:
		return 0;
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
		int alert = client_cert_alert(ssl, ERR_peek_error());

		ERR_clear_error();
		if (v != X509_V_OK)
			return -verify_code(v);
		return -(alert ? ERR_TLS_CLIENT_CERT : ERR_TLS);
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

const char *tls_conn_verify_error(const SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);

	return v == X509_V_OK ? NULL : X509_verify_cert_error_string(v);
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

int tls_conn_pending(const SSL *ssl)
{
	return SSL_has_pending(ssl);
}

void tls_conn_wire(const SSL *ssl, uint64_t *in, uint64_t *out)
{
	BIO *b = SSL_get_rbio(ssl);

	*in = b ? BIO_number_read(b) : 0;
	*out = b ? BIO_number_written(b) : 0;
}

const char *tls_conn_cipher(const SSL *ssl, unsigned *id)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	*id = c ? SSL_CIPHER_get_protocol_id(c) : 0;
	return c ? SSL_CIPHER_standard_name(c) : NULL;
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
