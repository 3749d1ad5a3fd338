#include "audio.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>
#include <soxr.h>

#include "error.h"

/* What real recordings use, with room to spare: studio rates reach 384 kHz and
 * microphone arrays 64 channels. The product bounds the input work per second
 * of audio (decoding and mixing cost grows with channels x rate, the output
 * does not): 64 channels at 48 kHz, or 8 at 384 kHz. */
#define MAX_CHANNELS 64
#define MAX_RATE 384000
#define MAX_INPUT_RATE 3072000.0
#define READ_SAMPLES 16384        /* interleaved samples per libsndfile read */
#define OUT_CHUNK 8192            /* 16 kHz samples per resampler call */
#define STREAMED_SIZE 0x7fff0000u /* data sizes at or above this mean "unknown" */

stt_audio_params stt_audio_default_params(void)
{
    stt_audio_params p = {.max_duration_s = 600.0};
    return p;
}

double stt_audio_duration(const stt_audio *a)
{
    return a ? (double)a->n_samples / STT_SAMPLE_RATE : 0.0;
}

void stt_audio_free(stt_audio *a)
{
    if (!a) return;
    free(a->samples);
    a->samples = NULL;
    a->n_samples = 0;
}

/* ---- libsndfile virtual I/O over a read-only memory buffer ---- */

typedef struct membuf {
    const uint8_t *data;
    sf_count_t len, pos;
} membuf;

static sf_count_t mb_len(void *user)
{
    return ((membuf *)user)->len;
}

/* libsndfile's virtual I/O contract: a failed seek returns -1 (not an STT_E*
 * code; this value never leaves libsndfile). */
