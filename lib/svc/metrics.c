#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Bounds the memory a family can take if a caller labels by something
 * unbounded by mistake. */
#define MAX_SERIES 10000

const double stt_metrics_latency_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300, 600};
const size_t stt_metrics_n_latency_buckets =
    sizeof stt_metrics_latency_buckets / sizeof stt_metrics_latency_buckets[0];

typedef struct series {
    struct series *next;
    char *labels; /* rendered: name="value",... */
    double value; /* counter, gauge; histogram sum */
    unsigned long long count;
    unsigned long long *buckets; /* histogram: per-bucket (not cumulative) counts */
} series;

struct stt_metric {
    struct stt_metric *next;
    stt_metrics *reg;
    char *name, *help;
    stt_metric_type type;
    double *bounds;
    size_t n_bounds;
    series *head, *tail;
    size_t n_series;
};

struct stt_metrics {
    pthread_mutex_t mu;
    stt_metric *head, *tail;
};

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Shortest of %.15g / %.17g that reads back exactly; Prometheus spells
 * infinities +Inf/-Inf. */
static void fmt_double(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "NaN");
    else if (isinf(v))
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(out, n, "%.15g", v);
        if (strtod(out, NULL) != v) snprintf(out, n, "%.17g", v);
    }
}

static void sb_double(sbuf *b, double v)
{
    char tmp[40];
    fmt_double(tmp, sizeof tmp, v);
    sb_str(b, tmp);
}

/* Escapes for label values (\\, \", \n) or, with quote == 0, HELP text. */
static void sb_escaped(sbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_str(b, "\\\\");
        else if (*s == '\n')
            sb_str(b, "\\n");
        else if (*s == '"' && quote)
            sb_str(b, "\\\"");
        else
            sb_add(b, s, 1);
    }
}

static int valid_name(const char *s, int colon_ok)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (colon_ok && c == ':')))
            return 0;
    }
    return 1;
}

