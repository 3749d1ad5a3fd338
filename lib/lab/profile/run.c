/* profile/run: the servers under their proven restrictions, and the
 * interleaved rounds. */
#include <curl/curl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "cpus.h"
#include "error.h"
#include "internal.h"
#include "results.h"
#include "rounds.h"

int pf_stopped(const stt_profile *r)
{
    return r->p.stop && *r->p.stop;
}

void pf_progress(const stt_profile *r, const char *fmt, ...)
{
    if (!r->p.progress) return;
    char line[600];
    int k = snprintf(line, sizeof line, "[%4.0f s] ", stt_now_s() - r->t0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    r->p.progress(r->p.progress_arg, line);
}

/* ---- files ---- */

/* The 16 kHz mono WAV closest in length to want seconds. */
static const stt_corpus_entry *closest(const stt_corpus_entry *e, size_t n, double want)
{
    const stt_corpus_entry *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].format, "wav") || e[i].sample_rate != 16000 || e[i].channels != 1) continue;
        if (!best || fabs(e[i].duration_s - want) < fabs(best->duration_s - want)) best = &e[i];
    }
    return best;
}

static int load_files(stt_profile *r, char *err, size_t errlen)
{
    stt_corpus_entry *ent = NULL;
    size_t nent = 0;
    int rc = stt_corpus_load_manifest(r->p.corpus, &ent, &nent, err, errlen);
    if (rc) return rc;
    const stt_corpus_entry *pick[PF_NROLES] = {closest(ent, nent, r->p.short_s),
                                               closest(ent, nent, r->p.long_s)};
    if (!pick[PF_SHORT] || !pick[PF_LONG] || pick[PF_SHORT] == pick[PF_LONG]) {
        stt_corpus_free_entries(ent, nent);
        return stt_seterr(err, errlen, STT_EINVAL,
                          "%s: needs two 16 kHz mono WAV files of different lengths", r->p.corpus);
    }
    for (int i = 0; i < PF_NROLES && !rc; i++) {
        pf_file *f = &r->files[i];
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", r->p.corpus, pick[i]->file);
        snprintf(f->name, sizeof f->name, "%s", pick[i]->file);
        f->audio_s = pick[i]->duration_s;
        f->model = r->p.request_profile;
        rc = stt_upload_read(path, 1, &f->up, err, errlen);
        if (!rc) {
            /* the name the upload borrows must outlive the manifest */
            f->up.filename = f->name;
            f->up.content_type = "audio/wav";
            f->up.audio_s = f->audio_s;
        }
    }
    stt_corpus_free_entries(ent, nent);
    return rc;
}

/* ---- verification ---- */

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

/* Reads the restriction back into checks: the tree's affinity or cgroup,
 * each weak core's own CPU and quota, the quotas. */