static sf_count_t mb_seek(sf_count_t offset, int whence, void *user)
{
    membuf *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return -1;
    /* Headers supply offsets; checked arithmetic keeps a hostile one from overflowing. */
    if ((offset > 0 && base > INT64_MAX - offset) || (offset < 0 && base + offset < 0)) return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mb_read(void *ptr, sf_count_t count, void *user)
{
    membuf *m = user;
    if (count <= 0 || m->pos >= m->len) return 0;
    sf_count_t n = m->len - m->pos < count ? m->len - m->pos : count;
    memcpy(ptr, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t mb_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0;
}

static sf_count_t mb_tell(void *user)
{
    return ((membuf *)user)->pos;
}

/* ---- recognising what the bytes are ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int starts(const uint8_t *p, size_t len, size_t at, const char *magic, size_t n)
{
    return len >= at + n && memcmp(p + at, magic, n) == 0;
}

static int is_mpeg_audio_sync(const uint8_t *p, size_t len)
{
    /* 11 sync bits, then a layer field that is not 00 (00 is AAC's ADTS). */
    return len >= 2 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 && (p[1] & 0x06) != 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The containers and codecs we decode, by their first bytes. Anything else is
 * refused before a codec library parses it: each parser is attack surface,
 * and libsndfile alone would read a dozen more containers (VOC, AU, CAF, W64,
 * NIST, IRCAM, MAT, SD2, XI, HTK, ...) that nobody sends to a speech API. */
enum kind { K_NONE, K_WAV, K_FLAC, K_OGG, K_MP3 };

static enum kind allowed_container(const uint8_t *p, size_t len)
{
    if ((starts(p, len, 0, "RIFF", 4) || starts(p, len, 0, "RIFX", 4) ||
         starts(p, len, 0, "RF64", 4)) &&
        starts(p, len, 8, "WAVE", 4))
        return K_WAV;
    if (starts(p, len, 0, "fLaC", 4)) return K_FLAC;
    if (starts(p, len, 0, "OggS", 4)) return K_OGG;
    if (starts(p, len, 0, "ID3", 3) || is_mpeg_audio_sync(p, len)) return K_MP3;
    return K_NONE;
}

/* Names a container or codec that we recognise and do not decode, else NULL. */
static const char *unsupported_container(const uint8_t *p, size_t len)
{
    if (starts(p, len, 4, "ftyp", 4)) return "MP4/M4A (ISO media)";
    if (starts(p, len, 0, "\x1a\x45\xdf\xa3", 4)) return "WebM/Matroska";
    if (len >= 2 && p[0] == 0xff && (p[1] & 0xf6) == 0xf0) return "AAC (ADTS)";
    if (starts(p, len, 0, "ADIF", 4)) return "AAC (ADIF)";
    if (starts(p, len, 0, "#!AMR", 5)) return "AMR";
    if (starts(p, len, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8)) return "ASF/WMA";
    if (starts(p, len, 0, "wvpk", 4)) return "WavPack";
    if (starts(p, len, 0, "MAC ", 4)) return "Monkey's Audio";
    if (starts(p, len, 0, "MThd", 4)) return "MIDI (not sampled audio)";
    if (starts(p, len, 0, ".RMF", 4)) return "RealMedia";
    if (starts(p, len, 0, "RIFF", 4) && starts(p, len, 8, "AVI ", 4)) return "AVI";
    if (starts(p, len, 0, "FORM", 4)) return "AIFF/IFF";
    if (starts(p, len, 0, "caff", 4)) return "CAF";
    if (starts(p, len, 0, ".snd", 4) || starts(p, len, 0, "dns.", 4)) return "AU/SND";
    if (starts(p, len, 0, "Creative Voice File", 19)) return "VOC";
    if (starts(p, len, 0, "riff\x2e\x91\xcf\x11", 8)) return "Sony Wave64";
    if (starts(p, len, 0, "NIST_1A", 7)) return "NIST SPHERE";
    if (starts(p, len, 0, "\x64\xa3\x01\x00", 4) || starts(p, len, 0, "\x00\x01\xa3\x64", 4) ||
        starts(p, len, 0, "\x64\xa3\x02\x00", 4) || starts(p, len, 0, "\x00\x02\xa3\x64", 4) ||
        starts(p, len, 0, "\x64\xa3\x03\x00", 4) || starts(p, len, 0, "\x00\x03\xa3\x64", 4) ||
        starts(p, len, 0, "\x64\xa3\x04\x00", 4) || starts(p, len, 0, "\x00\x04\xa3\x64", 4))
        return "IRCAM";
    if (starts(p, len, 0, "MATLAB", 6)) return "MATLAB MAT";
    if (starts(p, len, 0, "Extended Instrument:", 20)) return "FastTracker XI";
    if (starts(p, len, 0, "2BIT", 4)) return "AVR";
    if (starts(p, len, 0, " paf", 4) || starts(p, len, 0, "fap ", 4)) return "PAF";
    if (starts(p, len, 0, "ALaw\x53\x6f\x75\x6e\x64\x46\x69\x6c\x65", 13)) return "WVE";
    if (starts(p, len, 0, "\xf0\x7e", 2)) return "MIDI sample dump";
    if (starts(p, len, 0, "OggS", 4) && len >= 36) {
        const uint8_t *c = p + 28; /* the first packet of the first page */
        if (!memcmp(c, "\x01vorbis", 7) || !memcmp(c, "OpusHead", 8)) return NULL;
        if (!memcmp(c, "Speex   ", 8)) return "Ogg/Speex";
        if (!memcmp(c,
                    "\x7f"
                    "FLAC",
                    5))
            return "Ogg/FLAC";
        if (!memcmp(c, "\x80theora", 7)) return "Ogg/Theora video";
        return "Ogg with an unknown codec";
    }
    return NULL;
}

/* Rate and channel count within what any real recording uses (see MAX_*). */
static int check_layout(const char *what, unsigned long channels, unsigned long rate, char *err,
                        size_t errlen)
{
    if (channels < 1 || channels > MAX_CHANNELS)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt %s header: %lu channels (1 to %d allowed)", what, channels,
                          MAX_CHANNELS);
    if (rate < 1 || rate > MAX_RATE)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt %s header: sample rate %lu Hz (1 to %d allowed)", what, rate,
                          MAX_RATE);
    if ((double)channels * (double)rate > MAX_INPUT_RATE)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "%s header: %lu channels at %lu Hz is more than %.0f samples per second",
                          what, channels, rate, MAX_INPUT_RATE);
    return 0;
}

