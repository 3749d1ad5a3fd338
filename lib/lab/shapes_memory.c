/* shapes_memory: the most memory a pod can be made to hold: its whole
 * admission of the largest, longest uploads it accepts, each profile it
 * serves in turn, as its memory cgroup is charged. See shapes.h. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "error.h"
#include "memcg.h"
#include "netns.h"
#include "replicas_pod.h"
#include "results.h"
#include "shapes.h"

#define FRAMES 8192

int stt_shapes_worst_upload(const char *speech, double max_upload_mb, double duration_s,
                            const char *path, int *rate_out, long long *bytes_out, char *err,
                            size_t errlen)
{
    /* sttd's limit is on the whole request body; the form's other parts and
     * the multipart framing take a little of it. */
    double limit = max_upload_mb * 1048576.0 - 65536.0 - 44.0;
    int channels = 2;
    double r = floor(limit / (duration_s * channels * 2.0));
    if (!(duration_s > 0) || r < 8000)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "%.4g MiB cannot hold %.4g s even at 8 kHz stereo", max_upload_mb,
                          duration_s);
    int rate = r > 192000 ? 192000 : (int)r;
    SF_INFO in = {0};
    SNDFILE *src = sf_open(speech, SFM_READ, &in);
    if (!src) return stt_seterr(err, errlen, STT_EIO, "%s: %s", speech, sf_strerror(NULL));
    size_t n = in.frames > 0 ? (size_t)in.frames : 0;
    short *mono = n ? malloc(n * sizeof *mono) : NULL;
    short *buf =
        in.channels > 0 ? malloc((size_t)FRAMES * (size_t)in.channels * sizeof *buf) : NULL;
    size_t got = 0;
    while (mono && buf && got < n) {
        sf_count_t k = sf_readf_short(src, buf, FRAMES);
        if (k <= 0) break;
        for (sf_count_t i = 0; i < k && got < n; i++)
            mono[got++] = buf[i * in.channels];
    }
    sf_close(src);
    free(buf);
    if (!got) {
        free(mono);
        return stt_seterr(err, errlen, STT_EIO, "%s: no samples", speech);
    }
    SF_INFO out = {
        .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *dst = sf_open(path, SFM_WRITE, &out);
    if (!dst) {
        free(mono);
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    }
    /* The speech repeated, taken at the output rate by the nearest sample:
     * what matters here is the size and length, and that it is speech sttd
     * decodes, cuts and recognises like any other. */
    long long total = (long long)floor(duration_s * rate);
    short frame[2 * FRAMES];
    double step = (double)in.samplerate / rate;
    int rc = 0;
    for (long long i = 0; i < total && !rc;) {
        int k = 0;
        for (; k < FRAMES && i < total; k++, i++) {
            size_t j = (size_t)((double)i * step) % got;
            frame[2 * k] = frame[2 * k + 1] = mono[j];
        }
        if (sf_writef_short(dst, frame, k) != k)
            rc = stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(dst));
    }
    if (sf_close(dst) && !rc) rc = stt_seterr(err, errlen, STT_EIO, "%s: close failed", path);
    free(mono);
    if (rate_out) *rate_out = rate;
    if (bytes_out) *bytes_out = 44 + total * channels * 2;
    return rc;
}

static void say(const stt_shapes_memory_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const stt_shapes_memory_params *p, const char *fmt, ...)
{
    if (!p->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->log_arg, line);
}

typedef struct client {
    pthread_t thr;
    const char *url, *profile;
    const stt_upload *u;
    double timeout_s;
    long status;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    stt_client_params cp = stt_client_default_params();
    cp.profile = c->profile;
    cp.timeout_s = c->timeout_s;
    stt_client_reply r;
    stt_client_transcribe(c->url, c->u, &cp, &r);
    c->status = r.status;
    stt_client_reply_free(&r);
    return NULL;
}

/* Waits s seconds; then the largest sample of the phase. */
static long long hold(stt_memcg_sampler *s, double secs)
{
    usleep((useconds_t)(secs * 1e6));
    return stt_memcg_sampler_take(s);
}

