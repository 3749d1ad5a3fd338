/* profile/plan: the params and which configurations a run measures. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

stt_profile_params stt_profile_default_params(void)
{
    stt_profile_params p = {0};
    p.server_cmd = STT_PROFILE_DEFAULT_CMD;
    p.corpus = "corpus";
    p.out = "results/cpu";
    p.short_s = 8;
    p.long_s = 60;
    p.max_cores = 16;
    p.quota = 2;
    p.capacity = 1;
    p.period_us = 10000;
    p.threads = 2;
    p.rounds = 8;
    p.extra_rounds = 3;
    p.requests = 8;
    p.scaling_latency = 1;
    p.poisson = 6;
    p.poisson_load = 0.5;
    p.saturation = 0.95;
    p.margin = 0.05;
    p.thread_margin = 0.03;
    p.seed = 1;
    return p;
}

void stt_profile_quick(stt_profile_params *p)
{
    p->quick = 1;
    p->long_s = 28;
    p->request_profile = "fast";
    p->quota = 0;
    p->threads = 0;
    p->rounds = 5;
    p->extra_rounds = 0;
    p->requests = 2;
    p->poisson = 0;
}

const char *stt_profile_kind_name(stt_profile_kind k)
{
    switch (k) {
    case STT_PROFILE_QUOTA:
        return "quota";
    case STT_PROFILE_CAPACITY:
        return "capacity";
    case STT_PROFILE_THREADS:
        return "threads";
    default:
        return "scaling";
    }
}

const char *pf_role_name(int role)
{
    return role == PF_SHORT ? "short" : "long";
}

static void note(char *notes, size_t len, const char *fmt, ...)
{
    if (!notes || !len) return;
    size_t k = strlen(notes);
    if (k + 2 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + k, len - k, fmt, ap);
    va_end(ap);
    k = strlen(notes);
    if (k + 1 < len) {
        notes[k] = '\n';
        notes[k + 1] = 0;
    }
}

static stt_profile_config *add(stt_profile_config *out, int *n, int max)
{
    if (*n >= max) return NULL;
    stt_profile_config *c = &out[(*n)++];
    memset(c, 0, sizeof *c);
    c->speed = 1;
    return c;
}

int stt_profile_plan(const stt_profile_params *p, int usable, int cgroups, stt_profile_config *out,
                     int max, char *notes, size_t noteslen)
{
    if (notes && noteslen) notes[0] = 0;
    int cores[STT_PROFILE_MAXV], nc = 0, n = 0;
    if (usable < 1) usable = 1;
    if (p->ncores) {
        for (int i = 0; i < p->ncores; i++) {
            if (p->cores[i] > usable)
                note(notes, noteslen, "%d cores: more than the %d usable here, not measured",
                     p->cores[i], usable);
            else if (p->cores[i] >= 1 && (nc == 0 || p->cores[i] > cores[nc - 1]))
                cores[nc++] = p->cores[i];
        }
    } else {
        for (int c = 1; c <= usable && c <= p->max_cores && nc < STT_PROFILE_MAXV; c *= 2)
            cores[nc++] = c;
    }
    for (int i = 0; i < nc; i++) {
        stt_profile_config *c = add(out, &n, max);
        if (!c) return n;
        c->kind = STT_PROFILE_SCALING;
        c->cores = c->workers = c->threads = cores[i];
        c->measure = STT_PROFILE_M_THROUGHPUT | (p->scaling_latency ? STT_PROFILE_M_LONG : 0);
        snprintf(c->label, sizeof c->label, "cpuset %d", cores[i]);
    }
    if (!p->quota)
        note(notes, noteslen, "quota: the CFS quota against pinned cores is not measured%s",
             p->quick ? " with --quick (--quota largest adds it)" : "");
    if (p->quota && !cgroups)
        note(notes, noteslen,
             "quota: no writable cgroup (run as root); the CFS quota is not measured");
    for (int i = 0; p->quota && cgroups && i < nc; i++) {
        if (p->quota == 1 && i != nc - 1) continue;
        stt_profile_config *c = add(out, &n, max);
        if (!c) return n;
        c->kind = STT_PROFILE_QUOTA;
        c->cores = c->workers = c->threads = cores[i];
        c->measure = STT_PROFILE_M_THROUGHPUT | STT_PROFILE_M_LONG;
        /* the quota is compared with the pinned cores on both figures */
        for (int j = 0; j < n; j++)
            if (out[j].kind == STT_PROFILE_SCALING && out[j].cores == cores[i])
                out[j].measure |= STT_PROFILE_M_LONG;
        snprintf(c->label, sizeof c->label, "quota %d", cores[i]);
    }
    if (p->capacity) {
        int k = p->capacity_cores > 0 ? p->capacity_cores : (usable / 4 > 1 ? usable / 4 : 1);
        double sp[3];
        int ns = 0;
        if (p->nspeeds)
            for (int i = 0; i < p->nspeeds && i < 3; i++)
                sp[ns++] = p->speeds[i];
        else {
            sp[ns++] = 0.5;
            if (4 * k <= usable) sp[ns++] = 0.25;
        }
        int weak[3], nw = 0;
        double wsp[3];
        for (int i = 0; i < ns; i++) {
            double m = k / sp[i];
            if (!(sp[i] > 0 && sp[i] < 1) || fabs(m - floor(m + 0.5)) > 1e-9)
                note(notes, noteslen, "capacity: speed %g does not give a whole number of cores",
                     sp[i]);
            else if ((int)floor(m + 0.5) > usable)
                note(notes, noteslen,
                     "capacity: %d cores at %g need %d CPUs, %d usable: not measured", k, sp[i],
                     (int)floor(m + 0.5), usable);
            else {
                weak[nw] = (int)floor(m + 0.5);
                wsp[nw++] = sp[i];
            }
        }
        if (!cgroups)
            note(notes, noteslen,
                 "capacity: weak cores are emulated with a CFS quota per core, which needs a "
                 "writable cgroup (run as root): the equal-capacity experiment is not measured");
        else if (k > usable)
            note(notes, noteslen, "capacity: %d strong cores, %d usable: not measured", k, usable);
        else if (!nw)
            note(notes, noteslen, "capacity: no weak configuration fits this machine");
        else {
            unsigned m = STT_PROFILE_M_THROUGHPUT | STT_PROFILE_M_SHORT | STT_PROFILE_M_LONG |
                         (p->poisson > 0 ? STT_PROFILE_M_POISSON : 0);
            stt_profile_config *strong = NULL;
            /* One pinned worker on one core is the 1-core cpuset point itself. */
            for (int i = 0; k == 1 && i < n; i++)
                if (out[i].kind == STT_PROFILE_SCALING && out[i].cores == 1) strong = &out[i];
            if (!strong) {
                strong = add(out, &n, max);
                if (!strong) return n;
                strong->kind = STT_PROFILE_CAPACITY;
                strong->cores = strong->workers = strong->threads = k;
                snprintf(strong->label, sizeof strong->label, "%d x 1.0", k);
            }
            strong->strong = 1;
            strong->measure |= m;
            for (int i = 0; i < nw; i++) {
                stt_profile_config *c = add(out, &n, max);
                if (!c) return n;
                c->kind = STT_PROFILE_CAPACITY;
                c->cores = c->workers = c->threads = weak[i];
                c->speed = wsp[i];
                c->measure = m;
                snprintf(c->label, sizeof c->label, "%d x %g", weak[i], wsp[i]);
            }
        }
    }
    if (!p->threads)
        note(notes, noteslen, "threads: the thread search is not measured%s",
             p->quick ? " with --quick" : "");
    for (int i = 0; p->threads && i < nc; i++) {
        if (p->threads == 1 && i != nc - 1) continue;
        stt_profile_config *c = add(out, &n, max);
        if (!c) return n;
        c->kind = STT_PROFILE_THREADS;
        c->phase = 1;
        c->cores = c->threads = cores[i];
        c->workers = 2 * cores[i];
        c->measure = STT_PROFILE_M_PROBES;
        for (int t = 1; t <= 2 * cores[i] && c->nprobe < STT_PROFILE_MAXV; t *= 2)
            c->probe[c->nprobe++] = t;
        int has_c = 0, has_2c = 0;
        for (int j = 0; j < c->nprobe; j++) {
            has_c |= c->probe[j] == cores[i];
            has_2c |= c->probe[j] == 2 * cores[i];
        }
        if (!has_c && c->nprobe < STT_PROFILE_MAXV) c->probe[c->nprobe++] = cores[i];
        if (!has_2c && c->nprobe < STT_PROFILE_MAXV) c->probe[c->nprobe++] = 2 * cores[i];
        for (int a = 1; a < c->nprobe; a++)
            for (int b = a; b > 0 && c->probe[b] < c->probe[b - 1]; b--) {
                int t = c->probe[b];
                c->probe[b] = c->probe[b - 1];
                c->probe[b - 1] = t;
            }
        snprintf(c->label, sizeof c->label, "threads @ %d", cores[i]);
    }
    if (nc && cores[nc - 1] < p->max_cores)
        note(notes, noteslen, "cores: %d to %d unmeasured on this machine (%d usable CPUs)",
             cores[nc - 1] * 2 > p->max_cores ? p->max_cores : cores[nc - 1] * 2, p->max_cores,
             usable);
    return n;
}
