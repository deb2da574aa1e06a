/* Building the settlement of one taken item (see settle.h). The JSON that
 * Redis stores (history event, notification envelope) is made here as
 * text, with the analysis spliced in as an object: Lua never re-encodes. */
#include "settle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "keys.h"
#include "role.h"
#include "score.h"
#include "state.h"
#include "submission.h"
#include "timefmt.h"
#include "xmalloc.h"

static void settle_arg(struct settle_item *it, char *s)
{
    it->args[it->nargs] = s;
    it->lens[it->nargs] = strlen(s);
    it->nargs++;
}

/* args[1] is the raw item itself (not owned by args). */
static void settle_arg_raw(struct settle_item *it)
{
    it->args[it->nargs] = it->raw;
    it->lens[it->nargs] = it->len;
    it->nargs++;
}

/* Append one field of the application hash (value len bytes). */
static void settle_app_put(struct settle_item *it, const char *field, const char *value, size_t len)
{
    int k = 2 * it->napp++;
    it->app[k] = field;
    it->app_lens[k] = strlen(field);
    it->app[k + 1] = value;
    it->app_lens[k + 1] = len;
}

/* A field whose value the item owns from now on. */
static void settle_app(struct settle_item *it, const char *field, char *value)
{
    settle_app_put(it, field, value, strlen(value));
    it->app_owned[it->napp_owned++] = value;
}

/* The profile field: the raw item itself, byte-for-byte. */
static void settle_app_raw(struct settle_item *it)
{
    settle_app_put(it, "profile", it->raw, it->len);
}

static void settle_dead(struct settle_item *it, enum sub_code code, const char *detail,
                        const struct submission *s)
{
    bool keep = code != SUB_NO_CONSENT;
    it->accept = false;
    it->outcome = sub_code_name(code);
    settle_arg(it, xstrdup("D"));
    settle_arg_raw(it);
    settle_arg(it, xstrdup(it->digest));
    settle_arg(it, xstrdup(it->outcome));
    settle_arg(it, xstrdup(detail));
    settle_arg(it, xstrdup(keep && s->has_email_sha1 ? s->email_sha1 : ""));
    settle_arg(it, xstrdup(keep ? "1" : "0"));
}

static char *settle_history_event(const char *at, const char *state, const char *instance)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "{\"at\":\"%s\",\"from\":null,\"to\":\"%s\",\"actor\":", at, state);
    char *actor = xasprintf("vetd:%s", instance);
    buf_add_json_str(&b, actor, strlen(actor));
    free(actor);
    buf_addc(&b, '}');
    return buf_steal(&b);
}

/* The candidate.qualified job of SPEC §6 (event_id <id>:1), whole: the
 * settle Function pushes it as it is, never concatenating in Lua. */
static char *settle_envelope(const struct submission *s, const char *at, int score,
                             const char *analysis)
{
    struct buf b = BUF_INIT;
    size_t idlen = strlen(s->id);
    buf_adds(&b, "{\"event\":\"candidate.qualified\",\"audience\":\"reviewers\",\"event_id\":");
    char *event_id = xasprintf("%s:1", s->id);
    buf_add_json_str(&b, event_id, strlen(event_id));
    free(event_id);
    buf_adds(&b, ",\"id\":");
    buf_add_json_str(&b, s->id, idlen);
    buf_printf(&b, ",\"at\":\"%s\",\"application\":{\"id\":", at);
    buf_add_json_str(&b, s->id, idlen);
    buf_adds(&b, ",\"role\":");
    buf_add_json_str(&b, s->role, strlen(s->role));
    buf_adds(&b, ",\"name\":");
    buf_add_json_str(&b, s->name, strlen(s->name));
    buf_adds(&b, ",\"email\":");
    buf_add_json_str(&b, s->email, strlen(s->email));
    buf_printf(&b, ",\"score\":%d,\"analysis\":", score);
    buf_adds(&b, analysis);
    buf_adds(&b, "}}");
    return buf_steal(&b);
}

static void settle_accept(struct settle_item *it, const struct submission *s,
                          const struct settle_ctx *ctx, const char *received_at)
{
    const struct role *r = roleset_find(ctx->roles, s->role);
    struct score_result res;
    score_submission(r, s, ctx->scored_by, &res);
    char now[TIMEFMT_LEN + 1];
    timefmt_format(timefmt_now_ms(), now);
    const char *state = state_name(res.qualified ? STATE_QUALIFIED : STATE_NOT_QUALIFIED);

    it->accept = true;
    it->outcome = state;
    it->id = xstrdup(s->id);
    it->role = xstrdup(s->role);
    it->score = res.score;
    char *score = xasprintf("%d", res.score);
    settle_arg(it, xstrdup("A"));
    settle_arg_raw(it);
    settle_arg(it, xstrdup(it->digest));
    settle_arg(it, xstrdup(s->id));
    settle_arg(it, xstrdup(s->role));
    settle_arg(it, xstrdup(state));
    settle_arg(it, xstrdup(score));
    settle_arg(it, settle_history_event(now, state, ctx->instance));
    settle_arg(it, xstrdup(s->email_sha1));
    settle_arg(it, res.qualified ? settle_envelope(s, now, res.score, res.analysis) : xstrdup(""));

    settle_app(it, "id", xstrdup(s->id));
    settle_app(it, "role", xstrdup(s->role));
    settle_app(it, "state", xstrdup(state));
    settle_app(it, "score", score);
    settle_app(it, "qualified", xstrdup(res.qualified ? "1" : "0"));
    settle_app(it, "name", xstrdup(s->name));
    settle_app(it, "email", xstrdup(s->email));
    settle_app(it, "submitted_at", xstrdup(s->submitted_at ? s->submitted_at : received_at));
    settle_app(it, "received_at", xstrdup(received_at));
    settle_app(it, "scored_at", xstrdup(now));
    settle_app(it, "updated_at", xstrdup(now));
    settle_app(it, "version", xstrdup("1"));
    settle_app(it, "digest", xstrdup(it->digest));
    settle_app_raw(it);
    settle_app(it, "analysis", res.analysis);
    res.analysis = NULL; /* moved into the item, for the staging hash */
    settle_app(it, "reviewer", xstrdup(""));
    settle_app(it, "note", xstrdup(""));
    score_result_free(&res);

    it->keys[it->nkeys++] = keys_app(ctx->prefix, s->id);
    it->keys[it->nkeys++] = keys_history(ctx->prefix, s->id);
    it->keys[it->nkeys++] = keys_state(ctx->prefix, s->role, state);
    it->keys[it->nkeys++] = keys_by_email(ctx->prefix, s->email_sha1);
    it->keys[it->nkeys++] = keys_stage(ctx->prefix, ctx->instance, it->digest);
}

