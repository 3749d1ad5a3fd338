/* cost: see cost.h. */
#include "cost.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "corpus.h"
#include "error.h"
#include "results.h"
#include "sut.h"
#include "wer.h"

#define MAX_UTT 32

stt_cost_params stt_cost_default_params(void)
{
    stt_cost_params p = {0};
    p.nsides = 0;
    p.testdata_dir = "/usr/share/pocketsphinx/test/data";
    p.input = "sense_and_sensibility_01_austen_64kb-0880";
    p.runs = 10;
    p.wall = 1;
    p.valgrind = 1;
    p.valgrind_bin = "valgrind";
    p.job_timeout_s = 600;
    return p;
}

static void say(const stt_cost_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Progress, with the seconds since the run began (where the time goes). */
static double started;
static void say(const stt_cost_params *p, const char *fmt, ...)
{
    if (!p->progress) return;
    char line[512];
    int n = snprintf(line, sizeof line, "[%3.0f s] ", stt_now_s() - started);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    p->progress(line, p->progress_ctx);
}

/* ---- valgrind's output ---- */

typedef int (*file_fn)(FILE *f, double *acc);

/* fn on every file PREFIX<pid> of dir (one per traced process; the .stdout
 * and .log beside them are not). A file fn finds incomplete (0) fails the
 * whole: a process killed while valgrind wrote its output leaves it cut
 * short, and a count without it would be wrong. */
static int for_each_file(const char *dir, const char *prefix, file_fn fn, double *acc, char *err,
                         size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) return stt_seterr(err, errlen, STT_EIO, "%s: %s", dir, strerror(errno));
    int found = 0, cut = 0;
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *pid = e->d_name + pl;
        if (strncmp(e->d_name, prefix, pl) || !*pid || strspn(pid, "0123456789") != strlen(pid))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%.3000s/%.1000s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fn(f, acc))
            found++;
        else
            cut++;
        fclose(f);
    }
    closedir(d);
    if (cut)
        return stt_seterr(err, errlen, STT_EIO, "%d valgrind output file(s) %s* in %s cut short",
                          cut, prefix, dir);
    if (!found)
        return stt_seterr(err, errlen, STT_EIO, "no valgrind output %s* in %s", prefix, dir);
    return 0;
}

static int add_summary(FILE *f, double *acc)
{
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "summary:", 8)) {
            *acc += strtod(line + 8, NULL);
            return 1;
        }
    return 0;
}

static int max_heap(FILE *f, double *acc)
{
    char line[512];
    double heap = 0;
    int any = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "mem_heap_B=", 11)) {
            heap = strtod(line + 11, NULL);
            any = 1;
        } else if (!strncmp(line, "mem_heap_extra_B=", 17)) {
            /* a snapshot's extra follows its heap line */
            double total = heap + strtod(line + 17, NULL);
            if (total > *acc) *acc = total;
        }
    }
    return any;
}

int stt_cost_cachegrind_total(const char *dir, const char *prefix, double *instructions, char *err,
                              size_t errlen)
{
    *instructions = 0;
    return for_each_file(dir, prefix, add_summary, instructions, err, errlen);
}

int stt_cost_massif_peak(const char *dir, const char *prefix, double *bytes, char *err,
                         size_t errlen)
{
    *bytes = 0;
    return for_each_file(dir, prefix, max_heap, bytes, err, errlen);
}

double stt_cost_per_audio_s(double input, double baseline, double audio_s)
{
    if (!(audio_s > 0) || !(input >= baseline)) return NAN;
    return (input - baseline) / audio_s;
}

/* ---- the utterances ---- */

typedef struct utterance {
    char id[128];
    char path[PATH_MAX];
    char ref[2048];
} utterance;

/* The clips listed in librivox/fileids and cards/cards.fileids. */
static int utterances(const stt_cost_params *p, utterance *u, int max, char *err, size_t errlen)
{
    static const char *const sets[][3] = {{"librivox/fileids", "librivox", ""},
                                          {"cards/cards.fileids", "cards", "cards/"}};
    int n = 0;
    for (size_t s = 0; s < 2; s++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", p->testdata_dir, sets[s][0]);
        FILE *f = fopen(path, "r");
        if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        char line[256];
        while (n < max && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n ")] = 0;
            if (!line[0]) continue;
            snprintf(u[n].id, sizeof u[n].id, "%s%.100s", sets[s][2], line);
            snprintf(u[n].path, sizeof u[n].path, "%s/%s/%.100s.wav", p->testdata_dir, sets[s][1],
                     line);
            if (stt_corpus_clip_reference(p->testdata_dir, u[n].id, u[n].ref, sizeof u[n].ref, err,
                                          errlen)) {
                fclose(f);
                return STT_EIO;
            }
            n++;
        }
        fclose(f);
    }
    return n;
}

