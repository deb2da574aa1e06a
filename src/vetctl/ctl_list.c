/* vetctl list: the applications of one state ranked by score, merged from
 * the per-role state sets (SPEC §2) with ranged reads, so its cost grows
 * with the roles and the limit, never with the number of applications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>

#include "ctl.h"
#include "keys.h"
#include "out.h"
#include "rconn.h"
#include "state.h"
#include "xmalloc.h"

#define LIST_NAME_WIDTH 32

struct row {
    char *id;
    long long score;
    redisReply *f; /* HMGET of the columns, owned */
};

static const char *const columns[] = {"id",   "score", "version",     "state",
                                      "role", "name",  "submitted_at"};
#define NCOLUMNS 7

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(y->id, x->id);
}

/* The top `limit` ids of every role's set, best first. */
static int top_ids(struct ctl *ctl, const struct ctl_strv *roles, const char *state, long long min,
                   long long limit, struct row **rows, size_t *nrows)
{
    char *cause = NULL;
    int rc = 0;

    for (size_t i = 0; i < roles->n; i++) {
        struct rconn_args a = {0};
        rconn_args_add(&a, "ZREVRANGEBYSCORE");
        rconn_args_take(&a, keys_state(ctl_prefix(ctl), roles->v[i], state));
        rconn_args_add(&a, "+inf");
        rconn_args_addf(&a, "%lld", min);
        rconn_args_add(&a, "WITHSCORES");
        rconn_args_add(&a, "LIMIT");
        rconn_args_add(&a, "0");
        rconn_args_addf(&a, "%lld", limit);
        rconn_append(ctl->redis, &a);
        rconn_args_free(&a);
    }
    for (size_t i = 0; i < roles->n; i++) {
        redisReply *r = rconn_next(ctl->redis, &cause);
        if (r == NULL) {
            rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
            free(cause);
            return rc;
        }
        for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2) {
            *rows = xreallocarray(*rows, *nrows + 1, sizeof **rows);
            (*rows)[*nrows].id = xstrdup(r->element[k]->str);
            (*rows)[*nrows].score = strtoll(r->element[k + 1]->str, NULL, 10);
            (*rows)[(*nrows)++].f = NULL;
        }
        if (r->type == REDIS_REPLY_ERROR)
            rc = ctl_fail(ctl, EX_UNAVAILABLE, "redis: %s", r->str);
        freeReplyObject(r);
    }
    if (*nrows > 1)
        qsort(*rows, *nrows, sizeof **rows, cmp_row);
    return rc;
}

/* Read the columns of the first n rows in one pipeline. */
static int fetch_rows(struct ctl *ctl, struct row *rows, size_t n)
{
    char *cause = NULL;
    for (size_t i = 0; i < n; i++) {
        struct rconn_args a = {0};
        rconn_args_add(&a, "HMGET");
        rconn_args_take(&a, keys_app(ctl_prefix(ctl), rows[i].id));
        for (int c = 0; c < NCOLUMNS; c++)
            rconn_args_add(&a, columns[c]);
        rconn_append(ctl->redis, &a);
        rconn_args_free(&a);
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].f = rconn_next(ctl->redis, &cause);
        if (rows[i].f == NULL) {
            int rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
            free(cause);
            return rc;
        }
    }
    return 0;
}

static const char *col(const struct row *r, int c)
{
    if (r->f == NULL || r->f->type != REDIS_REPLY_ARRAY || (size_t)c >= r->f->elements ||
        r->f->element[c]->type != REDIS_REPLY_STRING)
        return c == 0 ? r->id : "";
    return r->f->element[c]->str;
}

static void print_json(const struct row *rows, size_t n)
{
    struct buf b = BUF_INIT;
    buf_addc(&b, '[');
    for (size_t i = 0, first = 1; i < n; i++) {
        buf_adds(&b, first ? "{" : ",{");
        first = 0;
        for (int c = 0; c < NCOLUMNS; c++) {
            const char *v = col(&rows[i], c);
            buf_printf(&b, "%s\"%s\":", c ? "," : "", columns[c]);
            if (c == 1 || c == 2)
                buf_printf(&b, "%lld", strtoll(v, NULL, 10));
            else
                buf_add_json_str(&b, v, strlen(v));
        }
        buf_addc(&b, '}');
    }
    printf("%s]\n", b.data);
    buf_free(&b);
}

