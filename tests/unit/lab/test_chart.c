/* chart: gnuplot runs in the results folder; a broken script is an error
 * that names its log. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "chart.h"
#include "error.h"
#include "testlib.h"

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_draws_and_fails(void)
{
    if (!stt_chart_available()) {
        fprintf(stderr, "  gnuplot not installed: skipped\n");
        return;
    }
    const char *dir = test_tmpdir();
    put(dir, "d.dat", "1 2\n2 4\n3 5\n");
    put(dir, "c.gp",
        "set terminal pngcairo size 200,100\nset output 'c.png'\n"
        "plot 'd.dat' using 1:2 with lines\n");
    char err[512] = "", png[512];
    CHECK(stt_chart_run(dir, "c.gp", err, sizeof err) == 0);
    snprintf(png, sizeof png, "%s/c.png", dir);
    struct stat st;
    CHECK(stat(png, &st) == 0 && st.st_size > 100);
    put(dir, "bad.gp", "plot 'no-such-file.dat'\n");
    CHECK(stt_chart_run(dir, "bad.gp", err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "gnuplot.log") != NULL);
}

int main(void)
{
    TEST_RUN(test_draws_and_fails);
    return test_summary();
}
