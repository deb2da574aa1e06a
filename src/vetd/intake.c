/* Intake: wait, take, score, settle (see intake.h).
 *
 * Exactly-once settlement rests on one invariant: an item is in exactly
 * one of `P submissions`, `P processing:<instance>`, or settled (an app or
 * a dead letter), and every move between them is one Function call. The
 * take moves items into the processing list before vetd sees them, so a
 * crash at any point leaves them there, to be returned to the queue by
 * this instance's next life or reclaimed by another instance once the
 * heartbeat expires. Every settlement first removes its item from the
 * processing list (LREM) and does nothing when that removes nothing, so a
 * settlement that arrives twice (a reply lost with the connection, then
 * re-sent) or late (after a reclaim) is answered `stale` and is harmless.
 * Duplicates that did get through twice (re-taken after a crash) are
 * caught by the application's id and digest.
 *
 * So on every (re)connect: re-send the settlement of every batch in hand
 * (the fence makes that safe whether or not the first one landed), then,
 * if a take's answer was lost, return whatever is left in the processing
 * list to the queue (those items are in nobody's hands), then take again.
 * Redis's own trouble (-LOADING, -BUSY, -OOM, -READONLY...) never turns an
 * item into a dead letter: the batch stays in hand and is re-sent later.
 *
 * An accepted application does not travel through the Function: the
 * whole hash (profile and analysis included) is written into a staging
 * hash (`HSET P stage:<instance>:<digest>` and `PEXPIRE`) on the main
 * connection just before the settle call, which renames it into
 * `P app:<id>`. A settle that finds no staging hash writes
 * nothing for that item and answers `restage`; the item stays in hand and
 * is staged and sent again. Staging adds no state outside the invariant:
 * the staging hash is only a carrier, and the fence still decides.
 *
 * The pipeline: while takes come back full, the next take is sent as soon
 * as a take answers, before that batch is scored, so Redis settles and
 * takes while vetd scores; at most INTAKE_MAX_BATCHES are in hand. A
 * short take means the queue is empty, and the next step is the wake-up
 * wait on the blocking connection (BLMOVE that moves nothing).
 */
#include "intake.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "backoff.h"
#include "conn.h"
#include "failpoint.h"
#include "instance.h"
#include "log.h"
#include "lualib.h"
#include "metrics.h"
#include "settle.h"
#include "timefmt.h"
#include "vetd.h"
#include "xmalloc.h"

/* Batches taken and not yet settled, counting a take in flight: one being
 * settled by Redis, one being scored, and the next one already on its way,
 * so that Redis and the scoring work at the same time (see intake_kick). */
#define INTAKE_MAX_BATCHES 3

struct batch {
    TAILQ_ENTRY(batch) link;
    struct intake *in;
    int n;
    struct settle_item *items;
    bool sent;     /* the settle call is in flight */
    bool stalled;  /* failpoint stall_before_settle */
    int failures;  /* errors that were not Redis's fault */
    bool unstaged; /* failpoint lose_stage: the first send skipped staging */
};

struct intake_counts {
    unsigned long long taken, qualified, not_qualified, duplicate, dead, stale;
};

struct intake {
    struct vetd *v;
    TAILQ_HEAD(, batch) batches;
    int nbatches;
    bool active; /* the name is ours and we are not stopping */
    bool stopping;
    bool take_inflight, wait_inflight, requeue_inflight, replicas_inflight;
    bool need_requeue;  /* a take's answer was lost, or we just started */
    bool queue_empty;   /* the last take came back short: wait, do not take */
    bool replica_stall; /* too few replicas acknowledged: take nothing */
    bool error_logged;
    struct event *retry_ev;
    struct backoff backoff;
    struct event *stall_ev;
    struct intake_counts total, period;
};

static void intake_kick(struct intake *in);
static void intake_start_wait(struct intake *in);
static void intake_send_take(struct intake *in);
static bool intake_may_take(const struct intake *in);

static void intake_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    intake_kick(arg);
}