/* Says in a few words what non-audio bytes look like. */
static void describe_non_audio(const uint8_t *p, size_t len, char *buf, size_t buflen)
{
    size_t n = len < 512 ? len : 512, i;
    int zero = 1, text = 1;
    for (i = 0; i < len && zero; i++)
        zero = p[i] == 0;
    for (i = 0; i < n && text; i++)
        text = p[i] >= 0x80 || p[i] >= 0x20 || p[i] == '\t' || p[i] == '\n' || p[i] == '\r';
    if (zero)
        snprintf(buf, buflen, "%zu zero bytes", len);
    else if (starts(p, len, 0, "\x89PNG", 4))
        snprintf(buf, buflen, "a PNG image");
    else if (starts(p, len, 0, "\xff\xd8\xff", 3))
        snprintf(buf, buflen, "a JPEG image");
    else if (starts(p, len, 0, "GIF8", 4))
        snprintf(buf, buflen, "a GIF image");
    else if (starts(p, len, 0, "%PDF", 4))
        snprintf(buf, buflen, "a PDF document");
    else if (starts(p, len, 0, "PK\x03\x04", 4))
        snprintf(buf, buflen, "a ZIP archive");
    else if (text) {
        for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'); i++)
            ;
        const char *kind = i < n && (p[i] == '{' || p[i] == '[') ? "JSON"
                           : i < n && p[i] == '<'                ? "HTML/XML"
                                                                 : "plain";
        snprintf(buf, buflen, "%s text", kind);
    } else {
        snprintf(buf, buflen, "unrecognised binary data starting %02x %02x %02x %02x",
                 len > 0 ? p[0] : 0, len > 1 ? p[1] : 0, len > 2 ? p[2] : 0, len > 3 ? p[3] : 0);
    }
}

/* The name of a WAV codec tag that we do not decode, for the 415 message. */
static const char *wav_codec_name(unsigned tag)
{
    switch (tag) {
    case 0x0002:
        return "Microsoft ADPCM";
    case 0x0006:
        return "A-law";
    case 0x0007:
        return "mu-law";
    case 0x0011:
        return "IMA ADPCM";
    case 0x0031:
        return "GSM 6.10";
    case 0x0050:
        return "MPEG";
    case 0x0055:
        return "MP3";
    case 0x00ff:
        return "AAC";
    default:
        return "unknown codec";
    }
}

/* The fmt chunk: only PCM (8, 16, 24, 32 bits) and IEEE float (32, 64 bits)
 * are decoded, alone or inside WAVE_FORMAT_EXTENSIBLE; the block size must be
 * exactly one frame of them (a header saying 7 bits, or a block that is not
 * channels x bytes, describes no real file and would be read as noise). */
static int check_wav_fmt(const uint8_t *c, uint64_t size, unsigned *tag_out, unsigned *align_out,
                         char *err, size_t errlen)
{
    static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                          0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
    unsigned tag = le16(c + 8), channels = le16(c + 10), align = le16(c + 20), bits = le16(c + 22);
    uint32_t rate = le32(c + 12);
    unsigned valid = bits;
    if (tag == 0xfffe) {
        if (size < 40)
            return stt_seterr(err, errlen, STT_EAUDIO, "corrupt WAV header: short extensible fmt");
        valid = le16(c + 26);
        if (memcmp(c + 34, guid_tail, sizeof guid_tail) != 0)
            return stt_seterr(err, errlen, STT_EFORMAT,
                              "unsupported audio format: WAV with a non-standard codec GUID");
        tag = le16(c + 32);
    }
    if (tag != 1 && tag != 3)
        return stt_seterr(err, errlen, STT_EFORMAT,
                          "unsupported audio format: WAV with codec 0x%04x (%s); send PCM or "
                          "float WAV, FLAC, Ogg Vorbis/Opus or MP3",
                          tag, wav_codec_name(tag));
    int rc = check_layout("WAV", channels, rate, err, errlen);
    if (rc) return rc;
    int bits_ok =
        tag == 1 ? bits == 8 || bits == 16 || bits == 24 || bits == 32 : bits == 32 || bits == 64;
    if (!bits_ok || valid == 0 || valid > bits)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt WAV header: %u bits per sample (%u valid) for %s", bits, valid,
                          tag == 1 ? "PCM (8, 16, 24 or 32)" : "float (32 or 64)");
    if (align == 0) return stt_seterr(err, errlen, STT_EAUDIO, "corrupt WAV header: block size 0");
    if (align != channels * (bits / 8))
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt WAV header: block size %u for %u channels of %u bits (want %u)",
                          align, channels, bits, channels * (bits / 8));
    *tag_out = tag;
    *align_out = align;
    return 0;
}

/* Walks the chunk list of a little-endian WAV (RIFF, RF64): the fmt chunk must
 * pass check_wav_fmt(), and a data chunk that runs past the end of the upload
 * is reported as truncated (libsndfile would silently read what is there).
 * Sizes at or above STREAMED_SIZE are the "length unknown" convention of
 * writers that could not seek back (pipes), and are accepted. Big-endian RIFX
 * is left to libsndfile and the subtype check after it opens the file.
 * Returns 0 when nothing is wrong. */
