/* Test-only failpoints: with VETD_FAILPOINTS defined, $VETD_FAILPOINT
 * ("name" or "name:arg") makes vetd crash or stall at one chosen step;
 * in a shipped build every check is a constant false. */
#ifndef VETD_FAILPOINT_H
#define VETD_FAILPOINT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef VETD_FAILPOINTS
/* Read $VETD_FAILPOINT once at start. */
void failpoint_init(void);
/* Is the named failpoint armed? */
bool failpoint_on(const char *name);
/* The armed failpoint's argument ("" when none). */
const char *failpoint_arg(void);
/* Crash the process at once, like kill -9 would (no cleanup, no flush). */
void failpoint_crash(const char *name) __attribute__((noreturn));
#else
static inline void failpoint_init(void)
{
}
static inline bool failpoint_on(const char *name)
{
    (void)name;
    return false;
}
static inline const char *failpoint_arg(void)
{
    return "";
}
static inline void failpoint_crash(const char *name)
{
    (void)name;
}
#endif

#endif
