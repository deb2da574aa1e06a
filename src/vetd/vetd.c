/* The daemon's orchestration: connections and what happens when they come
 * and go, loading the Functions, the maintenance tick, signals, reload and
 * the clean stop (see vetd.h). */
#include "vetd.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "instance.h"
#include "intake.h"
#include "keys.h"
#include "log.h"
#include "lualib.h"
#include "metrics.h"
#include "notify.h"
#include "role.h"
#include "timefmt.h"
#include "xmalloc.h"

static const char *const vetd_verbs[] = {"take",      "settle", "requeue", "leave",
                                         "heartbeat", "claim",  "reclaim", NULL};

int64_t vetd_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *vetd_fn(struct vetd *v, const char *verb)
{
    for (int i = 0; vetd_verbs[i]; i++)
        if (strcmp(vetd_verbs[i], verb) == 0)
            return v->fns[i];
    abort(); /* a programming error: every verb is in the table */
}

long long vetd_request_ms(const struct vetd *v)
{
    return v->cfg.instance_ttl_ms > 2000 ? v->cfg.instance_ttl_ms : 2000;
}

bool vetd_error_transient(const char *err)
{
    static const char *const prefixes[] = {"LOADING",    "BUSY",     "OOM",        "READONLY",
                                           "MASTERDOWN", "TRYAGAIN", "NOREPLICAS", NULL};
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(err, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

bool vetd_error_no_function(const char *err)
{
    return strstr(err, "Function not found") != NULL || strncmp(err, "NOSCRIPT", 8) == 0;
}

void vetd_exit(struct vetd *v, int code)
{
    if (v->phase == VETD_DONE)
        return;
    v->phase = VETD_DONE;
    v->exit_code = code;
    event_base_loopbreak(v->base);
}

void vetd_name_lost(struct vetd *v)
{
    log_error("another process holds the instance name %s; taking nothing more, exiting",
              v->cfg.instance);
    intake_halt(v->intake);
    vetd_exit(v, 78);
}

void vetd_stopped(struct vetd *v)
{
    vetd_exit(v, 0);
}

void vetd_drained(struct vetd *v)
{
    if (v->phase != VETD_STOPPING || v->leaving)
        return;
    v->leaving = true;
    instance_leave(v->inst);
}

/* The name is ours (first time: we are ready). */
void vetd_claimed(struct vetd *v)
{
    if (v->phase == VETD_STARTING) {
        v->phase = VETD_RUNNING;
        v->ready = true;
        notify_ready();
        log_notice("ready: %zu role(s), functions %s", roleset_count(v->roles), lualib_name);
        instance_tick(v->inst);
    }
    intake_resume(v->intake);
}

static void vetd_on_function_load(struct conn *c, struct redisReply *r, void *arg)
{
    struct vetd *v = arg;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "already exists") == NULL) {
        log_error("cannot load the redis functions: %s", r->str);
        conn_drop(c, "function load failed");
        return;
    }
    log_notice("redis functions %s loaded", lualib_name);
    v->functions_ok = true;
    instance_claim(v->inst);
}

static void vetd_on_function_list(struct conn *c, struct redisReply *r, void *arg)
{
    struct vetd *v = arg;
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        v->functions_ok = true;
        instance_claim(v->inst);
        return;
    }
    const char *argv[] = {"FUNCTION", "LOAD", lualib_source};
    conn_commandv(c, vetd_request_ms(v), vetd_on_function_load, v, 3, argv);
}

