/* cpus: see cpus.h. */
#include "cpus.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

int stt_cpus_allowed(int *cpu, int max)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set)) return STT_EIO;
    int n = 0;
    for (int i = 0; i < CPU_SETSIZE && n < max; i++)
        if (CPU_ISSET(i, &set)) cpu[n++] = i;
    return n > 0 ? n : STT_EIO;
}

/* "Q P" (v1 values joined) or "max P" / "Q P" (v2 cpu.max): *q < 0 for "max". */
static int read_quota_pair(const char *path, long *q, long *per)
{
    FILE *f = fopen(path, "r");
    if (!f) return STT_EIO;
    char buf[128] = "";
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok) return STT_EIO;
    if (!strncmp(buf, "max", 3)) {
        *q = -1;
        return sscanf(buf + 3, "%ld", per) == 1 ? 0 : STT_EIO;
    }
    return sscanf(buf, "%ld %ld", q, per) == 2 ? 0 : STT_EIO;
}

static int read_long(const char *path, long *v)
{
    FILE *f = fopen(path, "r");
    if (!f) return STT_EIO;
    int ok = fscanf(f, "%ld", v) == 1;
    fclose(f);
    return ok ? 0 : STT_EIO;
}

double stt_cpus_quota(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return 0;
    char line[4096];
    double best = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *path = strchr(line, ':');
        if (!path) continue;
        char *ctrls = path + 1;
        path = strchr(ctrls, ':');
        if (!path) continue;
        *path++ = '\0';
        char file[8192];
        long q, per;
        /* Walk from the process's own cgroup up to the root: any level may limit. */
        for (char *end = path + strlen(path);; end = strrchr(path, '/')) {
            if (end) *end = '\0';
            int r;
            if (!*ctrls) { /* v2 */
                snprintf(file, sizeof file, "/sys/fs/cgroup%s/cpu.max", path);
                r = read_quota_pair(file, &q, &per);
            } else if (strstr(ctrls, "cpu") && !strstr(ctrls, "cpuset")) {
                snprintf(file, sizeof file, "/sys/fs/cgroup/%s%s/cpu.cfs_quota_us", ctrls, path);
                r = read_long(file, &q);
                snprintf(file, sizeof file, "/sys/fs/cgroup/%s%s/cpu.cfs_period_us", ctrls, path);
                if (r == 0) r = read_long(file, &per);
            } else {
                break;
            }
            if (r == 0 && q > 0 && per > 0) {
                double c = (double)q / (double)per;
                if (best == 0 || c < best) best = c;
            }
            if (!end || end == path) break;
        }
    }
    fclose(f);
    return best;
}

int stt_usable_cpus(void)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    double q = stt_cpus_quota();
    if (q > 0 && (int)ceil(q) < n) n = (int)ceil(q);
    return n > 0 ? n : 1;
}

void stt_cpus_format(const int *cpu, int n, char *out, size_t len)
{
    if (!len) return;
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j + 1 < n && cpu[j + 1] == cpu[j] + 1)
            j++;
        int w = j > i ? snprintf(out + k, len - k, "%s%d-%d", k ? "," : "", cpu[i], cpu[j])
                      : snprintf(out + k, len - k, "%s%d", k ? "," : "", cpu[i]);
        if (w < 0 || (size_t)w >= len - k) return;
        k += (size_t)w;
        i = j;
    }
}

int stt_cpus_parse(const char *s, int *cpu, int max)
{
    int n = 0;
    while (*s && *s != '\n') {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0 || a > 65535) return STT_EINVAL;
        b = a;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a || b > 65535) return STT_EINVAL;
            s = end;
        }
        for (long c = a; c <= b; c++) {
            if (n >= max) return STT_EINVAL;
            cpu[n++] = (int)c;
        }
        if (*s == ',')
            s++;
        else if (*s && *s != '\n')
            return STT_EINVAL;
    }
    return n;
}
