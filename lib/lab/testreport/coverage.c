/* testreport/coverage: gcovr's JSON (`gcovr --json`, one entry per line, or
 * `--json-summary`, counts per file) read into the report. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "internal.h"

static size_t json_size(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (size_t)v : 0;
}

int stt_testreport_load_coverage(stt_testreport *r, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return stt_seterr(err, errlen, STT_EFORMAT, "%s: %s", path, je.text);
    json_t *files = json_object_get(root, "files");
    if (!json_is_array(files)) {
        json_decref(root);
        return stt_seterr(err, errlen, STT_EFORMAT, "%s: no \"files\" array", path);
    }
    for (size_t i = 0; i < r->ncov; i++)
        free(r->cov[i].file);
    free(r->cov);
    r->ncov = 0;
    r->cov = calloc(json_array_size(files) + 1, sizeof *r->cov);
    if (!r->cov) {
        json_decref(root);
        return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
    }
    r->lines_total = r->lines_covered = r->branches_total = r->branches_covered = 0;
    size_t i;
    json_t *jf;
    json_array_foreach(files, i, jf)
    {
        const char *name = json_string_value(json_object_get(jf, "file"));
        if (!name) name = json_string_value(json_object_get(jf, "filename"));
        if (!name) continue;
        stt_coverage_file *f = &r->cov[r->ncov].v;
        json_t *lines = json_object_get(jf, "lines");
        if (json_is_array(lines)) { /* gcovr --json: one entry per line */
            size_t k;
            json_t *jl;
            json_array_foreach(lines, k, jl)
            {
                if (json_is_true(json_object_get(jl, "gcovr/noncode")) ||
                    json_is_true(json_object_get(jl, "gcovr/excluded")))
                    continue;
                f->lines_total++;
                if (json_integer_value(json_object_get(jl, "count")) > 0) f->lines_covered++;
                size_t b;
                json_t *jb;
                json_array_foreach(json_object_get(jl, "branches"), b, jb)
                {
                    f->branches_total++;
                    if (json_integer_value(json_object_get(jb, "count")) > 0) f->branches_covered++;
                }
            }
        } else { /* gcovr --json-summary: counts per file */
            f->lines_total = json_size(jf, "line_total");
            f->lines_covered = json_size(jf, "line_covered");
            f->branches_total = json_size(jf, "branch_total");
            f->branches_covered = json_size(jf, "branch_covered");
        }
        f->line_percent = tr_percent(f->lines_covered, f->lines_total);
        f->branch_percent = tr_percent(f->branches_covered, f->branches_total);
        r->cov[r->ncov].file = tr_clean_text(name, 0);
        if (!r->cov[r->ncov].file) {
            json_decref(root);
            return stt_seterr(err, errlen, STT_ENOMEM, "out of memory");
        }
        f->file = r->cov[r->ncov].file;
        r->lines_total += f->lines_total;
        r->lines_covered += f->lines_covered;
        r->branches_total += f->branches_total;
        r->branches_covered += f->branches_covered;
        r->ncov++;
    }
    json_decref(root);
    r->has_coverage = 1;
    return 0;
}
