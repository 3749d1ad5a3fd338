/* report/sec_service: the service's own targets against the raw engine. */
#include "internal.h"

#include <string.h>

void rpt_sec_service(doc *d, const stt_report *r)
{
    const src *sv = rpt_primary(r, K_SERVICE);
    rpt_h(d, 2, "Service against the raw engine");
    if (!sv) return rpt_missing(d, K_SERVICE);
    json_t *t = json_object_get(sv->j, "targets");
    rpt_trow(d, 1, "target|goal|measured|verdict");
    for (size_t i = 0; i < json_array_size(t); i++) {
        json_t *e = json_array_get(t, i);
        rpt_trow(d, 0, "%s|%s|%s|%s", json_string_value(json_object_get(e, "target")) ?: "",
                 json_string_value(json_object_get(e, "goal")) ?: "",
                 json_string_value(json_object_get(e, "measured")) ?: "",
                 json_string_value(json_object_get(e, "verdict")) ?: "");
    }
    rpt_para(d, "Measured values as service.json states them (targets[].measured); raw series in "
                "its measurements object.");
    rpt_reproduce(d, K_SERVICE, sv);
}
