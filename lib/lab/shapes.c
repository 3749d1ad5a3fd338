/* shapes: the measurement of the pod shapes; the choice is shapes_model.c,
 * the worst-case memory shapes_memory.c. See shapes.h. */
#include "shapes.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "client.h"
#include "clock.h"
#include "cpulimit.h"
#include "cpus.h"
#include "error.h"
#include "haproxy.h"
#include "loadgen.h"
#include "memcg.h"
#include "netns.h"
#include "replicas_pod.h"
#include "results.h"
#include "stats.h"
#include "sut.h"

#define MAXCPU 1024
#define REQ_TIMEOUT_S 600
#define POD_QUEUE 64 /* deep enough that the comparison refuses nothing */

stt_shapes_params stt_shapes_default_params(void)
{
    stt_shapes_params p = {0};
    p.profile = "fast";
    p.short_file = "corpus/speech_0008s.wav";
    p.long_file = "corpus/speech_0060s.wav";
    p.long_share = 0.1;
    p.load = 0.6;
    p.repeats = 5;
    p.throughput_requests = 20;
    p.latency_shorts = 30;
    p.price_core_hour = 0.04;
    p.price_gib_hour = 0.005;
    p.memory_margin = 0.15;
    p.memory = STT_SHAPES_MEMORY_CHOSEN;
    p.memory_queue = -1;
    p.max_upload_mb = 100;
    p.max_duration_s = 600;
    p.memory_hold_s = 8;
    p.seed = 20240601ULL;
    return p;
}

void stt_shapes_quick(stt_shapes_params *p)
{
    p->throughput_requests = 12;
    p->latency_shorts = 20;
    p->memory = STT_SHAPES_MEMORY_CHOSEN;
    p->memory_hold_s = 5;
    p->quick = 1;
}

static void say(const stt_shapes_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const stt_shapes_params *p, const char *fmt, ...)
{
    if (!p->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->log_arg, line);
}

/* What one shape gathered over the rounds. */
typedef struct shape_run {
    int pods, cores;
    double thr[STT_SHAPES_MAX_REP], rps[STT_SHAPES_MAX_REP];
    int nthr;
    double p95[STT_SHAPES_MAX_REP], long_med[STT_SHAPES_MAX_REP], single[STT_SHAPES_MAX_REP];
    int np95, nlong, nsingle;
    double mem; /* the largest peak of one pod */
    long long errors;
    char reason[512];
} shape_run;

typedef struct srun {
    const stt_shapes_params *p;
    char sttd[PATH_MAX];
    int C, ncpus, cpus[MAXCPU];
    stt_netns_host hosts[STT_NETNS_MAX];
    int nhosts;
    stt_upload bodies[2]; /* short, long */
    double mean_audio_s;  /* of the mix */
    stt_cpulimit *harness;
    char harness_cpus[256];
    shape_run sh[STT_SHAPES_MAX];
    int nsh;
    double slo;
    char slo_source[PATH_MAX + 64];
    double offered_rps;
} srun;

/* The shapes k x C/k for k = 1, 2, 4, ... dividing C, pods at most the
 * hosts one run can make. */
static int plan_shapes(srun *R)
{
    R->nsh = 0;
    for (int k = 1; k <= R->C && k <= STT_NETNS_MAX && R->nsh < STT_SHAPES_MAX; k *= 2)
        if (R->C % k == 0) R->sh[R->nsh++] = (shape_run){.pods = k, .cores = R->C / k};
    return R->nsh;
}

