/* ipc: see ipc.h. */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

int stt_ipc_send(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {0};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t r;
    do
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)len ? 0 : STT_EIO;
}

ssize_t stt_ipc_recv(int sock, void *buf, size_t cap, int *fd)
{
    struct iovec iov = {buf, cap};
    struct msghdr mh = {0};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    if (fd) *fd = -1;
    ssize_t r;
    do
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0) return STT_EIO;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(c), sizeof got);
            if (fd && *fd < 0)
                *fd = got;
            else
                close(got);
        }
    }
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        if (fd && *fd >= 0) close(*fd);
        if (fd) *fd = -1;
        return STT_EIO;
    }
    return r;
}

size_t stt_ipc_max_send(int sock)
{
    int sz = 0;
    socklen_t l = sizeof sz;
    if (getsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz, &l) != 0 || sz <= 4096) return 2048;
    /* unix_dgram_sendmsg() refuses len > sk_sndbuf - 32; keep a margin. */
    size_t max = (size_t)sz - 256;
    return max < STT_IPC_MSG_MAX ? max : STT_IPC_MSG_MAX;
}

static void set_bufs(int sock)
{
    int sz = STT_IPC_MSG_MAX + 4096;
    setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

int stt_ipc_pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return STT_EIO;
    set_bufs(sv[0]);
    set_bufs(sv[1]);
    return 0;
}