stt_metrics *stt_metrics_create(void)
{
    stt_metrics *m = calloc(1, sizeof *m);
    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static void series_free(series *s)
{
    free(s->labels);
    free(s->buckets);
    free(s);
}

void stt_metrics_free(stt_metrics *m)
{
    if (!m) return;
    stt_metric *f = m->head;
    while (f) {
        stt_metric *nf = f->next;
        for (series *s = f->head; s;) {
            series *ns = s->next;
            series_free(s);
            s = ns;
        }
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
        f = nf;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Renders labels into their key; returns NULL on a bad label name or OOM. */
static char *label_key(const char *const *labels)
{
    sbuf b = {0};
    sb_add(&b, "", 0);
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!labels[i + 1] || !valid_name(labels[i], 0) || strcmp(labels[i], "le") == 0) {
            free(b.p);
            return NULL;
        }
        if (i) sb_str(&b, ",");
        sb_str(&b, labels[i]);
        sb_str(&b, "=\"");
        sb_escaped(&b, labels[i + 1], 1);
        sb_str(&b, "\"");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Finds or makes the series for labels; call with the mutex held. */
static series *get_series(stt_metric *f, const char *key, int create)
{
    for (series *s = f->head; s; s = s->next)
        if (strcmp(s->labels, key) == 0) return s;
    if (!create || f->n_series >= MAX_SERIES) return NULL;
    series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->labels = strdup(key);
    if (f->type == STT_METRIC_HISTOGRAM) s->buckets = calloc(f->n_bounds, sizeof *s->buckets);
    if (!s->labels || (f->type == STT_METRIC_HISTOGRAM && !s->buckets)) {
        series_free(s);
        return NULL;
    }
    if (f->tail)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    f->n_series++;
    return s;
}

stt_metric *stt_metrics_add(stt_metrics *m, const char *name, const char *help,
                            stt_metric_type type, const double *buckets, size_t n_buckets)
{
    if (!m || !valid_name(name, 1) || !help) return NULL;
    if (type == STT_METRIC_HISTOGRAM) {
        if (!buckets || !n_buckets) return NULL;
        for (size_t i = 0; i < n_buckets; i++)
            if (!isfinite(buckets[i]) || (i && buckets[i] <= buckets[i - 1])) return NULL;
    }
    stt_metric *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->reg = m;
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help);
    if (type == STT_METRIC_HISTOGRAM) {
        f->bounds = malloc(n_buckets * sizeof *f->bounds);
        if (f->bounds) memcpy(f->bounds, buckets, n_buckets * sizeof *f->bounds);
        f->n_bounds = n_buckets;
    }
    pthread_mutex_lock(&m->mu);
    int dup = 0;
    for (stt_metric *o = m->head; o; o = o->next)
        if (strcmp(o->name, name) == 0) dup = 1;
    /* An unlabelled family exists from the start, so its 0 is visible. */
    if (dup || !f->name || !f->help || (type == STT_METRIC_HISTOGRAM && !f->bounds) ||
        !get_series(f, "", 1)) {
        pthread_mutex_unlock(&m->mu);
        for (series *s = f->head; s;) {
            series *ns = s->next;
            series_free(s);
            s = ns;
        }
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
        return NULL;
    }
    if (m->tail)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

enum { OP_INC, OP_SET, OP_OBSERVE };

static int update(stt_metric *f, const char *const *labels, double v, int op)
{
    if (!f) return STT_EINVAL;
    if ((op == OP_OBSERVE) != (f->type == STT_METRIC_HISTOGRAM)) return STT_EINVAL;
    if (op == OP_INC && f->type == STT_METRIC_COUNTER && !(v >= 0)) return STT_EINVAL;
    char *key = label_key(labels);
    if (!key) return STT_EINVAL;
    pthread_mutex_lock(&f->reg->mu);
    series *s = get_series(f, key, 1);
    if (s) {
        if (op == OP_INC)
            s->value += v;
        else if (op == OP_SET)
            s->value = v;
        else {
            s->value += v;
            s->count++;
            for (size_t i = 0; i < f->n_bounds; i++)
                if (v <= f->bounds[i]) {
                    s->buckets[i]++;
                    break;
                }
        }
    }
    pthread_mutex_unlock(&f->reg->mu);
    free(key);
    return s ? 0 : STT_ENOMEM;
}

int stt_metric_inc(stt_metric *f, const char *const *labels, double v)
{
    return update(f, labels, v, OP_INC);
}

int stt_metric_set(stt_metric *f, const char *const *labels, double v)
{
    return update(f, labels, v, OP_SET);
}

int stt_metric_observe(stt_metric *f, const char *const *labels, double v)
{
    return update(f, labels, v, OP_OBSERVE);
}

double stt_metric_value(stt_metric *f, const char *const *labels)
{
    char *key = f ? label_key(labels) : NULL;
    if (!key) return 0;
    pthread_mutex_lock(&f->reg->mu);
    series *s = get_series(f, key, 0);
    double v = s ? (f->type == STT_METRIC_HISTOGRAM ? (double)s->count : s->value) : 0;
    pthread_mutex_unlock(&f->reg->mu);
    free(key);
    return v;
}

static void render_histogram(sbuf *b, const stt_metric *f, const series *s)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i <= f->n_bounds; i++) {
        cum += i < f->n_bounds ? s->buckets[i] : 0;
        sb_str(b, f->name);
        sb_str(b, "_bucket{");
        sb_str(b, s->labels);
        sb_str(b, *s->labels ? ",le=\"" : "le=\"");
        if (i < f->n_bounds)
            sb_double(b, f->bounds[i]);
        else
            sb_str(b, "+Inf");
        sb_printf(b, "\"} %llu\n", i < f->n_bounds ? cum : s->count);
    }
    const char *open = *s->labels ? "{" : "", *close = *s->labels ? "}" : "";
    sb_str(b, f->name);
    sb_str(b, "_sum");
    sb_str(b, open);
    sb_str(b, s->labels);
    sb_str(b, close);
    sb_str(b, " ");
    sb_double(b, s->value);
    sb_str(b, "\n");
    sb_str(b, f->name);
    sb_str(b, "_count");
    sb_str(b, open);
    sb_str(b, s->labels);
    sb_str(b, close);
    sb_printf(b, " %llu\n", s->count);
}

int stt_metrics_render(stt_metrics *m, char **out, size_t *len)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    sbuf b = {0};
    sb_add(&b, "", 0);
    pthread_mutex_lock(&m->mu);
    for (const stt_metric *f = m->head; f; f = f->next) {
        sb_str(&b, "# HELP ");
        sb_str(&b, f->name);
        sb_str(&b, " ");
        sb_escaped(&b, f->help, 0);
        sb_str(&b, "\n# TYPE ");
        sb_str(&b, f->name);
        sb_str(&b, " ");
        sb_str(&b, type_names[f->type]);
        sb_str(&b, "\n");
        for (const series *s = f->head; s; s = s->next) {
            /* A labelled family's placeholder series is not a real sample. */
            if (!*s->labels && f->n_series > 1) continue;
            if (f->type == STT_METRIC_HISTOGRAM) {
                render_histogram(&b, f, s);
                continue;
            }
            sb_str(&b, f->name);
            if (*s->labels) {
                sb_str(&b, "{");
                sb_str(&b, s->labels);
                sb_str(&b, "}");
            }
            sb_str(&b, " ");
            sb_double(&b, s->value);
            sb_str(&b, "\n");
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.p);
        return STT_ENOMEM;
    }
    *out = b.p;
    if (len) *len = b.len;
    return 0;
}