static void check_restriction(pf_config *c, json_t *v, json_t *checks, int *ok, const char *when)
{
    char exp[256], obs[700], what[160], err[512] = "";
    stt_cpulimit_evidence *ev = malloc(sizeof *ev);
    if (!ev || stt_cpulimit_verify(c->limit, stt_sut_pid(c->sut), ev, err, sizeof err)) {
        snprintf(what, sizeof what, "process tree readable%s", when);
        add_check(checks, ok, what, "yes", err[0] ? err : "out of memory", 0);
        free(ev);
        return;
    }
    stt_cpulimit_mode m = stt_cpulimit_mode_of(c->limit);
    json_t *procs = json_array();
    for (int i = 0; i < ev->nprocs; i++) {
        const stt_cpulimit_proc *p = &ev->procs[i];
        json_array_append_new(
            procs, json_pack("{s:i, s:s, s:s, s:o, s:o}", "pid", (int)p->pid, "comm", p->comm,
                             "cpus_allowed_list", p->cpus_allowed_list, "cgroup_member",
                             p->cgroup_member < 0 ? json_null() : json_boolean(p->cgroup_member),
                             "core", p->core < 0 ? json_null() : json_integer(p->core)));
    }
    json_object_set_new(v, when[0] ? "processes_after" : "processes", procs);
    if (m == STT_CPULIMIT_QUOTA)
        snprintf(exp, sizeof exp, "all in %s", stt_cpulimit_cgroup_path(c->limit));
    else if (m == STT_CPULIMIT_CORES)
        snprintf(exp, sizeof exp, "each of %d workers alone on one of CPUs %s, the rest on all%s",
                 c->c.workers, stt_cpulimit_cpu_list(c->limit),
                 c->c.speed < 1 ? ", each worker in its own cgroup" : "");
    else
        snprintf(exp, sizeof exp, "Cpus_allowed_list %s for all", stt_cpulimit_cpu_list(c->limit));
    snprintf(obs, sizeof obs, "%d processes%s%s%s", ev->nprocs,
             m == STT_CPULIMIT_CORES ? ", pinned workers " : "",
             m == STT_CPULIMIT_CORES ? (ev->ncores == c->c.workers ? "all" : "missing") : "",
             ev->ok ? "" : "; ");
    if (!ev->ok) strncat(obs, ev->reason, sizeof obs - strlen(obs) - 1);
    snprintf(what, sizeof what, "%s of every process%s",
             m == STT_CPULIMIT_QUOTA ? "cgroup membership" : "affinity", when);
    add_check(checks, ok, what, exp, obs,
              ev->ok && ev->nprocs > 0 && (m != STT_CPULIMIT_CORES || ev->ncores == c->c.workers));
    if (m == STT_CPULIMIT_QUOTA || (m == STT_CPULIMIT_CORES && c->c.speed < 1)) {
        long period = stt_cpulimit_period_us(c->limit);
        long want = (long)(c->capacity * (double)period + 0.5);
        snprintf(exp, sizeof exp, "%ld/%ld", want, period);
        snprintf(obs, sizeof obs, "%ld/%ld", ev->quota_us, ev->period_us);
        snprintf(what, sizeof what, "cgroup quota/period of the whole tree (us)%s", when);
        add_check(checks, ok, what, exp, obs, ev->quota_us == want && ev->period_us == period);
        json_object_set_new(
            v, "cgroup",
            json_pack("{s:s, s:s, s:I, s:I}", "version", stt_cpulimit_cgroup_kind(c->limit), "path",
                      stt_cpulimit_cgroup_path(c->limit), "quota_us", (json_int_t)ev->quota_us,
                      "period_us", (json_int_t)ev->period_us));
    } else if (!when[0]) {
        json_object_set_new(v, "cgroup", json_null());
    }
    if (m == STT_CPULIMIT_CORES) {
        json_t *cores = json_array();
        int good = 0;
        long period = stt_cpulimit_period_us(c->limit);
        long want = c->c.speed < 1 ? (long)(c->c.speed * (double)period + 0.5) : -1;
        for (int i = 0; i < ev->ncores; i++) {
            const stt_cpulimit_core *k = &ev->cores[i];
            good += k->quota_us == want && (want < 0 || k->period_us == period);
            json_array_append_new(cores,
                                  json_pack("{s:i, s:i, s:I, s:I}", "pid", (int)k->pid, "cpu",
                                            k->cpu, "quota_us", (json_int_t)k->quota_us,
                                            "period_us", (json_int_t)k->period_us));
        }
        if (!when[0])
            json_object_set_new(v, "cores", cores);
        else
            json_decref(cores);
        if (c->c.speed < 1) {
            snprintf(exp, sizeof exp, "%ld/%ld for each of %d", want, period, c->c.workers);
            snprintf(obs, sizeof obs, "%d of %d", good, ev->ncores);
            snprintf(what, sizeof what, "each weak core's own quota/period (us)%s", when);
            add_check(checks, ok, what, exp, obs, good == c->c.workers && ev->ncores == good);
        }
    }
    free(ev);
}

