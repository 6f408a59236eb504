#include "target/content.h"

#include <stdio.h>
#include <string.h>

#include "core/parse.h"

uint64_t content_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

uint64_t content_hash(const char *p, size_t n, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return content_mix(h);
}

/* A tiny generator seeded from an id, so content is a pure function of it. */
typedef struct gen {
	uint64_t s;
} gen;

static uint64_t gen_next(gen *g)
{
	g->s = content_mix(g->s);
	return g->s;
}

static uint64_t gen_range(gen *g, uint64_t lo, uint64_t hi)
{
	return lo + gen_next(g) % (hi - lo + 1);
}

#define PICK(g, arr) (arr[gen_next(g) % (sizeof(arr) / sizeof(arr[0]))])

static const char *const levels[] = {"Junior", "Mid-level", "Senior", "Staff", "Principal", "Lead"};
static const char *const roles[] = {
	"Backend Engineer", "Frontend Engineer", "Site Reliability Engineer", "Data Engineer",
	"Product Designer", "QA Engineer", "Platform Engineer", "Mobile Developer",
	"Security Engineer", "Engineering Manager", "Data Scientist", "DevOps Engineer"};
static const char *const companies[] = {
	"Acme Robotics", "Northwind Labs", "Globex", "Initech", "Umbrella Health", "Stark Logistics",
	"Wayne Analytics", "Hooli", "Vandelay Imports", "Soylent Foods", "Cyberdyne Systems",
	"Tyrell Bio"};
static const char *const cities[] = {
	"Berlin, DE", "Lisbon, PT", "Amsterdam, NL", "Warsaw, PL", "Madrid, ES", "Paris, FR",
	"Dublin, IE", "Stockholm, SE", "Prague, CZ", "Vienna, AT", "Milan, IT", "Remote, EU"};
static const char *const tags[] = {"c", "go", "rust", "python", "java", "kotlin", "typescript",
				   "postgres", "redis", "kafka", "kubernetes", "terraform",
				   "aws", "gcp", "react", "grpc", "graphql", "linux"};
static const char *const sentences[] = {
	"You will design, build and operate services that handle millions of requests a day.",
	"Our team owns the public API and the data pipelines behind it, end to end.",
	"We value small, well-tested changes, shipped continuously behind feature flags.",
	"You will work closely with product and design to shape what we build next.",
	"On-call is shared fairly across the team and backed by good runbooks and alerting.",
	"We invest in observability: metrics, traces and logs are part of every feature.",
	"Expect to mentor others, review code thoughtfully and write clear design documents.",
	"The role includes improving the performance and reliability of our core services.",
	"We offer flexible hours, a learning budget and four weeks of paid leave.",
	"Our stack is mostly open source, and we contribute fixes upstream when we can.",
	"You will help migrate legacy components to a simpler, event-driven architecture.",
	"We measure success by customer outcomes, not by lines of code or hours online.",
	"Load testing is part of our release process, so regressions are caught early.",
	"You care about security, privacy and accessibility from the first commit.",
	"The team is distributed across three time zones with a few hours of overlap.",
	"We pair often and rotate responsibilities so knowledge never sits in one head."};
static const char *const adjectives[] = {"Compact", "Wireless", "Ergonomic", "Vintage", "Smart",
					 "Organic", "Portable", "Premium", "Classic", "Modular"};
static const char *const nouns[] = {"Headphones", "Desk Lamp", "Backpack", "Coffee Grinder",
				    "Running Shoes", "Board Game", "Blender", "Notebook",
				    "Water Bottle", "Keyboard", "Tent", "Jacket"};
const char *const content_categories[NCATEGORIES] = {"books", "electronics", "home", "garden",
						    "toys", "sports", "fashion", "food"};
static const char *const colors[] = {"black", "white", "red", "blue", "green", "grey", "oak"};
static const char *const first_names[] = {"Ana", "Ben", "Chloe", "David", "Elif", "Farid",
					  "Greta", "Hugo", "Ines", "Jonas", "Kasia", "Luca"};
static const char *const last_names[] = {"Silva", "Novak", "Meyer", "Rossi", "Dubois", "Kowalski",
					 "Jansen", "Garcia", "Nielsen", "Horvat", "Byrne", "Costa"};
static const char *const notif_types[] = {"message", "job_match", "order_shipped", "mention",
					  "follow", "price_drop", "security"};
