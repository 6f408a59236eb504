/* The demo modules' content: deterministic JSON for jobs, products,
 * profiles and notifications, a pure function of an id (same id, same
 * bytes), and the sizes of the simulated catalogues. Everything appends to
 * a caller's buffer; nothing here allocates beyond that buffer's growth. */
#ifndef STRAIN_TARGET_CONTENT_H
#define STRAIN_TARGET_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Sizes of the simulated catalogues: ids beyond them are 404. */
#define JOBS_MAX 100000
#define PRODUCTS_MAX 50000
#define USERS_MAX 1000000
#define NOTIFS_MAX 100000000ull
#define PAGE_SIZE 20
#define JOBS_PAGES 1000
#define NCATEGORIES 8
#define MAX_STR 64 /* longest string parameter (q, category, user) */

/* The product categories, in id order (product id % NCATEGORIES). */
extern const char *const content_categories[NCATEGORIES];

/* A 64-bit mixer (splitmix64's finaliser): the source of every derived value. */
uint64_t content_mix(uint64_t x);
/* A hash of n bytes (FNV-1a, then mixed) under seed. */
uint64_t content_hash(const char *p, size_t n, uint64_t seed);
/* Appends s (n bytes) as a JSON string literal, escaped. */
void content_jstr(buf *b, const char *s, size_t n);
/* content_jstr of a NUL-terminated string. */
void content_jstrz(buf *b, const char *s);

/* Appends job id's summary object, left open ("{...", no closing brace) so
 * a caller may add fields. */
void content_job_summary(buf *b, uint64_t id);
/* Appends job id's full object (the summary's fields and more), closed. */
void content_job_detail(buf *b, uint64_t id);
/* Appends product id's summary object, left open like content_job_summary. */
void content_product_summary(buf *b, uint64_t id);
/* Product id's price in cents (the one content_product_summary shows). */
uint64_t content_product_cents(uint64_t id);
/* Appends product id's full object, closed. */
void content_product_detail(buf *b, uint64_t id);
/* The user id of a user name: "user123" is 123; other names hash into
 * 1..USERS_MAX. */
uint64_t content_user_id(const char *u, size_t n);
/* Appends profile id's object. user (user_len bytes) is the user name shown,
 * NULL for "user<id>"; override, if not NULL, holds name, bio and location
 * (each NULL to keep the generated one). */
void content_profile(buf *b, uint64_t id, const char *user, size_t user_len,
		     const char *const *override);
/* Appends user's notification list with its unread count. */
void content_notifications(buf *b, uint64_t user);

#endif
