/* worker: see worker.h. */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "ipc.h"

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
    stt_ipc_send(sock, buf, sizeof h + len, -1);
    free(buf);
}

void stt_worker_main(int sock, stt_engine *const *engines)
{
    job_msg job;
    for (;;) {
        int memfd;
        ssize_t r = stt_ipc_recv(sock, &job, sizeof job, &memfd);
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
        if (rc == 0 && len > STT_WORKER_MSG_MAX - sizeof(result_hdr))
            rc = stt_seterr(err, sizeof err, STT_EENGINE, "transcript too large");
        if (rc == 0)
            send_result(sock, job.job_id, 0, ser, len);
        else
            send_result(sock, job.job_id, rc, err, strlen(err) + 1);
        free(ser);
        stt_transcript_free(t);
    }
}

int stt_worker_send_job(int sock, uint64_t job_id, int profile, int memfd, size_t offset, size_t n)
{
    job_msg m;
    memset(&m, 0, sizeof m); /* no uninitialised padding on the wire */
    m.job_id = job_id;
    m.offset = offset;
    m.n = n;
    m.profile = profile;
    return stt_ipc_send(sock, &m, sizeof m, memfd);
}

int stt_worker_recv_result(int sock, void *scratch, uint64_t *job_id, stt_transcript **out,
                           char *err, size_t errlen)
{
    char *buf = scratch;
    ssize_t r = stt_ipc_recv(sock, buf, STT_WORKER_MSG_MAX, NULL);
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