static void first_failure(const json_t *checks, char *reason, size_t len)
{
    for (size_t i = 0; i < json_array_size(checks); i++) {
        json_t *ck = json_array_get(checks, i);
        if (!json_is_true(json_object_get(ck, "ok"))) {
            snprintf(reason, len, "%s: expected %s, observed %s",
                     json_string_value(json_object_get(ck, "what")),
                     json_string_value(json_object_get(ck, "expected")),
                     json_string_value(json_object_get(ck, "observed")));
            return;
        }
    }
}

/* Proves the restriction of a started server into c->verification. */
static int verify(pf_config *c, int sttd)
{
    json_t *v = json_object(), *checks = json_array();
    int ok = 1;
    check_restriction(c, v, checks, &ok, "");
    char exp[64], obs[96];
    char *m = NULL;
    int st = stt_sut_get(c->sut, "/metrics", &m, 10);
    double w = st == 200 ? stt_client_metric(m, "sttd_workers") : NAN;
    double t = st == 200 ? stt_client_metric(m, "sttd_threads_per_request") : NAN;
    free(m);
    if (isfinite(w) || sttd) {
        snprintf(exp, sizeof exp, "%d", c->c.workers);
        if (isfinite(w))
            snprintf(obs, sizeof obs, "%.0f", w);
        else
            snprintf(obs, sizeof obs, "absent (HTTP %d)", st);
        add_check(checks, &ok, "server gauge sttd_workers", exp, obs, w == c->c.workers);
        snprintf(exp, sizeof exp, "%d", c->c.threads);
        snprintf(obs, sizeof obs, isfinite(t) ? "%.0f" : "absent", t);
        add_check(checks, &ok, "server gauge sttd_threads_per_request", exp, obs,
                  t == c->c.threads);
    }
    if (sttd) {
        int u = sttd_usable_under(c->limit);
        int want = (int)ceil(c->capacity - 1e-9);
        snprintf(exp, sizeof exp, "%d", want);
        snprintf(obs, sizeof obs, "%d", u);
        add_check(checks, &ok, "usable CPUs sttd computes under the same limit", exp, obs,
                  u == want);
    }
    json_object_set_new(v, "metrics",
                        json_pack("{s:o, s:o}", "sttd_workers", stt_results_num(w),
                                  "sttd_threads_per_request", stt_results_num(t)));
    json_object_set_new(v, "checks", checks);
    json_object_set_new(v, "ok", json_boolean(ok));
    c->verification = v;
    if (!ok) first_failure(checks, c->reason, sizeof c->reason);
    return ok;
}

/* After the rounds: the restriction still in place (no worker replaced),
 * the CPU used never above what was given, and a weak core's bandwidth seen
 * to bite under saturation. */
static void verify_after(pf_config *c)
{
    if (!c->verification || strcmp(c->status, "ok")) return;
    json_t *checks = json_object_get(c->verification, "checks");
    int ok = 1;
    check_restriction(c, c->verification, checks, &ok, " after the measurements");
    char obs[96];
    if (isfinite(c->util_max)) {
        snprintf(obs, sizeof obs, "%.3f of %.2f CPU(s) at most", c->util_max, c->capacity);
        add_check(checks, &ok, "CPU used under saturation <= given (+10%)", "<= 1.10", obs,
                  c->util_max <= 1.10);
    }
    if (c->have_th && c->c.kind == STT_PROFILE_CAPACITY && c->c.speed < 1) {
        /* Seen to bite whenever the cores got their whole share (0.95 of it:
         * a physical fact, whatever share --saturation counts rounds at); a
         * machine too busy to give it never reaches the quota. */
        int full = 0;
        for (int i = 0; i < c->nrounds; i++)
            full += c->util[i] >= 0.95;
        snprintf(obs, sizeof obs, "%lld of %lld periods (%d rounds at full share)",
                 c->th.nr_throttled, c->th.nr_periods, full);
        add_check(checks, &ok, "weak cores throttled under saturation",
                  "> 0 periods when a round got its full share", obs,
                  c->th.nr_throttled > 0 || full == 0);
    }
    if (!ok) {
        json_object_set_new(c->verification, "ok", json_false());
        c->status = "refused";
        first_failure(checks, c->reason, sizeof c->reason);
    }
}

