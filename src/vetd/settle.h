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

#define SETTLE_MAX_ARGS 10 /* the 'A' group of the settle Function */
#define SETTLE_MAX_KEYS 5
/* keys[SETTLE_STAGE_KEY] of an accepted item: P stage:<instance>:<digest>. */
#define SETTLE_STAGE_KEY 4
/* Lifetime of a staging hash: it is written right before the settle call
 * that consumes it, so this only bounds what a crash in between leaves (a
 * copy of the application, personal data included). Short is safe: a
 * settle that finds its staging gone answers restage and vetd stages
 * again. */
#define SETTLE_STAGE_TTL_MS 60000
/* The fields of P app:<id> (SPEC §2), all written by the staging HSET. */
#define SETTLE_APP_FIELDS 17

struct settle_item {
    char *raw; /* owned copy of the item, byte-for-byte */
    size_t len;
    char digest[HASH_HEX_LEN + 1];
    bool accept;         /* an application to store, else a dead letter */
    const char *outcome; /* "qualified", "not_qualified" or a rejection code */
    char *id, *role;     /* accepted only (for the log context) */
    int score;           /* -1 when rejected */
    bool done;           /* settled (or stale): left out of a re-sent call */
    /* Accepted only: the application hash, field and value pairs, for the
     * staging hash (values owned, except profile = raw). */
    const char *app[2 * SETTLE_APP_FIELDS];
    size_t app_lens[2 * SETTLE_APP_FIELDS];
    int napp; /* fields put so far */
    char *app_owned[SETTLE_APP_FIELDS];
    int napp_owned;
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

/* An accepted application does not travel through the settle Function
 * (Redis's Lua hashes every byte of every string it sees): it is written
 * whole, profile and analysis included, with plain commands into the
 * item's staging hash just before the call, `HSET stage field value ...`
 * and `PEXPIRE stage TTL`, which the settle Function renames into
 * P app:<id>. Fills st with both commands and returns 2, or 0 when the item
 * needs no staging (rejected, or done). The argv point into it and st, so
 * they live as long as both. */
struct settle_stage {
    int hset_argc;
    const char *hset[2 + 2 * SETTLE_APP_FIELDS];
    size_t hset_lens[2 + 2 * SETTLE_APP_FIELDS];
    const char *pexpire[3];
    char ttl[16];
};
int settle_stage_cmds(const struct settle_item *it, struct settle_stage *st);

#define SETTLE_FIXED_KEYS 6

/* The argv of one FCALL settle for the items of items[0..n) that are not
 * done: pointers into items and into fixed_keys (processing, deliveries,
 * dead, dead:seq, notifications, roles), so they live as long as those.
 * fn is the Function's full name. settle_call_free() releases it (not the
 * strings it points to). */
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