static const char *const notif_titles[] = {
	"You have a new message", "A new job matches your profile", "Your order has shipped",
	"Someone mentioned you in a comment", "You have a new follower",
	"An item on your wishlist is cheaper", "New sign-in to your account"};

/* Appends s as a JSON string literal. */
void content_jstr(buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_append(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};

			buf_append(b, e, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};

			buf_append(b, e, 6);
		} else {
			buf_append(b, &s[i], 1);
		}
	}
	buf_append(b, "\"", 1);
}

void content_jstrz(buf *b, const char *s)
{
	content_jstr(b, s, strlen(s));
}

static void date_of(gen *g, char *out, size_t n)
{
	snprintf(out, n, "2025-%02u-%02u", (unsigned)gen_range(g, 1, 12), (unsigned)gen_range(g, 1, 28));
}

void content_job_summary(buf *b, uint64_t id)
{
	gen g = {content_mix(id ^ 0x6a6f6273ull)};
	const char *lvl = PICK(&g, levels), *role = PICK(&g, roles);
	const char *co = PICK(&g, companies), *city = PICK(&g, cities);
	uint64_t smin = gen_range(&g, 35, 120) * 1000;

	buf_printf(b, "{\"id\":%llu,\"title\":\"%s %s\",\"company\":\"%s\",\"location\":\"%s\","
		      "\"salary_min\":%llu",
		   (unsigned long long)id, lvl, role, co, city, (unsigned long long)smin);
}

void content_job_detail(buf *b, uint64_t id)
{
	gen g;
	char date[16];
	uint64_t i, n;

	content_job_summary(b, id);
	g.s = content_mix(id ^ 0x64657461ull);
	date_of(&g, date, sizeof(date));
	buf_printf(b, ",\"salary_max\":%llu,\"currency\":\"EUR\",\"remote\":%s,"
		      "\"employment\":\"%s\",\"posted\":\"%s\",\"applicants\":%llu,\"tags\":[",
		   (unsigned long long)gen_range(&g, 130, 200) * 1000,
		   gen_next(&g) & 1 ? "true" : "false", gen_next(&g) % 5 ? "full-time" : "contract",
		   date, (unsigned long long)gen_range(&g, 0, 400));
	n = gen_range(&g, 2, 6);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		content_jstrz(b, PICK(&g, tags));
	}
	buf_appends(b, "],\"description\":\"");
	n = gen_range(&g, 4, 14);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? " " : "");
		buf_appends(b, PICK(&g, sentences));
	}
	buf_appends(b, "\",\"requirements\":[");
	n = gen_range(&g, 3, 6);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		content_jstrz(b, PICK(&g, sentences));
	}
	buf_appends(b, "]}");
}

void content_product_summary(buf *b, uint64_t id)
{
	gen g = {content_mix(id ^ 0x70726f64ull)};
	const char *adj = PICK(&g, adjectives), *noun = PICK(&g, nouns);
	uint64_t cents = gen_range(&g, 299, 49999);

	buf_printf(b, "{\"id\":%llu,\"sku\":\"SKU-%06llu\",\"name\":\"%s %s\",\"category\":\"%s\","
		      "\"price\":%llu.%02llu",
		   (unsigned long long)id, (unsigned long long)id, adj, noun,
		   content_categories[(id - 1) % NCATEGORIES], (unsigned long long)(cents / 100),
		   (unsigned long long)(cents % 100));
}

uint64_t content_product_cents(uint64_t id)
{
	gen g = {content_mix(id ^ 0x70726f64ull)};

	gen_next(&g);
	gen_next(&g);
	return gen_range(&g, 299, 49999);
}

void content_product_detail(buf *b, uint64_t id)
{
	gen g = {content_mix(id ^ 0x64657461ull)};
	uint64_t i, n;

	content_product_summary(b, id);
	buf_printf(b, ",\"currency\":\"EUR\",\"stock\":%llu,\"rating\":%llu.%llu,\"reviews\":%llu,"
		      "\"attributes\":{\"color\":\"%s\",\"weight_g\":%llu,\"warranty_months\":%llu},"
		      "\"description\":\"",
		   (unsigned long long)gen_range(&g, 0, 500), (unsigned long long)gen_range(&g, 2, 4),
		   (unsigned long long)gen_range(&g, 0, 9), (unsigned long long)gen_range(&g, 0, 5000),
		   PICK(&g, colors), (unsigned long long)gen_range(&g, 50, 5000),
		   (unsigned long long)gen_range(&g, 6, 36));
	n = gen_range(&g, 2, 8);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? " " : "");
		buf_appends(b, PICK(&g, sentences));
	}
	buf_appends(b, "\"}");
}

