/* wer: word error rate, scored the way NIST sclite scores it.
 *
 * A hypothesis is aligned to its reference word by word with sclite's default
 * costs (correct 0, substitution 4, insertion 3, deletion 3) and sclite's
 * tie-breaking, so the substitution, deletion and insertion counts equal what
 * `sclite -r ref.trn trn -h hyp.trn trn` reports for the same words, not only
 * their sum. Words compare byte for byte; pass text through
 * stt_wer_normalize() first for case- and punctuation-insensitive scoring.
 * Corpus WER is the sum of errors over the sum of reference words
 * (stt_wer_add() then stt_wer_rate()), never a mean of per-utterance rates.
 * Every function is pure and thread-safe.
 */
#ifndef STT_WER_H
#define STT_WER_H

#include <stddef.h>

typedef struct stt_wer_counts {
    size_t ref_words; /* reference length N */
    size_t hyp_words;
    size_t correct;
    size_t substitutions;
    size_t deletions;
    size_t insertions;
    size_t utterances;       /* 1 per aligned pair */
    size_t utterances_wrong; /* pairs with any error (sclite's S.Err) */
} stt_wer_counts;

/* Aligns hyp to ref and writes the counts of this one utterance into *out.
 * Memory is O(n_hyp). Returns 0, STT_EINVAL (NULL words with a non-zero
 * count, or out NULL) or STT_ENOMEM. */
int stt_wer_align(const char *const *ref, size_t n_ref, const char *const *hyp, size_t n_hyp,
                  stt_wer_counts *out);

/* As stt_wer_align() on two texts split at ASCII white space; with normalize
 * set, both go through stt_wer_normalize() first. */
int stt_wer_align_text(const char *ref, const char *hyp, int normalize, stt_wer_counts *out);

/* Lower-cases ASCII letters, turns every character that is neither a letter,
 * a digit, a byte >= 0x80 (UTF-8 text is kept) nor an apostrophe between two
 * such characters into a space, and collapses runs of spaces to one, trimming
 * both ends: "Don't STOP -- 'now'!" -> "don't stop now". Returns a malloc'd
 * string, or NULL when out of memory (or text is NULL). */
char *stt_wer_normalize(const char *text);

/* acc += c, field by field (for corpus totals). */
void stt_wer_add(stt_wer_counts *acc, const stt_wer_counts *c);

/* substitutions + deletions + insertions. */
size_t stt_wer_errors(const stt_wer_counts *c);

/* errors / ref_words. With no reference words: 0 when there are no errors,
 * else 1 (any hypothesis word is wholly wrong), so the value is always finite. */
double stt_wer_rate(const stt_wer_counts *c);

#endif
