/* The Redis side of `scripts/bench e2e` alone: the same take and settle
 * Function calls vetd makes, each settle preceded by the same staging
 * commands (HSET + PEXPIRE per accepted item), with the same argument
 * shapes (built by
 * vetd's own settle.c), issued by a minimal pipelined client whose
 * analyses were all computed before the clock starts. Its throughput is
 * the ceiling vetd is measured against.
 *
 * usage: bench_e2e_ceiling SOCKET PREFIX CORPUS ROLES_DIR BATCH
 *
 * CORPUS holds one submission per line, in the order they were pushed
 * (LPUSH), so the take hands them back in that order. Prints one JSON
 * object: settled, accepted, dead, seconds, per_second. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "lualib.h"
#include "role.h"
#include "timefmt.h"
#include "vetd/settle.c"
#include "xmalloc.h"

#define MAX_PAYLOAD 262144
#define MAX_DELIVERIES 5
#define INSTANCE "ceiling"

struct corpus {
    char **doc;
    size_t *len;
    size_t n;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_e2e_ceiling: %s: %s\n", what, why);
    exit(1);
}

static void corpus_read(struct corpus *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path, "cannot open");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t got;
    memset(c, 0, sizeof *c);
    while ((got = getline(&line, &cap, f)) > 0) {
        if (line[got - 1] == '\n')
            line[--got] = '\0';
        if (c->n == alloc) {
            alloc = alloc ? 2 * alloc : 1024;
            c->doc = xreallocarray(c->doc, alloc, sizeof *c->doc);
            c->len = xreallocarray(c->len, alloc, sizeof *c->len);
        }
        c->doc[c->n] = xstrndup(line, (size_t)got);
        c->len[c->n] = (size_t)got;
        c->n++;
    }
    free(line);
    fclose(f);
}

static redisReply *command(redisContext *rc, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(rc, argc, argv, lens);
    if (r == NULL)
        die("redis", rc->errstr);
    return r;
}

/* Load the Functions library unless this server has it already. */
static void functions_load(redisContext *rc)
{
    const char *load[] = {"FUNCTION", "LOAD", lualib_source};
    redisReply *r = command(rc, 3, load, NULL);
    if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "already exists") == NULL)
        die("FUNCTION LOAD", r->str);
    freeReplyObject(r);
}

static void append_take(redisContext *rc, const char *fn, char *const keys[5], const char *batch)
{
    char maxb[32], maxd[32], now[TIMEFMT_LEN + 1];
    snprintf(maxb, sizeof maxb, "%d", MAX_PAYLOAD);
    snprintf(maxd, sizeof maxd, "%d", MAX_DELIVERIES);
    timefmt_format(timefmt_now_ms(), now);
    const char *argv[] = {"FCALL", fn,    "5",  keys[0], keys[1], keys[2], keys[3],
                          keys[4], batch, maxb, maxd,    now,     INSTANCE};
    redisAppendCommandArgv(rc, 13, argv, NULL);
}

/* Like vetd: the staging commands of every accepted item, then the settle
 * call. Returns how many staging replies come before the settle's. */
static int append_settle(redisContext *rc, const char *fn, char *const fixed[SETTLE_FIXED_KEYS],
                         struct settle_item *items, int n)
{
    int staged = 0;
    for (int i = 0; i < n; i++) {
        struct settle_stage st;
        if (settle_stage_cmds(&items[i], &st) == 0)
            continue;
        redisAppendCommandArgv(rc, 4, st.hset, st.hset_lens);
        redisAppendCommandArgv(rc, 3, st.pexpire, NULL);
        staged += 2;
    }
    char now[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), now);
    struct settle_call call;
    settle_call_build(&call, fn, fixed, now, INSTANCE, items, n);
    redisAppendCommandArgv(rc, call.argc, call.argv, call.lens);
    settle_call_free(&call);
    return staged;
}

