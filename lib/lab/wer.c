/* wer: sclite-compatible word alignment.
 *
 * Written by hand because no packaged C library aligns words the way sclite
 * does, and the counts must match sclite's exactly. sclite (SCTK net_dp.c,
 * word.c) fills a dynamic-programming grid over reference x hypothesis with
 * costs correct 0, substitution 4, insertion 3, deletion 3, and at each cell
 * keeps the diagonal step when it is no worse than both others, else the
 * deletion when strictly cheaper than the insertion, else the insertion; its
 * backtrace then follows those choices. Because every choice is local, the
 * chosen path's counts can be carried forward cell by cell, so two rows
 * suffice instead of the whole grid.
 */
#include "wer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum { COST_SUB = 4, COST_INS = 3, COST_DEL = 3 };

typedef struct cell {
    size_t cost;
    size_t sub, del, ins;
} cell;

int stt_wer_align(const char *const *ref, size_t n_ref, const char *const *hyp, size_t n_hyp,
                  stt_wer_counts *out)
{
    if (!out || (n_ref && !ref) || (n_hyp && !hyp)) return STT_EINVAL;
    if (n_hyp + 1 > SIZE_MAX / (2 * sizeof(cell))) return STT_ENOMEM;
    cell *prev = malloc((n_hyp + 1) * sizeof *prev);
    cell *cur = malloc((n_hyp + 1) * sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return STT_ENOMEM;
    }
    prev[0] = (cell){0, 0, 0, 0};
    for (size_t b = 1; b <= n_hyp; b++)
        prev[b] = (cell){prev[b - 1].cost + COST_INS, 0, 0, prev[b - 1].ins + 1};
    for (size_t a = 1; a <= n_ref; a++) {
        cur[0] = (cell){prev[0].cost + COST_DEL, 0, prev[0].del + 1, 0};
        for (size_t b = 1; b <= n_hyp; b++) {
            int same = strcmp(ref[a - 1], hyp[b - 1]) == 0;
            size_t sub = prev[b - 1].cost + (same ? 0 : COST_SUB);
            size_t del = prev[b].cost + COST_DEL;
            size_t ins = cur[b - 1].cost + COST_INS;
            if (sub <= del && sub <= ins) {
                cur[b] = prev[b - 1];
                cur[b].cost = sub;
                if (!same) cur[b].sub++;
            } else if (del < ins) {
                cur[b] = prev[b];
                cur[b].cost = del;
                cur[b].del++;
            } else {
                cur[b] = cur[b - 1];
                cur[b].cost = ins;
                cur[b].ins++;
            }
        }
        cell *t = prev;
        prev = cur;
        cur = t;
    }
    const cell *end = &prev[n_hyp];
    *out = (stt_wer_counts){
        .ref_words = n_ref,
        .hyp_words = n_hyp,
        .correct = n_ref - end->sub - end->del,
        .substitutions = end->sub,
        .deletions = end->del,
        .insertions = end->ins,
        .utterances = 1,
        .utterances_wrong = (end->sub + end->del + end->ins) > 0,
    };
    free(prev);
    free(cur);
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits s in place at white space; *words points into s. */
static int split_words(char *s, char ***words, size_t *n)
{
    size_t cap = 0, k = 0;
    for (const char *p = s; *p; p++)
        if (!is_space(*p) && (p == s || is_space(p[-1]))) cap++;
    char **w = malloc((cap ? cap : 1) * sizeof *w);
    if (!w) return STT_ENOMEM;
    for (char *p = s; *p;) {
        while (*p && is_space(*p))
            *p++ = '\0';
        if (!*p) break;
        w[k++] = p;
        while (*p && !is_space(*p))
            p++;
    }
    *words = w;
    *n = k;
    return 0;
}

int stt_wer_align_text(const char *ref, const char *hyp, int normalize, stt_wer_counts *out)
{
    if (!ref || !hyp || !out) return STT_EINVAL;
    char *r = normalize ? stt_wer_normalize(ref) : strdup(ref);
    char *h = normalize ? stt_wer_normalize(hyp) : strdup(hyp);
    char **rw = NULL, **hw = NULL;
    size_t nr = 0, nh = 0;
    int rc = STT_ENOMEM;
    if (r && h && split_words(r, &rw, &nr) == 0 && split_words(h, &hw, &nh) == 0)
        rc = stt_wer_align((const char *const *)rw, nr, (const char *const *)hw, nh, out);
    free(rw);
    free(hw);
    free(r);
    free(h);
    return rc;
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

char *stt_wer_normalize(const char *text)
{
    if (!text) return NULL;
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t k = 0;
    int pending_space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        int keep = is_word_char(c) ||
                   (c == '\'' && i > 0 && i + 1 < n && is_word_char((unsigned char)text[i - 1]) &&
                    is_word_char((unsigned char)text[i + 1]));
        if (!keep) {
            pending_space = k > 0;
            continue;
        }
        if (pending_space) out[k++] = ' ';
        pending_space = 0;
        out[k++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    out[k] = '\0';
    return out;
}

void stt_wer_add(stt_wer_counts *acc, const stt_wer_counts *c)
{
    acc->ref_words += c->ref_words;
    acc->hyp_words += c->hyp_words;
    acc->correct += c->correct;
    acc->substitutions += c->substitutions;
    acc->deletions += c->deletions;
    acc->insertions += c->insertions;
    acc->utterances += c->utterances;
    acc->utterances_wrong += c->utterances_wrong;
}

size_t stt_wer_errors(const stt_wer_counts *c)
{
    return c->substitutions + c->deletions + c->insertions;
}

double stt_wer_rate(const stt_wer_counts *c)
{
    size_t e = stt_wer_errors(c);
    if (c->ref_words == 0) return e ? 1.0 : 0.0;
    return (double)e / (double)c->ref_words;
}
