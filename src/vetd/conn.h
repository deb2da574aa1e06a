/* One Redis connection of the daemon over hiredis 0.14's async API: name
 * resolution without blocking the loop, AUTH/SELECT, a deadline on every
 * request, and reconnection with capped, jittered exponential backoff. */
#ifndef VETD_CONN_H
#define VETD_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct event_base;
struct evdns_base;
struct cfg_redis_target;
struct redisReply;

/* A reply callback. reply is borrowed (valid during the call only) and
 * NULL when the connection was lost before it answered. The callback may
 * send new commands and may call conn_drop(), never conn_free(). */
typedef void (*conn_reply_fn)(struct conn *c, struct redisReply *reply, void *arg);

/* What the owner hears of the connection's life; arg is the owner's (as
 * given to conn_new). The same rules as for a reply callback hold: each
 * may send commands (this connection accepts them only while up) and may
 * call conn_drop(), never conn_free(). */
struct conn_events {
    void (*up)(struct conn *c, void *arg);   /* handshake done: send away */
    void (*down)(struct conn *c, void *arg); /* lost; every pending reply got NULL */
    /* Redis refused the credentials: the daemon exits 69. */
    void (*refused)(struct conn *c, const char *reason, void *arg);
};

/* name ("main", "intake") appears in the logs. target, user and password
 * are copied. The owner keeps dns alive until conn_free(). */
struct conn *conn_new(struct event_base *base, struct evdns_base *dns, const char *name,
                      const struct cfg_redis_target *target, const char *user, const char *password,
                      const struct conn_events *ev, void *arg);
/* Frees the connection; pending callbacks are called with NULL first. */
void conn_free(struct conn *c);
/* Start connecting (and keep reconnecting until conn_free). */
void conn_start(struct conn *c);
/* Deadline of requests and of connecting, and the cap of the backoff. */
void conn_set_timeouts(struct conn *c, long long request_ms, long long backoff_max_ms);
bool conn_is_up(const struct conn *c);
/* Send one command with its own deadline (ms from now). fn may be NULL:
 * the reply is then discarded. lens may be NULL: every argument is a C
 * string. The argv strings are copied before this returns. False when the
 * connection is not up (fn is then not called). */
bool conn_command(struct conn *c, long long timeout_ms, conn_reply_fn fn, void *arg, int argc,
                  const char **argv, const size_t *lens);
/* conn_command() for arguments that are all C strings. */
bool conn_commandv(struct conn *c, long long timeout_ms, conn_reply_fn fn, void *arg, int argc,
                   const char **argv);
/* From the maintenance tick: drop a connection whose oldest request or
 * connect attempt is past its deadline. */
void conn_tick(struct conn *c);
/* Drop the connection (deferred to the next loop turn) and reconnect. */
void conn_drop(struct conn *c, const char *why);
/* Up, but with a request past its deadline (a reconnect under way is not
 * deaf: it is visibly doing something). */
bool conn_is_deaf(const struct conn *c);
/* Number of requests sent and not yet answered. */
int conn_pending(const struct conn *c);

#endif
