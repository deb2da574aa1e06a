/* Capped exponential backoff with jitter, for reconnecting to Redis. */
#ifndef VETD_BACKOFF_H
#define VETD_BACKOFF_H

#include <stdint.h>

/* The schedule: attempt n (0, 1, 2, ...) waits a delay chosen in [d/2, d]
 * where d = min(cap_ms, base_ms * 2^n) ("equal jitter": never less than
 * half the step, so a herd of clients spreads out but none hammers the
 * server). With base 100 and cap 5000: 50-100, 100-200, 200-400, 400-800,
 * 800-1600, 1600-3200, then 2500-5000 for ever. The attempt counter stops
 * growing once d reaches the cap, so it never overflows. cap_ms may be
 * changed between calls (reconnect_max_ms is reloadable). */
struct backoff {
    int64_t base_ms; /* > 0 */
    int64_t cap_ms;  /* >= 1; a cap below base_ms makes every step the cap */
    unsigned attempt;
};

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms);
/* The next delay in ms; rnd is any random number (the jitter), so the
 * result is deterministic for tests. Advances the attempt counter. */
int64_t backoff_next(struct backoff *b, uint64_t rnd);
/* Start again from base_ms (after a successful connect). */
void backoff_reset(struct backoff *b);

#endif
