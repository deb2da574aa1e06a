/* The Redis side of `scripts/bench e2e` alone: the same take and settle
 * Function calls vetd makes, each settle preceded by the same staging
 * commands (HSET + PEXPIRE per accepted item), with the same argument
 * shapes (built by vetd's own settle.c), in vetd's order and pipeline
 * depth (the next take as soon as a take answers, then that batch's
 * staging and settle; at most three batches in hand), issued by a minimal
 * client whose analyses were all computed before the clock starts. Its
 * throughput is the ceiling vetd is measured against. Any settle answer
 * other than accepted or dead (restage, stale, duplicate) is an error:
 * that would be work vetd does not do.
 *
 * With --floor it instead measures what no design can avoid: per batch one
 * `RPOP submissions BATCH`, then for every item only what the contract
 * makes Redis store, each in one plain command: `HSET P app:<id>` with all
 * the fields of SPEC §2 (profile and analysis included) and, when
 * qualified, `LPUSH P notifications <envelope>` (§6); for a rejected item
 * `HSET P dead:<n>` with its payload. No fence, no delivery count, no
 * history, no index, no Function: a lower bound on the Redis cost of any
 * implementation of the contract, against which the ceiling is compared.
 *
 * usage: bench_e2e_ceiling [--floor] SOCKET PREFIX CORPUS ROLES_DIR BATCH
 *
 * CORPUS holds one submission per line, in the order they were pushed
 * (LPUSH), so the take hands them back in that order. Prints one JSON
 * object: settled, accepted, dead, seconds, per_second. */
#include <hiredis/hiredis.h>
#include <malloc.h>
#include <stdbool.h>
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
        redisAppendCommandArgv(rc, st.hset_argc, st.hset, st.hset_lens);
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

/* Send everything appended so far. redisGetReply only writes when no
 * answer is buffered yet, which would leave a take or a settle sitting in
 * the client while Redis idles. Redis buffers its answers, so a blocking
 * write cannot wait on our reading. */
static void flush(redisContext *rc)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite(rc, &done) != REDIS_OK)
            die("redis", rc->errstr);
}

/* Touch and free mb MiB, so that the memory Redis grows into next is
 * backed by the host (in a VM that returns freed pages to the host, a
 * first touch costs a host fault, charged to Redis as system time). The
 * benchmark does the same before starting vetd. */
#define WARM_MB 2048
static void warm_pages(size_t mb)
{
    size_t len = mb << 20;
    volatile char *p = malloc(len);
    if (p == NULL)
        return;
    for (size_t i = 0; i < len; i += 4096)
        p[i] = 1;
    free((void *)p);
}

/* Like vetd's INTAKE_MAX_BATCHES: batches taken and not settled, a take in
 * flight included. */
#define MAX_BATCHES 3

/* The answers still to read, in the order Redis sends them. */
enum pending_kind { PENDING_TAKE, PENDING_SETTLE };
struct pending {
    enum pending_kind kind;
    size_t off; /* settle: the batch's first item */
    int n;      /* settle: its items */
    int staged; /* settle: the staging answers before its own */
};
#define MAX_PENDING (2 * MAX_BATCHES)

struct ceiling {
    redisContext *rc;
    const char *take_fn, *settle_fn, *batch;
    char **take_keys, **settle_keys;
    struct settle_item *items;
    size_t nitems;
    struct pending q[MAX_PENDING];
    int head, len;
    int in_hand;        /* batches taken and not settled, the take in flight included */
    bool take_inflight; /* one at a time, as vetd */
    bool queue_empty;   /* a take came back short */
    size_t taken, settled, accepted, dead;
};

static void push_pending(struct ceiling *cl, enum pending_kind kind, size_t off, int n, int staged)
{
    if (cl->len == MAX_PENDING)
        die("pipeline", "too many answers pending");
    cl->q[(cl->head + cl->len++) % MAX_PENDING] = (struct pending){kind, off, n, staged};
}

static void send_take(struct ceiling *cl)
{
    append_take(cl->rc, cl->take_fn, cl->take_keys, cl->batch);
    push_pending(cl, PENDING_TAKE, 0, 0, 0);
    cl->take_inflight = true;
    cl->in_hand++;
}

