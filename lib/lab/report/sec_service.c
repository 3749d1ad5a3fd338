/* report/sec_service: the service's own targets against the raw engine,
 * each with its n, interval and verdict. */
#include "internal.h"

#include <math.h>
#include <string.h>

void rpt_sec_service(doc *d, const stt_report *r)
{
    const src *sv = rpt_primary(r, K_SERVICE);
    rpt_h(d, 2, "Service against the raw engine");
    if (!sv) return rpt_missing(d, K_SERVICE);
    json_t *t = json_object_get(sv->j, "targets");
    rpt_trow(d, 1, "target|goal|median of the rounds|95%% interval, n|verdict|detail");
    for (size_t i = 0; i < json_array_size(t); i++) {
        json_t *e = json_array_get(t, i);
        const char *verdict = json_string_value(json_object_get(e, "verdict"));
        const char *settle = json_string_value(json_object_get(e, "settle"));
        json_t *ci = json_object_get(e, "ci");
        char iv[96] = "-", v[320];
        /* Files from before intervals were recorded carry the figure in words only. */
        const char *figure = json_string_value(json_object_get(e, "measured")), *detail = "";
        if (json_is_number(json_object_get(e, "median"))) {
            const char *semi = figure ? strstr(figure, "; ") : NULL;
            detail = semi ? semi + 2 : "";
            figure = rpt_cite(d, sv, "", "targets[%zu].median", i);
            snprintf(iv, sizeof iv, "[%.4g, %.4g], n %lld", rpt_jnumv(json_array_get(ci, 0)),
                     rpt_jnumv(json_array_get(ci, 1)),
                     (long long)json_integer_value(json_object_get(e, "n")));
        }
        snprintf(v, sizeof v, "%s%s%s", verdict ? verdict : "?", settle ? ": needs " : "",
                 settle ? settle : "");
        rpt_trow(d, 0, "%s|%s|%s|%s|%s|%s", json_string_value(json_object_get(e, "target")) ?: "",
                 json_string_value(json_object_get(e, "goal")) ?: "", figure ? figure : "", iv, v,
                 detail[0] ? detail : "-");
    }
    rpt_para(d, "A timed figure is the median of per-round ratios of sttd to its baseline, both "
                "measured in the same round; its verdict needs the whole 95%% interval on one "
                "side of the goal, else it is undetermined. The details of each target are in "
                "service.json (targets[].measured, and the raw series under measurements).");
    rpt_reproduce(d, K_SERVICE, sv);
}