/* One profile: a fresh pod, its admission filled in two steps. */
static int one_profile(const stt_shapes_memory_params *p, const stt_upload *u, const char *profile,
                       json_t **out, char *err, size_t errlen)
{
    stt_pod_params pp = stt_pod_default_params();
    pp.host = p->host;
    pp.addr = p->addr;
    pp.sttd = p->sttd;
    pp.cores = p->cores;
    pp.workers = p->cores;
    pp.threads = p->cores;
    pp.queue = p->queue;
    pp.profiles = p->profiles;
    pp.max_upload_mb = p->max_upload_mb;
    pp.max_duration_s = p->max_duration_s;
    pp.memcg = 1;
    pp.name = "memory";
    stt_pod *pod = stt_pod_start(&pp, err, errlen);
    if (!pod) return STT_EIO;
    const stt_memcg *m = stt_pod_memcg(pod);
    stt_memcg_sampler *s = stt_memcg_sampler_start(m, 20, err, errlen);
    if (!s) {
        stt_pod_stop(pod, 1);
        return STT_EIO;
    }
    int admitted = p->cores + p->queue;
    client *cl = calloc((size_t)admitted, sizeof *cl);
    if (!cl) {
        stt_memcg_sampler_stop(s, NULL, NULL);
        stt_pod_stop(pod, 1);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    long long idle = hold(s, 1.0);
    int started = 0;
    for (int phase = 0; phase < 2; phase++) {
        int upto = phase == 0 ? p->cores : admitted;
        for (; started < upto; started++) {
            cl[started] = (client){.url = stt_pod_url(pod),
                                   .profile = profile,
                                   .u = u,
                                   .timeout_s = 2 * p->hold_s + 600};
            if (pthread_create(&cl[started].thr, NULL, client_main, &cl[started])) break;
        }
        if (phase == 0) {
            long long running = hold(s, p->hold_s);
            *out = json_pack("{s:s, s:I, s:I}", "profile", profile, "idle_bytes", (json_int_t)idle,
                             "running_bytes", (json_int_t)running);
        }
    }
    long long all = hold(s, p->hold_s);
    long long peak = stt_memcg_peak(m), sampled = -1;
    stt_memcg_stat st = {-1, -1};
    stt_memcg_stat_read(m, &st);
    stt_memcg_sampler_stop(s, &sampled, NULL);
    /* Stopping the pod cuts the admitted requests short: the clients' calls
     * return on the closed connections. */
    stt_pod_stop(pod, 1);
    int refused = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(cl[i].thr, NULL);
        refused += cl[i].status == 503;
    }
    free(cl);
    long long top = peak > sampled ? peak : sampled;
    json_object_set_new(*out, "admitted_bytes", json_integer((json_int_t)all));
    json_object_set_new(*out, "cgroup_peak_bytes",
                        peak >= 0 ? json_integer((json_int_t)peak) : json_null());
    json_object_set_new(*out, "sampled_peak_bytes", json_integer((json_int_t)sampled));
    json_object_set_new(*out, "peak_bytes", json_integer((json_int_t)top));
    json_object_set_new(*out, "anon_bytes", json_integer((json_int_t)st.anon));
    json_object_set_new(*out, "file_bytes", json_integer((json_int_t)st.file));
    json_object_set_new(*out, "refused", json_integer(refused));
    say(p,
        "memory, %d-core pod, profile %s: idle %.0f MiB, %d running %.0f MiB, %d admitted "
        "%.0f MiB, peak %.0f MiB",
        p->cores, profile, idle / 1048576.0, p->cores,
        json_number_value(json_object_get(*out, "running_bytes")) / 1048576.0, admitted,
        all / 1048576.0, top / 1048576.0);
    return 0;
}

int stt_shapes_memory_measure(const stt_shapes_memory_params *p, json_t **out, char *err,
                              size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/worst_case.wav", stt_netns_tmpdir());
    int rate = 0;
    long long bytes = 0;
    int rc = stt_shapes_worst_upload(p->speech, p->max_upload_mb, p->max_duration_s, path, &rate,
                                     &bytes, err, errlen);
    if (rc) return rc;
    stt_upload u;
    if ((rc = stt_upload_read(path, 1, &u, err, errlen))) return rc;
    say(p, "worst-case upload: %.1f MiB, %.0f s at %d Hz stereo", bytes / 1048576.0,
        p->max_duration_s, rate);
    json_t *profiles = json_array();
    long long max = -1;
    char ask[256];
    snprintf(ask, sizeof ask, "%s", p->ask ? p->ask : "fast,balanced,accurate");
    for (char *sv = NULL, *t = strtok_r(ask, ",", &sv); t && !rc; t = strtok_r(NULL, ",", &sv)) {
        json_t *one = NULL;
        if ((rc = one_profile(p, &u, t, &one, err, errlen))) break;
        long long v = (long long)json_integer_value(json_object_get(one, "peak_bytes"));
        if (v > max) max = v;
        json_array_append_new(profiles, one);
    }
    stt_upload_free(&u);
    unlink(path);
    if (rc) {
        json_decref(profiles);
        return rc;
    }
    *out = json_pack("{s:i, s:i, s:i, s:i, s:{s:I, s:i, s:i, s:o, s:o}, s:o, s:I, s:o, s:s}",
                     "cores_per_pod", p->cores, "workers", p->cores, "queue", p->queue, "admitted",
                     p->cores + p->queue, "upload", "bytes", (json_int_t)bytes, "sample_rate", rate,
                     "channels", 2, "duration_s", stt_results_num(p->max_duration_s),
                     "max_upload_mb", stt_results_num(p->max_upload_mb), "profiles", profiles,
                     "max_bytes", (json_int_t)max, "hold_s", stt_results_num(p->hold_s), "source",
                     "memory cgroup charge (memory.peak or memory.max_usage_in_bytes, and "
                     "memory.current sampled every 20 ms)");
    return *out ? 0 : stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
}
