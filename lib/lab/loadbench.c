/* loadbench: see loadbench.h. */
#include "loadbench.h"

#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "client.h"
#include "error.h"
#include "results.h"
#include "sweep_output.h"
#include "sysinfo.h"
#include "trace.h"

stt_loadbench_params stt_loadbench_default_params(void)
{
    stt_loadbench_params p;
    memset(&p, 0, sizeof p);
    p.url = NULL;
    p.api = "openai";
    p.post = 1;
    p.file = NULL;
    p.mix = NULL;
    p.mix_params = stt_mix_default_params();
    p.trace = NULL;
    p.model = "balanced";
    p.threads = 1;
    p.timeout_s = 120;
    p.max_inflight = 1024;
    p.retry_after = 0;
    p.sweep = stt_sweep_default_params();
    p.sweep_given = 0;
    p.find_max = 0;
    p.search = stt_maxrate_default_params();
    p.server_workers = 0;
    p.out = NULL;
    p.progress = NULL;
    return p;
}

int stt_loadbench_check(const stt_loadbench_params *p, char *err, size_t errlen)
{
    if (!p->url || !*p->url) return stt_seterr(err, errlen, STT_EINVAL, "--url is required");
    if (strcmp(p->api, "openai") && strcmp(p->api, "whisper-cpp"))
        return stt_seterr(err, errlen, STT_EINVAL, "--api takes openai or whisper-cpp");
    if (p->post && !p->file == !p->mix)
        return stt_seterr(err, errlen, STT_EINVAL, "POST needs exactly one of --file and --mix");
    if (!p->post && (p->file || p->mix))
        return stt_seterr(err, errlen, STT_EINVAL, "GET sends no audio: drop --file and --mix");
    if (p->trace && p->sweep_given && p->sweep.mode == STT_LOAD_CLOSED)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "--trace sets the arrivals: use --rate, "
                          "not --concurrency");
    if (p->trace && p->sweep.arrival != STT_ARRIVAL_TRACE &&
        p->sweep.arrival != STT_ARRIVAL_POISSON)
        return stt_seterr(err, errlen, STT_EINVAL, "--trace and --arrival exclude each other");
    if (p->find_max && !(p->search.slo_p95_s > 0))
        return stt_seterr(err, errlen, STT_EINVAL, "--find-max-rate needs --slo p95=SECONDS");
    if (p->find_max && p->search.repeats < 3)
        return stt_seterr(err, errlen, STT_EINVAL, "--probe-repeats must be at least 3");
    if (p->threads < 1 || p->max_inflight < 1 || !(p->timeout_s > 0))
        return stt_seterr(err, errlen, STT_EINVAL,
                          "threads, in-flight cap and timeout must be > 0");
    return 0;
}

/* The full URL: a URL without a path gets the route of the api (or /health for GET). */
static void resolve_url(const stt_loadbench_params *p, char *out, size_t len)
{
    const char *scheme = strstr(p->url, "://");
    const char *host = scheme ? scheme + 3 : p->url;
    const char *path = strchr(host, '/');
    if (path && path[1]) {
        snprintf(out, len, "%s", p->url);
        return;
    }
    const char *route = !p->post                         ? STT_ROUTE_HEALTH
                        : !strcmp(p->api, "whisper-cpp") ? STT_ROUTE_INFERENCE
                                                         : STT_ROUTE_TRANSCRIPTIONS;
    int hostlen = path ? (int)(path - p->url) : (int)strlen(p->url);
    snprintf(out, len, "%.*s%s", hostlen, p->url, route);
}

/* What a run holds: uploads, arrivals, results. */
typedef struct {
    char url[2048];
    stt_mix mix;
    stt_mix_files files;
    stt_upload *bodies;
    size_t nbodies;
    stt_trace trace;
    int *trace_body;
    stt_sweep sweep;
    int have_sweep;
    stt_maxrate search;
    int have_search;
    int servers;
    const char *servers_source;
} run_state;

