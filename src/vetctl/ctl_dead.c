/* vetctl dead: list, show, retry and drop dead letters (`P dead:<seq>`).
 * A retry puts the raw payload back at the taking end of the queue
 * byte-for-byte and resets its delivery count, in one Function call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>
#include <nettle/base64.h>

#include "app.h"
#include "ctl.h"
#include "keys.h"
#include "out.h"
#include "rconn.h"
#include "xmalloc.h"

static const char *const dead_fields[] = {"reason",   "detail", "at",
                                          "instance", "digest", "email_sha1"};
#define NDEAD_FIELDS 6

int ctl_dead_seqs(struct ctl *ctl, redisReply **out)
{
    struct rconn_args a = {0};
    char *cause = NULL;
    int rc = 0;

    rconn_args_add(&a, "LRANGE");
    rconn_args_take(&a, keys_dead(ctl_prefix(ctl)));
    rconn_args_add(&a, "0");
    rconn_args_add(&a, "-1");
    *out = rconn_run(ctl->redis, &a, &cause);
    rconn_args_free(&a);
    if (*out == NULL || (*out)->type != REDIS_REPLY_ARRAY)
        rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : *out ? (*out)->str : "LRANGE");
    free(cause);
    return rc;
}

int ctl_dead_field(struct ctl *ctl, const redisReply *seqs, const char *field, redisReply ***out)
{
    struct rconn_args *cmds = xcalloc(seqs->elements + 1, sizeof *cmds);
    int rc;

    for (size_t i = 0; i < seqs->elements; i++) {
        rconn_args_add(&cmds[i], "HGET");
        rconn_args_take(&cmds[i],
                        keys_dead_item(ctl_prefix(ctl), strtoll(seqs->element[i]->str, NULL, 10)));
        rconn_args_add(&cmds[i], field);
    }
    rc = ctl_pipeline(ctl, cmds, seqs->elements, out);
    free(cmds);
    return rc;
}

static const char *field(const redisReply *r, int i)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || (size_t)i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_STRING)
        return NULL;
    return r->element[i]->str;
}

static void list_json(struct buf *b, const redisReply *seqs, redisReply **rr)
{
    buf_addc(b, '[');
    for (size_t i = 0; i < seqs->elements; i++) {
        buf_printf(b, "%s{\"seq\":%s", i ? "," : "", seqs->element[i]->str);
        for (int f = 0; f < NDEAD_FIELDS; f++) {
            const char *v = field(rr[i], f);
            buf_printf(b, ",\"%s\":", dead_fields[f]);
            if (v)
                buf_add_json_str(b, v, strlen(v));
            else
                buf_adds(b, "null");
        }
        buf_printf(b, ",\"payload_bytes\":%lld}", rconn_int(rr[seqs->elements + i]));
    }
    buf_adds(b, "]\n");
}

static void list_text(struct ctl *ctl, struct buf *b, const redisReply *seqs, redisReply **rr)
{
    if (seqs->elements == 0) {
        buf_adds(b, "no dead letters\n");
        return;
    }
    buf_printf(b, "%s%6s  %-24s  %-13s  %8s  %s%s\n", out_on(ctl->color, OUT_BOLD), "SEQ", "AT",
               "REASON", "BYTES", "DETAIL", out_off(ctl->color));
    for (size_t i = 0; i < seqs->elements; i++) {
        buf_printf(b, "%6s  ", seqs->element[i]->str);
        out_cell(b, field(rr[i], 2) ? field(rr[i], 2) : "-", 24, true);
        buf_adds(b, "  ");
        out_cell(b, field(rr[i], 0) ? field(rr[i], 0) : "-", 13, false);
        buf_printf(b, "  %8lld  ", rconn_int(rr[seqs->elements + i]));
        out_cell(b, field(rr[i], 1) ? field(rr[i], 1) : "", 0, false);
        buf_addc(b, '\n');
    }
}

static int dead_list(struct ctl *ctl)
{
    redisReply *seqs = NULL, **rr = NULL;
    struct buf b = BUF_INIT;
    int rc = ctl_dead_seqs(ctl, &seqs);
    size_t n = rc == 0 ? seqs->elements : 0;
    struct rconn_args *cmds = xcalloc(2 * n + 1, sizeof *cmds);

    for (size_t i = 0; i < n; i++) {
        long long seq = strtoll(seqs->element[i]->str, NULL, 10);
        rconn_args_add(&cmds[i], "HMGET");
        rconn_args_take(&cmds[i], keys_dead_item(ctl_prefix(ctl), seq));
        for (int f = 0; f < NDEAD_FIELDS; f++)
            rconn_args_add(&cmds[i], dead_fields[f]);
        rconn_args_add(&cmds[n + i], "HSTRLEN");
        rconn_args_take(&cmds[n + i], keys_dead_item(ctl_prefix(ctl), seq));
        rconn_args_add(&cmds[n + i], "payload");
    }
    if (rc == 0 && (rc = ctl_pipeline(ctl, cmds, 2 * n, &rr)) == 0) {
        if (ctl->json)
            list_json(&b, seqs, rr);
        else
            list_text(ctl, &b, seqs, rr);
        fputs(b.data, stdout);
    }
    ctl_replies_free(rr, 2 * n);
    free(cmds);
    buf_free(&b);
    if (seqs)
        freeReplyObject(seqs);
    return rc;
}

static void add_base64(struct buf *b, const char *p, size_t n)
{
    char *enc = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
    base64_encode_raw(enc, n, (const uint8_t *)p);
    buf_add(b, enc, BASE64_ENCODE_RAW_LENGTH(n));
    free(enc);
}

void ctl_dead_json(struct buf *b, long long seq, const redisReply *h)
{
    buf_printf(b, "{\"seq\":%lld", seq);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        bool text = app_utf8_valid(v->str, v->len);
        if (strcmp(k->str, "payload") == 0) {
            buf_printf(b, ",\"payload_encoding\":\"%s\",\"payload\":", text ? "text" : "base64");
            if (!text) {
                buf_addc(b, '"');
                add_base64(b, v->str, v->len);
                buf_addc(b, '"');
                continue;
            }
        } else {
            buf_addc(b, ',');
            buf_add_json_str(b, k->str, k->len);
            buf_addc(b, ':');
        }
        buf_add_json_str(b, v->str, v->len);
    }
    buf_addc(b, '}');
}

static void show_text(struct ctl *ctl, struct buf *b, long long seq, const redisReply *h)
{
    const redisReply *payload = NULL;

    buf_printf(b, "%sdead letter %lld%s\n", out_on(ctl->color, OUT_BOLD), seq, out_off(ctl->color));
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        if (strcmp(h->element[i]->str, "payload") == 0) {
            payload = h->element[i + 1];
            continue;
        }
        buf_adds(b, "  ");
        out_cell(b, h->element[i]->str, 11, false);
        buf_adds(b, " ");
        out_escape(b, h->element[i + 1]->str, h->element[i + 1]->len, 0);
        buf_addc(b, '\n');
    }
    if (payload == NULL) {
        buf_adds(b, "  (no payload kept)\n");
    } else if (app_utf8_valid(payload->str, payload->len)) {
        buf_printf(b, "  payload (%zu bytes, text):\n", payload->len);
        out_escape(b, payload->str, payload->len, OUT_KEEP_NL | OUT_KEEP_TAB);
        buf_addc(b, '\n');
    } else {
        buf_printf(b, "  payload (%zu bytes, not UTF-8, base64):\n", payload->len);
        add_base64(b, payload->str, payload->len);
        buf_addc(b, '\n');
    }
}

static int dead_show(struct ctl *ctl, long long seq)
{
    struct rconn_args a = {0};
    struct buf b = BUF_INIT;
    char *cause = NULL;
    int rc = 0;

    rconn_args_add(&a, "HGETALL");
    rconn_args_take(&a, keys_dead_item(ctl_prefix(ctl), seq));
    redisReply *h = rconn_run(ctl->redis, &a, &cause);
    rconn_args_free(&a);
    if (h == NULL || h->type != REDIS_REPLY_ARRAY)
        rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : h ? h->str : "HGETALL");
    else if (h->elements == 0)
        rc = ctl_fail(ctl, EX_NOINPUT, "no dead letter %lld", seq);
    else if (ctl->json) {
        ctl_dead_json(&b, seq, h);
        buf_addc(&b, '\n');
    } else
        show_text(ctl, &b, seq, h);
    if (b.data)
        fputs(b.data, stdout);
    buf_free(&b);
    free(cause);
    if (h)
        freeReplyObject(h);
    return rc;
}

/* One retry or drop Function call; returns its status word or NULL. */
static char *dead_call(struct ctl *ctl, const char *fn, long long seq, char **cause)
{
    const char *p = ctl_prefix(ctl);
    struct rconn_args a = {0};
    bool retry = strcmp(fn, "dead_retry") == 0;

    rconn_args_take(&a, keys_dead_item(p, seq));
    rconn_args_take(&a, keys_dead(p));
    if (retry) {
        rconn_args_take(&a, keys_deliveries(p));
        rconn_args_take(&a, keys_submissions(p));
    }
    rconn_args_addf(&a, "%lld", seq);
    redisReply *r = rconn_fcall(ctl->redis, fn, retry ? 4 : 2, &a, cause);
    rconn_args_free(&a);
    char *st = NULL;
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        *cause = xasprintf("redis: %s", r->str);
    else if (r != NULL)
        st = xstrdup(rconn_str(r) ? rconn_str(r) : "?");
    if (r)
        freeReplyObject(r);
    return st;
}

