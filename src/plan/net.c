/* The run's network options at the top level of a plan: dns (k6's dns
 * option), hosts (k6's hosts), local_ips (k6's localIPs) and proxy. They
 * are run-wide, not per request, so they sit beside tags and outputs
 * rather than in defaults. */
#include "plan/loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "http/proxy.h"
#include "io/net.h"
#include "io/resolve.h"

/* Most source addresses, as for --local-ips. */
#define MAX_LOCAL_IPS 65536
/* Most hosts: entries; each is compared by name when the run starts. */
#define MAX_HOSTS 1024

static const char *const dns_keys[] = {"ttl", "select", "policy", "server", NULL};
static const char *const proxy_keys[] = {"http", "https", "no_proxy", NULL};

/* dns: {ttl: 5m | inf | 0, select: random | first | roundRobin,
 * policy: preferIPv4 | ..., server: IP:PORT}. */
static void plan_dns(loader *L, const ynode *d)
{
	run_config *cfg = L->cfg;
	const ynode *v;
	const char *s;

	if (!ynode_is_map(d)) {
		err_at(L, d, "dns: expected a mapping (ttl, select, policy, server)");
		return;
	}
	if (check_keys(L, d, dns_keys, "dns") < 0)
		return;
	v = ymap_get(&L->doc, d, "ttl");
	s = v ? scalar_text(L, v) : NULL;
	if (s && !strcmp(s, "inf"))
		cfg->dns_ttl_ns = RESOLVE_TTL_INF;
	else if (s && !strcmp(s, "0"))
		cfg->dns_ttl_ns = 0;
	else if (v && !template_failed(v, s) && (!s || parse_duration_ns(s, &cfg->dns_ttl_ns) < 0))
		err_at(L, v, "dns.ttl: expected a duration such as 30s or 5m, inf (resolve once) or 0, found %s%s%s",
		       s ? "'" : "", s ? s : ynode_kind(v), s ? "'" : "");
	v = ymap_get(&L->doc, d, "select");
	s = v ? scalar_text(L, v) : NULL;
	if (v && !template_failed(v, s)) {
		int sel = s ? resolve_select_parse(s) : -1;

		if (sel < 0)
			err_at(L, v, "dns.select: expected first, random or roundRobin, found %s%s%s", s ? "'" : "",
			       s ? s : ynode_kind(v), s ? "'" : "");
		else
			cfg->dns_select = sel;
	}
	v = ymap_get(&L->doc, d, "policy");
	s = v ? scalar_text(L, v) : NULL;
	if (v && !template_failed(v, s)) {
		int pol = s ? resolve_policy_parse(s) : -1;

		if (pol < 0)
			err_at(L, v, "dns.policy: expected preferIPv4, preferIPv6, onlyIPv4, onlyIPv6 or any, found %s%s%s",
			       s ? "'" : "", s ? s : ynode_kind(v), s ? "'" : "");
		else
			cfg->dns_policy = pol;
	}
	v = ymap_get(&L->doc, d, "server");
	s = v ? scalar_text(L, v) : NULL;
	if (v && !template_failed(v, s)) {
		net_addr a;
		int port;

		if (!s || net_parse_numeric(s, &a, &port) < 0 || port <= 0 || a.sa.ss_family != AF_INET) {
			err_at(L, v, "dns.server: expected IPV4:PORT of a DNS server, found %s%s%s", s ? "'" : "",
			       s ? s : ynode_kind(v), s ? "'" : "");
		} else {
			free(cfg->dns_server);
			cfg->dns_server = xstrdup(s);
		}
	}
}

/* hosts: {name: IP, "name:port": "IP:port"}, as k6's hosts. A key with a
 * port pins only that port; a value with a port sends there instead of the
 * request's port. */
static void plan_hosts(loader *L, const ynode *h)
{
	run_config *cfg = L->cfg;
	size_t i, n;

	if (!ynode_is_map(h)) {
		err_at(L, h, "hosts: expected a mapping of name: IP (or \"name:port\": \"IP:port\")");
		return;
	}
	check_dups(L, h, "hosts");
	n = ymap_len(h);
	if (n > MAX_HOSTS) {
		err_at(L, ymap_key(&L->doc, h, MAX_HOSTS), "hosts: at most %d entries", MAX_HOSTS);
		n = MAX_HOSTS;
	}
	cfg->hosts = xcalloc(n + 1, sizeof(*cfg->hosts));
	for (i = 0; i < n; i++) {
		const ynode *kn = ymap_key(&L->doc, h, i), *vn = ymap_value(&L->doc, h, i);
		const char *k = ynode_str(kn), *val = scalar_text(L, vn), *colon;
		run_host_pin *p = &cfg->hosts[cfg->nhosts];
		char *e = NULL;
		long port = 0;
		int vport = 0;

		if (template_failed(vn, val))
			continue;
		if (!k || !*k) {
			err_at(L, kn, "hosts: expected a host name, or \"name:port\"");
			continue;
		}
		/* "name:port" (a bare IPv6 address has more than one colon: no port). */
		colon = strrchr(k, ':');
		if (colon && strchr(k, ':') == colon) {
			port = strtol(colon + 1, &e, 10);
			if (colon == k || !colon[1] || *e || port < 1 || port > 65535) {
				err_at(L, kn, "hosts: '%s': expected name or name:PORT, PORT from 1 to 65535", k);
				continue;
			}
		} else {
			colon = NULL;
		}
		if (!val || net_parse_numeric(val, &p->addr, &vport) < 0) {
			err_at(L, vn, "hosts: %s: expected an IP address or IP:PORT ([IPv6]:PORT), found %s%s%s", k,
			       val ? "'" : "", val ? val : ynode_kind(vn), val ? "'" : "");
			continue;
		}
		p->name = colon ? xstrndup(k, (size_t)(colon - k)) : xstrdup(k);
		p->port = colon ? xstrdup(colon + 1) : NULL;
		p->addr_port = vport;
		cfg->nhosts++;
	}
}

