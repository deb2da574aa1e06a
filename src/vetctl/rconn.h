/* vetctl's synchronous Redis connection: connect (tcp, unix or through
 * Sentinel), authenticate, select the database, run commands built as
 * argument vectors, pipeline them, and call the vetd Functions library
 * (loading it when the server does not have this version yet). */
#ifndef VETCTL_RCONN_H
#define VETCTL_RCONN_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

struct cfg;

/* An argument vector for one command; the strings are owned copies. */
struct rconn_args {
    char **v;
    size_t *len;
    int n;
    int cap;
};

void rconn_args_add(struct rconn_args *a, const char *s);
void rconn_args_addn(struct rconn_args *a, const char *s, size_t n);
void rconn_args_addf(struct rconn_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add and free s (a key from keys.h, say). */
void rconn_args_take(struct rconn_args *a, char *s);
void rconn_args_free(struct rconn_args *a);

/* Connect as cfg says (url overrides cfg->redis when not NULL). Returns 0
 * and sets *out, or a sysexits code (69 unreachable or refused, 78 bad
 * configuration, 64 bad url) with *cause set (caller frees). */
int rconn_connect(const struct cfg *cfg, const char *url, redisContext **out, char **cause);

/* Run one command. Returns the reply (caller frees) or NULL with *cause
 * set when the connection failed. An error reply is returned as a reply. */
redisReply *rconn_run(redisContext *c, const struct rconn_args *a, char **cause);
/* Queue a command for pipelining; collect with rconn_next(). */
void rconn_append(redisContext *c, const struct rconn_args *a);
redisReply *rconn_next(redisContext *c, char **cause);

/* FCALL <lualib_name>_<fn> with nkeys keys taken from the front of a
 * (a holds keys then arguments). Loads the library once when the server
 * answers that the function does not exist. Returns the reply or NULL
 * with *cause set. */
redisReply *rconn_fcall(redisContext *c, const char *fn, int nkeys, const struct rconn_args *a,
                        char **cause);

/* Small reply accessors: NULL / -1 when the reply is not of that shape. */
const char *rconn_str(const redisReply *r);
long long rconn_int(const redisReply *r);
/* A nil reply? */
bool rconn_nil(const redisReply *r);

#endif
