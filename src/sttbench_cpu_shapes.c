/* sttbench_cpu_shapes: pod shapes of `sttbench cpu`: k servers of n/k pinned
 * CPUs each behind haproxy (leastconn), under the same saturated load as the
 * grid. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpulimit.h"
#include "sut.h"
#include "sttbench_cpu.h"
#include "proc.h"
#include "sysinfo.h"

#define MAXREPLICAS 64 /* replicas of one pod shape */

/* Runs sh->replicas servers of sh->cores_each pinned CPUs behind haproxy and
 * measures them under saturation; fills the rest of *sh. */
static void run_shape(const cpu_config *c, cpu_shape *sh, const cpu_file *tfile)
{
    char err[600] = "", path[PATH_MAX];
    int k = sh->replicas, each = sh->cores_each;
    stt_cpulimit *lim[MAXREPLICAS] = {0};
    stt_sut *srv[MAXREPLICAS] = {0};
    stt_memsampler *ms[MAXREPLICAS] = {0};
    pid_t hp = -1;
    sh->status = "failed";
    if (k < 1 || k > MAXREPLICAS) {
        snprintf(sh->reason, sizeof sh->reason, "%d replicas: at most %d", k, MAXREPLICAS);
        return;
    }
    for (int i = 0; i < k; i++) {
        stt_cpulimit_params lp = stt_cpulimit_default_params();
        lp.cpus = each;
        lp.first_cpu = i * each;
        if (!(lim[i] = stt_cpulimit_create(&lp, err, sizeof err))) goto out;
        stt_sut_params sp = stt_sut_default_params();
        sp.command = c->server_cmd;
        sp.workers = each;
        sp.threads = each;
        sp.limit = lim[i];
        snprintf(path, sizeof path, "%s/server_shape%dx%d_%d.log", c->out, k, each, i);
        sp.log_path = path;
        if (!(srv[i] = stt_sut_start(&sp, err, sizeof err))) goto out;
        stt_cpulimit_evidence ev;
        char verr[512] = "";
        if (stt_cpulimit_verify(lim[i], stt_sut_pid(srv[i]), &ev, verr, sizeof verr) || !ev.ok) {
            sh->status = "refused";
            snprintf(err, sizeof err, "replica %d: %s", i, verr[0] ? verr : ev.reason);
            goto out;
        }
        ms[i] = stt_memsampler_start(stt_sut_pid(srv[i]), 100, NULL, 0);
    }
    int port = stt_sut_free_port();
    snprintf(path, sizeof path, "%s/haproxy_%dx%d.cfg", c->out, k, each);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, sizeof err, "%.400s: %s", path, strerror(errno));
        goto out;
    }
    fprintf(f,
            "global\n  maxconn 1024\ndefaults\n  mode http\n  timeout connect 5s\n"
            "  timeout client 900s\n  timeout server 900s\nfrontend fe\n  bind 127.0.0.1:%d\n"
            "  default_backend be\nbackend be\n  balance leastconn\n  option httpchk GET "
            "/health\n",
            port);
    for (int i = 0; i < k; i++)
        fprintf(f, "  server r%d 127.0.0.1:%d check inter 1s\n", i, stt_sut_port(srv[i]));
    fclose(f);
    hp = fork();
    if (hp == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("haproxy", "haproxy", "-f", path, "-db", (char *)NULL);
        _exit(127);
    }
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/audio/transcriptions", port);
    /* Wait until haproxy listens and its health checks see every replica up. */
    char health[128];
    snprintf(health, sizeof health, "http://127.0.0.1:%d/health", port);
    usleep(1500 * 1000);
    cpu_lat warm;
    if (cpu_single_latency(url, tfile, 1, &warm, err, sizeof err)) {
        memmove(err + 9, err, sizeof err - 10);
        memcpy(err, "haproxy: ", 9);
        err[sizeof err - 1] = 0;
        goto out;
    }
    sh->concurrency = 2 * k * each;
    cpu_thr t;
    cpu_progress("shape %d x %d core(s): saturated load %.0f s", k, each, c->duration);
    if (cpu_saturate(url, tfile, sh->concurrency, c->duration, &t, err, sizeof err)) goto out;
    sh->thr = t.audio_s_per_s;
    sh->p50 = t.p50;
    sh->p95 = t.p95;
    sh->errors = t.errors;
    err[0] = 0;
    /* Throughput of a shape that failed its requests is not its capacity. */
    if (t.errors > 0.01 * (double)(t.completed > 0 ? t.completed : 1))
        snprintf(err, sizeof err, "%lld of %lld requests failed", t.errors, t.completed);
    else
        sh->status = "ok";
out:
    if (hp > 0) {
        kill(hp, SIGTERM);
        waitpid(hp, NULL, 0);
    }
    for (int i = 0; i < k; i++) {
        if (ms[i]) {
            stt_memusage peak = {0};
            stt_memsampler_stop(ms[i], &peak, NULL);
            sh->peak_pss += peak.pss;
        }
        if (srv[i]) stt_sut_stop(srv[i], 30);
        stt_cpulimit_free(lim[i]);
    }
    snprintf(sh->reason, sizeof sh->reason, "%s", err);
}

int cpu_run_shapes(const cpu_config *c, int cores, const cpu_file *tfile, cpu_shape *sh, int max)
{
    int nsh = 0;
    if (system("command -v haproxy >/dev/null 2>&1")) {
        fprintf(stderr, "sttbench cpu: haproxy not found: pod shapes skipped\n");
        return 0;
    }
    for (int k = 1; k <= cores && k <= MAXREPLICAS && nsh < max; k *= 2) {
        if (cores % k) continue;
        memset(&sh[nsh], 0, sizeof sh[nsh]);
        sh[nsh].replicas = k;
        sh[nsh].cores_each = cores / k;
        run_shape(c, &sh[nsh], tfile);
        nsh++;
    }
    return nsh;
}
