/* systemd notification (sd_notify): readiness, status, watchdog, reload,
 * stop. Every call is a no-op without $NOTIFY_SOCKET. */
#ifndef VETD_NOTIFY_H
#define VETD_NOTIFY_H

#include <stdint.h>

/* Read $WATCHDOG_USEC (via sd_watchdog_enabled). */
void notify_init(void);
/* The watchdog interval in microseconds, 0 when there is no watchdog. */
uint64_t notify_watchdog_usec(void);
void notify_ready(void);
void notify_reloading(void); /* RELOADING=1 + MONOTONIC_USEC */
void notify_stopping(void);
void notify_watchdog(void);
void notify_extend_timeout(uint64_t usec);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
