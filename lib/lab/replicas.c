/* replicas: the measurement of k pods behind haproxy; the analysis of what it
 * measured is replicas_model.c. See replicas.h. */
#include "replicas.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "client.h"
#include "clock.h"
#include "cpus.h"
#include "cpulimit.h"
#include "error.h"
#include "haproxy.h"
#include "loadgen.h"
#include "netns.h"
#include "proc.h"
#include "replicas_pod.h"
#include "results.h"
#include "stats.h"
#include "sut.h"
#include "svctime.h"

#define MAXCPU 1024
#define WARMUP_PER_POD 2 /* requests per pod before any measurement */
#define REQ_TIMEOUT_S 120

stt_replicas_params stt_replicas_default_params(void)
{
    stt_replicas_params p = {0};
    p.replicas[0] = 1;
    p.replicas[1] = 2;
    p.nreplicas = 2;
    p.loads[0] = 0.3;
    p.loads[1] = 0.5;
    p.loads[2] = 0.7;
    p.nloads = 3;
    p.routings[0] = STT_ROUTING_RANDOM;
    p.routings[1] = STT_ROUTING_CENTRAL;
    p.nroutings = 2;
    p.cores_per_replica = 1;
    p.workers = 1;
    p.queue = 64;
    p.repeats = 5;
    p.requests = 40;
    p.service_samples = 15;
    p.profile = "fast";
    p.file = "corpus/speech_0008s.wav";
    p.seed = 20240601ULL;
    p.sim_runs = 2000;
    return p;
}

void stt_replicas_quick(stt_replicas_params *p)
{
    p->loads[0] = 0.4;
    p->loads[1] = 0.6;
    p->loads[2] = 0.8;
    p->nloads = 3;
    p->repeats = 3;
    p->requests = 25;
    p->routings_at_top_only = 1;
    p->service_samples = 10;
    p->quick = 1;
}

static void say(const stt_replicas_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const stt_replicas_params *p, const char *fmt, ...)
{
    if (!p->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->log_arg, line);
}

static int check_params(const stt_replicas_params *p, char *err, size_t errlen)
{
    if (p->nreplicas < 1 || p->nreplicas > STT_REPLICAS_MAX_K)
        return stt_seterr(err, errlen, STT_EINVAL, "1 to %d replica counts", STT_REPLICAS_MAX_K);
    for (int i = 0; i < p->nreplicas; i++)
        if (p->replicas[i] < 1 || p->replicas[i] > STT_REPLICAS_MAX_K)
            return stt_seterr(err, errlen, STT_EINVAL, "replica counts are 1..%d",
                              STT_REPLICAS_MAX_K);
    if (p->nloads < 1 || p->nloads > STT_REPLICAS_MAX_LOADS)
        return stt_seterr(err, errlen, STT_EINVAL, "1 to %d utilisations", STT_REPLICAS_MAX_LOADS);
    for (int i = 0; i < p->nloads; i++)
        if (!(p->loads[i] > 0 && p->loads[i] < 1))
            return stt_seterr(err, errlen, STT_EINVAL,
                              "a utilisation is 0 < rho < 1 (at 1 or more the queue grows "
                              "without bound)");
    if (p->nroutings < 1 || p->nroutings > STT_ROUTING_N)
        return stt_seterr(err, errlen, STT_EINVAL, "1 to %d routings", STT_ROUTING_N);
    for (int i = 0; i < p->nroutings; i++)
        if ((unsigned)p->routings[i] >= STT_ROUTING_N)
            return stt_seterr(err, errlen, STT_EINVAL, "unknown routing");
    if (p->cores_per_replica < 1 || p->workers < 1 || p->workers > 256 || p->queue < 0 ||
        p->repeats < 1 || p->repeats > 100 || p->service_samples < 3 || p->service_samples > 1000 ||
        p->sim_runs < 100)
        return stt_seterr(err, errlen, STT_EINVAL, "bad cores, workers, queue or repeats");
    if (p->requests < 20)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "a trial needs at least 20 counted requests for its p95");
    if (!p->profile || stt_profile_index(p->profile) < 0)
        return stt_seterr(err, errlen, STT_EINVAL, "unknown profile (valid: %s)",
                          stt_profile_list());
    if (!p->file) return stt_seterr(err, errlen, STT_EINVAL, "no file to upload");
    return 0;
}