static void maybe_take(struct ceiling *cl)
{
    if (!cl->queue_empty && !cl->take_inflight && cl->in_hand < MAX_BATCHES)
        send_take(cl);
}

/* A take's answer {too_large, poison, item, digest, ...}: like vetd, the
 * next take goes out first, then this batch's staging and settle call. */
static void on_take(struct ceiling *cl, redisReply *take)
{
    cl->take_inflight = false;
    if (take->type != REDIS_REPLY_ARRAY || take->elements < LUALIB_TAKE_HEADER)
        die("take", "unexpected answer");
    if (take->element[0]->integer != 0 || take->element[1]->integer != 0 ||
        take->element[2]->integer != 0)
        die("take", "diverted or deferred items");
    int n = (int)((take->elements - LUALIB_TAKE_HEADER) / 2);
    cl->queue_empty = n < atoi(cl->batch);
    if (cl->taken + (size_t)n > cl->nitems)
        die("take", "more items than the corpus holds");
    for (int i = 0; i < n; i++)
        if (strcmp(take->element[LUALIB_TAKE_HEADER + 2 * i + 1]->str,
                   cl->items[cl->taken + (size_t)i].digest) != 0)
            die("take", "items came back out of order");
    if (n == 0) {
        cl->in_hand--;
        return;
    }
    maybe_take(cl);
    int staged = append_settle(cl->rc, cl->settle_fn, cl->settle_keys, &cl->items[cl->taken], n);
    push_pending(cl, PENDING_SETTLE, cl->taken, n, staged);
    cl->taken += (size_t)n;
}

/* A settle's answers: every item must be settled by this one call (no
 * restage, stale or duplicate: those would be work vetd does not do). */
static void on_settle(struct ceiling *cl, redisReply *r, size_t off, int n)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)n)
        die("settle", "unexpected answer");
    for (int i = 0; i < n; i++) {
        const char *a = r->element[i]->str;
        if (a == NULL)
            die("settle", "unexpected answer");
        if (strcmp(a, "accepted") == 0)
            cl->accepted++;
        else if (strcmp(a, "dead") == 0)
            cl->dead++;
        else
            die("settle answered", a);
        settle_item_free(&cl->items[off + (size_t)i]);
    }
    cl->settled += (size_t)n;
    cl->in_hand--;
    maybe_take(cl);
}

static void run(struct ceiling *cl)
{
    send_take(cl);
    flush(cl->rc);
    while (cl->len > 0) {
        struct pending p = cl->q[cl->head];
        cl->head = (cl->head + 1) % MAX_PENDING;
        cl->len--;
        for (int i = 0; p.kind == PENDING_SETTLE && i < p.staged; i++)
            freeReplyObject(next_reply(cl->rc));
        redisReply *r = next_reply(cl->rc);
        if (p.kind == PENDING_TAKE)
            on_take(cl, r);
        else
            on_settle(cl, r, p.off, p.n);
        freeReplyObject(r);
        flush(cl->rc);
    }
}

/* The floor's commands for one item (see the top): one HSET of the whole
 * application (or dead letter) and, when qualified, the job's LPUSH.
 * Returns how many commands it appended. */
static int append_store(redisContext *rc, const char *prefix, struct settle_item *it, size_t seq)
{
    if (!it->accept) {
        char *key = xasprintf("%sdead:%zu", prefix, seq);
        const char *argv[] = {"HSET",      key,      "reason",   it->args[3], "detail",
                              it->args[4], "digest", it->digest, "payload",   it->raw};
        size_t lens[] = {4, strlen(key),        6, it->lens[3], 6, it->lens[4],
                         6, strlen(it->digest), 7, it->len};
        redisAppendCommandArgv(rc, 10, argv, lens);
        free(key);
        return 1;
    }
    /* The application hash exactly as vetd stages it, under its own key. */
    struct settle_stage st;
    settle_stage_cmds(it, &st);
    st.hset[1] = it->keys[0];
    st.hset_lens[1] = strlen(it->keys[0]);
    redisAppendCommandArgv(rc, st.hset_argc, st.hset, st.hset_lens);
    /* args: 'A' raw digest id role state score history email_sha1 envelope */
    if (it->lens[9] == 0)
        return 1;
    char *notifications = keys_notifications(prefix);
    const char *lp[] = {"LPUSH", notifications, it->args[9]};
    size_t lplens[] = {5, strlen(notifications), it->lens[9]};
    redisAppendCommandArgv(rc, 3, lp, lplens);
    free(notifications);
    return 2;
}