static void print_table(struct ctl *ctl, const struct row *rows, size_t n, const char *state)
{
    static const char *const head[NCOLUMNS] = {"ID",   "SCORE", "VER",      "STATE",
                                               "ROLE", "NAME",  "SUBMITTED"};
    size_t w[NCOLUMNS];
    struct buf b = BUF_INIT;

    if (n == 0) {
        printf("no applications in state %s\n", state);
        return;
    }
    for (int c = 0; c < NCOLUMNS; c++) {
        w[c] = strlen(head[c]);
        for (size_t i = 0; i < n; i++) {
            size_t cw = out_width(col(&rows[i], c), strlen(col(&rows[i], c)));
            w[c] = cw > w[c] ? cw : w[c];
        }
    }
    w[5] = w[5] > LIST_NAME_WIDTH ? LIST_NAME_WIDTH : w[5];
    buf_adds(&b, out_on(ctl->color, OUT_BOLD));
    for (int c = 0; c < NCOLUMNS; c++) {
        out_cell(&b, head[c], c == NCOLUMNS - 1 ? 0 : w[c], false);
        buf_adds(&b, c == NCOLUMNS - 1 ? "" : "  ");
    }
    buf_printf(&b, "%s\n", out_off(ctl->color));
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < NCOLUMNS; c++) {
            if (c == 1 || c == 2)
                buf_printf(&b, "%*s  ", (int)w[c], col(&rows[i], c));
            else
                out_cell(&b, col(&rows[i], c), c == NCOLUMNS - 1 ? 0 : w[c], c != NCOLUMNS - 1);
            buf_adds(&b, c == 1 || c == 2 || c == NCOLUMNS - 1 ? "" : "  ");
        }
        buf_addc(&b, '\n');
    }
    fputs(b.data, stdout);
    buf_free(&b);
}

struct list_opts {
    const char *state, *role, *min_s, *limit_s;
    long long min, limit;
};

static int list_args(struct ctl *ctl, int argc, char **argv, struct list_opts *o)
{
    const struct ctl_opt opts[] = {{"--state", true, &o->state, NULL},
                                   {"--role", true, &o->role, NULL},
                                   {"--min-score", true, &o->min_s, NULL},
                                   {"--limit", true, &o->limit_s, NULL},
                                   {NULL, false, NULL, NULL}};
    enum state st;
    char *pos[1];
    int npos, rc;

    if ((rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 0, 0)) != 0)
        return rc;
    if (o->state == NULL)
        o->state = "qualified";
    if (!state_parse(o->state, &st))
        return ctl_fail(ctl, EX_USAGE, "unknown state '%s'", o->state);
    if (o->min_s != NULL && (!ctl_parse_num(o->min_s, &o->min) || o->min > 100))
        return ctl_fail(ctl, EX_USAGE, "--min-score needs a number 0-100");
    if (o->limit_s != NULL &&
        (!ctl_parse_num(o->limit_s, &o->limit) || o->limit < 1 || o->limit > 100000))
        return ctl_fail(ctl, EX_USAGE, "--limit needs a number 1-100000");
    return 0;
}

int ctl_list(struct ctl *ctl, int argc, char **argv)
{
    struct list_opts o = {NULL, NULL, NULL, NULL, 0, 20};
    struct ctl_strv roles = {0};
    struct row *rows = NULL;
    size_t nrows = 0;
    int rc;

    if ((rc = list_args(ctl, argc, argv, &o)) != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if (o.role != NULL)
        ctl_strv_add(&roles, o.role);
    else if ((rc = ctl_roles(ctl, &roles)) != 0)
        goto out;
    if ((rc = top_ids(ctl, &roles, o.state, o.min, o.limit, &rows, &nrows)) != 0)
        goto out;
    while (nrows > (size_t)o.limit)
        free(rows[--nrows].id);
    if ((rc = fetch_rows(ctl, rows, nrows)) != 0)
        goto out;
    if (ctl->json)
        print_json(rows, nrows);
    else
        print_table(ctl, rows, nrows, o.state);
out:
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].id);
        if (rows[i].f)
            freeReplyObject(rows[i].f);
    }
    free(rows);
    ctl_strv_free(&roles);
    return rc;
}