/* ---- the plan of the experiment ---- */

typedef struct cell {
    int replicas;
    stt_routing routing;
    double load;
} cell;

/* Every cell of the experiment, in a fixed order; returns how many. A one-pod
 * fleet has no routing to choose: it is measured as "random" only. */
static int plan_cells(const stt_replicas_params *p, cell *out, int max)
{
    double top = 0;
    for (int l = 0; l < p->nloads; l++)
        top = fmax(top, p->loads[l]);
    int n = 0;
    for (int k = 0; k < p->nreplicas; k++)
        for (int r = 0; r < p->nroutings; r++)
            for (int l = 0; l < p->nloads && n < max; l++) {
                int first = r == 0;
                if (p->replicas[k] == 1 && p->routings[r] != STT_ROUTING_RANDOM &&
                    !(first && p->nroutings == 1))
                    continue;
                if (!first && p->routings_at_top_only && p->loads[l] != top) continue;
                out[n++] =
                    (cell){p->replicas[k],
                           p->replicas[k] == 1 ? STT_ROUTING_RANDOM : p->routings[r], p->loads[l]};
            }
    /* a one-pod cell listed under several routings once only */
    int m = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < m && !dup; j++)
            dup = out[j].replicas == out[i].replicas && out[j].routing == out[i].routing &&
                  out[j].load == out[i].load;
        if (!dup) out[m++] = out[i];
    }
    return m;
}