/* The floor: batches of RPOP + stores, at most MAX_BATCHES unanswered. */
static void run_floor(redisContext *rc, const char *prefix, struct settle_item *items, size_t n,
                      int batch)
{
    char *submissions = keys_submissions(prefix);
    char count[16];
    snprintf(count, sizeof count, "%d", batch);
    int answers[MAX_BATCHES]; /* replies per batch in flight */
    int head = 0, inflight = 0;
    size_t next = 0, dead = 0;
    while (next < n || inflight > 0) {
        if (next < n && inflight < MAX_BATCHES) {
            const char *rpop[] = {"RPOP", submissions, count};
            redisAppendCommandArgv(rc, 3, rpop, NULL);
            int k = 1;
            for (int i = 0; i < batch && next < n; i++, next++) {
                k += append_store(rc, prefix, &items[next], dead);
                dead += !items[next].accept;
            }
            answers[(head + inflight++) % MAX_BATCHES] = k;
            flush(rc);
            continue;
        }
        for (int i = 0; i < answers[head]; i++)
            freeReplyObject(next_reply(rc));
        head = (head + 1) % MAX_BATCHES;
        inflight--;
    }
    free(submissions);
}

int main(int argc, char **argv)
{
    bool floor_mode = argc > 1 && strcmp(argv[1], "--floor") == 0;
    if (floor_mode) {
        argc--;
        argv++;
    }
    if (argc != 6) {
        fprintf(stderr,
                "usage: bench_e2e_ceiling [--floor] SOCKET PREFIX CORPUS ROLES_DIR BATCH\n");
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
        free(c.doc[i]); /* the item holds its own copy */
    }
    free(c.doc);
    free(c.len);
    /* Give the freed memory back before Redis starts growing, and hand it
     * pages that are backed already (see warm_pages). */
    malloc_trim(0);
    warm_pages(WARM_MB);

    redisContext *rc = redisConnectUnix(sock);
    if (rc == NULL || rc->err)
        die(sock, rc ? rc->errstr : "cannot connect");
    if (floor_mode) {
        size_t accepted = 0;
        for (size_t i = 0; i < c.n; i++)
            accepted += items[i].accept;
        double t0 = mono_s();
        run_floor(rc, prefix, items, c.n, atoi(batch));
        double secs = mono_s() - t0;
        printf("{\"settled\": %zu, \"accepted\": %zu, \"dead\": %zu, \"seconds\": %.6f, "
               "\"per_second\": %.1f}\n",
               c.n, accepted, c.n - accepted, secs, secs > 0 ? (double)c.n / secs : 0.0);
        for (size_t i = 0; i < c.n; i++)
            settle_item_free(&items[i]);
        free(items);
        redisFree(rc);
        roleset_free(roles);
        return 0;
    }
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
     * The calls go out as vetd sends them: the next take as soon as a take
     * answers, then that batch's staging and settle call, at most
     * MAX_BATCHES batches in hand; Redis always has the next call queued
     * while the client reads an answer. */
    struct ceiling cl = {.rc = rc,
                         .take_fn = take_fn,
                         .settle_fn = settle_fn,
                         .batch = batch,
                         .take_keys = take_keys,
                         .settle_keys = settle_keys,
                         .items = items,
                         .nitems = c.n};
    double t0 = mono_s();
    run(&cl);
    double secs = mono_s() - t0;
    if (cl.settled != c.n)
        die("ceiling", "did not settle the whole corpus");
    printf("{\"settled\": %zu, \"accepted\": %zu, \"dead\": %zu, \"seconds\": %.6f, "
           "\"per_second\": %.1f}\n",
           cl.settled, cl.accepted, cl.dead, secs, secs > 0 ? (double)cl.settled / secs : 0.0);

    redisFree(rc);
    for (int i = 0; i < 7; i++)
        free(keys[i]);
    free(items);
    roleset_free(roles);
    return 0;
}
