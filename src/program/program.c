#include "program/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/redact.h"
#include "program/request.h"

void run_config_init(run_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ns = 60 * NS_PER_SEC;
	cfg->max_redirects = 10;
	cfg->connect_timeout_ns = 30 * NS_PER_SEC;
	cfg->dns_ttl_ns = 5 * 60 * NS_PER_SEC; /* k6's: 5m, random, preferIPv4 (the zeros) */
	cfg->graceful_stop_ns = 30 * NS_PER_SEC;
	cfg->expected_lo = 200;
	cfg->expected_hi = 399;
	cfg->segment.full = 1;
}

void run_config_free(run_config *cfg)
{
	uint32_t i, j;

	free(cfg->target);
	seg_tuple_free(&cfg->segment);
	free(cfg->instance);
	redact_destroy(cfg->secrets);
	for (i = 0; i < cfg->nreqs; i++)
		run_request_free(&cfg->reqs[i]);
	free(cfg->reqs);
	for (i = 0; i < cfg->nscenarios; i++) {
		run_scenario *sc = &cfg->scenarios[i];

		free(sc->name);
		for (j = 0; j < sc->ntags; j++) {
			free((char *)sc->tags[j].key);
			free((char *)sc->tags[j].value);
		}
		free(sc->tags);
		flow_program_free(&sc->setup);
		flow_program_free(&sc->flow);
		for (j = 0; j < sc->nvars; j++)
			free(sc->var_names[j]);
		free(sc->var_names);
		free(sc->var_secret);
		free(sc->stages);
	}
	free(cfg->scenarios);
	for (i = 0; i < 3; i++)
		free(cfg->tls_files[i]);
	free(cfg->user_agent);
	free(cfg->dns_server);
	for (i = 0; i < cfg->nhosts; i++) {
		free(cfg->hosts[i].name);
		free(cfg->hosts[i].port);
	}
	free(cfg->hosts);
	free(cfg->local_ips);
	http_proxy_free(cfg->proxy_http);
	free(cfg->proxy_http);
	http_proxy_free(cfg->proxy_https);
	free(cfg->proxy_https);
	free(cfg->no_proxy);
	for (i = 0; i < cfg->nrun_tags; i++) {
		free((char *)cfg->run_tags[i].key);
		free((char *)cfg->run_tags[i].value);
	}
	free(cfg->run_tags);
	for (i = 0; i < cfg->nphases; i++) {
		free(cfg->phases[i].scenarios);
	}
	free(cfg->phases);
	for (i = 0; i < cfg->ndata; i++) {
		run_data *d = &cfg->data[i];

		for (j = 0; j < d->ncols; j++)
			free(d->names[j]);
		for (j = 0; j < d->ncols * d->nrows; j++)
			free(d->cells[j]);
		free(d->names);
		free(d->cells);
		free(d->alias);
		free(d->file);
	}
	free(cfg->data);
	for (i = 0; i < cfg->ngroups; i++)
		free(cfg->groups[i]);
	free(cfg->groups);
	for (i = 0; i < cfg->nchoices; i++) {
		free(cfg->choices[i].cum);
		free(cfg->choices[i].target);
	}
	free(cfg->choices);
	for (i = 0; i < cfg->nparallels; i++) {
		free(cfg->parallels[i].reqs);
		free(cfg->parallels[i].host);
	}
	free(cfg->parallels);
	free(cfg->checks);
	for (i = 0; i < cfg->nplan_outs; i++)
		free(cfg->plan_outs[i]);
	free(cfg->plan_outs);
	for (i = 0; i < cfg->nthresholds; i++)
		met_threshold_free(&cfg->thresholds[i]);
	free(cfg->thresholds);
	memset(cfg, 0, sizeof(*cfg));
}

void run_config_tls_file(run_config *cfg, int i, const char *path)
{
	const char **slot[3] = {&cfg->tls_cacert, &cfg->tls_cert, &cfg->tls_key};

	free(cfg->tls_files[i]);
	cfg->tls_files[i] = path ? xstrdup(path) : NULL;
	*slot[i] = cfg->tls_files[i];
}

int run_config_tag_set(run_config *cfg, const char *key, const char *value)
{
	uint32_t i;

	for (i = 0; i < cfg->nrun_tags; i++)
		if (strcmp(cfg->run_tags[i].key, key) == 0)
			break;
	if (i == cfg->nrun_tags) {
		if (i == MET_MAX_RUN_TAGS)
			return -1;
		cfg->run_tags = xrealloc(cfg->run_tags, (i + 1) * sizeof(*cfg->run_tags));
		cfg->run_tags[i].key = xstrdup(key);
		cfg->nrun_tags++;
	} else {
		free((char *)cfg->run_tags[i].value);
	}
	cfg->run_tags[i].value = xstrdup(value);
	if (strcmp(key, "testid") == 0)
		cfg->testid = cfg->run_tags[i].value;
	return 0;
}

const char *run_tag_problem(const char *key, const char *value)
{
	const char *p;

	if (!key[0])
		return "the key is empty";
	if (strlen(key) > 64)
		return "the key is longer than 64 bytes";
	for (p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return "the key may hold only letters, digits, '_', '-' and '.'";
	if (!value[0])
		return "the value is empty (an empty tag is no tag)";
	if (strlen(value) > 256)
		return "the value is longer than 256 bytes";
	for (p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "the value holds a control character";
	return NULL;
}

static const char *env2(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	if (!v || !*v)
		v = getenv(lower);
	return v && *v ? v : NULL;
}

static int env_proxy(http_proxy **slot, const char *name, const char *v, char *err, size_t errsz)
{
	char why[256];

	if (*slot || !v)
		return 0;
	*slot = xcalloc(1, sizeof(**slot));
	if (http_proxy_parse(v, *slot, why, sizeof(why)) < 0) {
		free(*slot);
		*slot = NULL;
		snprintf(err, errsz, "%s: %s", name, why);
		return -1;
	}
	return 0;
}

int run_config_proxy_env(run_config *cfg, char *err, size_t errsz)
{
	const char *h = env2("HTTP_PROXY", "http_proxy"), *s = env2("HTTPS_PROXY", "https_proxy");
	const char *np = env2("NO_PROXY", "no_proxy");

	if (cfg->proxy_http || cfg->proxy_https)
		return 0;
	if (env_proxy(&cfg->proxy_http, "HTTP_PROXY", h, err, errsz) < 0 ||
	    env_proxy(&cfg->proxy_https, "HTTPS_PROXY", s, err, errsz) < 0)
		return -1;
	cfg->proxy_from_env = h || s;
	if (np && !cfg->no_proxy)
		cfg->no_proxy = xstrdup(np);
	return 0;
}
