/* zygote: see zygote.h. */
#include "zygote.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "error.h"
#include "ipc.h"
#include "worker.h"

struct stt_zygote {
    pid_t pid;
    int ctrl;
};

typedef struct spawn_reply {
    int32_t status;
    int32_t pid;
    char err[256];
} spawn_reply;

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
    stt_ipc_send(ctrl, &rep, sizeof rep, -1);
    if (rep.status) stt_child_exit(1);

    for (;;) {
        int32_t cmd;
        ssize_t r = stt_ipc_recv(ctrl, &cmd, sizeof cmd, NULL);
        if (r <= 0) {
            /* The pool is done: its workers leave when it closes their
             * sockets. Waiting for them (SIGCHLD is ignored, so wait() returns
             * once none is left) keeps PR_SET_PDEATHSIG from killing them
             * before they have written their coverage counters. */
            while (wait(NULL) >= 0 || errno == EINTR) {
            }
            stt_child_exit(0);
        }
        memset(&rep, 0, sizeof rep);
        int sv[2];
        if (stt_ipc_pair(sv) < 0) {
            rep.status =
                stt_seterr(rep.err, sizeof rep.err, STT_EIO, "socketpair: %s", strerror(errno));
            stt_ipc_send(ctrl, &rep, sizeof rep, -1);
            continue;
        }
        pid_t self = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            stt_child_setup(self);
            close(ctrl);
            close(sv[0]);
            signal(SIGCHLD, SIG_DFL);
            stt_worker_main(sv[1], engines);
        }
        close(sv[1]);
        if (pid < 0) {
            rep.status = stt_seterr(rep.err, sizeof rep.err, STT_EIO, "fork: %s", strerror(errno));
            close(sv[0]);
            stt_ipc_send(ctrl, &rep, sizeof rep, -1);
            continue;
        }
        rep.pid = pid;
        stt_ipc_send(ctrl, &rep, sizeof rep, sv[0]);
        close(sv[0]);
    }
}

stt_zygote *stt_zygote_start(const stt_engine_ops *ops, const char *model_dir,
                             unsigned profile_mask, char *err, size_t errlen)
{
    int sv[2];
    if (stt_ipc_pair(sv) < 0) {
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
        stt_child_setup(parent);
        close(sv[0]);
        zygote_loop(sv[1], ops, model_dir, profile_mask);
        stt_child_exit(0);
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
    ssize_t r = stt_ipc_recv(z->ctrl, &rep, sizeof rep, NULL);
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
    return stt_ipc_send(z->ctrl, &cmd, sizeof cmd, -1);
}

int stt_zygote_recv_spawned(stt_zygote *z, int *sock, pid_t *pid, char *err, size_t errlen)
{
    spawn_reply rep;
    int fd;
    ssize_t r = stt_ipc_recv(z->ctrl, &rep, sizeof rep, &fd);
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
        /* It leaves once its workers have; a worker that has not in 5 s (a
         * stuck decoder) is not waited for: killing the zygote kills it. */
        int st;
        for (int i = 0; i < 500; i++) {
            pid_t r = waitpid(z->pid, &st, WNOHANG);
            if (r == z->pid || (r < 0 && errno != EINTR)) goto reaped;
            usleep(10000);
        }
        kill(z->pid, SIGKILL);
        while (waitpid(z->pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
reaped:
    free(z);
}
