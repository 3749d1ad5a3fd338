/* memcg: a child charged to its own memory cgroup, the kernel's peak and
 * the sampler; needs root and a memory controller, else it says so. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "memcg.h"
#include "testlib.h"

static void test_child_is_charged(void)
{
    char err[512] = "";
    const char *v = stt_memcg_version(err, sizeof err);
    if (!strcmp(v, "none")) {
        printf("SKIP: no memory cgroup here: %s\n", err);
        return;
    }
    stt_memcg *m = stt_memcg_create(NULL, err, sizeof err);
    if (!m) fprintf(stderr, "  %s\n", err);
    REQUIRE(m);
    CHECK(strstr(stt_memcg_path(m), "sttbench-") != NULL);
    CHECK_STR_EQ(stt_memcg_kind(m), v);
    stt_memcg_sampler *s = stt_memcg_sampler_start(m, 5, err, sizeof err);
    REQUIRE(s);
    int up[2], down[2]; /* child to parent, parent to child */
    REQUIRE(pipe(up) == 0 && pipe(down) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (stt_memcg_apply_child(m)) _exit(3);
        /* 64 MiB touched, then held until the parent has looked */
        size_t n = 64u << 20;
        /* volatile: the compiler may not drop the allocation it never reads back */
        volatile char *p = malloc(n);
        if (!p) _exit(4);
        for (size_t i = 0; i < n; i += 4096)
            p[i] = 1;
        p[n - 1] = 1;
        if (write(up[1], "x", 1) != 1) _exit(5);
        char c;
        if (read(down[0], &c, 1) != 1) _exit(6);
        _exit(p[n - 1] == 1 ? 0 : 7);
    }
    char c;
    REQUIRE(read(up[0], &c, 1) == 1);
    usleep(50 * 1000);
    long long cur = stt_memcg_current(m);
    CHECK(cur >= (60LL << 20));
    stt_memcg_stat st;
    CHECK(stt_memcg_stat_read(m, &st) == 0);
    CHECK(st.anon >= (60LL << 20));
    long long phase = stt_memcg_sampler_take(s);
    CHECK(phase >= (60LL << 20));
    CHECK(write(down[1], "x", 1) == 1);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long long peak = stt_memcg_peak(m);
    CHECK(peak == STT_ENOTFOUND || peak >= (64LL << 20));
    long long max;
    int n;
    stt_memcg_sampler_stop(s, &max, &n);
    CHECK(max >= (60LL << 20) && n > 0);
    char dir[1300];
    snprintf(dir, sizeof dir, "%s", stt_memcg_path(m));
    stt_memcg_free(m);
    CHECK(access(dir, F_OK) != 0); /* removed */
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
}

static void test_bad_sampler(void)
{
    CHECK(stt_memcg_sampler_start(NULL, 5, NULL, 0) == NULL);
    stt_memcg_free(NULL);
    stt_memcg_sampler_stop(NULL, NULL, NULL);
}

int main(void)
{
    TEST_RUN(test_child_is_charged);
    TEST_RUN(test_bad_sampler);
    return test_summary();
}
