/* One Redis connection over hiredis's async API (see conn.h).
 *
 * hiredis 0.14 has no timeouts, no reconnect and resolves names with a
 * blocking getaddrinfo, so this module adds all three around it:
 *
 * - A host name goes through evdns first; hiredis only ever sees a
 *   numeric address (or a unix socket path), so connect never blocks.
 * - Every request is queued here with its deadline, in send order; Redis
 *   answers in order, so the head of the queue is the oldest unanswered
 *   request and the maintenance tick only has to look at it. A connection
 *   past a deadline is dropped: a silent Redis looks exactly like a dead
 *   one, and only a new connection can tell them apart.
 * - The context is owned here and only here. It is never freed inside a
 *   hiredis callback: conn_drop() marks the connection and an event frees
 *   it on the next loop turn. hiredis then calls every pending callback
 *   with NULL, and then `down`, so the owner sees every request end.
 * - After a loss the next attempt waits a capped exponential backoff with
 *   full jitter; the first loss is logged at notice, the retries at debug.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "backoff.h"
#include "cfg.h"
#include "failpoint.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

enum conn_state {
    CONN_IDLE,      /* not started, or waiting for the backoff timer */
    CONN_RESOLVING, /* evdns lookup in flight */
    CONN_CONNECTING,
    CONN_HANDSHAKE, /* AUTH / SELECT / PING in flight */
    CONN_UP,
    CONN_DROPPING, /* conn_drop() called; freed on the next loop turn */
};

struct conn_req {
    TAILQ_ENTRY(conn_req) link;
    struct conn *c;
    conn_reply_fn fn; /* NULL for the handshake's own requests */
    void *arg;
    int64_t deadline; /* monotonic ms */
};

struct conn {
    struct event_base *base;
    struct evdns_base *dns;
    char *name;
    struct cfg_redis_target target;
    char *user, *password;
    struct conn_events ev;
    void *arg;

    enum conn_state state;
    redisAsyncContext *ac; /* owned; NULL when not connected */
    struct evdns_getaddrinfo_request *lookup;
    TAILQ_HEAD(, conn_req) reqs;
    int handshake_left;
    int64_t connect_deadline;
    struct event *retry_ev; /* backoff timer */
    struct event *drop_ev;  /* deferred free of the context */
    char *drop_why;
    struct backoff backoff;
    long long request_ms;
    int want_port;        /* port of the address being resolved */
    bool asking_sentinel; /* this context talks to a Sentinel */
    bool reopen;          /* on_drop: connect to the master, not a loss */
    int sentinel_next;    /* round-robin over the Sentinels */
    char *master_host;    /* as the Sentinel answered */
    int master_port;
    bool was_up;   /* reached CONN_UP since the last loss was reported */
    bool reported; /* the current outage has been logged */
};

static void conn_connect(struct conn *c);
static void conn_on_sentinel(struct conn *c, struct redisReply *r, void *arg);

static int64_t conn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_copy_target(struct cfg_redis_target *dst, const struct cfg_redis_target *src)
{
    *dst = *src;
    dst->addrs = xcalloc((size_t)src->naddrs, sizeof *dst->addrs);
    for (int i = 0; i < src->naddrs; i++) {
        dst->addrs[i].host = xstrdup(src->addrs[i].host);
        dst->addrs[i].port = src->addrs[i].port;
    }
    dst->master = src->master ? xstrdup(src->master) : NULL;
}

static void conn_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_connect(arg);
}

static void conn_on_drop(evutil_socket_t fd, short what, void *arg);

struct conn *conn_new(struct event_base *base, struct evdns_base *dns, const char *name,
                      const struct cfg_redis_target *target, const char *user, const char *password,
                      const struct conn_events *ev, void *arg)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->base = base;
    c->dns = dns;
    c->name = xstrdup(name);
    conn_copy_target(&c->target, target);
    c->user = user ? xstrdup(user) : NULL;
    c->password = password ? xstrdup(password) : NULL;
    c->ev = *ev;
    c->arg = arg;
    TAILQ_INIT(&c->reqs);
    c->retry_ev = evtimer_new(base, conn_on_retry, c);
    c->drop_ev = event_new(base, -1, 0, conn_on_drop, c);
    c->request_ms = 5000;
    backoff_init(&c->backoff, 100, 5000);
    return c;
}

