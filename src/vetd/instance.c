/* The instance's identity and liveness in Redis (see instance.h).
 *
 * Instance names must be unique: two processes under one name would share
 * one processing list, and each would return the other's items to the
 * queue at its start. So the name is claimed with a compare-and-set on the
 * heartbeat `P instance:<name>`, whose JSON carries a random token of this
 * process. A new process whose predecessor is provably dead (same host,
 * same boot, its pid gone) takes over at once; any other holder is watched
 * for two heartbeat intervals, and if it keeps refreshing the key (its TTL
 * goes up again) the newcomer exits 78. The heartbeat Function refuses to
 * overwrite a foreign token, so a process that lost its name finds out on
 * its next tick and exits 78 as well.
 *
 * Reclaim runs on the same tick as the heartbeat: an instance listed in
 * `P instances` whose heartbeat has expired is dead, and its processing
 * list moves back to the taking end of the queue inside one Function call
 * that re-checks the heartbeat, so a live instance is never robbed. */
#include "instance.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "timefmt.h"
#include "vetd.h"
#include "xmalloc.h"

enum instance_state {
    INSTANCE_NONE,
    INSTANCE_READING,  /* GET + PTTL of the heartbeat in flight */
    INSTANCE_WATCHING, /* a holder we cannot prove dead: wait two intervals */
    INSTANCE_CLAIMING, /* claim Function in flight */
    INSTANCE_CLAIMED,
};

struct instance {
    struct vetd *v;
    enum instance_state state;
    char token[33];
    char host[256];
    char boot_id[64];
    char *heartbeat; /* our heartbeat JSON */
    char *seen;      /* the holder's value at the first read, or NULL */
    long long seen_pttl;
    int64_t seen_at_ms;
    bool watched; /* the second read (after watching) is in flight */
    char *read_value;
    int claim_attempts;
    struct event *watch_ev;
    bool hb_inflight, reclaim_inflight;
    bool hb_failing; /* the last heartbeat failed: logged once, until one succeeds */
};

static void instance_read(struct instance *in);

static int64_t instance_mono_ms(void)
{
    return vetd_mono_us() / 1000;
}

static void instance_read_boot_id(char *out, size_t n)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    out[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(out, (int)n, f) != NULL)
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void instance_make_token(char out[33])
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)random();
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

static char *instance_heartbeat_json(const struct instance *in)
{
    char started[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), started);
    struct buf b = BUF_INIT;
    buf_printf(&b, "{\"pid\":%ld,\"host\":", (long)getpid());
    buf_add_json_str(&b, in->host, strlen(in->host));
    buf_adds(&b, ",\"boot_id\":");
    buf_add_json_str(&b, in->boot_id, strlen(in->boot_id));
    buf_printf(&b, ",\"token\":\"%s\",\"started\":\"%s\",\"version\":\"%s\"}", in->token, started,
               VETD_VERSION);
    return buf_steal(&b);
}

static void instance_on_watch(evutil_socket_t fd, short what, void *arg);

struct instance *instance_new(struct vetd *v)
{
    struct instance *in = xcalloc(1, sizeof *in);
    in->v = v;
    instance_make_token(in->token);
    if (gethostname(in->host, sizeof in->host) != 0)
        snprintf(in->host, sizeof in->host, "unknown");
    in->host[sizeof in->host - 1] = '\0';
    instance_read_boot_id(in->boot_id, sizeof in->boot_id);
    in->heartbeat = instance_heartbeat_json(in);
    in->watch_ev = evtimer_new(v->base, instance_on_watch, in);
    return in;
}

void instance_free(struct instance *in)
{
    if (in == NULL)
        return;
    event_free(in->watch_ev);
    free(in->heartbeat);
    free(in->seen);
    free(in->read_value);
    free(in);
}

const char *instance_token(const struct instance *in)
{
    return in->token;
}

bool instance_claimed(const struct instance *in)
{
    return in->state == INSTANCE_CLAIMED;
}

static void instance_on_claim(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct instance *in = arg;
    if (r == NULL) {
        in->state = INSTANCE_NONE; /* retried when the connection is back */
        return;
    }
    if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "ok") == 0) {
        in->state = INSTANCE_CLAIMED;
        log_notice("instance name claimed");
        vetd_claimed(in->v);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warning("claiming the instance name failed: %s", r->str);
        in->state = INSTANCE_NONE;
        if (vetd_error_no_function(r->str))
            conn_drop(in->v->main, "functions missing");
        return;
    }
    /* "changed": someone wrote the heartbeat meanwhile; look again. */
    if (++in->claim_attempts > 5) {
        log_error("instance name %s keeps changing hands; is another vetd using it?",
                  in->v->cfg.instance);
        vetd_exit(in->v, 78);
        return;
    }
    instance_read(in);
}

