/* Turning one taken item into its settlement: validate, score, and build
 * the arguments of the settle Function (the app fields, the history event
 * and the candidate.qualified envelope as ready JSON text, or the dead
 * letter). Pure: no Redis, no event loop. */
#ifndef VETD_SETTLE_H
#define VETD_SETTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct roleset;

/* What every item of one daemon needs. All borrowed. */
struct settle_ctx {
    const struct roleset *roles;
    const char *prefix;
    const char *instance;
    const char *scored_by; /* "vetd 0.1.0" */
    size_t max_payload_bytes;
};

#define SETTLE_MAX_ARGS 17 /* the 'A' group of the settle Function */
#define SETTLE_MAX_KEYS 4

struct settle_item {
    char *raw; /* owned copy of the item, byte-for-byte */
    size_t len;
    char digest[HASH_HEX_LEN + 1];
    bool accept;         /* an application to store, else a dead letter */
    const char *outcome; /* "qualified", "not_qualified" or a rejection code */
    char *id, *role;     /* accepted only (for the log context) */
    int score;           /* -1 when rejected */
    int nargs;
    char *args[SETTLE_MAX_ARGS]; /* owned, except args[1] which is raw */
    size_t lens[SETTLE_MAX_ARGS];
    int nkeys;
    char *keys[SETTLE_MAX_KEYS]; /* owned */
    int64_t taken_mono_us;       /* when the take answered, for the histogram */
};

/* Validate and score raw (len bytes, digest from the take) received at
 * received_at (RFC 3339 ms); fill it. Never fails: a bad item becomes a
 * dead letter. */
void settle_prepare(struct settle_item *it, const char *raw, size_t len, const char *digest,
                    const struct settle_ctx *ctx, const char *received_at);
void settle_item_free(struct settle_item *it);

#define SETTLE_FIXED_KEYS 6

/* The argv of one FCALL settle for n items: pointers into items and into
 * fixed_keys (processing, deliveries, dead, dead:seq, notifications,
 * roles), so
 * they live as long as those. fn is the Function's full name. Caller
 * frees argv and lens (not the strings). */
struct settle_call {
    int argc;
    const char **argv;
    size_t *lens;
};
void settle_call_build(struct settle_call *call, const char *fn,
                       char *const fixed_keys[SETTLE_FIXED_KEYS], const char *now,
                       const char *instance, struct settle_item *items, int n);
void settle_call_free(struct settle_call *call);

#endif
