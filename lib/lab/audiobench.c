/* audiobench: see audiobench.h. This file runs the measurement; the plan,
 * the figures and the outputs are in audiobench_{plan,fit,output}.c. */
#include "audiobench.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "audiobench_internal.h"
#include "clock.h"
#include "error.h"
#include "proc.h"
#include "results.h"
#include "sut.h"

stt_audiobench_params stt_audiobench_default_params(void)
{
    return (stt_audiobench_params){
        .corpus = NULL,
        .out = NULL,
        .url = NULL,
        .api = "openai",
        .profiles = "fast,balanced,accurate",
        .max_duration_s = 600,
        .repeat = 5,
        .quick = 0,
        .quick_max_s = 30,
        .warmup = 1,
        .spawn = 0,
        .server_command = NULL,
        .port = 0,
        .workers = 0,
        .threads = 0,
        .server_pid = 0,
        .sample_ms = 50,
        .timeout_s = 3600,
        .seed = 1,
    };
}

void stt_audiobench_free(stt_audiobench *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nres; i++)
        free(b->res[i].hypothesis);
    free(b->res);
    for (size_t i = 0; b->uploads && i < b->nfiles; i++)
        stt_upload_free(&b->uploads[i]);
    free(b->uploads);
    free(b->files);
    free(b->skips);
    free(b->reasons);
    stt_corpus_free_entries(b->ent, b->nent);
    free(b->profiles_buf);
    free(b);
}

static int check_params(const stt_audiobench_params *p, char *err, size_t errlen)
{
    if (!p->corpus || !p->out)
        return stt_seterr(err, errlen, STT_EINVAL, "a corpus and an output folder are needed");
    if (!p->url && !p->spawn)
        return stt_seterr(err, errlen, STT_EINVAL, "a server URL or spawn is needed");
    if (!p->api || (strcmp(p->api, "openai") && strcmp(p->api, "whisper-cpp")))
        return stt_seterr(err, errlen, STT_EINVAL, "api must be openai or whisper-cpp");
    if (p->repeat < 1 || p->repeat > STT_AUDIOBENCH_MAX_REPEAT)
        return stt_seterr(err, errlen, STT_EINVAL, "repeat must be 1 to %d",
                          STT_AUDIOBENCH_MAX_REPEAT);
    if (!(p->sample_ms >= 1) || !(p->timeout_s > 0) || !isfinite(p->max_duration_s))
        return stt_seterr(err, errlen, STT_EINVAL, "bad sampling interval, timeout or limit");
    return 0;
}

