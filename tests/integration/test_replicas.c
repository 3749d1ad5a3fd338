/* sttbench replicas: its command line, the skip without privileges (as a real
 * unprivileged user, not a pretend one), the refusal of a configuration the
 * machine cannot hold, and that an interrupt leaves no namespace, link,
 * process or temporary file behind. The full measurement takes minutes and is
 * not run here. */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static int can_run(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* Runs sttbench replicas with args (NULL-terminated), optionally through
 * `prefix` (NULL-terminated, may be NULL), stdout and stderr to files in dir.
 * Returns the exit status, or -1 when it did not exit normally. */
static int run(const char *const *prefix, const char *const *args, const char *dir)
{
    const char *argv[64];
    int n = 0;
    for (int i = 0; prefix && prefix[i]; i++)
        argv[n++] = prefix[i];
    argv[n++] = test_bin("sttbench");
    argv[n++] = "replicas";
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
    size_t len;
    return test_read_file(path, &len);
}

static void test_help_exits_0(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    const char *args[] = {"--help", NULL};
    CHECK(run(NULL, args, tmp) == 0);
    char *out = slurp(tmp, "stdout");
    REQUIRE(out);
    CHECK(strstr(out, "usage: sttbench replicas") != NULL);
    CHECK(strstr(out, "--cores-per-replica") != NULL);
    free(out);
}

static void test_usage_errors_exit_2(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char outdir[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    const char *bad[][4] = {
        {"--no-such-option", NULL},  {"--requests", "19", NULL},
        {"--load", "1", NULL},       {"--load", "0", NULL},
        {"--replicas", "1,x", NULL}, {"--replicas", "0", NULL},
        {"--workers", "0", NULL},    {"--profile", "no-such-profile", NULL},
        {"--seed", "x", NULL},       {"surplus-argument", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[8];
        int n = 0;
        for (int j = 0; bad[i][j]; j++)
            args[n++] = bad[i][j];
        args[n++] = "--out";
        args[n++] = outdir;
        args[n] = NULL;
        int rc = run(NULL, args, tmp);
        if (rc != 2) fprintf(stderr, "  %s: exit %d\n", bad[i][0], rc);
        CHECK(rc == 2);
        char *err = slurp(tmp, "stderr");
        CHECK(err && strlen(err) > 0); /* says why */
        free(err);
    }
}

/* As a real unprivileged user the tool cannot make namespaces: it must say so,
 * write {"skipped": reason} and exit 0. */
static void test_unprivileged_run_is_skipped(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    REQUIRE(chmod(tmp, 0777) == 0);
    const char *drop[] = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NULL};
    const char *const *prefix = NULL;
    if (geteuid() == 0) {
        if (!can_run("setpriv")) {
            printf("SKIP: running as root and setpriv is missing: cannot drop privileges\n");
            return;
        }
        prefix = drop;
    }
    char outdir[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    const char *args[] = {"--out", outdir, NULL};
    int rc = run(prefix, args, tmp);
    CHECK(rc == 0);
    char *out = slurp(tmp, "stdout");
    CHECK(out && strstr(out, "sttbench replicas: skipped: ") != NULL);
    free(out);
    char path[4300];
    snprintf(path, sizeof path, "%s/replicas.json", outdir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    REQUIRE(j);
    const char *why = json_string_value(json_object_get(j, "skipped"));
    CHECK(why && strstr(why, "root") != NULL);
    CHECK(json_object_get(j, "points") == NULL); /* no figures without a measurement */
    json_decref(j);
}

/* Needs root, ip and haproxy (else the tool skips and these tests have nothing to check). */
static int privileged(void)
{
    return geteuid() == 0 && can_run("ip") && can_run("haproxy");
}

static void test_more_cpus_than_the_machine_is_refused(void)
{
    if (!privileged()) {
        printf("SKIP: needs root, ip and haproxy\n");
        return;
    }
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char outdir[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char cores[32];
    snprintf(cores, sizeof cores, "%ld", cpus);
    /* two replicas of every CPU each: twice what there is */
    const char *args[] = {"--replicas", "1,2", "--cores-per-replica", cores, "--out", outdir, NULL};
    CHECK(run(NULL, args, tmp) == 2);
    char *err = slurp(tmp, "stderr");
    CHECK(err && strstr(err, "CPUs") != NULL);
    free(err);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int file_has(const char *path, const char *needle)
{
    size_t len;
    char *s = test_read_file(path, &len);
    int has = s && strstr(s, needle);
    free(s);
    return has;
}

/* 'Z' for a zombie, 0 when gone, the state letter otherwise. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *ok = fgets(buf, sizeof buf, f);
    fclose(f);
    char *rp = ok ? strrchr(buf, ')') : NULL;
    return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* Children of parent (by /proc ppid), up to max. */
static int children(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char *ok = fgets(buf, sizeof buf, f);
        fclose(f);
        char *rp = ok ? strrchr(buf, ')') : NULL;
        int ppid = 0;
        char st;
        if (rp && sscanf(rp + 2, "%c %d", &st, &ppid) == 2 && ppid == parent) out[n++] = pid;
    }
    if (d) closedir(d);
    return n;
}

static void test_interrupt_removes_everything(void)
{
    if (!privileged()) {
        printf("SKIP: needs root, ip and haproxy\n");
        return;
    }
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char outdir[4200], errpath[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    snprintf(errpath, sizeof errpath, "%s/stderr", tmp);
    const char *file = test_data("librivox/sense_and_sensibility_01_austen_64kb-0880.wav");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen(errpath, "w", stderr)) _exit(126);
        execl(test_bin("sttbench"), "sttbench", "replicas", "--replicas", "1", "--file", file,
              "--out", outdir, (char *)NULL);
        _exit(127);
    }
    char ns[64], veth[32];
    snprintf(ns, sizeof ns, "/var/run/netns/sttr-%d-0", (int)pid);
    snprintf(veth, sizeof veth, "/sys/class/net/sr%dh0", (int)pid);
    /* Interrupt once the replica's server runs inside its namespace. */
    int up = 0, ns_seen = 0, veth_seen = 0;
    for (int i = 0; i < 400 && !up; i++) {
        ns_seen |= exists(ns);
        veth_seen |= exists(veth);
        up = file_has(errpath, "replica 0 ready");
        if (!up) usleep(100 * 1000);
    }
    pid_t kids[64];
    int nkids = children(pid, kids, 32);
    int nsttd = nkids;
    for (int i = 0; i < nsttd; i++) /* sttd's decoder workers */
        nkids += children(kids[i], kids + nkids, 64 - nkids);
    kill(pid, SIGINT);
    int st = 0;
    for (int i = 0; i < 300 && waitpid(pid, &st, WNOHANG) != pid; i++)
        usleep(100 * 1000);
    if (!WIFEXITED(st) && !WIFSIGNALED(st)) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    CHECK(up);
    CHECK(ns_seen);
    CHECK(veth_seen);
    CHECK(nsttd >= 1); /* the replica's sttd */
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGINT);
    CHECK(!exists(ns));
    CHECK(!exists(veth));
    /* its processes: gone, or zombies waiting for init to reap them */
    for (int i = 0; i < nkids; i++) {
        char s = proc_state(kids[i]);
        for (int t = 0; t < 20 && s && s != 'Z'; t++) {
            usleep(100 * 1000);
            s = proc_state(kids[i]);
        }
        if (s && s != 'Z') fprintf(stderr, "  process %d still running (%c)\n", (int)kids[i], s);
        CHECK(!s || s == 'Z');
    }
    /* its temporary folder */
    char prefix[32];
    snprintf(prefix, sizeof prefix, "sttr-%d-", (int)pid);
    DIR *d = opendir("/tmp");
    struct dirent *e;
    int left = 0;
    while (d && (e = readdir(d)))
        left += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    CHECK(left == 0);
}

/* A 16 kHz 16-bit mono WAV of secs seconds of a tone. */
static int write_wav(const char *path, double secs)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned n = (unsigned)(secs * 16000), bytes = 2 * n;
    unsigned char h[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0"
                          "\x02\0\x10\0data";
    unsigned riff = 36 + bytes;
    memcpy(h + 4, &riff, 4);
    memcpy(h + 40, &bytes, 4);
    fwrite(h, 1, 44, f);
    for (unsigned i = 0; i < n; i++) {
        short v = (short)(8000 * ((i / 20) % 2 ? 1 : -1));
        fwrite(&v, 2, 1, f);
    }
    return fclose(f);
}

/* The whole experiment end to end in seconds, on a stand-in server that
 * burns 50 ms of CPU per audio second: cells, interleaved rounds, the
 * planner's input from an audio.json, the routing comparison, the metrics. */
static void test_fake_fleet_end_to_end(void)
{
    if (!privileged()) {
        printf("SKIP: needs root, ip and haproxy\n");
        return;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("SKIP: needs 2 CPUs\n");
        return;
    }
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char outdir[4200], wav[4200], audio[4200];
    snprintf(outdir, sizeof outdir, "%s/out", tmp);
    snprintf(wav, sizeof wav, "%s/one.wav", tmp);
    snprintf(audio, sizeof audio, "%s/audio.json", tmp);
    REQUIRE(write_wav(wav, 1.0) == 0);
    char fake[4200]; /* test_bin()'s buffer is reused by run() */
    snprintf(fake, sizeof fake, "%s", test_bin("fake_sttd"));
    FILE *f = fopen(audio, "w");
    REQUIRE(f);
    fputs("{\"schema\": \"sttlab.audio/2\", \"fits\": [{\"profile\": \"fast\", \"y\": "
          "\"process_s_single\", \"intercept\": 0.01, \"slope\": 0.05, \"n\": 5}]}\n",
          f);
    fclose(f);
    const char *args[] = {"--sttd",     fake,  "--file",  wav,    "--audio",   audio,
                          "--replicas", "1,2", "--loads", "0.5",  "--repeats", "2",
                          "--requests", "20",  "--out",   outdir, NULL};
    int rc = run(NULL, args, tmp);
    if (rc != 0) {
        char *err = slurp(tmp, "stderr");
        fprintf(stderr, "%s\n", err ? err : "");
        free(err);
    }
    REQUIRE(rc == 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/replicas.json", outdir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    REQUIRE(j);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "schema")), "sttlab.replicas/2");
    json_t *trials = json_object_get(j, "trials"), *cells = json_object_get(j, "cells");
    CHECK(json_array_size(trials) == 6); /* (k=1 random, k=2 random, k=2 leastconn) x 2 */
    CHECK(json_array_size(cells) == 3);
    /* interleaved: every round runs every cell before the next round starts */
    for (size_t i = 0; i < json_array_size(trials); i++)
        CHECK(json_integer_value(json_object_get(json_array_get(trials, i), "round")) ==
              (json_int_t)(i / 3));
    json_t *c = json_array_get(cells, 1);
    CHECK_STR_EQ(json_string_value(json_object_get(c, "routing")), "random");
    CHECK(json_integer_value(json_object_get(c, "replicas")) == 2);
    CHECK(json_is_object(json_object_get(c, "p95_s")));
    CHECK(strstr(json_string_value(json_object_get(json_object_get(c, "predicted"), "input")),
                 "planner") != NULL);
    json_t *v = json_object_get(j, "validation");
    CHECK(json_is_true(json_object_get(v, "planner_input")));
    CHECK(json_array_size(json_object_get(j, "routing_difference")) == 1);
    CHECK(json_array_size(json_object_get(j, "metrics")) == 3);
    json_decref(j);
    snprintf(path, sizeof path, "%s/replicas_report.md", outdir);
    CHECK(file_has(path, "| 2 | leastconn |"));
}

int main(void)
{
    TEST_RUN(test_help_exits_0);
    TEST_RUN(test_usage_errors_exit_2);
    TEST_RUN(test_unprivileged_run_is_skipped);
    TEST_RUN(test_more_cpus_than_the_machine_is_refused);
    TEST_RUN(test_interrupt_removes_everything);
    TEST_RUN(test_fake_fleet_end_to_end);
    return test_summary();
}