/* ---- servers ---- */

static void start_config(stt_profile *r, pf_config *c, int sttd)
{
    char err[600] = "", log[PATH_MAX];
    c->status = "failed";
    stt_cpulimit_params lp = stt_cpulimit_default_params();
    lp.cpus = c->c.cores;
    if (c->c.kind == STT_PROFILE_QUOTA)
        lp.mode = STT_CPULIMIT_QUOTA;
    else if (c->c.kind == STT_PROFILE_CAPACITY) {
        lp.mode = STT_CPULIMIT_CORES;
        lp.speed = c->c.speed;
        lp.period_us = r->p.period_us;
    }
    c->capacity = c->c.cores * c->c.speed;
    if (!(c->limit = stt_cpulimit_create(&lp, err, sizeof err))) {
        c->status = "refused";
        snprintf(c->reason, sizeof c->reason, "restriction could not be set: %.500s", err);
        return;
    }
    c->ncpus = 0;
    if (lp.mode != STT_CPULIMIT_QUOTA) {
        int n = stt_cpus_parse(stt_cpulimit_cpu_list(c->limit), c->cpus, STT_CPULIMIT_MAX_CORES);
        c->ncpus = n > 0 ? n : 0;
    }
    char name[64];
    snprintf(name, sizeof name, "%s", c->c.label);
    for (char *q = name; *q; q++)
        if (*q == ' ' || *q == '@') *q = '_';
    snprintf(log, sizeof log, "%s/server_%s.log", r->p.out, name);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = r->p.server_cmd;
    sp.workers = c->c.workers;
    sp.threads = c->c.threads;
    sp.log_path = log;
    sp.limit = c->limit;
    if (!(c->sut = stt_sut_start(&sp, err, sizeof err))) {
        snprintf(c->reason, sizeof c->reason, "%.590s", err);
        return;
    }
    if (lp.mode == STT_CPULIMIT_CORES) {
        /* One worker per core: the worker processes are the tree's leaves. */
        pid_t w[STT_CPULIMIT_MAX_CORES];
        int n = 0;
        for (int i = 0; i < 100; i++) {
            n = stt_proc_leaves(stt_sut_pid(c->sut), w, STT_CPULIMIT_MAX_CORES);
            if (n >= c->c.workers) break;
            usleep(50 * 1000);
        }
        if (n != c->c.workers) {
            c->status = "refused";
            snprintf(c->reason, sizeof c->reason,
                     "found %d worker processes (leaves of the server's tree), expected %d: one "
                     "worker per core cannot be pinned",
                     n, c->c.workers);
            return;
        }
        if (stt_cpulimit_pin_workers(c->limit, w, n, err, sizeof err)) {
            c->status = "refused";
            snprintf(c->reason, sizeof c->reason, "pinning the workers: %.560s", err);
            return;
        }
    }
    snprintf(c->url, sizeof c->url, "%s", stt_sut_url(c->sut));
    if (!verify(c, sttd)) {
        c->status = "refused";
        return;
    }
    /* The first request pays for lazy set-up; not measured. */
    pf_harness_pin(r, c->cpus, c->ncpus);
    int rc = pf_single(c->url, &r->files[PF_SHORT], 0, &c->warm_s, NULL, err, sizeof err);
    pf_harness_pin(r, NULL, -1);
    if (rc) {
        snprintf(c->reason, sizeof c->reason, "warm-up request failed: %.560s", err);
        return;
    }
    c->mem = stt_memsampler_start(stt_sut_pid(c->sut), 500, NULL, 0);
    c->status = "ok";
}

