/* sysinfo: see sysinfo.h. */
#include "sysinfo.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cpus.h"

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k]))
        k++;
    memmove(s, s + k, n - k + 1);
}

void stt_sysinfo_get(stt_sysinfo *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->cpu_model, sizeof out->cpu_model, "unknown");
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (!strncmp(line, "model name", 10) && colon) {
                snprintf(out->cpu_model, sizeof out->cpu_model, "%s", colon + 1);
                trim(out->cpu_model);
                break;
            }
        }
        fclose(f);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->logical_cores = n > 0 ? (int)n : 0;
    int cpus[1024];
    int n_allowed = stt_cpus_allowed(cpus, 1024);
    out->cpus_allowed = n_allowed > 0 ? n_allowed : 0;
    out->cpus_usable = stt_usable_cpus();
    out->cpu_quota = stt_cpus_quota();
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    out->mem_total = pages > 0 && psize > 0 ? (long long)pages * psize : 0;
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->kernel, sizeof out->kernel, "%s %s %s", u.sysname, u.release, u.machine);
        snprintf(out->hostname, sizeof out->hostname, "%s", u.nodename);
    }
}
