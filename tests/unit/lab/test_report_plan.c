/* report plan: pods per shape come from the objective: a stricter p95
 * objective needs more pods of the same shape, and each row's model p95
 * meets the objective it was sized for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "report.h"
#include "testlib.h"

#define SAMPLE STT_SOURCE_DIR "/tests/data/results"

/* The pods and model p95 of the row for `cores` in a plan's table; 0 when
 * the row is missing or says the objective is unreachable. */
static int pods_for(const char *plan, int cores, double *p95)
{
    char key[32];
    snprintf(key, sizeof key, "\n| %d | ", cores);
    const char *row = strstr(plan, key);
    int pods = 0;
    if (!row || sscanf(row + strlen(key), "%d | %*[^|]| %lf s", &pods, p95) != 2) return 0;
    return pods;
}

static char *plan_for(const stt_report *r, double rate, double slo)
{
    double dur[1] = {30}, w[1] = {1};
    stt_mix mix = {dur, w, 1};
    stt_report_params p = stt_report_default_params();
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = stt_report_plan(r, &p, &mix, rate, slo, f, err, sizeof err);
    fclose(f);
    if (rc) {
        fprintf(stderr, "  plan: %s\n", err);
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_stricter_objective_needs_more_pods(void)
{
    const char *dirs[] = {SAMPLE};
    stt_report *r = NULL;
    REQUIRE(stt_report_load(dirs, 1, &r, NULL, 0) == 0);
    char *loose = plan_for(r, 2, 1000), *strict = plan_for(r, 2, 12);
    REQUIRE(loose && strict);
    double p95_loose = 0, p95_strict = 0;
    int a = pods_for(loose, 1, &p95_loose), b = pods_for(strict, 1, &p95_strict);
    fprintf(stderr, "  1-core pods: %d (p95 %.3g s) for 1000 s, %d (p95 %.3g s) for 12 s\n", a,
            p95_loose, b, p95_strict);
    CHECK(a > 0 && b > a);
    CHECK(p95_strict <= 12 && p95_loose <= 1000);
    free(loose);
    free(strict);
    stt_report_free(r);
}

int main(void)
{
    TEST_RUN(test_stricter_objective_needs_more_pods);
    return test_summary();
}
