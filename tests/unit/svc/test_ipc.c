/* ipc: whole messages over a socket pair, with a descriptor passed along,
 * and a message too long for the buffer refused rather than cut. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "ipc.h"
#include "testlib.h"

static void test_message_and_descriptor(void)
{
    int sv[2], p[2];
    REQUIRE(stt_ipc_pair(sv) == 0);
    REQUIRE(pipe(p) == 0);
    CHECK(stt_ipc_send(sv[0], "hello", 5, p[1]) == 0);
    char buf[16] = "";
    int fd = -2;
    CHECK(stt_ipc_recv(sv[1], buf, sizeof buf, &fd) == 5);
    CHECK(!memcmp(buf, "hello", 5));
    REQUIRE(fd >= 0 && fd != p[1]);
    /* the received descriptor is the pipe's write end: it reaches p[0] */
    CHECK(write(fd, "x", 1) == 1);
    char c = 0;
    CHECK(read(p[0], &c, 1) == 1 && c == 'x');
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    /* without a descriptor, none arrives */
    CHECK(stt_ipc_send(sv[0], "abc", 3, -1) == 0);
    CHECK(stt_ipc_recv(sv[1], buf, sizeof buf, &fd) == 3 && fd == -1);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

static void test_too_long_and_closed(void)
{
    int sv[2];
    REQUIRE(stt_ipc_pair(sv) == 0);
    CHECK(stt_ipc_send(sv[0], "0123456789", 10, -1) == 0);
    char small[4];
    int fd = -2;
    CHECK(stt_ipc_recv(sv[1], small, sizeof small, &fd) == STT_EIO && fd == -1);
    close(sv[0]);
    char buf[8];
    CHECK(stt_ipc_recv(sv[1], buf, sizeof buf, NULL) == 0); /* the peer is gone */
    CHECK(stt_ipc_send(sv[1], "x", 1, -1) == STT_EIO);
    close(sv[1]);
}

int main(void)
{
    TEST_RUN(test_message_and_descriptor);
    TEST_RUN(test_too_long_and_closed);
    return test_summary();
}
