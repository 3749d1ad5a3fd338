/* sttbench_cpu_point: one grid point of `sttbench cpu`: the server started
 * under its CPU restriction, the restriction proved, single-request latencies
 * and a saturated load measured. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpulimit.h"
#include "error.h"
#include "loadgen.h"
#include "client.h"
#include "sut.h"
#include "sttbench_common.h"
#include "sttbench_cpu.h"
#include "proc.h"
#include "sysinfo.h"

static stt_load_params load_params(const char *url, stt_upload *b)
{
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.bodies = b;
    lp.nbodies = 1;
    lp.timeout_s = 900;
    lp.threads = 1;
    return lp;
}

static stt_upload body_of(const cpu_file *f)
{
    stt_upload b = {f->e->file, "audio/wav", f->data, f->len, f->e->duration_s, 1};
    return b;
}

int cpu_single_latency(const char *url, const cpu_file *f, int n, cpu_lat *out, char *err,
                       size_t errlen)
{
    stt_upload b = body_of(f);
    stt_load_params lp = load_params(url, &b);
    stt_load_step st = {0};
    st.mode = STT_LOAD_CLOSED;
    st.concurrency = 1;
    st.requests = n;
    stt_load_result r;
    int rc = stt_load_run_step(&lp, &st, &r, err, errlen);
    if (rc) return rc;
    out->n = (int)stt_histogram_count(r.latency);
    out->med = stt_histogram_percentile(r.latency, 50) / 1e6;
    out->min = stt_histogram_min(r.latency) / 1e6;
    out->max = stt_histogram_max(r.latency) / 1e6;
    int bad = r.ok < (uint64_t)n;
    stt_load_result_free(&r);
    if (bad)
        return stt_seterr(err, errlen, STT_EIO, "%s: only %d of %d requests succeeded", f->e->file,
                          out->n, n);
    return 0;
}

int cpu_saturate(const char *url, const cpu_file *f, int conc, double dur, cpu_thr *t, char *err,
                 size_t errlen)
{
    stt_upload b = body_of(f);
    stt_load_params lp = load_params(url, &b);
    lp.threads = conc > 8 ? 2 : 1;
    stt_load_step st = {0};
    st.mode = STT_LOAD_CLOSED;
    st.concurrency = conc;
    st.duration_s = dur;
    st.warmup_s = fmin(3.0, dur / 4);
    stt_load_result r;
    int rc = stt_load_run_step(&lp, &st, &r, err, errlen);
    if (rc) return rc;
    t->audio_s_per_s = r.audio_s_per_s;
    t->rps = r.ok_rps;
    t->p50 = stt_histogram_percentile(r.latency, 50) / 1e6;
    t->p95 = stt_histogram_percentile(r.latency, 95) / 1e6;
    t->completed = (long long)r.completed;
    t->ok = (long long)r.ok;
    t->errors = (long long)(r.completed - r.ok);
    t->stable = r.stable;
    t->elapsed = r.elapsed_s;
    /* Relative standard error of the throughput from its windows. */
    double m = 0, v = 0;
    for (int i = 0; i < r.nwindows; i++)
        m += r.window_rps[i] / r.nwindows;
    for (int i = 0; i < r.nwindows; i++)
        v += (r.window_rps[i] - m) * (r.window_rps[i] - m);
    t->rel_se = r.nwindows > 1 && m > 0 ? sqrt(v / (r.nwindows - 1) / r.nwindows) / m : NAN;
    stt_load_result_free(&r);
    return 0;
}

static void add_check(json_t *checks, int *ok, const char *what, const char *expected,
                      const char *observed, int good)
{
    json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:b}", "what", what, "expected",
                                            expected, "observed", observed, "ok", good));
    if (!good) *ok = 0;
}

/* Runs `{bin}/sttd --help` under the same limit and reads how many CPUs sttd
 * itself computes as usable: the service's own view of the restriction. */
