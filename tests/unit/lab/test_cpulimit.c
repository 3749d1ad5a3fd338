/* cpulimit: a child restricted by affinity or by cgroup quota reads back as
 * restricted, a busy child under a half-CPU quota is held to it, and the
 * cgroup is removed afterwards. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpulimit.h"
#include "proc.h"
#include "error.h"
#include "testlib.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Forks a child that applies the limit, then either sleeps or spins (and
 * forks one spinning grandchild, to show inheritance). */
static pid_t spawn(const stt_cpulimit *l, int busy)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (stt_cpulimit_apply_child(l)) _exit(3);
    if (!busy) {
        execlp("sleep", "sleep", "5", (char *)NULL);
        _exit(127);
    }
    if (fork() == 0) {
        for (;;) {
        }
    }
    for (;;) {
    }
}

static void reap(pid_t pid)
{
    /* The busy child's grandchild is in the same process group only if we
     * make it so; kill the whole tree by walking it. */
    pid_t tree[64];
    int n = stt_proc_tree(pid, tree, 64);
    for (int i = n - 1; i >= 0; i--)
        kill(tree[i], SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_cpuset_reads_back(void)
{
    stt_cpulimit_params p = stt_cpulimit_default_params();
    p.mode = STT_CPULIMIT_CPUSET;
    p.cpus = 1;
    char err[512];
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    REQUIRE(l);
    pid_t pid = spawn(l, 0);
    REQUIRE(pid > 0);
    usleep(100 * 1000);
    stt_cpulimit_evidence ev;
    REQUIRE(stt_cpulimit_verify(l, pid, &ev, err, sizeof err) == 0);
    CHECK(ev.ok);
    CHECK(ev.nprocs >= 1);
    /* CPU 0 when this process may use CPU 0 (the first usable CPU otherwise). */
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    if (CPU_ISSET(0, &mine)) CHECK_STR_EQ(ev.procs[0].cpus_allowed_list, "0");
    CHECK_STR_EQ(ev.procs[0].cpus_allowed_list, stt_cpulimit_cpu_list(l));
    reap(pid);
    stt_cpulimit_free(l);
}

static void test_cpuset_detects_unrestricted(void)
{
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    if (CPU_COUNT(&mine) < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    stt_cpulimit_params p = stt_cpulimit_default_params();
    p.cpus = 1;
    char err[512];
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    REQUIRE(l);
    /* A child that never applies the limit must be refused by verification. */
    pid_t pid = fork();
    if (pid == 0) {
        execlp("sleep", "sleep", "5", (char *)NULL);
        _exit(127);
    }
    usleep(50 * 1000);
    stt_cpulimit_evidence ev;
    REQUIRE(stt_cpulimit_verify(l, pid, &ev, err, sizeof err) == 0);
    CHECK(!ev.ok);
    CHECK(strstr(ev.reason, "may run on CPUs") != NULL);
    reap(pid);
    stt_cpulimit_free(l);
}

static void test_bad_params(void)
{
    stt_cpulimit_params p = stt_cpulimit_default_params();
    char err[512];
    p.cpus = 1.5;
    CHECK(stt_cpulimit_create(&p, err, sizeof err) == NULL);
    p.cpus = 100000;
    CHECK(stt_cpulimit_create(&p, err, sizeof err) == NULL);
    p.cpus = 0;
    CHECK(stt_cpulimit_create(&p, err, sizeof err) == NULL);
}

static void test_tree_and_cpu_time(void)
{
    stt_cpulimit_params p = stt_cpulimit_default_params();
    char err[512];
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    REQUIRE(l);
    pid_t pid = spawn(l, 1);
    usleep(300 * 1000);
    pid_t tree[16];
    CHECK(stt_proc_tree(pid, tree, 16) == 2);
    stt_cpulimit_evidence ev;
    REQUIRE(stt_cpulimit_verify(l, pid, &ev, err, sizeof err) == 0);
    CHECK(ev.ok && ev.nprocs == 2);
    /* Two spinners on one CPU: together at most about one CPU-second per second. */
    double c0 = stt_proc_tree_cpu_s(pid), t0 = now_s();
    usleep(500 * 1000);
    double used = (stt_proc_tree_cpu_s(pid) - c0) / (now_s() - t0);
    CHECK(used > 0.3 && used < 1.15);
    reap(pid);
    stt_cpulimit_free(l);
    CHECK(stt_proc_tree(pid, tree, 16) == 0);
}

static void test_quota(void)
{
    char err[512] = "";
    const char *v = stt_cpulimit_cgroup_version(err, sizeof err);
    if (!strcmp(v, "none")) {
        printf("  skipped: cgroup quota not writable here (%s)\n", err);
        return;
    }
    stt_cpulimit_params p = stt_cpulimit_default_params();
    p.mode = STT_CPULIMIT_QUOTA;
    p.cpus = 0.5;
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    if (!l) fprintf(stderr, "  %s\n", err);
    REQUIRE(l);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", stt_cpulimit_cgroup_path(l));
    struct stat st;
    CHECK(stat(dir, &st) == 0);
    pid_t pid = spawn(l, 1);
    usleep(100 * 1000);
    stt_cpulimit_evidence ev;
    REQUIRE(stt_cpulimit_verify(l, pid, &ev, err, sizeof err) == 0);
    CHECK(ev.ok);
    CHECK(ev.quota_us == 50000 && ev.period_us == 100000);
    CHECK(ev.nprocs == 2 && ev.procs[0].cgroup_member == 1 && ev.procs[1].cgroup_member == 1);
    /* Two spinners under half a CPU: together about 0.5 CPU over a second. */
    double c0 = stt_proc_tree_cpu_s(pid), t0 = now_s();
    usleep(1000 * 1000);
    double used = (stt_proc_tree_cpu_s(pid) - c0) / (now_s() - t0);
    printf("  busy pair under a 0.5-CPU quota used %.2f CPU\n", used);
    CHECK(used <= 0.6);
    CHECK(used >= 0.2);
    stt_cpulimit_throttling th;
    REQUIRE(stt_cpulimit_throttling_read(l, &th, err, sizeof err) == 0);
    CHECK(th.nr_periods > 0);
    CHECK(th.nr_throttled > 0);
    /* The time is added when a throttled period ends: with other work on
     * the machine the pair may have been throttled only once or twice, the
     * last time possibly still running. */
    if (th.nr_throttled >= 3) CHECK(th.throttled_s > 0);
    /* A process outside the cgroup is caught. */
    pid_t other = fork();
    if (other == 0) {
        execlp("sleep", "sleep", "5", (char *)NULL);
        _exit(127);
    }
    usleep(50 * 1000);
    stt_cpulimit_evidence ev2;
    REQUIRE(stt_cpulimit_verify(l, other, &ev2, err, sizeof err) == 0);
    CHECK(!ev2.ok);
    reap(other);
    reap(pid);
    stt_cpulimit_free(l);
    CHECK(stat(dir, &st) != 0);
}

/* Two busy processes as two weak cores at half speed: each pinned to a CPU
 * of its own, each held to half of it by its own cgroup, the tree's total to
 * one CPU; the evidence and the throttling counters show it. */
static void test_cores_at_half_speed(void)
{
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    char err[512] = "";
    const char *v = stt_cpulimit_cgroup_version(err, sizeof err);
    if (CPU_COUNT(&mine) < 2 || !strcmp(v, "none")) {
        printf("  skipped: needs 2 usable CPUs and a writable cgroup (%s)\n", err);
        return;
    }
    stt_cpulimit_params p = stt_cpulimit_default_params();
    p.mode = STT_CPULIMIT_CORES;
    p.cpus = 2;
    p.speed = 0.5;
    p.period_us = 10000;
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    if (!l) fprintf(stderr, "  %s\n", err);
    REQUIRE(l);
    CHECK(stt_cpulimit_speed(l) == 0.5 && stt_cpulimit_period_us(l) == 10000);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", stt_cpulimit_cgroup_path(l));
    pid_t pid = spawn(l, 1);
    usleep(100 * 1000);
    pid_t tree[4];
    REQUIRE(stt_proc_tree(pid, tree, 4) == 2);
    /* Before pinning the tree may use both CPUs: not yet the cores' evidence. */
    stt_cpulimit_evidence *ev = malloc(sizeof *ev);
    REQUIRE(ev);
    REQUIRE(stt_cpulimit_verify(l, pid, ev, err, sizeof err) == 0);
    CHECK(ev->ok && ev->ncores == 0);
    CHECK(ev->quota_us == 10000 && ev->period_us == 10000);
    REQUIRE(stt_cpulimit_pin_workers(l, tree, 2, err, sizeof err) == 0);
    CHECK(stt_cpulimit_pin_workers(l, tree, 2, err, sizeof err) != 0); /* once */
    REQUIRE(stt_cpulimit_verify(l, pid, ev, err, sizeof err) == 0);
    if (!ev->ok) fprintf(stderr, "  %s\n", ev->reason);
    CHECK(ev->ok);
    CHECK(ev->ncores == 2);
    for (int i = 0; i < ev->ncores; i++) {
        CHECK(ev->cores[i].quota_us == 5000 && ev->cores[i].period_us == 10000);
        CHECK(ev->cores[i].cpu != ev->cores[1 - i].cpu);
    }
    for (int i = 0; i < ev->nprocs; i++) {
        CHECK(ev->procs[i].core >= 0 && ev->procs[i].cgroup_member == 1);
        CHECK(!strchr(ev->procs[i].cpus_allowed_list, '-') &&
              !strchr(ev->procs[i].cpus_allowed_list, ','));
    }
    stt_cpulimit_throttling th0, th1;
    REQUIRE(stt_cpulimit_throttling_read(l, &th0, err, sizeof err) == 0);
    double c0[2], c1[2], t0 = now_s(), most = 0;
    for (int i = 0; i < 2; i++)
        stt_proc_cpu_s(tree[i], &c0[i]);
    usleep(1000 * 1000);
    double dt = now_s() - t0;
    for (int i = 0; i < 2; i++) {
        stt_proc_cpu_s(tree[i], &c1[i]);
        double used = (c1[i] - c0[i]) / dt;
        printf("  weak core %d (half speed) used %.2f CPU\n", i, used);
        /* Held to half a CPU; how much of that it gets depends on what else
         * runs on its CPU (the machine is shared), so the lower bound is loose. */
        CHECK(used > 0.1 && used < 0.6);
        if (used > most) most = used;
    }
    REQUIRE(stt_cpulimit_throttling_read(l, &th1, err, sizeof err) == 0);
    /* A core that got its half was held there by its quota. */
    if (most >= 0.45) CHECK(th1.nr_throttled > th0.nr_throttled);
    CHECK(th1.nr_periods - th0.nr_periods > 50); /* 10 ms periods over 1 s, two cgroups */
    reap(pid);
    free(ev);
    stt_cpulimit_free(l);
    struct stat st;
    CHECK(stat(dir, &st) != 0);
}

/* At full speed the cores limit is affinity alone: no cgroup, each worker on
 * its own CPU; a worker that leaves its CPU is caught. */
static void test_cores_at_full_speed(void)
{
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    if (CPU_COUNT(&mine) < 2) {
        printf("  skipped: needs 2 usable CPUs\n");
        return;
    }
    stt_cpulimit_params p = stt_cpulimit_default_params();
    p.mode = STT_CPULIMIT_CORES;
    p.cpus = 2;
    char err[512];
    stt_cpulimit *l = stt_cpulimit_create(&p, err, sizeof err);
    REQUIRE(l);
    CHECK(stt_cpulimit_cgroup_path(l)[0] == 0);
    stt_cpulimit_throttling th;
    CHECK(stt_cpulimit_throttling_read(l, &th, err, sizeof err) == STT_EINVAL);
    pid_t pid = spawn(l, 0);
    usleep(100 * 1000);
    REQUIRE(stt_cpulimit_pin_workers(l, &pid, 1, err, sizeof err) == 0);
    stt_cpulimit_evidence *ev = malloc(sizeof *ev);
    REQUIRE(ev);
    REQUIRE(stt_cpulimit_verify(l, pid, ev, err, sizeof err) == 0);
    CHECK(ev->ok && ev->ncores == 1 && ev->cores[0].quota_us == -1);
    CHECK(ev->procs[0].core == 0 && ev->procs[0].cgroup_member == -1);
    /* Moved off its core from outside: refused. */
    REQUIRE(sched_setaffinity(pid, sizeof mine, &mine) == 0);
    REQUIRE(stt_cpulimit_verify(l, pid, ev, err, sizeof err) == 0);
    CHECK(!ev->ok && strstr(ev->reason, "may run on CPUs"));
    reap(pid);
    free(ev);
    stt_cpulimit_free(l);
    /* Bad speeds and too many workers are refused. */
    p.speed = 0;
    CHECK(stt_cpulimit_create(&p, err, sizeof err) == NULL);
    p.speed = 1.5;
    CHECK(stt_cpulimit_create(&p, err, sizeof err) == NULL);
    p.speed = 1;
    p.cpus = 1;
    l = stt_cpulimit_create(&p, err, sizeof err);
    REQUIRE(l);
    pid_t two[2] = {1, 1};
    CHECK(stt_cpulimit_pin_workers(l, two, 2, err, sizeof err) == STT_EINVAL);
    stt_cpulimit_free(l);
    CHECK(!strcmp(stt_cpulimit_mode_name(STT_CPULIMIT_CORES), "cores"));
}

int main(void)
{
    TEST_RUN(test_cpuset_reads_back);
    TEST_RUN(test_cpuset_detects_unrestricted);
    TEST_RUN(test_bad_params);
    TEST_RUN(test_tree_and_cpu_time);
    TEST_RUN(test_quota);
    TEST_RUN(test_cores_at_half_speed);
    TEST_RUN(test_cores_at_full_speed);
    return test_summary();
}
