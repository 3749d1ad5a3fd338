/* sttraw: the baseline that sttd is measured against. It feeds a file's samples
 * to one PocketSphinx decoder with ps_process_raw and nothing else (no HTTP, no
 * workers, no splitting), and prints the hypothesis and the decode time.
 *
 * usage: sttraw [--model-dir DIR] [--repeat N] FILE.wav [PS_ARGS...]
 * FILE must be 16 kHz mono 16-bit WAV; PS_ARGS are passed to PocketSphinx.
 * Output (stdout): "<seconds> <audio seconds> <hypothesis>" per repeat. */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *model = STT_MODEL_DIR;
    int repeat = 1, i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: sttraw [--model-dir DIR] [--repeat N] FILE.wav [POCKETSPHINX_ARGS...]\n"
                   "Decodes FILE (16 kHz mono) as one utterance with one decoder and prints\n"
                   "\"<decode seconds> <audio seconds> <hypothesis>\" for each repeat.\n");
            return 0;
        } else if (!strcmp(argv[i], "--model-dir") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else {
            fprintf(stderr, "sttraw: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: sttraw [--model-dir DIR] [--repeat N] FILE.wav [PS_ARGS...]\n");
        return 2;
    }
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(argv[i], SFM_READ, &info);
    if (!sf || info.samplerate != 16000 || info.channels != 1) {
        fprintf(stderr, "sttraw: %s: need a 16 kHz mono file\n", argv[i]);
        return 1;
    }
    int16_t *pcm = malloc(sizeof *pcm * (size_t)(info.frames ? info.frames : 1));
    sf_count_t n = sf_read_short(sf, pcm, info.frames);
    sf_close(sf);

    char hmm[4096], lm[4096], dict[4096];
    snprintf(hmm, sizeof hmm, "%s/en-us", model);
    snprintf(lm, sizeof lm, "%s/en-us.lm.bin", model);
    snprintf(dict, sizeof dict, "%s/cmudict-en-us.dict", model);
    err_set_logfp(NULL);
    int pargc = 0;
    char *pargv[64];
    char *base[] = {"-hmm", hmm, "-lm", lm, "-dict", dict, "-logfn", "/dev/null"};
    for (size_t k = 0; k < 8; k++)
        pargv[pargc++] = base[k];
    for (int k = i + 1; k < argc && pargc < 63; k++)
        pargv[pargc++] = argv[k];
    cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), pargc, pargv, FALSE);
    ps_decoder_t *ps = config ? ps_init(config) : NULL;
    if (!ps) {
        fprintf(stderr, "sttraw: could not load the model\n");
        return 1;
    }
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        ps_start_stream(ps);
        ps_start_utt(ps);
        ps_process_raw(ps, pcm, (size_t)n, FALSE, TRUE);
        ps_end_utt(ps);
        const char *hyp = ps_get_hyp(ps, NULL);
        printf("%.3f %.3f %s\n", now() - t0, (double)n / 16000.0, hyp ? hyp : "");
        fflush(stdout);
    }
    ps_free(ps);
    cmd_ln_free_r(config);
    free(pcm);
    return 0;
}
