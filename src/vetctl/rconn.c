/* vetctl's synchronous Redis client: connection, authentication, commands,
 * pipelines and Function calls on top of the hiredis 0.14 sync API. */
#include "rconn.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sysexits.h>

#include "cfg.h"
#include "lualib.h"
#include "xmalloc.h"

/* Every request gets this long before vetctl gives up on Redis. */
#define RCONN_TIMEOUT_MS 5000

void rconn_args_addn(struct rconn_args *a, const char *s, size_t n)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xreallocarray(a->v, (size_t)a->cap, sizeof *a->v);
        a->len = xreallocarray(a->len, (size_t)a->cap, sizeof *a->len);
    }
    a->v[a->n] = xmalloc(n + 1);
    memcpy(a->v[a->n], s, n);
    a->v[a->n][n] = '\0';
    a->len[a->n++] = n;
}

void rconn_args_add(struct rconn_args *a, const char *s)
{
    rconn_args_addn(a, s, strlen(s));
}

void rconn_args_addf(struct rconn_args *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    rconn_args_take(a, s);
}

void rconn_args_take(struct rconn_args *a, char *s)
{
    rconn_args_add(a, s);
    free(s);
}

void rconn_args_free(struct rconn_args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    free(a->len);
    memset(a, 0, sizeof *a);
}

const char *rconn_str(const redisReply *r)
{
    if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
                      r->type != REDIS_REPLY_ERROR))
        return NULL;
    return r->str;
}

long long rconn_int(const redisReply *r)
{
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING) {
        char *end;
        long long v = strtoll(r->str, &end, 10);
        return (*r->str != '\0' && *end == '\0') ? v : -1;
    }
    return -1;
}

bool rconn_nil(const redisReply *r)
{
    return r == NULL || r->type == REDIS_REPLY_NIL;
}

static char *ctx_cause(redisContext *c)
{
    return xasprintf("redis: %s", c->errstr[0] ? c->errstr : "connection lost");
}

redisReply *rconn_run(redisContext *c, const struct rconn_args *a, char **cause)
{
    redisReply *r = redisCommandArgv(c, a->n, (const char **)a->v, a->len);
    if (r == NULL)
        *cause = ctx_cause(c);
    return r;
}

void rconn_append(redisContext *c, const struct rconn_args *a)
{
    redisAppendCommandArgv(c, a->n, (const char **)a->v, a->len);
}

redisReply *rconn_next(redisContext *c, char **cause)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
        *cause = ctx_cause(c);
        return NULL;
    }
    return r;
}

/* Run a command given as words; NULL with *cause on failure, and an error
 * reply turned into *cause too. */
