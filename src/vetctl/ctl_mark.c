/* vetctl mark and note: review transitions (SPEC §5) as one compare-and-set
 * Function call each, with the history event and the notification job of
 * §6 built here in C and stored by the Function as given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>

#include "app.h"
#include "ctl.h"
#include "keys.h"
#include "out.h"
#include "rconn.h"
#include "state.h"
#include "timefmt.h"
#include "xmalloc.h"

/* What one transition is about: read from the stored application. */
struct mark {
    const char *id;
    const char *role;
    enum state from, to;
    long long version; /* the version the change is based on */
    const char *note;  /* NULL when none */
    const char *as;    /* --as NAME, or NULL */
    char *actor;       /* owned */
    char at[TIMEFMT_LEN + 1];
};

static void json_field(struct buf *b, const char *key, const char *v)
{
    buf_printf(b, ",\"%s\":", key);
    if (v == NULL)
        buf_adds(b, "null");
    else
        buf_add_json_str(b, v, strlen(v));
}

/* The history event {"at","from","to","actor","note"} (note null when
 * none). */
static char *event_json(const struct mark *m)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "{\"at\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"", m->at, state_name(m->from),
               state_name(m->to));
    json_field(&b, "actor", m->actor);
    json_field(&b, "note", m->note);
    buf_addc(&b, '}');
    return buf_steal(&b);
}

/* The §6 envelope of the job the transition emits, or "" when none. */
static char *envelope_json(const struct mark *m, const struct app *a)
{
    const char *event = state_event(m->to);
    struct buf b = BUF_INIT;
    size_t alen = 0;
    const char *analysis = app_get(a, "analysis", &alen);

    if (event == NULL)
        return xstrdup("");
    buf_printf(&b, "{\"event\":\"%s\",\"audience\":\"candidate\",\"event_id\":", event);
    char *eid = xasprintf("%s:%lld", m->id, m->version + 1);
    buf_add_json_str(&b, eid, strlen(eid));
    free(eid);
    json_field(&b, "id", m->id);
    json_field(&b, "at", m->at);
    buf_adds(&b, ",\"application\":{\"id\":");
    buf_add_json_str(&b, m->id, strlen(m->id));
    json_field(&b, "role", m->role);
    json_field(&b, "name", app_get(a, "name", NULL));
    json_field(&b, "email", app_get(a, "email", NULL));
    if (m->to == STATE_CONTACTED) {
        buf_printf(&b, ",\"score\":%lld,\"analysis\":", app_num(a, "score", 0));
        if (analysis != NULL)
            app_splice_json(&b, analysis, alen);
        else
            buf_adds(&b, "null");
    }
    json_field(&b, "reviewer", m->actor);
    json_field(&b, "note", m->note);
    buf_adds(&b, "}}");
    return buf_steal(&b);
}

static redisReply *call_mark(struct ctl *ctl, const struct mark *m, const struct app *a,
                             char **cause)
{
    const char *p = ctl_prefix(ctl);
    struct rconn_args args = {0};

    rconn_args_take(&args, keys_app(p, m->id));
    rconn_args_take(&args, keys_history(p, m->id));
    rconn_args_take(&args, keys_state(p, m->role, state_name(m->from)));
    rconn_args_take(&args, keys_state(p, m->role, state_name(m->to)));
    rconn_args_take(&args, keys_notifications(p));
    rconn_args_take(&args, ctl_key_roles(ctl));
    rconn_args_add(&args, m->id);
    rconn_args_addf(&args, "%lld", m->version);
    rconn_args_add(&args, state_name(m->from));
    rconn_args_add(&args, state_name(m->to));
    rconn_args_take(&args, state_table_lua());
    rconn_args_add(&args, m->at);
    rconn_args_add(&args, m->actor);
    rconn_args_add(&args, m->note ? m->note : "");
    rconn_args_take(&args, event_json(m));
    rconn_args_take(&args, envelope_json(m, a));
    redisReply *r = rconn_fcall(ctl->redis, "mark", 6, &args, cause);
    rconn_args_free(&args);
    return r;
}

static int forbidden(struct ctl *ctl, const char *eid, enum state from, enum state to)
{
    char allowed[256];
    state_allowed_list(from, allowed, sizeof allowed);
    return ctl_fail(ctl, EX_DATAERR, " %s: %s -> %s is not allowed (allowed: %s)", eid,
                    state_name(from), state_name(to), allowed[0] ? allowed : "none");
}

static int conflict(struct ctl *ctl, const char *eid, long long expected, const char *now)
{
    return ctl_fail(ctl, EX_TEMPFAIL,
                    " %s: changed meanwhile: version is %s, expected %lld (see vetctl show)", eid,
                    now, expected);
}

