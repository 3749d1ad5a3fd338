#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

/* Largest message on any socket: a piece's transcript is a few KB. */
#define MSG_MAX STT_WORKER_MSG_MAX

struct stt_zygote {
    pid_t pid;
    int ctrl;
};

typedef struct spawn_reply {
    int32_t status;
    int32_t pid;
    char err[256];
} spawn_reply;

typedef struct job_msg {
    uint64_t job_id;
    uint64_t offset;
    uint64_t n;
    int32_t profile;
} job_msg;

typedef struct result_hdr {
    uint64_t job_id;
    int32_t status; /* 0, or a negative STT_E* code with an error text as payload */
} result_hdr;

/* Sends buf and optionally one descriptor in a single message. */
static int send_msg(int sock, const void *buf, size_t len, int fd)
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

/* Receives one message; *fd gets a passed descriptor or -1. Returns its length,
 * 0 at end of stream, or STT_EIO. */
static ssize_t recv_msg(int sock, void *buf, size_t cap, int *fd)
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

static void set_bufs(int sock)
{
    int sz = MSG_MAX + 4096;
    setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

static void send_result(int sock, uint64_t id, int status, const void *payload, size_t len)
{
    char *buf = malloc(sizeof(result_hdr) + len);
    if (!buf) return; /* the pool sees a silent worker only if it also dies; it won't hang: */
    result_hdr h;
    memset(&h, 0, sizeof h); /* no uninitialised padding on the wire */
    h.job_id = id;
    h.status = status;
    memcpy(buf, &h, sizeof h);
    if (len) memcpy(buf + sizeof h, payload, len);
    send_msg(sock, buf, sizeof h + len, -1);
    free(buf);
}

/* A worker: decodes jobs until its socket closes. Never returns. */
static void worker_loop(int sock, stt_engine **engines)
{
    job_msg job;
    for (;;) {
        int memfd;
        ssize_t r = recv_msg(sock, &job, sizeof job, &memfd);
        if (r <= 0) _exit(0);
        char err[256] = "";
        int rc = 0;
        stt_transcript *t = NULL;
        if (r != (ssize_t)sizeof job || memfd < 0 || job.profile < 0 ||
            job.profile >= STT_N_PROFILES || !engines[job.profile]) {
            rc = stt_seterr(err, sizeof err, STT_EINVAL, "malformed job");
        } else {
            long page = sysconf(_SC_PAGESIZE);
            size_t start = (size_t)job.offset * sizeof(int16_t);
            size_t base = start - start % (size_t)page;
            size_t maplen = start - base + (size_t)job.n * sizeof(int16_t);
            void *map =
                maplen ? mmap(NULL, maplen, PROT_READ, MAP_SHARED, memfd, (off_t)base) : NULL;
            if (maplen && map == MAP_FAILED) {
                rc = stt_seterr(err, sizeof err, STT_EIO, "cannot map audio: %s", strerror(errno));
            } else {
                t = stt_transcript_create();
                if (!t)
                    rc = stt_seterr(err, sizeof err, STT_ENOMEM, "out of memory");
                else
                    rc = stt_engine_decode(engines[job.profile],
                                           map ? (const int16_t *)((char *)map + (start - base))
                                               : NULL,
                                           (size_t)job.n, t, err, sizeof err);
                if (map) munmap(map, maplen);
            }
        }
        if (memfd >= 0) close(memfd);
        void *ser = NULL;
        size_t len = 0;
        if (rc == 0 && stt_transcript_serialize(t, &ser, &len) < 0)
            rc = stt_seterr(err, sizeof err, STT_ENOMEM, "out of memory");
        if (rc == 0 && len > MSG_MAX - sizeof(result_hdr))
            rc = stt_seterr(err, sizeof err, STT_EENGINE, "transcript too large");
        if (rc == 0)
            send_result(sock, job.job_id, 0, ser, len);
        else
            send_result(sock, job.job_id, rc, err, strlen(err) + 1);
        free(ser);
        stt_transcript_free(t);
    }
}

static void zygote_loop(int ctrl, const stt_engine_ops *ops, const char *model_dir, unsigned mask)
{
    /* Forked children are reaped automatically; the pool learns of a worker's
     * death from its socket. */
    signal(SIGCHLD, SIG_IGN);
    spawn_reply rep = {0};
    stt_engine *engines[STT_N_PROFILES] = {0};
    for (int i = 0; i < STT_N_PROFILES && rep.status == 0; i++) {
        if (!(mask & (1u << i))) continue;
        engines[i] = stt_engine_load(ops, model_dir, stt_profile_names[i], rep.err, sizeof rep.err);
        if (!engines[i]) rep.status = STT_EENGINE;
    }
    send_msg(ctrl, &rep, sizeof rep, -1);
    if (rep.status) _exit(1);

    for (;;) {
        int32_t cmd;
        ssize_t r = recv_msg(ctrl, &cmd, sizeof cmd, NULL);
        if (r <= 0) _exit(0);
        memset(&rep, 0, sizeof rep);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
            rep.status =
                stt_seterr(rep.err, sizeof rep.err, STT_EIO, "socketpair: %s", strerror(errno));
            send_msg(ctrl, &rep, sizeof rep, -1);
            continue;
        }
        set_bufs(sv[0]);
        set_bufs(sv[1]);
        pid_t pid = fork();
        if (pid == 0) {
            close(ctrl);
            close(sv[0]);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            signal(SIGCHLD, SIG_DFL);
            worker_loop(sv[1], engines);
        }
        close(sv[1]);
        if (pid < 0) {
            rep.status = stt_seterr(rep.err, sizeof rep.err, STT_EIO, "fork: %s", strerror(errno));
            close(sv[0]);
            send_msg(ctrl, &rep, sizeof rep, -1);
            continue;
        }
        rep.pid = pid;
        send_msg(ctrl, &rep, sizeof rep, sv[0]);
        close(sv[0]);
    }
}

