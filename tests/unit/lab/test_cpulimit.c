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
    CHECK(th.throttled_s > 0);
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

int main(void)
{
    TEST_RUN(test_cpuset_reads_back);
    TEST_RUN(test_cpuset_detects_unrestricted);
    TEST_RUN(test_bad_params);
    TEST_RUN(test_tree_and_cpu_time);
    TEST_RUN(test_quota);
    return test_summary();
}