static void report(struct ctl *ctl, const struct mark *m, const char *status, const char *ver)
{
    const char *event = strcmp(status, "ok") == 0 ? state_event(m->to) : NULL;
    char *eid = ctl_escape(m->id);

    if (ctl->json) {
        struct buf b = BUF_INIT;
        buf_adds(&b, "{\"id\":");
        buf_add_json_str(&b, m->id, strlen(m->id));
        buf_printf(&b, ",\"from\":\"%s\",\"to\":\"%s\",\"version\":%s,\"changed\":%s",
                   state_name(m->from), state_name(m->to), ver,
                   strcmp(status, "ok") == 0 ? "true" : "false");
        json_field(&b, "notification", event);
        printf("%s}\n", b.data);
        buf_free(&b);
    } else if (strcmp(status, "ok") == 0) {
        printf("%s: %s -> %s (version %s)%s%s\n", eid, state_name(m->from), state_name(m->to), ver,
               event ? "; queued " : "", event ? event : "");
    } else {
        printf("%s: already %s (version %s), nothing changed\n", eid, state_name(m->to), ver);
    }
    free(eid);
}

/* Map the Function's answer {status, version, state} to output and code. */
static int answer(struct ctl *ctl, struct mark *m, const redisReply *r, const char *eid)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return ctl_fail(ctl, EX_UNAVAILABLE, " %s: redis: %s", eid,
                        r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    const char *st = r->element[0]->str, *ver = r->element[1]->str;
    enum state now = m->from;
    state_parse(r->element[2]->str, &now);
    if (strcmp(st, "ok") == 0 || strcmp(st, "noop") == 0) {
        report(ctl, m, st, ver);
        return 0;
    }
    if (strcmp(st, "notfound") == 0)
        return ctl_fail(ctl, EX_NOINPUT, " %s: no such application", eid);
    if (strcmp(st, "forbidden") == 0)
        return forbidden(ctl, eid, now, m->to);
    return conflict(ctl, eid, m->version, ver);
}

/* Everything after the application was read: checks C can make at once
 * (the Function repeats them), then the one call. */
static int transition(struct ctl *ctl, struct mark *m, const struct app *a, long long expect,
                      const char *eid)
{
    char *cause = NULL;
    char ver[32];
    int rc;

    snprintf(ver, sizeof ver, "%lld", m->version);
    if (m->from == m->to) {
        report(ctl, m, "noop", ver);
        return 0;
    }
    if (expect >= 0 && expect != m->version)
        return conflict(ctl, eid, expect, ver);
    if (!state_allowed(m->from, m->to))
        return forbidden(ctl, eid, m->from, m->to);
    m->actor = ctl_actor(ctl, m->as);
    redisReply *r = call_mark(ctl, m, a, &cause);
    if (r == NULL) {
        rc = ctl_fail(ctl, EX_UNAVAILABLE, " %s: %s", eid, cause);
        free(cause);
        return rc;
    }
    rc = answer(ctl, m, r, eid);
    freeReplyObject(r);
    return rc;
}

static int unknown_state(struct ctl *ctl, const char *name)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < STATE_COUNT; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", state_name((enum state)i));
    char *esc = ctl_escape(name);
    ctl_fail(ctl, EX_USAGE, "unknown state '%s' (states: %s)", esc, b.data);
    free(esc);
    buf_free(&b);
    return EX_USAGE;
}

int ctl_mark(struct ctl *ctl, int argc, char **argv)
{
    const char *expect_s = NULL, *note = NULL, *as = NULL;
    bool yes = false;
    const struct ctl_opt opts[] = {{"--expect-version", true, &expect_s, NULL},
                                   {"--note", true, &note, NULL},
                                   {"--as", true, &as, NULL},
                                   {"--yes", false, NULL, &yes},
                                   {NULL, false, NULL, NULL}};
    struct mark m = {0};
    struct app a = {0};
    char *pos[2];
    int npos, rc;
    long long expect = -1;

    if ((rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 2, 2)) != 0)
        return rc < 0 ? 0 : rc;
    if (!state_parse(pos[1], &m.to))
        return unknown_state(ctl, pos[1]);
    if (expect_s != NULL && !ctl_parse_num(expect_s, &expect))
        return ctl_fail(ctl, EX_USAGE, "--expect-version needs a number, not '%s'", expect_s);
    if (m.to == STATE_ERASED && note != NULL)
        return ctl_fail(ctl, EX_USAGE, "mark ... erased keeps no note (the erase removes notes)");
    if (m.to != STATE_ERASED && yes)
        return ctl_fail(ctl, EX_USAGE, "--yes is for marking erased");
    if ((rc = ctl_check_text(ctl, "--note", note)) != 0 ||
        (rc = ctl_check_text(ctl, "--as", as)) != 0)
        return rc;
    if (m.to == STATE_ERASED)
        return ctl_erase_one(ctl, pos[0], expect, as, yes);
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if ((rc = app_load(ctl, pos[0], &a)) != 0)
        goto out;
    char *eid = ctl_escape(pos[0]);
    m.id = pos[0];
    m.role = app_get(&a, "role", NULL);
    m.note = note && *note ? note : NULL;
    m.as = as;
    m.version = app_num(&a, "version", 0);
    timefmt_format(timefmt_now_ms(), m.at);
    if (m.role == NULL ||
        !state_parse(app_get(&a, "state", NULL) ? app_get(&a, "state", NULL) : "", &m.from))
        rc = ctl_fail(ctl, EX_DATAERR, " %s: stored application has no valid role/state", eid);
    else
        rc = transition(ctl, &m, &a, expect, eid);
    free(eid);