stt_zygote *stt_zygote_start(const stt_engine_ops *ops, const char *model_dir,
                             unsigned profile_mask, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        stt_seterr(err, errlen, STT_EIO, "socketpair: %s", strerror(errno));
        return NULL;
    }
    stt_zygote *z = calloc(1, sizeof *z);
    if (!z) {
        close(sv[0]);
        close(sv[1]);
        stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        return NULL;
    }
    fflush(NULL);
    pid_t parent = getpid();
    z->pid = fork();
    if (z->pid == 0) {
        free(z); /* the parent's handle; the zygote never returns */
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        zygote_loop(sv[1], ops, model_dir, profile_mask);
        _exit(0);
    }
    close(sv[1]);
    z->ctrl = sv[0];
    if (z->pid < 0) {
        stt_seterr(err, errlen, STT_EIO, "fork: %s", strerror(errno));
        close(z->ctrl);
        free(z);
        return NULL;
    }
    spawn_reply rep;
    ssize_t r = recv_msg(z->ctrl, &rep, sizeof rep, NULL);
    if (r != (ssize_t)sizeof rep || rep.status != 0) {
        rep.err[sizeof rep.err - 1] = '\0';
        stt_seterr(err, errlen, STT_EENGINE, "%s",
                   r == (ssize_t)sizeof rep ? rep.err : "model loader died");
        stt_zygote_stop(z);
        return NULL;
    }
    return z;
}

int stt_zygote_fd(const stt_zygote *z)
{
    return z->ctrl;
}

int stt_zygote_request_spawn(stt_zygote *z)
{
    int32_t cmd = 1;
    return send_msg(z->ctrl, &cmd, sizeof cmd, -1);
}

int stt_zygote_recv_spawned(stt_zygote *z, int *sock, pid_t *pid, char *err, size_t errlen)
{
    spawn_reply rep;
    int fd;
    ssize_t r = recv_msg(z->ctrl, &rep, sizeof rep, &fd);
    if (r != (ssize_t)sizeof rep) {
        if (fd >= 0) close(fd);
        return stt_seterr(err, errlen, STT_EWORKER, "model loader is gone");
    }
    if (rep.status != 0 || fd < 0) {
        if (fd >= 0) close(fd);
        rep.err[sizeof rep.err - 1] = '\0';
        return stt_seterr(err, errlen, rep.status ? rep.status : STT_EIO, "%s", rep.err);
    }
    *sock = fd;
    *pid = rep.pid;
    return 0;
}

void stt_zygote_stop(stt_zygote *z)
{
    if (!z) return;
    if (z->ctrl >= 0) close(z->ctrl);
    if (z->pid > 0) {
        int st;
        while (waitpid(z->pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
    free(z);
}

int stt_worker_send_job(int sock, uint64_t job_id, int profile, int memfd, size_t offset, size_t n)
{
    job_msg m;
    memset(&m, 0, sizeof m); /* no uninitialised padding on the wire */
    m.job_id = job_id;
    m.offset = offset;
    m.n = n;
    m.profile = profile;
    return send_msg(sock, &m, sizeof m, memfd);
}

int stt_worker_recv_result(int sock, void *scratch, uint64_t *job_id, stt_transcript **out,
                           char *err, size_t errlen)
{
    char *buf = scratch;
    ssize_t r = recv_msg(sock, buf, MSG_MAX, NULL);
    int rc;
    result_hdr h;
    if (r < (ssize_t)sizeof h) {
        rc = stt_seterr(err, errlen, STT_EWORKER, "worker exited while decoding");
    } else {
        memcpy(&h, buf, sizeof h);
        *job_id = h.job_id;
        const char *payload = buf + sizeof h;
        size_t plen = (size_t)r - sizeof h;
        if (h.status == 0) {
            rc = stt_transcript_deserialize(payload, plen, out);
            if (rc < 0) rc = stt_seterr(err, errlen, STT_EWORKER, "worker sent a bad result");
        } else {
            rc = h.status < 0 ? h.status : STT_EENGINE;
            stt_seterr(err, errlen, rc, "%.*s", (int)(plen ? plen - 1 : 0), payload);
        }
    }
    return rc;
}