/* A permutation of 0..n-1 drawn from *state (Fisher-Yates). */
static void shuffle(int *idx, int n, uint64_t *state)
{
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(stt_stats_uniform(state) * (i + 1));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* ---- the run ---- */

typedef struct run {
    const stt_replicas_params *p;
    char sttd[PATH_MAX];
    int kmax;
    int cpus[MAXCPU], ncpus;
    stt_netns_host hosts[STT_REPLICAS_MAX_K];
    stt_pod *pods[STT_REPLICAS_MAX_K];
    stt_cpulimit *harness; /* the generator's and haproxy's CPUs, NULL when shared */
    char harness_cpus[256];
    stt_upload body;
    double mean_s; /* idle service time: sets every offered rate */
} run;

static json_t *config_json(const run *R)
{
    const stt_replicas_params *p = R->p;
    json_t *ks = json_array(), *loads = json_array(), *routes = json_array(), *hosts = json_array();
    for (int i = 0; i < p->nreplicas; i++)
        json_array_append_new(ks, json_integer(p->replicas[i]));
    for (int i = 0; i < p->nloads; i++)
        json_array_append_new(loads, stt_results_num(p->loads[i]));
    for (int i = 0; i < p->nroutings; i++)
        json_array_append_new(routes, json_string(stt_routing_name(p->routings[i])));
    for (int i = 0; i < R->kmax; i++)
        if (R->pods[i])
            json_array_append_new(hosts, json_pack("{s:i, s:s, s:s, s:s, s:s}", "index", i, "netns",
                                                   R->hosts[i].ns, "address", R->hosts[i].addr,
                                                   "cpus", stt_pod_cpus(R->pods[i]), "command",
                                                   stt_pod_command(R->pods[i])));
    char hv[256];
    stt_haproxy_version(hv, sizeof hv);
    return json_pack(
        "{s:o, s:o, s:o, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:o, s:s?, s:s, s:I, "
        "s:i, s:s, s:s, s:o, s:s, s:i, s:s, s:b}",
        "replicas", ks, "loads", loads, "routings", routes, "routings_at_top_only",
        p->routings_at_top_only, "cores_per_replica", p->cores_per_replica, "workers", p->workers,
        "sttd_threads", 1, "sttd_queue", p->queue, "repeats", p->repeats, "requests", p->requests,
        "service_samples", p->service_samples, "profile", p->profile, "file", p->file, "audio_s",
        stt_results_num(R->body.audio_s), "audio_json", p->audio_json, "arrival", "poisson", "seed",
        (json_int_t)p->seed, "sim_runs", p->sim_runs, "sttd", R->sttd, "haproxy", hv, "hosts",
        hosts, "network", stt_netns_network(), "cpus_available", R->ncpus, "harness_cpus",
        R->harness_cpus, "quick", p->quick);
}

/* The document of a run that could not measure anything here. */
static json_t *skipped_doc(const stt_replicas_params *p, const char *reason)
{
    json_t *cfg = json_pack("{s:s, s:s}", "profile", p->profile, "file", p->file);
    json_t *doc = stt_results_new(STT_RESULTS_REPLICAS, "replicas", cfg);
    if (doc) json_object_set_new(doc, "skipped", json_string(reason));
    return doc;
}

/* One transcription straight to a pod; its wall time in *secs. */
static int post_once(const char *base, const run *R, double *secs, char *err, size_t errlen)
{
    stt_client_params cp = stt_client_default_params();
    cp.profile = R->p->profile;
    cp.timeout_s = REQ_TIMEOUT_S;
    stt_client_reply rep;
    int rc = stt_client_transcribe(base, &R->body, &cp, &rep);
    *secs = rep.elapsed_s;
    if (rc) stt_seterr(err, errlen, rc, "%s", rep.error[0] ? rep.error : "request failed");
    stt_client_reply_free(&rep);
    return rc;
}

/* Warms every pod, then times sequential requests straight to pod 0 (no
 * haproxy, nothing else running): the service-time distribution measured. */
static int measure_service(run *R, json_t **out, char *err, size_t errlen)
{
    const stt_replicas_params *p = R->p;
    double t;
    for (int i = 0; i < R->kmax; i++)
        for (int j = 0; j < WARMUP_PER_POD; j++)
            if (post_once(stt_pod_url(R->pods[i]), R, &t, err, errlen)) return STT_EIO;
    say(p, "measuring the service time: %d sequential requests on replica 0", p->service_samples);
    double *s = calloc((size_t)p->service_samples, sizeof *s);
    if (!s) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    json_t *samples = json_array();
    for (int i = 0; i < p->service_samples; i++) {
        if (post_once(stt_pod_url(R->pods[0]), R, &s[i], err, errlen)) {
            free(s);
            json_decref(samples);
            return STT_EIO;
        }
        json_array_append_new(samples, stt_results_num(s[i]));
    }
    stt_summary sum;
    stt_stats_summarize(s, (size_t)p->service_samples, 0.95, &sum);
    free(s);
    R->mean_s = sum.mean;
    *out = json_pack("{s:i, s:o, s:o, s:[o, o], s:o, s:s, s:o}", "n", (int)sum.n, "mean_s",
                     stt_results_num(sum.mean), "median_s", stt_results_num(sum.median), "ci_s",
                     stt_results_num(sum.median_ci.lo), stt_results_num(sum.median_ci.hi),
                     "coverage", stt_results_num(sum.median_ci.coverage), "measured_on",
                     "replica 0, direct (no haproxy), sequential, idle", "samples", samples);
    say(p, "service time: mean %.3f s, median %.3f s [%.3f, %.3f]", sum.mean, sum.median,
        sum.median_ci.lo, sum.median_ci.hi);
    return 0;
}

/* The planner's service time for the uploaded file, from audio.json, or null
 * with the reason in *note. */
static json_t *planner_input(const run *R, char *note, size_t len)
{
    const stt_replicas_params *p = R->p;
    if (!p->audio_json) {
        snprintf(note, len, "no --audio given: the model is fed the measured service times only");
        return json_null();
    }
    char err[512];
    json_t *au = stt_results_load(p->audio_json, STT_RESULTS_AUDIO, NULL, err, sizeof err);
    if (!au) {
        snprintf(note, len, "--audio %s unusable: %s", p->audio_json, err);
        return json_null();
    }
    stt_svctime m;
    json_t *out = json_null();
    if (stt_svctime_from_audio(au, p->profile, &m) == 0) {
        char src[400];
        stt_svctime_describe(&m, src, sizeof src);
        double s = stt_svctime_request_s(&m, R->body.audio_s, 1);
        out = json_pack("{s:o, s:o, s:o, s:o, s:i, s:b, s:s, s:s}", "service_s", stt_results_num(s),
                        "fixed_s", stt_results_num(m.fixed_s), "per_audio_s",
                        stt_results_num(m.per_audio_s), "audio_s", stt_results_num(R->body.audio_s),
                        "pieces", stt_svctime_pieces(&m, R->body.audio_s), "single_piece_fit",
                        m.single, "source", src, "file", p->audio_json);
        snprintf(note, len, "planner input: %s", src);
    } else {
        snprintf(note, len, "%s has no usable process-time fit for profile %s", p->audio_json,
                 p->profile);
    }
    json_decref(au);
    return out;
}

static double ms_hist(const stt_histogram *h, double pct)
{
    return stt_histogram_count(h) ? (double)stt_histogram_percentile(h, pct) / 1e6 : NAN;
}

/* One trial of a cell: haproxy before its pods, an open-loop Poisson step at
 * load x servers / mean service time; *out its record. */
static int run_trial(run *R, const cell *c, int round, int order, uint64_t seed, json_t **out,
                     char *err, size_t errlen)
{
    const stt_replicas_params *p = R->p;
    int servers = c->replicas * p->workers;
    double offered = c->load * servers / R->mean_s;
    double warmup_s = fmax(1.0, 2.0 / offered); /* about two requests */
    stt_haproxy_params hp = stt_haproxy_default_params();
    hp.nservers = c->replicas;
    for (int i = 0; i < c->replicas; i++)
        hp.addrs[i] = R->hosts[i].addr;
    hp.server_port = STT_POD_PORT;
    hp.routing = c->routing;
    hp.workers = p->workers;
    hp.timeout_s = REQ_TIMEOUT_S;
    hp.limit = R->harness;
    stt_haproxy *h = stt_haproxy_start(&hp, err, errlen);
    if (!h) return STT_EIO;
    char url[160];
    snprintf(url, sizeof url, "%s%s", stt_haproxy_url(h), STT_ROUTE_TRANSCRIPTIONS);
    say(p, "trial %d (round %d): k=%d %s rho=%.2f: %d Poisson requests at %.3f/s (about %.0f s)",
        order + 1, round + 1, c->replicas, stt_routing_name(c->routing), c->load, p->requests,
        offered, warmup_s + p->requests / offered);
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.model = p->profile;
    lp.bodies = &R->body;
    lp.nbodies = 1;
    lp.threads = 1;
    lp.timeout_s = REQ_TIMEOUT_S;
    stt_load_step st = {0};
    st.mode = STT_LOAD_OPEN;
    st.rate = offered;
    st.arrival = STT_ARRIVAL_POISSON;
    st.requests = p->requests;
    st.warmup_s = warmup_s;
    st.seed = seed;
    double busy0 = NAN, steal0 = NAN, busy1 = NAN, steal1 = NAN;
    double own0 = stt_netns_cpu_s(), t0 = stt_now_s();
    stt_proc_machine_cpu(&busy0, &steal0);
    stt_load_result res;
    int rc = stt_load_run_step(&lp, &st, &res, err, errlen);
    double wall = stt_now_s() - t0, own1 = stt_netns_cpu_s();
    stt_proc_machine_cpu(&busy1, &steal1);
    stt_haproxy_stop(h);
    if (rc) return rc;
    uint64_t errors = 0;
    json_t *byclass = json_object();
    for (int e = 0; e < STT_LOAD_ERR_N; e++) {
        errors += res.errors[e];
        json_object_set_new(byclass, stt_load_err_name(e), json_integer((json_int_t)res.errors[e]));
    }
    uint64_t n = stt_histogram_count(res.latency);
    /* This run's CPUs: the pods' and haproxy's trees and the generator. */
    double run_cpus = wall > 0 ? (own1 - own0 + res.cpu_user_s + res.cpu_sys_s) / wall : NAN;
    double busy = wall > 0 ? (busy1 - busy0) / wall : NAN;
    json_t *lat =
        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "n", (json_int_t)n, "p50",
                  stt_results_num(ms_hist(res.latency, 50)), "p95",
                  stt_results_num(ms_hist(res.latency, 95)), "p99",
                  stt_stats_percentile_supported(n, 99) ? stt_results_num(ms_hist(res.latency, 99))
                                                        : json_null(),
                  "mean", stt_results_num(n ? stt_histogram_mean(res.latency) / 1e6 : NAN), "max",
                  stt_results_num(n ? (double)stt_histogram_max(res.latency) / 1e6 : NAN),
                  "p95_supported", stt_stats_percentile_supported(n, 95), "includes_failures", 1);
    *out = json_pack(
        "{s:i, s:i, s:i, s:s, s:o, s:i, s:o, s:I, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:{s:o, s:o, s:o, s:o}}",
        "order", order, "round", round, "replicas", c->replicas, "routing",
        stt_routing_name(c->routing), "load", stt_results_num(c->load), "servers", servers,
        "offered_rps", stt_results_num(offered), "seed", (json_int_t)seed, "warmup_s",
        stt_results_num(warmup_s), "sent", (json_int_t)res.sent, "ok", (json_int_t)res.ok, "errors",
        (json_int_t)errors, "errors_by_class", byclass, "achieved_rps", stt_results_num(res.rps),
        "elapsed_s", stt_results_num(res.elapsed_s), "latency_s", lat, "server_process_mean_s",
        stt_results_num(stt_histogram_count(res.process) ? stt_histogram_mean(res.process) / 1e6
                                                         : NAN),
        "server_queue_mean_s",
        stt_results_num(stt_histogram_count(res.queue) ? stt_histogram_mean(res.queue) / 1e6 : NAN),
        "service_slowdown",
        stt_results_num(stt_histogram_count(res.process)
                            ? stt_histogram_mean(res.process) / 1e6 / R->mean_s
                            : NAN),
        "machine_cpus", "busy", stt_results_num(busy), "run", stt_results_num(run_cpus), "other",
        stt_results_num(isfinite(busy) && isfinite(run_cpus) ? fmax(0, busy - run_cpus) : NAN),
        "steal", stt_results_num(wall > 0 ? (steal1 - steal0) / wall : NAN));
    say(p, "  p95 %.3f s (n %llu), %llu error(s), %.3f req/s achieved", ms_hist(res.latency, 95),
        (unsigned long long)n, (unsigned long long)errors, res.rps);
    stt_load_result_free(&res);
    return 0;
}