static void intake_on_stall(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct intake *in = arg;
    struct batch *b;
    TAILQ_FOREACH(b, &in->batches, link)
    {
        b->stalled = false;
    }
    intake_kick(in);
}

struct intake *intake_new(struct vetd *v)
{
    struct intake *in = xcalloc(1, sizeof *in);
    in->v = v;
    TAILQ_INIT(&in->batches);
    in->retry_ev = evtimer_new(v->base, intake_on_retry, in);
    in->stall_ev = evtimer_new(v->base, intake_on_stall, in);
    backoff_init(&in->backoff, 100, v->cfg.reconnect_max_ms);
    in->need_requeue = true; /* a previous life may have left items */
    return in;
}

static void intake_batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        settle_item_free(&b->items[i]);
    free(b->items);
    free(b);
}

static void intake_batch_remove(struct intake *in, struct batch *b)
{
    TAILQ_REMOVE(&in->batches, b, link);
    in->nbatches--;
    intake_batch_free(b);
}

void intake_free(struct intake *in)
{
    if (in == NULL)
        return;
    struct batch *b;
    while ((b = TAILQ_FIRST(&in->batches)) != NULL)
        intake_batch_remove(in, b);
    event_free(in->retry_ev);
    event_free(in->stall_ev);
    free(in);
}

bool intake_idle(const struct intake *in)
{
    return in->nbatches == 0 && !in->take_inflight && !in->requeue_inflight;
}

bool intake_stuck(const struct intake *in)
{
    const struct vetd *v = in->v;
    if (!in->active || !conn_is_up(v->main) || !conn_is_up(v->wait))
        return false; /* starting, stopping, or a visible reconnect */
    return !in->wait_inflight && intake_idle(in) && !in->replica_stall && !in->replicas_inflight &&
           !evtimer_pending(in->retry_ev, NULL);
}

unsigned long long intake_scored(const struct intake *in)
{
    return in->total.qualified + in->total.not_qualified;
}

unsigned long long intake_dead(const struct intake *in)
{
    return in->total.dead;
}

/* Retry after a capped, jittered pause (Redis trouble or a lost answer). */
static void intake_retry_later(struct intake *in)
{
    if (evtimer_pending(in->retry_ev, NULL))
        return;
    in->backoff.cap_ms = in->v->cfg.reconnect_max_ms;
    long long ms = (long long)backoff_next(&in->backoff, (uint64_t)random());
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(in->retry_ev, &tv);
}

/* An error answer to one of our calls: reconnect when the Functions are
 * gone or the server turned replica, otherwise retry later. Logged once
 * per streak of errors. */
static void intake_on_error(struct intake *in, const char *what, const char *err)
{
    if (!in->error_logged) {
        log_warning("%s failed (will retry): %s", what, err);
        in->error_logged = true;
    }
    if (vetd_error_no_function(err) || strncmp(err, "READONLY", 8) == 0)
        conn_drop(in->v->main, err);
    else
        intake_retry_later(in);
}

static void intake_success(struct intake *in)
{
    if (in->error_logged)
        log_notice("intake recovered");
    in->error_logged = false;
    backoff_reset(&in->backoff);
}

static void intake_check_drained(struct intake *in)
{
    if (in->stopping && intake_idle(in))
        vetd_drained(in->v);
}

/* One settled item: count it, observe it, and log it at debug only (the
 * context carries the id, never the candidate's name or address). */
static void intake_account(struct intake *in, struct settle_item *it, const char *answer)
{
    const char *outcome = it->outcome;
    if (strcmp(answer, "stale") == 0) {
        in->total.stale++;
        in->period.stale++;
        log_info("settlement was stale (already settled or reclaimed) digest=%s", it->digest);
        return;
    }
    if (strcmp(answer, "duplicate") == 0)
        outcome = "duplicate";
    else if (strcmp(answer, "id_conflict") == 0)
        outcome = "id_conflict";
    if (strcmp(answer, "accepted") == 0) {
        bool q = strcmp(outcome, "qualified") == 0;
        (*(q ? &in->total.qualified : &in->total.not_qualified))++;
        (*(q ? &in->period.qualified : &in->period.not_qualified))++;
    } else if (strcmp(outcome, "duplicate") == 0) {
        in->total.duplicate++;
        in->period.duplicate++;
    } else {
        in->total.dead++;
        in->period.dead++;
    }
    metrics_count_outcome(in->v->metrics, outcome);
    metrics_observe_processing(in->v->metrics, (double)(vetd_mono_us() - it->taken_mono_us) / 1e6);
    if (log_enabled(CFG_LOG_DEBUG)) {
        struct log_ctx ctx = {it->id, it->role, outcome, it->score};
        log_msg(CFG_LOG_DEBUG, &ctx, "settled digest=%s", it->digest);
    }
}