static void state_free(run_state *s)
{
    for (size_t i = 0; s->bodies && i < s->nbodies; i++)
        stt_upload_free(&s->bodies[i]);
    free(s->bodies);
    stt_mix_free(&s->mix);
    stt_mix_files_free(&s->files);
    stt_trace_free(&s->trace);
    free(s->trace_body);
    if (s->have_sweep) stt_sweep_free(&s->sweep);
    if (s->have_search) stt_maxrate_free(&s->search);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The uploads: one file as a mix of one, or the mix's files with its weights. */
static int read_uploads(const stt_loadbench_params *p, run_state *s, char *err, size_t errlen)
{
    int rc;
    if (p->file) {
        s->mix.duration_s = calloc(1, sizeof(double));
        s->mix.weight = malloc(sizeof(double));
        s->files.path = calloc(1, sizeof(char *));
        s->files.name = calloc(1, sizeof(char *));
        s->files.format = calloc(1, sizeof(char *));
        if (!s->mix.duration_s || !s->mix.weight || !s->files.path || !s->files.name ||
            !s->files.format)
            return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        s->mix.n = s->files.n = 1;
        s->mix.weight[0] = 1;
        s->files.path[0] = strdup(p->file);
        s->files.name[0] = strdup(p->file);
        if (!s->files.path[0] || !s->files.name[0])
            return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    } else {
        stt_mix_params mp = p->mix_params;
        /* The server reports durations (X-Audio-Duration-S); a file libsndfile
         * cannot read is still an upload. */
        mp.require_durations = 0;
        if ((rc = stt_mix_read(p->mix, &mp, &s->mix, &s->files, err, errlen))) return rc;
    }
    s->bodies = calloc(s->mix.n, sizeof *s->bodies);
    if (!s->bodies) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->mix.n; i++) {
        if (!s->files.path[i])
            return stt_seterr(err, errlen, STT_EINVAL,
                              "%s names %s without a readable path: give a corpus manifest or a "
                              "PATH [WEIGHT] list",
                              p->mix, s->files.name[i]);
        double w = s->mix.weight[i];
        unsigned turns = w < 1 ? 1 : (unsigned)lround(w);
        if ((rc = stt_upload_read(s->files.path[i], turns, &s->bodies[i], err, errlen))) return rc;
        s->nbodies = i + 1;
        s->bodies[i].filename = base_name(s->files.path[i]);
        if (s->mix.duration_s[i] > 0)
            s->bodies[i].audio_s = s->mix.duration_s[i];
        else
            s->mix.duration_s[i] = s->bodies[i].audio_s;
        if (s->bodies[i].audio_s <= 0 && p->progress)
            fprintf(p->progress,
                    "sttbench load: cannot read the duration of %s; audio seconds count only what "
                    "the server reports in X-Audio-Duration-S\n",
                    s->bodies[i].filename);
    }
    return 0;
}

static int read_trace(const stt_loadbench_params *p, run_state *s, char *err, size_t errlen)
{
    int rc = stt_trace_read(p->trace, &s->trace, err, errlen);
    if (rc) return rc;
    if (s->trace.n < 2 || !(stt_trace_rate(&s->trace) > 0))
        return stt_seterr(err, errlen, STT_EINVAL,
                          "%s: a trace needs two arrivals or more, "
                          "spread in time",
                          p->trace);
    if (!p->post) return 0;
    s->trace_body = malloc(s->trace.n * sizeof *s->trace_body);
    if (!s->trace_body) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    return stt_trace_bind(&s->trace, &s->mix, &s->files, s->trace_body, err, errlen);
}

/* The server's workers for the model check, and where the number came from. */
static void find_servers(const stt_loadbench_params *p, run_state *s)
{
    if (p->server_workers > 0) {
        s->servers = p->server_workers;
        s->servers_source = "--server-workers";
        return;
    }
    char url[2100];
    const char *scheme = strstr(s->url, "://");
    const char *path = strchr(scheme ? scheme + 3 : s->url, '/');
    snprintf(url, sizeof url, "%.*s%s", path ? (int)(path - s->url) : (int)strlen(s->url), s->url,
             STT_ROUTE_METRICS);
    long status = 0;
    char *body = NULL;
    if (stt_client_get(url, 5, &status, &body) == 0 && status == 200) {
        double w = stt_client_metric(body, "sttd_workers");
        if (w >= 1) {
            s->servers = (int)w;
            s->servers_source = "sttd_workers of the server's /metrics";
        }
    }
    free(body);
    if (s->servers < 1) {
        stt_sysinfo si;
        stt_sysinfo_get(&si);
        s->servers = si.cpus_usable > 0 ? si.cpus_usable : 1;
        s->servers_source = "usable CPUs of this machine (sttd's default: one worker per CPU)";
    }
}