out:
    free(m.actor);
    app_free(&a);
    return rc;
}

/* note ID TEXT: a history event from = to = the current state; the
 * version stays, so a note never makes a reviewer's mark conflict. */
static int add_note(struct ctl *ctl, struct mark *m, const char *eid)
{
    struct rconn_args args = {0};
    char *cause = NULL, *ev;
    int rc = 0;

    m->to = m->from;
    ev = event_json(m);
    rconn_args_take(&args, keys_app(ctl_prefix(ctl), m->id));
    rconn_args_take(&args, keys_history(ctl_prefix(ctl), m->id));
    rconn_args_add(&args, state_name(m->from));
    rconn_args_add(&args, ev);
    rconn_args_add(&args, m->note);
    redisReply *r = rconn_fcall(ctl->redis, "note", 2, &args, &cause);
    rconn_args_free(&args);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        rc = ctl_fail(ctl, EX_UNAVAILABLE, " %s: %s", eid,
                      cause ? cause
                      : r   ? r->str ? r->str : "unexpected reply"
                            : "no reply");
    } else if (strcmp(r->element[0]->str, "notfound") == 0) {
        rc = ctl_fail(ctl, EX_NOINPUT, " %s: no such application", eid);
    } else if (strcmp(r->element[0]->str, "forbidden") == 0) {
        rc = ctl_fail(ctl, EX_DATAERR, " %s: an erased application takes no notes", eid);
    } else if (strcmp(r->element[0]->str, "conflict") == 0) {
        rc = ctl_fail(ctl, EX_TEMPFAIL, " %s: changed meanwhile (now %s), try again", eid,
                      r->element[1]->str);
    } else if (ctl->json) {
        struct buf b = BUF_INIT;
        buf_add_json_str(&b, m->id, strlen(m->id));
        printf("{\"id\":%s,\"state\":\"%s\",\"event\":%s}\n", b.data, state_name(m->from), ev);
        buf_free(&b);
    } else {
        printf("%s: note added (%s, version unchanged)\n", eid, state_name(m->from));
    }
    free(cause);
    free(ev);
    if (r)
        freeReplyObject(r);
    return rc;
}

int ctl_note(struct ctl *ctl, int argc, char **argv)
{
    const char *as = NULL;
    const struct ctl_opt opts[] = {{"--as", true, &as, NULL}, {NULL, false, NULL, NULL}};
    struct mark m = {0};
    struct app a = {0};
    char *pos[2], *eid = NULL;
    int npos, rc;

    if ((rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 2, 2)) != 0)
        return rc < 0 ? 0 : rc;
    if (*pos[1] == '\0')
        return ctl_fail(ctl, EX_USAGE, "the note is empty");
    if ((rc = ctl_check_text(ctl, "the note", pos[1])) != 0 ||
        (rc = ctl_check_text(ctl, "--as", as)) != 0)
        return rc;
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if ((rc = app_load(ctl, pos[0], &a)) != 0)
        goto out;
    eid = ctl_escape(pos[0]);
    m.id = pos[0];
    m.note = pos[1];
    m.actor = ctl_actor(ctl, as);
    timefmt_format(timefmt_now_ms(), m.at);
    const char *st = app_get(&a, "state", NULL);
    if (st == NULL || !state_parse(st, &m.from))
        rc = ctl_fail(ctl, EX_DATAERR, " %s: stored application has no valid state", eid);
    else
        rc = add_note(ctl, &m, eid);
out:
    free(eid);
    free(m.actor);
    app_free(&a);
    return rc;
}
