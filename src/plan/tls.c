/* defaults.tls: CA, client certificate and key files, verification and
 * resumption. */
#include "plan/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const tls_keys[] = {"cacert", "cert", "key", "insecure_skip_verify", "resumption", NULL};

/* defaults.tls. The command line wins: a flag given there is kept. Files
 * are relative to the plan and must be readable now, so that `validate`
 * catches a wrong path with its line. */
void load_tls(loader *L, const ynode *t)
{
	static const char *const files[] = {"cacert", "cert", "key"};
	run_config *cfg = L->cfg;
	const char **dst[] = {&cfg->tls_cacert, &cfg->tls_cert, &cfg->tls_key};
	const ynode *v;
	int b;

	if (!ynode_is_map(t)) {
		err_at(L, t, "tls: expected a mapping (%s)", "cacert, cert, key, insecure_skip_verify, resumption");
		return;
	}
	if (check_keys(L, t, tls_keys, "tls") < 0)
		return;
	for (int i = 0; i < 3; i++) {
		const char *f;
		char *path;
		size_t len;

		v = ymap_get(&L->doc, t, files[i]);
		f = v ? get_str(L, v, files[i]) : NULL;
		if (!f)
			continue;
		len = strlen(L->dir) + strlen(f) + 2;
		path = xmalloc(len);
		if (f[0] == '/')
			snprintf(path, len, "%s", f);
		else
			snprintf(path, len, "%s/%s", L->dir, f);
		if (access(path, R_OK) < 0) {
			err_at(L, v, "%s file '%s': %s", files[i], f, strerror(errno));
			free(path);
			continue;
		}
		/* The command line's file wins over the plan's. */
		if (!*dst[i])
			run_config_tls_file(cfg, i, path);
		free(path);
	}
	v = ymap_get(&L->doc, t, "key");
	if (v && !ymap_get(&L->doc, t, "cert"))
		err_at(L, v, "key: goes with cert (the client certificate)");
	v = ymap_get(&L->doc, t, "insecure_skip_verify");
	if (v && get_bool(L, v, "insecure_skip_verify", &b) == 0 && b)
		cfg->tls_insecure = 1;
	v = ymap_get(&L->doc, t, "resumption");
	if (v && get_bool(L, v, "resumption", &b) == 0 && !b)
		cfg->no_tls_resumption = 1;
}