static int check_wav(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if ((!starts(p, len, 0, "RIFF", 4) && !starts(p, len, 0, "RF64", 4)) ||
        !starts(p, len, 8, "WAVE", 4))
        return 0;
    unsigned tag = 0, align = 0;
    int have_fmt = 0;
    uint64_t off = 12;
    while (off + 8 <= len) {
        const uint8_t *c = p + off;
        uint64_t size = le32(c + 4), body = off + 8;
        if (!memcmp(c, "fmt ", 4)) {
            if (size < 16 || body + 16 > len || (size >= 40 && body + 40 > len))
                return stt_seterr(err, errlen, STT_EAUDIO, "corrupt WAV header: short fmt chunk");
            int rc = check_wav_fmt(c, size, &tag, &align, err, errlen);
            if (rc) return rc;
            have_fmt = 1;
        } else if (!memcmp(c, "data", 4)) {
            uint64_t have = len - body;
            if (!have_fmt)
                return stt_seterr(err, errlen, STT_EAUDIO,
                                  "corrupt WAV: data before its fmt chunk");
            if (size <= have || size >= STREAMED_SIZE) return 0;
            return stt_seterr(
                err, errlen, STT_EAUDIO, "truncated WAV: header says %llu frames, data holds %llu",
                (unsigned long long)(size / align), (unsigned long long)(have / align));
        }
        off = body + size + (size & 1);
    }
    if (!have_fmt) return stt_seterr(err, errlen, STT_EAUDIO, "corrupt WAV header: no fmt chunk");
    return 0;
}

/* FLAC's STREAMINFO, the first metadata block, states rate, channels, bits
 * and (when known) the length: impossible values are refused, and a stated
 * length over the limit is refused before decoding. */
static int check_flac(const uint8_t *p, size_t len, double max_s, char *err, size_t errlen)
{
    if (!starts(p, len, 0, "fLaC", 4)) return 0;
    if (len < 42) return stt_seterr(err, errlen, STT_EAUDIO, "truncated FLAC header");
    unsigned type = p[4] & 0x7f, blen = (unsigned)p[5] << 16 | (unsigned)p[6] << 8 | p[7];
    if (type != 0 || blen != 34)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt FLAC header: the first block is not a STREAMINFO");
    const uint8_t *b = p + 8;
    unsigned min_block = (unsigned)b[0] << 8 | b[1], max_block = (unsigned)b[2] << 8 | b[3];
    unsigned long rate = (unsigned long)b[10] << 12 | (unsigned long)b[11] << 4 | b[12] >> 4;
    unsigned channels = ((b[12] >> 1) & 7) + 1, bits = ((b[12] & 1u) << 4 | b[13] >> 4) + 1;
    uint64_t total = (uint64_t)(b[13] & 0xf) << 32 | be32(b + 14);
    if (min_block < 16 || max_block < min_block)
        return stt_seterr(err, errlen, STT_EAUDIO,
                          "corrupt FLAC header: block sizes %u to %u (16 to 65535 allowed)",
                          min_block, max_block);
    if (bits < 4)
        return stt_seterr(err, errlen, STT_EAUDIO, "corrupt FLAC header: %u bits per sample", bits);
    int rc = check_layout("FLAC", channels, rate, err, errlen);
    if (rc) return rc;
    if (total > 0 && (double)total > max_s * (double)rate + 0.5)
        return stt_seterr(err, errlen, STT_ETOOLONG,
                          "audio is %.1f s, longer than the limit of %g s",
                          (double)total / (double)rate, max_s);
    return 0;
}

/* The identification header of an Ogg stream's first packet (Vorbis or Opus):
 * channels, rate and Vorbis block sizes within what the codec defines. */
