/* conns: a connection that does not send its headers in time, or uploads
 * slower than the minimum rate, is cut (its socket shut down) and reported;
 * one that keeps up, or is being handled, is left alone. Socket pairs stand
 * in for client connections. */
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "testlib.h"

static atomic_int cuts_header, cuts_rate;

static void on_cut(void *ctx, stt_conn *c, int fd, const char *reason)
{
    (void)ctx;
    (void)c;
    CHECK(fd >= 0);
    if (!strcmp(reason, "header_timeout")) cuts_header++;
    if (!strcmp(reason, "slow_upload")) cuts_rate++;
}

/* 1 when the server end of the pair was shut down (the client end reads EOF). */
static int is_cut(int client)
{
    char b;
    return recv(client, &b, 1, MSG_DONTWAIT) == 0;
}

static void test_deadlines(void)
{
    stt_conns_params p = stt_conns_default_params();
    p.header_timeout_s = 0.3;
    p.min_rate_bps = 1000;
    p.rate_grace_s = 0.3;
    p.tick_s = 0.02;
    p.on_cut = on_cut;
    char err[128];
    stt_conns *cs = stt_conns_start(&p, err, sizeof err);
    REQUIRE(cs);
    int idle[2], busy[2], slow[2], fast[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, idle) == 0);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, busy) == 0);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, slow) == 0);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fast) == 0);
    stt_conn *ci = stt_conns_add(cs, idle[0], NULL), *cb = stt_conns_add(cs, busy[0], &busy);
    stt_conn *csl = stt_conns_add(cs, slow[0], NULL), *cf = stt_conns_add(cs, fast[0], NULL);
    REQUIRE(ci && cb && csl && cf);
    CHECK(stt_conns_count(cs) == 4);
    CHECK(stt_conn_user(cb) == &busy && stt_conn_fd(cb) == busy[0]);
    stt_conn_set_phase(cs, cb, STT_CONN_BUSY);
    stt_conn_set_phase(cs, csl, STT_CONN_UPLOAD);
    stt_conn_set_phase(cs, cf, STT_CONN_UPLOAD);
    double t0 = stt_now_s();
    while (stt_now_s() - t0 < 1.0) {
        stt_conn_add_bytes(cs, cf, 100); /* 100 bytes every 20 ms: 5000 B/s */
        stt_conn_add_bytes(cs, csl, 1);  /* 50 B/s */
        usleep(20000);
    }
    CHECK(stt_conn_was_cut(cs, ci) && is_cut(idle[1]));
    CHECK(stt_conn_was_cut(cs, csl) && is_cut(slow[1]));
    CHECK(!stt_conn_was_cut(cs, cb) && !is_cut(busy[1]));
    CHECK(!stt_conn_was_cut(cs, cf) && !is_cut(fast[1]));
    CHECK(cuts_header == 1 && cuts_rate == 1);
    /* Answered and kept alive: the next request's headers are due again. */
    stt_conn_set_phase(cs, cb, STT_CONN_IDLE);
    usleep(600000);
    CHECK(stt_conn_was_cut(cs, cb));
    CHECK(cuts_header == 2);
    stt_conns_remove(cs, ci);
    stt_conns_remove(cs, cb);
    stt_conns_remove(cs, csl);
    CHECK(stt_conns_count(cs) == 1);
    stt_conns_stop(cs); /* frees what is left */
    int *fds[] = {idle, busy, slow, fast};
    for (int i = 0; i < 4; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

static void test_no_limits(void)
{
    stt_conns_params p = stt_conns_default_params();
    p.header_timeout_s = 0;
    p.min_rate_bps = 0;
    p.tick_s = 0.01;
    char err[128];
    stt_conns *cs = stt_conns_start(&p, err, sizeof err);
    REQUIRE(cs);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    stt_conn *c = stt_conns_add(cs, sv[0], NULL);
    usleep(200000);
    CHECK(!stt_conn_was_cut(cs, c));
    stt_conn_set_phase(cs, c, STT_CONN_UPLOAD);
    usleep(200000);
    CHECK(!stt_conn_was_cut(cs, c));
    stt_conns_remove(cs, c);
    stt_conns_stop(cs);
    close(sv[0]);
    close(sv[1]);
    /* NULL connections (not tracked for lack of memory) are no-ops. */
    stt_conn_set_phase(NULL, NULL, STT_CONN_IDLE);
    CHECK(stt_conn_fd(NULL) == -1);
}

int main(void)
{
    TEST_RUN(test_deadlines);
    TEST_RUN(test_no_limits);
    return test_summary();
}
