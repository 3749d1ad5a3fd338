/* child: see child.h. */
#include "child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifdef STT_COVERAGE
/* libgcov's flush of the counters (gcc and clang): declared here because no
 * header does, and only in coverage builds, where libgcov is linked. */
void __gcov_dump(void);
#endif

void stt_child_setup(pid_t parent)
{
    /* Ignored before they are unblocked: a stop signal already pending for
     * the parent's mask is then discarded, not delivered. */
    static const int stops[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        signal(stops[i], SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) stt_child_exit(0);
}

void stt_child_exit(int status)
{
#ifdef STT_COVERAGE
    __gcov_dump();
#endif
    _exit(status);
}
