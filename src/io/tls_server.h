/* TLS for `strain target --tls`: the server context, from files or from a
 * self-signed certificate made at start for local tests. */
#ifndef STRAIN_IO_TLS_SERVER_H
#define STRAIN_IO_TLS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct ssl_ctx_st;
struct ssl_st;

/* Creates the server context (TLS 1.2 or later, ALPN http/1.1). With cert
 * and key NULL, generates an EC P-256 key and a certificate for localhost,
 * 127.0.0.1 and ::1 valid for one day, writes both as PEM into a new
 * temporary directory and puts the certificate's path in gen_path (the
 * caller removes it with tls_server_remove). Returns NULL with a message in
 * err. With client_ca, clients must present a certificate issued by one of
 * the CAs in that PEM file (mutual TLS). Free with SSL_CTX_free. */
struct ssl_ctx_st *tls_server_create(const char *cert, const char *key, const char *client_ca, char *gen_path,
				  size_t gen_pathsz,
				  char *err, size_t errsz);
/* The same context from CERT and KEY (PEM files) only, for other servers
 * (strain collect --tls-cert/--tls-key): errors name CERT_FLAG or
 * KEY_FLAG with the file. Returns NULL with a message in err. Free with
 * SSL_CTX_free. */
struct ssl_ctx_st *tls_server_from_files(const char *cert, const char *cert_flag, const char *key,
					 const char *key_flag, char *err, size_t errsz);
/* An SSL_read_ex/SSL_write_ex on a server connection that failed, in
 * read(2)/write(2) terms, so a server's code handles plain and TLS alike:
 * -1 with EAGAIN while OpenSSL waits for the socket, 0 at the client's end
 * of the stream (reading), -1 with EPIPE or the socket's errno, or -1 with
 * ECONNRESET and *broken set when the session broke (broken may be NULL). */
ssize_t tls_server_io_fail(struct ssl_st *ssl, int reading, int *broken);
/* Removes a generated certificate's files and directory ("" is fine). */
void tls_server_remove(const char *gen_path);

#endif