static void stop_config(pf_config *c)
{
    if (c->mem) stt_memsampler_stop(c->mem, &c->peak, NULL);
    c->mem = NULL;
    if (c->sut) stt_sut_stop(c->sut, 30);
    c->sut = NULL;
    stt_cpulimit_free(c->limit);
    c->limit = NULL;
}

/* ---- rounds ---- */

static void failed_step(pf_config *c, const char *what, const char *err)
{
    c->errors++;
    snprintf(c->last_error, sizeof c->last_error, "%s: %.280s", what, err);
}

int pf_timed(const stt_profile *r, const pf_config *c)
{
    /* Workers start together and finish near together: the interval must
     * span whole batches of them, or it times half a batch. */
    int w = c->c.workers > 0 ? c->c.workers : 1;
    return w * ((r->p.requests + w - 1) / w);
}

static void visit(stt_profile *r, pf_config *c, int round)
{
    char err[600];
    unsigned m = c->c.measure;
    pf_harness_pin(r, c->cpus, c->ncpus);
    if (m & STT_PROFILE_M_THROUGHPUT) {
        stt_cpulimit_throttling a = {0}, b = {0};
        int th = stt_cpulimit_throttling_read(c->limit, &a, NULL, 0) == 0;
        if (pf_saturate(c->url, &r->files[PF_SHORT], 2 * c->c.workers, c->c.workers, pf_timed(r, c),
                        stt_sut_pid(c->sut), c->capacity, &c->thr[round], &c->util[round], err,
                        sizeof err))
            failed_step(c, "throughput", err);
        if (th && stt_cpulimit_throttling_read(c->limit, &b, NULL, 0) == 0) {
            c->have_th = 1;
            c->th.nr_periods += b.nr_periods - a.nr_periods;
            c->th.nr_throttled += b.nr_throttled - a.nr_throttled;
            c->th.throttled_s += b.throttled_s - a.throttled_s;
        }
    }
    for (int role = 0; role < PF_NROLES; role++) {
        if (!(m & (role == PF_SHORT ? STT_PROFILE_M_SHORT : STT_PROFILE_M_LONG))) continue;
        double pieces = NAN;
        if (pf_single(c->url, &r->files[role], 0, &c->lat[role][round], &pieces, err, sizeof err))
            failed_step(c, pf_role_name(role), err);
        if (isfinite(pieces)) c->pieces[role] = pieces;
    }
    if ((m & STT_PROFILE_M_POISSON) && r->poisson_rate > 0) {
        if (pf_poisson(c->url, &r->files[PF_SHORT], r->poisson_rate, r->p.poisson,
                       r->p.seed * 7919 + (uint64_t)round, &c->pois[round], &c->npois[round], err,
                       sizeof err))
            failed_step(c, "poisson", err);
    }
    if (m & STT_PROFILE_M_PROBES) {
        int order[PF_T];
        for (int load = 0; load < 2; load++) {
            pf_background *bg = NULL;
            if (load)
                bg = pf_background_start(c->url, &r->files[PF_SHORT],
                                         c->c.cores / 2 > 1 ? c->c.cores / 2 : 1);
            stt_rounds_order(c->c.nprobe, round * 2 + load, r->p.seed + 17, order);
            for (int k = 0; k < c->c.nprobe; k++) {
                int i = order[k];
                if (pf_single(c->url, &r->files[PF_LONG], c->c.probe[i], &c->probe[load][i][round],
                              NULL, err, sizeof err))
                    failed_step(c, "probe", err);
            }
            if (bg) c->bg_thr[round] = pf_background_stop(bg);
        }
    }
    pf_harness_pin(r, NULL, -1);
    if (m & STT_PROFILE_M_THROUGHPUT)
        pf_progress(r, "round %d, %s: %.2f audio s/s (server used %.2f of its CPUs)", round + 1,
                    c->c.label, c->thr[round], c->util[round]);
    else
        pf_progress(r, "round %d, %s: measured", round + 1, c->c.label);
}