static redisReply *simple(redisContext *c, char **cause, int n, const char **words)
{
    struct rconn_args a = {0};
    for (int i = 0; i < n; i++)
        rconn_args_add(&a, words[i]);
    redisReply *r = rconn_run(c, &a, cause);
    rconn_args_free(&a);
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        *cause = xasprintf("redis: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static redisContext *open_addr(bool unix_socket, const char *host, int port, char **cause)
{
    struct timeval tv = {RCONN_TIMEOUT_MS / 1000, (RCONN_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = unix_socket ? redisConnectUnixWithTimeout(host, tv)
                                  : redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        *cause = xasprintf("cannot connect to Redis at %s%s%.0d: %s", host, unix_socket ? "" : ":",
                           unix_socket ? 0 : port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* Ask each sentinel in turn where the master is, and connect to it. */
static redisContext *open_sentinel(const struct cfg_redis_target *t, char **cause)
{
    for (int i = 0; i < t->naddrs; i++) {
        free(*cause);
        *cause = NULL;
        redisContext *s = open_addr(false, t->addrs[i].host, t->addrs[i].port, cause);
        if (s == NULL)
            continue;
        const char *w[] = {"SENTINEL", "get-master-addr-by-name", t->master};
        redisReply *r = simple(s, cause, 3, w);
        redisFree(s);
        if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
            char *host = xstrdup(r->element[0]->str);
            int port = atoi(r->element[1]->str);
            freeReplyObject(r);
            redisContext *m = open_addr(false, host, port, cause);
            free(host);
            return m;
        }
        if (r != NULL && *cause == NULL)
            *cause = xasprintf("sentinel %s:%d does not know master '%s'", t->addrs[i].host,
                               t->addrs[i].port, t->master);
        freeReplyObject(r);
    }
    return NULL;
}

/* AUTH and SELECT. A configured ACL user always authenticates, with an
 * empty password when no file gives one (a `nopass` user), so the actor
 * recorded as that user really is the one connected. */
static int handshake(redisContext *c, const struct cfg *cfg, int db, char **cause)
{
    char *pw = cfg_read_password(cfg, cause);
    bool user = cfg->redis_user != NULL && *cfg->redis_user != '\0';
    if (pw == NULL && *cause != NULL)
        return EX_CONFIG;
    if (pw != NULL || user) {
        const char *w[] = {"AUTH", user ? cfg->redis_user : pw, pw ? pw : ""};
        redisReply *r = simple(c, cause, user ? 3 : 2, w);
        free(pw);
        if (r == NULL)
            return EX_UNAVAILABLE;
        freeReplyObject(r);
    }
    if (db != 0) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", db);
        const char *w[] = {"SELECT", dbs};
        redisReply *r = simple(c, cause, 2, w);
        if (r == NULL)
            return EX_UNAVAILABLE;
        freeReplyObject(r);
    }
    return 0;
}

int rconn_connect(const struct cfg *cfg, const char *url, redisContext **out, char **cause)
{
    struct cfg_redis_target t;
    redisContext *c = NULL;
    int rc;

    *out = NULL;
    *cause = NULL;
    if (!cfg_redis_parse(url ? url : cfg->redis, &t, cause)) {
        /* Name the option or key; never echo the URL (it may hold a password). */
        char *reason = *cause;
        *cause = xasprintf("%s: %s", url ? "--redis" : "redis", reason);
        free(reason);
        return url ? EX_USAGE : EX_CONFIG;
    }
    if (t.kind == CFG_REDIS_SENTINEL)
        c = open_sentinel(&t, cause);
    else
        c = open_addr(t.kind == CFG_REDIS_UNIX, t.addrs[0].host, t.addrs[0].port, cause);
    rc = c ? handshake(c, cfg, t.db, cause) : EX_UNAVAILABLE;
    cfg_redis_free(&t);
    if (rc != 0) {
        redisFree(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* FUNCTION LOAD without REPLACE: another process may have loaded the same
 * version a moment ago, and "already exists" means just that. */
static bool load_library(redisContext *c, char **cause)
{
    const char *w[] = {"FUNCTION", "LOAD", lualib_source};
    redisReply *r = simple(c, cause, 3, w);
    if (r == NULL && *cause != NULL && strstr(*cause, "already exists") != NULL) {
        free(*cause);
        *cause = NULL;
        return true;
    }
    freeReplyObject(r);
    return r != NULL;
}

redisReply *rconn_fcall(redisContext *c, const char *fn, int nkeys, const struct rconn_args *a,
                        char **cause)
{
    struct rconn_args call = {0};
    redisReply *r = NULL;

    rconn_args_add(&call, "FCALL");
    rconn_args_addf(&call, "%s_%s", lualib_name, fn);
    rconn_args_addf(&call, "%d", nkeys);
    for (int i = 0; i < a->n; i++)
        rconn_args_addn(&call, a->v[i], a->len[i]);
    for (int attempt = 0; attempt < 2; attempt++) {
        r = rconn_run(c, &call, cause);
        if (r == NULL || r->type != REDIS_REPLY_ERROR || attempt == 1 ||
            strstr(r->str, "Function not found") == NULL)
            break;
        freeReplyObject(r);
        r = NULL;
        if (!load_library(c, cause))
            break;
    }
    rconn_args_free(&call);
    return r;
}
