/* sttbench shapes: its command line, the skip without privileges, and the
 * whole measurement end to end in seconds on a stand-in server (the real
 * engine's run takes minutes: scripts/study.sh runs it). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static int can_run(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static int run(const char *const *prefix, const char *const *args, const char *dir)
{
    const char *argv[64];
    int n = 0;
    for (int i = 0; prefix && prefix[i]; i++)
        argv[n++] = prefix[i];
    char bin[4200];
    snprintf(bin, sizeof bin, "%s", test_bin("sttbench"));
    argv[n++] = bin;
    argv[n++] = "shapes";
    for (int i = 0; args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr)) _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *dir, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return test_read_file(path, NULL);
}

static void test_help_and_usage(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    const char *help[] = {"--help", NULL};
    CHECK(run(NULL, help, tmp) == 0);
    char *out = slurp(tmp, "stdout");
    CHECK(out && strstr(out, "usage: sttbench shapes") && strstr(out, "--slo-p95"));
    free(out);
    const char *bad[][3] = {{"--repeats", "0", NULL},   {"--load", "1", NULL},
                            {"--memory", "some", NULL}, {"--profile", "nope", NULL},
                            {"--cores", "1", NULL},     {"--no-such-option", NULL, NULL},
                            {"surplus", NULL, NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run(NULL, bad[i], tmp);
        if (rc != 2) fprintf(stderr, "  %s: exit %d\n", bad[i][0], rc);
        CHECK(rc == 2);
    }
}

static void test_unprivileged_run_is_skipped(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "chmod 0777 %s", tmp);
    REQUIRE(system(cmd) == 0);
    const char *drop[] = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NULL};
    if (geteuid() == 0 && !can_run("setpriv")) {
        printf("SKIP: running as root and setpriv is missing\n");
        return;
    }
    char outdir[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    const char *args[] = {"--out", outdir, NULL};
    CHECK(run(geteuid() == 0 ? drop : NULL, args, tmp) == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/shapes.json", outdir);
    json_t *j = json_load_file(path, 0, NULL);
    REQUIRE(j);
    CHECK(strstr(json_string_value(json_object_get(j, "skipped")) ?: "", "root") != NULL);
    CHECK(json_object_get(j, "shapes") == NULL);
    json_decref(j);
}

/* A 16 kHz 16-bit mono WAV of secs seconds. */
static int write_wav(const char *path, double secs)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned n = (unsigned)(secs * 16000), bytes = 2 * n, riff = 36 + bytes;
    unsigned char h[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0"
                          "\x02\0\x10\0data";
    memcpy(h + 4, &riff, 4);
    memcpy(h + 40, &bytes, 4);
    fwrite(h, 1, 44, f);
    for (unsigned i = 0; i < n; i++) {
        short v = (short)(8000 * ((i / 20) % 2 ? 1 : -1));
        fwrite(&v, 2, 1, f);
    }
    return fclose(f);
}

static void test_fake_shapes_end_to_end(void)
{
    if (geteuid() != 0 || !can_run("ip") || !can_run("haproxy") ||
        sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("SKIP: needs root, ip, haproxy and 2 CPUs\n");
        return;
    }
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char outdir[4200], s[4200], l[4200], fake[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    snprintf(s, sizeof s, "%s/short.wav", tmp);
    snprintf(l, sizeof l, "%s/long.wav", tmp);
    snprintf(fake, sizeof fake, "%s", test_bin("fake_sttd"));
    REQUIRE(write_wav(s, 1.0) == 0 && write_wav(l, 4.0) == 0);
    const char *args[] = {"--sttd",
                          fake,
                          "--short",
                          s,
                          "--long",
                          l,
                          "--cores",
                          "2",
                          "--repeats",
                          "2",
                          "--slo-p95",
                          "5",
                          "--memory-profiles",
                          "fast",
                          "--memory-hold-s",
                          "0.5",
                          "--max-upload-mb",
                          "1",
                          "--max-duration-s",
                          "10",
                          "--out",
                          outdir,
                          NULL};
    int rc = run(NULL, args, tmp);
    if (rc) {
        char *err = slurp(tmp, "stderr");
        fprintf(stderr, "%s\n", err ? err : "");
        free(err);
    }
    REQUIRE(rc == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/shapes.json", outdir);
    json_t *j = json_load_file(path, 0, NULL);
    REQUIRE(j);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "schema")), "sttlab.shapes/2");
    json_t *shapes = json_object_get(j, "shapes");
    REQUIRE(json_array_size(shapes) == 2); /* 1x2 and 2x1 */
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_array_get(shapes, i);
        CHECK_STR_EQ(json_string_value(json_object_get(x, "status")), "ok");
        /* round 1's throughput and one per later round; a p95 per round */
        CHECK(json_integer_value(
                  json_object_get(json_object_get(x, "throughput_audio_s_per_s"), "n")) == 2);
        CHECK(json_integer_value(json_object_get(json_object_get(x, "short_p95_s"), "n")) == 2);
        CHECK(json_number_value(json_object_get(x, "memory_peak_bytes")) > 0);
    }
    CHECK(json_array_size(json_object_get(j, "rounds")) == 2);
    json_t *c = json_object_get(j, "choice");
    CHECK(json_integer_value(json_object_get(c, "chosen")) >= 0);
    json_t *w = json_array_get(json_object_get(j, "memory_worst_case"), 0);
    REQUIRE(w);
    CHECK(json_number_value(json_object_get(w, "max_bytes")) > 0);
    CHECK(json_integer_value(json_object_get(json_object_get(w, "upload"), "bytes")) <= 1048576);
    CHECK(json_array_size(json_object_get(j, "metrics")) == 4);
    json_decref(j);
    char *md = slurp(outdir, "shapes_report.md");
    CHECK(md && strstr(md, "Chosen:"));
    free(md);
}

int main(void)
{
    TEST_RUN(test_help_and_usage);
    TEST_RUN(test_unprivileged_run_is_skipped);
    TEST_RUN(test_fake_shapes_end_to_end);
    return test_summary();
}