/* The pods, the service time and every trial; fills doc's body. */
static int measure(run *R, json_t *doc, char *err, size_t errlen)
{
    const stt_replicas_params *p = R->p;
    int rc;
    for (int i = 0; i < R->kmax; i++) {
        stt_pod_params pp = stt_pod_default_params();
        char name[32];
        snprintf(name, sizeof name, "replica%d", i);
        pp.host = i;
        pp.addr = R->hosts[i].addr;
        pp.sttd = R->sttd;
        pp.cores = p->cores_per_replica;
        pp.first_cpu = i * p->cores_per_replica;
        pp.workers = p->workers;
        /* --threads 1: one request occupies one decoder, so a pod is exactly
         * `workers` servers of the queue the model has. */
        pp.threads = 1;
        pp.queue = p->queue;
        pp.profiles = p->profile;
        pp.name = name;
        say(p, "replica %d: starting sttd in netns %s at %s", i, R->hosts[i].ns, R->hosts[i].addr);
        if (!(R->pods[i] = stt_pod_start(&pp, err, errlen))) return STT_EIO;
        say(p, "replica %d ready on CPU(s) %s (verified)", i, stt_pod_cpus(R->pods[i]));
    }
    json_t *measured = NULL;
    if ((rc = measure_service(R, &measured, err, errlen))) return rc;
    char note[700];
    json_t *planner = planner_input(R, note, sizeof note);
    say(p, "%s", note);
    json_object_set_new(doc, "service_time",
                        json_pack("{s:o, s:o, s:s}", "measured", measured, "planner", planner,
                                  "planner_note", note));

    cell cells[STT_REPLICAS_MAX_K * STT_ROUTING_N * STT_REPLICAS_MAX_LOADS];
    int nc = plan_cells(p, cells, (int)(sizeof cells / sizeof cells[0]));
    int *idx = calloc((size_t)nc, sizeof *idx);
    if (!idx) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    uint64_t state = p->seed ^ 0x5f0e1d2c3b4a5968ULL;
    json_t *trials = json_array();
    json_object_set_new(doc, "trials", trials);
    int order = 0;
    double t0 = stt_now_s();
    for (int r = 0; r < p->repeats && !rc; r++) {
        shuffle(idx, nc, &state);
        for (int i = 0; i < nc && !rc; i++) {
            const cell *c = &cells[idx[i]];
            /* Each trial its own arrivals, the same ones in every run with this seed. */
            uint64_t seed = p->seed + 1000003ULL * (uint64_t)r + (uint64_t)idx[i] * 7919ULL;
            json_t *t = NULL;
            rc = run_trial(R, c, r, order++, seed, &t, err, errlen);
            if (!rc) json_array_append_new(trials, t);
        }
    }
    free(idx);
    json_object_set_new(doc, "measured_s", stt_results_num(stt_now_s() - t0));
    return rc;
}