/* "user123" is user 123; other names hash into the id space. */
uint64_t content_user_id(const char *u, size_t n)
{
	uint64_t id;

	if (n > 4 && memcmp(u, "user", 4) == 0 && parse_u64n(u + 4, n - 4, 1, USERS_MAX, &id) == 0)
		return id;
	return content_hash(u, n, 0x75736572ull) % USERS_MAX + 1;
}

void content_profile(buf *b, uint64_t id, const char *user, size_t user_len,
			 const char *const *override)
{
	gen g = {content_mix(id ^ 0x70726f66ull)};
	const char *fn = PICK(&g, first_names), *ln = PICK(&g, last_names);
	char name[64], date[16];
	uint64_t i, n;

	buf_printf(b, "{\"id\":%llu,\"username\":", (unsigned long long)id);
	if (user) {
		content_jstr(b, user, user_len);
	} else {
		char u[32];

		snprintf(u, sizeof(u), "user%llu", (unsigned long long)id);
		content_jstrz(b, u);
	}
	snprintf(name, sizeof(name), "%s %s", fn, ln);
	buf_appends(b, ",\"name\":");
	content_jstrz(b, override && override[0] ? override[0] : name);
	buf_printf(b, ",\"email\":\"user%llu@example.com\",\"location\":", (unsigned long long)id);
	content_jstrz(b, override && override[2] ? override[2] : PICK(&g, cities));
	date_of(&g, date, sizeof(date));
	buf_printf(b, ",\"joined\":\"%s\",\"followers\":%llu,\"following\":%llu,\"bio\":", date,
		   (unsigned long long)gen_range(&g, 0, 20000), (unsigned long long)gen_range(&g, 0, 800));
	if (override && override[1]) {
		content_jstrz(b, override[1]);
	} else {
		buf_appends(b, "\"");
		n = gen_range(&g, 2, 6);
		for (i = 0; i < n; i++) {
			buf_appends(b, i ? " " : "");
			buf_appends(b, PICK(&g, sentences));
		}
		buf_appends(b, "\"");
	}
	buf_appends(b, ",\"skills\":[");
	n = gen_range(&g, 3, 8);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		content_jstrz(b, PICK(&g, tags));
	}
	buf_printf(b, "],\"preferences\":{\"newsletter\":%s,\"language\":\"en\",\"theme\":\"%s\"},"
		      "\"links\":{\"website\":\"https://example.com/u/%llu\",\"avatar\":"
		      "\"https://cdn.example.com/avatars/%llu.png\"}}",
		   gen_next(&g) & 1 ? "true" : "false", gen_next(&g) & 1 ? "dark" : "light",
		   (unsigned long long)id, (unsigned long long)id);
}

void content_notifications(buf *b, uint64_t user)
{
	gen g = {content_mix(user ^ 0x6e6f7466ull)};
	uint64_t i, n = gen_range(&g, 10, 25), unread = 0;
	char date[16];

	buf_printf(b, "{\"user\":%llu,\"notifications\":[", (unsigned long long)user);
	for (i = 0; i < n; i++) {
		size_t k = (size_t)(gen_next(&g) % (sizeof(notif_types) / sizeof(notif_types[0])));
		int read = (gen_next(&g) % 3) != 0;

		unread += !read;
		date_of(&g, date, sizeof(date));
		buf_printf(b, "%s{\"id\":%llu,\"type\":\"%s\",\"title\":\"%s\",\"read\":%s,"
			      "\"created\":\"%sT%02u:%02u:00Z\",\"link\":\"/notifications/%llu\"}",
			   i ? "," : "", (unsigned long long)(user * 100 + i), notif_types[k],
			   notif_titles[k], read ? "true" : "false", date,
			   (unsigned)gen_range(&g, 0, 23), (unsigned)gen_range(&g, 0, 59),
			   (unsigned long long)(user * 100 + i));
	}
	buf_printf(b, "],\"unread\":%llu}", (unsigned long long)unread);
}