/* The pods and haproxy of a shape; returns 0 or an error. */
static int shape_up(srun *R, const shape_run *s, stt_pod **pods, stt_haproxy **h, char *err,
                    size_t errlen)
{
    const stt_shapes_params *p = R->p;
    for (int i = 0; i < s->pods; i++) {
        char name[48];
        snprintf(name, sizeof name, "shape%dx%d_%d", s->pods, s->cores, i);
        stt_pod_params pp = stt_pod_default_params();
        pp.host = i;
        pp.addr = R->hosts[i].addr;
        pp.sttd = R->sttd;
        pp.cores = s->cores;
        pp.first_cpu = i * s->cores;
        pp.workers = s->cores; /* one decoder per core */
        pp.threads = s->cores; /* a long file's pieces spread over the pod */
        pp.queue = POD_QUEUE;
        pp.profiles = p->profiles;
        pp.memcg = 1;
        pp.name = name;
        if (!(pods[i] = stt_pod_start(&pp, err, errlen))) return STT_EIO;
    }
    stt_haproxy_params hp = stt_haproxy_default_params();
    hp.nservers = s->pods;
    for (int i = 0; i < s->pods; i++)
        hp.addrs[i] = R->hosts[i].addr;
    hp.server_port = STT_POD_PORT;
    hp.routing = STT_ROUTING_RANDOM;
    hp.workers = s->cores;
    hp.timeout_s = REQ_TIMEOUT_S;
    hp.limit = R->harness;
    if (!(*h = stt_haproxy_start(&hp, err, errlen))) return STT_EIO;
    /* Each pod warm: its first request pays for pages touched once. */
    for (int i = 0; i < s->pods; i++) {
        stt_client_params cp = stt_client_default_params();
        cp.profile = p->profile;
        cp.timeout_s = REQ_TIMEOUT_S;
        stt_client_reply r;
        int rc = stt_client_transcribe(stt_pod_url(pods[i]), &R->bodies[0], &cp, &r);
        if (rc)
            stt_seterr(err, errlen, STT_EIO, "warm-up of %s: %s", stt_pod_url(pods[i]), r.error);
        stt_client_reply_free(&r);
        if (rc) return STT_EIO;
    }
    return 0;
}

/* Stops a shape; *mem gets the largest cgroup peak of its pods (bytes). */
static void shape_down(const shape_run *s, stt_pod **pods, stt_haproxy *h, double *mem)
{
    stt_haproxy_stop(h);
    for (int i = 0; i < s->pods; i++) {
        if (!pods[i]) continue;
        const stt_memcg *m = stt_pod_memcg(pods[i]);
        long long v = m ? stt_memcg_peak(m) : -1;
        if (m && v < 0) v = stt_memcg_current(m); /* no kernel peak: the charge now */
        if (mem && v > 0 && !(*mem >= (double)v)) *mem = (double)v;
        stt_pod_stop(pods[i], 2);
        pods[i] = NULL;
    }
}

static stt_load_params load_params(const srun *R, const char *url, const stt_upload *bodies,
                                   size_t n)
{
    stt_load_params lp = stt_load_default_params();
    lp.url = url;
    lp.model = R->p->profile;
    lp.bodies = bodies;
    lp.nbodies = n;
    lp.threads = 1;
    lp.timeout_s = REQ_TIMEOUT_S;
    return lp;
}

static long long errors_of(const stt_load_result *r)
{
    long long e = 0;
    for (int i = 0; i < STT_LOAD_ERR_N; i++)
        e += (long long)r->errors[i];
    return e;
}

/* Throughput: a closed loop of 2 x C clients until N requests of the mix are
 * done; audio seconds per second over that time. */
static int throughput_trial(srun *R, shape_run *s, const char *url, int round, char *err,
                            size_t errlen)
{
    stt_load_params lp = load_params(R, url, R->bodies, 2);
    stt_load_step st = {0};
    st.mode = STT_LOAD_CLOSED;
    st.concurrency = 2 * R->C;
    st.requests = R->p->throughput_requests;
    st.warmup_s = 1;
    st.seed = R->p->seed + 31ULL * (uint64_t)round + (uint64_t)s->pods;
    stt_load_result res;
    int rc = stt_load_run_step(&lp, &st, &res, err, errlen);
    if (rc) return rc;
    s->errors += errors_of(&res);
    if (s->nthr < STT_SHAPES_MAX_REP && res.ok > 0) {
        s->thr[s->nthr] = res.audio_s_per_s;
        s->rps[s->nthr++] = res.ok_rps;
    }
    say(R->p, "  shape %dx%d: throughput %.2f audio s/s (%.3f req/s), %lld error(s)", s->pods,
        s->cores, res.audio_s_per_s, res.ok_rps, errors_of(&res));
    stt_load_result_free(&res);
    return 0;
}

typedef struct stream {
    pthread_t thr;
    stt_load_params lp;
    stt_load_step st;
    stt_load_result res;
    int rc;
    char err[256];
} stream;

static void *stream_main(void *arg)
{
    stream *s = arg;
    s->rc = stt_load_run_step(&s->lp, &s->st, &s->res, s->err, sizeof s->err);
    return NULL;
}