int stt_replicas_run(const stt_replicas_params *p, json_t **doc_out, char *err, size_t errlen)
{
    if (!p || !doc_out) return stt_seterr(err, errlen, STT_EINVAL, "no parameters");
    *doc_out = NULL;
    int rc = check_params(p, err, errlen);
    if (rc) return rc;
    char why[512];
    if (stt_netns_check(why, sizeof why) ||
        (!stt_netns_in_path("haproxy") &&
         snprintf(why, sizeof why, "haproxy not found in PATH") > 0)) {
        *doc_out = skipped_doc(p, why);
        return *doc_out ? 0 : stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    run *R = calloc(1, sizeof *R);
    if (!R) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    R->p = p;
    for (int i = 0; i < p->nreplicas; i++)
        if (p->replicas[i] > R->kmax) R->kmax = p->replicas[i];
    R->ncpus = stt_cpus_allowed(R->cpus, MAXCPU);
    if (p->sttd) {
        snprintf(R->sttd, sizeof R->sttd, "%s", p->sttd);
    } else {
        char bin[PATH_MAX];
        stt_sut_exe_dir(bin, sizeof bin);
        snprintf(R->sttd, sizeof R->sttd, "%.*s/sttd", PATH_MAX - 8, bin);
    }
    snprintf(R->harness_cpus, sizeof R->harness_cpus, "shared");
    int need = R->kmax * p->cores_per_replica;
    if (R->ncpus < 1 || need > R->ncpus) {
        rc = stt_seterr(err, errlen, STT_EINVAL,
                        "%d replica(s) x %d CPU(s) need %d CPUs; this process may use %d. Lower "
                        "the replicas or the cores per replica",
                        R->kmax, p->cores_per_replica, need, R->ncpus);
    } else if (access(R->sttd, X_OK)) {
        rc =
            stt_seterr(err, errlen, STT_EINVAL, "cannot run sttd %s: %s", R->sttd, strerror(errno));
    } else if (stt_upload_read(p->file, 1, &R->body, err, errlen)) {
        rc = STT_EINVAL;
    }
    if (rc) {
        free(R);
        return rc;
    }

    cpu_set_t before;
    int have_before = sched_getaffinity(0, sizeof before, &before) == 0;
    int guarded = stt_netns_guard_start("sttbench replicas") == 0;
    json_t *doc = NULL;
    if (!guarded) {
        rc = stt_seterr(err, errlen, STT_EIO, "cannot start the signal thread");
        goto done;
    }
    if ((rc = stt_netns_open(err, errlen))) goto done;
    for (int i = 0; i < R->kmax; i++) {
        rc = stt_netns_add(i, &R->hosts[i], err, errlen);
        if (rc == STT_ENOTFOUND && i == 0) {
            char reason[700];
            snprintf(reason, sizeof reason, "cannot create a network namespace: %s", err);
            stt_netns_teardown(5);
            doc = skipped_doc(p, reason);
            rc = doc ? 0 : STT_ENOMEM;
            goto done;
        }
        if (rc) goto done;
    }
    /* The harness (this process's load threads, haproxy) gets the CPUs the
     * pods leave; when there are none it shares theirs. */
    if (R->ncpus > need) {
        stt_cpulimit_params lp = stt_cpulimit_default_params();
        lp.mode = STT_CPULIMIT_CPUSET;
        lp.cpus = R->ncpus - need;
        lp.first_cpu = need;
        if (!(R->harness = stt_cpulimit_create(&lp, err, errlen))) {
            rc = STT_EIO;
            goto done;
        }
        snprintf(R->harness_cpus, sizeof R->harness_cpus, "%s", stt_cpulimit_cpu_list(R->harness));
    }
    doc = stt_results_new(STT_RESULTS_REPLICAS, "replicas", NULL);
    if (!doc) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    if (R->harness) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = need; i < R->ncpus; i++)
            CPU_SET(R->cpus[i], &set);
        /* Threads started from here on (the load generator's) inherit this. */
        sched_setaffinity(0, sizeof set, &set);
    }
    rc = measure(R, doc, err, errlen);
    json_object_set_new(doc, "config", config_json(R));
    if (!rc) rc = stt_replicas_analyse(doc, err, errlen);
    if (rc) {
        json_decref(doc);
        doc = NULL;
    }
