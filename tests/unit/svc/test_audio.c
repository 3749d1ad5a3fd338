/* audio: fixtures are written at test time with libsndfile from a real speech
 * clip (16 kHz mono) in every format and layout the service accepts, then
 * decoded and compared with the original; broken inputs must fail with the
 * right code and a message. */
#include <dirent.h>
#include <math.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <soxr.h>

#include "audio.h"
#include "error.h"
#include "testlib.h"

#define CLIP "librivox/sense_and_sensibility_01_austen_64kb-0880.wav"

static int16_t *ref;    /* the original clip */
static size_t ref_n;    /* its samples */
static const char *dir; /* fixtures */

/* Writes ref, resampled to rate, as path with the given libsndfile format;
 * every channel carries the signal times gains[c] (NULL: 1 everywhere). */
static int write_fixture(const char *path, int format, int rate, int channels, const float *gains)
{
    size_t n = (size_t)((double)ref_n * rate / STT_SAMPLE_RATE + 0.5), done = 0;
    float *in = malloc(ref_n * sizeof *in), *rs = malloc((n + 1) * sizeof *rs);
    float *inter = malloc((n + 1) * (size_t)channels * sizeof *inter);
    int ok = in && rs && inter;
    for (size_t i = 0; ok && i < ref_n; i++)
        in[i] = ref[i] / 32768.0f;
    if (ok && rate == STT_SAMPLE_RATE) {
        memcpy(rs, in, ref_n * sizeof *rs);
        done = ref_n;
    } else if (ok) {
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        ok = !soxr_oneshot(STT_SAMPLE_RATE, rate, 1, in, ref_n, NULL, rs, n, &done, NULL, &q, NULL);
    }
    for (size_t i = 0; ok && i < done; i++)
        for (int c = 0; c < channels; c++)
            inter[i * (size_t)channels + (size_t)c] = rs[i] * (gains ? gains[c] : 1.0f);
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = ok ? sf_open(path, SFM_WRITE, &info) : NULL;
    if (sf) {
        ok = sf_writef_float(sf, inter, (sf_count_t)done) == (sf_count_t)done;
        ok = !sf_close(sf) && ok;
    } else {
        if (ok) fprintf(stderr, "  cannot write %s: %s\n", path, sf_strerror(NULL));
        ok = 0;
    }
    free(in);
    free(rs);
    free(inter);
    return ok;
}

