/* servicebench_raw: the inputs of the service benchmark and the baselines it
 * runs as programs: sttraw (one PocketSphinx decoder, nothing else) and
 * pocketsphinx_continuous. Programs are run with fork/exec and a pipe, no
 * shell, so file names need no quoting. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "corpus.h"
#include "error.h"
#include "servicebench_internal.h"

/* ---- inputs ---- */

static int write_wav(const char *path, const short *pcm, size_t n, char *err, size_t errlen)
{
    SF_INFO info = {
        .samplerate = STT_CORPUS_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    sf_count_t w = sf_write_short(f, pcm, (sf_count_t)n);
    sf_close(f);
    if (w != (sf_count_t)n) return stt_seterr(err, errlen, STT_EIO, "%s: short write", path);
    return 0;
}

/* The references of the clips repeated reps times, space-joined. */
static char *joined_reference(const sb_input *clips, int reps)
{
    size_t len = 1;
    for (int i = 0; i < SB_CLIPS; i++)
        len += (strlen(clips[i].reference) + 1) * (size_t)reps;
    char *r = malloc(len), *p = r;
    if (!r) return NULL;
    *p = 0;
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < SB_CLIPS; i++)
            p += sprintf(p, "%s%s", p == r ? "" : " ", clips[i].reference);
    return r;
}

static int read_input(sb_input *in, char *err, size_t errlen)
{
    return stt_upload_read(in->path, 1, &in->u, err, errlen);
}

/* The long file: the corpus's librivox_x12.wav for a full run when it is
 * there, else the same construction (the clips, 0.6 s of silence after
 * each, long_reps times) written here. */
static int prepare_long(stt_servicebench *b, short **pcm, size_t *npcm, size_t total, char *err,
                        size_t errlen)
{
    if (!b->p.quick && b->long_reps == 12) {
        stt_corpus_entry *ent = NULL;
        size_t n = 0;
        if (stt_corpus_load_manifest(b->p.corpus, &ent, &n, NULL, 0) == 0)
            for (size_t i = 0; i < n && !b->long_source; i++)
                if (!strcmp(ent[i].file, "librivox_x12.wav")) {
                    snprintf(b->longf.path, sizeof b->longf.path, "%s/%s", b->p.corpus,
                             ent[i].file);
                    b->longf.audio_s = ent[i].duration_s;
                    b->longf.reference = strdup(ent[i].reference);
                    b->long_source = "corpus";
                }
        stt_corpus_free_entries(ent, n);
        if (b->long_source) return b->longf.reference ? 0 : STT_ENOMEM;
    }
    size_t gap = STT_CORPUS_RATE * 6 / 10, n = (total + gap * SB_CLIPS) * (size_t)b->long_reps;
    short *buf = calloc(n, sizeof *buf);
    if (!buf) return STT_ENOMEM;
    size_t at = 0;
    for (int r = 0; r < b->long_reps; r++)
        for (int i = 0; i < SB_CLIPS; i++) {
            memcpy(buf + at, pcm[i], npcm[i] * sizeof *buf);
            at += npcm[i] + gap;
        }
    snprintf(b->longf.path, sizeof b->longf.path, "%s/librivox_x%d.wav", b->workdir, b->long_reps);
    int rc = write_wav(b->longf.path, buf, n, err, errlen);
    free(buf);
    if (rc) return rc;
    b->longf.audio_s = (double)n / STT_CORPUS_RATE;
    b->longf.reference = joined_reference(b->clips, b->long_reps);
    b->long_source = "built here (clips + 0.6 s pauses, as `sttbench corpus`)";
    return b->longf.reference ? 0 : STT_ENOMEM;
}

int sb_prepare_inputs(stt_servicebench *b, char *err, size_t errlen)
{
    short *pcm[SB_CLIPS] = {0};
    size_t npcm[SB_CLIPS] = {0}, total = 0;
    int rc = 0;
    for (int i = 0; i < SB_CLIPS && !rc; i++) {
        sb_input *in = &b->clips[i];
        snprintf(in->path, sizeof in->path, "%s/librivox/%s.wav", b->testdata, sb_clip_ids[i]);
        rc = stt_corpus_clip_pcm(b->testdata, sb_clip_ids[i], &pcm[i], &npcm[i], err, errlen);
        if (rc) break;
        in->audio_s = (double)npcm[i] / STT_CORPUS_RATE;
        char ref[4096];
        rc = stt_corpus_clip_reference(b->testdata, sb_clip_ids[i], ref, sizeof ref, err, errlen);
        if (!rc && !(in->reference = strdup(ref))) rc = STT_ENOMEM;
        if (!rc) rc = read_input(in, err, errlen);
        total += npcm[i];
    }
    if (!rc) {
        /* The concatenation without pauses: one utterance for the overhead part. */
        short *cat = malloc(sizeof *cat * total);
        if (!cat) rc = STT_ENOMEM;
        size_t k = 0;
        for (int i = 0; cat && i < SB_CLIPS; i++) {
            memcpy(cat + k, pcm[i], npcm[i] * sizeof *cat);
            k += npcm[i];
        }
        snprintf(b->cat.path, sizeof b->cat.path, "%s/librivox_cat.wav", b->workdir);
        if (!rc) rc = write_wav(b->cat.path, cat, k, err, errlen);
        free(cat);
        b->cat.audio_s = (double)k / STT_CORPUS_RATE;
        if (!rc && !(b->cat.reference = joined_reference(b->clips, 1))) rc = STT_ENOMEM;
        if (!rc) rc = read_input(&b->cat, err, errlen);
    }
    if (!rc) rc = prepare_long(b, pcm, npcm, total, err, errlen);
    if (!rc) rc = read_input(&b->longf, err, errlen);
    for (int i = 0; i < SB_CLIPS; i++)
        free(pcm[i]);
    if (rc == STT_ENOMEM) stt_seterr(err, errlen, rc, "out of memory");
    return rc;
}