static int check_ogg_id(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (!starts(p, len, 0, "OggS", 4) || len < 28) return 0;
    size_t nseg = p[26], at = 27 + nseg;
    if (at > len) return 0; /* check_ogg() reports the truncation */
    const uint8_t *c = p + at;
    size_t n = len - at;
    if (n >= 30 && !memcmp(c, "\x01vorbis", 7)) {
        uint32_t version = le32(c + 7), rate = le32(c + 12);
        unsigned channels = c[11], b0 = c[28] & 0xf, b1 = c[28] >> 4;
        if (version != 0 || !(c[29] & 1))
            return stt_seterr(err, errlen, STT_EAUDIO, "corrupt Vorbis header: version %lu",
                              (unsigned long)version);
        if (b0 < 6 || b1 > 13 || b0 > b1)
            return stt_seterr(err, errlen, STT_EAUDIO,
                              "corrupt Vorbis header: block sizes 2^%u and 2^%u", b0, b1);
        return check_layout("Vorbis", channels, rate, err, errlen);
    }
    if (n >= 19 && !memcmp(c, "OpusHead", 8)) {
        unsigned version = c[8], channels = c[9], family = c[18];
        if (version >> 4 != 0)
            return stt_seterr(err, errlen, STT_EAUDIO, "corrupt Opus header: version %u", version);
        if (channels < 1 || (family == 0 && channels > 2))
            return stt_seterr(err, errlen, STT_EAUDIO,
                              "corrupt Opus header: %u channels with mapping family %u", channels,
                              family);
        return check_layout("Opus", channels, 48000, err, errlen);
    }
    return 0;
}

/* The CRC of an Ogg page (polynomial 0x04c11db7, unreflected, initial 0),
 * its own checksum field counted as zero. */
static uint32_t ogg_crc(const uint8_t *p, size_t n)
{
    uint32_t table[256], crc = 0;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i << 24;
        for (int b = 0; b < 8; b++)
            r = r & 0x80000000u ? r << 1 ^ 0x04c11db7u : r << 1;
        table[i] = r;
    }
    for (size_t i = 0; i < n; i++)
        crc = crc << 8 ^ table[(crc >> 24) ^ (i >= 22 && i < 26 ? 0 : p[i])];
    return crc;
}

/* libsndfile 1.2.0 leaks its Vorbis decoder state (about 6 KB) whenever the
 * Vorbis header packets are incomplete or damaged, because it sets up its
 * cleanup only after they parse. So before handing an Ogg stream over, the
 * pages that carry the header packets (three for Vorbis, two for Opus) are
 * walked here: each must be whole, pass its checksum, and each packet must
 * start with the codec's header signature. Returns 0 when they do. */
static int check_ogg(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (!starts(p, len, 0, "OggS", 4)) return 0;
    int opus = starts(p, len, 28, "OpusHead", 8);
    const int want = opus ? 2 : 3;
    static const char *const vorbis_sig[3] = {"\x01vorbis", "\x03vorbis", "\x05vorbis"};
    static const char *const opus_sig[2] = {"OpusHead", "OpusTags"};
    int packets = 0, at_start = 1, page = 0;
    uint32_t serial = 0;
    size_t off = 0;
    while (packets < want) {
        if (off + 27 > len || memcmp(p + off, "OggS", 4) != 0)
            return stt_seterr(err, errlen, STT_EAUDIO,
                              "corrupt Ogg data: %s headers end after %d of %d packets",
                              opus ? "Opus" : "Vorbis", packets, want);
        const uint8_t *h = p + off;
        size_t nseg = h[26], body = 27 + nseg, size = body;
        if (off + body > len)
            return stt_seterr(err, errlen, STT_EAUDIO, "truncated Ogg data: header page %d", page);
        for (size_t i = 0; i < nseg; i++)
            size += h[27 + i];
        if (off + size > len)
            return stt_seterr(err, errlen, STT_EAUDIO, "truncated Ogg data: header page %d", page);
        if (ogg_crc(h, size) != le32(h + 22))
            return stt_seterr(err, errlen, STT_EAUDIO,
                              "corrupt Ogg data: header page %d fails its checksum", page);
        if (page == 0) serial = le32(h + 14);
        if (le32(h + 14) == serial) {
            size_t pos = body;
            for (size_t i = 0; i < nseg && packets < want; i++) {
                if (at_start) {
                    const char *sig = opus ? opus_sig[packets] : vorbis_sig[packets];
                    size_t sl = strlen(sig);
                    if (h[27 + i] < sl || memcmp(h + pos, sig, sl) != 0)
                        return stt_seterr(err, errlen, STT_EAUDIO,
                                          "corrupt Ogg data: bad %s header packet %d",
                                          opus ? "Opus" : "Vorbis", packets + 1);
                }
                pos += h[27 + i];
                at_start = h[27 + i] < 255;
                packets += at_start;
            }
        }
        off += size;
        page++;
    }
    return 0;
}

/* ---- the output: 16 kHz mono int16, resampled as it arrives ---- */

