/* proc: process trees, CPU time and memory as /proc reports them. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"
#include "testlib.h"

static void test_self_and_missing(void)
{
    stt_memusage u;
    char err[128];
    REQUIRE(stt_proc_mem_tree(getpid(), &u, err, sizeof err) == 0);
    CHECK(u.processes >= 1);
    CHECK(u.rss > 0);
    CHECK(u.pss > 0 && u.pss <= u.rss);
    /* pid_max is at most 2^22, so this pid never exists. */
    CHECK(stt_proc_mem_tree(1 << 23, &u, err, sizeof err) == STT_ENOTFOUND);
    pid_t pp = 0;
    CHECK(stt_proc_parent(getpid(), &pp) == 0 && pp == getppid());
    CHECK(stt_proc_parent(1 << 23, &pp) == STT_ENOTFOUND);
    pid_t tree[4];
    CHECK(stt_proc_tree(getpid(), tree, 4) >= 1 && tree[0] == getpid());
    CHECK(stt_proc_tree(1 << 23, tree, 4) == 0);
}

/* Children that touch memory are counted in their parent's tree. */
static void test_descendants(void)
{
    enum { MB = 1024 * 1024, KIDS = 2, EACH = 24 * MB };
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t kids[KIDS];
    stt_memusage before;
    REQUIRE(stt_proc_mem_tree(getpid(), &before, NULL, 0) == 0);
    for (int i = 0; i < KIDS; i++) {
        kids[i] = fork();
        REQUIRE(kids[i] >= 0);
        if (kids[i] == 0) {
            /* volatile: an optimiser may drop writes to memory nobody reads */
            volatile char *p = malloc(EACH);
            for (size_t k = 0; p && k < EACH; k += 4096)
                p[k] = 1;
            if (write(ready[1], "x", 1) != 1) _exit(1);
            pause();
            _exit(0);
        }
    }
    char c;
    for (int i = 0; i < KIDS; i++)
        REQUIRE(read(ready[0], &c, 1) == 1);
    stt_memusage after;
    int rc = stt_proc_mem_tree(getpid(), &after, NULL, 0);
    stt_memsampler *s = stt_memsampler_start(getpid(), 5, NULL, 0);
    usleep(60 * 1000);
    stt_memusage peak;
    int samples = 0;
    stt_memsampler_stop(s, &peak, &samples);
    for (int i = 0; i < KIDS; i++) {
        kill(kids[i], SIGTERM);
        waitpid(kids[i], NULL, 0);
    }
    close(ready[0]);
    close(ready[1]);
    REQUIRE(rc == 0);
    CHECK(after.processes >= before.processes + KIDS);
    /* Each child's written pages are private, so both RSS and PSS grow. */
    CHECK(after.rss - before.rss >= (long long)KIDS * EACH * 9 / 10);
    CHECK(after.pss - before.pss >= (long long)KIDS * EACH * 9 / 10);
    REQUIRE(s != NULL);
    CHECK(samples >= 2);
    CHECK(peak.pss >= after.pss * 9 / 10);
}

static double tv_s(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* A process's CPU time is user plus system time, as getrusage() counts it. */
static void test_cpu_time(void)
{
    /* Reading /dev/zero is system time: the kernel clears the buffer. */
    static char buf[1 << 20];
    int fd = open("/dev/zero", O_RDONLY);
    REQUIRE(fd >= 0);
    struct rusage ru;
    struct timeval t0, t;
    gettimeofday(&t0, NULL);
    double sys = 0;
    for (int i = 0; sys < 0.2; i++) {
        if (read(fd, buf, sizeof buf) < 0) break;
        if (i % 32) continue;
        getrusage(RUSAGE_SELF, &ru);
        sys = tv_s(ru.ru_stime);
        gettimeofday(&t, NULL);
        if (tv_s(t) - tv_s(t0) > 3) break;
    }
    close(fd);
    getrusage(RUSAGE_SELF, &ru);
    double before = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    double cpu = -1;
    CHECK(stt_proc_cpu_s(getpid(), &cpu) == 0);
    getrusage(RUSAGE_SELF, &ru);
    double after = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    CHECK(sys >= 0.2);
    /* /proc counts whole clock ticks: allow a few each way */
    CHECK(cpu >= before - 0.03 && cpu <= after + 0.03);
    double none = 0;
    CHECK(stt_proc_cpu_s(1 << 23, &none) == STT_ENOTFOUND);
}

int main(void)
{
    TEST_RUN(test_self_and_missing);
    TEST_RUN(test_descendants);
    TEST_RUN(test_cpu_time);
    return test_summary();
}
