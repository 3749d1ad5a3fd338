/* haproxy: the configuration of each routing (the balancer as the model
 * needs it), and a real start and stop when haproxy is installed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "client.h"
#include "error.h"
#include "haproxy.h"
#include "netns.h"
#include "sut.h"
#include "testlib.h"

static char *config_of(stt_routing r, int workers)
{
    stt_haproxy_params p = stt_haproxy_default_params();
    p.nservers = 2;
    p.addrs[0] = "10.213.1.2";
    p.addrs[1] = "10.213.1.6";
    p.server_port = 8080;
    p.routing = r;
    p.workers = workers;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    int rc = stt_haproxy_config(&p, 18000, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_random_is_one_draw_without_queue(void)
{
    char *c = config_of(STT_ROUTING_RANDOM, 3);
    REQUIRE(c);
    /* plain "random" draws two servers and picks the less loaded: not kube-proxy */
    CHECK(strstr(c, "balance random(1)\n"));
    CHECK(!strstr(c, "maxconn 3"));
    CHECK(strstr(c, "server r0 10.213.1.2:8080\n") && strstr(c, "server r1 10.213.1.6:8080\n"));
    CHECK(strstr(c, "bind 127.0.0.1:18000"));
    CHECK(strstr(c, "option http-server-close")); /* a choice per request */
    free(c);
}

static void test_central_queue_holds_beyond_workers(void)
{
    char *c = config_of(STT_ROUTING_CENTRAL, 3);
    REQUIRE(c);
    CHECK(strstr(c, "balance leastconn\n"));
    CHECK(strstr(c, "server r0 10.213.1.2:8080 maxconn 3\n"));
    CHECK(strstr(c, "timeout queue 120s"));
    free(c);
    c = config_of(STT_ROUTING_ROUNDROBIN, 1);
    REQUIRE(c);
    CHECK(strstr(c, "balance roundrobin\n") && !strstr(c, "maxconn 1\n"));
    free(c);
}

static void test_bad_params(void)
{
    stt_haproxy_params p = stt_haproxy_default_params();
    FILE *f = fopen("/dev/null", "w");
    REQUIRE(f);
    CHECK(stt_haproxy_config(&p, 18000, f) == STT_EINVAL); /* no servers */
    p.nservers = 1;
    p.addrs[0] = "10.0.0.1";
    p.server_port = 8080;
    CHECK(stt_haproxy_config(&p, 18000, f) == 0);
    CHECK(stt_haproxy_config(&p, 0, f) == STT_EINVAL);
    p.addrs[0] = "10.0.0.1 backup"; /* no injection into the configuration */
    CHECK(stt_haproxy_config(&p, 18000, f) == STT_EINVAL);
    p.addrs[0] = "10.0.0.1";
    p.routing = STT_ROUTING_N;
    CHECK(stt_haproxy_config(&p, 18000, f) == STT_EINVAL);
    fclose(f);
}

/* haproxy before a stand-in server answers through it, and is gone after stop. */
static void test_start_and_stop(void)
{
    if (!stt_netns_in_path("haproxy")) {
        printf("SKIP: haproxy not installed\n");
        return;
    }
    char err[512] = "";
    REQUIRE(stt_netns_open(err, sizeof err) == 0);
    int port = stt_sut_free_port();
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    char *argv[] = {(char *)test_bin("fake_sttd"), "--port", ports, NULL};
    stt_netns_spawn_params sp = {.host = -1, .argv = argv};
    pid_t fake;
    REQUIRE(stt_netns_spawn(&sp, &fake, err, sizeof err) == 0);
    long status = 0;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
    for (int i = 0; i < 100 && !(stt_client_get(url, 1, &status, NULL) == 0 && status == 200); i++)
        usleep(20 * 1000);
    stt_haproxy_params p = stt_haproxy_default_params();
    p.nservers = 1;
    p.addrs[0] = "127.0.0.1";
    p.server_port = port;
    stt_haproxy *h = stt_haproxy_start(&p, err, sizeof err);
    if (!h) fprintf(stderr, "  %s\n", err);
    REQUIRE(h);
    snprintf(url, sizeof url, "%s/ready", stt_haproxy_url(h));
    CHECK(stt_client_get(url, 2, &status, NULL) == 0 && status == 200);
    stt_haproxy_stop(h);
    CHECK(stt_client_get(url, 1, &status, NULL) == STT_EIO); /* nothing listens any more */
    char v[256];
    stt_haproxy_version(v, sizeof v);
    CHECK(strstr(v, "HAProxy") != NULL);
    stt_netns_teardown(2);
    CHECK(kill(fake, 0) != 0); /* the teardown ended the stand-in */
}

int main(void)
{
    TEST_RUN(test_random_is_one_draw_without_queue);
    TEST_RUN(test_central_queue_holds_beyond_workers);
    TEST_RUN(test_bad_params);
    TEST_RUN(test_start_and_stop);
    return test_summary();
}