/* Dead letters the take Function made itself (too_large, poison): they
 * count as outcomes and in STATUS= like those of a settlement. The log
 * line carries no OUTCOME field: that field means "vetd processed this
 * item", and these items never reached vetd. */
static void intake_count_diverted(struct intake *in, const char *outcome, long long n)
{
    for (long long i = 0; i < n; i++)
        metrics_count_outcome(in->v->metrics, outcome);
    if (n > 0) {
        in->total.dead += (unsigned long long)n;
        in->period.dead += (unsigned long long)n;
        log_info("take diverted %lld %s item(s) to the dead letters", n, outcome);
    }
}

static void intake_on_replicas(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct intake *in = arg;
    long long want = in->v->cfg.min_replicas_ack;
    in->replicas_inflight = false;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= want) {
        if (in->replica_stall)
            log_notice("replicas acknowledge again (%lld); intake resumes", r->integer);
        in->replica_stall = false;
        intake_kick(in);
        return;
    }
    if (!in->replica_stall)
        log_warning("only %lld of %lld replicas acknowledged; taking nothing until they do",
                    r->type == REDIS_REPLY_INTEGER ? r->integer : 0LL, want);
    in->replica_stall = true;
    intake_check_drained(in);
}

static void intake_wait_replicas(struct intake *in)
{
    struct vetd *v = in->v;
    char n[32], ms[32];
    snprintf(n, sizeof n, "%lld", v->cfg.min_replicas_ack);
    snprintf(ms, sizeof ms, "%lld", v->cfg.heartbeat_interval_ms);
    const char *argv[] = {"WAIT", n, ms};
    long long deadline = v->cfg.heartbeat_interval_ms + vetd_request_ms(v);
    if (conn_commandv(v->main, deadline, intake_on_replicas, in, 3, argv))
        in->replicas_inflight = true;
}

/* Account the answers of a settle call, item by item, and mark those
 * items done. The answers are those of the items that were not done when
 * the call was built (settle_call_build skips done ones), in order.
 * Returns how many items answered `restage` (still to do). */
static int intake_settle_answers(struct intake *in, struct batch *b, const struct redisReply *r)
{
    int restage = 0;
    size_t j = 0;
    for (int i = 0; r->type == REDIS_REPLY_ARRAY && i < b->n && j < r->elements; i++) {
        struct settle_item *it = &b->items[i];
        if (it->done)
            continue;
        const char *answer = r->element[j++]->str;
        if (answer != NULL && strcmp(answer, "restage") == 0) {
            restage++;
            continue;
        }
        it->done = true;
        intake_account(in, it, answer != NULL ? answer : "");
    }
    return restage;
}

