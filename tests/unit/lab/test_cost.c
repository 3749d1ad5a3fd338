/* cost: reading valgrind's output, the baseline subtraction and the checks of
 * the parameters (the measurement itself runs in scripts/check_regression.sh). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "error.h"
#include "testlib.h"

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_cachegrind_sum(void)
{
    const char *dir = test_tmpdir();
    /* one file per traced process: sttd, its zygote, the forked worker */
    put(dir, "cg-input.101",
        "desc: I1 cache:\ncmd: sttd transcribe\nevents: Ir\n"
        "fl=a.c\nfn=main\n1 10\nsummary: 13034250\n");
    put(dir, "cg-input.102", "events: Ir\nsummary: 1478332343\n");
    put(dir, "cg-input.103", "events: Ir\nsummary: 3988120407\n");
    put(dir, "cg-silence.104", "events: Ir\nsummary: 2967237521\n");
    put(dir, "cg-input.stdout", "he was not until this blows young man\n");
    double in = 0, base = 0;
    char err[256];
    CHECK(stt_cost_cachegrind_total(dir, "cg-input.1", &in, err, sizeof err) == 0);
    CHECK(in == 13034250.0 + 1478332343.0 + 3988120407.0);
    CHECK(stt_cost_cachegrind_total(dir, "cg-silence.", &base, err, sizeof err) == 0);
    CHECK(base == 2967237521.0);
    /* model loading cancels: (input - silence) / audio seconds */
    double per = stt_cost_per_audio_s(in, base, 2.99);
    CHECK(fabs(per - (in - base) / 2.99) < 1e-6);
    CHECK(isnan(stt_cost_per_audio_s(base, in, 2.99)));
    CHECK(isnan(stt_cost_per_audio_s(in, base, 0)));
    CHECK(stt_cost_cachegrind_total(dir, "nothing.", &in, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "nothing."));
    /* a worker killed while valgrind wrote its output: no summary, no count */
    put(dir, "cg-cut.201", "events: Ir\nsummary: 100\n");
    put(dir, "cg-cut.202", "events: Ir\nfl=a.c\nfn=main\n1 10\n");
    CHECK(stt_cost_cachegrind_total(dir, "cg-cut.", &in, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "cut short"));
}

static void test_massif_peak(void)
{
    const char *dir = test_tmpdir();
    put(dir, "massif.1",
        "snapshot=0\nmem_heap_B=100\nmem_heap_extra_B=8\nmem_stacks_B=0\n"
        "snapshot=1\nmem_heap_B=1555539\nmem_heap_extra_B=20000\n");
    put(dir, "massif.2",
        "snapshot=0\nmem_heap_B=92420181\nmem_heap_extra_B=1000\n"
        "snapshot=1\nmem_heap_B=5\nmem_heap_extra_B=0\n");
    double peak = 0;
    CHECK(stt_cost_massif_peak(dir, "massif.", &peak, NULL, 0) == 0);
    CHECK(peak == 92421181.0);
}

static void test_params(void)
{
    stt_cost_params p = stt_cost_default_params();
    CHECK(p.runs == 10 && p.valgrind == 1 && p.input && p.testdata_dir);
    char err[256], w[64] = "";
    /* no side, no output folder */
    CHECK(stt_cost_run(&p, w, sizeof w, err, sizeof err) == STT_EINVAL);
    p.nsides = 2;
    p.out_dir = test_tmpdir();
    p.side[0] =
        (stt_cost_side){.label = "base", .sttd = "/nonexistent/sttd", .profile = "balanced"};
    p.side[1] = (stt_cost_side){.label = "head", .sttd = "/bin/true", .profile = "balanced"};
    CHECK(stt_cost_run(&p, w, sizeof w, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "/nonexistent/sttd"));
    /* the same label twice; a quote the shell would see */
    p.side[0] = p.side[1];
    CHECK(stt_cost_run(&p, w, sizeof w, err, sizeof err) == STT_EINVAL);
    p.side[0].label = "base";
    p.side[0].model_dir = "/tmp/it's";
    CHECK(stt_cost_run(&p, w, sizeof w, err, sizeof err) == STT_EINVAL);
    p.side[0].model_dir = NULL;
    /* an input that is not a testdata clip */
    p.input = "no-such-clip";
    CHECK(stt_cost_run(&p, w, sizeof w, err, sizeof err) == STT_EINVAL);
    CHECK(strstr(err, "no-such-clip"));
}

int main(void)
{
    TEST_RUN(test_cachegrind_sum);
    TEST_RUN(test_massif_peak);
    TEST_RUN(test_params);
    return test_summary();
}