/* Retry or drop one seq; prints a line; returns an exit code. */
static int dead_one(struct ctl *ctl, const char *fn, long long seq)
{
    char *cause = NULL;
    char *st = dead_call(ctl, fn, seq, &cause);
    bool retry = strcmp(fn, "dead_retry") == 0;
    int rc = 0;

    if (st == NULL)
        rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
    else if (strcmp(st, "notfound") == 0)
        rc = ctl_fail(ctl, EX_NOINPUT, "no dead letter %lld", seq);
    else if (strcmp(st, "nopayload") == 0)
        rc = ctl_fail(ctl, EX_DATAERR, "dead letter %lld keeps no payload, nothing to retry", seq);
    else if (ctl->json)
        printf("{\"seq\":%lld,\"%s\":true}\n", seq, retry ? "retried" : "dropped");
    else
        printf("dead letter %lld %s\n", seq, retry ? "queued again" : "dropped");
    free(st);
    free(cause);
    return rc;
}

/* retry --all: every dead letter with a payload; those without are kept.
 * Newest first: each goes to the taking end, so the oldest, pushed last,
 * is taken first again and the letters keep their order. */
static int dead_retry_all(struct ctl *ctl)
{
    redisReply *seqs = NULL;
    long long done = 0, kept = 0;
    int rc = ctl_dead_seqs(ctl, &seqs);

    for (size_t i = rc == 0 ? seqs->elements : 0; rc == 0 && i-- > 0;) {
        char *cause = NULL;
        char *st = dead_call(ctl, "dead_retry", strtoll(seqs->element[i]->str, NULL, 10), &cause);
        if (st == NULL)
            rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
        else if (strcmp(st, "ok") == 0)
            done++;
        else if (strcmp(st, "nopayload") == 0)
            kept++;
        free(st);
        free(cause);
    }
    if (rc == 0 && ctl->json)
        printf("{\"retried\":%lld,\"kept_without_payload\":%lld}\n", done, kept);
    else if (rc == 0)
        printf("%lld dead letters queued again; %lld kept (no payload)\n", done, kept);
    if (seqs)
        freeReplyObject(seqs);
    return rc;
}

