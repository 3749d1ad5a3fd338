/* servicebench_parts: the six measurements of the service benchmark. Every
 * timed part measures sttd and its baseline in the same round, one after
 * the other, and takes their ratio per round. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "proc.h"
#include "results.h"
#include "servicebench_internal.h"

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) && errno == EINTR) {
    }
}

/* A request (or several in a row) on a thread of its own. */
typedef struct async_post {
    pthread_t th;
    const char *url;
    const sb_input *in;
    const char *profile;
    int threads, count;
    double start_s, end_s;
    int ok;
    char error[256];
} async_post;

static void *async_run(void *arg)
{
    async_post *a = arg;
    a->start_s = stt_now_s();
    for (int i = 0; i < a->count; i++) {
        double w;
        if (sb_post(a->url, a->in, a->profile, a->threads, &w, NULL, a->error, sizeof a->error) ==
            0)
            a->ok++;
    }
    a->end_s = stt_now_s();
    return NULL;
}

/* Per-utterance word errors for `sttbench compare`'s paired test. */
static void add_accuracy(stt_servicebench *b, const char *name, const char *const *ids,
                         const stt_wer_counts *c, size_t n)
{
    int errs[16], words[16];
    for (size_t i = 0; i < n && i < 16; i++) {
        errs[i] = (int)stt_wer_errors(&c[i]);
        words[i] = (int)c[i].ref_words;
    }
    stt_results_add_accuracy(b->doc, name, ids, errs, words, n < 16 ? n : 16);
}

/* 1. Overhead: one 24.7 s request to a one-worker, one-thread server against
 * sttraw's decode of the same samples, alternating in each round. */
int sb_part_overhead(stt_servicebench *b, char *err, size_t errlen)
{
    const char *args[] = {"--workers", "1", "--threads", "1", "--profiles", "balanced", NULL};
    stt_sut *sv = sb_server(b, "overhead", args, err, errlen);
    if (!sv) return STT_EIO;
    double w;
    char *text = NULL;
    sb_post(stt_sut_url(sv), &b->cat, "balanced", 0, &w, &text, err, errlen); /* warm-up */
    free(text);
    sb_series req = {0}, dec = {0}, wall = {0}, ratio = {0};
    stt_wer_counts w_sttd = {0}, w_raw = {0};
    int rc = 0;
    for (int i = 0; i < b->p.repeat && !rc; i++) {
        sb_progress(b, 1, "overhead: round %d/%d", i + 1, b->p.repeat);
        double r, d, wl;
        char *hyp = NULL;
        if ((rc = sb_post(stt_sut_url(sv), &b->cat, "balanced", 0, &r, &text, err, errlen))) break;
        if (i == 0) sb_score(b->cat.reference, text, &w_sttd);
        free(text);
        if ((rc = sb_sttraw(b, b->cat.path, &d, &hyp, &wl, err, errlen))) break;
        if (i == 0) sb_score(b->cat.reference, hyp, &w_raw);
        free(hyp);
        sb_add(&req, r);
        sb_add(&dec, d);
        sb_add(&wall, wl);
        sb_add(&ratio, r / d);
    }
    stt_sut_stop(sv, 10);
    if (rc) return rc;
    json_object_set_new(b->measurements, "overhead",
                        json_pack("{s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "file",
                                  "librivox_cat.wav", "audio_s", b->cat.audio_s, "server",
                                  "--workers 1 --threads 1 --profiles balanced", "sttd_request_s",
                                  sb_series_json(&req, "s"), "sttraw_decode_s",
                                  sb_series_json(&dec, "s"), "sttraw_wall_s",
                                  sb_series_json(&wall, "s"), "per_round_ratio",
                                  sb_series_json(&ratio, "x"), "sttd_wer", sb_wer_json(&w_sttd),
                                  "sttraw_wer", sb_wer_json(&w_raw)));
    sb_metric(b, "overhead_ratio", "x", 0, &ratio);
    sb_metric(b, "request_s/sttd/librivox_cat", "s", 0, &req);
    sb_metric(b, "decode_s/sttraw/librivox_cat", "s", 0, &dec);
    stt_summary r = sb_summary(&req), d = sb_summary(&dec);
    sb_timed_target(b, "1 overhead", "<= 1.05x", 1.05, 0, &ratio, "x",
                    "sttd %.2f s [%.2f, %.2f] / sttraw decode %.2f s [%.2f, %.2f]", r.median,
                    r.median_ci.lo, r.median_ci.hi, d.median, d.median_ci.lo, d.median_ci.hi);
    return 0;
}