static int find_utterance(const utterance *u, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(u[i].id, id)) return i;
    return -1;
}

/* One second of digital silence at 16 kHz: the baseline input. */
static int write_silence(const char *path, char *err, size_t errlen)
{
    SF_INFO info = {
        .samplerate = STT_CORPUS_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    short zero[STT_CORPUS_RATE] = {0};
    sf_count_t w = sf_writef_short(sf, zero, STT_CORPUS_RATE);
    sf_close(sf);
    return w == STT_CORPUS_RATE ? 0 : stt_seterr(err, errlen, STT_EIO, "%s: short write", path);
}

/* ---- one side's measurements ---- */

typedef struct side_data {
    double wall[256];
    int nwall;
    int errors[MAX_UTT], words[MAX_UTT];
    double instr_input, instr_base, per_audio_s, peak_heap;
    int counted, heap_counted, heap_runs_agree;
    char hyp[2048]; /* transcript of the cachegrind run */
    double input_wer;
    char dir[PATH_MAX];
} side_data;

/* Characters the shell would interpret inside single quotes: only the quote. */
static int shell_safe(const char *s)
{
    return s && !strchr(s, '\'');
}

static stt_sut *start_server(const stt_cost_side *s, const char *log, char *err, size_t errlen)
{
    char cmd[PATH_MAX * 3];
    int n = snprintf(cmd, sizeof cmd,
                     "'%s' --host {host} --port {port} --workers 1 --threads 1 --queue 2 "
                     "--profiles %s --quiet",
                     s->sttd, s->profile);
    if (s->model_dir) snprintf(cmd + n, sizeof cmd - (size_t)n, " --model-dir '%s'", s->model_dir);
    stt_sut_params sp = stt_sut_default_params();
    sp.command = cmd;
    sp.log_path = log;
    return stt_sut_start(&sp, err, errlen);
}

static int transcribe(const char *url, const stt_upload *u, const char *profile, double *elapsed,
                      char **text, char *err, size_t errlen)
{
    stt_client_params cp = stt_client_default_params();
    cp.profile = profile;
    stt_client_reply rep;
    int rc = stt_client_transcribe(url, u, &cp, &rep);
    if (rc) {
        stt_seterr(err, errlen, STT_EIO, "%s: %s", u->filename, rep.error);
    } else {
        if (elapsed) *elapsed = rep.elapsed_s;
        if (text) *text = strdup(rep.text ? rep.text : "");
    }
    stt_client_reply_free(&rep);
    return rc ? STT_EIO : 0;
}

/* Wall time (ABBA) and accuracy (interleaved), every side's server up at once. */
static int measure_http(const stt_cost_params *p, const utterance *u, int nu, int input,
                        side_data *sd, char *err, size_t errlen)
{
    stt_sut *srv[2] = {NULL, NULL};
    stt_upload up[MAX_UTT];
    memset(up, 0, sizeof up);
    int rc = 0;
    for (int i = 0; i < nu && !rc; i++)
        rc = stt_upload_read(u[i].path, 1, &up[i], err, errlen);
    for (int s = 0; s < p->nsides && !rc; s++) {
        char log[PATH_MAX + 16];
        snprintf(log, sizeof log, "%s/server.log", sd[s].dir);
        say(p, "%s: starting %s (profile %s)", p->side[s].label, p->side[s].sttd,
            p->side[s].profile);
        if (!(srv[s] = start_server(&p->side[s], log, err, errlen))) rc = STT_EIO;
    }
    /* one request each first: page cache, allocator, the decoder's first use */
    for (int s = 0; s < p->nsides && !rc; s++)
        rc = transcribe(stt_sut_url(srv[s]), &up[input], p->side[s].profile, NULL, NULL, err,
                        errlen);
    say(p, "wall time: %d run(s) per side of %s, interleaved", p->runs, u[input].id);
    for (int r = 0; r < p->runs && !rc; r++)
        for (int k = 0; k < p->nsides && !rc; k++) {
            int s = (r % 2 && p->nsides == 2) ? 1 - k : k; /* ABBA ABBA ... */
            double t;
            rc = transcribe(stt_sut_url(srv[s]), &up[input], p->side[s].profile, &t, NULL, err,
                            errlen);
            if (!rc) sd[s].wall[sd[s].nwall++] = t;
        }
    say(p, "accuracy: %d utterance(s) per side", nu);
    for (int i = 0; i < nu && !rc; i++)
        for (int s = 0; s < p->nsides && !rc; s++) {
            char *text = NULL;
            rc = transcribe(stt_sut_url(srv[s]), &up[i], p->side[s].profile, NULL, &text, err,
                            errlen);
            stt_wer_counts c;
            if (!rc && stt_wer_align_text(u[i].ref, text, 1, &c) == 0) {
                sd[s].errors[i] = (int)stt_wer_errors(&c);
                sd[s].words[i] = (int)c.ref_words;
            }
            free(text);
        }
    for (int s = 0; s < p->nsides; s++)
        stt_sut_stop(srv[s], 30);
    for (int i = 0; i < nu; i++)
        stt_upload_free(&up[i]);
    return rc;
}

/* ---- valgrind runs, at most two at once (counts do not depend on timing) ---- */

typedef struct job {
    const char *name;
    char *argv[24];
    char out[PATH_MAX + 32], log[PATH_MAX + 32];
    pid_t pid;
    double started;
    int status;
} job;

static pid_t spawn(job *j)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    int out = open(j->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int log = open(j->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || log < 0 || in < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(log, 2);
    setpgid(0, 0); /* a timeout kills the whole traced tree */
    execvp(j->argv[0], j->argv);
    _exit(127);
}

/* The last line of a job's log that valgrind did not write (valgrind's own
 * lines start with "==" or "--"): what the program said when it failed. */
static void log_tail(const char *path, char *line, size_t len)
{
    char buf[1024];
    line[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(buf, sizeof buf, f))
        if (strncmp(buf, "==", 2) && strncmp(buf, "--", 2) && buf[0] != '\n') {
            buf[strcspn(buf, "\n")] = 0;
            snprintf(line, len, "%.200s", buf);
        }
    fclose(f);
}

static int run_jobs(const stt_cost_params *p, job *jobs, int n, char *err, size_t errlen)
{
    int next = 0, running = 0, rc = 0;
    while (next < n || running) {
        while (running < 2 && next < n && !rc) {
            jobs[next].pid = spawn(&jobs[next]);
            jobs[next].started = stt_now_s();
            if (jobs[next].pid < 0) rc = stt_seterr(err, errlen, STT_EIO, "fork failed");
            next++;
            running += !rc;
        }
        if (rc && !running) break;
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            for (int i = 0; i < next; i++)
                if (jobs[i].pid > 0 && stt_now_s() - jobs[i].started > p->job_timeout_s)
                    kill(-jobs[i].pid, SIGKILL);
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (int i = 0; i < next; i++)
            if (jobs[i].pid == pid) {
                jobs[i].pid = 0;
                jobs[i].status = st;
                running--;
                if ((!WIFEXITED(st) || WEXITSTATUS(st)) && !rc) {
                    char said[256];
                    log_tail(jobs[i].log, said, sizeof said);
                    rc = stt_seterr(err, errlen, STT_EIO, "valgrind %s run failed%s%s (see %s)",
                                    jobs[i].name, said[0] ? ": " : "", said, jobs[i].log);
                }
            }
    }
    return rc;
}

static void remove_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%.3000s/%.1000s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

/* Fills j with `valgrind TOOL-ARGS sttd transcribe ... FILE`. */
static void valgrind_job(job *j, const stt_cost_params *p, const stt_cost_side *s, const char *dir,
                         const char *tool, const char *name, const char *file,
                         char (*store)[PATH_MAX + 64])
{
    int a = 0;
    j->name = name;
    j->argv[a++] = (char *)p->valgrind_bin;
    snprintf(store[0], sizeof store[0], "--tool=%s", tool);
    j->argv[a++] = store[0];
    if (!strcmp(tool, "cachegrind")) {
        j->argv[a++] = "--cache-sim=no";
        j->argv[a++] = "--branch-sim=no";
        snprintf(store[1], sizeof store[1], "--cachegrind-out-file=%s/%s.%%p", dir, name);
    } else {
        /* small output, written fast: less chance to be cut short at exit */
        j->argv[a++] = "--depth=1";
        j->argv[a++] = "--detailed-freq=1000000";
        snprintf(store[1], sizeof store[1], "--massif-out-file=%s/%s.%%p", dir, name);
    }
    j->argv[a++] = "--trace-children=yes";
    j->argv[a++] = store[1];
    j->argv[a++] = (char *)s->sttd;
    j->argv[a++] = "transcribe";
    j->argv[a++] = "--workers";
    j->argv[a++] = "1";
    j->argv[a++] = "--threads";
    j->argv[a++] = "1";
    j->argv[a++] = "--model";
    j->argv[a++] = (char *)s->profile;
    if (s->model_dir) {
        j->argv[a++] = "--model-dir";
        j->argv[a++] = (char *)s->model_dir;
    }
    j->argv[a++] = (char *)file;
    j->argv[a] = NULL;
    snprintf(j->out, sizeof j->out, "%s/%s.stdout", dir, name);
    snprintf(j->log, sizeof j->log, "%s/%s.log", dir, name);
    remove_prefixed(dir, name);
}

/* Reads side s's counts; 0, or STT_EIO when a run's output is missing or cut short. */
static int read_counts(side_data *sd, double audio_s, char *err, size_t errlen)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/valgrind", sd->dir);
    int rc = stt_cost_cachegrind_total(dir, "cg-input.", &sd->instr_input, err, errlen);
    if (!rc) rc = stt_cost_cachegrind_total(dir, "cg-silence.", &sd->instr_base, err, errlen);
    if (rc) return rc;
    sd->per_audio_s = stt_cost_per_audio_s(sd->instr_input, sd->instr_base, audio_s);
    sd->counted = isfinite(sd->per_audio_s);
    return sd->counted ? 0
                       : stt_seterr(err, errlen, STT_EIO, "%s: input counted below silence", dir);
}

/* The peak heap: the larger of two massif runs. The workers die with their
 * parent (PR_SET_PDEATHSIG), sometimes while valgrind still writes their
 * output; a file cut short only loses snapshots, so the larger peak of two
 * runs is the true one unless both were cut. */
static void read_heap(side_data *sd)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/valgrind", sd->dir);
    double a = 0, b = 0;
    int ok_a = stt_cost_massif_peak(dir, "massif-1.", &a, NULL, 0) == 0,
        ok_b = stt_cost_massif_peak(dir, "massif-2.", &b, NULL, 0) == 0;
    sd->peak_heap = fmax(ok_a ? a : 0, ok_b ? b : 0);
    sd->heap_counted = sd->peak_heap > 0;
    sd->heap_runs_agree = ok_a && ok_b && a == b;
}

