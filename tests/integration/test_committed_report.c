/* The committed documents are what the committed results give: regenerating
 * docs/PERFORMANCE_REPORT.md and .html, docs/SCALING_STRATEGY.md and the deploy/k8s
 * manifests from docs/results/<machine>/ must reproduce them byte for byte (chart
 * links, which depend on where the markdown was written, by the chart's name), so
 * no figure in them can drift from its source. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* A chart link's folder depends on where the report was written (links are
 * relative to it): such lines are compared by the chart's file name. */
static const char *chart_name(const char *line, size_t len, size_t *out_len)
{
    if (len < 2 || line[0] != '!' || line[1] != '[') return NULL;
    const char *end = line + len, *slash = end;
    while (slash > line && slash[-1] != '/' && slash[-1] != '(')
        slash--;
    *out_len = (size_t)(end - slash);
    return slash;
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
    int same = x && y;
    const char *p = x, *q = y;
    int line = 1;
    while (same && p && q && *p && *q) {
        size_t n1 = strcspn(p, "\n"), n2 = strcspn(q, "\n");
        size_t c1, c2;
        const char *k1 = chart_name(p, n1, &c1), *k2 = chart_name(q, n2, &c2);
        if (k1 && k2)
            same = c1 == c2 && memcmp(k1, k2, c1) == 0;
        else
            same = n1 == n2 && memcmp(p, q, n1) == 0;
        if (!same) fprintf(stderr, "  %s:%d differs from %s\n", a, line, b);
        p += n1 + (p[n1] == '\n');
        q += n2 + (q[n2] == '\n');
        line++;
    }
    if (same && p && q && (*p || *q)) {
        fprintf(stderr, "  %s and %s differ in length\n", a, b);
        same = 0;
    }
    if (!x || !y) fprintf(stderr, "  cannot read %s or %s\n", a, b);
    free(x);
    free(y);
    return same;
}

static void test_documents_match_the_committed_results(void)
{
    char results[4096];
    snprintf(results, sizeof results, "%s/docs/results", STT_SOURCE_DIR);
    DIR *d = opendir(results);
    if (!d) {
        printf("SKIP: no docs/results in this tree\n");
        return;
    }
    const char *argv[64];
    int argc = 0;
    argv[argc++] = test_bin("sttbench");
    argv[argc++] = "report";
    static char dirs[16][4200];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 16) {
        if (e->d_name[0] == '.') continue;
        snprintf(dirs[n], sizeof dirs[n], "docs/results/%s", e->d_name);
        n++;
    }
    closedir(d);
    /* the same order as the shell glob in scripts/generate_performance_report.sh */
    qsort(dirs, (size_t)n, sizeof dirs[0], (int (*)(const void *, const void *))strcmp);
    for (int i = n - 1; i >= 0; i--) { /* the script prepends each, so the last comes first */
        argv[argc++] = "--in";
        argv[argc++] = dirs[i];
    }
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char k8s[4200];
    snprintf(k8s, sizeof k8s, "%s/k8s", tmp);
    argv[argc++] = "--out";
    argv[argc++] = tmp;
    argv[argc++] = "--k8s-out";
    argv[argc++] = k8s;
    argv[argc] = NULL;
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* relative paths, as the script passes them: they appear in citations */
        if (chdir(STT_SOURCE_DIR) != 0 || !freopen("/dev/null", "w", stdout)) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static const char *const docs[][2] = {
        {"PERFORMANCE_REPORT.md", "docs/PERFORMANCE_REPORT.md"},
        {"PERFORMANCE_REPORT.html", "docs/PERFORMANCE_REPORT.html"},
        {"SCALING_STRATEGY.md", "docs/SCALING_STRATEGY.md"},
        {"k8s/deployment.yaml", "deploy/k8s/deployment.yaml"},
        {"k8s/service.yaml", "deploy/k8s/service.yaml"},
        {"k8s/hpa.yaml", "deploy/k8s/hpa.yaml"},
        {"k8s/keda.yaml", "deploy/k8s/keda.yaml"},
        {"k8s/pdb.yaml", "deploy/k8s/pdb.yaml"},
        {"k8s/grafana-dashboard.json", "deploy/k8s/grafana-dashboard.json"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char fresh[4400], committed[4400];
        snprintf(fresh, sizeof fresh, "%s/%s", tmp, docs[i][0]);
        snprintf(committed, sizeof committed, "%s/%s", STT_SOURCE_DIR, docs[i][1]);
        CHECK(same_file(fresh, committed));
    }
}

int main(void)
{
    TEST_RUN(test_documents_match_the_committed_results);
    return test_summary();
}