static redisReply *next_reply(redisContext *rc)
{
    void *r = NULL;
    if (redisGetReply(rc, &r) != REDIS_OK || r == NULL)
        die("redis", rc->errstr);
    redisReply *reply = r;
    if (reply->type == REDIS_REPLY_ERROR)
        die("function call", reply->str);
    return reply;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_e2e_ceiling SOCKET PREFIX CORPUS ROLES_DIR BATCH\n");
        return 64;
    }
    const char *sock = argv[1], *prefix = argv[2], *batch = argv[5];
    char *cause = NULL;
    struct roleset *roles = roleset_load(argv[4], &cause);
    if (roles == NULL)
        die(argv[4], cause);
    struct corpus c;
    corpus_read(&c, argv[3]);

    /* Outside the clock: validate and score every profile once, into the
     * settle arguments vetd would send for it. */
    struct settle_ctx ctx = {roles, prefix, INSTANCE, "vetd bench", MAX_PAYLOAD};
    char received[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), received);
    struct settle_item *items = xcalloc(c.n, sizeof *items);
    for (size_t i = 0; i < c.n; i++) {
        char digest[HASH_HEX_LEN + 1];
        hash_sha1_hex(c.doc[i], c.len[i], digest);
        settle_prepare(&items[i], c.doc[i], c.len[i], digest, &ctx, received);
    }

    redisContext *rc = redisConnectUnix(sock);
    if (rc == NULL || rc->err)
        die(sock, rc ? rc->errstr : "cannot connect");
    functions_load(rc);
    char take_fn[128], settle_fn[128];
    snprintf(take_fn, sizeof take_fn, "%s_take", lualib_name);
    snprintf(settle_fn, sizeof settle_fn, "%s_settle", lualib_name);
    char *keys[7] = {keys_submissions(prefix), keys_processing(prefix, INSTANCE),
                     keys_deliveries(prefix),  keys_dead(prefix),
                     keys_dead_seq(prefix),    keys_notifications(prefix),
                     keys_roles(prefix)};
    char *take_keys[5] = {keys[0], keys[1], keys[2], keys[3], keys[4]};
    char *settle_keys[SETTLE_FIXED_KEYS] = {keys[1], keys[2], keys[3], keys[4], keys[5], keys[6]};

    /* The clock runs from the first take to the last settle's answer.
     * Each settle goes out together with the next take, so Redis always
     * has the next call queued while the client reads an answer. */
    size_t off = 0, accepted = 0, dead = 0;
    double t0 = mono_s();
    append_take(rc, take_fn, take_keys, batch);
    for (;;) {
        /* The take answers {too_large, poison, item, digest, ...}. */
        redisReply *take = next_reply(rc);
        if (take->type != REDIS_REPLY_ARRAY || take->elements < 2)
            die("take", "unexpected answer");
        int n = (int)((take->elements - 2) / 2);
        if (n == 0) {
            freeReplyObject(take);
            break;
        }
        if (off + (size_t)n > c.n)
            die("take", "more items than the corpus holds");
        for (int i = 0; i < n; i++)
            if (strcmp(take->element[2 + 2 * i + 1]->str, items[off + (size_t)i].digest) != 0)
                die("take", "items came back out of order");
        freeReplyObject(take);
        int staged = append_settle(rc, settle_fn, settle_keys, &items[off], n);
        append_take(rc, take_fn, take_keys, batch);
        while (staged-- > 0)
            freeReplyObject(next_reply(rc));
        redisReply *settled = next_reply(rc);
        for (size_t i = 0; i < settled->elements; i++) {
            const char *a = settled->element[i]->str;
            accepted += strcmp(a, "accepted") == 0;
            dead += strcmp(a, "dead") == 0 || strcmp(a, "id_conflict") == 0;
        }
        freeReplyObject(settled);
        off += (size_t)n;
    }
    double secs = mono_s() - t0;
    printf("{\"settled\": %zu, \"accepted\": %zu, \"dead\": %zu, \"seconds\": %.6f, "
           "\"per_second\": %.1f}\n",
           off, accepted, dead, secs, secs > 0 ? (double)off / secs : 0.0);

    redisFree(rc);
    for (int i = 0; i < 7; i++)
        free(keys[i]);
    for (size_t i = 0; i < c.n; i++) {
        settle_item_free(&items[i]);
        free(c.doc[i]);
    }
    free(items);
    free(c.doc);
    free(c.len);
    roleset_free(roles);
    return 0;
}