/* The mixed-length load: short and long files as two independent Poisson
 * streams (their sum is the Poisson stream of the mix), run at once, so
 * that each stream's latencies are those of its own kind. */
static int latency_trial(srun *R, shape_run *s, const char *url, int round, char *err,
                         size_t errlen)
{
    const stt_shapes_params *p = R->p;
    double rate = R->offered_rps, rs = rate * (1 - p->long_share), rl = rate * p->long_share;
    stream str[2];
    memset(str, 0, sizeof str);
    double warm = fmax(2.0, 2.0 / rate);
    for (int i = 0; i < 2; i++) {
        str[i].lp = load_params(R, url, &R->bodies[i], 1);
        str[i].st.mode = STT_LOAD_OPEN;
        str[i].st.arrival = STT_ARRIVAL_POISSON;
        str[i].st.warmup_s = warm;
        str[i].st.seed = p->seed + 1000003ULL * (uint64_t)round + 7919ULL * (uint64_t)i;
    }
    str[0].st.rate = rs;
    str[0].st.requests = p->latency_shorts;
    /* the long stream lasts as long as the short one takes on average */
    str[1].st.rate = rl;
    str[1].st.duration_s = p->latency_shorts / rs;
    int started = 0;
    for (int i = 0; i < 2 && (i == 0 || rl > 0); i++)
        if (pthread_create(&str[i].thr, NULL, stream_main, &str[i]) == 0) started |= 1 << i;
    for (int i = 0; i < 2; i++)
        if (started & (1 << i)) pthread_join(str[i].thr, NULL);
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++)
        if ((started & (1 << i)) && str[i].rc)
            rc = stt_seterr(err, errlen, str[i].rc, "%s", str[i].err);
    if (!(started & 1)) rc = stt_seterr(err, errlen, STT_EIO, "cannot start the load threads");
    if (!rc) {
        const stt_load_result *sh = &str[0].res, *lo = &str[1].res;
        uint64_t n = stt_histogram_count(sh->latency);
        s->errors += errors_of(sh) + ((started & 2) ? errors_of(lo) : 0);
        double p95 = n ? (double)stt_histogram_percentile(sh->latency, 95) / 1e6 : NAN;
        if (stt_stats_percentile_supported(n, 95) && s->np95 < STT_SHAPES_MAX_REP)
            s->p95[s->np95++] = p95;
        uint64_t nl = (started & 2) ? stt_histogram_count(lo->latency) : 0;
        if (nl && s->nlong < STT_SHAPES_MAX_REP)
            s->long_med[s->nlong++] = (double)stt_histogram_percentile(lo->latency, 50) / 1e6;
        say(p,
            "  shape %dx%d: short requests p95 %.3f s (n %llu), long ones median %.3f s (n %llu)",
            s->pods, s->cores, p95, (unsigned long long)n,
            nl ? (double)stt_histogram_percentile(lo->latency, 50) / 1e6 : NAN,
            (unsigned long long)nl);
    }
    for (int i = 0; i < 2; i++)
        if ((started & (1 << i)) && !str[i].rc) stt_load_result_free(&str[i].res);
    return rc;
}