void conn_set_timeouts(struct conn *c, long long request_ms, long long backoff_max_ms)
{
    c->request_ms = request_ms;
    backoff_init(&c->backoff, backoff_max_ms < 100 ? backoff_max_ms : 100, backoff_max_ms);
}

bool conn_is_up(const struct conn *c)
{
    return c->state == CONN_UP;
}

int conn_pending(const struct conn *c)
{
    int n = 0;
    const struct conn_req *r;
    TAILQ_FOREACH(r, &c->reqs, link)
    {
        n++;
    }
    return n;
}

/* The connection is gone (whatever the cause): tell the owner once, log
 * the outage once, and arm the backoff timer for the next attempt. */
static void conn_lost(struct conn *c, const char *why)
{
    bool was_up = c->was_up;
    c->state = CONN_IDLE;
    c->was_up = false;
    c->asking_sentinel = false;
    c->reopen = false;
    if (!c->reported) {
        if (was_up)
            log_notice("redis connection lost conn=%s reason=\"%s\"", c->name, why);
        else
            log_warning("cannot reach redis conn=%s reason=\"%s\"; retrying", c->name, why);
        c->reported = true;
    } else {
        log_debug("redis connect failed conn=%s reason=\"%s\"", c->name, why);
    }
    long long ms =
        (long long)backoff_next(&c->backoff, ((uint64_t)random() << 31) ^ (uint64_t)random());
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->retry_ev, &tv);
    if (was_up && c->ev.down)
        c->ev.down(c, c->arg);
}

static void conn_on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)ac;
    struct conn_req *req = privdata;
    struct conn *c = req->c;
    TAILQ_REMOVE(&c->reqs, req, link);
    if (req->fn)
        req->fn(c, r, req->arg);
    free(req);
}

static bool conn_send(struct conn *c, long long timeout_ms, conn_reply_fn fn, void *arg, int argc,
                      const char **argv, const size_t *lens)
{
    struct conn_req *req = xcalloc(1, sizeof *req);
    req->c = c;
    req->fn = fn;
    req->arg = arg;
    req->deadline = conn_now() + timeout_ms;
    TAILQ_INSERT_TAIL(&c->reqs, req, link);
    if (redisAsyncCommandArgv(c->ac, conn_on_reply, req, argc, argv, lens) != REDIS_OK) {
        TAILQ_REMOVE(&c->reqs, req, link);
        free(req);
        return false;
    }
    return true;
}

bool conn_command(struct conn *c, long long timeout_ms, conn_reply_fn fn, void *arg, int argc,
                  const char **argv, const size_t *lens)
{
    if (c->state != CONN_UP || c->ac == NULL)
        return false;
    return conn_send(c, timeout_ms, fn, arg, argc, argv, lens);
}

bool conn_commandv(struct conn *c, long long timeout_ms, conn_reply_fn fn, void *arg, int argc,
                   const char **argv)
{
    return conn_command(c, timeout_ms, fn, arg, argc, argv, NULL);
}

static bool conn_is_refusal(const char *err)
{
    return strncmp(err, "WRONGPASS", 9) == 0 || strncmp(err, "NOAUTH", 6) == 0 ||
           strncmp(err, "NOPERM", 6) == 0 || strstr(err, "invalid password") != NULL ||
           strstr(err, "invalid username-password") != NULL;
}

