/* audio: decoded speech, 16 kHz mono signed 16-bit, the engine's input.
 *
 * stt_audio_decode() reads an explicit allowlist from memory with libsndfile:
 * WAV (RIFF, RF64, RIFX) holding PCM (8/16/24/32 bits) or IEEE float (32/64
 * bits), FLAC, Ogg Vorbis, Ogg Opus and MP3. It mixes all channels down to
 * mono and resamples to 16 kHz with libsoxr. Anything else is refused by its
 * first bytes, before a codec library parses it. It never reads outside
 * [data, data+len), never crashes or loops on hostile input, and reports what
 * is wrong:
 *   STT_EAUDIO   empty, truncated, corrupt or non-audio data, or a header with
 *                impossible fields (bits per sample, block size, channels and
 *                rate beyond 64 channels, 384 kHz, or 3.072 M samples/s) (400)
 *   STT_EFORMAT  a container or codec we recognise and do not decode (415)
 *   STT_ETOOLONG longer than params.max_duration_s, judged on the 16 kHz
 *                output as it is produced (and up front when the header's
 *                length can be trusted) (413)
 * A WAV whose data chunk is shorter than its header says is rejected as
 * truncated (STT_EAUDIO), except for the "length unknown" sizes that writers
 * on pipes use (0xffffffff and the like), which decode what is there; a
 * header with no samples is STT_EAUDIO "no audio samples". Headerless raw
 * PCM is not audio to us. Memory is bounded by the duration limit, never by
 * what a header claims; the input is read in place, never modified.
 * Thread-safe: no shared state (libsndfile keeps the text of its last open
 * failure in a global, so under concurrent failures a message may quote
 * another request's libsndfile error; codes are never affected).
 */
#ifndef STT_AUDIO_H
#define STT_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#define STT_SAMPLE_RATE 16000

/* Hard cap on decoded duration, also when params ask for no limit: a few
 * kilobytes of compressed silence can expand to hours. */
#define STT_AUDIO_MAX_DURATION_S (4.0 * 3600.0)

typedef struct stt_audio {
    int16_t *samples; /* owned; 16 kHz mono */
    size_t n_samples;
    int src_rate;        /* the input's sample rate */
    int src_channels;    /* the input's channel count */
    char src_format[32]; /* "wav", "flac", "ogg", "mp3", ... */
} stt_audio;

typedef struct stt_audio_params {
    double max_duration_s; /* 0 = only STT_AUDIO_MAX_DURATION_S; default 600 */
} stt_audio_params;

stt_audio_params stt_audio_default_params(void);

/* On success fills *out (caller frees with stt_audio_free) and returns 0; on
 * failure *out is zeroed and a negative STT_E* code is returned with detail
 * in err. data is only read. */
int stt_audio_decode(const void *data, size_t len, const stt_audio_params *params, stt_audio *out,
                     char *err, size_t errlen);

/* Receives the decoded 16 kHz samples in order, a chunk at a time; returns 0
 * or a negative STT_E* code, which stops decoding and is returned. */
typedef int (*stt_audio_sink_fn)(void *ctx, const int16_t *samples, size_t n);

/* As stt_audio_decode(), but the samples go to sink as they are produced
 * (never more than the duration limit allows), so that a caller can put them
 * where they will live (a worker writes them straight into a memfd). On
 * success *info is filled except samples (NULL) and n_samples says how many
 * were delivered; on failure some may have been. */
int stt_audio_decode_to(const void *data, size_t len, const stt_audio_params *params,
                        stt_audio_sink_fn sink, void *ctx, stt_audio *info, char *err,
                        size_t errlen);

/* Reads a file from disk and decodes it as above; STT_EIO if unreadable. */
int stt_audio_load_file(const char *path, const stt_audio_params *params, stt_audio *out, char *err,
                        size_t errlen);

double stt_audio_duration(const stt_audio *a);

/* Frees the samples; safe on a zeroed struct. */
void stt_audio_free(stt_audio *a);

#endif