/* One long request alone on the idle shape. */
static int single_long(srun *R, shape_run *s, const char *url, char *err, size_t errlen)
{
    stt_client_params cp = stt_client_default_params();
    cp.profile = R->p->profile;
    cp.timeout_s = REQ_TIMEOUT_S;
    stt_client_reply r;
    int rc = stt_client_transcribe(url, &R->bodies[1], &cp, &r);
    if (!rc && s->nsingle < STT_SHAPES_MAX_REP) s->single[s->nsingle++] = r.elapsed_s;
    if (rc) stt_seterr(err, errlen, STT_EIO, "long request: %s", r.error);
    stt_client_reply_free(&r);
    return rc;
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

/* One shape in one round: up, its trials, down. Round -1 measures the
 * throughput only (the first round's, before the offered rate is known). */
static int shape_round(srun *R, int si, int round, int thr_only, char *err, size_t errlen)
{
    shape_run *s = &R->sh[si];
    stt_pod *pods[STT_NETNS_MAX] = {0};
    stt_haproxy *h = NULL;
    int rc = shape_up(R, s, pods, &h, err, errlen);
    char url[160] = "";
    if (!rc) snprintf(url, sizeof url, "%s%s", stt_haproxy_url(h), STT_ROUTE_TRANSCRIPTIONS);
    if (!rc && (thr_only || round > 0)) rc = throughput_trial(R, s, url, round, err, errlen);
    if (!rc && !thr_only) rc = latency_trial(R, s, url, round, err, errlen);
    if (!rc && !thr_only) rc = single_long(R, s, stt_haproxy_url(h), err, errlen);
    shape_down(s, pods, h, &s->mem);
    return rc;
}

static json_t *figure(const double *x, int n)
{
    json_t *samples = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(samples, stt_results_num(x[i]));
    stt_summary s;
    if (n < 1 || stt_stats_summarize(x, (size_t)n, 0.95, &s)) {
        json_decref(samples);
        return json_null();
    }
    return json_pack("{s:i, s:o, s:[o, o], s:o, s:o}", "n", n, "median", stt_results_num(s.median),
                     "ci", stt_results_num(s.median_ci.lo), stt_results_num(s.median_ci.hi),
                     "coverage", stt_results_num(s.median_ci.coverage), "samples", samples);
}

static json_t *shapes_json(const srun *R)
{
    json_t *a = json_array();
    for (int i = 0; i < R->nsh; i++) {
        const shape_run *s = &R->sh[i];
        json_t *j = json_pack(
            "{s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s, s:s}", "pods", s->pods,
            "cores_per_pod", s->cores, "workers", s->cores, "threads", s->cores,
            "throughput_audio_s_per_s", figure(s->thr, s->nthr), "throughput_rps",
            figure(s->rps, s->nthr), "short_p95_s", figure(s->p95, s->np95), "long_median_s",
            figure(s->long_med, s->nlong), "single_long_s", figure(s->single, s->nsingle),
            "memory_peak_bytes", stt_results_num(s->mem > 0 ? s->mem : NAN), "errors",
            (json_int_t)s->errors, "status", s->reason[0] ? "failed" : "ok", "reason", s->reason);
        json_array_append_new(a, j);
    }
    return a;
}

/* The choice of this run as JSON. */
static json_t *choice_json(const stt_shape *s, int n, const stt_shapes_choice *c, double slo)
{
    json_t *v = json_array();
    for (int i = 0; i < n; i++) {
        const stt_shape_verdict *x = &c->v[i];
        json_array_append_new(v, json_pack("{s:s, s:o, s:[o, o], s:s, s:b}", "shape", "",
                                           "cost_per_audio_hour", stt_results_num(x->cost),
                                           "cost_ci", stt_results_num(x->cost_lo),
                                           stt_results_num(x->cost_hi), "objective",
                                           !(slo > 0)     ? "none"
                                           : x->slo == -1 ? "under"
                                           : x->slo == 1  ? "over"
                                                          : "undetermined",
                                           "eligible", x->eligible));
        char name[32];
        snprintf(name, sizeof name, "%dx%d", s[i].pods, s[i].cores);
        json_object_set_new(json_array_get(v, (size_t)i), "shape", json_string(name));
    }
    json_t *scales = json_array();
    for (int k = 0; k < 4; k++)
        json_array_append_new(scales, json_pack("{s:o, s:i}", "memory_price_scale",
                                                stt_results_num(stt_shapes_price_scales[k]),
                                                "chosen", c->at_scale[k]));
    return json_pack("{s:i, s:b, s:s, s:s, s:i, s:o, s:[o, o], s:o, s:o, s:o}", "chosen", c->chosen,
                     "meets_objective", c->meets, "basis", c->basis, "confidence", c->confidence,
                     "runner_up", c->runner_up, "cost_ratio", stt_results_num(c->ratio),
                     "cost_ratio_ci", stt_results_num(c->ratio_lo), stt_results_num(c->ratio_hi),
                     "breakeven_gib_hour", stt_results_num(c->breakeven_gib_hour),
                     "at_memory_price", scales, "verdicts", v);
}

/* Chooses among sh[0..n) and writes "choice" and "verdict" into doc; the
 * run and --rejudge both judge through it. 0, or stt_shapes_choose()'s error. */
static int judge(json_t *doc, const stt_shape *sh, int n, const stt_shapes_prices *pr, double slo,
                 stt_shapes_choice *c)
{
    int rc = stt_shapes_choose(sh, n, pr, slo, c);
    if (rc) return rc;
    json_object_set_new(doc, "choice", choice_json(sh, n, c, slo));
    json_object_set_new(doc, "verdict", stt_shapes_verdict(sh, n, c, slo));
    return 0;
}

int stt_shapes_rejudge(json_t *doc, char *err, size_t errlen)
{
    const json_t *cfg = json_object_get(doc, "config");
    stt_shape sh[STT_SHAPES_MAX];
    int n = json_object_get(doc, "skipped") ? 0 : stt_shapes_read(doc, sh, STT_SHAPES_MAX);
    if (n < 1) return stt_seterr(err, errlen, STT_EINVAL, "no measured shapes in the document");
    stt_shapes_prices pr = {stt_results_get_num(cfg, "price_core_hour"),
                            stt_results_get_num(cfg, "price_gib_hour")};
    double slo = stt_results_get_num(cfg, "slo_p95_s");
    if (!(slo > 0)) slo = 0;
    stt_shapes_choice c;
    if (judge(doc, sh, n, &pr, slo, &c))
        return stt_seterr(err, errlen, STT_EINVAL, "the document's prices are not usable");
    json_object_set_new(doc, "rejudged",
                        json_string("the choice and the verdict recomputed from these "
                                    "measurements by `sttbench shapes --rejudge`"));
    return 0;
}

static json_t *config_json(const srun *R)
{
    const stt_shapes_params *p = R->p;
    char hv[256];
    stt_haproxy_version(hv, sizeof hv);
    json_t *files =
        json_pack("[{s:s, s:o, s:o}, {s:s, s:o, s:o}]", "file", p->short_file, "audio_s",
                  stt_results_num(R->bodies[0].audio_s), "weight",
                  stt_results_num(1 - p->long_share), "file", p->long_file, "audio_s",
                  stt_results_num(R->bodies[1].audio_s), "weight", stt_results_num(p->long_share));
    return json_pack(
        "{s:i, s:s, s:s?, s:o, s:o, s:o, s:i, s:i, s:i, s:o, s:s, s:s?, s:o, s:o, s:o, s:s, s:i, "
        "s:o, s:o, s:s, s:s, s:s, s:I, s:s, s:b, s:s, s:i}",
        "cores", R->C, "profile", p->profile, "profiles", p->profiles, "mix", files, "long_share",
        stt_results_num(p->long_share), "load", stt_results_num(p->load), "repeats", p->repeats,
        "throughput_requests", p->throughput_requests, "latency_shorts", p->latency_shorts,
        "slo_p95_s", R->slo > 0 ? stt_results_num(R->slo) : json_null(), "slo_source",
        R->slo_source, "load_json", p->load_json, "price_core_hour",
        stt_results_num(p->price_core_hour), "price_gib_hour", stt_results_num(p->price_gib_hour),
        "memory_margin", stt_results_num(p->memory_margin), "memory",
        p->memory == STT_SHAPES_MEMORY_ALL      ? "all"
        : p->memory == STT_SHAPES_MEMORY_CHOSEN ? "chosen"
                                                : "none",
        "pod_queue", POD_QUEUE, "max_upload_mb", stt_results_num(p->max_upload_mb),
        "max_duration_s", stt_results_num(p->max_duration_s), "routing",
        "haproxy balance random(1): per pod, no central queue", "sttd", R->sttd, "haproxy", hv,
        "seed", (json_int_t)p->seed, "harness_cpus", R->harness_cpus, "quick", p->quick, "network",
        stt_netns_network(), "cpus_available", R->ncpus);
}

static json_t *skipped_doc(const stt_shapes_params *p, const char *reason)
{
    json_t *doc = stt_results_new(
        STT_RESULTS_SHAPES, "shapes",
        json_pack("{s:s, s:s}", "profile", p->profile, "short_file", p->short_file));
    if (doc) json_object_set_new(doc, "skipped", json_string(reason));
    return doc;
}

/* The objective: given, else load.json's. */
static void objective(srun *R)
{
    const stt_shapes_params *p = R->p;
    R->slo = 0;
    snprintf(R->slo_source, sizeof R->slo_source, "none given");
    if (p->slo_p95_s > 0) {
        R->slo = p->slo_p95_s;
        snprintf(R->slo_source, sizeof R->slo_source, "--slo-p95");
        return;
    }
    if (!p->load_json) return;
    json_t *ld = stt_results_load(p->load_json, STT_RESULTS_LOAD, NULL, NULL, 0);
    double v = stt_results_get_num(json_object_get(ld, "config"), "slo_p95_s");
    if (v > 0) {
        R->slo = v;
        snprintf(R->slo_source, sizeof R->slo_source, "%.*s: config.slo_p95_s", PATH_MAX,
                 p->load_json);
    }
    json_decref(ld);
}

static int measure(srun *R, json_t *doc, char *err, size_t errlen)
{
    const stt_shapes_params *p = R->p;
    int rc = 0;
    int idx[STT_SHAPES_MAX];
    uint64_t state = p->seed ^ 0x3c6ef372fe94f82bULL;
    json_t *order = json_array();
    json_object_set_new(doc, "rounds", order);
    double t0 = stt_now_s();
    /* The first round's throughput sets the offered rate of every latency
     * trial: `load` of the weakest shape's, the same rate for all. */
    say(p, "round 1 of %d: throughput of every shape", p->repeats);
    shuffle(idx, R->nsh, &state);
    for (int i = 0; i < R->nsh && !rc; i++)
        if ((rc = shape_round(R, idx[i], 0, 1, err, errlen)))
            snprintf(R->sh[idx[i]].reason, sizeof R->sh[idx[i]].reason, "%s", err);
    double xmin = INFINITY;
    for (int i = 0; i < R->nsh; i++)
        if (R->sh[i].nthr) xmin = fmin(xmin, R->sh[i].thr[0]);
    if (!rc && !isfinite(xmin)) rc = stt_seterr(err, errlen, STT_EIO, "no throughput measured");
    if (rc) return rc;
    R->offered_rps = p->load * xmin / R->mean_audio_s;
    json_object_set_new(doc, "offered",
                        json_pack("{s:o, s:o, s:o, s:o, s:s}", "rps",
                                  stt_results_num(R->offered_rps), "audio_s_per_s",
                                  stt_results_num(p->load * xmin), "load", stt_results_num(p->load),
                                  "weakest_audio_s_per_s", stt_results_num(xmin), "arrival",
                                  "poisson, short and long as two independent streams"));
    say(p, "latency trials at %.3f req/s (%.0f%% of the weakest shape's %.2f audio s/s)",
        R->offered_rps, 100 * p->load, xmin);
    for (int r = 0; r < p->repeats && !rc; r++) {
        shuffle(idx, R->nsh, &state);
        json_t *ro = json_array();
        for (int i = 0; i < R->nsh && !rc; i++) {
            shape_run *s = &R->sh[idx[i]];
            char name[32];
            snprintf(name, sizeof name, "%dx%d", s->pods, s->cores);
            json_array_append_new(ro, json_string(name));
            say(p, "round %d of %d: shape %s (%d pod(s) of %d core(s))", r + 1, p->repeats, name,
                s->pods, s->cores);
            if ((rc = shape_round(R, idx[i], r, 0, err, errlen)))
                snprintf(s->reason, sizeof s->reason, "%s", err);
        }
        json_array_append_new(order, ro);
    }
    json_object_set_new(doc, "measured_s", stt_results_num(stt_now_s() - t0));
    return rc;
}

/* The worst case for the pod sizes asked for. */
static int worst_case(srun *R, json_t *doc, const stt_shapes_choice *c, char *err, size_t errlen)
{
    const stt_shapes_params *p = R->p;
    json_t *a = json_array();
    json_object_set_new(doc, "memory_worst_case", a);
    if (p->memory == STT_SHAPES_MEMORY_NONE) return 0;
    for (int i = 0; i < R->nsh; i++) {
        if (p->memory == STT_SHAPES_MEMORY_CHOSEN && i != c->chosen) continue;
        stt_shapes_memory_params mp = {.host = 0,
                                       .addr = R->hosts[0].addr,
                                       .sttd = R->sttd,
                                       .cores = R->sh[i].cores,
                                       .queue = p->memory_queue >= 0 ? p->memory_queue
                                                                     : 2 * R->sh[i].cores,
                                       .profiles = p->profiles,
                                       .ask = p->memory_profiles,
                                       .max_upload_mb = p->max_upload_mb,
                                       .max_duration_s = p->max_duration_s,
                                       .hold_s = p->memory_hold_s,
                                       .speech = p->short_file,
                                       .log = p->log,
                                       .log_arg = p->log_arg};
        if (!mp.ask) mp.ask = p->profiles ? p->profiles : "fast,balanced,accurate";
        json_t *one = NULL;
        int rc = stt_shapes_memory_measure(&mp, &one, err, errlen);
        if (rc) return rc;
        double mx = stt_results_get_num(one, "max_bytes");
        json_object_set_new(one, "limit_bytes", stt_results_num(ceil(mx * (1 + p->memory_margin))));
        json_array_append_new(a, one);
    }
    return 0;
}

int stt_shapes_run(const stt_shapes_params *p, json_t **doc_out, char *err, size_t errlen)
{
    if (!p || !doc_out) return stt_seterr(err, errlen, STT_EINVAL, "no parameters");
    *doc_out = NULL;
    if (!p->profile || stt_profile_index(p->profile) < 0 || !p->short_file || !p->long_file ||
        !(p->long_share >= 0 && p->long_share < 1) || !(p->load > 0 && p->load < 1) ||
        p->repeats < 1 || p->repeats > STT_SHAPES_MAX_REP || p->throughput_requests < 1 ||
        p->latency_shorts < 20 || p->slo_p95_s < 0 || !(p->price_core_hour >= 0) ||
        !(p->price_gib_hour >= 0) || !(p->memory_margin >= 0) || !(p->max_upload_mb > 0) ||
        !(p->max_duration_s > 0) || !(p->memory_hold_s > 0) || p->cores < 0)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "bad parameters (profile, files, 0 <= long share < 1, 0 < load < 1, "
                          "repeats 1..%d, at least 20 short requests per trial, prices, limits)",
                          STT_SHAPES_MAX_REP);
    char why[512];
    if (stt_netns_check(why, sizeof why) ||
        (!stt_netns_in_path("haproxy") &&
         snprintf(why, sizeof why, "haproxy not found in PATH") > 0)) {
        *doc_out = skipped_doc(p, why);
        return *doc_out ? 0 : STT_ENOMEM;
    }
    srun *R = calloc(1, sizeof *R);
    if (!R) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    R->p = p;
    R->ncpus = stt_cpus_allowed(R->cpus, MAXCPU);
    R->C = p->cores ? p->cores : R->ncpus;
    snprintf(R->harness_cpus, sizeof R->harness_cpus, "shared");
    if (p->sttd) {
        snprintf(R->sttd, sizeof R->sttd, "%s", p->sttd);
    } else {
        char bin[PATH_MAX];
        stt_sut_exe_dir(bin, sizeof bin);
        snprintf(R->sttd, sizeof R->sttd, "%.*s/sttd", PATH_MAX - 8, bin);
    }
    int rc = 0;
    if (R->ncpus < 1 || R->C > R->ncpus)
        rc = stt_seterr(err, errlen, STT_EINVAL, "--cores %d: this process may use %d CPU(s)", R->C,
                        R->ncpus);
    else if (access(R->sttd, X_OK))
        rc =
            stt_seterr(err, errlen, STT_EINVAL, "cannot run sttd %s: %s", R->sttd, strerror(errno));
    else if (stt_upload_read(p->short_file, 1, &R->bodies[0], err, errlen) ||
             stt_upload_read(p->long_file, 1, &R->bodies[1], err, errlen))
        rc = STT_EINVAL;
    if (!rc && !(R->bodies[0].audio_s > 0 && R->bodies[1].audio_s > R->bodies[0].audio_s))
        rc = stt_seterr(err, errlen, STT_EINVAL,
                        "the long file must be longer than the short one (%.1f s, %.1f s)",
                        R->bodies[0].audio_s, R->bodies[1].audio_s);
    if (rc) {
        stt_upload_free(&R->bodies[0]);
        stt_upload_free(&R->bodies[1]);
        free(R);
        return rc;
    }
    /* The mix: weights in parts per thousand (the generator's are whole). */
    R->bodies[0].weight = (unsigned)lround(1000 * (1 - p->long_share));
    R->bodies[1].weight = (unsigned)lround(1000 * p->long_share);
    if (!R->bodies[1].weight) R->bodies[1].weight = 1;
    R->mean_audio_s =
        (1 - p->long_share) * R->bodies[0].audio_s + p->long_share * R->bodies[1].audio_s;
    objective(R);
    json_t *doc = NULL;
    if (R->C < 2 || plan_shapes(R) < 2) {
        doc = skipped_doc(p, "a single CPU has a single shape: nothing to compare");
        goto out;
    }
    int guarded = stt_netns_guard_start("sttbench shapes") == 0;
    if (!guarded) {
        rc = stt_seterr(err, errlen, STT_EIO, "cannot start the signal thread");
        goto out;
    }
    cpu_set_t before;
    int have_before = sched_getaffinity(0, sizeof before, &before) == 0;
    if ((rc = stt_netns_open(err, errlen))) goto done;
    R->nhosts = R->sh[R->nsh - 1].pods;
    for (int i = 0; i < R->nhosts && !rc; i++) {
        rc = stt_netns_add(i, &R->hosts[i], err, errlen);
        if (rc == STT_ENOTFOUND && i == 0) {
            char reason[700];
            snprintf(reason, sizeof reason, "cannot create a network namespace: %s", err);
            stt_netns_teardown(5);
            doc = skipped_doc(p, reason);
            rc = doc ? 0 : STT_ENOMEM;
            goto done;
        }
    }
    if (rc) goto done;
    if (R->ncpus > R->C) {
        stt_cpulimit_params lp = stt_cpulimit_default_params();
        lp.cpus = R->ncpus - R->C;
        lp.first_cpu = R->C;
        if (!(R->harness = stt_cpulimit_create(&lp, err, errlen))) {
            rc = STT_EIO;
            goto done;
        }
        snprintf(R->harness_cpus, sizeof R->harness_cpus, "%s", stt_cpulimit_cpu_list(R->harness));
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = R->C; i < R->ncpus; i++)
            CPU_SET(R->cpus[i], &set);
        sched_setaffinity(0, sizeof set, &set); /* the load threads inherit it */
    }
    if (!(doc = stt_results_new(STT_RESULTS_SHAPES, "shapes", NULL))) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    say(p, "%d shapes of %d CPUs; objective: %s", R->nsh, R->C,
        R->slo > 0 ? R->slo_source : "none");
    rc = measure(R, doc, err, errlen);
    json_object_set_new(doc, "config", config_json(R));
    json_object_set_new(doc, "shapes", shapes_json(R));
    stt_shape sh[STT_SHAPES_MAX];
    int n = stt_shapes_read(doc, sh, STT_SHAPES_MAX);
    stt_shapes_prices pr = {p->price_core_hour, p->price_gib_hour};
    stt_shapes_choice c;
    if (!rc && n > 0 && judge(doc, sh, n, &pr, R->slo, &c) == 0) {
        if (c.chosen >= 0)
            say(p, "chosen: %dx%d (%s)", sh[c.chosen].pods, sh[c.chosen].cores, c.confidence);
        rc = worst_case(R, doc, &c, err, errlen);
    }
    for (int i = 0; !rc && i < R->nsh; i++) {
        char name[96];
        snprintf(name, sizeof name, "throughput_audio_s_per_s/shape=%dx%d", R->sh[i].pods,
                 R->sh[i].cores);
        if (R->sh[i].nthr)
            stt_results_add_metric(doc, name, "audio s/s", 1, R->sh[i].thr, (size_t)R->sh[i].nthr);
        snprintf(name, sizeof name, "short_p95_s/shape=%dx%d", R->sh[i].pods, R->sh[i].cores);
        if (R->sh[i].np95)
            stt_results_add_metric(doc, name, "s", 0, R->sh[i].p95, (size_t)R->sh[i].np95);
    }
    if (rc) {
        json_decref(doc);
        doc = NULL;
    }
done:
    stt_netns_teardown(10);
    stt_cpulimit_free(R->harness);
    if (have_before) sched_setaffinity(0, sizeof before, &before);
    stt_netns_guard_stop();
out:
    stt_upload_free(&R->bodies[0]);
    stt_upload_free(&R->bodies[1]);
    free(R);
    *doc_out = doc;
    return rc;
}