/* One handshake reply: AUTH, SELECT or the final PING. */
static void conn_on_handshake(struct conn *c, struct redisReply *reply, void *arg)
{
    (void)arg;
    if (reply == NULL || c->state != CONN_HANDSHAKE)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (conn_is_refusal(reply->str) && c->ev.refused) {
            c->ev.refused(c, reply->str, c->arg);
            return;
        }
        conn_drop(c, reply->str);
        return;
    }
    if (--c->handshake_left > 0)
        return;
    c->state = CONN_UP;
    c->was_up = true;
    c->reported = false;
    backoff_reset(&c->backoff);
    log_notice("redis connected conn=%s", c->name);
    if (c->ev.up)
        c->ev.up(c, c->arg);
}

static void conn_start_handshake(struct conn *c)
{
    c->state = CONN_HANDSHAKE;
    c->handshake_left = 0;
    /* A configured ACL user always authenticates, with an empty password
     * when none is configured (a `nopass` user). */
    bool user = c->user != NULL && *c->user != '\0';
    if (c->password || user) {
        const char *auth[] = {"AUTH", user ? c->user : c->password, c->password ? c->password : ""};
        conn_send(c, c->request_ms, conn_on_handshake, NULL, user ? 3 : 2, auth, NULL);
        c->handshake_left++;
    }
    if (c->target.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->target.db);
        const char *sel[] = {"SELECT", db};
        conn_send(c, c->request_ms, conn_on_handshake, NULL, 2, sel, NULL);
        c->handshake_left++;
    }
    const char *ping[] = {"PING"};
    conn_send(c, c->request_ms, conn_on_handshake, NULL, 1, ping, NULL);
    c->handshake_left++;
}

static void conn_on_connect(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;
    if (c == NULL)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns. */
        c->ac = NULL;
        conn_lost(c, ac->errstr);
        return;
    }
    if (c->asking_sentinel) {
        const char *q[] = {"SENTINEL", "get-master-addr-by-name", c->target.master};
        c->state = CONN_HANDSHAKE;
        conn_send(c, c->request_ms, conn_on_sentinel, NULL, 3, q, NULL);
        return;
    }
    conn_start_handshake(c);
}

static void conn_on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct conn *c = ac->data;
    if (c == NULL)
        return; /* a context we dropped ourselves: conn_on_drop reports it */
    c->ac = NULL;
    conn_lost(c, ac->errstr[0] ? ac->errstr : "closed by the server");
}

static void conn_open(struct conn *c, const char *host, int port, bool unix_path)
{
    redisAsyncContext *ac = unix_path ? redisAsyncConnectUnix(host) : redisAsyncConnect(host, port);
    if (ac == NULL || ac->err) {
        char why[256];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        conn_lost(c, why);
        return;
    }
    ac->data = c;
    c->ac = ac;
    c->state = CONN_CONNECTING;
    redisLibeventAttach(ac, c->base);
    redisAsyncSetConnectCallback(ac, conn_on_connect);
    redisAsyncSetDisconnectCallback(ac, conn_on_disconnect);
}

static void conn_on_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
    struct conn *c = arg;
    if (err == EVUTIL_EAI_CANCEL)
        return;
    c->lookup = NULL;
    if (err != 0 || res == NULL) {
        char why[256];
        snprintf(why, sizeof why, "cannot resolve a redis host name: %s", evutil_gai_strerror(err));
        if (res)
            evutil_freeaddrinfo(res);
        conn_lost(c, why);
        return;
    }
    char ip[INET6_ADDRSTRLEN] = "";
    if (res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof ip);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, ip, sizeof ip);
    evutil_freeaddrinfo(res);
    conn_open(c, ip, c->want_port, false);
}

/* Resolve host when it is a name (without blocking), then open. */
static void conn_connect_to(struct conn *c, const char *host, int port)
{
    unsigned char tmp[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1) {
        conn_open(c, host, port, false);
        return;
    }
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->state = CONN_RESOLVING;
    c->want_port = port;
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(c->dns, host, NULL, &hints, conn_on_resolved, c);
    /* The callback may already have run (hosts file, cache): then req is
     * NULL and the state has moved on. */
    if (req != NULL && c->state == CONN_RESOLVING)
        c->lookup = req;
}