/* 2. Accuracy and speed per profile on the five clips, the profiles in a
 * different order each round, against pocketsphinx_continuous. */
int sb_part_accuracy(stt_servicebench *b, char *err, size_t errlen)
{
    const char *args[] = {"--workers", "1", "--threads", "1", NULL};
    stt_sut *sv = sb_server(b, "accuracy", args, err, errlen);
    if (!sv) return STT_EIO;
    sb_series rtf[3] = {{{0}, 0}};
    stt_wer_counts w[3] = {{0}}, per[3][SB_CLIPS];
    memset(per, 0, sizeof per);
    json_t *hyps[3] = {json_array(), json_array(), json_array()};
    int rc = 0;
    double audio = 0;
    for (int i = 0; i < SB_CLIPS; i++)
        audio += b->clips[i].audio_s;
    for (int p = 0; p < 3; p++) { /* warm-up of each profile */
        double wl;
        char *text = NULL;
        sb_post(stt_sut_url(sv), &b->clips[SB_SHORT_CLIP], sb_profiles[p], 0, &wl, &text, err,
                errlen);
        free(text);
    }
    for (int k = 0; k < b->p.repeat && !rc; k++) {
        for (int j = 0; j < 3 && !rc; j++) {
            int p = (j + k) % 3; /* rotating order: no profile always first */
            double busy = 0;
            for (int i = 0; i < SB_CLIPS && !rc; i++) {
                sb_progress(b, 2, "accuracy: round %d/%d, %s, clip %d", k + 1, b->p.repeat,
                            sb_profiles[p], i + 1);
                double wl;
                char *text = NULL;
                rc = sb_post(stt_sut_url(sv), &b->clips[i], sb_profiles[p], 0, &wl, &text, err,
                             errlen);
                if (rc) break;
                busy += wl;
                if (k == 0) {
                    per[p][i] = sb_score(b->clips[i].reference, text, &w[p]);
                    json_array_append_new(hyps[p], json_string(text));
                }
                free(text);
            }
            if (!rc) sb_add(&rtf[p], busy / audio);
        }
    }
    stt_sut_stop(sv, 10);
    stt_wer_counts wc = {0}, perc[SB_CLIPS];
    sb_series cwall = {0};
    json_t *chyps = json_array();
    for (int i = 0; i < SB_CLIPS && !rc; i++) {
        sb_progress(b, 2, "accuracy: pocketsphinx_continuous, clip %d", i + 1);
        char *text = NULL;
        double wl;
        if ((rc = sb_continuous(b->clips[i].path, &text, &wl, err, errlen))) break;
        perc[i] = sb_score(b->clips[i].reference, text, &wc);
        json_array_append_new(chyps, json_string(text));
        sb_add(&cwall, wl);
        free(text);
    }
    if (rc) {
        for (int p = 0; p < 3; p++)
            json_decref(hyps[p]);
        json_decref(chyps);
        return rc;
    }
    json_t *jp = json_object();
    char line[200] = "";
    for (int p = 0; p < 3; p++) {
        stt_summary s = sb_summary(&rtf[p]);
        json_object_set_new(jp, sb_profiles[p],
                            json_pack("{s:o, s:o, s:o, s:f, s:o}", "rtf",
                                      sb_series_json(&rtf[p], "s/s"), "rtfx_median",
                                      stt_results_num(1 / s.median), "wer", sb_wer_json(&w[p]),
                                      "audio_s", audio, "hypotheses", hyps[p]));
        char name[64];
        snprintf(name, sizeof name, "rtf/%s/clips", sb_profiles[p]);
        sb_metric(b, name, "s/s", 0, &rtf[p]);
        snprintf(name, sizeof name, "wer/%s/clips", sb_profiles[p]);
        add_accuracy(b, name, sb_clip_ids, per[p], SB_CLIPS);
        size_t l = strlen(line);
        snprintf(line + l, sizeof line - l, "%s%s %.1f%% RTF %.3f [%.3f, %.3f]", p ? "; " : "",
                 sb_profiles[p], 100 * stt_wer_rate(&w[p]), s.median, s.median_ci.lo,
                 s.median_ci.hi);
    }
    add_accuracy(b, "wer/pocketsphinx_continuous/clips", sb_clip_ids, perc, SB_CLIPS);
    json_object_set_new(b->measurements, "accuracy",
                        json_pack("{s:s, s:o, s:{s:o, s:o, s:o}}", "server",
                                  "--workers 1 --threads 1 (one core per request)", "profiles", jp,
                                  "pocketsphinx_continuous", "wer", sb_wer_json(&wc),
                                  "wall_s_per_clip", sb_series_json(&cwall, "s"), "hypotheses",
                                  chyps));
    double wb = stt_wer_rate(&w[1]), wr = stt_wer_rate(&wc);
    sb_count_target(b, "2 accuracy", "balanced <= ref + 1 pt",
                    wb <= wr + 0.01 ? STT_SERVICE_PASS : STT_SERVICE_FAIL,
                    "balanced %.1f%% vs pocketsphinx_continuous %.1f%% (exact counts: %d "
                    "utterances, %zu words)",
                    100 * wb, 100 * wr, SB_CLIPS, wc.ref_words);
    sb_count_target(b, "2 profiles (info)", "speed/accuracy", STT_SERVICE_INFO, "%s", line);
    return 0;
}

