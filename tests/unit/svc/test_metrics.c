#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"
#include "testlib.h"

static char *render(stt_metrics *m)
{
    char *out = NULL;
    size_t len = 0;
    if (stt_metrics_render(m, &out, &len) != 0) return NULL;
    if (strlen(out) != len) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_counter_gauge(void)
{
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    stt_metric *c =
        stt_metrics_add(m, "x_requests_total", "Requests.", STT_METRIC_COUNTER, NULL, 0);
    stt_metric *g = stt_metrics_add(m, "x_depth", "Depth.", STT_METRIC_GAUGE, NULL, 0);
    REQUIRE(c && g);
    CHECK(stt_metrics_add(m, "x_depth", "again", STT_METRIC_GAUGE, NULL, 0) == NULL);
    CHECK(stt_metrics_add(m, "9bad", "bad", STT_METRIC_GAUGE, NULL, 0) == NULL);
    const char *l200[] = {"route", "/a", "status", "200", NULL};
    const char *l404[] = {"route", "/a", "status", "404", NULL};
    CHECK(stt_metric_inc(c, l200, 1) == 0);
    CHECK(stt_metric_inc(c, l200, 2) == 0);
    CHECK(stt_metric_inc(c, l404, 1) == 0);
    CHECK(stt_metric_inc(c, l404, -1) == STT_EINVAL);
    CHECK(stt_metric_observe(c, l404, 1) == STT_EINVAL);
    CHECK(stt_metric_value(c, l200) == 3);
    CHECK(stt_metric_value(c, l404) == 1);
    CHECK(stt_metric_set(g, NULL, 7.5) == 0);
    CHECK(stt_metric_inc(g, NULL, -2.5) == 0);
    CHECK(stt_metric_value(g, NULL) == 5);
    char *out = render(m);
    REQUIRE(out);
    CHECK(strstr(out, "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n"));
    CHECK(strstr(out, "x_requests_total{route=\"/a\",status=\"200\"} 3\n"));
    CHECK(strstr(out, "x_requests_total{route=\"/a\",status=\"404\"} 1\n"));
    CHECK(strstr(out, "\nx_requests_total 0") == NULL); /* placeholder hidden once labelled */
    CHECK(strstr(out, "x_depth 5\n"));
    free(out);
    stt_metrics_free(m);
}

static void test_escaping(void)
{
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    stt_metric *g = stt_metrics_add(m, "x_info", "A \\ help\nline.", STT_METRIC_GAUGE, NULL, 0);
    REQUIRE(g);
    const char *l[] = {"v", "a\"b\\c\nd", NULL};
    CHECK(stt_metric_set(g, l, 1) == 0);
    const char *bad[] = {"le", "1", NULL};
    CHECK(stt_metric_set(g, bad, 1) == STT_EINVAL);
    const char *odd[] = {"v", NULL};
    CHECK(stt_metric_set(g, odd, 1) == STT_EINVAL);
    char *out = render(m);
    REQUIRE(out);
    CHECK(strstr(out, "# HELP x_info A \\\\ help\\nline.\n"));
    CHECK(strstr(out, "x_info{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
    free(out);
    stt_metrics_free(m);
}

static void test_histogram(void)
{
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    const double bad[] = {1, 1};
    CHECK(stt_metrics_add(m, "h_bad", "x", STT_METRIC_HISTOGRAM, bad, 2) == NULL);
    stt_metric *h = stt_metrics_add(m, "h_seconds", "Latency.", STT_METRIC_HISTOGRAM,
                                    stt_metrics_latency_buckets, stt_metrics_n_latency_buckets);
    REQUIRE(h);
    CHECK(stt_metrics_latency_buckets[0] <= 0.001);
    CHECK(stt_metrics_latency_buckets[stt_metrics_n_latency_buckets - 1] >= 600);
    const char *l[] = {"route", "/r", NULL};
    CHECK(stt_metric_observe(h, l, 0.0005) == 0);
    CHECK(stt_metric_observe(h, l, 0.3) == 0);
    CHECK(stt_metric_observe(h, l, 1000) == 0);
    CHECK(stt_metric_value(h, l) == 3);
    char *out = render(m);
    REQUIRE(out);
    CHECK(strstr(out, "# TYPE h_seconds histogram\n"));
    CHECK(strstr(out, "h_seconds_bucket{route=\"/r\",le=\"0.001\"} 1\n"));
    CHECK(strstr(out, "h_seconds_bucket{route=\"/r\",le=\"0.25\"} 1\n"));
    CHECK(strstr(out, "h_seconds_bucket{route=\"/r\",le=\"0.5\"} 2\n"));
    CHECK(strstr(out, "h_seconds_bucket{route=\"/r\",le=\"600\"} 2\n"));
    CHECK(strstr(out, "h_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3\n"));
    CHECK(strstr(out, "h_seconds_sum{route=\"/r\"} 1000.3005\n"));
    CHECK(strstr(out, "h_seconds_count{route=\"/r\"} 3\n"));
    free(out);
    stt_metrics_free(m);
}

/* Prometheus' le means "less than or equal": a value on a bound counts in its bucket. */
static void test_bucket_bound_is_inclusive(void)
{
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    const double b[] = {0.5, 1, 2};
    stt_metric *h = stt_metrics_add(m, "b_seconds", "Bounds.", STT_METRIC_HISTOGRAM, b, 3);
    REQUIRE(h);
    CHECK(stt_metric_observe(h, NULL, 0.5) == 0);
    CHECK(stt_metric_observe(h, NULL, 1) == 0);
    CHECK(stt_metric_observe(h, NULL, 2) == 0);
    char *out = render(m);
    REQUIRE(out);
    CHECK(strstr(out, "b_seconds_bucket{le=\"0.5\"} 1\n"));
    CHECK(strstr(out, "b_seconds_bucket{le=\"1\"} 2\n"));
    CHECK(strstr(out, "b_seconds_bucket{le=\"2\"} 3\n"));
    CHECK(strstr(out, "b_seconds_bucket{le=\"+Inf\"} 3\n"));
    free(out);
    stt_metrics_free(m);
}

static stt_metric *shared_counter;

static void *hammer(void *arg)
{
    const char *l[] = {"t", "x", NULL};
    for (int i = 0; i < 10000; i++)
        stt_metric_inc(shared_counter, l, 1);
    return arg;
}

static void test_threads(void)
{
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    shared_counter = stt_metrics_add(m, "t_total", "x", STT_METRIC_COUNTER, NULL, 0);
    REQUIRE(shared_counter);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    const char *l[] = {"t", "x", NULL};
    CHECK(stt_metric_value(shared_counter, l) == 40000);
    stt_metrics_free(m);
}

static void test_promtool(void)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  skipped: promtool not in PATH\n");
        return;
    }
    stt_metrics *m = stt_metrics_create();
    REQUIRE(m);
    stt_metric *c =
        stt_metrics_add(m, "p_requests_total", "Requests.", STT_METRIC_COUNTER, NULL, 0);
    stt_metric *h = stt_metrics_add(m, "p_duration_seconds", "Duration.", STT_METRIC_HISTOGRAM,
                                    stt_metrics_latency_buckets, stt_metrics_n_latency_buckets);
    stt_metric *g = stt_metrics_add(m, "p_workers", "Workers.", STT_METRIC_GAUGE, NULL, 0);
    REQUIRE(c && h && g);
    const char *l[] = {"route", "/x", "status", "200", NULL};
    stt_metric_inc(c, l, 1);
    stt_metric_observe(h, NULL, 0.02);
    stt_metric_set(g, NULL, 2);
    char *out = render(m);
    REQUIRE(out);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.txt", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(out, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", path);
    CHECK(system(cmd) == 0);
    free(out);
    stt_metrics_free(m);
}

int main(void)
{
    TEST_RUN(test_counter_gauge);
    TEST_RUN(test_escaping);
    TEST_RUN(test_histogram);
    TEST_RUN(test_bucket_bound_is_inclusive);
    TEST_RUN(test_threads);
    TEST_RUN(test_promtool);
    return test_summary();
}
