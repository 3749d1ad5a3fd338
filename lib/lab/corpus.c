/* corpus: see corpus.h. */
#include "corpus.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

#define CORPUS_RATE 16000
#define DEFAULT_TESTDATA "/usr/share/pocketsphinx/test/data"
#define LIBRIVOX_PREFIX "sense_and_sensibility_01_austen_64kb-"

typedef struct clip {
    char id[96];
    char ref[512];
    short *pcm;
    size_t n;
} clip;

enum { CYCLE_LIBRIVOX, CYCLE_MIXED };

/* One benchmark file: clips taken in cycle order until the length reaches
 * target_s, or exactly n_clips clips when that is set. */
typedef struct file_spec {
    const char *name;
    int cycle;
    double target_s;
    int n_clips;
} file_spec;

static const file_spec specs[] = {
    {"speech_0008s.wav", CYCLE_LIBRIVOX, 7.0, 0},
    {"speech_0025s.wav", CYCLE_LIBRIVOX, 0, 5},
    {"speech_0060s.wav", CYCLE_MIXED, 60.0, 0},
    {"speech_0120s.wav", CYCLE_MIXED, 120.0, 0},
    {"speech_0300s.wav", CYCLE_MIXED, 300.0, 0},
    /* The fixed benchmark file: the five LibriVox clips twelve times (332.8 s). */
    {"librivox_x12.wav", CYCLE_LIBRIVOX, 0, 60},
    {"speech_0570s.wav", CYCLE_MIXED, 570.0, 0},
    {"speech_0660s.wav", CYCLE_MIXED, 660.0, 0},
    {"speech_0810s.wav", CYCLE_MIXED, 810.0, 0},
};
#define N_SPECS (sizeof specs / sizeof specs[0])
/* The spec whose speech is also written in the other formats. */
#define FORMAT_SOURCE 1

stt_corpus_params stt_corpus_default_params(void)
{
    stt_corpus_params p = {DEFAULT_TESTDATA, 0, 0.6, 1, 1};
    return p;
}

/* "<s> words </s> (id)" -> words, single-spaced. */
static void clean_reference(const char *line, char *out, size_t len)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", line);
    char *paren = strrchr(tmp, '(');
    if (paren) *paren = 0;
    size_t o = 0;
    out[0] = 0;
    for (char *save = NULL, *w = strtok_r(tmp, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        if (!strcmp(w, "<s>") || !strcmp(w, "</s>")) continue;
        int k = snprintf(out + o, len - o, "%s%s", o ? " " : "", w);
        if (k < 0 || (size_t)k >= len - o) break;
        o += (size_t)k;
    }
}