typedef struct sink {
    soxr_t soxr;  /* NULL when the input is already 16 kHz */
    float *chunk; /* OUT_CHUNK samples from the resampler */
    int16_t *pcm; /* OUT_CHUNK converted samples on their way to emit */
    size_t n;     /* samples emitted so far */
    size_t limit; /* most samples the duration limit allows */
    double max_s; /* that limit, for messages */
    stt_audio_sink_fn emit;
    void *ctx;
} sink;

static int16_t to_s16(float v)
{
    /* The resampler may overshoot full scale a little; clip, don't wrap. */
    float s = floorf(v * 32768.0f + 0.5f);
    return s >= 32767.0f ? 32767 : s <= -32768.0f ? -32768 : (int16_t)s;
}

/* Hands 16 kHz samples on; the duration limit is judged here, on the output,
 * as it grows (a header's promise is never trusted for it). */
static int sink_append(sink *k, const float *v, size_t n, char *err, size_t errlen)
{
    while (n) {
        size_t m = n < OUT_CHUNK ? n : OUT_CHUNK;
        if (k->n + m > k->limit)
            return stt_seterr(err, errlen, STT_ETOOLONG, "audio is longer than the limit of %g s",
                              k->max_s);
        for (size_t i = 0; i < m; i++)
            k->pcm[i] = to_s16(v[i]);
        int rc = k->emit(k->ctx, k->pcm, m);
        if (rc < 0) return stt_seterr(err, errlen, rc, "cannot store the decoded audio");
        k->n += m;
        v += m;
        n -= m;
    }
    return 0;
}

/* Feeds mono samples in; n == 0 with in == NULL drains the resampler. */
static int sink_write(sink *k, const float *in, size_t n, char *err, size_t errlen)
{
    if (!k->soxr) return in ? sink_append(k, in, n, err, errlen) : 0;
    size_t used = 0;
    for (;;) {
        size_t idone = 0, odone = 0;
        soxr_error_t e = soxr_process(k->soxr, in ? in + used : NULL, in ? n - used : 0, &idone,
                                      k->chunk, OUT_CHUNK, &odone);
        if (e) return stt_seterr(err, errlen, STT_EAUDIO, "resampling failed: %s", e);
        used += idone;
        int rc = sink_append(k, k->chunk, odone, err, errlen);
        if (rc) return rc;
        /* Input consumed and the output not full: nothing more is pending. */
        if (odone < OUT_CHUNK && (!in || used >= n)) return 0;
        if (odone == 0 && idone == 0) return 0;
    }
}

static const char *format_name(int format)
{
    switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
        return "wav";
    case SF_FORMAT_FLAC:
        return "flac";
    case SF_FORMAT_OGG:
        return (format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS ? "opus" : "ogg";
    case SF_FORMAT_MPEG:
        return "mp3";
    case SF_FORMAT_AIFF:
        return "aiff";
    case SF_FORMAT_CAF:
        return "caf";
    case SF_FORMAT_AU:
        return "au";
    case SF_FORMAT_W64:
        return "w64";
    default:
        return "other";
    }
}

/* Formats whose frame count libsndfile derives from the bytes present. */
static int is_plain_pcm(int format)
{
    int major = format & SF_FORMAT_TYPEMASK;
    if (major == SF_FORMAT_FLAC || major == SF_FORMAT_OGG || major == SF_FORMAT_MPEG) return 0;
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_PCM_24:
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
    case SF_FORMAT_DOUBLE:
        return 1;
    default:
        return 0;
    }
}

/* Reads every frame of an open file into the sink, mixing to mono; stops
 * with STT_ETOOLONG as soon as more than max_s seconds have been read. */