static void read_hypothesis(side_data *sd, const utterance *in)
{
    char path[PATH_MAX + 48];
    snprintf(path, sizeof path, "%s/valgrind/cg-input.stdout", sd->dir);
    FILE *f = fopen(path, "r");
    sd->hyp[0] = 0;
    if (f) {
        size_t len = fread(sd->hyp, 1, sizeof sd->hyp - 1, f);
        sd->hyp[len] = 0;
        sd->hyp[strcspn(sd->hyp, "\n")] = 0;
        fclose(f);
    }
    stt_wer_counts c;
    sd->input_wer = stt_wer_align_text(in->ref, sd->hyp, 1, &c) == 0 ? stt_wer_rate(&c) : NAN;
}

#define VG_ATTEMPTS 3

static int measure_valgrind(const stt_cost_params *p, const utterance *in, const char *silence,
                            double audio_s, side_data *sd, char *err, size_t errlen)
{
    job jobs[8];
    static char store[8][2][PATH_MAX + 64];
    int counted[2] = {0, 0}, rc = 0;
    for (int attempt = 0; attempt < VG_ATTEMPTS; attempt++) {
        memset(jobs, 0, sizeof jobs);
        int n = 0;
        for (int s = 0; s < p->nsides; s++) {
            if (counted[s]) continue;
            char dir[PATH_MAX + 16];
            snprintf(dir, sizeof dir, "%s/valgrind", sd[s].dir);
            if (stt_results_mkdirs(dir))
                return stt_seterr(err, errlen, STT_EIO, "cannot create %s", dir);
            const stt_cost_side *c = &p->side[s];
            valgrind_job(&jobs[n], p, c, dir, "cachegrind", "cg-input", in->path, store[n]);
            n++;
            valgrind_job(&jobs[n], p, c, dir, "cachegrind", "cg-silence", silence, store[n]);
            n++;
            if (attempt) continue;
            valgrind_job(&jobs[n], p, c, dir, "massif", "massif-1", in->path, store[n]);
            n++;
            valgrind_job(&jobs[n], p, c, dir, "massif", "massif-2", in->path, store[n]);
            n++;
        }
        say(p,
            "valgrind%s: %d run(s) of sttd transcribe (cachegrind on the input and on "
            "silence%s), two at a time",
            attempt ? " again, an output was cut short" : "", n, attempt ? "" : ", massif twice");
        rc = run_jobs(p, jobs, n, err, errlen);
        if (rc) return rc;
        for (int s = 0; s < p->nsides; s++) {
            if (!counted[s]) counted[s] = read_counts(&sd[s], audio_s, err, errlen) == 0;
            if (!attempt) read_heap(&sd[s]);
        }
        if (counted[0] && (p->nsides < 2 || counted[1])) break;
    }
    for (int s = 0; s < p->nsides; s++) {
        if (!counted[s])
            return stt_seterr(err, errlen, STT_EIO,
                              "%s: no complete instruction count after %d "
                              "attempts (%s)",
                              p->side[s].label, VG_ATTEMPTS, err);
        read_hypothesis(&sd[s], in);
    }
    return 0;
}