/* Finds "(id)" at the end of a line of a transcription file. */
static int find_transcript(const char *path, const char *id, char *out, size_t len, char *err,
                           size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    char line[1024], want[128];
    snprintf(want, sizeof want, "(%s)", id);
    int rc = stt_seterr(err, errlen, STT_ENOTFOUND, "%s: no transcript for %s", path, id);
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, want)) {
            clean_reference(line, out, len);
            rc = 0;
            if (err && errlen) err[0] = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

int stt_corpus_clip_reference(const char *testdata_dir, const char *id, char *buf, size_t len,
                              char *err, size_t errlen)
{
    char path[1024];
    if (!testdata_dir) testdata_dir = DEFAULT_TESTDATA;
    /* goforward.raw ships without a transcript file; its words are the ones
     * its grammar (goforward.gram) was written for. */
    if (!strcmp(id, "goforward")) {
        snprintf(buf, len, "go forward ten meters");
        return 0;
    }
    if (!strncmp(id, "cards/", 6)) {
        snprintf(path, sizeof path, "%s/cards/cards.transcription", testdata_dir);
        return find_transcript(path, id + 6, buf, len, err, errlen);
    }
    snprintf(path, sizeof path, "%s/librivox/transcription", testdata_dir);
    return find_transcript(path, id, buf, len, err, errlen);
}

static int load_clip(const char *testdata, const char *id, clip *c, char *err, size_t errlen)
{
    char path[1024];
    SF_INFO info = {0};
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    int rc = stt_corpus_clip_reference(testdata, id, c->ref, sizeof c->ref, err, errlen);
    if (rc) return rc;
    if (!strcmp(id, "goforward")) {
        snprintf(path, sizeof path, "%s/goforward.raw", testdata);
        info.samplerate = CORPUS_RATE;
        info.channels = 1;
        info.format = SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE;
    } else if (!strncmp(id, "cards/", 6)) {
        snprintf(path, sizeof path, "%s/%s.wav", testdata, id);
    } else {
        snprintf(path, sizeof path, "%s/librivox/%s.wav", testdata, id);
    }
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    if (info.samplerate != CORPUS_RATE || info.channels != 1 || info.frames <= 0) {
        sf_close(sf);
        return stt_seterr(err, errlen, STT_EAUDIO, "%s: not 16 kHz mono speech", path);
    }
    c->pcm = malloc((size_t)info.frames * sizeof(short));
    if (!c->pcm) {
        sf_close(sf);
        return STT_ENOMEM;
    }
    c->n = (size_t)sf_readf_short(sf, c->pcm, info.frames);
    sf_close(sf);
    if (c->n != (size_t)info.frames)
        return stt_seterr(err, errlen, STT_EAUDIO, "%s: short read", path);
    return 0;
}

int stt_corpus_clip_pcm(const char *testdata_dir, const char *id, short **pcm, size_t *n, char *err,
                        size_t errlen)
{
    clip c;
    int rc = load_clip(testdata_dir ? testdata_dir : DEFAULT_TESTDATA, id, &c, err, errlen);
    if (rc) {
        free(c.pcm);
        return rc;
    }
    *pcm = c.pcm;
    *n = c.n;
    return 0;
}

static const char *const librivox_ids[] = {"0870", "0880", "0890", "0920", "0930"};
static const char *const other_ids[] = {"cards/001", "cards/002", "cards/003",
                                        "cards/004", "cards/005", "goforward"};
#define N_LIBRIVOX 5
#define N_CLIPS (N_LIBRIVOX + 6)

static void free_clips(clip *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].pcm);
}

static int load_clips(const char *testdata, clip *clips, char *err, size_t errlen)
{
    char id[96];
    memset(clips, 0, N_CLIPS * sizeof *clips);
    for (size_t i = 0; i < N_CLIPS; i++) {
        if (i < N_LIBRIVOX)
            snprintf(id, sizeof id, LIBRIVOX_PREFIX "%s", librivox_ids[i]);
        else
            snprintf(id, sizeof id, "%s", other_ids[i - N_LIBRIVOX]);
        int rc = load_clip(testdata, id, &clips[i], err, errlen);
        if (rc) {
            free_clips(clips, N_CLIPS);
            return rc;
        }
    }
    return 0;
}

/* The clip order of a spec: indices into clips[], written to seq (capacity cap). */
static size_t spec_sequence(const file_spec *s, const clip *clips, size_t pause_n, size_t *seq,
                            size_t cap)
{
    size_t n_cycle = s->cycle == CYCLE_LIBRIVOX ? N_LIBRIVOX : N_CLIPS;
    size_t n = 0, samples = 0;
    size_t target = (size_t)(s->target_s * CORPUS_RATE);
    while (n < cap) {
        if (s->n_clips > 0 ? n >= (size_t)s->n_clips : samples >= target) break;
        size_t k = n % n_cycle;
        seq[n++] = k;
        samples += clips[k].n + pause_n;
    }
    return n;
}

static void entry_free(stt_corpus_entry *e)
{
    free(e->file);
    free(e->format);
    free(e->reference);
}

void stt_corpus_free_entries(stt_corpus_entry *e, size_t n)
{
    if (!e) return;
    for (size_t i = 0; i < n; i++)
        entry_free(&e[i]);
    free(e);
}

int stt_corpus_selected(const stt_corpus_entry *e, double max_duration_s)
{
    return max_duration_s <= 0 || e->duration_s <= max_duration_s;
}

