/* sttbench cost and compare end to end, without valgrind (scripts/check_regression.sh
 * --self-test runs the counted version): two real sttd sides, the head with a
 * language model from another domain, so that compare must find the accuracy
 * drop, utterance by utterance, and nothing in a file against itself. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* Runs argv with stdout and stderr into log; returns the exit status, -1 if killed. */
static int run(const char *const *argv, const char *log)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cost_and_compare_catch_an_accuracy_drop(void)
{
    const char *tmp = test_tmpdir();
    REQUIRE(tmp);
    char model[600], out[600], log[700], sttd[600], sttbench[600];
    snprintf(sttd, sizeof sttd, "%s", test_bin("sttd"));
    snprintf(sttbench, sizeof sttbench, "%s", test_bin("sttbench"));
    /* the planted model: sttd's own, with testdata's turtle language model */
    snprintf(model, sizeof model, "%s/model", tmp);
    char cmd[4000];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && ln -s %s/en-us %s/en-us && ln -s %s/cmudict-en-us.dict %s/ && "
             "ln -s %s/turtle.lm.bin %s/en-us.lm.bin",
             model, STT_MODEL_DIR, model, STT_MODEL_DIR, model, STT_TESTDATA_DIR, model);
    REQUIRE(system(cmd) == 0);
    snprintf(out, sizeof out, "%s/cost", tmp);
    snprintf(log, sizeof log, "%s/cost.log", tmp);
    const char *cost[] = {
        sttbench, "cost", "--base",        sttd,    "--head", sttd, "--head-model-dir", model,
        "--runs", "2",    "--no-valgrind", "--out", out,      NULL};
    int rc = run(cost, log);
    if (rc != 0) {
        char *l = test_read_file(log, NULL);
        fprintf(stderr, "%s\n", l ? l : "(no log)");
        free(l);
    }
    REQUIRE(rc == 0);
    char base[700], head[700];
    snprintf(base, sizeof base, "%s/base/cost.json", out);
    snprintf(head, sizeof head, "%s/head/cost.json", out);
    json_t *b = json_load_file(base, 0, NULL);
    REQUIRE(b);
    json_t *m = json_array_get(json_object_get(b, "metrics"), 0);
    CHECK(!strncmp(json_string_value(json_object_get(m, "name")), "wall_s/", 7));
    CHECK(json_integer_value(json_object_get(m, "n")) == 2);
    json_t *acc = json_array_get(json_object_get(b, "accuracy"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(acc, "name")), "wer/testdata"));
    CHECK(json_array_size(json_object_get(acc, "errors")) == 10);
    CHECK(
        !strcmp(json_string_value(json_object_get(json_object_get(b, "config"), "order")), "ABBA"));
    json_decref(b);
    /* the head's configuration differs (its model): refused unless allowed */
    char cmp_out[700];
    snprintf(cmp_out, sizeof cmp_out, "%s/regression", tmp);
    const char *refuse[] = {sttbench, "compare", base, head, NULL};
    CHECK(run(refuse, log) == 2);
    char *l = test_read_file(log, NULL);
    CHECK(l && strstr(l, "config.model_dir") && strstr(l, "--allow-different-machines"));
    free(l);
    const char *cmp[] = {sttbench,
                         "compare",
                         "--allow-different-machines",
                         "--gate",
                         "deterministic",
                         "--alpha",
                         "0.01",
                         "--out",
                         cmp_out,
                         base,
                         head,
                         NULL};
    CHECK(run(cmp, log) == 1);
    char path[800];
    snprintf(path, sizeof path, "%s/regression.json", cmp_out);
    json_t *r = json_load_file(path, 0, NULL);
    REQUIRE(r);
    json_t *a = json_array_get(json_object_get(r, "accuracy_changes"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(a, "verdict")), "worse"));
    CHECK(json_integer_value(json_object_get(a, "worse")) >= 8);
    CHECK(json_real_value(json_object_get(a, "p")) < 0.01);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(r, "verdict"), "answer")),
                  "regression"));
    json_decref(r);
    /* a file against itself: no change, exit 0 */
    const char *same[] = {sttbench, "compare", base, base, NULL};
    CHECK(run(same, log) == 0);
    l = test_read_file(log, NULL);
    CHECK(l && strstr(l, "Verdict: no regression"));
    free(l);
}

int main(void)
{
    TEST_RUN(test_cost_and_compare_catch_an_accuracy_drop);
    return test_summary();
}
