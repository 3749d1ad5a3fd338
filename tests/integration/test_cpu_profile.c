/* `sttbench cpu` end to end: the real program, run as a user runs it, against
 * fake_sttd (a stand-in server that burns CPU time in proportion to the audio
 * it receives, so a core restriction changes its throughput) on a two-file
 * corpus, with the smallest grid (cpuset, 1 and 2 cores, 1 thread, 2 s of
 * load). The cpu.json it writes and its report are checked against the schema
 * of docs/CPU.md: behaviour and bounds, never the numbers of one run. Also: bad
 * option values are refused with exit status 2, and (where haproxy is
 * installed) the pod-shape phase runs and is recorded. */
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* CPU time fake_sttd spends per audio second: the 4 s file is 0.1 s of work,
 * short enough for many requests in 2 s, long enough to dwarf HTTP costs. */
#define FAKE_CPU_MS "25"

static int usable_cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

/* Writes seconds of a 16 kHz mono 16-bit tone to path; its size into *bytes. */
static int write_wav(const char *path, double seconds, long long *bytes)
{
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) return -1;
    sf_count_t n = (sf_count_t)(seconds * 16000);
    short *s = malloc(sizeof *s * (size_t)n);
    if (!s) {
        sf_close(f);
        return -1;
    }
    for (sf_count_t i = 0; i < n; i++)
        s[i] = (short)(8000 * sin(2 * M_PI * 440 * (double)i / 16000));
    sf_count_t w = sf_writef_short(f, s, n);
    sf_close(f);
    free(s);
    struct stat st;
    if (w != n || stat(path, &st)) return -1;
    *bytes = st.st_size;
    return 0;
}

/* A corpus directory as `sttbench corpus` leaves it, reduced to what `sttbench
 * cpu --quick` reads: 16 kHz mono WAVs for its short (nearest 8 s) and long
 * (nearest 28 s) roles, and manifest.json. */
static int make_corpus(const char *dir)
{
    static const struct {
        const char *file;
        double seconds;
    } files[] = {{"short.wav", 4.0}, {"long.wav", 20.0}};
    json_t *m = json_array();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4400];
        long long bytes;
        snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
        if (write_wav(path, files[i].seconds, &bytes)) {
            json_decref(m);
            return -1;
        }
        json_array_append_new(m, json_pack("{s:s, s:f, s:I, s:s, s:i, s:i, s:s, s:i}", "file",
                                           files[i].file, "duration_s", files[i].seconds, "bytes",
                                           (json_int_t)bytes, "format", "wav", "sample_rate", 16000,
                                           "channels", 1, "reference", "", "clips", 1));
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    int rc = json_dump_file(m, path, JSON_INDENT(2));
    json_decref(m);
    return rc;
}

/* Runs build/sttbench with args (NULL-terminated), stdout and stderr into
 * log. Returns its exit status, or -1 when it did not exit normally. */