/* ---- results ---- */

static int valgrind_version(const char *bin, char *out, size_t n)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", bin);
    out[0] = 0;
    FILE *f = shell_safe(bin) ? popen(cmd, "r") : NULL;
    if (!f) return 0;
    if (!fgets(out, (int)n, f)) out[0] = 0;
    out[strcspn(out, "\n")] = 0;
    return pclose(f) == 0 && out[0];
}

static const char *const covers =
    "sttd transcribe --workers 1 --threads 1, forked workers traced, minus the same on 1 s of "
    "digital silence: audio decoding and resampling, VAD splitting, the hand-over to the "
    "worker, the engine's decode and the transcript; process start and model loading cancel; "
    "the HTTP layer is not included";

/* A metric that is an exact count: one sample, marked so that compare
 * judges it by its ratio alone. */
static void add_exact(json_t *doc, const char *name, const char *unit, double v)
{
    if (stt_results_add_metric(doc, name, unit, 0, &v, 1)) return;
    json_t *ms = json_object_get(doc, "metrics");
    json_object_set_new(json_array_get(ms, json_array_size(ms) - 1), "deterministic", json_true());
}

static int write_side(const stt_cost_params *p, int s, const side_data *d, const utterance *u,
                      int nu, const utterance *in, double audio_s, const char *vg, char *written,
                      size_t wlen, char *err, size_t errlen)
{
    const stt_cost_side *side = &p->side[s];
    json_t *ids = json_array();
    for (int i = 0; i < nu; i++)
        json_array_append_new(ids, json_string(u[i].id));
    json_t *cfg =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:s, s:i, s:i, s:s}", "label", side->label,
                  "sttd", side->sttd, "profile", side->profile, "model_dir",
                  side->model_dir ? side->model_dir : "default", "input", in->id, "utterances", ids,
                  "runs", p->runs, "order", p->nsides == 2 ? "ABBA" : "A", "workers", 1, "threads",
                  1, "valgrind", vg[0] ? vg : "not used");
    json_t *doc = stt_results_new(STT_RESULTS_COST, "cost", cfg);
    if (!doc) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    if (side->commit) json_object_set_new(doc, "commit", json_string(side->commit));
    char name[256];
    snprintf(name, sizeof name, "wall_s/%s", in->id);
    stt_results_add_metric(doc, name, "s", 0, d->wall, (size_t)d->nwall);
    json_t *notes = json_array();
    if (d->counted)
        add_exact(doc, "instructions_per_audio_s", "instructions", d->per_audio_s);
    else
        json_array_append_new(notes, json_string("instructions not counted (valgrind not used)"));
    if (d->heap_counted) add_exact(doc, "peak_heap_bytes", "bytes", d->peak_heap);
    const char *uids[MAX_UTT];
    for (int i = 0; i < nu; i++)
        uids[i] = u[i].id;
    if (p->wall)
        stt_results_add_accuracy(doc, "wer/testdata", uids, d->errors, d->words, (size_t)nu);
    else
        json_array_append_new(notes,
                              json_string("wall time and accuracy not measured (counts only)"));
    json_object_set_new(doc, "instructions",
                        json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o}", "input", in->id,
                                  "audio_s", stt_results_num(audio_s), "total",
                                  stt_results_num(d->counted ? d->instr_input : NAN), "baseline",
                                  stt_results_num(d->counted ? d->instr_base : NAN), "per_audio_s",
                                  stt_results_num(d->counted ? d->per_audio_s : NAN), "covers",
                                  covers, "hypothesis", d->hyp, "wer",
                                  stt_results_num(d->counted ? d->input_wer : NAN)));
    json_object_set_new(doc, "peak_heap",
                        json_pack("{s:o, s:s, s:b}", "bytes",
                                  stt_results_num(d->heap_counted ? d->peak_heap : NAN), "covers",
                                  "valgrind massif: largest heap of any process of sttd "
                                  "transcribe on the input (the worker, model included), the "
                                  "larger of two runs",
                                  "runs_agree", d->heap_runs_agree));
    json_object_set_new(doc, "notes", notes);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cost.json", d->dir);
    int rc = stt_results_write(doc, path, err, errlen);
    json_decref(doc);
    if (!rc) {
        size_t l = strlen(written);
        if (l < wlen) snprintf(written + l, wlen - l, "%s\n", path);
    }
    return rc;
}