static int write_pcm(const char *path, int format, int rate, int channels, const short *pcm,
                     size_t frames, char *err, size_t errlen)
{
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    sf_count_t w = sf_writef_short(sf, pcm, (sf_count_t)frames);
    int rc = 0;
    if (w != (sf_count_t)frames)
        rc = stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(sf));
    if (sf_close(sf) && !rc) rc = stt_seterr(err, errlen, STT_EIO, "%s: close failed", path);
    return rc;
}

/* CRC-32 of an Ogg page (polynomial 0x04c11db7, unreflected, initial 0).
 * libogg has it, but libogg is not among the project's link dependencies and
 * this is the only use. */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 24;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

/* libsndfile gives every Ogg stream a serial number seeded from the clock;
 * rewriting it to a constant (and fixing each page's CRC) makes the file
 * reproducible. Serial numbers carry no audio. */
static int ogg_fix_serial(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r+b");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *buf = size > 0 ? malloc((size_t)size) : NULL;
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return stt_seterr(err, errlen, STT_EIO, "%s: cannot read back", path);
    }
    size_t pos = 0, n = (size_t)size;
    int rc = 0;
    while (pos + 27 <= n) {
        unsigned char *pg = buf + pos;
        if (memcmp(pg, "OggS", 4)) {
            rc = stt_seterr(err, errlen, STT_EAUDIO, "%s: bad Ogg page at %zu", path, pos);
            break;
        }
        size_t nseg = pg[26], body = 0;
        if (pos + 27 + nseg > n) break;
        for (size_t i = 0; i < nseg; i++)
            body += pg[27 + i];
        size_t len = 27 + nseg + body;
        if (pos + len > n) break;
        static const unsigned char serial[4] = {0x74, 0x74, 0x73, 0x01};
        memcpy(pg + 14, serial, 4);
        memset(pg + 22, 0, 4);
        uint32_t crc = ogg_crc(pg, len);
        for (int i = 0; i < 4; i++)
            pg[22 + i] = (unsigned char)(crc >> (8 * i));
        pos += len;
    }
    if (!rc) {
        rewind(f);
        if (fwrite(buf, 1, n, f) != n) rc = stt_seterr(err, errlen, STT_EIO, "%s: write", path);
    }
    free(buf);
    if (fclose(f) && !rc) rc = stt_seterr(err, errlen, STT_EIO, "%s: close", path);
    return rc;
}

/* Fills e from the file as written: duration as a decoder sees it. */
static int describe(const char *dir, const char *name, const char *format, const char *ref,
                    int clips, stt_corpus_entry *e, char *err, size_t errlen)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, sf_strerror(NULL));
    sf_close(sf);
    struct stat st;
    if (stat(path, &st)) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    memset(e, 0, sizeof *e);
    e->file = strdup(name);
    e->format = strdup(format);
    e->reference = strdup(ref);
    if (!e->file || !e->format || !e->reference) {
        entry_free(e);
        return STT_ENOMEM;
    }
    e->duration_s = info.samplerate > 0 ? (double)info.frames / info.samplerate : 0;
    e->bytes = (long long)st.st_size;
    e->sample_rate = info.samplerate;
    e->channels = info.channels;
    e->clips = clips;
    return 0;
}

/* The 44.1 kHz stereo copy: soxr's high-quality resampler, channel duplicated. */
static int write_441_stereo(const char *path, const short *pcm, size_t n, char *err, size_t errlen)
{
    double ratio = 44100.0 / CORPUS_RATE;
    size_t out_cap = (size_t)(n * ratio) + 64, done = 0;
    short *mono = malloc(out_cap * sizeof(short));
    short *st = malloc(out_cap * 2 * sizeof(short));
    if (!mono || !st) {
        free(mono);
        free(st);
        return STT_ENOMEM;
    }
    soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    /* soxr dithers 16-bit output with a random seed; the corpus must be reproducible. */
    io.flags |= SOXR_NO_DITHER;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_error_t e =
        soxr_oneshot(CORPUS_RATE, 44100, 1, pcm, n, NULL, mono, out_cap, &done, &io, &q, NULL);
    int rc = 0;
    if (e) {
        rc = stt_seterr(err, errlen, STT_EAUDIO, "soxr: %s", e);
    } else {
        for (size_t i = 0; i < done; i++)
            st[2 * i] = st[2 * i + 1] = mono[i];
        rc = write_pcm(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, st, done, err, errlen);
    }
    free(mono);
    free(st);
    return rc;
}