static void intake_on_settle(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct batch *b = arg;
    struct intake *in = b->in;
    b->sent = false;
    if (r == NULL)
        return; /* re-sent after the reconnect; the fence makes that safe */
    if (r->type == REDIS_REPLY_ERROR) {
        if (!vetd_error_transient(r->str) && !vetd_error_no_function(r->str) &&
            ++b->failures >= 3) {
            /* Not Redis's fault and not going away: give the items back to
             * the queue through the requeue path, where the delivery count
             * ends it as poison if it keeps failing. */
            log_error("settling a batch keeps failing (%s); returning it to the queue", r->str);
            intake_batch_remove(in, b);
            in->need_requeue = true;
        }
        intake_on_error(in, "settle", r->str);
        return;
    }
    intake_success(in);
    int restage = intake_settle_answers(in, b, r);
    if (restage > 0) {
        /* An item's staging hash was gone (it outlived its TTL, or a fenced
         * process of the same name deleted it); the Function wrote nothing
         * for it. Stage it again and re-send; a batch that keeps losing its
         * staging goes back to the queue like any failing batch. */
        log_notice("%d item(s) lost their staging hash; staging them again", restage);
        if (++b->failures >= 3) {
            log_error("settling a batch keeps failing (staging lost); returning it to the queue");
            intake_batch_remove(in, b);
            in->need_requeue = true;
        }
        intake_kick(in);
        return;
    }
    intake_batch_remove(in, b);
    if (in->v->cfg.min_replicas_ack > 0)
        intake_wait_replicas(in);
    intake_check_drained(in);
    intake_kick(in);
}

static bool intake_send_settle(struct intake *in, struct batch *b)
{
    struct vetd *v = in->v;
    char now[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), now);
    char *fixed[SETTLE_FIXED_KEYS] = {v->keys.processing, v->keys.deliveries,    v->keys.dead,
                                      v->keys.dead_seq,   v->keys.notifications, v->keys.roles};
    /* Staging first, on the same connection, so Redis runs it before the
     * call that consumes it. The replies carry nothing: a staging write
     * that failed shows as a `restage` answer (or as the same error) of
     * the settle call. Every re-send stages again. */
    bool skip = failpoint_on("lose_stage") && !b->unstaged;
    b->unstaged = b->unstaged || skip;
    for (int i = 0; !skip && i < b->n; i++) {
        struct settle_stage st;
        if (settle_stage_cmds(&b->items[i], &st) == 0)
            continue;
        if (!conn_command(v->main, vetd_request_ms(v), NULL, NULL, st.hset_argc, st.hset,
                          st.hset_lens) ||
            !conn_commandv(v->main, vetd_request_ms(v), NULL, NULL, 3, st.pexpire))
            return false;
    }
    struct settle_call call;
    settle_call_build(&call, vetd_fn(v, "settle"), fixed, now, v->cfg.instance, b->items, b->n);
    bool ok = conn_command(v->main, vetd_request_ms(v), intake_on_settle, b, call.argc, call.argv,
                           call.lens);
    settle_call_free(&call);
    b->sent = ok;
    return ok;
}

/* Validate and score every item of a take answer (LUALIB_TAKE_HEADER)
 * into a new batch. */
static struct batch *intake_prepare(struct intake *in, struct redisReply *r)
{
    struct vetd *v = in->v;
    struct settle_ctx ctx = {v->roles, v->cfg.key_prefix, v->cfg.instance, v->scored_by,
                             (size_t)v->cfg.max_payload_bytes};
    char received[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), received);
    int64_t now_us = vetd_mono_us();
    struct batch *b = xcalloc(1, sizeof *b);
    b->in = in;
    b->n = (int)((r->elements - LUALIB_TAKE_HEADER) / 2);
    b->items = xcalloc((size_t)b->n, sizeof *b->items);
    for (int i = 0; i < b->n; i++) {
        const struct redisReply *item = r->element[LUALIB_TAKE_HEADER + 2 * i],
                                *digest = r->element[LUALIB_TAKE_HEADER + 1 + 2 * i];
        if (failpoint_on("crash_on_item") && failpoint_arg()[0] != '\0' &&
            memmem(item->str, item->len, failpoint_arg(), strlen(failpoint_arg())) != NULL)
            failpoint_crash("crash_on_item");
        settle_prepare(&b->items[i], item->str, item->len, digest->str, &ctx, received);
        b->items[i].taken_mono_us = now_us;
    }
    in->total.taken += (unsigned long long)b->n;
    in->period.taken += (unsigned long long)b->n;
    return b;
}

