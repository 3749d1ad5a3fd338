/* `sttbench cpu` end to end: the real program, run as a user runs it, against
 * fake_sttd (a stand-in server with sttd's shape: worker processes, requests
 * cut into pieces, CPU time burnt in proportion to the audio, so a core
 * restriction changes what it delivers) on a two-file corpus. The cpu.json it
 * writes and its report are checked against the schema of docs/CPU.md:
 * behaviour and bounds, never the numbers of one run. Also: the run without
 * root skips the cgroup parts and says so, the thread search goes beyond the
 * cores, --compare reads two results, and bad option values are refused with
 * exit status 2. */
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* CPU time fake_sttd spends per audio second: the 4 s file is 0.1 s of work,
 * long enough to dwarf HTTP costs, short enough for a run of seconds. With
 * 4 completions timed the interval is 0.2 to 0.4 s, long enough for /proc's
 * 10 ms CPU-time ticks over the server's three processes (the check that it
 * never used more than it was given allows 10%). */
#define FAKE_CPU_MS "25"
#define FAKE_REQUESTS "4"

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
 * cpu --quick` reads: 16 kHz mono WAVs for its short (nearest 8 s: one 5 s
 * piece for fake_sttd) and long (nearest 28 s: four pieces) roles, and
 * manifest.json. */
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

/* Runs prog (a path, or a name looked up on PATH) with args (NULL-terminated),
 * stdout and stderr into log. Returns its exit status, or -1 when it did not
 * exit normally. */
static int run_prog(const char *prog, const char *const *args, const char *log)
{
    const char *argv[64];
    int argc = 0;
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", prog);
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    fflush(NULL); /* or the child would print this process's buffered output again */
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(log, "w", stdout)) _exit(126);
        dup2(1, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    if (WIFSIGNALED(st)) fprintf(stderr, "  sttbench died of signal %d\n", WTERMSIG(st));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_sttbench(const char *const *args, const char *log)
{
    return run_prog(test_bin("sttbench"), args, log);
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

/* Builds the corpus and runs `sttbench cpu --quick` with the fake server and
 * extra options; as `user` (NULL: as this process) through setpriv. */
static int run_cpu(run *r, const char *const *extra, const char *user)
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
             "--cpu-ms-per-audio-s " FAKE_CPU_MS " --piece-s 5",
             test_bin("fake_sttd"));
    const char *args[48];
    int n = 0;
    if (user) {
        static const char *const pre[] = {"--reuid", NULL, "--regid", "nogroup", "--clear-groups"};
        for (int i = 0; i < 5; i++)
            args[n++] = i == 1 ? user : pre[i];
        args[n++] = test_bin("sttbench");
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "chmod -R a+rwx '%s'", r->dir);
        if (system(cmd)) return -1;
    }
    static const char *const base[] = {"cpu",        "--server-cmd", NULL, "--corpus",
                                       NULL,         "--out",        NULL, "--quick",
                                       "--requests", FAKE_REQUESTS};
    for (int i = 0; i < 10; i++)
        args[n++] = i == 2 ? r->cmd : i == 4 ? r->corpus : i == 6 ? r->out : base[i];
    for (int i = 0; extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    r->status = user ? run_prog("setpriv", args, r->log) : run_sttbench(args, r->log);
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

static json_t *point(json_t *root, const char *label)
{
    json_t *pts = json_object_get(root, "points");
    for (size_t i = 0; i < json_array_size(pts); i++)
        if (!strcmp(jstr(json_array_get(pts, i), "label") ?: "", label))
            return json_array_get(pts, i);
    return NULL;
}

/* An interval [lo, hi] around the value, or no interval at all (null). */
static void check_ci(json_t *value, json_t *ci)
{
    if (json_is_null(ci) || !ci) return;
    REQUIRE(json_array_size(ci) == 2);
    double v = json_number_value(value), lo = json_number_value(json_array_get(ci, 0)),
           hi = json_number_value(json_array_get(ci, 1));
    CHECK(lo <= v + 1e-9 && v <= hi + 1e-9);
}

/* A summary of rounds: n counted of `rounds`, the median inside its
 * interval, every sample kept. */
static void check_summary(json_t *s, int n, int rounds)
{
    REQUIRE(json_is_object(s));
    CHECK(json_integer_value(json_object_get(s, "n")) == n);
    CHECK(json_array_size(json_object_get(s, "samples")) == (size_t)rounds);
    CHECK(json_array_size(json_object_get(s, "all_samples")) == (size_t)rounds);
    if (n > 0) CHECK(jnum(s, "median") > 0);
    check_ci(json_object_get(s, "median"), json_object_get(s, "ci"));
}

/* One configuration: started, verified under its restriction, measured in
 * every round; the rounds that count are those whose saturated run used the
 * share of the CPUs the run asks for (config.saturation). */
static void check_point(json_t *root, json_t *p, int rounds, int nlat)
{
    REQUIRE(p);
    CHECK_STR_EQ(jstr(p, "status"), "ok");
    CHECK(json_is_null(json_object_get(p, "reason")));
    json_t *v = json_object_get(p, "verification");
    REQUIRE(json_is_object(v));
    CHECK(json_is_true(json_object_get(v, "ok")));
    json_t *checks = json_object_get(v, "checks");
    int gauges = 0, after = 0, util = 0;
    for (size_t i = 0; i < json_array_size(checks); i++) {
        json_t *c = json_array_get(checks, i);
        const char *what = jstr(c, "what");
        CHECK(what && jstr(c, "expected") && jstr(c, "observed"));
        CHECK(json_is_true(json_object_get(c, "ok")));
        if (what && strstr(what, "server gauge sttd_")) gauges++;
        if (what && strstr(what, "after the measurements")) after++;
        if (what && strstr(what, "CPU used under saturation")) util++;
    }
    CHECK(gauges == 2 && after >= 1 && util == 1);
    CHECK(json_integer_value(json_object_get(p, "rounds")) == rounds);
    json_t *t = json_object_get(p, "throughput");
    json_t *u = json_object_get(t, "utilisation"), *cr = json_object_get(t, "counted_rounds");
    double need = jnum(json_object_get(root, "config"), "saturation");
    REQUIRE(json_array_size(cr) == (size_t)rounds);
    int counted = 0;
    for (int i = 0; i < rounds; i++) {
        double ui = json_number_value(json_array_get(json_object_get(u, "samples"), (size_t)i));
        int c = json_is_true(json_array_get(cr, (size_t)i));
        CHECK(c == (ui >= need));
        counted += c;
    }
    check_summary(t, counted, rounds);
    CHECK(jnum(u, "max") > 0 && jnum(u, "max") <= 1.10);
    CHECK(json_is_true(json_object_get(t, "saturated")) == (counted >= 5));
    /* excluded exactly when not saturated or not stable, and then said why */
    int ex = json_is_true(json_object_get(t, "excluded"));
    CHECK(ex == (!json_is_true(json_object_get(t, "saturated")) ||
                 !json_is_true(json_object_get(t, "stable"))));
    CHECK(ex == json_is_string(json_object_get(t, "excluded_reason")));
    CHECK(json_integer_value(json_object_get(t, "completions_timed")) == 4);
    json_t *lat = json_object_get(p, "latency");
    /* --quick times one long request at every core count, and a short one
     * too where the equal-capacity experiment needs it; one request alone
     * needs no saturation: every round's counts */
    CHECK(json_array_size(lat) == (size_t)nlat);
    for (size_t i = 0; i < json_array_size(lat); i++) {
        json_t *l = json_array_get(lat, i);
        check_summary(l, rounds, rounds);
        double pieces = jnum(l, "pieces");
        CHECK(pieces == (!strcmp(jstr(l, "role"), "short") ? 1 : 4));
    }
    CHECK(json_integer_value(json_object_get(json_object_get(p, "memory"), "peak_rss_bytes")) > 0);
}

static void check_capacity(const run *r)
{
    json_t *root = r->root;
    json_t *w = point(root, "2 x 0.5");
    check_point(root, w, 5, 2);
    /* Each weak core: its own CPU, its own 5 ms per 10 ms, throttled. */
    json_t *cores = json_object_get(json_object_get(w, "verification"), "cores");
    REQUIRE(json_array_size(cores) == 2);
    CHECK(json_integer_value(json_object_get(json_array_get(cores, 0), "cpu")) !=
          json_integer_value(json_object_get(json_array_get(cores, 1), "cpu")));
    for (size_t i = 0; i < 2; i++) {
        CHECK(json_integer_value(json_object_get(json_array_get(cores, i), "quota_us")) == 5000);
        CHECK(json_integer_value(json_object_get(json_array_get(cores, i), "period_us")) == 10000);
    }
    /* Throttled when the cores got their share (on a busy machine they may not). */
    double wmax = jnum(json_object_get(json_object_get(w, "throughput"), "utilisation"), "max");
    json_t *wth = json_object_get(w, "throttling");
    REQUIRE(json_is_object(wth));
    if (wmax >= 0.9) CHECK(json_integer_value(json_object_get(wth, "nr_throttled")) > 0);
    json_t *cap = json_object_get(root, "capacity");
    REQUIRE(json_is_true(json_object_get(cap, "measured")));
    CHECK(jstr(cap, "caveat") && strstr(jstr(cap, "caveat"), "caches"));
    json_t *pr = json_array_get(json_object_get(cap, "pairs"), 0);
    REQUIRE(pr);
    CHECK_STR_EQ(jstr(pr, "weak"), "2 x 0.5");
    static const char *const sides[] = {"strong cores", "many cores", "equal", "undetermined",
                                        NULL};
    static const char *const names[] = {"throughput", "short_latency", "long_latency", NULL};
    json_t *m = json_object_get(pr, "metrics");
    for (int i = 0; names[i]; i++) {
        json_t *e = json_object_get(m, names[i]);
        REQUIRE(e);
        /* every round counts in this run (--saturation 0) */
        CHECK(jnum(e, "value") > 0);
        CHECK(json_integer_value(json_object_get(e, "n")) == 5);
        check_ci(json_object_get(e, "value"), json_object_get(e, "ci"));
        CHECK(one_of(jstr(e, "verdict"), sides));
        if (!strcmp(jstr(e, "verdict") ?: "", "undetermined"))
            CHECK(jstr(e, "why") && (strstr(jstr(e, "why"), "undetermined at n=5") ||
                                     strstr(jstr(e, "why"), "excluded")));
    }
    /* The mechanism: one piece runs on one half-speed core. When the strong
     * core was the server's (the machine not busy), the short request took
     * clearly longer on it. */
    CHECK(strstr(jstr(cap, "mechanism"), "1 piece(s)") &&
          strstr(jstr(cap, "mechanism"), "4 pieces"));
    double sr = jnum(json_object_get(m, "short_latency"), "value");
    double used =
        jnum(json_object_get(json_object_get(point(root, "cpuset 1"), "throughput"), "utilisation"),
             "median");
    printf("  short request weak/strong %.2f (strong core's CPU used %.2f)\n", sr, used);
    if (used >= 0.9) CHECK(sr > 1.3);
}

/* cpu.json and the report of a quick run over 1 and 2 cores. */
static void check_profile(const run *r, int cgroups)
{
    json_t *root = r->root;
    CHECK_STR_EQ(jstr(root, "schema"), "sttlab.cpu/2");
    json_t *cfg = json_object_get(root, "config");
    CHECK(jstr(cfg, "server_cmd") && strstr(jstr(cfg, "server_cmd"), "fake_sttd"));
    CHECK(json_is_true(json_object_get(cfg, "quick")));
    CHECK_STR_EQ(jstr(cfg, "request_profile"), "fast");
    CHECK(json_integer_value(json_object_get(cfg, "rounds")) == 5);
    CHECK_STR_EQ(jstr(json_object_get(json_object_get(cfg, "files"), "short"), "file"),
                 "short.wav");
    CHECK_STR_EQ(jstr(json_object_get(json_object_get(cfg, "files"), "long"), "file"), "long.wav");
    CHECK(json_array_size(json_object_get(root, "points")) == (cgroups ? 4u : 2u));
    check_point(root, point(root, "cpuset 1"), 5, cgroups ? 2 : 1);
    check_point(root, point(root, "cpuset 2"), 5, 1);
    CHECK(json_is_true(json_object_get(point(root, "cpuset 1"), "strong")) == cgroups);
    /* The analysis: every core count either in the series (with intervals)
     * or excluded with its reason; two core counts project nothing. */
    json_t *an = json_object_get(root, "analysis");
    REQUIRE(json_array_size(an) >= 1);
    json_t *a = json_array_get(an, 0);
    CHECK_STR_EQ(jstr(a, "mode"), "cpuset");
    json_t *ser = json_object_get(a, "series"), *ex = json_object_get(a, "excluded");
    CHECK(json_array_size(ser) + json_array_size(ex) == 2);
    for (size_t j = 0; j < json_array_size(ser); j++) {
        json_t *s = json_array_get(ser, j);
        CHECK(json_integer_value(json_object_get(s, "n")) >= 5);
        CHECK(jnum(s, "audio_s_per_s") > 0);
        check_ci(json_object_get(s, "speedup"), json_object_get(s, "speedup_ci"));
        check_ci(json_object_get(s, "efficiency"), json_object_get(s, "efficiency_ci"));
        check_ci(json_object_get(s, "long_latency_s"), json_object_get(s, "long_latency_ci"));
    }
    for (size_t j = 0; j < json_array_size(ex); j++)
        CHECK(jstr(json_array_get(ex, j), "reason") != NULL);
    json_t *am = json_object_get(json_object_get(a, "throughput"), "amdahl");
    if (json_array_size(ser) == 2) {
        CHECK_STR_EQ(jstr(am, "status"), "exact");
        CHECK(jnum(am, "serial_fraction") >= 0 && jnum(am, "serial_fraction") <= 1);
        check_ci(json_object_get(am, "serial_fraction"), json_object_get(am, "ci95"));
    }
    CHECK(json_is_false(json_object_get(am, "projects")));
    CHECK(json_array_size(json_object_get(a, "projections")) == 0);
    CHECK_STR_EQ(jstr(json_object_get(a, "diminishing_returns"), "status"),
                 "not enough core counts");
    CHECK(json_integer_value(json_object_get(json_object_get(a, "unmeasured"), "from")) == 4);
    CHECK(json_integer_value(json_object_get(json_object_get(a, "unmeasured"), "to")) == 16);
    static const char *const classes[] = {"linear",       "sub-linear",        "retrograde",
                                          "undetermined", "not enough points", NULL};
    CHECK(one_of(jstr(a, "classification"), classes));
    /* The verdict, with its confidence. */
    json_t *v = json_object_get(root, "verdict");
    static const char *const answers[] = {"strong cores", "many cores",   "either",
                                          "mixed",        "undetermined", NULL};
    static const char *const conf[] = {"established", "likely", "undetermined", NULL};
    CHECK(one_of(jstr(v, "answer"), answers));
    CHECK(one_of(jstr(v, "confidence"), conf));
    CHECK(json_array_size(json_object_get(v, "reasons")) >= 1);
    CHECK(jstr(v, "to_confirm") && strstr(jstr(v, "to_confirm"), "--compare"));
    if (cgroups) CHECK(json_array_size(json_object_get(root, "metrics")) >= 4);
    CHECK(json_array_size(json_object_get(root, "threads")) == 0);
    CHECK(jnum(json_object_get(root, "timing"), "wall_s") > 0);
    if (cgroups) {
        CHECK(jnum(json_object_get(root, "config"), "saturation") == 0);
        check_capacity(r);
        /* 2 Poisson requests per configuration per round, all answered
         * (too few for a p95, which says so) */
        json_t *p95 = json_object_get(json_object_get(root, "capacity"), "p95");
        REQUIRE(json_array_size(p95) == 2);
        for (size_t i = 0; i < 2; i++)
            CHECK(json_integer_value(json_object_get(json_array_get(p95, i), "n")) == 10);
        CHECK_STR_EQ(jstr(point(root, "cpuset 1"), "status"), "ok");
        CHECK_STR_EQ(jstr(point(root, "2 x 0.5"), "status"), "ok");
        check_point(root, point(root, "quota 2"), 5, 1);
        CHECK(json_is_object(json_object_get(point(root, "quota 2"), "throttling")));
    } else {
        CHECK_STR_EQ(jstr(v, "answer"), "undetermined");
        CHECK(json_is_false(json_object_get(json_object_get(root, "capacity"), "measured")));
        CHECK_STR_EQ(jstr(json_object_get(root, "config"), "cgroup"), "none");
        CHECK(file_contains(r->log, "writable cgroup (run as root)"));
    }
    /* The report, answering with the same verdict. */
    char path[4300], want[256];
    snprintf(path, sizeof path, "%s/cpu_scaling_report.md", r->out);
    CHECK(file_contains(path, "# CPU scaling profile"));
    snprintf(want, sizeof want, "**Many weak cores or few strong ones?** %s (%s)",
             jstr(v, "answer") ?: "?", jstr(v, "confidence") ?: "?");
    CHECK(file_contains(path, want));
    CHECK(file_contains(path, "## Scaling"));
    CHECK(file_contains(path, "from 4 to 16 cores is unmeasured"));
    snprintf(path, sizeof path, "%s/server_cpuset_2.log", r->out);
    CHECK(file_contains(path, "fake_sttd: stopped after"));
    snprintf(want, sizeof want, "verdict: %s", jstr(v, "answer") ?: "?");
    CHECK(file_contains(r->log, want));
}

static int cgroups_writable(void)
{
    return access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0
               ? access("/sys/fs/cgroup/cpu", W_OK) == 0
               : access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0;
}

static void test_quick_profile_writes_points_analysis_and_verdict(void)
{
    if (usable_cpus() < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    run r;
    /* Every round counts (--saturation 0), so the whole analysis runs on
     * five rounds whatever else this machine is doing; the rule itself is
     * exercised by the run without root. */
    /* --poisson 2: the p95 under Poisson load of the equal-capacity pair,
     * which --quick leaves out, is measured and reaches the server. */
    const char *extra[] = {"--cores", "1,2",       "--quota", "largest", "--saturation",
                           "0",       "--poisson", "2",       NULL};
    REQUIRE(run_cpu(&r, extra, NULL) == 0);
    CHECK(r.status == 0);
    CHECK(r.root != NULL);
    if (r.root) check_profile(&r, cgroups_writable());
    if (r.root && !test_case_failed) {
        /* --compare of the file with itself: equal, so not decided. */
        char path[4300], log[4300];
        snprintf(path, sizeof path, "%s/cpu.json", r.out);
        snprintf(log, sizeof log, "%s/compare.log", r.dir);
        const char *args[] = {"cpu", "--compare", path, path, "--out", r.out, NULL};
        CHECK(run_sttbench(args, log) == 0);
        snprintf(path, sizeof path, "%s/compare.json", r.out);
        json_error_t je;
        json_t *c = json_load_file(path, 0, &je);
        REQUIRE(c);
        json_t *ratio = json_object_get(c, "per_core_throughput_ratio");
        CHECK(fabs(jnum(ratio, "value") - 1) < 1e-9);
        CHECK_STR_EQ(jstr(c, "faster_per_core"), "undetermined");
        CHECK(json_array_size(json_object_get(c, "machines")) == 2);
        json_decref(c);
        CHECK(file_contains(log, "faster per core undetermined"));
        /* The performance report's CPU section reads it. */
        char in[4300], rep[4300], cmd[13000], md[4400];
        snprintf(in, sizeof in, "%.4090s/in", r.dir);
        snprintf(rep, sizeof rep, "%.4090s/report", r.dir);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s '%s' '%s/cpu'", in, r.out, in);
        REQUIRE(system(cmd) == 0);
        const char *rargs[] = {"report", "--in", in, "--out", rep, NULL};
        CHECK(run_sttbench(rargs, log) == 0);
        snprintf(md, sizeof md, "%.4300s/PERFORMANCE_REPORT.md", rep);
        CHECK(file_contains(md, "### Many weak cores or few strong ones, at equal capacity"));
        CHECK(file_contains(md, "### Scaling with cores: cpuset"));
        CHECK(!file_contains(md, "Same cores, different pod shapes"));
    }
    run_free(&r, test_case_failed);
}

/* Without root: no cgroup, so no quota and no weak cores, said so; the
 * pinned profile still runs. */
static void test_without_root_skips_the_cgroup_parts(void)
{
    if (usable_cpus() < 2 || geteuid() != 0 || system("command -v setpriv >/dev/null 2>&1") ||
        access("/sys/fs/cgroup", F_OK)) {
        printf("  skipped: needs root, setpriv and 2 usable CPUs to run as nobody\n");
        return;
    }
    /* nobody must reach the binaries (a build inside a private folder, as
     * mktemp -d makes, cannot be run by it) */
    char probe[1400];
    snprintf(probe, sizeof probe,
             "setpriv --reuid nobody --regid nogroup --clear-groups test -x '%s'",
             test_bin("fake_sttd"));
    if (system(probe)) {
        printf("  skipped: user nobody cannot run %s (a folder above it is private)\n",
               test_bin("fake_sttd"));
        return;
    }
    run r;
    const char *extra[] = {"--cores", "1,2", "--quota", "largest", NULL};
    REQUIRE(run_cpu(&r, extra, "nobody") == 0);
    CHECK(r.status == 0);
    if (r.root) check_profile(&r, 0);
    run_free(&r, test_case_failed);
}

/* The thread search: beyond the cores (up to twice), idle and under a stated
 * load, with the best, its interval and the tied. */
static void test_thread_search(void)
{
    if (usable_cpus() < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    run r;
    const char *extra[] = {"--cores",         "2",   "--quota", "none", "--no-capacity",
                           "--thread-search", "all", NULL};
    REQUIRE(run_cpu(&r, extra, NULL) == 0);
    CHECK(r.status == 0);
    json_t *th = r.root ? json_object_get(r.root, "threads") : NULL;
    REQUIRE(json_array_size(th) == 1);
    json_t *t = json_array_get(th, 0);
    CHECK(json_integer_value(json_object_get(t, "cores")) == 2);
    CHECK(json_integer_value(json_object_get(t, "workers")) == 4);
    CHECK(jstr(json_object_get(t, "load"), "stated") != NULL);
    static const char *const st[] = {"found", "tied", NULL};
    for (int l = 0; l < 2; l++) {
        json_t *o = json_object_get(t, l ? "loaded" : "idle");
        CHECK(one_of(jstr(o, "status"), st));
        json_t *per = json_object_get(o, "per_threads");
        REQUIRE(json_array_size(per) == 3);
        CHECK(json_integer_value(json_object_get(json_array_get(per, 2), "threads")) == 4);
        int best = (int)json_integer_value(json_object_get(o, "best_threads"));
        CHECK(best == 1 || best == 2 || best == 4);
        CHECK(json_integer_value(json_object_get(o, "recommended_threads")) <= best);
        check_ci(json_object_get(o, "best_latency_s"), json_object_get(o, "best_ci"));
        for (size_t k = 0; k < 3; k++)
            CHECK(json_integer_value(json_object_get(json_array_get(per, k), "n")) == 5);
    }
    /* One long request of four pieces: one thread is slower than two when the
     * two cores were free (idle probes). */
    json_t *idle = json_object_get(json_object_get(t, "idle"), "per_threads");
    double t1 = jnum(json_array_get(idle, 0), "median_s"),
           t2 = jnum(json_array_get(idle, 1), "median_s");
    printf("  idle: 1 thread %.3f s, 2 threads %.3f s\n", t1, t2);
    CHECK(t1 > 0 && t2 > 0);
    run_free(&r, test_case_failed);
}

/* SIGTERM in the middle of a run: the servers are stopped, the cgroups
 * removed, what was measured is written and marked interrupted, exit 1. */
static void test_interrupted_run_cleans_up(void)
{
    if (usable_cpus() < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    run r;
    memset(&r, 0, sizeof r);
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    snprintf(r.dir, sizeof r.dir, "%s", tmp);
    snprintf(r.corpus, sizeof r.corpus, "%s/corpus", r.dir);
    snprintf(r.out, sizeof r.out, "%s/out", r.dir);
    snprintf(r.log, sizeof r.log, "%s/sttbench.log", r.dir);
    REQUIRE(mkdir(r.corpus, 0777) == 0 && make_corpus(r.corpus) == 0);
    snprintf(r.cmd, sizeof r.cmd,
             "'%s' --port {port} --workers {workers} --threads {threads} "
             "--cpu-ms-per-audio-s " FAKE_CPU_MS " --piece-s 5",
             test_bin("fake_sttd"));
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen(r.log, "w", stdout)) _exit(126);
        dup2(1, 2);
        execl(test_bin("sttbench"), "sttbench", "cpu", "--server-cmd", r.cmd, "--corpus", r.corpus,
              "--out", r.out, "--quick", "--cores", "1,2", "--rounds", "20", (char *)NULL);
        _exit(127);
    }
    /* Until a round has begun. */
    for (int i = 0; i < 300 && !file_contains(r.log, "round 1,"); i++)
        usleep(100 * 1000);
    CHECK(file_contains(r.log, "round 1,"));
    kill(pid, SIGTERM);
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char path[4400];
    snprintf(path, sizeof path, "%s/cpu.json", r.out);
    json_error_t je;
    r.root = json_load_file(path, 0, &je);
    REQUIRE(r.root);
    json_t *notes = json_object_get(json_object_get(r.root, "config"), "notes");
    int said = 0;
    for (size_t i = 0; i < json_array_size(notes); i++)
        said |= strstr(json_string_value(json_array_get(notes, i)) ?: "", "interrupted") != NULL;
    CHECK(said);
    static const char *const logs[] = {"cpuset_1", "cpuset_2", NULL};
    for (int i = 0; logs[i]; i++) {
        snprintf(path, sizeof path, "%s/server_%s.log", r.out, logs[i]);
        CHECK(file_contains(path, "fake_sttd: stopped after"));
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd,
             "ls -d /sys/fs/cgroup/cpu/sttbench-%ld-* /sys/fs/cgroup/sttbench-%ld-* 2>/dev/null | "
             "grep -q .",
             (long)pid, (long)pid);
    CHECK(system(cmd) != 0); /* no cgroup of that run is left */
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
        {{"cpu", "--rounds", "3", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --rounds: '3'"},
        {{"cpu", "--requests", "5s", "--out", "OUT", NULL}, "bad value for --requests: '5s'"},
        {{"cpu", "--quota", "some", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --quota: 'some'"},
        {{"cpu", "--cores", "1,two", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --cores: '1,two'"},
        {{"cpu", "--speeds", "1.5", "--out", "OUT", NULL},
         "sttbench cpu: bad value for --speeds: '1.5'"},
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
    TEST_RUN(test_quick_profile_writes_points_analysis_and_verdict);
    TEST_RUN(test_without_root_skips_the_cgroup_parts);
    TEST_RUN(test_thread_search);
    TEST_RUN(test_interrupted_run_cleans_up);
    return test_summary();
}
