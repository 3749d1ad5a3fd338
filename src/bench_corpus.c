/* sttbench corpus: builds the real-speech benchmark corpus (lib/lab/corpus.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"
#include "error.h"
#include "parse.h"
#include "sttbench.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sttbench corpus --out DIR [--max-duration S] [--testdata DIR] [--no-formats]\n"
            "                       [--no-clips]\n"
            "\n"
            "Builds benchmark files from ~8 s to ~13.5 min (16 kHz mono WAV) from the speech\n"
            "in pocketsphinx-testdata, plus the 25 s file as MP3, FLAC, Ogg/Vorbis and\n"
            "44.1 kHz stereo WAV; writes DIR/manifest.json and DIR/manifest.tsv with each\n"
            "file's duration, size, format and reference transcript; and the clip set: each\n"
            "source clip alone (1 to 7 s, one utterance), in DIR/clips with its own manifest.\n"
            "Deterministic.\n"
            "\n"
            "  --out DIR          output directory (created if missing)\n"
            "  --max-duration S   build only files up to S seconds (default: all)\n"
            "  --pause S          silence after each clip (default 0.6)\n"
            "  --testdata DIR     pocketsphinx-testdata (default %s)\n"
            "  --no-formats       skip the MP3/FLAC/OGG/44.1 kHz copies\n"
            "  --no-clips         skip the clip set\n",
            stt_corpus_default_params().testdata_dir);
}

/* Says which option value is refused and why; returns the usage exit status. */
static int bad_value(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "sttbench corpus: bad value for --%s: '%s' (%s)\n", opt, v, want);
    return 2;
}

int bench_corpus_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"max-duration", required_argument, 0, 'm'},
        {"pause", required_argument, 0, 'p'}, {"testdata", required_argument, 0, 't'},
        {"no-formats", no_argument, 0, 'n'},  {"no-clips", no_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    stt_corpus_params p = stt_corpus_default_params();
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:p:t:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'm':
            if (stt_parse_double(optarg, 0, 1e9, &p.max_duration_s))
                return bad_value("max-duration", optarg, "seconds >= 0; 0: all");
            break;
        case 'p':
            if (stt_parse_double(optarg, 0, 1e6, &p.pause_s))
                return bad_value("pause", optarg, "seconds >= 0");
            break;
        case 't':
            p.testdata_dir = optarg;
            break;
        case 'n':
            p.formats = 0;
            break;
        case 'C':
            p.clips = 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!out || optind < argc) {
        usage(stderr);
        return 2;
    }
    char err[512] = "";
    stt_corpus_entry *e = NULL;
    size_t n = 0;
    int rc = stt_corpus_build(out, &p, &e, &n, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench corpus: %s: %s\n", stt_strerror(rc), err);
        return 1;
    }
    double total = 0;
    long long bytes = 0;
    printf("%-28s %10s %10s %6s %6s %3s %5s\n", "file", "seconds", "bytes", "format", "rate", "ch",
           "clips");
    for (size_t i = 0; i < n; i++) {
        printf("%-28s %10.3f %10lld %6s %6d %3d %5d\n", e[i].file, e[i].duration_s, e[i].bytes,
               e[i].format, e[i].sample_rate, e[i].channels, e[i].clips);
        total += e[i].duration_s;
        bytes += e[i].bytes;
    }
    printf("%zu files, %.1f s of audio, %.1f MB, manifest in %s/manifest.json\n", n, total,
           bytes / 1e6, out);
    stt_corpus_free_entries(e, n);
    return 0;
}
