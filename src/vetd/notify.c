/* systemd notification for vetd (SPEC §7): thin sd_notify wrappers that
 * libsystemd turns into no-ops when $NOTIFY_SOCKET is unset. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

/* The watchdog interval read at start; 0 when there is no watchdog. */
static uint64_t notify_wd_usec;

void notify_init(void)
{
    uint64_t usec = 0;

    /* unset_environment = 0: a child we never fork would not inherit it
     * anyway, and keeping it lets a reload re-read the same values. */
    if (sd_watchdog_enabled(0, &usec) > 0)
        notify_wd_usec = usec;
    else
        notify_wd_usec = 0;
}

uint64_t notify_watchdog_usec(void)
{
    return notify_wd_usec;
}

void notify_ready(void)
{
    sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
    struct timespec ts;
    unsigned long long usec;

    /* systemd 253+ (Type=notify-reload) wants MONOTONIC_USEC beside
     * RELOADING=1 to tell this reload from an older one; 252 ignores it. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    usec = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

void notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void notify_watchdog(void)
{
    sd_notify(0, "WATCHDOG=1");
}

void notify_extend_timeout(uint64_t usec)
{
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long)usec);
}

void notify_status(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One line: a newline would start another assignment. */
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    sd_notifyf(0, "STATUS=%s", line);
}