/* CONFIG GET answers; one call per setting. CONFIG may be forbidden. */
static void vetd_on_config(struct conn *c, struct redisReply *r, void *arg)
{
    (void)c;
    (void)arg;
    if (r == NULL)
        return;
    if (r->type != REDIS_REPLY_ARRAY) {
        log_info("cannot check the redis persistence settings: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        return;
    }
    if (r->elements < 2)
        return;
    const char *name = r->element[0]->str, *value = r->element[1]->str;
    if (strcmp(name, "maxmemory-policy") == 0 && strcmp(value, "noeviction") != 0)
        log_warning("REDIS MAXMEMORY-POLICY IS %s, NOT noeviction: an evicted key is a lost "
                    "application",
                    value);
    if (strcmp(name, "appendonly") == 0 && strcmp(value, "yes") != 0)
        log_warning("REDIS APPENDONLY IS OFF: a redis crash loses acknowledged applications; "
                    "use appendonly yes in production");
}

/* vetd_redis_connected: 1 while both connections are up. */
static void vetd_sync_connected(struct vetd *v)
{
    metrics_set_connected(v->metrics, conn_is_up(v->main) && conn_is_up(v->wait));
}

static void vetd_main_up(struct conn *c, void *arg)
{
    struct vetd *v = arg;
    vetd_sync_connected(v);
    if (!v->checked_persistence) {
        v->checked_persistence = true;
        const char *mm[] = {"CONFIG", "GET", "maxmemory-policy"};
        const char *ao[] = {"CONFIG", "GET", "appendonly"};
        conn_commandv(c, vetd_request_ms(v), vetd_on_config, v, 3, mm);
        conn_commandv(c, vetd_request_ms(v), vetd_on_config, v, 3, ao);
    } else {
        metrics_inc_reconnects(v->metrics);
    }
    const char *argv[] = {"FUNCTION", "LIST", "LIBRARYNAME", lualib_name};
    conn_commandv(c, vetd_request_ms(v), vetd_on_function_list, v, 4, argv);
}

static void vetd_main_down(struct conn *c, void *arg)
{
    (void)c;
    struct vetd *v = arg;
    v->functions_ok = false;
    vetd_sync_connected(v);
}

static void vetd_wait_up(struct conn *c, void *arg)
{
    (void)c;
    struct vetd *v = arg;
    vetd_sync_connected(v);
    if (v->wait_was_up)
        metrics_inc_reconnects(v->metrics);
    v->wait_was_up = true;
    intake_wait_up(v->intake);
}

static void vetd_wait_down(struct conn *c, void *arg)
{
    (void)c;
    vetd_sync_connected(arg);
}

static void vetd_refused(struct conn *c, const char *reason, void *arg)
{
    (void)c;
    struct vetd *v = arg;
    log_error("redis refused the credentials: %s", reason);
    vetd_exit(v, 69);
}

/* An intake stuck for two ticks in a row (one tick may fall between a
 * reply and the next request): see intake_stuck. */
#define VETD_STUCK_TICKS 2

static bool vetd_stuck(const struct vetd *v)
{
    return v->stuck_ticks >= VETD_STUCK_TICKS;
}

/* No WATCHDOG=1 while deaf: a connection past a request's deadline, or a
 * stuck intake. */
static bool vetd_deaf(const struct vetd *v)
{
    return conn_is_deaf(v->main) || conn_is_deaf(v->wait) || vetd_stuck(v);
}

static bool vetd_health(void *arg, const char **reason)
{
    struct vetd *v = arg;
    if (!conn_is_up(v->main) || !conn_is_up(v->wait))
        *reason = "redis disconnected";
    else if (vetd_stuck(v))
        *reason = "not consuming the queue";
    else if (vetd_deaf(v))
        *reason = "redis not answering";
    else if (!v->ready)
        *reason = "starting";
    else
        return true;
    return false;
}

/* STATUS= with live counts (issue 5): "connected; 1234 scored, 3 dead,
 * queue 17". scored = applications this process stored, dead = dead
 * letters it made, queue = the depth of P submissions at the last
 * heartbeat (left out until the first one answered). */
static void vetd_status(const struct vetd *v)
{
    const char *state = !conn_is_up(v->main)   ? "disconnected"
                        : !v->ready            ? "starting"
                        : !conn_is_up(v->wait) ? "disconnected"
                        : vetd_stuck(v)        ? "not consuming"
                                               : "connected";
    unsigned long long scored = intake_scored(v->intake), dead = intake_dead(v->intake);
    if (v->queue_depth >= 0)
        notify_status("%s; %llu scored, %llu dead, queue %lld", state, scored, dead,
                      v->queue_depth);
    else
        notify_status("%s; %llu scored, %llu dead", state, scored, dead);
}

/* The maintenance tick (pgbouncer's janitor): request deadlines, the
 * heartbeat and reclaim, systemd's watchdog and status, the summary. */
static void vetd_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vetd *v = arg;
    conn_tick(v->main);
    conn_tick(v->wait);
    instance_tick(v->inst);
    intake_tick(v->intake);
    v->stuck_ticks = intake_stuck(v->intake) ? v->stuck_ticks + 1 : 0;
    if (v->stuck_ticks == VETD_STUCK_TICKS)
        log_error("intake stopped consuming the queue with both connections up; "
                  "withholding the watchdog");
    if (!vetd_deaf(v))
        notify_watchdog();
    if (!v->ready)
        notify_extend_timeout((uint64_t)v->cfg.heartbeat_interval_ms * 3000);
    vetd_status(v);
    int64_t now = vetd_mono_us() / 1000;
    if (now - v->last_summary_ms >= 60000) {
        v->last_summary_ms = now;
        intake_summary(v->intake);
    }
}