static void init_rounds(pf_config *c)
{
    for (int i = 0; i < PF_R; i++) {
        c->thr[i] = c->util[i] = c->bg_thr[i] = NAN;
        for (int k = 0; k < PF_NROLES; k++)
            c->lat[k][i] = NAN;
        for (int l = 0; l < 2; l++)
            for (int t = 0; t < PF_T; t++)
                c->probe[l][t][i] = NAN;
    }
    c->pieces[0] = c->pieces[1] = NAN;
}

static int unstable(const stt_profile *r, pf_config *c, int n, double saturation)
{
    if (!(c->c.measure & STT_PROFILE_M_THROUGHPUT) || strcmp(c->status, "ok")) return 0;
    return !pf_count_rounds(r, c, n, saturation);
}

static void run_phase(stt_profile *r, int phase, int sttd)
{
    int idx[PF_NC], n = 0;
    for (int i = 0; i < r->n; i++)
        if (r->cfg[i].c.phase == phase) idx[n++] = i;
    if (!n) return;
    double t0 = stt_now_s();
    for (int k = 0; k < n && !pf_stopped(r); k++) {
        pf_config *c = &r->cfg[idx[k]];
        pf_progress(r, "starting %s (%d workers)", c->c.label, c->c.workers);
        start_config(r, c, sttd);
        if (strcmp(c->status, "ok")) pf_progress(r, "%s %s: %s", c->c.label, c->status, c->reason);
    }
    /* The Poisson phase's rate: a share of the strong configuration's
     * capacity, from its service time on an idle server. */
    for (int k = 0; phase == 0 && k < n; k++) {
        pf_config *c = &r->cfg[idx[k]];
        if (!c->c.strong || strcmp(c->status, "ok") || !(c->c.measure & STT_PROFILE_M_POISSON))
            continue;
        double s = NAN;
        char err[300];
        pf_harness_pin(r, c->cpus, c->ncpus);
        if (pf_single(c->url, &r->files[PF_SHORT], 0, &s, NULL, err, sizeof err) == 0 && s > 0)
            r->poisson_rate = r->p.poisson_load * c->capacity / s;
        pf_harness_pin(r, NULL, -1);
    }
    int rounds = r->p.rounds, extra = r->p.extra_rounds;
    int order[PF_NC];
    for (int round = 0; round < rounds && round < PF_R; round++) {
        stt_rounds_order(n, round, r->p.seed + 1000 * (uint64_t)phase, order);
        int k = 0;
        for (; k < n && !pf_stopped(r); k++) {
            pf_config *c = &r->cfg[idx[order[k]]];
            if (!strcmp(c->status, "ok")) visit(r, c, round);
        }
        if (pf_stopped(r)) {
            /* An interrupted round is incomplete (not every configuration
             * was visited): it is not counted. */
            r->interrupted = 1;
            rounds = k == n ? round + 1 : round;
            break;
        }
        if (round == rounds - 1 && extra > 0 && rounds < PF_R) {
            int any = 0;
            for (int j = 0; j < n; j++)
                any |= unstable(r, &r->cfg[idx[j]], rounds, r->p.saturation);
            if (any) {
                rounds++;
                extra--;
                pf_progress(r,
                            "a throughput point does not count yet (unstable, or too few "
                            "rounds with the CPUs it was given): one more round (%d)",
                            rounds);
            }
        }
    }
    r->rounds_run[phase] = rounds;
    for (int k = 0; k < n; k++) {
        pf_config *c = &r->cfg[idx[k]];
        c->nrounds = rounds;
        double mx = NAN;
        for (int i = 0; i < rounds; i++)
            if (isfinite(c->util[i]) && !(c->util[i] <= mx)) mx = c->util[i];
        c->util_max = mx;
        if (!strcmp(c->status, "ok") && c->errors * 2 > rounds) {
            char last[sizeof c->last_error];
            snprintf(last, sizeof last, "%s", c->last_error);
            c->status = "failed";
            snprintf(c->reason, sizeof c->reason, "%lld failed measurements, last: %s", c->errors,
                     last);
        }
        verify_after(c);
        stop_config(c);
    }
    r->phase_s[phase] = stt_now_s() - t0;
}