/* The memory of one server tree after its workers decoded: the 7.1 s clip
 * as single-thread requests, 4 at once, until every worker has decoded (at
 * most 3 rounds); *pss gets the median of five readings 0.2 s apart. */
static int memory_of(stt_servicebench *b, int workers, double *pss, json_t **detail, char *err,
                     size_t errlen)
{
    char w[16], name[32];
    snprintf(w, sizeof w, "%d", workers);
    snprintf(name, sizeof name, "memory_w%d", workers);
    const char *args[] = {"--workers", w, "--queue", "8", "--profiles", "balanced", NULL};
    stt_sut *sv = sb_server(b, name, args, err, errlen);
    if (!sv) return STT_EIO;
    int rc = 0, decoded = 0, nk = 0;
    pid_t kids[64];
    for (int round = 0; round < 3 && decoded < workers && !rc; round++) {
        async_post a[4];
        memset(a, 0, sizeof a);
        for (int i = 0; i < 4; i++) {
            a[i] = (async_post){.url = stt_sut_url(sv),
                                .in = &b->clips[SB_MEMORY_CLIP],
                                .profile = "balanced",
                                .threads = 1,
                                .count = 1};
            pthread_create(&a[i].th, NULL, async_run, &a[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(a[i].th, NULL);
            if (!a[i].ok && !rc)
                rc = stt_seterr(err, errlen, STT_EIO, "memory request: %s", a[i].error);
        }
        nk = stt_proc_leaves(stt_sut_pid(sv), kids, 64);
        decoded = 0;
        for (int i = 0; i < nk; i++) {
            double cpu = NAN;
            stt_proc_cpu_s(kids[i], &cpu);
            /* Decoding the 7.1 s clip once costs a worker well over 0.3 s of CPU. */
            decoded += cpu > 0.3;
        }
    }
    sleep_s(0.3);
    sb_series readings = {0};
    stt_memusage m = {0};
    for (int i = 0; i < 5; i++) {
        if (stt_proc_mem_tree(stt_sut_pid(sv), &m, NULL, 0) == 0) sb_add(&readings, (double)m.pss);
        sleep_s(0.2);
    }
    stt_sut_stop(sv, 10);
    *pss = sb_summary(&readings).median;
    *detail =
        json_pack("{s:i, s:i, s:i, s:o}", "workers", workers, "processes", m.processes,
                  "workers_that_decoded", decoded, "pss_bytes", sb_series_json(&readings, "bytes"));
    if (!rc && decoded < workers)
        rc = stt_seterr(err, errlen, STT_EIO, "only %d of %d workers decoded", decoded, workers);
    return rc;
}

/* 3. PSS per additional worker: 1 against 4 workers, the two servers
 * alternating, one difference per round. */
int sb_part_memory(stt_servicebench *b, char *err, size_t errlen)
{
    sb_series p1 = {0}, p4 = {0}, per = {0};
    json_t *rounds = json_array();
    int rc = 0;
    for (int i = 0; i < b->p.repeat && !rc; i++) {
        double a = NAN, c = NAN;
        json_t *d1 = NULL, *d4 = NULL;
        sb_progress(b, 3, "memory: round %d/%d, 1 worker", i + 1, b->p.repeat);
        rc = memory_of(b, 1, &a, &d1, err, errlen);
        if (!rc) {
            sb_progress(b, 3, "memory: round %d/%d, 4 workers", i + 1, b->p.repeat);
            rc = memory_of(b, 4, &c, &d4, err, errlen);
        }
        json_array_append_new(rounds, json_pack("{s:o, s:o}", "workers_1", d1 ? d1 : json_null(),
                                                "workers_4", d4 ? d4 : json_null()));
        if (rc) break;
        sb_add(&p1, a);
        sb_add(&p4, c);
        sb_add(&per, (c - a) / 3);
    }
    json_object_set_new(
        b->measurements, "memory",
        json_pack("{s:s, s:o, s:o, s:o, s:o}", "method",
                  "PSS summed over sttd and its descendants after every worker decoded "
                  "(threads=1 requests of the 7.1 s clip, 4 at once); 1 and 4 workers alternate",
                  "pss_1_worker_bytes", sb_series_json(&p1, "bytes"), "pss_4_workers_bytes",
                  sb_series_json(&p4, "bytes"), "per_additional_worker_bytes",
                  sb_series_json(&per, "bytes"), "rounds", rounds));
    if (rc) return rc;
    sb_metric(b, "pss_per_worker_bytes", "bytes", 0, &per);
    /* The goal is in MB (10^6 bytes); the verdict compares the per-round
     * values against it in bytes. */
    stt_summary s = sb_summary(&per), a = sb_summary(&p1), c = sb_summary(&p4);
    sb_series per_mb = per;
    for (size_t i = 0; i < per_mb.n; i++)
        per_mb.v[i] /= 1e6;
    sb_timed_target(b, "3 memory/worker", "<= 40 MB", 40, 0, &per_mb, " MB",
                    "PSS 1 worker %.1f MB, 4 workers %.1f MB: %.1f MB per extra worker",
                    a.median / 1e6, c.median / 1e6, s.median / 1e6);
    return 0;
}

/* 4. One long request with threads=1 and threads=2, alternating. */
int sb_part_threads(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen)
{
    sb_series t1 = {0}, t2 = {0}, sp = {0};
    stt_wer_counts w1 = {0}, w2 = {0}, wr = {0};
    for (int i = 0; i < b->p.repeat; i++) {
        double t[3];
        for (int th = 1; th <= 2; th++) {
            sb_progress(b, 4, "one request on 2 cores: round %d/%d, threads=%d", i + 1, b->p.repeat,
                        th);
            char *text = NULL;
            int rc =
                sb_post(stt_sut_url(sv), &b->longf, "balanced", th, &t[th], &text, err, errlen);
            if (rc) return rc;
            if (i == 0) sb_score(b->longf.reference, text, th == 1 ? &w1 : &w2);
            free(text);
        }
        sb_add(&t1, t[1]);
        sb_add(&t2, t[2]);
        sb_add(&sp, t[1] / t[2]);
    }
    sb_progress(b, 4, "one request on 2 cores: sttraw, the whole file as one utterance");
    double d, wl;
    char *hyp = NULL;
    int rc = sb_sttraw(b, b->longf.path, &d, &hyp, &wl, err, errlen);
    if (rc) return rc;
    sb_score(b->longf.reference, hyp, &wr);
    free(hyp);
    json_object_set_new(
        b->measurements, "threads",
        json_pack("{s:s, s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o}}", "file",
                  b->longf.path, "source", b->long_source, "audio_s", b->longf.audio_s, "server",
                  "--workers 2 --profiles balanced; request field threads=1 or 2", "threads_1_s",
                  sb_series_json(&t1, "s"), "threads_2_s", sb_series_json(&t2, "s"),
                  "per_round_speedup", sb_series_json(&sp, "x"), "wer_threads_1", sb_wer_json(&w1),
                  "wer_threads_2", sb_wer_json(&w2), "sttraw_whole_wer", sb_wer_json(&wr),
                  "sttraw_whole", "decode_s", stt_results_num(d), "wall_s", stt_results_num(wl)));
    sb_metric(b, "request_s/long/threads_1", "s", 0, &t1);
    sb_metric(b, "request_s/long/threads_2", "s", 0, &t2);
    sb_metric(b, "speedup/threads_2", "x", 1, &sp);
    const char *long_id[1] = {"long"};
    add_accuracy(b, "wer/long/threads_2", long_id, &w2, 1);
    add_accuracy(b, "wer/long/sttraw_whole", long_id, &wr, 1);
    stt_summary a = sb_summary(&t1), c = sb_summary(&t2);
    sb_timed_target(b, "4 speedup 2 cores", ">= 1.8x", 1.8, 1, &sp, "x",
                    "threads=1 %.1f s [%.1f, %.1f], threads=2 %.1f s [%.1f, %.1f]", a.median,
                    a.median_ci.lo, a.median_ci.hi, c.median, c.median_ci.lo, c.median_ci.hi);
    double dw = stt_wer_rate(&w2) - stt_wer_rate(&wr);
    sb_count_target(
        b, "4 long-file WER", "<= raw + 1 pt", dw <= 0.01 ? STT_SERVICE_PASS : STT_SERVICE_FAIL,
        "sttd %.1f%% (threads=1 %.1f%%) vs sttraw whole %.1f%% (exact counts, %zu "
        "words; decode %.1f s)",
        100 * stt_wer_rate(&w2), 100 * stt_wer_rate(&w1), 100 * stt_wer_rate(&wr), wr.ref_words, d);
    return 0;
}

/* 5. Throughput: the time for 2 clients x N requests to sttd, against 2
 * `sttraw --repeat N` side by side (model load included), in each round. */
int sb_part_throughput(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen)
{
    const int n = b->per_client;
    sb_series ts = {0}, tr = {0}, ratio = {0};
    for (int i = 0; i < b->p.repeat; i++) {
        sb_progress(b, 5, "throughput: round %d/%d, sttd", i + 1, b->p.repeat);
        async_post a[2];
        memset(a, 0, sizeof a);
        double t0 = stt_now_s();
        for (int c = 0; c < 2; c++) {
            a[c] = (async_post){
                .url = stt_sut_url(sv), .in = &b->cat, .profile = "balanced", .count = n};
            pthread_create(&a[c].th, NULL, async_run, &a[c]);
        }
        int ok = 0;
        for (int c = 0; c < 2; c++) {
            pthread_join(a[c].th, NULL);
            ok += a[c].ok;
        }
        double el = stt_now_s() - t0;
        if (ok != 2 * n)
            return stt_seterr(err, errlen, STT_EIO, "throughput: %d of %d requests failed: %s",
                              2 * n - ok, 2 * n, a[0].error[0] ? a[0].error : a[1].error);
        sb_progress(b, 5, "throughput: round %d/%d, two sttraw", i + 1, b->p.repeat);
        double audio, wall;
        int rc = sb_sttraw_parallel(b, b->cat.path, 2, n, &audio, &wall, err, errlen);
        if (rc) return rc;
        sb_add(&ts, ok * b->cat.audio_s / el);
        sb_add(&tr, audio / wall);
        sb_add(&ratio, (ok * b->cat.audio_s / el) / (audio / wall));
    }
    json_object_set_new(
        b->measurements, "throughput",
        json_pack("{s:s, s:i, s:o, s:o, s:o}", "method",
                  "the time for 2 clients x N sequential requests of librivox_cat.wav to sttd "
                  "--workers 2, against 2 `sttraw --repeat N` processes side by side (model "
                  "load included), alternating in each round",
                  "requests_per_client", n, "sttd_audio_s_per_s", sb_series_json(&ts, "s/s"),
                  "sttraw_audio_s_per_s", sb_series_json(&tr, "s/s"), "per_round_ratio",
                  sb_series_json(&ratio, "x")));
    sb_metric(b, "audio_s_per_s/sttd", "s/s", 1, &ts);
    sb_metric(b, "audio_s_per_s/sttraw", "s/s", 1, &tr);
    sb_metric(b, "throughput_ratio", "x", 1, &ratio);
    stt_summary s = sb_summary(&ts), r = sb_summary(&tr);
    sb_timed_target(b, "5 throughput", ">= 0.95x", 0.95, 1, &ratio, "x",
                    "sttd %.2f audio s/s [%.2f, %.2f] vs 2 sttraw %.2f [%.2f, %.2f]", s.median,
                    s.median_ci.lo, s.median_ci.hi, r.median, r.median_ci.lo, r.median_ci.hi);
    return 0;
}

/* 6. Fairness: in each round the short clip alone, then the same clip sent
 * fairness_delay_s after a long request started. */
int sb_part_fairness(stt_servicebench *b, const stt_sut *sv, char *err, size_t errlen)
{
    const sb_input *shortf = &b->clips[SB_SHORT_CLIP];
    sb_series idle = {0}, busy = {0}, longs = {0}, ratio = {0};
    int late = 0;
    for (int i = 0; i < b->p.repeat; i++) {
        sb_progress(b, 6, "fairness: round %d/%d", i + 1, b->p.repeat);
        double li, lb;
        int rc = sb_post(stt_sut_url(sv), shortf, "balanced", 0, &li, NULL, err, errlen);
        if (rc) return rc;
        async_post a = {.url = stt_sut_url(sv), .in = &b->longf, .profile = "balanced", .count = 1};
        pthread_create(&a.th, NULL, async_run, &a);
        sleep_s(b->p.fairness_delay_s);
        rc = sb_post(stt_sut_url(sv), shortf, "balanced", 0, &lb, NULL, err, errlen);
        double probe_end = stt_now_s();
        pthread_join(a.th, NULL);
        if (rc) return rc;
        if (!a.ok) return stt_seterr(err, errlen, STT_EIO, "long request: %s", a.error);
        /* A probe that came back after the long request ended did not meet
         * contention for its whole life; the JSON counts such probes. */
        if (a.end_s < probe_end) late++;
        sb_add(&idle, li);
        sb_add(&busy, lb);
        sb_add(&longs, a.end_s - a.start_s);
        sb_add(&ratio, lb / li);
    }
    json_object_set_new(
        b->measurements, "fairness",
        json_pack("{s:s, s:s, s:f, s:o, s:o, s:o, s:i, s:o}", "method",
                  "sttd --workers 2 (threads 2); in each round the short clip alone, then the "
                  "short clip sent fairness_delay_s after a long request started",
                  "short_clip", sb_clip_ids[SB_SHORT_CLIP], "short_audio_s", shortf->audio_s,
                  "idle_latency_s", sb_series_json(&idle, "s"), "busy_latency_s",
                  sb_series_json(&busy, "s"), "long_request_s", sb_series_json(&longs, "s"),
                  "probes_ending_after_long_request", late, "per_round_ratio",
                  sb_series_json(&ratio, "x")));
    sb_metric(b, "latency_s/short/idle", "s", 0, &idle);
    sb_metric(b, "latency_s/short/busy", "s", 0, &busy);
    sb_metric(b, "fairness_ratio", "x", 0, &ratio);
    stt_summary a = sb_summary(&idle), c = sb_summary(&busy);
    sb_timed_target(b, "6 fairness", "< 3x", 3, 0, &ratio, "x",
                    "short clip idle %.2f s [%.2f, %.2f], behind the long one %.2f s [%.2f, %.2f]",
                    a.median, a.median_ci.lo, a.median_ci.hi, c.median, c.median_ci.lo,
                    c.median_ci.hi);
    return 0;
}