int stt_cost_run(const stt_cost_params *p, char *written, size_t wlen, char *err, size_t errlen)
{
    if (!p || p->nsides < 1 || p->nsides > 2 || !p->out_dir || p->runs < 1 || p->runs > 256)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "need 1 or 2 sides, an output folder and "
                          "1 to 256 runs");
    for (int s = 0; s < p->nsides; s++) {
        const stt_cost_side *c = &p->side[s];
        if (!c->label || !c->sttd || !c->profile || !shell_safe(c->sttd) ||
            (c->model_dir && !shell_safe(c->model_dir)) || strchr(c->label, '/') ||
            strspn(c->profile, "abcdefghijklmnopqrstuvwxyz_-") != strlen(c->profile))
            return stt_seterr(err, errlen, STT_EINVAL,
                              "side %d: label, sttd and profile needed "
                              "(no quotes, a label without '/')",
                              s + 1);
        if (access(c->sttd, X_OK))
            return stt_seterr(err, errlen, STT_EINVAL, "%s: not an executable", c->sttd);
    }
    if (p->nsides == 2 && !strcmp(p->side[0].label, p->side[1].label))
        return stt_seterr(err, errlen, STT_EINVAL, "the two sides need different labels");
    started = stt_now_s();
    utterance *u = calloc(MAX_UTT, sizeof *u);
    side_data *sd = calloc(2, sizeof *sd);
    if (!u || !sd) {
        free(u);
        free(sd);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    int rc = 0, nu = utterances(p, u, MAX_UTT, err, errlen);
    int input = nu > 0 ? find_utterance(u, nu, p->input) : -1;
    if (nu < 0)
        rc = nu;
    else if (input < 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "input %s is not a testdata clip", p->input);
    for (int s = 0; s < p->nsides && !rc; s++) {
        snprintf(sd[s].dir, sizeof sd[s].dir, "%.3000s/%s", p->out_dir, p->side[s].label);
        if (stt_results_mkdirs(sd[s].dir))
            rc = stt_seterr(err, errlen, STT_EIO, "cannot create %s", sd[s].dir);
    }
    double audio_s = 0;
    stt_upload probe;
    if (!rc && stt_upload_read(u[input].path, 1, &probe, err, errlen) == 0) {
        audio_s = probe.audio_s;
        stt_upload_free(&probe);
    }
    if (!rc && p->wall && curl_global_init(CURL_GLOBAL_DEFAULT))
        rc = stt_seterr(err, errlen, STT_EIO, "libcurl could not start");
    if (!rc && p->wall) {
        rc = measure_http(p, u, nu, input, sd, err, errlen);
        curl_global_cleanup();
    }
    char vg[128] = "";
    if (!rc && p->valgrind) {
        if (!valgrind_version(p->valgrind_bin, vg, sizeof vg)) {
            say(p, "valgrind not found: instruction counts and peak heap left out");
        } else {
            char silence[PATH_MAX + 32];
            snprintf(silence, sizeof silence, "%s/silence.wav", sd[0].dir);
            rc = write_silence(silence, err, errlen);
            if (!rc) rc = measure_valgrind(p, &u[input], silence, audio_s, sd, err, errlen);
        }
    }
    for (int s = 0; s < p->nsides && !rc; s++)
        rc = write_side(p, s, &sd[s], u, nu, &u[input], audio_s, vg, written, wlen, err, errlen);
    if (!rc) say(p, "done");
    free(u);
    free(sd);
    return rc;
}
