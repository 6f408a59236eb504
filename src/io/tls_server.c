#include "io/tls_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned int inlen, void *arg)
{
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, (const unsigned char *)"\x08http/1.1", 9, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* no ALPN match: HTTP/1.1 anyway */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Never prompt for a passphrase on the terminal: an encrypted key fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	*(int *)arg = 1;
	return -1;
}

static void set_err(char *err, size_t errsz, const char *what)
{
	unsigned long e = ERR_get_error();
	char msg[256];

	ERR_error_string_n(e, msg, sizeof(msg));
	snprintf(err, errsz, "%s: %s", what, e ? msg : "failed");
	ERR_clear_error();
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int write_pem(const char *path, EVP_PKEY *pk, X509 *x)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = pk ? PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* A self-signed certificate that is its own CA, so a client can trust it
 * with --cacert. */
static int generate(SSL_CTX *ctx, char *gen_path, size_t gen_pathsz, char *err, size_t errsz)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char dir[] = "/tmp/strain-target-XXXXXX", path[256];
	int rc = -1;

	if (!pk || !x || RAND_bytes(serial, sizeof(serial)) != 1) {
		set_err(err, errsz, "generating a key");
		goto out;
	}
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_get_subject_name(x);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) || !X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pk) ||
	    add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0 ||
	    !X509_sign(x, pk, EVP_sha256())) {
		set_err(err, errsz, "generating a certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		set_err(err, errsz, "using the generated certificate");
		goto out;
	}
	if (!mkdtemp(dir)) {
		snprintf(err, errsz, "cannot create a temporary directory for the certificate");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if (write_pem(path, pk, NULL) < 0) {
		snprintf(err, errsz, "cannot write %s", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if (write_pem(path, NULL, x) < 0) {
		snprintf(err, errsz, "cannot write %s", path);
		goto out;
	}
	snprintf(gen_path, gen_pathsz, "%s", path);
	rc = 0;
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

static SSL_CTX *ctx_new(char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		set_err(err, errsz, "TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"strain", 6);
	return ctx;
}

/* Loads the certificate chain and its key; messages name the flags the
 * files came from. */
static int load_files(SSL_CTX *ctx, const char *cert, const char *cert_flag, const char *key, const char *key_flag,
		      char *err, size_t errsz)
{
	char what[600];
	int encrypted = 0, ok;

	snprintf(what, sizeof(what), "%s %s", cert_flag, cert);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		set_err(err, errsz, what);
		return -1;
	}
	snprintf(what, sizeof(what), "%s %s", key_flag, key);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &encrypted);
	ok = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (ok)
		return 0;
	if (encrypted) {
		snprintf(err, errsz, "%s: the key is encrypted; give a decrypted copy", what);
		ERR_clear_error();
	} else {
		set_err(err, errsz, what);
	}
	return -1;
}

SSL_CTX *tls_server_from_files(const char *cert, const char *cert_flag, const char *key, const char *key_flag,
			       char *err, size_t errsz)
{
	SSL_CTX *ctx = ctx_new(err, errsz);

	if (ctx && load_files(ctx, cert, cert_flag, key, key_flag, err, errsz) < 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

SSL_CTX *tls_server_create(const char *cert, const char *key, const char *client_ca, char *gen_path,
			size_t gen_pathsz, char *err, size_t errsz)
{
	SSL_CTX *ctx = ctx_new(err, errsz);

	gen_path[0] = '\0';
	if (!ctx)
		return NULL;
	if (cert) {
		if (load_files(ctx, cert, "--cert", key, "--key", err, errsz) < 0)
			goto fail;
	} else if (generate(ctx, gen_path, gen_pathsz, err, errsz) < 0) {
		goto fail;
	}
	if (client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
		char what[600];

		snprintf(what, sizeof(what), "--client-ca %s", client_ca);
		if (!names || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			set_err(err, errsz, what);
			goto fail;
		}
		/* The CA names go in the CertificateRequest, so a client with
		 * several certificates can pick the right one. */
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_server_remove(const char *gen_path)
{
	char dir[256], key[300];
	char *slash;

	if (!gen_path || !*gen_path)
		return;
	snprintf(dir, sizeof(dir), "%s", gen_path);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	unlink(gen_path);
	unlink(key);
	rmdir(dir);
}

ssize_t tls_server_io_fail(SSL *ssl, int reading, int *broken)
{
	int e = SSL_get_error(ssl, 0), saved = errno;

	ERR_clear_error();
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return 0;
		errno = EPIPE;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (!saved && reading)
			return 0;
		errno = saved ? saved : EPIPE;
		return -1;
	default:
		if (broken)
			*broken = 1;
		errno = ECONNRESET;
		return -1;
	}
}