/* Compare-and-set the heartbeat to ours; expected NULL means "absent". */
static void instance_send_claim(struct instance *in, const char *expected)
{
    struct vetd *v = in->v;
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", v->cfg.instance_ttl_ms);
    const char *argv[] = {"FCALL",
                          vetd_fn(v, "claim"),
                          "2",
                          v->keys.instance,
                          v->keys.instances,
                          in->heartbeat,
                          ttl,
                          v->cfg.instance,
                          expected ? expected : ""};
    in->state = INSTANCE_CLAIMING;
    if (!conn_commandv(v->main, vetd_request_ms(v), instance_on_claim, in, 9, argv))
        in->state = INSTANCE_NONE;
}

/* Is the holder described by value provably dead: this host, this boot,
 * and its pid gone (or it is our own pid, reused after a reboot-less
 * restart, which can only be a dead predecessor)? */
static bool instance_holder_dead(const struct instance *in, const char *value)
{
    json_object *root = json_tokener_parse(value);
    bool dead = false;
    json_object *host, *boot, *pid;
    if (root && json_object_object_get_ex(root, "host", &host) &&
        json_object_object_get_ex(root, "boot_id", &boot) &&
        json_object_object_get_ex(root, "pid", &pid) && in->boot_id[0] != '\0' &&
        strcmp(json_object_get_string(host), in->host) == 0 &&
        strcmp(json_object_get_string(boot), in->boot_id) == 0) {
        pid_t p = (pid_t)json_object_get_int64(pid);
        dead = p > 0 && (p == getpid() || (kill(p, 0) == -1 && errno == ESRCH));
    }
    json_object_put(root);
    return dead;
}

/* Both replies of a read are in: value (NULL = absent) and its PTTL. */
static void instance_decide(struct instance *in, const char *value, long long pttl)
{
    struct vetd *v = in->v;
    if (value == NULL) {
        instance_send_claim(in, NULL);
    } else if (!in->watched) {
        if (instance_holder_dead(in, value)) {
            log_notice("instance name %s: predecessor is dead; taking over", v->cfg.instance);
            instance_send_claim(in, value);
            return;
        }
        free(in->seen);
        in->seen = xstrdup(value);
        in->seen_pttl = pttl;
        in->seen_at_ms = instance_mono_ms();
        in->state = INSTANCE_WATCHING;
        log_notice("instance name %s is held by another process; watching its heartbeat",
                   v->cfg.instance);
        long long ms = 2 * v->cfg.heartbeat_interval_ms + v->cfg.heartbeat_interval_ms / 2;
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        evtimer_add(in->watch_ev, &tv);
    } else {
        long long elapsed = instance_mono_ms() - in->seen_at_ms;
        long long tolerance = v->cfg.heartbeat_interval_ms / 4;
        bool refreshed = strcmp(value, in->seen) != 0 || pttl > in->seen_pttl - elapsed + tolerance;
        if (refreshed) {
            log_error("instance name %s is in use by a live process; names must be unique",
                      v->cfg.instance);
            vetd_exit(v, 78);
            return;
        }
        log_notice("instance name %s: holder stopped refreshing; taking over", v->cfg.instance);
        instance_send_claim(in, value);
    }
}

static void instance_on_get(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct instance *in = arg;
    free(in->read_value);
    in->read_value = NULL;
    if (r && r->type == REDIS_REPLY_STRING)
        in->read_value = xstrndup(r->str, r->len);
}

static void instance_on_pttl(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct instance *in = arg;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        in->state = INSTANCE_NONE;
        if (r && r->type == REDIS_REPLY_ERROR)
            log_warning("reading the heartbeat failed: %s", r->str);
        return;
    }
    char *value = in->read_value;
    in->read_value = NULL;
    instance_decide(in, value, r->integer);
    free(value);
}

static void instance_read(struct instance *in)
{
    struct vetd *v = in->v;
    const char *get[] = {"GET", v->keys.instance};
    const char *pttl[] = {"PTTL", v->keys.instance};
    in->state = INSTANCE_READING;
    if (!conn_commandv(v->main, vetd_request_ms(v), instance_on_get, in, 2, get) ||
        !conn_commandv(v->main, vetd_request_ms(v), instance_on_pttl, in, 2, pttl))
        in->state = INSTANCE_NONE;
}

static void instance_on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct instance *in = arg;
    in->watched = true;
    if (conn_is_up(in->v->main))
        instance_read(in);
    else
        in->state = INSTANCE_NONE; /* resumed by instance_claim after reconnect */
}

void instance_claim(struct instance *in)
{
    switch (in->state) {
    case INSTANCE_CLAIMED:
        vetd_claimed(in->v);
        break;
    case INSTANCE_WATCHING:
        break; /* the watch timer carries on */
    default:
        instance_read(in);
        break;
    }
}

static void instance_on_reclaim(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct instance *in = arg;
    in->reclaim_inflight = false;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_warning("reclaim failed: %s", r->str);
        return;
    }
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        log_notice("reclaimed dead instance %s: %lld item(s) returned to the queue",
                   r->element[i]->str, r->element[i + 1]->integer);
    }
}

