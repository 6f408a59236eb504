#include "target/modules.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "target/content.h"
#include "target/respond.h"
#include "target/routes.h"
#include "target/server.h"
#include "target/tgt_worker.h"

/* ---- bodies ------------------------------------------------------------- */

/* Parses the body as a JSON object. On failure answers 400 and returns NULL. */
static json_t *body_object(tgt_conn *c, int allow_empty)
{
	json_error_t err;
	json_t *j;
	char msg[200];

	if (!c->bodybuf.len && allow_empty)
		return json_object();
	j = json_loadb(c->bodybuf.data ? c->bodybuf.data : "", c->bodybuf.len, 0, &err);
	if (!j) {
		buf *b = &c->w->json;

		snprintf(msg, sizeof(msg), "invalid JSON: %s (line %d, column %d)", err.text, err.line,
			 err.column);
		b->len = 0;
		buf_appends(b, "{\"error\":");
		content_jstrz(b, msg);
		buf_appends(b, ",\"status\":400}\n");
		tgt_respond(c, 400, NULL, NULL, 0, b->data, b->len);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		tgt_error(c, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Reads an integer field in [min, max]; answers 400 and returns -1 if it is
 * missing or wrong. */
static int field_int(tgt_conn *c, json_t *o, const char *name, json_int_t min, json_int_t max,
		     uint64_t *out)
{
	json_t *v = json_object_get(o, name);
	char m[96];

	if (!v) {
		snprintf(m, sizeof(m), "missing field: %s", name);
		tgt_error(c, 400, m);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(m, sizeof(m), "%s must be an integer from %lld to %lld", name,
			 (long long)min, (long long)max);
		tgt_error(c, 400, m);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Reads a string field of 1..max bytes into dst (NUL-terminated). Returns
 * 1 if present, 0 if absent and optional, -1 after answering 400. */
static int field_str(tgt_conn *c, json_t *o, const char *name, size_t max, int required, char *dst,
		     size_t *len)
{
	json_t *v = json_object_get(o, name);
	char m[96];

	if (!v && !required)
		return 0;
	if (!v) {
		snprintf(m, sizeof(m), "missing field: %s", name);
		tgt_error(c, 400, m);
		return -1;
	}
	if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > max) {
		snprintf(m, sizeof(m), "%s must be a string of 1 to %zu bytes", name, max);
		tgt_error(c, 400, m);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v));
	dst[json_string_length(v)] = '\0';
	*len = json_string_length(v);
	return 1;
}

/* Validates a module request's body; stores what the answer needs in
 * c->req. Returns 0, or -1 after answering 400. */
int module_body_check(tgt_conn *c)
{
	tgt_req *r = &c->req;
	json_t *o = NULL;
	int rc = -1;

	switch (r->route) {
	case R_JOBS_APPLY:
		o = body_object(c, 1);
		if (o)
			rc = 0;
		break;
	case R_CART:
		o = body_object(c, 0);
		if (o && field_int(c, o, "product_id", 1, PRODUCTS_MAX, &r->n[0]) == 0 &&
		    field_int(c, o, "quantity", 1, 99, &r->n[1]) == 0)
			rc = 0;
		break;
	case R_ORDERS: {
		json_t *items;

		o = body_object(c, 0);
		if (!o)
			break;
		items = json_object_get(o, "items");
		if (items) {
			size_t i;
			json_t *it;

			if (!json_is_array(items) || json_array_size(items) < 1 ||
			    json_array_size(items) > 50) {
				tgt_error(c, 400, "items must be an array of 1 to 50 items");
				break;
			}
			r->n[0] = json_array_size(items);
			r->n[1] = 0;
			json_array_foreach(items, i, it) {
				uint64_t pid, qty;

				if (!json_is_object(it)) {
					tgt_error(c, 400, "each item must be an object");
					goto out;
				}
				if (field_int(c, it, "product_id", 1, PRODUCTS_MAX, &pid) < 0 ||
				    field_int(c, it, "quantity", 1, 99, &qty) < 0)
					goto out;
				r->n[1] += content_product_cents(pid) * qty;
			}
			rc = 0;
		} else if (field_str(c, o, "cart_id", MAX_STR, 1, r->str, &r->str_len) > 0) {
			r->n[0] = 0;
			r->n[1] = content_hash(r->str, r->str_len, 1) % 50000 + 999;
			rc = 0;
		}
		break;
	}
	case R_LOGIN:
		o = body_object(c, 0);
		if (o && field_str(c, o, "user", MAX_STR, 1, r->str, &r->str_len) > 0) {
			char pw[MAX_STR + 1];
			size_t pl;

			if (field_str(c, o, "password", MAX_STR, 1, pw, &pl) > 0)
				rc = 0;
		}
		break;
	case R_PROFILE_PUT: {
		static const char *const fields[] = {"name", "bio", "location"};
		size_t i;

		o = body_object(c, 0);
		if (!o)
			break;
		/* The edit travels in the body buffer, re-read on completion;
		 * here it is only validated. */
		for (i = 0; i < 3; i++) {
			char tmp[201];
			size_t tl;

			if (field_str(c, o, fields[i], 200, 0, tmp, &tl) < 0)
				goto out;
		}
		rc = 0;
		break;
	}
	default:
		rc = 0;
	}
out:
	json_decref(o);
	return rc;
}

/* ---- answers ------------------------------------------------------------ */

static void put_fields(tgt_conn *c, const char **ov, char store[3][201])
{
	static const char *const fields[] = {"name", "bio", "location"};
	json_t *o = json_loadb(c->bodybuf.data ? c->bodybuf.data : "", c->bodybuf.len, 0, NULL);
	int i;

	for (i = 0; i < 3; i++) {
		json_t *v = o ? json_object_get(o, fields[i]) : NULL;

		ov[i] = NULL;
		if (v && json_is_string(v) && json_string_length(v) <= 200) {
			memcpy(store[i], json_string_value(v), json_string_length(v));
			store[i][json_string_length(v)] = '\0';
			ov[i] = store[i];
		}
	}
	json_decref(o);
}

void module_complete(tgt_conn *c)
{
	tgt_req *r = &c->req;
	buf *b = &c->w->json;
	char extra[160], tok[2 * MAX_STR + 24];
	size_t en;
	uint64_t i, id;
	int status = 200;

	b->len = 0;
	switch (r->route) {
	case R_JOBS_LIST:
		buf_printf(b, "{\"page\":%llu,\"per_page\":%d,\"total\":%d,\"q\":",
			   (unsigned long long)r->n[0], PAGE_SIZE, JOBS_MAX);
		content_jstr(b, r->str, r->str_len);
		buf_appends(b, ",\"results\":[");
		for (i = 0; i < PAGE_SIZE; i++) {
			id = content_mix(content_hash(r->str, r->str_len, r->n[0]) + i) % JOBS_MAX + 1;
			buf_appends(b, i ? "," : "");
			content_job_summary(b, id);
			buf_appends(b, "}");
		}
		buf_appends(b, "]}");
		break;
	case R_JOBS_GET:
		content_job_detail(b, r->id);
		break;
	case R_JOBS_APPLY:
		status = 201;
		buf_printf(b, "{\"application_id\":\"a-%016llx\",\"job_id\":%llu,\"status\":\"received\"}",
			   (unsigned long long)content_mix(r->id ^ tgt_rand(c->w)), (unsigned long long)r->id);
		break;
	case R_PRODUCTS_LIST: {
		uint64_t cat = r->n[1], per = PRODUCTS_MAX / NCATEGORIES, total;
		int first = 1;

		total = cat == 0 ? PRODUCTS_MAX : cat <= NCATEGORIES ? per : 0;
		buf_printf(b, "{\"page\":%llu,\"per_page\":%d,\"total\":%llu,\"category\":",
			   (unsigned long long)r->n[0], PAGE_SIZE, (unsigned long long)total);
		if (cat)
			content_jstr(b, r->str, r->str_len);
		else
			buf_appends(b, "null");
		buf_appends(b, ",\"results\":[");
		for (i = 0; i < PAGE_SIZE && total; i++) {
			uint64_t k = (r->n[0] - 1) * PAGE_SIZE + i;

			id = cat ? k * NCATEGORIES + cat : k + 1;
			if (id > PRODUCTS_MAX)
				break;
			buf_appends(b, first ? "" : ",");
			first = 0;
			content_product_summary(b, id);
			buf_appends(b, "}");
		}
		buf_appends(b, "]}");
		break;
	}
	case R_PRODUCTS_GET:
		content_product_detail(b, r->id);
		break;
	case R_CART: {
		uint64_t cents = content_product_cents(r->n[0]) * r->n[1];

		status = 201;
		buf_printf(b, "{\"cart_id\":\"c-%016llx\",\"items\":[",
			   (unsigned long long)content_mix(tgt_rand(c->w)));
		content_product_summary(b, r->n[0]);
		buf_printf(b, ",\"quantity\":%llu}],\"total\":%llu.%02llu,\"currency\":\"EUR\"}",
			   (unsigned long long)r->n[1], (unsigned long long)(cents / 100),
			   (unsigned long long)(cents % 100));
		break;
	}
	case R_ORDERS:
		status = 201;
		buf_printf(b, "{\"order_id\":\"o-%016llx\",\"status\":\"confirmed\",\"items\":%llu,"
			      "\"total\":%llu.%02llu,\"currency\":\"EUR\",\"estimated_delivery_days\":%llu}",
			   (unsigned long long)content_mix(tgt_rand(c->w)), (unsigned long long)r->n[0],
			   (unsigned long long)(r->n[1] / 100), (unsigned long long)(r->n[1] % 100),
			   (unsigned long long)(2 + r->n[1] % 5));
		break;
	case R_NOTIF_LIST:
		content_notifications(b, r->n[0]);
		break;
	case R_NOTIF_READ:
		buf_printf(b, "{\"id\":%llu,\"read\":true}", (unsigned long long)r->id);
		break;
	case R_LOGIN:
		route_token_make(r->str, r->str_len, tok, sizeof(tok));
		buf_printf(b, "{\"token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
			      "\"user\":{\"id\":%llu,\"username\":",
			   tok, (unsigned long long)content_user_id(r->str, r->str_len));
		content_jstr(b, r->str, r->str_len);
		buf_appends(b, "}}");
		break;
	case R_PROFILE_ME:
		content_profile(b, r->id, r->str, r->str_len, NULL);
		break;
	case R_PROFILE_GET:
		content_profile(b, r->id, NULL, 0, NULL);
		break;
	case R_PROFILE_PUT: {
		const char *ov[3];
		char store[3][201];

		put_fields(c, ov, store);
		content_profile(b, r->id, NULL, 0, ov);
		break;
	}
	}
	buf_appends(b, "\n");
	/* Where the time went, as a real service would report it. */
	en = (size_t)snprintf(extra, sizeof(extra),
			      "Server-Timing: pool;dur=%.3f, db;dur=%.3f, cache;desc=%s\r\n",
			      (double)(c->q.start_ns - c->q.submit_ns) / 1e6,
			      (double)(c->q.done_ns - c->q.start_ns) / 1e6, c->q.cache_hit ? "hit" : "miss");
	tgt_respond(c, status, NULL, extra, en, b->data, b->len);
}