static int write_json(const char *dir, const stt_corpus_entry *e, size_t n, char *err,
                      size_t errlen)
{
    char path[2048];
    json_t *arr = json_array();
    if (!arr) return STT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *o =
            json_pack("{s:s, s:f, s:I, s:s, s:i, s:i, s:s, s:i}", "file", e[i].file, "duration_s",
                      round(e[i].duration_s * 1e6) / 1e6, "bytes", (json_int_t)e[i].bytes, "format",
                      e[i].format, "sample_rate", e[i].sample_rate, "channels", e[i].channels,
                      "reference", e[i].reference, "clips", e[i].clips);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            return STT_ENOMEM;
        }
    }
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    int rc = json_dump_file(arr, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (rc) return stt_seterr(err, errlen, STT_EIO, "%s: cannot write", path);

    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    fprintf(f, "file\tduration_s\tbytes\tformat\tsample_rate\tchannels\tclips\treference\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\t%.3f\t%lld\t%s\t%d\t%d\t%d\t%s\n", e[i].file, e[i].duration_s, e[i].bytes,
                e[i].format, e[i].sample_rate, e[i].channels, e[i].clips, e[i].reference);
    if (fclose(f)) return stt_seterr(err, errlen, STT_EIO, "%s: write failed", path);
    return 0;
}

/* Concatenates the clips of seq with pauses into a fresh buffer and their
 * references into ref. */
static int assemble(const clip *clips, const size_t *seq, size_t n_seq, size_t pause_n, short **pcm,
                    size_t *n_pcm, char **ref)
{
    size_t total = 0, ref_len = 1;
    for (size_t i = 0; i < n_seq; i++) {
        total += clips[seq[i]].n + pause_n;
        ref_len += strlen(clips[seq[i]].ref) + 1;
    }
    short *buf = calloc(total ? total : 1, sizeof(short)); /* zeros are the pauses */
    char *r = malloc(ref_len);
    if (!buf || !r) {
        free(buf);
        free(r);
        return STT_ENOMEM;
    }
    size_t o = 0, ro = 0;
    r[0] = 0;
    for (size_t i = 0; i < n_seq; i++) {
        const clip *c = &clips[seq[i]];
        memcpy(buf + o, c->pcm, c->n * sizeof(short));
        o += c->n + pause_n;
        ro += (size_t)sprintf(r + ro, "%s%s", ro ? " " : "", c->ref);
    }
    *pcm = buf;
    *n_pcm = total;
    *ref = r;
    return 0;
}

/* The clip set: every clip alone, followed by its pause, in OUT/clips with
 * its own manifest, as single utterances for fits over one-piece requests.
 * Clip 0870 is left out: with its pause it is speech_0008s.wav already. */
static int write_clip_set(const char *out_dir, const clip *clips, size_t pause_n, double max_s,
                          stt_corpus_entry *entries, size_t *n, char *err, size_t errlen)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/" STT_CORPUS_CLIPS_DIR, out_dir);
    if (mkdir(dir, 0777) && errno != EEXIST)
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", dir, strerror(errno));
    size_t first = *n;
    int rc = 0;
    for (size_t i = 1; i < N_CLIPS && !rc; i++) {
        const clip *c = &clips[i];
        if (max_s > 0 && (double)(c->n + pause_n) / CORPUS_RATE > max_s) continue;
        char name[160];
        const char *id = !strncmp(c->id, LIBRIVOX_PREFIX, strlen(LIBRIVOX_PREFIX))
                             ? c->id + strlen(LIBRIVOX_PREFIX)
                             : c->id;
        snprintf(name, sizeof name, "clip_%s.wav", id);
        for (char *q = name; *q; q++)
            if (*q == '/') *q = '_';
        short *pcm = calloc(c->n + pause_n, sizeof *pcm);
        if (!pcm) return STT_ENOMEM;
        memcpy(pcm, c->pcm, c->n * sizeof *pcm);
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        rc = write_pcm(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, CORPUS_RATE, 1, pcm, c->n + pause_n,
                       err, errlen);
        free(pcm);
        if (!rc) rc = describe(dir, name, "wav", c->ref, 1, &entries[(*n)++], err, errlen);
    }
    if (!rc) rc = write_json(dir, entries + first, *n - first, err, errlen);
    /* The caller's list names them from the corpus folder. */
    for (size_t i = first; !rc && i < *n; i++) {
        char *f = malloc(strlen(entries[i].file) + sizeof STT_CORPUS_CLIPS_DIR + 1);
        if (!f) return STT_ENOMEM;
        sprintf(f, STT_CORPUS_CLIPS_DIR "/%s", entries[i].file);
        free(entries[i].file);
        entries[i].file = f;
    }
    return rc;
}