int stt_profile_run(const stt_profile_params *pp, stt_profile **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!pp || pp->rounds < STT_ROUNDS_MIN || !(pp->saturation >= 0 && pp->saturation <= 1) ||
        pp->rounds + pp->extra_rounds > PF_R || pp->requests < 1 || pp->poisson < 0 ||
        !(pp->poisson_load > 0 && pp->poisson_load < 1) || !pp->server_cmd || !pp->out ||
        !pp->corpus)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "bad parameters: rounds must be 5 to %d (with extra rounds), requests "
                          ">= 1, the Poisson load in (0, 1)",
                          PF_R);
    stt_profile *r = calloc(1, sizeof *r);
    if (!r) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    r->p = *pp;
    double t0 = r->t0 = stt_now_s();
    stt_sysinfo_get(&r->si);
    r->usable = stt_usable_cpus();
    r->nallowed = stt_cpus_allowed(r->allowed, 1024);
    snprintf(r->cgroup, sizeof r->cgroup, "%s",
             stt_cpulimit_cgroup_version(r->cgroup_err, sizeof r->cgroup_err));
    int rc = load_files(r, err, errlen);
    if (!rc) rc = stt_results_mkdirs(r->p.out);
    if (rc) {
        if (rc == STT_EIO && !err[0]) stt_seterr(err, errlen, rc, "%s: cannot create", r->p.out);
        stt_profile_free(r);
        return rc;
    }
    stt_profile_config plan[PF_NC];
    r->n = stt_profile_plan(&r->p, r->usable, strcmp(r->cgroup, "none") != 0, plan, PF_NC, r->notes,
                            sizeof r->notes);
    for (int i = 0; i < r->n; i++) {
        r->cfg[i].c = plan[i];
        r->cfg[i].status = "not run";
        init_rounds(&r->cfg[i]);
    }
    if (!strcmp(r->cgroup, "none")) pf_progress(r, "no writable cgroup: %s", r->cgroup_err);
    int sttd = strstr(r->p.server_cmd, "{bin}/sttd") != NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int phase = 0; phase < 2 && !pf_stopped(r); phase++)
        run_phase(r, phase, sttd);
    if (pf_stopped(r)) {
        r->interrupted = 1;
        size_t k = strlen(r->notes);
        snprintf(r->notes + k, sizeof r->notes - k,
                 "interrupted: the run was stopped before its end; what it measured is kept\n");
    }
    curl_global_cleanup();
    pf_analyse(r);
    r->wall_s = stt_now_s() - t0;
    r->summary = pf_summary_text(r);
    *out = r;
    return 0;
}

int stt_profile_write(const stt_profile *r, char *err, size_t errlen)
{
    char path[PATH_MAX];
    json_t *doc = pf_results_json(r);
    if (!doc) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/cpu.json", r->p.out);
    int rc = stt_results_write(doc, path, err, errlen);
    json_decref(doc);
    if (rc) return rc;
    char cerr[300] = "";
    int charts = pf_write_charts(r, cerr, sizeof cerr) == 0;
    return pf_write_report(r, charts, cerr, err, errlen);
}

const char *stt_profile_summary(const stt_profile *r)
{
    return r && r->summary ? r->summary : "";
}

int stt_profile_failed(const stt_profile *r)
{
    if (!r || r->interrupted) return 1;
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->cfg[i].status, "ok")) return 0;
    return 1;
}

void stt_profile_free(stt_profile *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        stop_config(&r->cfg[i]);
        json_decref(r->cfg[i].verification);
        for (int k = 0; k < PF_R; k++)
            free(r->cfg[i].pois[k]);
    }
    for (int i = 0; i < PF_NROLES; i++)
        stt_upload_free(&r->files[i].up);
    free(r->summary);
    free(r);
}