/* The profiles of p, split; the first only under quick. */
static int split_profiles(stt_audiobench *b, char *err, size_t errlen)
{
    b->profiles_buf = strdup(b->p.profiles ? b->p.profiles : "");
    if (!b->profiles_buf) return STT_ENOMEM;
    for (char *save = NULL, *t = strtok_r(b->profiles_buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (b->nprofiles == STT_AUDIOBENCH_MAX_PROFILES)
            return stt_seterr(err, errlen, STT_EINVAL, "at most %d profiles",
                              STT_AUDIOBENCH_MAX_PROFILES);
        b->profile[b->nprofiles++] = t;
    }
    if (!b->nprofiles) return stt_seterr(err, errlen, STT_EINVAL, "no profile given");
    if (b->p.quick) b->nprofiles = 1;
    return 0;
}

/* Loads the corpus, sorts its entries into measured and skipped, and reads
 * the measured files into memory. */
static int plan(stt_audiobench *b, char *err, size_t errlen)
{
    int rc = stt_corpus_load_all(b->p.corpus, &b->ent, &b->nent, err, errlen);
    if (rc) return rc;
    b->files = calloc(b->nent + 1, sizeof *b->files);
    b->uploads = calloc(b->nent + 1, sizeof *b->uploads);
    b->skips = calloc(b->nent + 1, sizeof *b->skips);
    b->reasons = calloc(b->nent + 1, sizeof *b->reasons);
    if (!b->files || !b->uploads || !b->skips || !b->reasons) return STT_ENOMEM;
    for (size_t i = 0; i < b->nent; i++) {
        const stt_corpus_entry *e = &b->ent[i];
        stt_audiobench_selection s = stt_audiobench_select(&b->p, e);
        if (s != STT_AUDIOBENCH_MEASURED) {
            stt_audiobench_skip *k = &b->skips[b->nskips];
            k->file = e->file;
            k->duration_s = e->duration_s;
            k->why = s;
            k->reason =
                stt_audiobench_reason(&b->p, s, b->reasons[b->nskips], sizeof b->reasons[0]);
            b->nskips++;
            continue;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", b->p.corpus, e->file);
        if ((rc = stt_upload_read(path, 1, &b->uploads[b->nfiles], err, errlen))) return rc;
        /* The upload borrows its name from the path: give it the entry's,
         * which lives as long as the benchmark. */
        const char *slash = strrchr(e->file, '/');
        b->uploads[b->nfiles].filename = slash ? slash + 1 : e->file;
        b->files[b->nfiles++] = e;
    }
    b->nres = b->nfiles * (size_t)b->nprofiles;
    b->res = calloc(b->nres + 1, sizeof *b->res);
    if (!b->res) return STT_ENOMEM;
    for (size_t f = 0; f < b->nfiles; f++)
        for (int p = 0; p < b->nprofiles; p++) {
            ab_result *r = &b->res[f * (size_t)b->nprofiles + (size_t)p];
            r->file = f;
            r->profile = p;
            r->process_from_server = 1;
            r->v.file = b->files[f]->file;
            r->v.format = b->files[f]->format;
            r->v.profile = b->profile[p];
            r->v.duration_s = b->files[f]->duration_s;
            r->v.reference_format = ab_reference_format(b->files[f]);
            for (int k = 0; k < STT_AUDIOBENCH_MAX_REPEAT; k++)
                r->round_process[k] = NAN;
        }
    return 0;
}

static stt_sut *spawn(stt_audiobench *b, char *err, size_t errlen)
{
    const char *cmd = b->p.server_command;
    if (!cmd) {
        snprintf(b->server_command, sizeof b->server_command,
                 "{bin}/sttd --host {host} --port {port}%s%s",
                 b->p.workers > 0 ? " --workers {workers}" : "",
                 b->p.threads > 0 ? " --threads {threads}" : "");
        cmd = b->server_command;
    }
    char log[PATH_MAX];
    /* The server's log goes to a file so that it does not interleave with ours. */
    snprintf(log, sizeof log, "%s/sttd.log", b->p.out);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = cmd;
    sp.port = b->p.port;
    sp.workers = b->p.workers;
    sp.threads = b->p.threads;
    sp.log_path = log;
    stt_sut *s = stt_sut_start(&sp, err, errlen);
    if (s) snprintf(b->server_command, sizeof b->server_command, "%s", stt_sut_command(s));
    return s;
}

/* One request of result r in round `round` (< 0: the unmeasured warm-up). */
static void measure(stt_audiobench *b, ab_result *r, int round)
{
    const stt_corpus_entry *e = b->files[r->file];
    stt_client_params cp = stt_client_default_params();
    cp.route = strcmp(b->p.api, "whisper-cpp") ? STT_ROUTE_TRANSCRIPTIONS : STT_ROUTE_INFERENCE;
    cp.profile = b->profile[r->profile];
    cp.timeout_s = b->p.timeout_s;
    stt_memusage before = {0}, peak = {0};
    stt_memsampler *ms = NULL;
    if (b->memory && round >= 0) {
        stt_proc_mem_tree((pid_t)b->p.server_pid, &before, NULL, 0);
        ms = stt_memsampler_start((pid_t)b->p.server_pid, b->p.sample_ms, NULL, 0);
    }
    stt_client_reply rep;
    int rc = stt_client_transcribe(b->url, &b->uploads[r->file], &cp, &rep);
    int samples = 0;
    if (ms) stt_memsampler_stop(ms, &peak, &samples);
    if (round < 0) {
        stt_client_reply_free(&rep);
        return;
    }
    r->v.n++;
    r->http_status = rep.status;
    if (rc || !rep.text) {
        b->failures++;
        snprintf(r->error, sizeof r->error, "%s", rep.error[0] ? rep.error : "no text");
        stt_client_reply_free(&rep);
        return;
    }
    int k = r->n_ok++;
    r->wall[k] = rep.elapsed_s;
    int from_server = isfinite(rep.process_ms);
    r->process_from_server &= from_server;
    r->process[k] = from_server ? rep.process_ms / 1000.0 : rep.elapsed_s;
    r->queue[k] = isfinite(rep.queue_ms) ? rep.queue_ms / 1000.0 : 0;
    r->pieces[k] = rep.pieces;
    r->round_ok[round] = 1;
    r->round_process[round] = r->process[k];
    if (ms && samples > 0) {
        int m = r->n_mem++;
        r->peak_rss[m] = (double)peak.rss;
        r->peak_pss[m] = (double)peak.pss;
        r->added_pss[m] = (double)(peak.pss - before.pss);
    }
    if (!r->have_wer && stt_wer_align_text(e->reference, rep.text, 1, &r->wer) == 0) {
        r->have_wer = 1;
        r->hypothesis = rep.text;
        rep.text = NULL;
    }
    stt_client_reply_free(&rep);
}

/* Every round visits every pair in its own order; before the first, one
 * unmeasured request per profile on the shortest file pays for lazy set-up. */
static int measure_all(stt_audiobench *b, stt_audiobench_progress_fn progress, void *arg)
{
    if (b->p.warmup && b->nfiles) {
        size_t shortest = 0;
        for (size_t f = 1; f < b->nfiles; f++)
            if (b->files[f]->duration_s < b->files[shortest]->duration_s) shortest = f;
        for (int p = 0; p < b->nprofiles; p++)
            measure(b, &b->res[shortest * (size_t)b->nprofiles + (size_t)p], -1);
    }
    size_t *order = calloc(b->nres + 1, sizeof *order);
    if (!order) return STT_ENOMEM;
    size_t total = b->nres * (size_t)b->p.repeat, done = 0;
    double t0 = stt_now_s(), work = 0, work_done = 0;
    for (size_t i = 0; i < b->nres; i++)
        work += b->res[i].v.duration_s * b->p.repeat;
    for (int round = 0; round < b->p.repeat; round++) {
        stt_audiobench_round_order(b->p.seed, round, b->nres, order);
        for (size_t i = 0; i < b->nres; i++, done++) {
            ab_result *r = &b->res[order[i]];
            if (progress) {
                double el = stt_now_s() - t0;
                stt_audiobench_progress pr = {done,
                                              total,
                                              r->v.file,
                                              r->v.profile,
                                              round,
                                              el,
                                              work_done > 0 ? el * (work - work_done) / work_done
                                                            : NAN};
                progress(arg, &pr);
            }
            measure(b, r, round);
            work_done += r->v.duration_s;
        }
    }
    free(order);
    return 0;
}

int stt_audiobench_run(const stt_audiobench_params *p, stt_audiobench_progress_fn progress,
                       void *arg, stt_audiobench **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_params(p, err, errlen);
    if (rc) return rc;
    stt_audiobench *b = calloc(1, sizeof *b);
    if (!b) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    b->p = *p;
    double t0 = stt_now_s();
    stt_sut *server = NULL;
    if (!(rc = split_profiles(b, err, errlen)) && !(rc = plan(b, err, errlen)) &&
        stt_results_mkdirs(p->out))
        rc = stt_seterr(err, errlen, STT_EIO, "cannot create %s", p->out);
    if (!rc && p->spawn) {
        if (!(server = spawn(b, err, errlen)))
            rc = STT_EIO;
        else
            b->p.server_pid = (int)stt_sut_pid(server);
    }
    if (!rc) {
        snprintf(b->url, sizeof b->url, "%s", server ? stt_sut_url(server) : p->url);
        b->p.url = b->url;
        b->memory = b->p.server_pid > 0;
        rc = measure_all(b, progress, arg);
    }
    if (server) stt_sut_stop(server, 10);
    if (!rc) {
        b->elapsed_s = stt_now_s() - t0;
        ab_analyse(b);
        rc = ab_write_outputs(b, err, errlen);
    }
    if (rc) {
        if (rc == STT_ENOMEM) stt_seterr(err, errlen, rc, "out of memory");
        stt_audiobench_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* ---- views ---- */

size_t stt_audiobench_result_count(const stt_audiobench *b)
{
    return b->nres;
}

const stt_audiobench_result *stt_audiobench_result_at(const stt_audiobench *b, size_t i)
{
    return i < b->nres ? &b->res[i].v : NULL;
}

size_t stt_audiobench_profile_count(const stt_audiobench *b)
{
    return (size_t)b->nprofiles;
}

const stt_audiobench_profile *stt_audiobench_profile_at(const stt_audiobench *b, size_t i)
{
    return i < (size_t)b->nprofiles ? &b->rows[i] : NULL;
}

const stt_audiobench_fit *stt_audiobench_fit_of(const stt_audiobench *b, size_t profile,
                                                const char *y)
{
    for (int k = 0; profile < (size_t)b->nprofiles && y && k < AB_NFITS; k++)
        if (!strcmp(ab_fit_y[k], y)) return &b->fits[profile][k];
    return NULL;
}

size_t stt_audiobench_skip_count(const stt_audiobench *b)
{
    return b->nskips;
}

const stt_audiobench_skip *stt_audiobench_skip_at(const stt_audiobench *b, size_t i)
{
    return i < b->nskips ? &b->skips[i] : NULL;
}

int stt_audiobench_failures(const stt_audiobench *b)
{
    return b->failures;
}

int stt_audiobench_memory_sampled(const stt_audiobench *b)
{
    return b->memory;
}

double stt_audiobench_elapsed_s(const stt_audiobench *b)
{
    return b->elapsed_s;
}
