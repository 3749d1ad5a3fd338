/* testreport/stability: the same cases over repeated runs. A case is flaky
 * when its outcome differs between runs; its time varies when the slowest run
 * took more than unstable_time_ratio times the fastest (both raised to
 * tiny_seconds, so that 1 ms against 4 ms is not a finding). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"

void tr_stability_free(stt_testreport *r)
{
    for (size_t i = 0; i < r->nstable; i++) {
        free(r->stable[i].status);
        free(r->stable[i].seconds);
    }
    free(r->stable);
    r->stable = NULL;
    r->nstable = 0;
}

static tr_stable *find(stt_testreport *r, const char *program, const char *name)
{
    for (size_t i = 0; i < r->nstable; i++)
        if (!strcmp(r->stable[i].program, program) && !strcmp(r->stable[i].name, name))
            return &r->stable[i];
    return NULL;
}

/* Adds one observation of a case; the strings stay owned by the run. */
static int observe(stt_testreport *r, size_t *cap, size_t run, const char *program,
                   const tr_case *c)
{
    tr_stable *e = find(r, program, c->name);
    if (!e) {
        if (r->nstable == *cap) {
            size_t ncap = *cap ? 2 * *cap : 64;
            tr_stable *g = realloc(r->stable, ncap * sizeof *g);
            if (!g) return STT_ENOMEM;
            r->stable = g;
            *cap = ncap;
        }
        e = &r->stable[r->nstable++];
        memset(e, 0, sizeof *e);
        e->program = program;
        e->name = c->name;
        e->status = calloc(r->nruns, sizeof *e->status);
        e->seconds = calloc(r->nruns, sizeof *e->seconds);
        if (!e->status || !e->seconds) return STT_ENOMEM;
    }
    if (e->seen_in == run + 1) return 0; /* a case named twice in one program counts once */
    e->seen_in = run + 1;
    e->status[e->v.runs] = c->status;
    e->seconds[e->v.runs] = c->seconds;
    e->v.runs++;
    return 0;
}

int tr_stability_analyze(stt_testreport *r)
{
    tr_stability_free(r);
    stt_testreport_totals *s = &r->totals;
    s->stability_runs = r->nruns;
    size_t cap = 0;
    for (size_t k = 0; k < r->nruns; k++) {
        const tr_run *run = &r->runs[k];
        for (size_t i = 0; i < run->nprogs; i++) {
            const tr_program *p = &run->progs[i];
            if (p->v.status == STT_TEST_SKIPPED) continue;
            for (size_t j = 0; j < p->ncases; j++) {
                int rc = observe(r, &cap, k, p->name, &p->cases[j]);
                if (rc) return rc;
            }
        }
    }
    for (size_t i = 0; i < r->nstable; i++) {
        tr_stable *e = &r->stable[i];
        stt_testreport_stable_case *v = &e->v;
        v->program = e->program;
        v->name = e->name;
        v->status = e->status;
        v->seconds = e->seconds;
        double lo = INFINITY, hi = -INFINITY;
        size_t known = 0;
        for (size_t k = 0; k < v->runs; k++) {
            if (e->status[k] != e->status[0]) v->flaky = 1;
            if (!isfinite(e->seconds[k])) continue;
            double t = fmax(e->seconds[k], r->p.tiny_seconds);
            lo = fmin(lo, t);
            hi = fmax(hi, t);
            known++;
        }
        v->time_ratio = known >= 2 ? hi / lo : NAN;
        v->time_varies = known >= 2 && v->time_ratio > r->p.unstable_time_ratio;
        s->flaky += (size_t)v->flaky;
        s->time_varies += (size_t)v->time_varies;
    }
    return 0;
}
