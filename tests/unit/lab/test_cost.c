/* cost: reading valgrind's output, the baseline subtraction and the checks of
 * the parameters (the measurement itself runs in scripts/check_regression.sh). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* A stand-in for valgrind: writes what cachegrind or massif would for the three
 * processes of sttd transcribe (sttd, its zygote, the worker), the worker's work
 * larger on the clip than on silence. A file "cut-once" beside the outputs makes
 * the next cachegrind run on the clip leave the worker's file cut short. */
static const char fake_valgrind[] =
    "#!/bin/sh\n"
    "[ \"$1\" = --version ] && { echo valgrind-fake; exit 0; }\n"
    "tool= out= last=\n"
    "for a; do case $a in --tool=*) tool=${a#--tool=};; --*-out-file=*) out=${a#*=};; esac; "
    "last=$a; done\n"
    "case $last in *silence*) work=1100;; *) work=2300;; esac\n"
    "dir=$(dirname \"$out\")\n"
    "i=0\n"
    "for n in 10 1000 $((1000 + work)); do\n"
    "  i=$((i + 1)); f=$(echo \"$out\" | sed \"s/%p/$$$i/\")\n"
    "  if [ $tool = massif ]; then\n"
    "    case $out in *massif-1*) peak=$((n * 1000 / 2));; *) peak=$((n * 1000));; esac\n"
    "    printf 'snapshot=0\\nmem_heap_B=%d\\nmem_heap_extra_B=8\\n' $peak > \"$f\"\n"
    "  elif [ $i = 3 ] && [ $work = 2300 ] && [ -f \"$dir/cut-once\" ]; then\n"
    "    rm \"$dir/cut-once\"; printf 'events: Ir\\nfl=a.c\\n' > \"$f\"\n"
    "  else printf 'events: Ir\\nsummary: %d\\n' $n > \"$f\"; fi\n"
    "done\n"
    "echo he was not an ill disposed young man\n";

static int lines;
static void count_line(const char *line, void *ctx)
{
    (void)ctx;
    lines += strstr(line, "again") != NULL;
}

static void test_counts_with_a_stand_in_valgrind(void)
{
    const char *tmp = test_tmpdir();
    char vg[600], out[600], cut[700], cmd[1400];
    snprintf(vg, sizeof vg, "%s/valgrind", tmp);
    put(tmp, "valgrind", fake_valgrind);
    REQUIRE(chmod(vg, 0755) == 0);
    snprintf(out, sizeof out, "%s/out", tmp);
    /* the base side's first count on the clip is cut short: counted again */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/base/valgrind", out);
    REQUIRE(system(cmd) == 0);
    snprintf(cut, sizeof cut, "%s/base/valgrind", out);
    put(cut, "cut-once", "");
    stt_cost_params p = stt_cost_default_params();
    p.nsides = 2;
    p.side[0] = (stt_cost_side){
        .label = "base", .sttd = "/bin/true", .profile = "balanced", .commit = "aaaaaaa"};
    p.side[1] = (stt_cost_side){.label = "head", .sttd = "/bin/true", .profile = "balanced"};
    p.wall = 0;
    p.valgrind_bin = vg;
    p.out_dir = out;
    p.progress = count_line;
    lines = 0;
    char err[512] = "", written[1024] = "";
    REQUIRE(stt_cost_run(&p, written, sizeof written, err, sizeof err) == 0);
    CHECK(lines == 1); /* one repeat, for the cut file */
    CHECK(strstr(written, "base/cost.json") && strstr(written, "head/cost.json"));
    char path[800];
    snprintf(path, sizeof path, "%s/base/cost.json", out);
    json_t *d = json_load_file(path, 0, NULL);
    REQUIRE(d);
    CHECK(!strcmp(json_string_value(json_object_get(d, "commit")), "aaaaaaa"));
    json_t *in = json_object_get(d, "instructions");
    /* (10 + 1000 + 3300) - (10 + 1000 + 2100) over the clip's 2.99 s */
    CHECK(fabs(json_real_value(json_object_get(in, "per_audio_s")) - 1200 / 2.99) < 1e-3);
    CHECK(json_real_value(json_object_get(in, "wer")) == 0);
    json_t *m = json_array_get(json_object_get(d, "metrics"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(m, "name")), "instructions_per_audio_s"));
    CHECK(json_is_true(json_object_get(m, "deterministic")));
    /* the heap: the larger of the two massif runs, which disagreed */
    json_t *h = json_object_get(d, "peak_heap");
    CHECK(json_real_value(json_object_get(h, "bytes")) == 3300 * 1000 + 8);
    CHECK(json_is_false(json_object_get(h, "runs_agree")));
    CHECK(!json_object_get(d, "accuracy")); /* counts only */
    json_decref(d);
    /* always cut short: the run fails after its attempts */
    char always[sizeof fake_valgrind + 64];
    snprintf(always, sizeof always, "%s", fake_valgrind);
    char *rm = strstr(always, "rm \"$dir/cut-once\"; ");
    REQUIRE(rm);
    memmove(rm, rm + strlen("rm \"$dir/cut-once\"; "),
            strlen(rm + strlen("rm \"$dir/cut-once\"; ")) + 1);
    put(tmp, "valgrind", always);
    put(cut, "cut-once", "");
    CHECK(stt_cost_run(&p, written, sizeof written, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "no complete instruction count"));
    /* a run that fails: the error quotes what the program said, not valgrind */
    put(tmp, "valgrind",
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo v; exit 0; }\necho '==1== Cachegrind' "
        ">&2\necho 'sttd: a.wav: it broke' >&2\n"
        "echo '==1== done' >&2\nexit 1\n");
    CHECK(stt_cost_run(&p, written, sizeof written, err, sizeof err) == STT_EIO);
    CHECK(strstr(err, "run failed: sttd: a.wav: it broke (see "));
}

int main(void)
{
    TEST_RUN(test_cachegrind_sum);
    TEST_RUN(test_massif_peak);
    TEST_RUN(test_params);
    TEST_RUN(test_counts_with_a_stand_in_valgrind);
    return test_summary();
}