static int decode_frames(SNDFILE *sf, const SF_INFO *info, double max_s, sink *k, char *err,
                         size_t errlen)
{
    int ch = info->channels;
    sf_count_t per_read = READ_SAMPLES / ch > 0 ? READ_SAMPLES / ch : 1;
    float *ibuf = malloc((size_t)(per_read * ch) * sizeof *ibuf);
    float *mono = malloc((size_t)per_read * sizeof *mono);
    int rc = 0;
    if (!ibuf || !mono) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    double max_frames = max_s * info->samplerate + 0.5;
    sf_count_t total = 0;
    for (;;) {
        /* A read that yields nothing ends decoding, whatever the header promised. */
        sf_count_t got = sf_readf_float(sf, ibuf, per_read);
        if (got <= 0) break;
        for (sf_count_t i = 0; i < got; i++) {
            float sum = 0.0f;
            for (int c = 0; c < ch; c++) {
                float v = ibuf[i * ch + c];
                /* Float files carry any value: NaN/Inf are damage, beyond ±1 is clipping. */
                if (!isfinite(v)) v = 0.0f;
                sum += v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
            }
            mono[i] = sum / (float)ch;
        }
        total += got;
        if ((double)total > max_frames) {
            rc = stt_seterr(err, errlen, STT_ETOOLONG, "audio is longer than the limit of %g s",
                            max_s);
            goto done;
        }
        if ((rc = sink_write(k, mono, (size_t)got, err, errlen))) goto done;
    }
    if (total == 0) {
        rc = stt_seterr(err, errlen, STT_EAUDIO, "no audio samples%s%s", sf_error(sf) ? ": " : "",
                        sf_error(sf) ? sf_strerror(sf) : "");
        goto done;
    }
    /* FLAC's header states its length exactly; fewer frames means the stream
     * was cut off or damaged (0 = length unknown). */
    if ((info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC && info->frames > 0 &&
        info->frames < INT64_MAX && total < info->frames) {
        rc = stt_seterr(err, errlen, STT_EAUDIO,
                        "truncated or corrupt FLAC: header says %lld frames, data holds %lld",
                        (long long)info->frames, (long long)total);
        goto done;
    }
    rc = sink_write(k, NULL, 0, err, errlen);
done:
    free(ibuf);
    free(mono);
    return rc;
}

/* What libsndfile opened must be one of the codecs we decode (the magic bytes
 * already said which container; this catches the codec inside it). */
static int allowed_codec(int format)
{
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    switch (major) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
        return sub == SF_FORMAT_PCM_U8 || sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_16 ||
               sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32 || sub == SF_FORMAT_FLOAT ||
               sub == SF_FORMAT_DOUBLE;
    case SF_FORMAT_FLAC:
        return sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24;
    case SF_FORMAT_OGG:
        return sub == SF_FORMAT_VORBIS || sub == SF_FORMAT_OPUS;
    case SF_FORMAT_MPEG:
        return sub == SF_FORMAT_MPEG_LAYER_I || sub == SF_FORMAT_MPEG_LAYER_II ||
               sub == SF_FORMAT_MPEG_LAYER_III;
    default:
        return 0;
    }
}

static double limit_s(const stt_audio_params *params)
{
    double max_s = params && params->max_duration_s > 0 ? params->max_duration_s : 0;
    return max_s <= 0 || max_s > STT_AUDIO_MAX_DURATION_S ? STT_AUDIO_MAX_DURATION_S : max_s;
}

