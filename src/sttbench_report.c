/* sttbench report: performance report, scaling strategy and Kubernetes manifests. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "report.h"
#include "sttbench.h"
#include "sttbench_common.h"

#define MAX_IN 64

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sttbench report --in RESULTS_DIR [--in DIR2 ...] --out DOCS_DIR\n"
        "                       [--k8s-out DIR] [--price-core-hour 0.04] [--price-gib-hour 0.005]\n"
        "                       [--slo-p95 S] [--profile balanced] [--memory-margin 0.15]\n"
        "                       [--max-audio-s 600] [--image NAME]\n\n"
        "Finds test_results.json, audio.json, load.json, cpu.json and service.json under each\n"
        "--in directory (any depth; one machine per directory) and writes into --out:\n"
        "PERFORMANCE_REPORT.md, PERFORMANCE_REPORT.html, SCALING_STRATEGY.md; and into\n"
        "--k8s-out (default: deploy/k8s beside --out's parent): deployment.yaml, service.yaml,\n"
        "hpa.yaml, keda.yaml, pdb.yaml, grafana-dashboard.json. Missing inputs are reported as\n"
        "missing.\n");
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "sttbench report: %s: %s\n", path, strerror(errno));
    return f;
}

int bench_report_main(int argc, char **argv)
{
    const char *in[MAX_IN];
    int nin = 0;
    const char *out = NULL, *k8s = NULL;
    stt_report_params p = stt_report_default_params();
    static const struct option opts[] = {{"in", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"k8s-out", required_argument, 0, 'k'},
                                         {"price-core-hour", required_argument, 0, 'c'},
                                         {"price-gib-hour", required_argument, 0, 'g'},
                                         {"slo-p95", required_argument, 0, 's'},
                                         {"profile", required_argument, 0, 'p'},
                                         {"memory-margin", required_argument, 0, 'm'},
                                         {"max-audio-s", required_argument, 0, 'a'},
                                         {"image", required_argument, 0, 'I'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        double v = 0;
        int num = optarg && bench_parse_double(optarg, &v, 0) == 0;
        switch (c) {
        case 'i':
            if (nin == MAX_IN) {
                fprintf(stderr, "sttbench report: at most %d --in\n", MAX_IN);
                return 2;
            }
            in[nin++] = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'k':
            k8s = optarg;
            break;
        case 'p':
            p.profile = optarg;
            break;
        case 'I':
            p.image = optarg;
            break;
        case 'c':
        case 'g':
        case 's':
        case 'm':
        case 'a':
            if (!num) {
                fprintf(stderr, "sttbench report: bad number '%s'\n", optarg);
                return 2;
            }
            if (c == 'c') p.price_core_hour = v;
            if (c == 'g') p.price_gib_hour = v;
            if (c == 's') p.slo_p95_s = v;
            if (c == 'm') p.memory_margin = v;
            if (c == 'a') p.max_audio_s = v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!nin || !out || optind < argc) {
        usage(stderr);
        return 2;
    }
    char k8sdir[PATH_MAX];
    if (!k8s) {
        /* deploy/k8s beside --out's parent: docs -> ./deploy/k8s */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", out);
        size_t l = strlen(parent);
        while (l > 1 && parent[l - 1] == '/')
            parent[--l] = 0;
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(parent, sizeof parent, ".");
        snprintf(k8sdir, sizeof k8sdir, "%.4000s/deploy/k8s", parent);
        k8s = k8sdir;
    }
    char err[512] = "";
    stt_report *r = NULL;
    int rc = stt_report_load(in, nin, &r, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sttbench report: %s\n", err);
        return 1;
    }
    if (bench_mkdirs(out) || bench_mkdirs(k8s)) {
        fprintf(stderr, "sttbench report: cannot create %s or %s\n", out, k8s);
        stt_report_free(r);
        return 1;
    }
    p.asset_dir = out;
    char path[PATH_MAX + 64];
    const char *names[] = {"PERFORMANCE_REPORT.md", "PERFORMANCE_REPORT.html",
                           "SCALING_STRATEGY.md"};
    for (int i = 0; i < 3 && !rc; i++) {
        FILE *f = open_out(out, names[i], path, sizeof path);
        if (!f) {
            rc = 1;
            break;
        }
        int w = i == 0   ? stt_report_write_md(r, &p, f)
                : i == 1 ? stt_report_write_html(r, &p, f)
                         : stt_report_write_strategy(r, &p, f);
        if (fclose(f) || w) {
            fprintf(stderr, "sttbench report: %s: write failed\n", path);
            rc = 1;
        } else {
            printf("wrote %s\n", path);
        }
    }
    if (!rc) {
        char pd[PATH_MAX + 64], ps[PATH_MAX + 64], ph[PATH_MAX + 64];
        FILE *d = open_out(k8s, "deployment.yaml", pd, sizeof pd);
        FILE *s = open_out(k8s, "service.yaml", ps, sizeof ps);
        FILE *h = open_out(k8s, "hpa.yaml", ph, sizeof ph);
        if (d && s && h && stt_report_write_k8s(r, &p, d, s, h) == 0)
            printf("wrote %s, %s, %s\n", pd, ps, ph);
        else
            rc = 1;
        if (d) rc |= fclose(d) != 0;
        if (s) rc |= fclose(s) != 0;
        if (h) rc |= fclose(h) != 0;
    }
    if (!rc) {
        char pk[PATH_MAX + 64], pp[PATH_MAX + 64], pg[PATH_MAX + 64];
        FILE *k = open_out(k8s, "keda.yaml", pk, sizeof pk);
        FILE *b = open_out(k8s, "pdb.yaml", pp, sizeof pp);
        FILE *g = open_out(k8s, "grafana-dashboard.json", pg, sizeof pg);
        if (k && b && g && stt_report_write_k8s_more(r, &p, k, b, g) == 0)
            printf("wrote %s, %s, %s\n", pk, pp, pg);
        else
            rc = 1;
        if (k) rc |= fclose(k) != 0;
        if (b) rc |= fclose(b) != 0;
        if (g) rc |= fclose(g) != 0;
    }
    stt_report_decision dc;
    stt_report_decide(r, &p, &dc);
    printf("%d results file(s); missing:%s%s%s%s%s\n", stt_report_found(r),
           dc.has_tests ? "" : " test_results.json", dc.has_audio ? "" : " audio.json",
           dc.has_load ? "" : " load.json", dc.has_cpu ? "" : " cpu.json",
           dc.has_service ? "" : " service.json");
    stt_report_free(r);
    return rc ? 1 : 0;
}