static int sttd_usable_under(const stt_cpulimit *l)
{
    char dir[PATH_MAX], bin[PATH_MAX + 8];
    stt_sut_exe_dir(dir, sizeof dir);
    snprintf(bin, sizeof bin, "%s/sttd", dir);
    int fds[2];
    if (access(bin, X_OK) || pipe(fds)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (stt_cpulimit_apply_child(l)) _exit(126);
        dup2(fds[1], 1);
        close(fds[0]);
        execl(bin, bin, "--help", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[8192];
    size_t n = 0;
    ssize_t k;
    while (pid > 0 && n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    close(fds[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    const char *p = strstr(buf, "usable CPUs = ");
    return p ? atoi(p + 14) : -1;
}

/* Proves the restriction: the tree's affinity or cgroup, the quota, the
 * server's own gauges, and sttd's own count of usable CPUs. */
static json_t *verify(const stt_cpulimit *l, stt_sut *s, const cpu_point *pt, int sttd, int *ok,
                      char *reason, size_t rlen)
{
    json_t *v = json_object(), *checks = json_array(), *procs = json_array();
    char err[512] = "", exp[128], obs[600];
    *ok = 1;
    stt_cpulimit_evidence *ev = malloc(sizeof *ev);
    if (!ev || stt_cpulimit_verify(l, stt_sut_pid(s), ev, err, sizeof err)) {
        add_check(checks, ok, "process tree readable", "yes", err[0] ? err : "out of memory", 0);
    } else {
        int good = 0;
        for (int i = 0; i < ev->nprocs; i++) {
            const stt_cpulimit_proc *p = &ev->procs[i];
            good += pt->mode == STT_CPULIMIT_CPUSET
                        ? !strcmp(p->cpus_allowed_list, stt_cpulimit_cpu_list(l))
                        : p->cgroup_member == 1;
            json_array_append_new(
                procs,
                json_pack("{s:i, s:s, s:s, s:o}", "pid", (int)p->pid, "comm", p->comm,
                          "cpus_allowed_list", p->cpus_allowed_list, "cgroup_member",
                          p->cgroup_member < 0 ? json_null() : json_boolean(p->cgroup_member)));
        }
        if (pt->mode == STT_CPULIMIT_CPUSET)
            snprintf(exp, sizeof exp, "Cpus_allowed_list %s for all", stt_cpulimit_cpu_list(l));
        else
            snprintf(exp, sizeof exp, "all in %s", stt_cpulimit_cgroup_path(l));
        snprintf(obs, sizeof obs, "%d of %d processes%s%s", good, ev->nprocs, ev->ok ? "" : "; ",
                 ev->ok ? "" : ev->reason);
        add_check(checks, ok,
                  pt->mode == STT_CPULIMIT_CPUSET ? "affinity of every process"
                                                  : "cgroup membership of every "
                                                    "process",
                  exp, obs, ev->ok && good == ev->nprocs && ev->nprocs > 0);
        if (pt->mode == STT_CPULIMIT_QUOTA) {
            long want = (long)(pt->cores * 100000.0 + 0.5);
            snprintf(exp, sizeof exp, "%ld/100000", want);
            snprintf(obs, sizeof obs, "%ld/%ld", ev->quota_us, ev->period_us);
            add_check(checks, ok, "cgroup quota/period (us)", exp, obs,
                      ev->quota_us == want && ev->period_us == 100000);
            json_object_set_new(
                v, "cgroup",
                json_pack("{s:s, s:s, s:I, s:I}", "version", stt_cpulimit_cgroup_kind(l), "path",
                          stt_cpulimit_cgroup_path(l), "quota_us", (json_int_t)ev->quota_us,
                          "period_us", (json_int_t)ev->period_us));
        } else {
            json_object_set_new(v, "cgroup", json_null());
        }
    }
    free(ev);
    char *m = NULL;
    int st = stt_sut_get(s, "/metrics", &m, 10);
    double w = st == 200 ? stt_client_metric(m, "sttd_workers") : NAN;
    double t = st == 200 ? stt_client_metric(m, "sttd_threads_per_request") : NAN;
    free(m);
    if (isfinite(w) || sttd) {
        snprintf(exp, sizeof exp, "%d", pt->workers);
        if (isfinite(w))
            snprintf(obs, sizeof obs, "%.0f", w);
        else
            snprintf(obs, sizeof obs, "absent (HTTP %d)", st);
        add_check(checks, ok, "server gauge sttd_workers", exp, obs, w == pt->workers);
        snprintf(exp, sizeof exp, "%d", pt->threads);
        if (isfinite(t))
            snprintf(obs, sizeof obs, "%.0f", t);
        else
            snprintf(obs, sizeof obs, "absent");
        add_check(checks, ok, "server gauge sttd_threads_per_request", exp, obs, t == pt->threads);
    }
    if (sttd) {
        int u = sttd_usable_under(l);
        snprintf(exp, sizeof exp, "%d", pt->cores);
        snprintf(obs, sizeof obs, "%d", u);
        add_check(checks, ok, "usable CPUs sttd computes under the same limit", exp, obs,
                  u == pt->cores);
    }
    json_object_set_new(v, "processes", procs);
    json_object_set_new(v, "metrics",
                        json_pack("{s:o, s:o}", "sttd_workers", bench_jnum(w),
                                  "sttd_threads_per_request", bench_jnum(t)));
    json_object_set_new(v, "checks", checks);
    reason[0] = 0;
    for (size_t i = 0; i < json_array_size(checks); i++) {
        json_t *ck = json_array_get(checks, i);
        if (!json_is_true(json_object_get(ck, "ok"))) {
            snprintf(reason, rlen, "%s: expected %s, observed %s",
                     json_string_value(json_object_get(ck, "what")),
                     json_string_value(json_object_get(ck, "expected")),
                     json_string_value(json_object_get(ck, "observed")));
            break;
        }
    }
    return v;
}

void cpu_run_point(const cpu_config *c, cpu_point *pt, const cpu_file *files, const int *roles,
                   int nroles, const cpu_file *tfile, int sttd)
{
    char err[600] = "", log[PATH_MAX];
    pt->status = "failed";
    stt_cpulimit_params lp = stt_cpulimit_default_params();
    lp.mode = (stt_cpulimit_mode)pt->mode;
    lp.cpus = pt->cores;
    stt_cpulimit *l = stt_cpulimit_create(&lp, err, sizeof err);
    if (!l) {
        pt->status = "refused";
        snprintf(pt->reason, sizeof pt->reason, "restriction could not be set: %.500s", err);
        return;
    }
    snprintf(log, sizeof log, "%s/server_%s_c%d_w%d_t%d.log", c->out, cpu_mode_name(pt->mode),
             pt->cores, pt->workers, pt->threads);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = c->server_cmd;
    sp.workers = pt->workers;
    sp.threads = pt->threads;
    sp.log_path = log;
    sp.limit = l;
    stt_sut *s = stt_sut_start(&sp, err, sizeof err);
    if (!s) {
        snprintf(pt->reason, sizeof pt->reason, "%s", err);
        stt_cpulimit_free(l);
        return;
    }
    int ok;
    pt->verification = verify(l, s, pt, sttd, &ok, pt->reason, sizeof pt->reason);
    json_object_set_new(pt->verification, "ok", json_boolean(ok));
    if (!ok) {
        pt->status = "refused";
        goto out;
    }
    char url[256];
    snprintf(url, sizeof url, "%s/v1/audio/transcriptions", stt_sut_url(s));
    stt_memsampler *ms = stt_memsampler_start(stt_sut_pid(s), 100, NULL, 0);
    cpu_lat warm;
    /* The first request pays for lazy set-up; not measured. */
    if (cpu_single_latency(url, tfile, 1, &warm, err, sizeof err)) {
        snprintf(pt->reason, sizeof pt->reason, "warm-up request failed: %.500s", err);
        goto stop_sampler;
    }
    for (int i = 0; i < nroles; i++) {
        cpu_progress("%s %d core(s), %d workers, %d threads: %s file x%d", cpu_mode_name(pt->mode),
                     pt->cores, pt->workers, pt->threads, cpu_role_name(roles[i]), c->repeat);
        if (cpu_single_latency(url, &files[roles[i]], c->repeat, &pt->latency[roles[i]], err,
                               sizeof err)) {
            snprintf(pt->reason, sizeof pt->reason, "%s", err);
            goto stop_sampler;
        }
    }
    cpu_progress("%s %d core(s), %d workers, %d threads: saturated load %.0f s",
                 cpu_mode_name(pt->mode), pt->cores, pt->workers, pt->threads, c->duration);
    stt_cpulimit_throttling th0 = {0}, th1 = {0};
    pt->quota = pt->mode == STT_CPULIMIT_QUOTA;
    if (pt->quota) stt_cpulimit_throttling_read(l, &th0, NULL, 0);
    double cpu0 = stt_proc_tree_cpu_s(stt_sut_pid(s)), t0 = bench_now_s();
    cpu_thr t;
    pt->concurrency = 2 * pt->workers;
    int rc = cpu_saturate(url, tfile, pt->concurrency, c->duration, &t, err, sizeof err);
    pt->wall_s = bench_now_s() - t0;
    pt->cpu_s = stt_proc_tree_cpu_s(stt_sut_pid(s)) - cpu0;
    pt->util = pt->cpu_s / pt->wall_s / pt->cores;
    if (pt->quota) {
        stt_cpulimit_throttling_read(l, &th1, NULL, 0);
        pt->th.nr_periods = th1.nr_periods - th0.nr_periods;
        pt->th.nr_throttled = th1.nr_throttled - th0.nr_throttled;
        pt->th.throttled_s = th1.throttled_s - th0.throttled_s;
    }
    if (rc) {
        snprintf(pt->reason, sizeof pt->reason, "load: %.500s", err);
        goto stop_sampler;
    }
    pt->have_thr = 1;
    pt->thr = t.audio_s_per_s;
    pt->thr_rel_se = t.rel_se;
    pt->rps = t.rps;
    pt->p50 = t.p50;
    pt->p95 = t.p95;
    pt->thr_dur = t.elapsed;
    pt->completed = t.completed;
    pt->ok = t.ok;
    pt->errors = t.errors;
    pt->stable = t.stable;
    /* Measured proof: a tree that used more CPU than granted was not restricted. */
    json_t *checks = json_object_get(pt->verification, "checks");
    char obs[64];
    snprintf(obs, sizeof obs, "%.3f of %d CPU(s)", pt->util, pt->cores);
    int uok = 1;
    add_check(checks, &uok, "CPU used under saturation <= granted (+10%)", "<= 1.10", obs,
              pt->util <= 1.10);
    if (!uok) {
        json_object_set_new(pt->verification, "ok", json_false());
        pt->status = "refused";
        snprintf(pt->reason, sizeof pt->reason, "server tree used %.2f x the granted CPUs",
                 pt->util);
        goto stop_sampler;
    }
    pt->status = t.ok > 0 ? "ok" : "failed";
    if (!t.ok) snprintf(pt->reason, sizeof pt->reason, "no request succeeded under load");
stop_sampler:;
    stt_memusage peak = {0};
    if (ms) stt_memsampler_stop(ms, &peak, NULL);
    pt->peak_pss = peak.pss;
    pt->peak_rss = peak.rss;
out:
    stt_sut_stop(s, 30);
    stt_cpulimit_free(l);
}
