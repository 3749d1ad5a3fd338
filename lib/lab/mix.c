/* mix: see mix.h. */
#include "mix.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void stt_mix_free(stt_mix *m)
{
    if (!m) return;
    free(m->duration_s);
    free(m->weight);
    memset(m, 0, sizeof *m);
}

static int mix_add(stt_mix *m, double dur, double w)
{
    double *a = realloc(m->duration_s, (m->n + 1) * sizeof *a);
    if (!a) return STT_ENOMEM;
    m->duration_s = a;
    double *b = realloc(m->weight, (m->n + 1) * sizeof *b);
    if (!b) return STT_ENOMEM;
    m->weight = b;
    m->duration_s[m->n] = dur;
    m->weight[m->n++] = w;
    return 0;
}

int stt_mix_load(const char *path, stt_mix *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    int rc = 0;
    if (j) {
        json_t *arr = json_is_array(j) ? j : json_object_get(j, "results");
        for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
            json_t *e = json_array_get(arr, i);
            const char *f = json_string_value(json_object_get(e, "file"));
            int seen = 0;
            for (size_t k = 0; f && k < i; k++) {
                const char *g = json_string_value(json_object_get(json_array_get(arr, k), "file"));
                if (g && !strcmp(f, g)) seen = 1;
            }
            double dur = json_number_value(json_object_get(e, "duration_s"));
            if (!seen && dur > 0) rc = mix_add(m, dur, 1.0);
        }
        json_decref(j);
    } else {
        FILE *f = fopen(path, "r");
        if (!f) return stt_seterr(err, errlen, STT_EIO, "%s: %s", path, strerror(errno));
        char line[PATH_MAX + 64], dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        while (!rc && fgets(line, sizeof line, f)) {
            char name[PATH_MAX];
            double w = 1;
            if (line[0] == '#' || sscanf(line, "%4095s %lf", name, &w) < 1) continue;
            char full[PATH_MAX * 2];
            snprintf(full, sizeof full, "%s%s%s", name[0] == '/' ? "" : dir,
                     name[0] == '/' ? "" : "/", name);
            SF_INFO info = {0};
            SNDFILE *sf = sf_open(full, SFM_READ, &info);
            if (!sf) {
                rc = stt_seterr(err, errlen, STT_EAUDIO, "%s: %s", full, sf_strerror(NULL));
                break;
            }
            sf_close(sf);
            rc = mix_add(m, (double)info.frames / info.samplerate, w > 0 ? w : 1);
        }
        fclose(f);
    }
    if (!rc && m->n == 0)
        rc = stt_seterr(err, errlen, STT_EINVAL, "%s: no audio durations in the mix", path);
    if (rc) stt_mix_free(m);
    return rc;
}