static void vetd_restart_required(const char *key, void *arg)
{
    (void)arg;
    log_warning("reload: %s changed; restart required (the old value stays in force)", key);
}

/* SIGHUP: build a fresh config and role set, validate both, then swap; on
 * any error keep the old ones (SPEC §7). */
static void vetd_reload(struct vetd *v)
{
    if (v->phase == VETD_STOPPING || v->phase == VETD_DONE) {
        log_notice("reload ignored: stopping");
        return;
    }
    /* RELOADING=1 ... READY=1 only around a reload of a ready service:
     * before READY=1 the reload is silent, so it never makes a service
     * that is still waiting for Redis look ready. */
    bool was_ready = v->ready;
    if (was_ready)
        notify_reloading();
    struct cfg fresh;
    struct roleset *roles = NULL;
    char *cause = NULL;
    cfg_defaults(&fresh);
    if (!cfg_load(&fresh, v->config_path, &cause))
        goto fail;
    if (v->instance_override && !cfg_set(&fresh, "instance", v->instance_override, &cause))
        goto fail;
    if (!cfg_check(&fresh, v->config_path, &cause))
        goto fail;
    if ((roles = roleset_load(fresh.roles_dir, &cause)) == NULL)
        goto fail;
    cfg_apply_reload(&v->cfg, &fresh, vetd_restart_required, v);
    roleset_free(v->roles);
    v->roles = roles;
    log_set_level(v->cfg.log_level);
    conn_set_timeouts(v->main, vetd_request_ms(v), v->cfg.reconnect_max_ms);
    conn_set_timeouts(v->wait, vetd_request_ms(v), v->cfg.reconnect_max_ms);
    log_notice("reloaded: %zu role(s)", roleset_count(v->roles));
    goto out;
fail:
    log_error("reload failed, keeping the previous configuration and roles: %s", cause);
out:
    free(cause);
    cfg_free(&fresh);
    if (was_ready)
        notify_ready();
}

static void vetd_on_hard_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_warning("stop: redis did not answer in time; unfinished items stay in processing");
    vetd_exit(arg, 0);
}

/* shutdown_timeout_ms is up: whatever is still in hand goes back. */
static void vetd_on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vetd *v = arg;
    log_warning("stop: shutdown_timeout_ms reached; returning what is unsettled to the queue");
    intake_halt(v->intake);
    struct timeval tv = {(time_t)(vetd_request_ms(v) / 1000),
                         (suseconds_t)(vetd_request_ms(v) % 1000) * 1000};
    evtimer_add(v->hard_stop_ev, &tv);
    if (!v->leaving) {
        v->leaving = true;
        instance_leave(v->inst);
    }
}

/* First SIGTERM/SIGINT: take nothing new, settle what is in hand, return
 * the rest, exit 0. A second one: exit now (items stay in processing and
 * come back with the next life or a reclaim). */
static void vetd_on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct vetd *v = arg;
    if (v->phase == VETD_DONE)
        return;
    if (v->phase == VETD_STOPPING) {
        log_notice("second signal: exiting now");
        vetd_exit(v, 0);
        return;
    }
    log_notice("signal %d: stopping", (int)sig);
    notify_stopping();
    bool claimed = instance_claimed(v->inst);
    v->phase = VETD_STOPPING;
    if (!claimed) {
        vetd_exit(v, 0);
        return;
    }
    long long ms = v->cfg.shutdown_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(v->stop_ev, &tv);
    intake_stop(v->intake);
}

static void vetd_on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    vetd_reload(arg);
}

static void vetd_keys_make(struct vetd *v)
{
    const char *p = v->cfg.key_prefix, *name = v->cfg.instance;
    v->keys.submissions = keys_submissions(p);
    v->keys.processing = keys_processing(p, name);
    v->keys.deliveries = keys_deliveries(p);
    v->keys.dead = keys_dead(p);
    v->keys.dead_seq = keys_dead_seq(p);
    v->keys.notifications = keys_notifications(p);
    v->keys.instance = keys_instance(p, name);
    v->keys.instances = keys_instances(p);
    v->keys.roles = keys_roles(p);
}