static const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Normalised cross-correlation of a against ref with a shifted by lag. */
static double correlation(const int16_t *a, size_t an, long lag)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < ref_n; i++) {
        long j = (long)i + lag;
        if (j < 0 || (size_t)j >= an) continue;
        ab += (double)a[j] * ref[i];
        aa += (double)a[j] * a[j];
        bb += (double)ref[i] * ref[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* Best correlation over lags up to 30 ms (lossy codecs may shift a little). */
static double best_correlation(const int16_t *a, size_t an, long *lag_out)
{
    double best = -1;
    for (long lag = -480; lag <= 480; lag += 1) {
        double c = correlation(a, an, lag);
        if (c > best) {
            best = c;
            *lag_out = lag;
        }
    }
    return best;
}

static void decode_and_compare(const char *name, int format, int rate, int channels,
                               double min_corr, int lossless)
{
    char err[256] = "";
    stt_audio a;
    REQUIRE(write_fixture(fixture(name), format, rate, channels, NULL));
    int rc = stt_audio_load_file(fixture(name), NULL, &a, err, sizeof err);
    if (rc) fprintf(stderr, "  %s: %s\n", name, err);
    REQUIRE(rc == 0);
    CHECK(a.src_rate == rate);
    CHECK(a.src_channels == channels);
    double dur = stt_audio_duration(&a), want = (double)ref_n / STT_SAMPLE_RATE;
    if (fabs(dur - want) > 0.01 * want)
        fprintf(stderr, "  %s: %.3f s vs %.3f s\n", name, dur, want);
    CHECK(fabs(dur - want) <= 0.01 * want);
    long lag = 0;
    double c = lossless ? correlation(a.samples, a.n_samples, 0)
                        : best_correlation(a.samples, a.n_samples, &lag);
    fprintf(stderr, "  %s: %.3f s, correlation %.4f at lag %ld\n", name, dur, c, lag);
    CHECK(c >= min_corr);
    stt_audio_free(&a);
}

static void test_wav_16k_exact(void)
{
    char err[256];
    stt_audio a;
    REQUIRE(stt_audio_load_file(test_data(CLIP), NULL, &a, err, sizeof err) == 0);
    CHECK(a.n_samples == ref_n);
    CHECK(a.src_rate == 16000 && a.src_channels == 1);
    CHECK_STR_EQ(a.src_format, "wav");
    CHECK(memcmp(a.samples, ref, ref_n * sizeof *ref) == 0);
    stt_audio_free(&a);
    stt_audio_free(&a); /* safe twice */
}

/* Below 16 kHz the band above rate/2 is gone, so the match is looser. */
static void test_wav_u8_8k(void)
{
    decode_and_compare("u8_8k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 0.95, 1);
}

static void test_wav_16bit_22k_stereo(void)
{
    decode_and_compare("s16_22k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 2, 0.999, 1);
}

static void test_wav_24bit_44k_6ch(void)
{
    decode_and_compare("s24_44k_6ch.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 6, 0.999, 1);
}

static void test_wav_32bit_48k(void)
{
    decode_and_compare("s32_48k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 48000, 2, 0.999, 1);
}

static void test_wav_float_44k(void)
{
    decode_and_compare("f32_44k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, 0.999, 1);
}

static void test_flac(void)
{
    decode_and_compare("s16_44k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 0.999, 1);
}

static void test_ogg_vorbis(void)
{
    decode_and_compare("v_22k.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 1, 0.95, 0);
}

static void test_mp3(void)
{
    decode_and_compare("l3_44k.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 0.95, 0);
}

static void test_ogg_opus(void)
{
    decode_and_compare("o_48k.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 1, 0.95, 0);
}

static void test_stereo_equals_mono(void)
{
    char err[256];
    stt_audio m, s;
    REQUIRE(write_fixture(fixture("m44.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, NULL));
    REQUIRE(write_fixture(fixture("s44.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, NULL));
    REQUIRE(stt_audio_load_file(fixture("m44.wav"), NULL, &m, err, sizeof err) == 0);
    REQUIRE(stt_audio_load_file(fixture("s44.wav"), NULL, &s, err, sizeof err) == 0);
    CHECK(s.src_channels == 2 && m.src_channels == 1);
    CHECK(m.n_samples == s.n_samples);
    CHECK(m.n_samples == s.n_samples &&
          memcmp(m.samples, s.samples, m.n_samples * sizeof *m.samples) == 0);
    stt_audio_free(&m);
    stt_audio_free(&s);
}

/* Channels are averaged: opposite channels cancel, one live channel of six
 * comes out at a sixth of its level. */
static void test_mixdown_averages(void)
{
    char err[256];
    stt_audio a;
    const float opposite[2] = {1.0f, -1.0f}, one_of_six[6] = {1, 0, 0, 0, 0, 0};
    REQUIRE(
        write_fixture(fixture("opp.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, opposite));
    REQUIRE(stt_audio_load_file(fixture("opp.wav"), NULL, &a, err, sizeof err) == 0);
    int maxabs = 0;
    for (size_t i = 0; i < a.n_samples; i++)
        maxabs = abs(a.samples[i]) > maxabs ? abs(a.samples[i]) : maxabs;
    CHECK(maxabs <= 1);
    stt_audio_free(&a);

    REQUIRE(
        write_fixture(fixture("one6.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 6, one_of_six));
    REQUIRE(stt_audio_load_file(fixture("one6.wav"), NULL, &a, err, sizeof err) == 0);
    REQUIRE(a.n_samples == ref_n);
    int worst = 0;
    for (size_t i = 0; i < ref_n; i++) {
        int d = abs(a.samples[i] - (int)lrint(ref[i] / 6.0));
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= 1);
    stt_audio_free(&a);
}

static void test_float_clipping_and_nan(void)
{
    const float v[8] = {NAN, INFINITY, -INFINITY, 2.0f, -2.0f, 0.5f, -0.25f, 1e30f};
    const int16_t want[8] = {0, 0, 0, 32767, -32768, 16384, -8192, 32767};
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(fixture("nan.wav"), SFM_WRITE, &info);
    REQUIRE(sf);
    CHECK(sf_writef_float(sf, v, 8) == 8);
    sf_close(sf);
    char err[256];
    stt_audio a;
    REQUIRE(stt_audio_load_file(fixture("nan.wav"), NULL, &a, err, sizeof err) == 0);
    REQUIRE(a.n_samples == 8);
    CHECK(memcmp(a.samples, want, sizeof want) == 0);
    stt_audio_free(&a);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* A 16-bit PCM WAV header for data_bytes of data; the caller appends data. */
static void wav_header(uint8_t h[44], unsigned channels, unsigned rate, uint32_t data_bytes)
{
    memcpy(h, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0", 20);
    put32(h + 4, 36 + data_bytes);
    put16(h + 20, 1); /* PCM */
    put16(h + 22, channels);
    put32(h + 24, rate);
    put32(h + 28, rate * channels * 2);
    put16(h + 32, channels * 2);
    put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put32(h + 40, data_bytes);
}

static void expect_fail(const void *data, size_t len, double max_s, int code, const char *needle)
{
    char err[256] = "";
    stt_audio a;
    stt_audio_params p = stt_audio_default_params();
    if (max_s >= 0) p.max_duration_s = max_s;
    int rc = stt_audio_decode(data, len, &p, &a, err, sizeof err);
    fprintf(stderr, "  %s: %s\n", stt_strerror(rc), err);
    if (rc != code || !strstr(err, needle)) fprintf(stderr, "  want %d \"%s\"\n", code, needle);
    CHECK(rc == code);
    CHECK(err[0] != '\0');
    CHECK(strstr(err, needle) != NULL);
    CHECK(a.samples == NULL && a.n_samples == 0);
}

static void test_broken_inputs(void)
{
    const uint8_t rnd[10] = {0x3c, 0x91, 0x07, 0xee, 0x52, 0xa8, 0x1d, 0x66, 0xf0, 0x2b};
    expect_fail("", 0, -1, STT_EAUDIO, "empty");
    expect_fail(NULL, 0, -1, STT_EAUDIO, "empty");
    expect_fail(rnd, sizeof rnd, -1, STT_EAUDIO, "not an audio file");
    expect_fail("hello", 5, -1, STT_EAUDIO, "not an audio file: plain text");
    expect_fail("{\"text\": 1}", 11, -1, STT_EAUDIO, "JSON");
    static const uint8_t zeros[4096];
    expect_fail(zeros, sizeof zeros, -1, STT_EAUDIO, "zero bytes");
    const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'};
    expect_fail(png, sizeof png, -1, STT_EAUDIO, "PNG");
}

static void test_broken_wav_headers(void)
{
    uint8_t buf[44 + 3200];
    memset(buf + 44, 0x11, 3200);
    wav_header(buf, 1, 16000, 0);
    expect_fail(buf, 44, -1, STT_EAUDIO, "no audio samples"); /* header only */
    wav_header(buf, 0, 16000, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "0 channels");
    wav_header(buf, 1, 0, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "sample rate 0");
    wav_header(buf, 65535, 16000, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "65535 channels");
    wav_header(buf, 1, 4000000, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "sample rate");
    wav_header(buf, 1, 16000, 3200);
    buf[32] = buf[33] = 0; /* block size 0 */
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "block size");
    wav_header(buf, 1, 16000, 3200);
    expect_fail(buf, 30, -1, STT_EAUDIO, "WAV"); /* cut inside fmt */
}

/* A WAV cut in half is reported as truncated with both lengths; the same
 * bytes with a "length unknown" size (as written to a pipe) decode. */
static void test_truncated_wav(void)
{
    size_t len;
    char *wav = test_read_file(test_data(CLIP), &len);
    REQUIRE(wav && len > 44 && !memcmp(wav + 36, "data", 4));
    size_t half = 44 + (len - 44) / 2;
    char want[128];
    snprintf(want, sizeof want, "truncated WAV: header says %zu frames, data holds %zu",
             (len - 44) / 2, (half - 44) / 2);
    expect_fail(wav, half, -1, STT_EAUDIO, want);

    memset(wav + 40, 0xff, 4);
    char err[256];
    stt_audio a;
    REQUIRE(stt_audio_decode(wav, half, NULL, &a, err, sizeof err) == 0);
    CHECK(a.n_samples == (half - 44) / 2);
    stt_audio_free(&a);
    free(wav);
}

/* FLAC states its length, so a cut-off FLAC is reported; Ogg and MP3 do
 * not, and a cut inside their audio decodes what is there. Damage in the Ogg
 * header pages (which libsndfile cannot survive without leaking) is refused
 * up front. */
static void test_truncated_compressed(void)
{
    size_t len;
    REQUIRE(write_fixture(fixture("t.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, NULL));
    char *flac = test_read_file(fixture("t.flac"), &len);
    REQUIRE(flac);
    expect_fail(flac, len / 2, -1, STT_EAUDIO, "truncated");
    free(flac);

    REQUIRE(write_fixture(fixture("t.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, NULL));
    char *ogg = test_read_file(fixture("t.ogg"), &len);
    REQUIRE(ogg && len > 400);
    expect_fail(ogg, 100, -1, STT_EAUDIO, "Ogg");
    char err[256];
    stt_audio a;
    REQUIRE(stt_audio_decode(ogg, len * 3 / 4, NULL, &a, err, sizeof err) == 0);
    CHECK(a.n_samples > 0 && a.n_samples < ref_n);
    stt_audio_free(&a);
    char *page2 = memmem(ogg + 4, len - 4, "OggS", 4);
    REQUIRE(page2 && page2 + 60 < ogg + len);
    page2[60] ^= 0x40; /* inside the comment or setup header */
    expect_fail(ogg, len, -1, STT_EAUDIO, "checksum");
    free(ogg);
}

static void test_unsupported_containers(void)
{
    const uint8_t mp4[] = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'M', '4', 'A', ' ', 0, 0, 0, 0};
    expect_fail(mp4, sizeof mp4, -1, STT_EFORMAT, "MP4");
    const uint8_t webm[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01};
    expect_fail(webm, sizeof webm, -1, STT_EFORMAT, "WebM");
    const uint8_t adts[] = {0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc, 0x21, 0x00};
    expect_fail(adts, sizeof adts, -1, STT_EFORMAT, "AAC");
}

static void test_too_long(void)
{
    size_t len;
    char *wav = test_read_file(test_data(CLIP), &len);
    REQUIRE(wav);
    expect_fail(wav, len, 1.0, STT_ETOOLONG, "limit");
    free(wav);
    /* Compressed input is judged while decoding. */
    REQUIRE(write_fixture(fixture("long.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 1, NULL));
    char *flac = test_read_file(fixture("long.flac"), &len);
    REQUIRE(flac);
    expect_fail(flac, len, 1.5, STT_ETOOLONG, "limit");
    free(flac);
}

/* Header fields that describe no real file are refused, saying which. */
static void test_impossible_headers(void)
{
    uint8_t buf[44 + 3200];
    memset(buf + 44, 0x11, 3200);
    wav_header(buf, 1, 16000, 3200);
    put16(buf + 34, 7); /* 7 bits per sample */
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "7 bits");
    wav_header(buf, 2, 16000, 3200);
    put16(buf + 32, 2); /* one 16-bit sample per block, for two channels */
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "block size 2 for 2 channels");
    wav_header(buf, 1, 16000, 3200);
    put16(buf + 20, 3); /* float with 16 bits */
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "16 bits");
    wav_header(buf, 65, 16000, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "65 channels");
    wav_header(buf, 16, 384000, 3200);
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "samples per second");
    wav_header(buf, 1, 16000, 3200);
    memcpy(buf + 36, "junk", 4); /* no data chunk after fmt, and no more chunks */
    memcpy(buf + 12, "junk", 4); /* ...nor a fmt chunk */
    expect_fail(buf, sizeof buf, -1, STT_EAUDIO, "no fmt chunk");

    size_t len;
    REQUIRE(write_fixture(fixture("h.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, NULL));
    uint8_t *flac = (uint8_t *)test_read_file(fixture("h.flac"), &len);
    REQUIRE(flac && len > 42);
    uint8_t keep = flac[21];
    flac[21] = (uint8_t)(flac[21] & 0x0f); /* bits per sample 1 */
    flac[20] &= 0xfe;
    expect_fail(flac, len, -1, STT_EAUDIO, "bits per sample");
    flac[21] = keep;
    flac[8] = flac[9] = 0; /* minimum block size 0 */
    expect_fail(flac, len, -1, STT_EAUDIO, "block sizes");
    flac[4] = 0x04; /* the first block is not STREAMINFO */
    expect_fail(flac, len, -1, STT_EAUDIO, "STREAMINFO");
    free(flac);

    REQUIRE(write_fixture(fixture("h.ogg"), SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, NULL));
    uint8_t *ogg = (uint8_t *)test_read_file(fixture("h.ogg"), &len);
    REQUIRE(ogg && len > 60 && !memcmp(ogg + 28, "\x01vorbis", 7));
    ogg[28 + 28] = 0x5e; /* block sizes 2^14 and 2^5 */
    expect_fail(ogg, len, -1, STT_EAUDIO, "block sizes");
    free(ogg);
}

/* Only WAV (PCM, float), FLAC, Ogg Vorbis/Opus and MP3 are decoded; other
 * containers and codecs libsndfile could read are refused with 415. */
static void test_off_the_allowlist(void)
{
    static const struct {
        const char *name;
        int format;
        const char *needle;
    } v[] = {
        {"x.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, "AIFF"},
        {"x.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, "AU"},
        {"x.voc", SF_FORMAT_VOC | SF_FORMAT_PCM_16, "VOC"},
        {"x.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, "Wave64"},
        {"x.caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16, "CAF"},
        {"x.nist", SF_FORMAT_NIST | SF_FORMAT_PCM_16, "NIST"},
        {"x.ircam", SF_FORMAT_IRCAM | SF_FORMAT_PCM_16, "IRCAM"},
        {"ima.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, "IMA ADPCM"},
        {"ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, "mu-law"},
        {"gsm.wav", SF_FORMAT_WAV | SF_FORMAT_GSM610, "GSM"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len;
        REQUIRE(write_fixture(fixture(v[i].name), v[i].format, 16000, 1, NULL));
        char *b = test_read_file(fixture(v[i].name), &len);
        REQUIRE(b);
        expect_fail(b, len, -1, STT_EFORMAT, v[i].needle);
        free(b);
    }
}

typedef struct got {
    int16_t *s;
    size_t n, cap;
    size_t fail_at;
} got;

static int take(void *ctx, const int16_t *s, size_t n)
{
    got *g = ctx;
    if (g->fail_at && g->n + n > g->fail_at) return STT_ENOMEM;
    if (g->n + n > g->cap) {
        g->cap = (g->n + n) * 2;
        g->s = realloc(g->s, g->cap * sizeof *g->s);
        if (!g->s) return STT_ENOMEM;
    }
    memcpy(g->s + g->n, s, n * sizeof *s);
    g->n += n;
    return 0;
}

/* The streaming form gives the same samples as the whole-buffer one, and a
 * sink's failure stops decoding with its code. */
static void test_decode_to_a_sink(void)
{
    size_t len;
    REQUIRE(write_fixture(fixture("s.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, NULL));
    char *flac = test_read_file(fixture("s.flac"), &len);
    REQUIRE(flac);
    char err[256];
    stt_audio whole, info;
    REQUIRE(stt_audio_decode(flac, len, NULL, &whole, err, sizeof err) == 0);
    got g = {0};
    REQUIRE(stt_audio_decode_to(flac, len, NULL, take, &g, &info, err, sizeof err) == 0);
    CHECK(info.samples == NULL && info.n_samples == whole.n_samples && g.n == whole.n_samples);
    CHECK(info.src_rate == 44100 && info.src_channels == 2 && !strcmp(info.src_format, "flac"));
    CHECK(g.s && !memcmp(g.s, whole.samples, g.n * sizeof *g.s));
    free(g.s);
    got full = {.fail_at = 1000};
    CHECK(stt_audio_decode_to(flac, len, NULL, take, &full, &info, err, sizeof err) == STT_ENOMEM);
    CHECK(full.n <= 1000);
    free(full.s);
    stt_audio_free(&whole);
    free(flac);
}

static void test_missing_file(void)
{
    char err[256] = "";
    stt_audio a;
    CHECK(stt_audio_load_file(fixture("nope.wav"), NULL, &a, err, sizeof err) == STT_EIO);
    CHECK(err[0] != '\0');
}

static void remove_fixtures(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') unlink(fixture(e->d_name));
    if (d) closedir(d);
    rmdir(dir);
}

int main(void)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(test_data(CLIP), SFM_READ, &info);
    if (!sf || info.samplerate != 16000 || info.channels != 1) {
        fprintf(stderr, "cannot read %s\n", test_data(CLIP));
        return 1;
    }
    ref_n = (size_t)info.frames;
    ref = malloc(ref_n * sizeof *ref);
    if (!ref || sf_readf_short(sf, ref, (sf_count_t)ref_n) != (sf_count_t)ref_n) return 1;
    sf_close(sf);
    dir = test_tmpdir();
    if (!dir) return 1;

    TEST_RUN(test_wav_16k_exact);
    TEST_RUN(test_wav_u8_8k);
    TEST_RUN(test_wav_16bit_22k_stereo);
    TEST_RUN(test_wav_24bit_44k_6ch);
    TEST_RUN(test_wav_32bit_48k);
    TEST_RUN(test_wav_float_44k);
    TEST_RUN(test_flac);
    TEST_RUN(test_ogg_vorbis);
    TEST_RUN(test_mp3);
    TEST_RUN(test_ogg_opus);
    TEST_RUN(test_stereo_equals_mono);
    TEST_RUN(test_mixdown_averages);
    TEST_RUN(test_float_clipping_and_nan);
    TEST_RUN(test_broken_inputs);
    TEST_RUN(test_broken_wav_headers);
    TEST_RUN(test_truncated_wav);
    TEST_RUN(test_truncated_compressed);
    TEST_RUN(test_unsupported_containers);
    TEST_RUN(test_too_long);
    TEST_RUN(test_impossible_headers);
    TEST_RUN(test_off_the_allowlist);
    TEST_RUN(test_decode_to_a_sink);
    TEST_RUN(test_missing_file);
    free(ref);
    remove_fixtures();
    return test_summary();
}