int stt_corpus_build(const char *out_dir, const stt_corpus_params *p, stt_corpus_entry **out,
                     size_t *n_out, char *err, size_t errlen)
{
    stt_corpus_params d = stt_corpus_default_params();
    if (!p) p = &d;
    const char *testdata = p->testdata_dir ? p->testdata_dir : DEFAULT_TESTDATA;
    double pause_s = p->pause_s > 0 ? p->pause_s : 0;
    size_t pause_n = (size_t)lround(pause_s * CORPUS_RATE);
    if (!out_dir) return stt_seterr(err, errlen, STT_EINVAL, "no output directory");
    if (mkdir(out_dir, 0777) && errno != EEXIST)
        return stt_seterr(err, errlen, STT_EIO, "%s: %s", out_dir, strerror(errno));

    clip clips[N_CLIPS];
    int rc = load_clips(testdata, clips, err, errlen);
    if (rc) return rc;

    size_t cap = N_SPECS + 4 + N_CLIPS, n = 0;
    stt_corpus_entry *entries = calloc(cap, sizeof *entries);
    size_t seq_cap = 4096;
    size_t *seq = malloc(seq_cap * sizeof *seq);
    if (!entries || !seq) {
        rc = STT_ENOMEM;
        goto done;
    }
    for (size_t s = 0; s < N_SPECS && !rc; s++) {
        size_t n_seq = spec_sequence(&specs[s], clips, pause_n, seq, seq_cap);
        short *pcm = NULL;
        size_t n_pcm = 0;
        char *ref = NULL;
        if ((rc = assemble(clips, seq, n_seq, pause_n, &pcm, &n_pcm, &ref))) break;
        if (p->max_duration_s > 0 && (double)n_pcm / CORPUS_RATE > p->max_duration_s) {
            free(pcm);
            free(ref);
            continue;
        }
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", out_dir, specs[s].name);
        rc = write_pcm(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, CORPUS_RATE, 1, pcm, n_pcm, err,
                       errlen);
        if (!rc)
            rc = describe(out_dir, specs[s].name, "wav", ref, (int)n_seq, &entries[n++], err,
                          errlen);
        if (!rc && s == FORMAT_SOURCE && p->formats) {
            static const struct {
                const char *suffix, *format;
                int sf_format;
            } fmts[] = {
                {".mp3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
                {".flac", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
                {".ogg", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
                {"_44k_stereo.wav", "wav", 0},
            };
            char base[256];
            snprintf(base, sizeof base, "%.*s", (int)(strlen(specs[s].name) - 4), specs[s].name);
            for (size_t k = 0; k < 4 && !rc; k++) {
                char name[300];
                snprintf(name, sizeof name, "%s%s", base, fmts[k].suffix);
                snprintf(path, sizeof path, "%s/%s", out_dir, name);
                if (fmts[k].sf_format)
                    rc =
                        write_pcm(path, fmts[k].sf_format, CORPUS_RATE, 1, pcm, n_pcm, err, errlen);
                else
                    rc = write_441_stereo(path, pcm, n_pcm, err, errlen);
                if (!rc && !strcmp(fmts[k].format, "ogg")) rc = ogg_fix_serial(path, err, errlen);
                if (!rc)
                    rc = describe(out_dir, name, fmts[k].format, ref, (int)n_seq, &entries[n++],
                                  err, errlen);
            }
        }
        free(pcm);
        free(ref);
    }
    if (!rc) rc = write_json(out_dir, entries, n, err, errlen);
    if (!rc && p->clips)
        rc = write_clip_set(out_dir, clips, pause_n, p->max_duration_s, entries, &n, err, errlen);
done:
    free(seq);
    free_clips(clips, N_CLIPS);
    if (rc || !out) {
        stt_corpus_free_entries(entries, n);
        entries = NULL;
        n = 0;
    }
    if (out) *out = entries;
    if (n_out) *n_out = n;
    return rc;
}

static char *dup_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return strdup(s ? s : "");
}

int stt_corpus_load_manifest(const char *dir, stt_corpus_entry **out, size_t *n_out, char *err,
                             size_t errlen)
{
    char path[2048];
    json_error_t je;
    *out = NULL;
    *n_out = 0;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
    json_t *arr = json_loadf(f, 0, &je);
    fclose(f);
    if (!arr || !json_is_array(arr)) {
        json_decref(arr);
        return stt_seterr(err, errlen, STT_EINVAL, "%s:%d: %s", path, je.line,
                          arr ? "not an array" : je.text);
    }
    size_t n = json_array_size(arr);
    stt_corpus_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e) {
        json_decref(arr);
        return STT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        json_t *file = json_object_get(o, "file"), *dur = json_object_get(o, "duration_s");
        if (!json_is_string(file) || !json_is_number(dur)) {
            stt_corpus_free_entries(e, n);
            json_decref(arr);
            return stt_seterr(err, errlen, STT_EINVAL, "%s: entry %zu lacks file or duration_s",
                              path, i);
        }
        e[i].file = dup_str(o, "file");
        e[i].format = dup_str(o, "format");
        e[i].reference = dup_str(o, "reference");
        if (!e[i].file || !e[i].format || !e[i].reference) {
            stt_corpus_free_entries(e, n);
            json_decref(arr);
            return STT_ENOMEM;
        }
        e[i].duration_s = json_number_value(dur);
        e[i].bytes = (long long)json_integer_value(json_object_get(o, "bytes"));
        e[i].sample_rate = (int)json_integer_value(json_object_get(o, "sample_rate"));
        e[i].channels = (int)json_integer_value(json_object_get(o, "channels"));
        e[i].clips = (int)json_integer_value(json_object_get(o, "clips"));
    }
    json_decref(arr);
    *out = e;
    *n_out = n;
    return 0;
}

int stt_corpus_load_all(const char *dir, stt_corpus_entry **out, size_t *n_out, char *err,
                        size_t errlen)
{
    int rc = stt_corpus_load_manifest(dir, out, n_out, err, errlen);
    if (rc) return rc;
    char sub[2048], path[2100];
    snprintf(sub, sizeof sub, "%s/" STT_CORPUS_CLIPS_DIR, dir);
    snprintf(path, sizeof path, "%s/manifest.json", sub);
    struct stat st;
    if (stat(path, &st)) return 0; /* a corpus built before the clip set */
    stt_corpus_entry *c = NULL;
    size_t nc = 0;
    if ((rc = stt_corpus_load_manifest(sub, &c, &nc, err, errlen))) goto fail;
    stt_corpus_entry *all = realloc(*out, (*n_out + nc + 1) * sizeof *all);
    if (!all) {
        stt_corpus_free_entries(c, nc);
        rc = STT_ENOMEM;
        goto fail;
    }
    *out = all;
    for (size_t i = 0; i < nc; i++) {
        char *f = malloc(strlen(c[i].file) + sizeof STT_CORPUS_CLIPS_DIR + 1);
        if (!f) {
            stt_corpus_free_entries(c + i, nc - i);
            free(c);
            rc = STT_ENOMEM;
            goto fail;
        }
        sprintf(f, STT_CORPUS_CLIPS_DIR "/%s", c[i].file);
        free(c[i].file);
        c[i].file = f;
        all[(*n_out)++] = c[i];
    }
    free(c);
    return 0;
fail:
    stt_corpus_free_entries(*out, *n_out);
    *out = NULL;
    *n_out = 0;
    return rc;
}
