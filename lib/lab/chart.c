/* chart: see chart.h. */
#include "chart.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

int stt_chart_available(void)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char dir[PATH_MAX], exe[PATH_MAX + 16];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s", (int)n, p);
        snprintf(exe, sizeof exe, "%s/gnuplot", dir[0] ? dir : ".");
        if (access(exe, X_OK) == 0) return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* gnuplot SCRIPT in dir, output appended to log; the exit status or -1. */
static int run(const char *dir, const char *script, const char *log, const char *terminal_fix)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (chdir(dir)) _exit(126);
        /* -e runs before the script: a plain png terminal in place of pngcairo. */
        if (terminal_fix)
            execlp("gnuplot", "gnuplot", "-e", terminal_fix, script, (char *)NULL);
        else
            execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The script with "pngcairo" replaced by "png", written beside it. */
static int plain_png_copy(const char *dir, const char *script, char *out, size_t len)
{
    char in[PATH_MAX];
    snprintf(in, sizeof in, "%s/%s", dir, script);
    snprintf(out, len, "%s.png.gp", script);
    char outp[PATH_MAX + 16];
    snprintf(outp, sizeof outp, "%s/%s", dir, out);
    FILE *f = fopen(in, "r"), *g = f ? fopen(outp, "w") : NULL;
    if (!g) {
        if (f) fclose(f);
        return STT_EIO;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *c;
        while ((c = strstr(line, "pngcairo")))
            memmove(c + 3, c + 8, strlen(c + 8) + 1);
        fputs(line, g);
    }
    fclose(f);
    return fclose(g) ? STT_EIO : 0;
}

int stt_chart_run(const char *dir, const char *script, char *err, size_t errlen)
{
    if (!stt_chart_available())
        return stt_seterr(err, errlen, STT_ENOTFOUND, "gnuplot not found; charts not drawn");
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    unlink(log);
    if (run(dir, script, log, NULL) == 0) return 0;
    char plain[PATH_MAX];
    if (plain_png_copy(dir, script, plain, sizeof plain) == 0) {
        int rc = run(dir, plain, log, NULL);
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/%s", dir, plain);
        unlink(p);
        if (rc == 0) return 0;
    }
    return stt_seterr(err, errlen, STT_EIO, "gnuplot failed on %s/%s (see %s)", dir, script, log);
}