int ctl_dead(struct ctl *ctl, int argc, char **argv)
{
    bool all = false;
    const struct ctl_opt opts[] = {{"--all", false, NULL, &all}, {NULL, false, NULL, NULL}};
    char *pos[2];
    int npos, rc;
    long long seq = -1;

    if ((rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 1, 2)) != 0)
        return rc < 0 ? 0 : rc;
    const char *sub = pos[0];
    bool wants_seq =
        strcmp(sub, "show") == 0 || strcmp(sub, "drop") == 0 || (strcmp(sub, "retry") == 0 && !all);
    if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "retry") != 0 &&
        strcmp(sub, "drop") != 0) {
        ctl_fail(ctl, EX_USAGE, "unknown subcommand '%s'", sub);
        return ctl_usage("dead", false);
    }
    if ((all && strcmp(sub, "retry") != 0) || (wants_seq != (npos == 2)) ||
        (npos == 2 && !ctl_parse_num(pos[1], &seq))) {
        ctl_fail(ctl, EX_USAGE, "%s: %s", sub, wants_seq ? "needs one SEQ number" : "takes no SEQ");
        return ctl_usage("dead", false);
    }
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if (strcmp(sub, "list") == 0)
        return dead_list(ctl);
    if (strcmp(sub, "show") == 0)
        return dead_show(ctl, seq);
    if (strcmp(sub, "drop") == 0)
        return dead_one(ctl, "dead_drop", seq);
    return all ? dead_retry_all(ctl) : dead_one(ctl, "dead_retry", seq);
}
