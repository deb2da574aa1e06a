/* Test-only failpoints (see failpoint.h); empty unless VETD_FAILPOINTS. */
#include "failpoint.h"

#ifdef VETD_FAILPOINTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fp_name[64];
static const char *fp_arg = "";

void failpoint_init(void)
{
    const char *v = getenv("VETD_FAILPOINT");
    if (v == NULL)
        return;
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n >= sizeof fp_name)
        n = sizeof fp_name - 1;
    memcpy(fp_name, v, n);
    fp_name[n] = '\0';
    fp_arg = colon ? colon + 1 : "";
}

bool failpoint_on(const char *name)
{
    return fp_name[0] != '\0' && strcmp(fp_name, name) == 0;
}

const char *failpoint_arg(void)
{
    return fp_arg;
}

void failpoint_crash(const char *name)
{
    fprintf(stderr, "failpoint %s: crashing\n", name);
    /* SIGKILL: no atexit handlers, no sanitizer leak report, like kill -9. */
    raise(SIGKILL);
    _exit(137);
}
#else
typedef int failpoint_unused;
#endif