static json_t *config_json(const stt_loadbench_params *p, const run_state *s,
                           const stt_sweep_params *sp, int sweep)
{
    json_t *vals = json_array();
    for (int i = 0; sweep && i < sp->nvalues; i++)
        json_array_append_new(vals, stt_results_num(sp->values[i]));
    json_t *c = json_object();
    json_object_set_new(c, "url", json_string(s->url));
    json_object_set_new(c, "api", json_string(p->api));
    json_object_set_new(c, "method", json_string(p->post ? "POST" : "GET"));
    json_object_set_new(c, "file", p->file ? json_string(p->file) : json_null());
    json_object_set_new(c, "mix", p->mix ? json_string(p->mix) : json_null());
    json_object_set_new(c, "mix_weights",
                        p->mix_params.weights ? json_string(p->mix_params.weights) : json_null());
    json_object_set_new(c, "mix_formats",
                        p->mix_params.formats ? json_string(p->mix_params.formats) : json_null());
    json_object_set_new(c, "mix_max_duration_s", stt_results_num(p->mix_params.max_duration_s));
    json_object_set_new(c, "trace", p->trace ? json_string(p->trace) : json_null());
    json_object_set_new(c, "model", p->model ? json_string(p->model) : json_null());
    json_object_set_new(c, "mode", json_string(sp->mode == STT_LOAD_OPEN ? "open" : "closed"));
    json_object_set_new(c, "sweep",
                        json_string(!sweep                      ? "none"
                                    : sp->mode == STT_LOAD_OPEN ? "rate"
                                                                : "concurrency"));
    json_object_set_new(c, "values", vals);
    json_object_set_new(c, "arrival", json_string(stt_load_arrival_name(sp->arrival)));
    json_object_set_new(c, "duration_s", stt_results_num(sp->duration_s));
    json_object_set_new(c, "requests", json_integer(sp->requests));
    json_object_set_new(c, "warmup_s", stt_results_num(sp->warmup_s));
    json_object_set_new(c, "repeats", json_integer(sp->repeats));
    json_object_set_new(c, "max_extend", json_integer(sp->max_extend));
    json_object_set_new(c, "seed", json_integer((json_int_t)sp->seed));
    json_object_set_new(c, "threads", json_integer(p->threads));
    json_object_set_new(c, "timeout_s", stt_results_num(p->timeout_s));
    json_object_set_new(c, "max_inflight", json_integer(p->max_inflight));
    json_object_set_new(c, "retry_after", json_boolean(p->retry_after));
    json_object_set_new(c, "find_max_rate", json_boolean(p->find_max));
    json_object_set_new(c, "slo_p95_s", stt_results_num(p->find_max ? p->search.slo_p95_s : 0));
    json_object_set_new(c, "error_budget", stt_results_num(p->search.error_budget));
    json_object_set_new(c, "probe_repeats", json_integer(p->search.repeats));
    json_object_set_new(c, "min_requests", json_integer(p->search.min_requests));
    json_object_set_new(c, "start_rate", stt_results_num(p->search.start_rate));
    json_object_set_new(c, "server_workers", json_integer(s->servers));
    json_object_set_new(c, "server_workers_source",
                        s->servers_source ? json_string(s->servers_source) : json_null());
    json_t *ups = json_array();
    for (size_t i = 0; i < s->nbodies; i++)
        json_array_append_new(ups, json_pack("{s:s, s:o, s:o, s:I}", "file", s->bodies[i].filename,
                                             "weight", stt_results_num(s->mix.weight[i]), "audio_s",
                                             stt_results_num(s->bodies[i].audio_s), "bytes",
                                             (json_int_t)s->bodies[i].len));
    json_object_set_new(c, "uploads", ups);
    return c;
}

