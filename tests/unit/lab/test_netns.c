/* netns: commands run and report, processes started on the machine are
 * registered and ended by the teardown, and a host (as root) is made and
 * removed with its link. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "netns.h"
#include "testlib.h"

static void test_run_captures_output(void)
{
    char out[128];
    char *echo[] = {"sh", "-c", "echo hello; echo err >&2; exit 3", NULL};
    CHECK(stt_netns_run(echo, out, sizeof out) == 3);
    CHECK(strstr(out, "hello") && strstr(out, "err"));
    char *none[] = {"/nonexistent/program", NULL};
    CHECK(stt_netns_run(none, NULL, 0) == 127);
    CHECK(stt_netns_in_path("sh"));
    CHECK(!stt_netns_in_path("no-such-program-here"));
}

static void test_spawn_stop_and_teardown(void)
{
    char err[512] = "";
    REQUIRE(stt_netns_open(err, sizeof err) == 0);
    const char *dir = stt_netns_tmpdir();
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s", dir);
    struct stat st;
    CHECK(stat(tmp, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(strncmp(stt_netns_network(), "10.213.", 7) == 0);
    char *sleeper[] = {"sleep", "30", NULL};
    stt_netns_spawn_params sp = {.host = -1, .argv = sleeper};
    pid_t a, b;
    REQUIRE(stt_netns_spawn(&sp, &a, err, sizeof err) == 0);
    REQUIRE(stt_netns_spawn(&sp, &b, err, sizeof err) == 0);
    CHECK(stt_netns_alive(a, NULL) == 1);
    stt_netns_stop(a, 1);
    CHECK(kill(a, 0) != 0);
    char *quick[] = {"sh", "-c", "exit 5", NULL};
    sp.argv = quick;
    pid_t c;
    REQUIRE(stt_netns_spawn(&sp, &c, err, sizeof err) == 0);
    int status = -1;
    for (int i = 0; i < 100 && stt_netns_alive(c, &status); i++)
        usleep(10 * 1000);
    CHECK(status == 5);
    sp.host = 3; /* no such host */
    CHECK(stt_netns_spawn(&sp, &c, err, sizeof err) == STT_EIO);
    if (geteuid() == 0 && stt_netns_check(NULL, 0) == 0) {
        stt_netns_host h;
        int rc = stt_netns_add(0, &h, err, sizeof err);
        if (rc == STT_ENOTFOUND) {
            printf("SKIP: no network namespaces here: %s\n", err);
        } else {
            CHECK(rc == 0);
            char path[128];
            snprintf(path, sizeof path, "/var/run/netns/%s", h.ns);
            CHECK(stat(path, &st) == 0);
            char *inside[] = {"ip", "-n", h.ns, "addr", "show", NULL};
            char out[2048];
            CHECK(stt_netns_run(inside, out, sizeof out) == 0 && strstr(out, h.addr));
            stt_netns_teardown(1);
            CHECK(stat(path, &st) != 0);
        }
    }
    stt_netns_teardown(1);
    CHECK(kill(b, 0) != 0);     /* ended by the teardown */
    CHECK(stat(tmp, &st) != 0); /* the folder is gone */
    sp.host = -1;
    sp.argv = sleeper;
    CHECK(stt_netns_spawn(&sp, &c, err, sizeof err) == STT_EIO); /* nothing after teardown */
}

static void test_check_says_why(void)
{
    char why[256] = "";
    int rc = stt_netns_check(why, sizeof why);
    if (geteuid() != 0)
        CHECK(rc == STT_ENOTFOUND && strstr(why, "root"));
    else
        CHECK(rc == 0 || strstr(why, "ip"));
}

int main(void)
{
    TEST_RUN(test_run_captures_output);
    TEST_RUN(test_check_says_why);
    TEST_RUN(test_spawn_stop_and_teardown);
    return test_summary();
}