/* One attempt. With Sentinel: ask the next Sentinel for the master first
 * (conn_on_sentinel), then connect to the address it gave. */
static void conn_connect(struct conn *c)
{
    c->connect_deadline = conn_now() + c->request_ms;
    if (c->target.kind == CFG_REDIS_UNIX) {
        conn_open(c, c->target.addrs[0].host, 0, true);
    } else if (c->target.kind == CFG_REDIS_SENTINEL) {
        const struct cfg_redis_addr *a = &c->target.addrs[c->sentinel_next++ % c->target.naddrs];
        c->asking_sentinel = true;
        conn_connect_to(c, a->host, a->port);
    } else {
        conn_connect_to(c, c->target.addrs[0].host, c->target.addrs[0].port);
    }
}

static void conn_on_sentinel(struct conn *c, struct redisReply *r, void *arg)
{
    (void)arg;
    if (r == NULL || c->state != CONN_HANDSHAKE)
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
        conn_drop(c, "the sentinel does not know the master");
        return;
    }
    free(c->master_host);
    c->master_host = xstrndup(r->element[0]->str, r->element[0]->len);
    c->master_port = atoi(r->element[1]->str);
    c->asking_sentinel = false;
    c->reopen = true;
    conn_drop(c, "sentinel answered");
}

void conn_start(struct conn *c)
{
    if (c->state == CONN_IDLE && !evtimer_pending(c->retry_ev, NULL))
        conn_connect(c);
}

/* Free the context outside any hiredis callback: pending requests get
 * NULL, then the connection counts as lost. */
static void conn_on_drop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    if (ac) {
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    if (c->lookup) {
        struct evdns_getaddrinfo_request *req = c->lookup;
        c->lookup = NULL;
        evdns_getaddrinfo_cancel(req);
    }
    char *why = c->drop_why;
    c->drop_why = NULL;
    if (c->reopen) {
        c->reopen = false;
        c->connect_deadline = conn_now() + c->request_ms;
        conn_connect_to(c, c->master_host, c->master_port);
    } else {
        conn_lost(c, why ? why : "dropped");
    }
    free(why);
}

void conn_drop(struct conn *c, const char *why)
{
    if (c->state == CONN_DROPPING || c->state == CONN_IDLE)
        return;
    c->state = CONN_DROPPING;
    free(c->drop_why);
    c->drop_why = xstrdup(why);
    event_active(c->drop_ev, 0, 0);
}

void conn_tick(struct conn *c)
{
    /* Test builds only: leave overdue requests alone, so that a silent
     * Redis shows as deaf (no WATCHDOG=1) instead of being reconnected. */
    if (failpoint_on("no_deadline"))
        return;
    int64_t now = conn_now();
    if (c->state == CONN_RESOLVING || c->state == CONN_CONNECTING) {
        if (now > c->connect_deadline)
            conn_drop(c, "connect timed out");
        return;
    }
    const struct conn_req *head = TAILQ_FIRST(&c->reqs);
    if ((c->state == CONN_UP || c->state == CONN_HANDSHAKE) && head && now > head->deadline)
        conn_drop(c, "request timed out");
}

bool conn_is_deaf(const struct conn *c)
{
    const struct conn_req *head = TAILQ_FIRST(&c->reqs);
    return c->state == CONN_UP && head != NULL && conn_now() > head->deadline;
}

void conn_free(struct conn *c)
{
    if (c == NULL)
        return;
    c->ev.down = NULL; /* the owner is going away: no more news */
    c->ev.up = NULL;
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->state = CONN_DROPPING;
    if (ac) {
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    if (c->lookup)
        evdns_getaddrinfo_cancel(c->lookup);
    event_free(c->retry_ev);
    event_free(c->drop_ev);
    free(c->drop_why);
    free(c->master_host);
    cfg_redis_free(&c->target);
    free(c->name);
    free(c->user);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c);
}
