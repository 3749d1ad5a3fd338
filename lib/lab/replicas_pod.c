/* replicas_pod: sttd in a host on its own CPUs. See replicas_pod.h. */
#include "replicas_pod.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "cpulimit.h"
#include "error.h"
#include "netns.h"

struct stt_pod {
    pid_t pid;
    stt_cpulimit *limit;
    stt_memcg *memcg;
    char url[96], cpus[64], command[1024];
};

stt_pod_params stt_pod_default_params(void)
{
    stt_pod_params p = {0};
    p.host = 0;
    p.cores = 1;
    p.workers = 1;
    p.threads = 1;
    p.queue = -1;
    p.ready_timeout_s = 120;
    p.name = "pod";
    return p;
}

/* Appends "--opt value" to argv (values in buf, one per slot). */
static void add_opt(char **argv, int *n, const char *opt, char (*buf)[32], int *nb, const char *fmt,
                    double v)
{
    snprintf(buf[*nb], sizeof buf[*nb], fmt, v);
    argv[(*n)++] = (char *)opt;
    argv[(*n)++] = buf[(*nb)++];
}

stt_pod *stt_pod_start(const stt_pod_params *p, char *err, size_t errlen)
{
    if (!p || !p->sttd || !p->addr || p->cores < 1 || p->workers < 1 || p->threads < 1) {
        stt_seterr(err, errlen, STT_EINVAL, "bad pod parameters");
        return NULL;
    }
    stt_pod *pod = calloc(1, sizeof *pod);
    if (!pod) {
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    stt_cpulimit_params lp = stt_cpulimit_default_params();
    lp.mode = STT_CPULIMIT_CPUSET;
    lp.cpus = p->cores;
    lp.first_cpu = p->first_cpu;
    if (!(pod->limit = stt_cpulimit_create(&lp, err, errlen))) goto fail;
    snprintf(pod->cpus, sizeof pod->cpus, "%s", stt_cpulimit_cpu_list(pod->limit));
    if (p->memcg && !(pod->memcg = stt_memcg_create(NULL, err, errlen))) goto fail;

    char *argv[32], vals[8][32];
    int n = 0, nv = 0;
    argv[n++] = (char *)p->sttd;
    argv[n++] = "--host";
    argv[n++] = (char *)p->addr;
    add_opt(argv, &n, "--port", vals, &nv, "%.0f", STT_POD_PORT);
    add_opt(argv, &n, "--workers", vals, &nv, "%.0f", p->workers);
    add_opt(argv, &n, "--threads", vals, &nv, "%.0f", p->threads);
    if (p->queue >= 0) add_opt(argv, &n, "--queue", vals, &nv, "%.0f", p->queue);
    if (p->max_upload_mb > 0)
        add_opt(argv, &n, "--max-upload-mb", vals, &nv, "%g", p->max_upload_mb);
    if (p->max_duration_s > 0)
        add_opt(argv, &n, "--max-duration-s", vals, &nv, "%g", p->max_duration_s);
    if (p->profiles) {
        argv[n++] = "--profiles";
        argv[n++] = (char *)p->profiles;
    }
    argv[n++] = "--quiet";
    argv[n] = NULL;
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof pod->command; i++)
        k += (size_t)snprintf(pod->command + k, sizeof pod->command - k, "%s%s", i ? " " : "",
                              argv[i]);

    char logp[PATH_MAX + 64];
    snprintf(logp, sizeof logp, "%s/%s.log", stt_netns_tmpdir(), p->name ? p->name : "pod");
    stt_netns_spawn_params sp = {
        .host = p->host, .argv = argv, .limit = pod->limit, .memcg = pod->memcg, .log_path = logp};
    if (stt_netns_spawn(&sp, &pod->pid, err, errlen)) goto fail;
    snprintf(pod->url, sizeof pod->url, "http://%.63s:%d", p->addr, STT_POD_PORT);
    char ready[160];
    snprintf(ready, sizeof ready, "%s/ready", pod->url);
    for (double t0 = stt_now_s(); stt_now_s() - t0 < p->ready_timeout_s;) {
        long status = 0;
        if (stt_client_get(ready, 2, &status, NULL) == 0 && status == 200) {
            stt_cpulimit_evidence *ev = malloc(sizeof *ev);
            if (!ev) {
                stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
                goto fail;
            }
            int vrc = stt_cpulimit_verify(pod->limit, pod->pid, ev, err, errlen);
            int ok = !vrc && ev->ok;
            if (!vrc && !ev->ok)
                stt_seterr(err, errlen, STT_EIO, "%s is not restricted to CPUs %s: %s", p->name,
                           pod->cpus, ev->reason);
            free(ev);
            if (ok) return pod;
            goto fail;
        }
        int st;
        if (!stt_netns_alive(pod->pid, &st)) {
            pod->pid = 0;
            char tail[300];
            stt_netns_log_tail(logp, tail, sizeof tail);
            stt_seterr(err, errlen, STT_EIO, "%s: sttd exited (status %d) before it was ready: %s",
                       p->name, st, tail[0] ? tail : "(no output)");
            goto fail;
        }
        usleep(100 * 1000);
    }
    stt_seterr(err, errlen, STT_EIO, "%s: sttd not ready after %.0f s (%s)", p->name,
               p->ready_timeout_s, ready);
fail:
    stt_pod_stop(pod, 2);
    return NULL;
}

const char *stt_pod_url(const stt_pod *pod)
{
    return pod->url;
}

const char *stt_pod_cpus(const stt_pod *pod)
{
    return pod->cpus;
}

pid_t stt_pod_pid(const stt_pod *pod)
{
    return pod->pid;
}

const stt_memcg *stt_pod_memcg(const stt_pod *pod)
{
    return pod->memcg;
}

const char *stt_pod_command(const stt_pod *pod)
{
    return pod->command;
}

void stt_pod_stop(stt_pod *pod, double grace_s)
{
    if (!pod) return;
    if (pod->pid > 0) stt_netns_stop(pod->pid, grace_s);
    stt_memcg_free(pod->memcg);
    stt_cpulimit_free(pod->limit);
    free(pod);
}