done:
    stt_netns_teardown(10);
    for (int i = 0; i < R->kmax; i++)
        stt_pod_stop(R->pods[i], 1);
    stt_cpulimit_free(R->harness);
    if (have_before) sched_setaffinity(0, sizeof before, &before);
    if (guarded) stt_netns_guard_stop();
    stt_upload_free(&R->body);
    free(R);
    *doc_out = doc;
    return rc;
}

/* ---- output ---- */

static double jnum(const json_t *o, const char *path)
{
    const json_t *v = o;
    char key[64];
    for (const char *s = path; v && *s;) {
        size_t n = strcspn(s, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, s);
        v = json_object_get(v, key);
        s += n + (s[n] == '.');
    }
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One line (or table row when md) per cell. */
static void cells_table(const json_t *doc, FILE *f, int md)
{
    const json_t *cells = json_object_get(doc, "cells");
    if (md)
        fprintf(f, "| replicas | routing | rho | offered req/s | n | p95 measured, median [95%% "
                   "interval] s | p95 predicted s | measured / predicted | simulated band of "
                   "the median s | verdict |\n|---:|---|---:|---:|---:|---|---:|---|---|---|\n");
    else
        fprintf(f, "%8s %10s %5s %9s %3s %24s %9s %8s %17s  %s\n", "replicas", "routing", "rho",
                "offered/s", "n", "p95 s median [interval]", "pred p95", "ratio", "sim band",
                "verdict");
    for (size_t i = 0; i < json_array_size(cells); i++) {
        const json_t *c = json_array_get(cells, i);
        char meas[80], band[48];
        const json_t *ci = json_object_get(json_object_get(c, "p95_s"), "ci");
        snprintf(meas, sizeof meas, "%.3f [%.3f, %.3f]", jnum(c, "p95_s.median"),
                 json_number_value(json_array_get(ci, 0)),
                 json_number_value(json_array_get(ci, 1)));
        const json_t *b = json_object_get(json_object_get(c, "simulated"), "median_band_s");
        snprintf(band, sizeof band, "%.3f-%.3f", json_number_value(json_array_get(b, 0)),
                 json_number_value(json_array_get(b, 1)));
        if (md)
            fprintf(f, "| %.0f | %s | %.2f | %.3f | %.0f | %s | %.3f | %.2f | %s | %s |\n",
                    jnum(c, "replicas"), jstr(c, "routing"), jnum(c, "load"),
                    jnum(c, "offered_rps"), jnum(c, "p95_s.n"), meas, jnum(c, "predicted.p95_s"),
                    jnum(c, "ratio.median"), band, jstr(c, "verdict"));
        else
            fprintf(f, "%8.0f %10s %5.2f %9.3f %3.0f %24s %9.3f %8.2f %17s  %s\n",
                    jnum(c, "replicas"), jstr(c, "routing"), jnum(c, "load"),
                    jnum(c, "offered_rps"), jnum(c, "p95_s.n"), meas, jnum(c, "predicted.p95_s"),
                    jnum(c, "ratio.median"), band, jstr(c, "verdict"));
    }
}

void stt_replicas_print(const json_t *doc, FILE *f)
{
    const char *skipped = json_string_value(json_object_get(doc, "skipped"));
    if (skipped) {
        fprintf(f, "sttbench replicas: skipped: %s\n", skipped);
        return;
    }
    cells_table(doc, f, 0);
    const json_t *rd = json_object_get(doc, "routing_difference");
    for (size_t i = 0; i < json_array_size(rd); i++) {
        const json_t *d = json_array_get(rd, i);
        fprintf(f, "k=%.0f rho=%.2f: %s\n", jnum(d, "replicas"), jnum(d, "load"),
                jstr(d, "summary"));
    }
    const json_t *v = json_object_get(doc, "validation");
    if (v) fprintf(f, "%s\n", jstr(v, "summary"));
}

int stt_replicas_write(const json_t *doc, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/replicas.json", dir);
    int rc = stt_results_write(doc, path, err, errlen);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/replicas_report.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "# Replicas: per-pod routing measured against the planner's model\n\n");
    const char *skipped = json_string_value(json_object_get(doc, "skipped"));
    if (skipped) {
        fprintf(f, "Skipped: %s. Nothing was measured.\n", skipped);
    } else {
        const json_t *cfg = json_object_get(doc, "config");
        fprintf(f,
                "Each replica: sttd in its own network namespace on %.0f CPU(s), %.0f "
                "worker(s), profile `%s`; upload `%s`; open-loop Poisson arrivals, %.0f counted "
                "requests per trial, %.0f trial(s) per cell in interleaved rounds. %s. "
                "Results: `replicas.json`.\n\n",
                jnum(cfg, "cores_per_replica"), jnum(cfg, "workers"), jstr(cfg, "profile"),
                jstr(cfg, "file"), jnum(cfg, "requests"), jnum(cfg, "repeats"),
                jstr(json_object_get(doc, "service_time"), "planner_note"));
        cells_table(doc, f, 1);
        const json_t *rd = json_object_get(doc, "routing_difference");
        if (json_array_size(rd)) fprintf(f, "\nRouting:\n\n");
        for (size_t i = 0; i < json_array_size(rd); i++) {
            const json_t *d = json_array_get(rd, i);
            fprintf(f, "- %.0f replicas at rho %.2f: %s\n", jnum(d, "replicas"), jnum(d, "load"),
                    jstr(d, "summary"));
        }
        const json_t *v = json_object_get(doc, "validation");
        if (v) fprintf(f, "\n%s\n", jstr(v, "summary"));
    }
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}