static void intake_on_take(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct intake *in = arg;
    in->take_inflight = false;
    if (r == NULL) {
        in->need_requeue = true; /* the take may have moved items: find them */
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        intake_on_error(in, "take", r->str);
        intake_check_drained(in);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < LUALIB_TAKE_HEADER ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_INTEGER) {
        /* The take may have moved items: find them as for a lost answer. */
        in->need_requeue = true;
        intake_on_error(in, "take", "unexpected answer");
        intake_check_drained(in);
        return;
    }
    intake_success(in);
    intake_count_diverted(in, "too_large", r->element[0]->integer);
    intake_count_diverted(in, "poison", r->element[1]->integer);
    size_t items = (r->elements - LUALIB_TAKE_HEADER) / 2;
    if (failpoint_on("crash_after_take") && items > 0)
        failpoint_crash("crash_after_take");
    /* Diverted and deferred items were found too: only a take that found
     * fewer than batch_size items in all means the queue is empty. */
    long long found =
        (long long)items + r->element[0]->integer + r->element[1]->integer + r->element[2]->integer;
    in->queue_empty = found < in->v->cfg.batch_size;
    if (items > 0) {
        /* This batch is in hand from now on; while it is scored, the next
         * take is already on its way (Redis is not left idle). */
        in->nbatches++;
        if (intake_may_take(in))
            intake_send_take(in);
        struct batch *b = intake_prepare(in, r);
        TAILQ_INSERT_TAIL(&in->batches, b, link);
        if (failpoint_on("stall_before_settle")) {
            long long ms = failpoint_arg()[0] ? strtoll(failpoint_arg(), NULL, 10) : 60000;
            struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
            b->stalled = true;
            log_notice("failpoint stall_before_settle: holding %d item(s) for %lld ms", b->n, ms);
            evtimer_add(in->stall_ev, &tv);
        }
    }
    intake_check_drained(in);
    intake_kick(in);
}

static void intake_send_take(struct intake *in)
{
    struct vetd *v = in->v;
    char batch[32], maxb[32], maxd[32], now[TIMEFMT_LEN + 1];
    snprintf(batch, sizeof batch, "%lld", v->cfg.batch_size);
    snprintf(maxb, sizeof maxb, "%lld", v->cfg.max_payload_bytes);
    snprintf(maxd, sizeof maxd, "%lld", v->cfg.max_deliveries);
    timefmt_format(timefmt_now_ms(), now);
    const char *argv[] = {"FCALL",
                          vetd_fn(v, "take"),
                          "5",
                          v->keys.submissions,
                          v->keys.processing,
                          v->keys.deliveries,
                          v->keys.dead,
                          v->keys.dead_seq,
                          batch,
                          maxb,
                          maxd,
                          now,
                          v->cfg.instance};
    if (conn_commandv(v->main, vetd_request_ms(v), intake_on_take, in, 13, argv))
        in->take_inflight = true;
}

static void intake_on_requeue(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct intake *in = arg;
    in->requeue_inflight = false;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        intake_on_error(in, "requeue", r->str);
        return;
    }
    if (r->type == REDIS_REPLY_INTEGER && r->integer < 0) {
        vetd_name_lost(in->v);
        return;
    }
    intake_success(in);
    in->need_requeue = false;
    if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
        log_notice("%lld unsettled item(s) of this instance returned to the queue", r->integer);
    in->queue_empty = false;
    intake_check_drained(in);
    intake_kick(in);
}

static void intake_send_requeue(struct intake *in)
{
    struct vetd *v = in->v;
    const char *argv[] = {
        "FCALL",          vetd_fn(v, "requeue"),  "3", v->keys.processing, v->keys.submissions,
        v->keys.instance, instance_token(v->inst)};
    if (conn_commandv(v->main, vetd_request_ms(v), intake_on_requeue, in, 7, argv))
        in->requeue_inflight = true;
}

/* May another take go out now? Not while one is in flight, the queue
 * looked empty, too many batches are in hand or replicas lag; with
 * min_replicas_ack only after the previous batch was acknowledged. */