/* Reclaim every other member of P instances whose heartbeat is gone (the
 * Function checks each heartbeat itself, atomically with the move). */
static void instance_reclaim(struct instance *in, struct redisReply *members, size_t from)
{
    struct vetd *v = in->v;
    size_t n = 0;
    for (size_t i = from; i < members->elements; i++)
        if (strcmp(members->element[i]->str, v->cfg.instance) != 0)
            n++;
    if (n == 0 || in->reclaim_inflight)
        return;
    int argc = 5 + (int)(3 * n);
    const char **argv = xcalloc((size_t)argc, sizeof *argv);
    char **owned = xcalloc(2 * n, sizeof *owned);
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%zu", 2 + 2 * n);
    argv[0] = "FCALL";
    argv[1] = vetd_fn(v, "reclaim");
    argv[2] = nkeys;
    argv[3] = v->keys.submissions;
    argv[4] = v->keys.instances;
    size_t k = 0;
    for (size_t i = from; i < members->elements; i++) {
        const char *name = members->element[i]->str;
        if (strcmp(name, v->cfg.instance) == 0)
            continue;
        owned[2 * k] = keys_instance(v->cfg.key_prefix, name);
        owned[2 * k + 1] = keys_processing(v->cfg.key_prefix, name);
        argv[5 + 2 * k] = owned[2 * k];
        argv[6 + 2 * k] = owned[2 * k + 1];
        argv[5 + 2 * n + k] = name;
        k++;
    }
    if (conn_commandv(v->main, vetd_request_ms(v), instance_on_reclaim, in, argc, argv))
        in->reclaim_inflight = true;
    for (size_t i = 0; i < 2 * n; i++)
        free(owned[i]);
    free(owned);
    free(argv);
}

static void instance_on_heartbeat(struct conn *c, struct redisReply *r, void *arg)
{
    struct instance *in = arg;
    in->hb_inflight = false;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        if (vetd_error_no_function(r->str)) {
            conn_drop(c, "functions missing");
        } else if (!in->hb_failing) {
            /* Once per failure (-BUSY or -LOADING lasts many ticks). */
            log_warning("heartbeat failed: %s (logged once until it succeeds)", r->str);
            in->hb_failing = true;
        }
        return;
    }
    if (in->hb_failing) {
        log_notice("heartbeat succeeds again");
        in->hb_failing = false;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return;
    if (strcmp(r->element[0]->str, "foreign") == 0) {
        vetd_name_lost(in->v);
        return;
    }
    if (r->elements < 5)
        return;
    static const char *const queues[] = {"submissions", "processing", "dead", "notifications"};
    for (int i = 0; i < 4; i++)
        metrics_set_queue_depth(in->v->metrics, queues[i], r->element[1 + i]->integer);
    in->v->queue_depth = r->element[1]->integer;
    instance_reclaim(in, r, 5);
}

void instance_tick(struct instance *in)
{
    struct vetd *v = in->v;
    if (in->state != INSTANCE_CLAIMED || in->hb_inflight || !conn_is_up(v->main))
        return;
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", v->cfg.instance_ttl_ms);
    const char *argv[] = {"FCALL",
                          vetd_fn(v, "heartbeat"),
                          "6",
                          v->keys.instance,
                          v->keys.instances,
                          v->keys.submissions,
                          v->keys.processing,
                          v->keys.dead,
                          v->keys.notifications,
                          in->token,
                          in->heartbeat,
                          ttl,
                          v->cfg.instance};
    if (conn_commandv(v->main, vetd_request_ms(v), instance_on_heartbeat, in, 13, argv))
        in->hb_inflight = true;
}

static void instance_on_leave(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    struct instance *in = arg;
    if (r == NULL)
        log_warning("stop: redis lost before the unfinished items could be returned");
    else if (r->type == REDIS_REPLY_ERROR)
        log_warning("stop: returning the unfinished items failed: %s", r->str);
    else if (r->type == REDIS_REPLY_INTEGER && r->integer < 0)
        log_warning("stop: the instance name is held by another process; left its items alone");
    else if (r->type == REDIS_REPLY_INTEGER)
        log_notice("stop: %lld unfinished item(s) returned to the queue", r->integer);
    in->state = INSTANCE_NONE;
    vetd_stopped(in->v);
}

void instance_leave(struct instance *in)
{
    struct vetd *v = in->v;
    if (in->state != INSTANCE_CLAIMED || !conn_is_up(v->main)) {
        vetd_stopped(v);
        return;
    }
    const char *argv[] = {"FCALL",
                          vetd_fn(v, "leave"),
                          "5",
                          v->keys.processing,
                          v->keys.submissions,
                          v->keys.instance,
                          v->keys.instances,
                          v->keys.deliveries,
                          in->token,
                          v->cfg.instance};
    if (!conn_commandv(v->main, vetd_request_ms(v), instance_on_leave, in, 10, argv))
        vetd_stopped(v);
}