static void free_input(sb_input *in)
{
    stt_upload_free(&in->u);
    free(in->reference);
    in->reference = NULL;
}

void sb_free_inputs(stt_servicebench *b)
{
    for (int i = 0; i < SB_CLIPS; i++)
        free_input(&b->clips[i]);
    free_input(&b->cat);
    free_input(&b->longf);
    if (!b->workdir[0]) return;
    if (b->cat.path[0]) unlink(b->cat.path);
    if (!strncmp(b->longf.path, b->workdir, strlen(b->workdir))) unlink(b->longf.path);
    rmdir(b->workdir);
}

/* ---- programs ---- */

/* Starts argv with stdout into a pipe (*fd) and stderr to /dev/null. */
static pid_t start(char *const argv[], int *fd)
{
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    *fd = p[0];
    return pid;
}

/* Reads fd to its end into a malloc'd string; waits for pid. 0 when the
 * program exited 0. */
static int finish(pid_t pid, int fd, char **out)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = read(fd, buf + n, cap - n - 1)) != 0) {
        if (k < 0) {
            if (errno == EINTR) continue;
            break;
        }
        n += (size_t)k;
        if (n + 1 == cap) {
            char *g = realloc(buf, cap * 2);
            if (!g) break;
            buf = g;
            cap *= 2;
        }
    }
    close(fd);
    if (buf) buf[n] = 0;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    *out = buf;
    return buf && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : STT_EIO;
}

/* One sttraw output line: "<decode s> <audio s> <hypothesis>". */
static int parse_raw_line(const char *line, double *decode_s, double *audio_s, char **hyp)
{
    char *end;
    *decode_s = strtod(line, &end);
    if (end == line) return STT_EIO;
    *audio_s = strtod(end, &end);
    while (*end == ' ')
        end++;
    if (hyp) *hyp = strndup(end, strcspn(end, "\n"));
    return 0;
}

int sb_sttraw(const stt_servicebench *b, const char *path, double *decode_s, char **hyp,
              double *wall_s, char *err, size_t errlen)
{
    char *argv[] = {(char *)b->sttraw, (char *)path, NULL};
    int fd;
    double t0 = stt_now_s();
    pid_t pid = start(argv, &fd);
    if (pid < 0) return stt_seterr(err, errlen, STT_EIO, "cannot run %s", b->sttraw);
    char *out = NULL;
    int rc = finish(pid, fd, &out);
    *wall_s = stt_now_s() - t0;
    double audio;
    if (!rc) rc = parse_raw_line(out, decode_s, &audio, hyp);
    free(out);
    if (rc) return stt_seterr(err, errlen, STT_EIO, "%s %s failed", b->sttraw, path);
    return 0;
}

int sb_sttraw_parallel(const stt_servicebench *b, const char *path, int copies, int repeat,
                       double *audio_s, double *wall_s, char *err, size_t errlen)
{
    char rep[16];
    snprintf(rep, sizeof rep, "%d", repeat);
    char *argv[] = {(char *)b->sttraw, "--repeat", rep, (char *)path, NULL};
    pid_t pid[8];
    int fd[8], started = 0, rc = 0;
    if (copies > 8) copies = 8;
    double t0 = stt_now_s();
    for (int c = 0; c < copies; c++) {
        if ((pid[c] = start(argv, &fd[c])) < 0) {
            rc = STT_EIO;
            break;
        }
        started++;
    }
    *audio_s = 0;
    /* Each writes a few lines only, so reading one pipe after the other cannot block. */
    for (int c = 0; c < started; c++) {
        char *out = NULL;
        if (finish(pid[c], fd[c], &out)) rc = STT_EIO;
        for (char *line = out; line && *line;) {
            double d, a;
            if (parse_raw_line(line, &d, &a, NULL) == 0) *audio_s += a;
            char *nl = strchr(line, '\n');
            line = nl ? nl + 1 : NULL;
        }
        free(out);
    }
    *wall_s = stt_now_s() - t0;
    if (rc || !(*audio_s > 0))
        return stt_seterr(err, errlen, STT_EIO, "%s --repeat %d %s failed", b->sttraw, repeat,
                          path);
    return 0;
}

int sb_continuous(const char *path, char **text, double *wall_s, char *err, size_t errlen)
{
    char *argv[] = {"pocketsphinx_continuous", "-infile", (char *)path, NULL};
    int fd;
    double t0 = stt_now_s();
    pid_t pid = start(argv, &fd);
    if (pid < 0) return stt_seterr(err, errlen, STT_EIO, "cannot run pocketsphinx_continuous");
    int rc = finish(pid, fd, text);
    *wall_s = stt_now_s() - t0;
    if (rc) {
        free(*text);
        *text = NULL;
        return stt_seterr(err, errlen, STT_EIO, "pocketsphinx_continuous -infile %s failed", path);
    }
    /* One line per utterance it found. */
    for (char *c = *text; *c; c++)
        if (*c == '\n') *c = ' ';
    return 0;
}