static int run_sttbench(const char *const *args, const char *log)
{
    const char *argv[64];
    int argc = 0;
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", test_bin("sttbench"));
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(log, "w", stdout)) _exit(126);
        dup2(1, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    if (WIFSIGNALED(st)) fprintf(stderr, "  sttbench died of signal %d\n", WTERMSIG(st));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void dump_log(const char *log)
{
    char *s = test_read_file(log, NULL);
    fprintf(stderr, "---- sttbench output ----\n%s\n-------------------------\n", s ? s : "");
    free(s);
}

/* 1 when the file exists and its text contains needle. */
static int file_contains(const char *path, const char *needle)
{
    char *s = test_read_file(path, NULL);
    int found = s && strstr(s, needle) != NULL;
    free(s);
    return found;
}

typedef struct run {
    char dir[4096], corpus[4200], out[4200], log[4200], cmd[4600];
    int status;
    json_t *root; /* cpu.json, NULL when unreadable */
} run;

/* Builds the corpus and runs `sttbench cpu` with the fake server and extra
 * options. */
static int run_cpu(run *r, const char *const *extra)
{
    memset(r, 0, sizeof *r);
    const char *tmp = test_tmpdir();
    if (!tmp) return -1;
    snprintf(r->dir, sizeof r->dir, "%s", tmp);
    snprintf(r->corpus, sizeof r->corpus, "%s/corpus", r->dir);
    snprintf(r->out, sizeof r->out, "%s/out", r->dir);
    snprintf(r->log, sizeof r->log, "%s/sttbench.log", r->dir);
    if (mkdir(r->corpus, 0777) || make_corpus(r->corpus)) return -1;
    snprintf(r->cmd, sizeof r->cmd,
             "'%s' --port {port} --workers {workers} --threads {threads} "
             "--cpu-ms-per-audio-s " FAKE_CPU_MS,
             test_bin("fake_sttd"));
    const char *args[48] = {"cpu",   "--server-cmd", r->cmd,   "--corpus", r->corpus,
                            "--out", r->out,         "--mode", "cpuset",   "--duration",
                            "2",     "--repeat",     "3",      "--quick"};
    int n = 14;
    for (int i = 0; extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    r->status = run_sttbench(args, r->log);
    char path[4300];
    snprintf(path, sizeof path, "%s/cpu.json", r->out);
    json_error_t je;
    r->root = json_load_file(path, 0, &je);
    if (r->status != 0 || !r->root) dump_log(r->log);
    return 0;
}

static void run_free(run *r, int keep)
{
    json_decref(r->root);
    if (!keep && r->dir[0]) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
        if (system(cmd)) fprintf(stderr, "  could not remove %s\n", r->dir);
    } else if (r->dir[0]) {
        fprintf(stderr, "  kept %s\n", r->dir);
    }
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int one_of(const char *s, const char *const *set)
{
    for (int i = 0; s && set[i]; i++)
        if (!strcmp(s, set[i])) return 1;
    return 0;
}

/* A FIT object of docs/CPU.md: each model either fitted (numbers) or marked
 * not fitted, its status saying why and its parameters null. */
static void check_fit(json_t *fit, int npoints)
{
    REQUIRE(json_is_object(fit));
    CHECK(json_integer_value(json_object_get(fit, "points")) == npoints);
    json_t *am = json_object_get(fit, "amdahl"), *usl = json_object_get(fit, "usl");
    REQUIRE(json_is_object(am) && json_is_object(usl));
    static const char *const am_st[] = {"exact", "fit", "not enough points", "failed", NULL};
    CHECK(one_of(jstr(am, "status"), am_st));
    /* Two core counts: Amdahl's two parameters are solved exactly, without an
     * interval; USL's three cannot be fitted. */
    CHECK_STR_EQ(jstr(am, "status"), "exact");
    CHECK(isfinite(jnum(am, "serial_fraction")));
    CHECK(jnum(am, "x1") > 0);
    CHECK(json_is_null(json_object_get(am, "ci95")));
    CHECK(json_is_string(json_object_get(am, "projection_interval_from")));
    CHECK_STR_EQ(jstr(usl, "status"), "not enough points");
    CHECK(json_is_null(json_object_get(usl, "sigma")));
    CHECK(json_is_null(json_object_get(usl, "kappa")));
    CHECK(json_is_null(json_object_get(usl, "peak_cores")));
}

/* One point of the grid: started, verified under its restriction, measured. */
static void check_point(json_t *p, int cores)
{
    CHECK_STR_EQ(jstr(p, "status"), "ok");
    CHECK(json_is_null(json_object_get(p, "reason")));
    CHECK(json_integer_value(json_object_get(p, "workers")) == cores);
    CHECK(json_integer_value(json_object_get(p, "threads")) == 1);
    json_t *v = json_object_get(p, "verification");
    REQUIRE(json_is_object(v));
    CHECK(json_is_true(json_object_get(v, "ok")));
    json_t *checks = json_object_get(v, "checks");
    CHECK(json_array_size(checks) >= 4);
    int gauges = 0, affinity = 0, util = 0;
    for (size_t i = 0; i < json_array_size(checks); i++) {
        json_t *c = json_array_get(checks, i);
        const char *what = jstr(c, "what");
        CHECK(what && jstr(c, "expected") && jstr(c, "observed"));
        CHECK(json_is_true(json_object_get(c, "ok")));
        if (what && strstr(what, "server gauge sttd_")) gauges++;
        if (what && strstr(what, "affinity")) affinity++;
        if (what && strstr(what, "CPU used under saturation")) util++;
    }
    /* The fake server's /metrics were read and matched what was asked. */
    CHECK(gauges == 2 && affinity == 1 && util == 1);
    json_t *m = json_object_get(v, "metrics");
    CHECK(jnum(m, "sttd_workers") == cores);
    CHECK(jnum(m, "sttd_threads_per_request") == 1);
    json_t *procs = json_object_get(v, "processes");
    CHECK(json_array_size(procs) >= 1);
    for (size_t i = 0; i < json_array_size(procs); i++) {
        const char *list = jstr(json_array_get(procs, i), "cpus_allowed_list");
        CHECK(list && *list);
        /* One core is a single CPU number; two are a range or pair. */
        if (list && cores == 1) CHECK(!strchr(list, '-') && !strchr(list, ','));
        if (list && cores == 2) CHECK(strchr(list, '-') || strchr(list, ','));
    }
    json_t *lat = json_object_get(p, "latency");
    CHECK(json_array_size(lat) == 2); /* --quick: the short and the long file */
    for (size_t i = 0; i < json_array_size(lat); i++) {
        json_t *l = json_array_get(lat, i);
        CHECK(json_integer_value(json_object_get(l, "n")) == 3);
        double med = jnum(l, "median_s"), lo = jnum(l, "min_s"), hi = jnum(l, "max_s");
        CHECK(lo > 0 && lo <= med && med <= hi);
        CHECK(jnum(l, "rtfx") > 0);
    }
    json_t *t = json_object_get(p, "throughput");
    REQUIRE(json_is_object(t));
    CHECK(json_integer_value(json_object_get(t, "concurrency")) == 2 * cores);
    CHECK(json_integer_value(json_object_get(t, "ok")) > 0);
    CHECK(json_integer_value(json_object_get(t, "errors")) == 0);
    CHECK(jnum(t, "audio_s_per_s") > 0);
    CHECK(jnum(t, "p50_s") > 0 && jnum(t, "p50_s") <= jnum(t, "p95_s"));
    json_t *cpu = json_object_get(p, "cpu");
    /* Saturated: the granted CPUs were mostly busy, never more than granted. */
    CHECK(jnum(cpu, "utilisation") > 0.3 && jnum(cpu, "utilisation") <= 1.10);
    CHECK(json_integer_value(json_object_get(json_object_get(p, "memory"), "peak_rss_bytes")) > 0);
    CHECK(json_is_null(json_object_get(p, "throttling"))); /* cpuset only */
}

/* cpu.json and the report of the run over 1 and 2 cores. */
static void check_profile(const run *r)
{
    json_t *root = r->root;
    CHECK_STR_EQ(jstr(root, "schema"), "sttbench-cpu/1");
    json_t *cfg = json_object_get(root, "config");
    CHECK(jstr(cfg, "server_cmd") && strstr(jstr(cfg, "server_cmd"), "fake_sttd"));
    CHECK(json_array_size(json_object_get(cfg, "cores")) == 2);
    CHECK(json_is_false(json_object_get(cfg, "shapes")));
    CHECK_STR_EQ(jstr(json_object_get(json_object_get(cfg, "files"), "short"), "file"),
                 "short.wav");
    CHECK_STR_EQ(jstr(json_object_get(json_object_get(cfg, "files"), "long"), "file"), "long.wav");

    /* One verified point per core count. */
    json_t *pts = json_object_get(root, "points");
    CHECK(json_array_size(pts) == 2);
    for (int cores = 1; cores <= 2; cores++) {
        int found = 0;
        for (size_t i = 0; i < json_array_size(pts); i++) {
            json_t *p = json_array_get(pts, i);
            if (json_integer_value(json_object_get(p, "cores")) != cores) continue;
            found++;
            CHECK_STR_EQ(jstr(p, "mode"), "cpuset");
            check_point(p, cores);
        }
        CHECK(found == 1);
    }

    /* The analysis: one series entry per core count, fits present or
     * explicitly not fitted. */
    json_t *an = json_object_get(root, "analysis");
    REQUIRE(json_array_size(an) == 1);
    json_t *a = json_array_get(an, 0);
    CHECK_STR_EQ(jstr(a, "mode"), "cpuset");
    json_t *ser = json_object_get(a, "series");
    REQUIRE(json_array_size(ser) == 2);
    for (size_t j = 0; j < 2; j++) {
        json_t *s = json_array_get(ser, j);
        CHECK(json_integer_value(json_object_get(s, "cores")) == (json_int_t)j + 1);
        CHECK(jnum(s, "audio_s_per_s") > 0);
        CHECK(jnum(s, "speedup") > 0);
        /* Throughput per core cannot much exceed that of one core. */
        CHECK(jnum(s, "efficiency") > 0 && jnum(s, "efficiency") <= 1.25);
        CHECK(jnum(s, "long_latency_s") > 0);
        CHECK(jnum(s, "latency_speedup") > 0);
    }
    CHECK(fabs(jnum(json_array_get(ser, 0), "speedup") - 1) < 1e-6);
    /* fake_sttd's work is CPU time, so its throughput follows the CPU it got:
     * the speedup agrees with the CPUs used under saturation (util x cores) at
     * 2 against 1 core, whatever else the machine was running; and when the
     * two cores were the server's (not taken by other work), it nearly doubled. */
    double used[3] = {NAN, NAN, NAN};
    for (size_t i = 0; i < json_array_size(pts); i++) {
        json_t *p = json_array_get(pts, i);
        json_int_t n = json_integer_value(json_object_get(p, "cores"));
        if (n == 1 || n == 2) used[n] = (double)n * jnum(json_object_get(p, "cpu"), "utilisation");
    }
    double sp = jnum(json_array_get(ser, 1), "speedup"), ratio = used[2] / used[1];
    if (!(sp > 0.7 * ratio && sp < 1.3 * ratio))
        fprintf(stderr, "  speedup %.3f, CPUs used at 2 / at 1 core %.3f\n", sp, ratio);
    CHECK(sp > 0.7 * ratio && sp < 1.3 * ratio);
    if (used[2] >= 1.6)
        CHECK(sp > 1.4);
    else
        printf("  the 2-core point got %.2f CPUs (machine busy): speedup bound not checked\n",
               used[2]);
    check_fit(json_object_get(a, "throughput"), 2);
    check_fit(json_object_get(a, "latency"), 2);
    static const char *const classes[] = {"linear", "sub-linear", "retrograde", NULL};
    CHECK(one_of(jstr(a, "classification"), classes));
    CHECK(json_array_size(json_object_get(a, "optimal_threads")) == 2);
    json_t *proj = json_object_get(a, "projections");
    CHECK(json_array_size(proj) >= 1);
    for (size_t i = 0; i < json_array_size(proj); i++) {
        CHECK(json_is_true(json_object_get(json_array_get(proj, i), "projection")));
        CHECK(json_integer_value(json_object_get(json_array_get(proj, i), "cores")) > 2);
    }
    CHECK(json_array_size(json_object_get(root, "quota_vs_cpuset")) == 0);
    CHECK(json_array_size(json_object_get(root, "shapes")) == 0);

    /* The verdict: two core counts measured, so an answer with its reasons. */
    json_t *v = json_object_get(root, "verdict");
    static const char *const answers[] = {"strong cores", "many cores", "either", NULL};
    const char *answer = jstr(v, "answer");
    CHECK(one_of(answer, answers));
    json_t *reasons = json_object_get(v, "reasons");
    CHECK(json_array_size(reasons) >= 2);
    for (size_t i = 0; i < json_array_size(reasons); i++) {
        const char *s = json_string_value(json_array_get(reasons, i));
        CHECK(s && *s);
    }
    CHECK(jstr(v, "to_confirm") && *jstr(v, "to_confirm"));
    CHECK(jnum(root, "wall_s") > 0 && jnum(root, "wall_s") < 100);

    /* The report, answering with the same verdict. */
    char path[4300], want[256];
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", r->out);
    CHECK(file_contains(path, "# CPU scaling profile"));
    snprintf(want, sizeof want, "**Many weak cores or few strong ones?** %s.",
             answer ? answer : "(no answer)");
    CHECK(file_contains(path, want));
    CHECK(file_contains(path, "## Scaling"));
    snprintf(path, sizeof path, "%s/server_cpuset_c2_w2_t1.log", r->out);
    CHECK(file_contains(path, "fake_sttd: stopped after"));
    CHECK(file_contains(r->log, "verdict: "));
}

static void test_cpu_profile_writes_points_analysis_and_verdict(void)
{
    if (usable_cpus() < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    run r;
    const char *extra[] = {"--cores", "1,2", "--threads", "1", "--no-shapes", NULL};
    REQUIRE(run_cpu(&r, extra) == 0);
    CHECK(r.status == 0);
    CHECK(r.root != NULL);
    if (r.root) check_profile(&r);
    run_free(&r, test_case_failed);
}

/* cpu.json and the report of the run with pod shapes. */
static void check_shapes(const run *r)
{
    json_t *sh = json_object_get(r->root, "shapes");
    CHECK(json_array_size(sh) == 2);
    int cores_total = 0;
    for (size_t i = 0; i < json_array_size(sh); i++) {
        json_t *s = json_array_get(sh, i);
        int k = (int)json_integer_value(json_object_get(s, "replicas"));
        int each = (int)json_integer_value(json_object_get(s, "cores_each"));
        CHECK(k * each == 2);
        cores_total += k;
        CHECK_STR_EQ(jstr(s, "status"), "ok");
        CHECK(json_is_null(json_object_get(s, "reason")));
        CHECK_STR_EQ(jstr(s, "balancer"), "haproxy leastconn");
        CHECK(jnum(s, "audio_s_per_s") > 0);
        CHECK(json_integer_value(json_object_get(s, "errors")) == 0);
        CHECK(json_integer_value(json_object_get(s, "peak_pss_bytes")) > 0);
    }
    CHECK(cores_total == 3); /* shapes 1 x 2 and 2 x 1 */
    /* A single core count: no scaling verdict, said so. */
    CHECK_STR_EQ(jstr(json_object_get(r->root, "verdict"), "answer"), "undetermined");
    char path[4300];
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", r->out);
    CHECK(file_contains(path, "## Pod shapes"));
    CHECK(file_contains(path, "| 2 x 1 cores |"));
    snprintf(path, sizeof path, "%s/server_shape2x1_1.log", r->out);
    CHECK(file_contains(path, "fake_sttd: stopped after"));
}

static void test_pod_shapes_behind_haproxy(void)
{
    if (usable_cpus() < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    if (system("command -v haproxy >/dev/null 2>&1")) {
        printf("  skipped: haproxy not installed\n");
        return;
    }
    /* One point at 2 cores, then the shapes 1 x 2 and 2 x 1 cores. */
    run r;
    const char *extra[] = {"--cores", "2", "--threads", "2", "--shapes", NULL};
    REQUIRE(run_cpu(&r, extra) == 0);
    CHECK(r.status == 0);
    CHECK(r.root != NULL);
    if (r.root) check_shapes(&r);
    run_free(&r, test_case_failed);
}

/* A bad option value is an error with exit status 2 and a message naming the
 * option and the value, in every subcommand that measures; nothing is run or
 * written. ("OUT" in the arguments stands for a directory that must stay
 * absent.) */
static void test_bad_option_values_exit_2(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char dir[4096], log[4200], out[4200];
    snprintf(dir, sizeof dir, "%s", tmp);
    snprintf(log, sizeof log, "%s/log", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    static const struct {
        const char *args[12];
        const char *message;
    } cases[] = {
        {{"cpu", "--duration", "abc", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --duration: 'abc'"},
        {{"cpu", "--duration", "5s", "--out", "OUT", NULL}, "bad value for --duration: '5s'"},
        {{"cpu", "--repeat", "x", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --repeat: 'x'"},
        {{"cpu", "--cores", "1,two", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --cores: '1,two'"},
        {{"cpu", "--compare", "a.json", "b.json", "--price-core-hour", "cheap", "--out", "OUT",
          NULL},
         "sttbench cpu: bad value for --price-core-hour: 'cheap'"},
        {{"audio", "--corpus", "OUT", "--out", "OUT", "--url", "http://127.0.0.1:1", "--repeat",
          "many", NULL},
         "sttbench audio: bad value for --repeat: 'many'"},
        {{"audio", "--corpus", "OUT", "--out", "OUT", "--spawn", "--port", "80x", NULL},
         "sttbench audio: bad value for --port: '80x'"},
        {{"corpus", "--out", "OUT", "--pause", "abc", NULL},
         "sttbench corpus: bad value for --pause: 'abc'"},
        {{"corpus", "--out", "OUT", "--max-duration", "", NULL},
         "sttbench corpus: bad value for --max-duration: ''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[12];
        for (int k = 0; k < 12; k++)
            args[k] = cases[i].args[k] && !strcmp(cases[i].args[k], "OUT") ? out : cases[i].args[k];
        int st = run_sttbench(args, log);
        int said = file_contains(log, cases[i].message);
        if (st != 2 || !said) {
            fprintf(stderr, "  sttbench %s %s %s: status %d; expected 2 and \"%s\"\n", args[0],
                    args[1], args[2], st, cases[i].message);
            dump_log(log);
        }
        CHECK(st == 2);
        CHECK(said);
    }
    struct stat sb;
    CHECK(stat(out, &sb) != 0);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    TEST_RUN(test_bad_option_values_exit_2);
    TEST_RUN(test_cpu_profile_writes_points_analysis_and_verdict);
    TEST_RUN(test_pod_shapes_behind_haproxy);
    return test_summary();
}
