/* Reading one application and its history, and writing them as JSON. */
#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "ctl.h"
#include "keys.h"
#include "match.h"
#include "rconn.h"
#include "xmalloc.h"

int app_load(struct ctl *ctl, const char *id, struct app *a)
{
    struct rconn_args args = {0};
    char *cause = NULL;

    memset(a, 0, sizeof *a);
    a->id = xstrdup(id);
    rconn_args_add(&args, "HGETALL");
    rconn_args_take(&args, keys_app(ctl_prefix(ctl), id));
    a->fields = rconn_run(ctl->redis, &args, &cause);
    rconn_args_free(&args);
    if (a->fields == NULL || a->fields->type != REDIS_REPLY_ARRAY) {
        int rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s",
                          cause ? cause : (a->fields ? a->fields->str : "no reply"));
        free(cause);
        return rc;
    }
    if (a->fields->elements == 0) {
        char *e = ctl_escape(id);
        ctl_fail(ctl, EX_NOINPUT, " %s: no such application", e);
        free(e);
        return EX_NOINPUT;
    }
    return 0;
}

int app_load_history(struct ctl *ctl, struct app *a)
{
    struct rconn_args args = {0};
    char *cause = NULL;

    rconn_args_add(&args, "LRANGE");
    rconn_args_take(&args, keys_history(ctl_prefix(ctl), a->id));
    rconn_args_add(&args, "0");
    rconn_args_add(&args, "-1");
    a->hist = rconn_run(ctl->redis, &args, &cause);
    rconn_args_free(&args);
    if (a->hist == NULL || a->hist->type != REDIS_REPLY_ARRAY) {
        int rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s",
                          cause ? cause : (a->hist ? a->hist->str : "no reply"));
        free(cause);
        return rc;
    }
    return 0;
}

void app_free(struct app *a)
{
    free(a->id);
    if (a->fields)
        freeReplyObject(a->fields);
    if (a->hist)
        freeReplyObject(a->hist);
    memset(a, 0, sizeof *a);
}

const char *app_get(const struct app *a, const char *field, size_t *len)
{
    if (a->fields == NULL || a->fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < a->fields->elements; i += 2) {
        if (strcmp(a->fields->element[i]->str, field) == 0) {
            if (len)
                *len = a->fields->element[i + 1]->len;
            return a->fields->element[i + 1]->str;
        }
    }
    return NULL;
}

long long app_num(const struct app *a, const char *field, long long dflt)
{
    long long v;
    const char *s = app_get(a, field, NULL);
    return s && ctl_parse_num(s, &v) ? v : dflt;
}

bool app_utf8_valid(const char *s, size_t n)
{
    size_t bad;

    return memchr(s, '\0', n) == NULL && match_utf8_valid(s, n, &bad);
}

void app_splice_json(struct buf *b, const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    json_object *o = NULL;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    if (len > 0 && app_utf8_valid(text, len))
        o = json_tokener_parse_ex(tok, text, (int)len);
    if (o != NULL && json_tokener_get_parse_end(tok) == len)
        buf_add(b, text, len);
    else
        buf_add_json_str(b, text, len);
    json_object_put(o);
    json_tokener_free(tok);
}

static const char *const string_fields[] = {
    "id",        "role",       "state",  "name",    "email",    "submitted_at", "received_at",
    "scored_at", "updated_at", "digest", "profile", "reviewer", "note",
};

static bool known_field(const char *f)
{
    for (size_t i = 0; i < sizeof string_fields / sizeof string_fields[0]; i++)
        if (strcmp(f, string_fields[i]) == 0)
            return true;
    return strcmp(f, "score") == 0 || strcmp(f, "version") == 0 || strcmp(f, "qualified") == 0 ||
           strcmp(f, "analysis") == 0;
}

/* Numbers as numbers, the verdict as a boolean, everything else a string. */
static void typed_fields(struct buf *b, const struct app *a)
{
    const char *q = app_get(a, "qualified", NULL);
    size_t len;
    const char *an;

    buf_printf(b, "\"score\":%lld,\"version\":%lld", app_num(a, "score", 0),
               app_num(a, "version", 0));
    if (q != NULL)
        buf_printf(b, ",\"qualified\":%s", strcmp(q, "1") == 0 ? "true" : "false");
    if ((an = app_get(a, "analysis", &len)) != NULL) {
        buf_adds(b, ",\"analysis\":");
        app_splice_json(b, an, len);
    }
}

void app_to_json(struct buf *b, const struct app *a)
{
    size_t len;
    const char *v;

    buf_addc(b, '{');
    typed_fields(b, a);
    for (size_t i = 0; i < sizeof string_fields / sizeof string_fields[0]; i++) {
        if ((v = app_get(a, string_fields[i], &len)) == NULL)
            continue;
        buf_printf(b, ",\"%s\":", string_fields[i]);
        buf_add_json_str(b, v, len);
    }
    for (size_t i = 0; a->fields && i + 1 < a->fields->elements; i += 2) {
        redisReply *k = a->fields->element[i], *val = a->fields->element[i + 1];
        if (known_field(k->str))
            continue;
        buf_addc(b, ',');
        buf_add_json_str(b, k->str, k->len);
        buf_addc(b, ':');
        buf_add_json_str(b, val->str, val->len);
    }
    if (a->hist != NULL) {
        buf_adds(b, ",\"history\":[");
        for (size_t i = 0; i < a->hist->elements; i++) {
            if (i > 0)
                buf_addc(b, ',');
            app_splice_json(b, a->hist->element[i]->str, a->hist->element[i]->len);
        }
        buf_addc(b, ']');
    }
    buf_addc(b, '}');
}
