/* Times as vetd writes them (RFC 3339 UTC, milliseconds) and checks them. */
#ifndef VETD_TIMEFMT_H
#define VETD_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 24 /* 2026-11-28T14:16:16.123Z */

/* Milliseconds since the epoch, from the real-time clock. */
int64_t timefmt_now_ms(void);
/* Format ms since the epoch as 2026-11-28T14:16:16.123Z. */
void timefmt_format(int64_t ms, char out[TIMEFMT_LEN + 1]);
/* Is s (n bytes) an RFC 3339 date-time with upper-case T and Z or an offset? */
bool timefmt_rfc3339_valid(const char *s, size_t n);

#endif