int stt_audio_decode_to(const void *data, size_t len, const stt_audio_params *params,
                        stt_audio_sink_fn emit, void *ctx, stt_audio *info_out, char *err,
                        size_t errlen)
{
    if (!info_out || !emit) return stt_seterr(err, errlen, STT_EINVAL, "no output");
    memset(info_out, 0, sizeof *info_out);
    if (!data || len == 0) return stt_seterr(err, errlen, STT_EAUDIO, "empty upload");
    if (len > INT64_MAX) return stt_seterr(err, errlen, STT_ETOOBIG, "upload too large");
    const uint8_t *p = data;
    double max_s = limit_s(params);

    const char *other = unsupported_container(p, len);
    if (other) return stt_seterr(err, errlen, STT_EFORMAT, "unsupported audio format: %s", other);
    enum kind kind = allowed_container(p, len);
    if (kind == K_NONE) {
        char what[96];
        describe_non_audio(p, len, what, sizeof what);
        return stt_seterr(err, errlen, STT_EAUDIO, "not an audio file: %s", what);
    }
    int rc = check_wav(p, len, err, errlen);
    if (!rc) rc = check_flac(p, len, max_s, err, errlen);
    if (!rc) rc = check_ogg_id(p, len, err, errlen);
    if (!rc) rc = check_ogg(p, len, err, errlen);
    if (rc) return rc;

    static const char *const kind_name[] = {"", "WAV", "FLAC", "Ogg", "MP3"};
    membuf mb = {p, (sf_count_t)len, 0};
    SF_VIRTUAL_IO vio = {mb_len, mb_seek, mb_read, mb_write, mb_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &mb);
    if (!sf)
        return stt_seterr(err, errlen, STT_EAUDIO, "corrupt %s data: %s", kind_name[kind],
                          sf_strerror(NULL));

    sink k = {0};
    if (!allowed_codec(info.format)) {
        rc = stt_seterr(err, errlen, STT_EFORMAT,
                        "unsupported audio format: %s with libsndfile format 0x%06x; send PCM or "
                        "float WAV, FLAC, Ogg Vorbis/Opus or MP3",
                        kind_name[kind], (unsigned)info.format);
        goto done;
    }
    if ((rc = check_layout(kind_name[kind], info.channels < 0 ? 0 : (unsigned long)info.channels,
                           info.samplerate < 0 ? 0 : (unsigned long)info.samplerate, err, errlen)))
        goto done;
    /* That count can be trusted to refuse an over-long file before decoding it. */
    if (is_plain_pcm(info.format) && (double)info.frames > max_s * info.samplerate + 0.5) {
        rc = stt_seterr(err, errlen, STT_ETOOLONG, "audio is %.1f s, longer than the limit of %g s",
                        (double)info.frames / info.samplerate, max_s);
        goto done;
    }
    /* The limit's worth of 16 kHz samples, plus 10 ms for the resampler's rounding. */
    k.limit = (size_t)(max_s * STT_SAMPLE_RATE) + STT_SAMPLE_RATE / 100;
    k.max_s = max_s;
    k.emit = emit;
    k.ctx = ctx;
    k.pcm = malloc(OUT_CHUNK * sizeof *k.pcm);
    if (!k.pcm) {
        rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        goto done;
    }
    if (info.samplerate != STT_SAMPLE_RATE) {
        soxr_error_t e = NULL;
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        k.soxr = soxr_create(info.samplerate, STT_SAMPLE_RATE, 1, &e, NULL, &q, NULL);
        k.chunk = malloc(OUT_CHUNK * sizeof *k.chunk);
        if (!k.soxr) {
            rc = stt_seterr(err, errlen, STT_EAUDIO, "cannot resample from %d Hz: %s",
                            info.samplerate, e ? e : "unknown error");
            goto done;
        }
        if (!k.chunk) {
            rc = stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc = decode_frames(sf, &info, max_s, &k, err, errlen);
    if (rc == 0 && k.n == 0)
        rc = stt_seterr(err, errlen, STT_EAUDIO, "no audio samples after resampling");
done:
    sf_close(sf);
    if (k.soxr) soxr_delete(k.soxr);
    free(k.chunk);
    free(k.pcm);
    if (rc) return rc;
    info_out->n_samples = k.n;
    info_out->src_rate = info.samplerate;
    info_out->src_channels = info.channels;
    snprintf(info_out->src_format, sizeof info_out->src_format, "%s", format_name(info.format));
    return 0;
}

/* The heap sink of stt_audio_decode(): grows by doubling up to the limit. */
typedef struct heap {
    int16_t *s;
    size_t n, cap;
} heap;

static int heap_emit(void *ctx, const int16_t *s, size_t n)
{
    heap *h = ctx;
    if (h->n + n > h->cap) {
        size_t cap = h->cap ? h->cap : 16384;
        while (cap < h->n + n)
            cap *= 2;
        int16_t *o = realloc(h->s, cap * sizeof *o);
        if (!o) return STT_ENOMEM;
        h->s = o;
        h->cap = cap;
    }
    memcpy(h->s + h->n, s, n * sizeof *s);
    h->n += n;
    return 0;
}

int stt_audio_decode(const void *data, size_t len, const stt_audio_params *params, stt_audio *out,
                     char *err, size_t errlen)
{
    if (!out) return stt_seterr(err, errlen, STT_EINVAL, "no output");
    heap h = {0};
    int rc = stt_audio_decode_to(data, len, params, heap_emit, &h, out, err, errlen);
    if (rc) {
        free(h.s);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->samples = h.s;
    return 0;
}

int stt_audio_load_file(const char *path, const stt_audio_params *params, stt_audio *out, char *err,
                        size_t errlen)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return stt_seterr(err, errlen, STT_EINVAL, "no path or output");
    FILE *f = fopen(path, "rb");
    if (!f) return stt_seterr(err, errlen, STT_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return stt_seterr(err, errlen, STT_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size, n = 0;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory reading %s", path);
    }
    while (n < size) {
        size_t r = fread(buf + n, 1, size - n, f);
        if (r == 0) break;
        n += r;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return stt_seterr(err, errlen, STT_EIO, "cannot read %s", path);
    }
    int rc = stt_audio_decode(buf, n, params, out, err, errlen);
    free(buf);
    return rc;
}