void settle_prepare(struct settle_item *it, const char *raw, size_t len, const char *digest,
                    const struct settle_ctx *ctx, const char *received_at)
{
    memset(it, 0, sizeof *it);
    it->raw = xmalloc(len + 1);
    memcpy(it->raw, raw, len);
    it->raw[len] = '\0';
    it->len = len;
    it->score = -1;
    snprintf(it->digest, sizeof it->digest, "%s", digest);

    struct submission s;
    char detail[256] = "";
    enum sub_code code =
        submission_parse(&s, raw, len, ctx->max_payload_bytes, ctx->roles, detail, sizeof detail);
    if (code != SUB_OK) {
        settle_dead(it, code, detail, &s);
        return;
    }
    settle_accept(it, &s, ctx, received_at);
    submission_free(&s);
}

void settle_item_free(struct settle_item *it)
{
    for (int i = 0; i < it->nargs; i++) {
        if (i != 1)
            free(it->args[i]);
    }
    for (int i = 0; i < it->nkeys; i++)
        free(it->keys[i]);
    for (int i = 0; i < it->napp_owned; i++)
        free(it->app_owned[i]);
    free(it->raw);
    free(it->id);
    free(it->role);
    memset(it, 0, sizeof *it);
}

void settle_call_build(struct settle_call *call, const char *fn,
                       char *const fixed_keys[SETTLE_FIXED_KEYS], const char *now,
                       const char *instance, struct settle_item *items, int n)
{
    int nkeys = SETTLE_FIXED_KEYS, nargs = 2;
    for (int i = 0; i < n; i++) {
        if (items[i].done)
            continue;
        nkeys += items[i].nkeys;
        nargs += items[i].nargs;
    }
    char numkeys[16];
    snprintf(numkeys, sizeof numkeys, "%d", nkeys);
    call->argc = 3 + nkeys + nargs;
    call->argv = xcalloc((size_t)call->argc, sizeof *call->argv);
    call->lens = xcalloc((size_t)call->argc, sizeof *call->lens);
    int a = 0;
#define PUT(s, l) (call->argv[a] = (s), call->lens[a] = (l), a++)
    PUT("FCALL", 5);
    PUT(fn, strlen(fn));
    /* numkeys must outlive this function: keep it in argv's own block. */
    char *nk = xstrdup(numkeys);
    PUT(nk, strlen(nk));
    for (int k = 0; k < SETTLE_FIXED_KEYS; k++)
        PUT(fixed_keys[k], strlen(fixed_keys[k]));
    for (int i = 0; i < n; i++)
        for (int k = 0; !items[i].done && k < items[i].nkeys; k++)
            PUT(items[i].keys[k], strlen(items[i].keys[k]));
    PUT(now, strlen(now));
    PUT(instance, strlen(instance));
    for (int i = 0; i < n; i++)
        for (int k = 0; !items[i].done && k < items[i].nargs; k++)
            PUT(items[i].args[k], items[i].lens[k]);
#undef PUT
}

void settle_call_free(struct settle_call *call)
{
    if (call->argv)
        free((char *)call->argv[2]);
    free(call->argv);
    free(call->lens);
    memset(call, 0, sizeof *call);
}

int settle_stage_cmds(const struct settle_item *it, struct settle_stage *st)
{
    if (!it->accept || it->done)
        return 0;
    const char *key = it->keys[SETTLE_STAGE_KEY];
    st->hset[0] = "HSET";
    st->hset_lens[0] = 4;
    st->hset[1] = key;
    st->hset_lens[1] = strlen(key);
    memcpy(&st->hset[2], it->app, sizeof it->app);
    memcpy(&st->hset_lens[2], it->app_lens, sizeof it->app_lens);
    st->hset_argc = 2 + 2 * SETTLE_APP_FIELDS;
    snprintf(st->ttl, sizeof st->ttl, "%d", SETTLE_STAGE_TTL_MS);
    st->pexpire[0] = "PEXPIRE";
    st->pexpire[1] = key;
    st->pexpire[2] = st->ttl;
    return 2;
}