int stt_loadbench_run(const stt_loadbench_params *p, FILE *out, char *err, size_t errlen)
{
    int rc = stt_loadbench_check(p, err, errlen);
    if (rc) return rc;
    run_state s;
    memset(&s, 0, sizeof s);
    resolve_url(p, s.url, sizeof s.url);
    if (p->post && (rc = read_uploads(p, &s, err, errlen))) goto done;
    if (p->trace && (rc = read_trace(p, &s, err, errlen))) goto done;

    stt_load_params lp = stt_load_default_params();
    lp.url = s.url;
    lp.post = p->post;
    lp.model = p->model;
    lp.bodies = s.bodies;
    lp.nbodies = s.nbodies;
    lp.weights = p->post ? s.mix.weight : NULL;
    lp.threads = p->threads;
    lp.timeout_s = p->timeout_s;
    lp.max_inflight = p->max_inflight;
    lp.retry_after = p->retry_after;

    stt_sweep_params sp = p->sweep;
    sp.load = &lp;
    sp.progress = p->progress;
    if (p->trace) {
        /* The trace drives every open loop: the rate sweep, the search. */
        sp.trace_at_s = s.trace.at_s;
        sp.trace_body = s.trace_body;
        sp.ntrace = s.trace.n;
        sp.arrival = STT_ARRIVAL_TRACE;
        if (!p->sweep_given) {
            sp.mode = STT_LOAD_OPEN;
            sp.values[0] = stt_trace_rate(&s.trace);
            sp.nvalues = 1;
        }
    }
    /* --find-max-rate alone searches; with a sweep given it sweeps first. */
    int sweep = p->sweep_given || !p->find_max;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    fprintf(out, "sttbench load: %s %s, %d generator thread(s)\n", p->post ? "POST" : "GET", s.url,
            p->threads);
    if (sweep) {
        if (sp.mode == STT_LOAD_OPEN && sp.arrival == STT_ARRIVAL_CONSTANT)
            fprintf(out, "note: constant arrivals never queue below capacity; capacity figures "
                         "need Poisson arrivals (the default) or a trace\n");
        if ((rc = stt_sweep_run(&sp, &s.sweep, err, errlen))) goto cleanup;
        s.have_sweep = 1;
        find_servers(p, &s);
        if ((rc = stt_sweep_check_model(&s.sweep, s.servers, sp.seed, err, errlen))) goto cleanup;
        stt_sweep_print(&s.sweep, out);
    }
    if (p->find_max) {
        stt_maxrate_params mp = p->search;
        mp.m = sp;
        fprintf(out, "searching the highest rate with p95 <= %g s (%s arrivals, %d runs a probe)\n",
                mp.slo_p95_s, stt_load_arrival_name(mp.m.arrival), mp.repeats);
        if ((rc = stt_maxrate_search(&mp, &s.search, err, errlen))) goto cleanup;
        s.have_search = 1;
        if (s.have_sweep && (rc = stt_maxrate_check_model(&s.search, &s.sweep.service, s.servers,
                                                          sp.seed, err, errlen)))
            goto cleanup;
        stt_maxrate_print(&s.search, out);
    }
    if (p->out) {
        json_t *doc =
            stt_sweep_json(s.have_sweep ? &s.sweep : NULL, s.have_search ? &s.search : NULL,
                           config_json(p, &s, &sp, sweep));
        if (!doc) {
            rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
            goto cleanup;
        }
        char title[2200];
        snprintf(title, sizeof title, "Load test of %s", s.url);
        int charts = 0;
        rc = stt_sweep_write_all(p->out, doc, s.have_sweep ? &s.sweep : NULL,
                                 s.have_search ? &s.search : NULL, title, &charts, err, errlen);
        json_decref(doc);
        if (!rc) {
            if (s.have_sweep && !charts && p->progress)
                fprintf(p->progress,
                        "sttbench load: charts not drawn (gnuplot missing or "
                        "failed; data and script are in %s)\n",
                        p->out);
            fprintf(out, "results in %s/load.json and %s/load_report.md\n", p->out, p->out);
        }
    }
cleanup:
    curl_global_cleanup();
done:
    state_free(&s);
    return rc;
}

int stt_loadbench_trace_from_log(const char *log_path, FILE *f, char *err, size_t errlen)
{
    FILE *log = fopen(log_path, "r");
    if (!log) return stt_seterr(err, errlen, STT_EIO, "cannot open %s", log_path);
    stt_trace t;
    int rc = stt_trace_from_sttd_log(log, &t, err, errlen);
    fclose(log);
    if (rc) return rc;
    rc = stt_trace_write(&t, f);
    stt_trace_free(&t);
    if (rc) stt_seterr(err, errlen, rc, "cannot write the trace");
    return rc;
}
