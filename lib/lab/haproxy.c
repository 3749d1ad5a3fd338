/* haproxy: its configuration per routing, its start and stop. See haproxy.h. */
#include "haproxy.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "error.h"
#include "netns.h"
#include "sut.h"

struct stt_haproxy {
    pid_t pid;
    char url[64];
};

stt_haproxy_params stt_haproxy_default_params(void)
{
    stt_haproxy_params p = {0};
    p.routing = STT_ROUTING_RANDOM;
    p.workers = 1;
    p.timeout_s = 120;
    return p;
}

int stt_haproxy_config(const stt_haproxy_params *p, int listen_port, FILE *f)
{
    if (!p || !f || p->nservers < 1 || p->nservers > STT_HAPROXY_MAX || p->server_port < 1 ||
        p->server_port > 65535 || listen_port < 1 || listen_port > 65535 || p->workers < 1 ||
        p->timeout_s < 1 || (unsigned)p->routing >= STT_ROUTING_N)
        return STT_EINVAL;
    for (int i = 0; i < p->nservers; i++)
        if (!p->addrs[i] || !p->addrs[i][0] || strpbrk(p->addrs[i], " \n\t#")) return STT_EINVAL;
    static const char *const balance[STT_ROUTING_N] = {
        [STT_ROUTING_CENTRAL] = "leastconn",
        [STT_ROUTING_RANDOM] = "random(1)",
        [STT_ROUTING_ROUNDROBIN] = "roundrobin",
    };
    /* timeout queue: under the central queue a request waits as long as it
     * must, up to a request's own limit. */
    fprintf(f,
            "# routing: %s\n"
            "global\n  maxconn 4096\n"
            "defaults\n  mode http\n  option http-server-close\n  timeout connect 5s\n"
            "  timeout client %ds\n  timeout server %ds\n  timeout queue %ds\n"
            "frontend fe\n  bind 127.0.0.1:%d\n  default_backend be\n"
            "backend be\n  balance %s\n",
            stt_routing_name(p->routing), p->timeout_s, p->timeout_s, p->timeout_s, listen_port,
            balance[p->routing]);
    for (int i = 0; i < p->nservers; i++) {
        fprintf(f, "  server r%d %s:%d", i, p->addrs[i], p->server_port);
        if (p->routing == STT_ROUTING_CENTRAL) fprintf(f, " maxconn %d", p->workers);
        fputc('\n', f);
    }
    return ferror(f) ? STT_EIO : 0;
}

stt_haproxy *stt_haproxy_start(const stt_haproxy_params *p, char *err, size_t errlen)
{
    static int serial;
    int port = stt_sut_free_port();
    const char *dir = stt_netns_tmpdir();
    char cfg[PATH_MAX + 32], logp[PATH_MAX + 32];
    int n = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
    snprintf(cfg, sizeof cfg, "%s/haproxy_%d.cfg", dir[0] ? dir : "/tmp", n);
    snprintf(logp, sizeof logp, "%s/haproxy_%d.log", dir[0] ? dir : "/tmp", n);
    if (port < 0) {
        stt_seterr(err, errlen, STT_EIO, "no free port for haproxy");
        return NULL;
    }
    FILE *f = fopen(cfg, "w");
    if (!f) {
        stt_seterr(err, errlen, STT_EIO, "cannot write %s", cfg);
        return NULL;
    }
    int rc = stt_haproxy_config(p, port, f);
    if (fclose(f) || rc) {
        stt_seterr(err, errlen, rc ? rc : STT_EIO, "bad haproxy configuration");
        return NULL;
    }
    stt_haproxy *h = calloc(1, sizeof *h);
    if (!h) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    char *argv[] = {"haproxy", "-f", cfg, "-db", NULL};
    stt_netns_spawn_params sp = {.host = -1, .argv = argv, .limit = p->limit, .log_path = logp};
    if (stt_netns_spawn(&sp, &h->pid, err, errlen)) {
        free(h);
        return NULL;
    }
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d", port);
    char health[96];
    snprintf(health, sizeof health, "%s/health", h->url);
    for (double t0 = stt_now_s(); stt_now_s() - t0 < 15;) {
        long status = 0;
        if (stt_client_get(health, 2, &status, NULL) == 0 && status == 200) return h;
        int st;
        if (!stt_netns_alive(h->pid, &st)) {
            char tail[300];
            stt_netns_log_tail(logp, tail, sizeof tail);
            stt_seterr(err, errlen, STT_EIO, "haproxy exited (status %d): %s", st,
                       tail[0] ? tail : "(no output)");
            free(h);
            return NULL;
        }
        usleep(50 * 1000);
    }
    stt_seterr(err, errlen, STT_EIO, "haproxy not answering %s after 15 s", health);
    stt_haproxy_stop(h);
    return NULL;
}

const char *stt_haproxy_url(const stt_haproxy *h)
{
    return h->url;
}

void stt_haproxy_stop(stt_haproxy *h)
{
    if (!h) return;
    stt_netns_stop(h->pid, 5);
    free(h);
}

void stt_haproxy_version(char *out, size_t len)
{
    char buf[512] = "";
    char *argv[] = {"haproxy", "-v", NULL};
    if (stt_netns_run(argv, buf, sizeof buf) != 0) buf[0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    snprintf(out, len, "%s", buf);
}