static void vetd_keys_free(struct vetd_keys *k)
{
    free(k->submissions);
    free(k->processing);
    free(k->deliveries);
    free(k->dead);
    free(k->dead_seq);
    free(k->notifications);
    free(k->instance);
    free(k->instances);
    free(k->roles);
}

static void vetd_signals(struct vetd *v)
{
    signal(SIGPIPE, SIG_IGN);
    v->sig_term = evsignal_new(v->base, SIGTERM, vetd_on_stop_signal, v);
    v->sig_int = evsignal_new(v->base, SIGINT, vetd_on_stop_signal, v);
    v->sig_hup = evsignal_new(v->base, SIGHUP, vetd_on_hup, v);
    evsignal_add(v->sig_term, NULL);
    evsignal_add(v->sig_int, NULL);
    evsignal_add(v->sig_hup, NULL);
}

static struct evdns_base *vetd_dns(struct event_base *base)
{
    struct evdns_base *dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    return dns ? dns : evdns_base_new(base, 0);
}

bool vetd_init(struct vetd *v, const char *password, char **cause)
{
    struct cfg_redis_target target;
    if (!cfg_redis_parse(v->cfg.redis, &target, cause))
        return false;
    for (int i = 0; vetd_verbs[i]; i++)
        v->fns[i] = xasprintf("%s_%s", lualib_name, vetd_verbs[i]);
    snprintf(v->scored_by, sizeof v->scored_by, "vetd %s", VETD_VERSION);
    v->queue_depth = -1;
    vetd_keys_make(v);
    v->base = event_base_new();
    v->dns = vetd_dns(v->base);
    v->metrics = metrics_new(VETD_VERSION);
    static const struct conn_events main_ev = {vetd_main_up, vetd_main_down, vetd_refused};
    static const struct conn_events wait_ev = {vetd_wait_up, vetd_wait_down, vetd_refused};
    const char *user = v->cfg.redis_user;
    v->main = conn_new(v->base, v->dns, "main", &target, user, password, &main_ev, v);
    v->wait = conn_new(v->base, v->dns, "intake", &target, user, password, &wait_ev, v);
    cfg_redis_free(&target);
    conn_set_timeouts(v->main, vetd_request_ms(v), v->cfg.reconnect_max_ms);
    conn_set_timeouts(v->wait, vetd_request_ms(v), v->cfg.reconnect_max_ms);
    v->inst = instance_new(v);
    v->intake = intake_new(v);
    v->tick_ev = event_new(v->base, -1, EV_PERSIST, vetd_on_tick, v);
    v->stop_ev = evtimer_new(v->base, vetd_on_stop_timeout, v);
    v->hard_stop_ev = evtimer_new(v->base, vetd_on_hard_stop, v);
    vetd_signals(v);
    return metrics_http_start(v->metrics, v->base, v->cfg.metrics_listen, vetd_health, v, cause);
}

void vetd_start(struct vetd *v)
{
    long long ms = v->cfg.heartbeat_interval_ms;
    uint64_t wd = notify_watchdog_usec();
    if (wd > 0 && (long long)(wd / 2000) < ms)
        ms = (long long)(wd / 2000) > 0 ? (long long)(wd / 2000) : 1;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(v->tick_ev, &tv);
    v->last_summary_ms = vetd_mono_us() / 1000;
    notify_status("connecting to redis");
    notify_extend_timeout((uint64_t)ms * 3000);
    conn_start(v->main);
    conn_start(v->wait);
}

void vetd_cleanup(struct vetd *v)
{
    if (v->metrics)
        metrics_http_stop(v->metrics);
    conn_free(v->wait);
    conn_free(v->main);
    intake_free(v->intake);
    instance_free(v->inst);
    if (v->tick_ev)
        event_free(v->tick_ev);
    if (v->stop_ev)
        event_free(v->stop_ev);
    if (v->hard_stop_ev)
        event_free(v->hard_stop_ev);
    if (v->sig_term) {
        event_free(v->sig_term);
        event_free(v->sig_int);
        event_free(v->sig_hup);
    }
    if (v->dns)
        evdns_base_free(v->dns, 0);
    if (v->metrics)
        metrics_free(v->metrics);
    if (v->base)
        event_base_free(v->base);
    for (int i = 0; vetd_verbs[i]; i++)
        free(v->fns[i]);
    vetd_keys_free(&v->keys);
    roleset_free(v->roles);
    cfg_free(&v->cfg);
}
