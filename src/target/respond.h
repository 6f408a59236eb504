/* Response writing of the target's requests: the head (status line, Date,
 * framing, Connection), the body, and the counting and ending of the
 * request in the stats. Used by routes.c, modules.c, faults.c and server.c. */
#ifndef STRAIN_TARGET_RESPOND_H
#define STRAIN_TARGET_RESPOND_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgt_conn tgt_conn;

/* Answers the current request with a JSON body (ctype NULL) or the given
 * content type, counts it, and ends the request. extra: complete header
 * lines ("Name: v\r\n"), may be NULL. HEAD requests and 1xx/204/304 send no
 * body. */
void tgt_respond(tgt_conn *c, int status, const char *ctype, const char *extra, size_t extra_len,
		  const char *body, size_t blen);
/* tgt_respond with {"error": msg}. */
void tgt_error(tgt_conn *c, int status, const char *msg);
/* Sends only a head: clen >= 0 gives Content-Length, -1 means chunked,
 * -2 no length at all. Neither counts nor ends the request. */
void tgt_send_head(tgt_conn *c, int status, const char *ctype, const char *extra, size_t extra_len,
		    int64_t clen);
/* Counts the current request under a status slot and ends it. */
void tgt_finish(tgt_conn *c, int slot);
/* Counts the current request's answer now (once), before it is sent. */
void tgt_count(tgt_conn *c, int slot);
/* Counts the current request under slot; the connection closes (with RST
 * when rst) once queued output is gone (at once with rst). */
void tgt_finish_close(tgt_conn *c, int slot, int rst);

#endif
