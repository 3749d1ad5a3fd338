/* report sections for the audio, service and tests results: every figure
 * with its n and interval, each skipped file with its own reason, the
 * cases and the stability of the test suite; and files from before these
 * fields still read. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

static char *render_dir(const char *dir, int html)
{
    const char *dirs[] = {dir};
    stt_report *r = NULL;
    if (stt_report_load(dirs, 1, &r, NULL, 0)) return NULL;
    stt_report_params p = stt_report_default_params();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = html ? stt_report_write_html(r, &p, f) : stt_report_write_md(r, &p, f);
    fclose(f);
    stt_report_free(r);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Whether text holds "FIGURE [N]" where reference N of md's sources table is
 * FILE's FIELD: a cited figure and where it says it comes from. */
static int cited(const char *md, const char *text, const char *figure, const char *file,
                 const char *field)
{
    char want[256], row[600];
    snprintf(want, sizeof want, "%s [", figure);
    for (const char *p = strstr(text, want); p; p = strstr(p + 1, want)) {
        int ref = atoi(p + strlen(want));
        if (ref <= 0) continue;
        snprintf(row, sizeof row, "\n| %d | %s | %s |", ref, file, field);
        if (strstr(md, row)) return 1;
    }
    fprintf(stderr, "  not cited: %s (%s: %s)\n", figure, file, field);
    return 0;
}

/* The text of the section that starts with heading, up to the next "## ". */
static char *section(const char *md, const char *heading)
{
    const char *s = strstr(md, heading);
    if (!s) return NULL;
    const char *e = strstr(s + strlen(heading), "\n## ");
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *out = malloc(n + 1);
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

static void test_audio_section(void)
{
    char *md = render_dir(SAMPLE, 0);
    REQUIRE(md);
    char *a = section(md, "## Audio length");
    REQUIRE(a);
    CHECK(strstr(a, "5 round(s)"));
    CHECK(cited(md, a, "0.157 [0.153, 0.161], n=5", "audio/audio.json", "profiles[1].rtf"));
    CHECK(strstr(a, "|process_s_single|one-piece files|"));
    CHECK(cited(md, a, "0.152 [0.149, 0.155]", "audio/audio.json", "fits[0].slope"));
    CHECK(strstr(a, "intercept held at 0; too few points to project"));
    /* memory fits in MiB, their intervals too */
    CHECK(cited(md, a, "143.1 MiB [141.1, 145]", "audio/audio.json", "fits[2].intercept"));
    /* each reason with its own count */
    CHECK(strstr(a, "Skipped, longer than --max-duration (600 s): 1 file(s), e.g. "
                    "speech_0660s.wav"));
    CHECK(strstr(a, "Skipped, not in the --quick set (16 kHz mono WAV up to 30 s): 2 file(s), "
                    "e.g. speech_0025s.mp3"));
    CHECK(!strstr(a, "longer than the limit"));
    free(a);
    free(md);
}

static void test_service_section(void)
{
    char *md = render_dir(SAMPLE, 0);
    REQUIRE(md);
    char *s = section(md, "## Service against");
    REQUIRE(s);
    CHECK(cited(md, s, "|0.92", "service/service.json", "targets[0].median"));
    CHECK(strstr(s, "|[0.9, 0.95], n 5|PASS|"));
    CHECK(strstr(s, "|undetermined: needs more rounds"));
    CHECK(strstr(s, "|balanced 33.8% vs pocketsphinx_continuous 36.6%"));
    CHECK(strstr(s, "sttd 4.10 s [4.00, 4.30] / sttraw decode 4.45 s"));
    free(s);
    free(md);
}

static void test_tests_section(void)
{
    char *md = render_dir(SAMPLE, 0);
    REQUIRE(md);
    char *t = section(md, "## Tests");
    REQUIRE(t);
    CHECK(cited(md, t, "test cases|166", "tests/test_results.json", "case_totals.cases"));
    CHECK(cited(md, t, "test programs|40", "tests/test_results.json", "totals.tests"));
    CHECK(strstr(t, "Slow case test_pool/test_long_file: 41.2 s"));
    CHECK(cited(md, t, "ran 3", "tests/test_results.json", "stability.runs"));
    CHECK(cited(md, t, "from 21.4 s", "tests/test_results.json", "stability.run_time_s[0]"));
    CHECK(cited(md, t, "to 22.9 s", "tests/test_results.json", "stability.run_time_s[1]"));
    CHECK(strstr(t, "Commit abc1234, 2026-11-27T07:42:29Z"));
    free(t);
    free(md);
    char *html = render_dir(SAMPLE, 1);
    CHECK(html && strstr(html, "Slow case test_pool/test_long_file"));
    free(html);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* Results written before intervals, cases and reasons per file were
 * recorded still give their sections, saying what they lack. */
static void test_old_files(void)
{
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/audio.json", dir);
    CHECK(write_text(path,
                     "{\"tool\": \"sttbench audio\", \"profiles\": [{\"profile\": \"balanced\", "
                     "\"rtf\": 0.16, \"rtfx\": 6.2, \"wer\": 0.33, \"audio_s\": 300}],"
                     "\"fits\": [{\"profile\": \"balanced\", \"y\": \"process_s\", \"n\": 3, "
                     "\"slope\": 0.15, \"intercept\": 0.5, \"r2\": 0.99}],"
                     "\"skipped\": [{\"file\": \"a.mp3\", \"duration_s\": 27.7, \"reason\": \"not "
                     "in --quick set\"}, {\"file\": \"b.ogg\", \"duration_s\": 27.7, \"reason\": "
                     "\"not in --quick set\"}]}\n") == 0);
    snprintf(path, sizeof path, "%s/test_results.json", dir);
    CHECK(write_text(
              path, "{\"schema\": \"sttlab-test-results/1\", \"commit\": \"x\", \"date\": "
                    "\"2026-01-02T00:00:00Z\", \"totals\": {\"tests\": 3}, \"tests\": []}\n") == 0);
    snprintf(path, sizeof path, "%s/service.json", dir);
    CHECK(write_text(path, "{\"tool\": \"sttbench service\", \"targets\": [{\"target\": \"1 "
                           "overhead\", \"goal\": \"<= 1.05x\", \"measured\": \"0.92x\", "
                           "\"verdict\": \"PASS\"}]}\n") == 0);
    char *md = render_dir(dir, 0);
    REQUIRE(md);
    CHECK(cited(md, md, "0.16 (no interval), n not recorded", "audio.json", "profiles[0].rtf"));
    CHECK(strstr(md, "Skipped, not in --quick set: 2 file(s), e.g. a.mp3"));
    CHECK(strstr(md, "Commit x, 2026-01-02T00:00:00Z"));
    CHECK(strstr(md, "Stability was not measured"));
    CHECK(strstr(md, "| 1 overhead|<= 1.05x|0.92x|-|PASS|- |"));
    free(md);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    TEST_RUN(test_audio_section);
    TEST_RUN(test_service_section);
    TEST_RUN(test_tests_section);
    TEST_RUN(test_old_files);
    return test_summary();
}
