#include "testlib.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <time.h>

int test_case_failed;
static int passed, failed;

/* ---- the per-case record ----
 *
 * With STT_TEST_CASES_DIR set, each program also writes DIR/PROGRAM.cases, one
 * tab-separated record per line, for the test report (lib/lab/testreport):
 *   start NAME                      a case begins
 *   fail  NAME FILE:LINE EXPR       a check failed in it
 *   end   NAME ok|FAIL SECONDS      it ended (monotonic wall time)
 * A start without its end means the program died inside that case. Fields
 * escape backslash, tab and newline as \\, \t, \n. Every record is flushed at
 * once so that a crash keeps what came before it. */
static FILE *cases_file;
static const char *current_case;

static FILE *cases_open(void)
{
    static int tried;
    if (tried) return cases_file;
    tried = 1;
    const char *dir = getenv("STT_TEST_CASES_DIR");
    if (!dir || !*dir) return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cases", dir, program_invocation_short_name);
    cases_file = fopen(path, "w");
    if (!cases_file) fprintf(stderr, "testlib: cannot write %s: %s\n", path, strerror(errno));
    return cases_file;
}

static void cases_field(FILE *f, const char *s)
{
    fputc('\t', f);
    for (; s && *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void cases_record(const char *kind, const char *a, const char *b)
{
    FILE *f = cases_open();
    if (!f) return;
    fputs(kind, f);
    cases_field(f, current_case ? current_case : "(outside a case)");
    if (a) cases_field(f, a);
    if (b) cases_field(f, b);
    fputc('\n', f);
    fflush(f);
}

static double monotonic_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void test_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    test_case_failed = 1;
    char where[4200];
    snprintf(where, sizeof where, "%s:%d", file, line);
    cases_record("fail", where, expr);
}

void test_run(const char *name, void (*fn)(void))
{
    test_case_failed = 0;
    current_case = name;
    cases_record("start", NULL, NULL);
    double t0 = monotonic_s();
    fn();
    char secs[32];
    snprintf(secs, sizeof secs, "%.6f", monotonic_s() - t0);
    cases_record("end", test_case_failed ? "FAIL" : "ok", secs);
    current_case = NULL;
    if (test_case_failed) {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

int test_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

const char *test_data(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", STT_TESTDATA_DIR, rel);
    return path;
}

const char *test_bin(const char *name)
{
    static char path[4096];
    const char *dir = getenv("STT_BINARY_DIR");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : STT_BINARY_DIR, name);
    return path;
}

const char *test_tmpdir(void)
{
    static char path[4096];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/stttest.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(path)) return NULL;
    return path;
}

const char *const test_librivox_ids[TEST_LIBRIVOX_N] = {
    "sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890", "sense_and_sensibility_01_austen_64kb-0920",
    "sense_and_sensibility_01_austen_64kb-0930"};

/* ---- integration helpers ---- */
#include <curl/curl.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int test_server_start(test_server *s, const char *const *args)
{
    return test_server_start_opts(s, args, 0);
}

int test_server_start_opts(test_server *s, const char *const *args, int own_group)
{
    memset(s, 0, sizeof *s);
    s->probe_port = -1;
    const char *dir = test_tmpdir();
    if (!dir) return -1;
    snprintf(s->log, sizeof s->log, "%s/sttd.log", dir);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = test_bin("sttd");
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--quiet";
    for (int i = 0; args && args[i] && argc < 62; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    s->pid = fork();
    if (s->pid < 0) return -1;
    if (s->pid == 0) {
        FILE *f = freopen(s->log, "w", stderr);
        (void)f;
        if (own_group) setpgid(0, 0);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (own_group) setpgid(s->pid, s->pid); /* whichever of the two runs first */
    for (int i = 0; i < 600; i++) {
        size_t len;
        char *log = test_read_file(s->log, &len);
        const char *p = log ? strstr(log, "listening on http://") : NULL;
        if (p && (p = strchr(p + strlen("listening on http://"), ':'))) {
            s->port = atoi(p + 1);
            const char *pp = strstr(p, "probes on port ");
            if (pp) {
                s->probe_port = atoi(pp + strlen("probes on port "));
                snprintf(s->probe_url, sizeof s->probe_url, "http://127.0.0.1:%d", s->probe_port);
            }
            free(log);
            snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
            return 0;
        }
        free(log);
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            fprintf(stderr, "sttd exited early; its log:\n");
            char *l = test_read_file(s->log, NULL);
            fprintf(stderr, "%s\n", l ? l : "");
            free(l);
            s->pid = 0;
            return -1;
        }
        usleep(100000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    return -1;
}

int test_server_stop(test_server *s, int sig)
{
    if (s->pid <= 0) return -1;
    kill(s->pid, sig);
    int st;
    for (int i = 0; i < 600; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(100000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return -1;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    char *np = realloc(b->p, b->n + n + 1);
    if (!np) return 0;
    memcpy(np + b->n, data, n);
    b->n += n;
    np[b->n] = '\0';
    b->p = np;
    return n;
}

static int perform(CURL *c, struct curl_slist *hl, test_response *r)
{
    buf body = {0}, hdr = {0};
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    CURLcode rc = curl_easy_perform(c);
    memset(r, 0, sizeof *r);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = body.p ? body.p : calloc(1, 1);
    r->len = body.n;
    r->headers = hdr.p ? hdr.p : calloc(1, 1);
    if (rc != CURLE_OK) fprintf(stderr, "  curl: %s\n", curl_easy_strerror(rc));
    return rc == CURLE_OK ? 0 : -1;
}

static struct curl_slist *header_list(const char *const *headers)
{
    struct curl_slist *hl = NULL;
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    return hl;
}

int test_post_file(const char *url, const char *path, const void *mem, size_t mem_len,
                   const char *const *fields, const char *const *headers, test_response *r)
{
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, "file");
    if (path) {
        curl_mime_filedata(part, path);
    } else {
        curl_mime_data(part, mem, mem_len);
        curl_mime_filename(part, "upload.bin");
    }
    for (int i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        part = curl_mime_addpart(m);
        curl_mime_name(part, fields[i]);
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    struct curl_slist *hl = header_list(headers);
    int rc = perform(c, hl, r);
    curl_slist_free_all(hl);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    return rc;
}

int test_request(const char *method, const char *url, const char *const *headers, test_response *r)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    struct curl_slist *hl = header_list(headers);
    int rc = perform(c, hl, r);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc;
}

const char *test_header(const test_response *r, const char *name)
{
    static char val[1024];
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= sizeof val) vl = sizeof val - 1;
            memcpy(val, v, vl);
            val[vl] = '\0';
            return val;
        }
        p = eol ? eol + 2 : p + len;
    }
    return NULL;
}

void test_response_free(test_response *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

int test_server_wait(test_server *s, double timeout_s, double *took_s)
{
    double t0 = test_now();
    int rc = -1, st;
    while (s->pid > 0) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (test_now() - t0 > timeout_s) break;
        usleep(10000);
    }
    if (took_s) *took_s = test_now() - t0;
    return rc;
}

char *test_server_log(const test_server *s)
{
    return test_read_file(s->log, NULL);
}

double test_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int test_connect_loopback(int port, int from, int *err)
{
    if (err) *err = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        if (err) *err = errno;
        return -1;
    }
    struct sockaddr_in me = {.sin_family = AF_INET};
    me.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)from);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((from && bind(fd, (struct sockaddr *)&me, sizeof me) != 0) ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        if (err) *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

#include <sndfile.h>

double test_write_speech_wav(const char *path, int n)
{
    SF_INFO out = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *dst = sf_open(path, SFM_WRITE, &out);
    if (!dst) return -1;
    static short gap[9600];
    sf_count_t total = 0;
    for (int r = 0; r < n; r++)
        for (int i = 0; i < TEST_LIBRIVOX_N; i++) {
            char rel[256];
            snprintf(rel, sizeof rel, "librivox/%s.wav", test_librivox_ids[i]);
            SF_INFO in = {0};
            SNDFILE *src = sf_open(test_data(rel), SFM_READ, &in);
            if (!src) {
                sf_close(dst);
                return -1;
            }
            short pcm[4096];
            sf_count_t got;
            while ((got = sf_readf_short(src, pcm, 4096)) > 0)
                total += sf_writef_short(dst, pcm, got);
            sf_close(src);
            total += sf_writef_short(dst, gap, 9600);
        }
    sf_close(dst);
    return (double)total / 16000.0;
}

double test_metric(const char *url, const char *series)
{
    char u[256];
    snprintf(u, sizeof u, "%s/metrics", url);
    test_response r;
    if (test_request("GET", u, NULL, &r) != 0 || r.status != 200) {
        test_response_free(&r);
        return -1;
    }
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = r.body; p && *p;) {
        if (!strncmp(p, series, n) && p[n] == ' ') {
            v = atof(p + n + 1);
            break;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    test_response_free(&r);
    return v;
}
