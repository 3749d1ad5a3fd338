/* testreport/job: one whole run of `sttbench tests`, from the files a CTest
 * run left to the three reports. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "internal.h"
#include "results.h"

stt_testreport_job stt_testreport_default_job(void)
{
    stt_testreport_job j;
    memset(&j, 0, sizeof j);
    j.params = stt_testreport_default_params();
    return j;
}

/* Splits "NAME=VALUE" into a NUL-terminated name in buf and a pointer to the
 * value; NULL when there is no '=' or no name. */
static const char *split_eq(const char *arg, char *buf, size_t len)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= len) return NULL;
    memcpy(buf, arg, (size_t)(eq - arg));
    buf[eq - arg] = '\0';
    return eq + 1;
}

static int apply_entries(stt_testreport *r, const stt_testreport_job *j, char *err, size_t errlen)
{
    char name[256];
    for (size_t i = 0; i < j->nconfigs; i++) {
        const char *v = split_eq(j->configs[i], name, sizeof name);
        if (!v)
            return stt_seterr(err, errlen, STT_EINVAL, "--config %s: not KEY=VALUE", j->configs[i]);
        if (stt_testreport_set_config(r, name, v)) return STT_ENOMEM;
    }
    for (size_t i = 0; i < j->nphases; i++) {
        const char *v = split_eq(j->phases[i], name, sizeof name);
        char *end = NULL;
        double s = v ? strtod(v, &end) : NAN;
        if (!v || end == v || *end || !isfinite(s) || s < 0)
            return stt_seterr(err, errlen, STT_EINVAL, "--phase %s: not NAME=SECONDS",
                              j->phases[i]);
        if (stt_testreport_add_phase(r, name, s)) return STT_ENOMEM;
    }
    for (size_t i = 0; i < j->nchecks; i++) {
        const char *v = split_eq(j->checks[i], name, sizeof name);
        size_t k = v ? strcspn(v, ":") : 0;
        int pass = v && k == 4 && !strncmp(v, "pass", 4),
            fail = v && k == 4 && !strncmp(v, "fail", 4);
        if (!pass && !fail)
            return stt_seterr(err, errlen, STT_EINVAL, "--check %s: not NAME=pass|fail[:DETAIL]",
                              j->checks[i]);
        if (stt_testreport_add_check(r, name, pass, v[k] ? v + k + 1 : "")) return STT_ENOMEM;
    }
    return 0;
}

int stt_testreport_run_job(const stt_testreport_job *j, stt_testreport **out, char *warn,
                           size_t warnlen, char *err, size_t errlen)
{
    *out = NULL;
    if (warn && warnlen) warn[0] = '\0';
    if (!j->junit || !j->out_dir)
        return stt_seterr(err, errlen, STT_EINVAL,
                          "the JUnit file and the output folder are needed");
    stt_testreport *r = stt_testreport_create(&j->params);
    if (!r) return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    int rc = stt_testreport_load_junit(r, j->junit, err, errlen);
    if (!rc && j->cases_dir) rc = stt_testreport_load_cases(r, j->cases_dir, err, errlen);
    if (!rc && j->ctest_json) rc = stt_testreport_load_labels(r, j->ctest_json, err, errlen);
    if (!rc && j->coverage) rc = stt_testreport_load_coverage(r, j->coverage, err, errlen);
    for (size_t i = 0; !rc && i < j->nstability_runs; i++) {
        char junit[4096], cases[4096];
        snprintf(junit, sizeof junit, "%s/junit.xml", j->stability_runs[i]);
        snprintf(cases, sizeof cases, "%s/cases", j->stability_runs[i]);
        rc = stt_testreport_add_stability_run(r, junit, access(cases, X_OK) == 0 ? cases : NULL,
                                              err, errlen);
    }
    if (!rc && j->commit) rc = stt_testreport_set_commit(r, j->commit);
    if (!rc) rc = apply_entries(r, j, err, errlen);
    if (!rc && stt_results_mkdirs(j->out_dir))
        rc = stt_seterr(err, errlen, STT_EIO, "cannot create %s: %s", j->out_dir, strerror(errno));
    if (rc) {
        if (rc == STT_ENOMEM) stt_seterr(err, errlen, rc, "out of memory");
        stt_testreport_free(r);
        return rc;
    }

    char prev[4096], archived[4096] = "";
    snprintf(prev, sizeof prev, "%s/test_results.json", j->out_dir);
    if (j->history_dir) {
        if ((rc = stt_testreport_archive(prev, j->history_dir, archived, sizeof archived, err,
                                         errlen))) {
            stt_testreport_free(r);
            return rc;
        }
    } else if (access(prev, R_OK) == 0) {
        snprintf(archived, sizeof archived, "%s", prev);
    }
    char why[512];
    if (archived[0] && stt_testreport_load_previous(r, archived, archived, why, sizeof why))
        snprintf(warn, warnlen, "previous report ignored: %s", why);

    if ((rc = stt_testreport_analyze(r))) {
        stt_testreport_free(r);
        return stt_seterr(err, errlen, rc, "out of memory");
    }
    static const char *const names[3] = {"test_results.json", "test_report.html", "junit.xml"};
    int (*const writers[3])(const stt_testreport *, const char *, char *, size_t) = {
        stt_testreport_write_json, stt_testreport_write_html, stt_testreport_write_junit};
    for (int i = 0; i < 3 && !rc; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", j->out_dir, names[i]);
        rc = writers[i](r, path, err, errlen);
    }
    if (rc) {
        stt_testreport_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
