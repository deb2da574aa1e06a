/* Capped exponential backoff with equal jitter (see backoff.h). */
#include "backoff.h"

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->cap_ms = cap_ms > 0 ? cap_ms : 1;
    b->attempt = 0;
}

void backoff_reset(struct backoff *b)
{
    b->attempt = 0;
}

/* min(cap, base * 2^attempt) without overflow: double only while the
 * result stays below the cap. */
static int64_t backoff_step(const struct backoff *b, int *capped)
{
    int64_t d = b->base_ms;

    for (unsigned i = 0; i < b->attempt && d < b->cap_ms; i++)
        d = d > b->cap_ms / 2 ? b->cap_ms : d * 2;
    *capped = d >= b->cap_ms;
    return d < b->cap_ms ? d : b->cap_ms;
}

int64_t backoff_next(struct backoff *b, uint64_t rnd)
{
    int capped;
    int64_t d = backoff_step(b, &capped);
    int64_t lo = d / 2;

    if (!capped)
        b->attempt++;
    return lo + (int64_t)(rnd % (uint64_t)(d - lo + 1));
}