static bool intake_may_take(const struct intake *in)
{
    const struct vetd *v = in->v;
    if (!in->active || in->need_requeue || in->take_inflight || in->queue_empty)
        return false;
    if (in->nbatches >= INTAKE_MAX_BATCHES || in->replica_stall || in->replicas_inflight)
        return false;
    if (v->cfg.min_replicas_ack > 0 && in->nbatches > 0)
        return false;
    return conn_is_up(v->main) && !evtimer_pending(in->retry_ev, NULL);
}

/* Decide the next step. Order matters (see the comment at the top):
 * settle what is in hand, then recover lost takes, then take. */
static void intake_kick(struct intake *in)
{
    struct vetd *v = in->v;
    if (!conn_is_up(v->main) || evtimer_pending(in->retry_ev, NULL))
        return;
    struct batch *b;
    TAILQ_FOREACH(b, &in->batches, link)
    {
        if (!b->sent && !b->stalled && !intake_send_settle(in, b))
            return;
    }
    if (!in->active)
        return;
    if (in->need_requeue) {
        if (in->nbatches == 0 && !in->take_inflight && !in->requeue_inflight)
            intake_send_requeue(in);
        return;
    }
    if (in->queue_empty) {
        if (in->nbatches == 0 && !in->take_inflight && !in->replica_stall && !in->replicas_inflight)
            intake_start_wait(in);
        return;
    }
    if (intake_may_take(in))
        intake_send_take(in);
}

static void intake_on_wait(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct intake *in = arg;
    in->wait_inflight = false;
    if (r == NULL || !in->active)
        return; /* the connection's `up` starts a new wait */
    if (r->type == REDIS_REPLY_ERROR) {
        log_warning("waiting on the queue failed: %s", r->str);
        intake_retry_later(in);
        return;
    }
    if (r->type == REDIS_REPLY_NIL) {
        intake_start_wait(in); /* timed out: wait again */
        return;
    }
    /* Something arrived (the reply's bytes are discarded: the take moves
     * it, counting and diverting it). */
    in->queue_empty = false;
    intake_kick(in);
}

static void intake_start_wait(struct intake *in)
{
    struct vetd *v = in->v;
    if (!in->active || in->wait_inflight || !conn_is_up(v->wait))
        return;
    if (failpoint_on("no_wait"))
        return; /* test builds: the bug of a worker that stops waiting */
    char secs[32];
    snprintf(secs, sizeof secs, "%lld.%03lld", v->cfg.block_timeout_ms / 1000,
             v->cfg.block_timeout_ms % 1000);
    const char *argv[] = {"BLMOVE", v->keys.submissions, v->keys.submissions, "RIGHT", "RIGHT",
                          secs};
    long long deadline = v->cfg.block_timeout_ms + vetd_request_ms(v);
    if (conn_commandv(v->wait, deadline, intake_on_wait, in, 6, argv))
        in->wait_inflight = true;
}

void intake_resume(struct intake *in)
{
    if (!in->stopping)
        in->active = true;
    intake_kick(in);
}

void intake_wait_up(struct intake *in)
{
    if (in->queue_empty && in->nbatches == 0 && !in->take_inflight)
        intake_start_wait(in);
}

void intake_tick(struct intake *in)
{
    struct vetd *v = in->v;
    if (in->replica_stall && !in->replicas_inflight && conn_is_up(v->main))
        intake_wait_replicas(in);
    /* Without the wake-up connection, look at the queue once per tick. */
    if (in->active && !conn_is_up(v->wait))
        in->queue_empty = false;
    intake_kick(in);
}

void intake_stop(struct intake *in)
{
    in->stopping = true;
    in->active = false;
    intake_check_drained(in);
}

void intake_halt(struct intake *in)
{
    in->stopping = true;
    in->active = false;
    evtimer_del(in->retry_ev);
    evtimer_del(in->stall_ev);
}

void intake_summary(struct intake *in)
{
    struct intake_counts *p = &in->period;
    log_info("summary taken=%llu qualified=%llu not_qualified=%llu duplicate=%llu dead=%llu "
             "stale=%llu",
             p->taken, p->qualified, p->not_qualified, p->duplicate, p->dead, p->stale);
    memset(p, 0, sizeof *p);
}