/* One local_ips item (itself a comma-separated list) appended to the
 * run's addresses. */
static int local_ips_add(loader *L, const ynode *it)
{
	run_config *cfg = L->cfg;
	const char *s = scalar_text(L, it);
	net_addr *got = NULL;
	char err[256];
	int n;

	if (template_failed(it, s))
		return -1;
	if (!s || !*s) {
		err_at(L, it, "local_ips: expected IPs, FROM-TO ranges and IP/BITS blocks, comma-separated, or a list of "
			      "them; found %s", s ? "''" : ynode_kind(it));
		return -1;
	}
	n = net_parse_ip_list(s, &got, MAX_LOCAL_IPS - cfg->nlocal_ips, err, sizeof(err));
	if (n < 0) {
		if (cfg->nlocal_ips && strstr(err, "more than"))
			snprintf(err, sizeof(err), "more than %d addresses in all", MAX_LOCAL_IPS);
		err_at(L, it, "local_ips: %s", err);
		return -1;
	}
	cfg->local_ips = xrealloc(cfg->local_ips, (cfg->nlocal_ips + (size_t)n) * sizeof(*got));
	memcpy(cfg->local_ips + cfg->nlocal_ips, got, (size_t)n * sizeof(*got));
	cfg->nlocal_ips += (uint32_t)n;
	free(got);
	return 0;
}

/* local_ips: "127.0.0.2-127.0.0.5,10.0.0.0/30", or a list of such items:
 * VU i sends from address (i - 1) mod N, as k6's localIPs. */
static void plan_local_ips(loader *L, const ynode *v)
{
	size_t i;

	if (!ynode_is_seq(v)) {
		local_ips_add(L, v);
	} else if (!yseq_len(v)) {
		err_at(L, v, "local_ips: expected at least one address");
	} else {
		for (i = 0; i < yseq_len(v); i++)
			if (local_ips_add(L, yseq_item(&L->doc, v, i)) < 0)
				break;
	}
	L->cfg->local_ips_key = "local_ips";
}

static int proxy_url(loader *L, const ynode *v, const char *what, http_proxy **slot)
{
	const char *s = scalar_text(L, v);
	char err[256];

	if (template_failed(v, s))
		return -1;
	if (!s || !*s) {
		err_at(L, v, "%s: expected a proxy URL such as http://HOST:PORT, found %s", what, s ? "''" : ynode_kind(v));
		return -1;
	}
	*slot = xcalloc(1, sizeof(**slot));
	if (http_proxy_parse(s, *slot, err, sizeof(err)) < 0) {
		free(*slot);
		*slot = NULL;
		err_at(L, v, "%s: %s", what, err);
		return -1;
	}
	return 0;
}

/* proxy: URL (for http:// and https:// requests), or {http: URL, https:
 * URL, no_proxy: LIST}. A plan's proxy replaces the environment's
 * (HTTP_PROXY, HTTPS_PROXY), and applies to loopback hosts too, as
 * --proxy does; NO_PROXY from the environment still exempts hosts unless
 * no_proxy is given. */
static void plan_proxy(loader *L, const ynode *v)
{
	run_config *cfg = L->cfg;
	const ynode *d;

	if (!ynode_is_map(v)) {
		if (proxy_url(L, v, "proxy", &cfg->proxy_http) == 0)
			proxy_url(L, v, "proxy", &cfg->proxy_https);
	} else if (check_keys(L, v, proxy_keys, "proxy") == 0) {
		d = ymap_get(&L->doc, v, "http");
		if (d)
			proxy_url(L, d, "proxy.http", &cfg->proxy_http);
		d = ymap_get(&L->doc, v, "https");
		if (d)
			proxy_url(L, d, "proxy.https", &cfg->proxy_https);
		d = ymap_get(&L->doc, v, "no_proxy");
		if (d) {
			const char *s = scalar_text(L, d);

			if (!template_failed(d, s) && !s)
				err_at(L, d, "proxy.no_proxy: expected text such as \"localhost,.internal,10.0.0.0/8\"");
			else if (s)
				cfg->no_proxy = xstrdup(s);
		}
	}
	if (!cfg->no_proxy && (cfg->proxy_http || cfg->proxy_https)) {
		const char *np = getenv("NO_PROXY");

		if (!np || !*np)
			np = getenv("no_proxy");
		if (np && *np)
			cfg->no_proxy = xstrdup(np);
	}
}

void plan_net(loader *L, const ynode *root)
{
	const ynode *v;

	v = ymap_get(&L->doc, root, "dns");
	if (v)
		plan_dns(L, v);
	v = ymap_get(&L->doc, root, "hosts");
	if (v)
		plan_hosts(L, v);
	v = ymap_get(&L->doc, root, "local_ips");
	if (v)
		plan_local_ips(L, v);
	v = ymap_get(&L->doc, root, "proxy");
	if (v)
		plan_proxy(L, v);
}
