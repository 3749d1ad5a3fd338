/* service: see service.h. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

struct stt_service {
    stt_config cfg;
    stt_pool *pool;
    stt_server *srv;
};

stt_service *stt_service_start(const stt_config *cfg, char *err, size_t errlen)
{
    stt_service *s = calloc(1, sizeof *s);
    if (!s) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    /* Refused before the model loads when it cannot even be opened; its
     * contents are read only after the pool forks. */
    if (cfg->api_key_file && access(cfg->api_key_file, R_OK) != 0) {
        stt_seterr(err, errlen, STT_EIO, "cannot read --api-key-file %s: %s", cfg->api_key_file,
                   strerror(errno));
        free(s);
        return NULL;
    }
    s->pool = stt_pool_create(&s->cfg.pool, err, errlen);
    if (!s->pool) {
        free(s);
        return NULL;
    }
    char *key = NULL;
    if (cfg->api_key_file && stt_config_read_api_key(cfg->api_key_file, &key, err, errlen) < 0) {
        stt_pool_free(s->pool);
        free(s);
        return NULL;
    }
    stt_server_params sp = s->cfg.server;
    sp.api_key = key;
    sp.backend = stt_pool_backend(s->pool);
    s->srv = stt_server_start(&sp, err, errlen); /* it keeps its own copy of the key */
    if (key) explicit_bzero(key, strlen(key));
    free(key);
    if (!s->srv) {
        stt_pool_free(s->pool);
        free(s);
        return NULL;
    }
    return s;
}

void stt_service_describe(stt_service *s, char *buf, size_t len)
{
    stt_backend_status st;
    stt_pool_status(s->pool, &st);
    int n = snprintf(buf, len, "listening on http://%s:%d (workers %d, threads %d, queue %d",
                     s->cfg.server.host, stt_server_port(s->srv), st.workers, st.threads,
                     st.capacity - st.workers);
    if (n > 0 && (size_t)n < len && stt_server_probe_port(s->srv) >= 0)
        n += snprintf(buf + n, len - (size_t)n, ", probes on port %d",
                      stt_server_probe_port(s->srv));
    if (n > 0 && (size_t)n < len) snprintf(buf + n, len - (size_t)n, ")");
}

void stt_service_drain(stt_service *s)
{
    stt_server_drain(s->srv);
}

int stt_service_idle(stt_service *s)
{
    return stt_server_in_flight(s->srv) == 0;
}

void stt_service_stop(stt_service *s)
{
    if (!s) return;
    stt_server_stop(s->srv, 0);
    stt_pool_free(s->pool);
    free(s);
}
