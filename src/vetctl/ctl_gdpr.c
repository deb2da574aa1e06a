/* vetctl export and erase: the candidate's rights of access and erasure
 * (SPEC §5, §8). Both first find the candidate's data: the applications
 * (one id, or every id of the by-email index) and the dead letters with
 * the same e-mail hash. Erasure is one Function call per application that
 * checks first and then removes the personal data everywhere at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "app.h"
#include "ctl.h"
#include "hash.h"
#include "keys.h"
#include "out.h"
#include "rconn.h"
#include "state.h"
#include "timefmt.h"
#include "xmalloc.h"

/* Whose data, and where it is. */
struct subject {
    struct ctl_strv ids;
    bool has_sha1;
    char sha1[HASH_HEX_LEN + 1];
    struct ctl_strv dead_keys; /* `P dead:<seq>` with that email_sha1 */
    struct ctl_strv dead_seqs;
    long long unattributable; /* dead letters without an email_sha1 */
    const char *as;           /* --as NAME of the actor, or NULL */
};

static void subject_free(struct subject *s)
{
    ctl_strv_free(&s->ids);
    ctl_strv_free(&s->dead_keys);
    ctl_strv_free(&s->dead_seqs);
}

static redisReply *run1(struct ctl *ctl, struct rconn_args *a, int *rc)
{
    char *cause = NULL;
    redisReply *r = rconn_run(ctl->redis, a, &cause);
    rconn_args_free(a);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        *rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : r->str);
        if (r)
            freeReplyObject(r);
        r = NULL;
    }
    free(cause);
    return r;
}

/* The dead letters carrying s->sha1, and how many carry no hash at all. */
static int find_dead(struct ctl *ctl, struct subject *s)
{
    redisReply *seqs = NULL, **rr = NULL;
    int rc = ctl_dead_seqs(ctl, &seqs);

    if (rc == 0)
        rc = ctl_dead_field(ctl, seqs, "email_sha1", &rr);
    for (size_t i = 0; rc == 0 && i < seqs->elements; i++) {
        const char *h = rconn_str(rr[i]), *seq = seqs->element[i]->str;
        if (h == NULL || *h == '\0') {
            s->unattributable++;
        } else if (s->has_sha1 && strcmp(h, s->sha1) == 0) {
            ctl_strv_add(&s->dead_seqs, seq);
            ctl_strv_take(&s->dead_keys, keys_dead_item(ctl_prefix(ctl), strtoll(seq, NULL, 10)));
        }
    }
    if (rr != NULL)
        ctl_replies_free(rr, seqs->elements);
    if (seqs)
        freeReplyObject(seqs);
    return rc;
}

/* Resolve ID or --email ADDR into a subject; 66 when nothing is stored. */
static int resolve(struct ctl *ctl, const char *id, const char *email, struct subject *s)
{
    struct rconn_args a = {0};
    int rc = 0;

    if (email != NULL) {
        hash_email_hex(email, strlen(email), s->sha1);
        s->has_sha1 = true;
        rconn_args_add(&a, "SMEMBERS");
        rconn_args_take(&a, keys_by_email(ctl_prefix(ctl), s->sha1));
    } else {
        rconn_args_add(&a, "HMGET");
        rconn_args_take(&a, keys_app(ctl_prefix(ctl), id));
        rconn_args_add(&a, "id");
        rconn_args_add(&a, "email");
    }
    redisReply *r = run1(ctl, &a, &rc);
    if (r != NULL && email != NULL) {
        for (size_t i = 0; i < r->elements; i++)
            ctl_strv_add(&s->ids, r->element[i]->str);
    } else if (r != NULL && r->elements == 2 && !rconn_nil(r->element[0])) {
        ctl_strv_add(&s->ids, id);
        if (!rconn_nil(r->element[1])) {
            hash_email_hex(r->element[1]->str, r->element[1]->len, s->sha1);
            s->has_sha1 = true;
        }
    }
    if (r)
        freeReplyObject(r);
    if (rc == 0)
        rc = find_dead(ctl, s);
    if (rc == 0 && s->ids.n == 0 && s->dead_keys.n == 0) {
        char *e = ctl_escape(email ? email : id);
        rc = ctl_fail(ctl, EX_NOINPUT, "nothing stored for %s%s", email ? "" : "id ", e);
        free(e);
    }
    return rc;
}

static int export_dead(struct ctl *ctl, const struct subject *s, struct buf *b)
{
    struct rconn_args *cmds = xcalloc(s->dead_keys.n + 1, sizeof *cmds);
    redisReply **rr = NULL;
    size_t shown = 0;

    for (size_t i = 0; i < s->dead_keys.n; i++) {
        rconn_args_add(&cmds[i], "HGETALL");
        rconn_args_add(&cmds[i], s->dead_keys.v[i]);
    }
    int rc = ctl_pipeline(ctl, cmds, s->dead_keys.n, &rr);
    for (size_t i = 0; rc == 0 && i < s->dead_keys.n; i++) {
        if (rr[i]->type != REDIS_REPLY_ARRAY || rr[i]->elements == 0)
            continue;
        buf_adds(b, shown++ ? "," : "");
        ctl_dead_json(b, strtoll(s->dead_seqs.v[i], NULL, 10), rr[i]);
    }
    ctl_replies_free(rr, s->dead_keys.n);
    free(cmds);
    return rc;
}

static int parse_subject(struct ctl *ctl, int argc, char **argv, const char **id,
                         const char **email, bool *yes)
{
    const struct ctl_opt opts[] = {
        {"--email", true, email, NULL}, {"--yes", false, NULL, yes}, {NULL, false, NULL, NULL}};
    char *pos[1];
    int npos;
    int rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 0, 1);

    if (rc != 0)
        return rc;
    if ((npos == 1) == (*email != NULL)) {
        ctl_fail(ctl, EX_USAGE, "give either an ID or --email ADDR");
        return ctl_usage(argv[0], false);
    }
    *id = npos ? pos[0] : NULL;
    return 0;
}

int ctl_export(struct ctl *ctl, int argc, char **argv)
{
    const char *id = NULL, *email = NULL;
    bool yes = false;
    struct subject s = {0};
    struct buf b = BUF_INIT;
    int rc = parse_subject(ctl, argc, argv, &id, &email, &yes);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (yes)
        return ctl_fail(ctl, EX_USAGE, "--yes is for erase");
    if ((rc = ctl_connect(ctl)) != 0 || (rc = resolve(ctl, id, email, &s)) != 0)
        goto out;
    buf_adds(&b, "{\"applications\":[");
    for (size_t i = 0; i < s.ids.n && rc == 0; i++) {
        struct app a = {0};
        if ((rc = app_load(ctl, s.ids.v[i], &a)) == 0 && (rc = app_load_history(ctl, &a)) == 0) {
            buf_adds(&b, i ? "," : "");
            app_to_json(&b, &a);
        }
        app_free(&a);
    }
    buf_adds(&b, "],\"dead_letters\":[");
    if (rc == 0)
        rc = export_dead(ctl, &s, &b);
    buf_adds(&b, "]}\n");
    if (rc == 0)
        fputs(b.data, stdout);
out:
    buf_free(&b);
    subject_free(&s);
    return rc;
}

/* What one erase command removed, for the report. */
struct erase_totals {
    struct ctl_strv erased, already;
    long long notifications, dead;
};

/* A history event with its note replaced by "[erased]", or NULL when it
 * has no note. Other members are written back as they were parsed. */
static char *erased_event(const char *text)
{
    json_object *e = json_tokener_parse(text), *note;
    struct buf b = BUF_INIT;

    if (e == NULL || !json_object_is_type(e, json_type_object) ||
        !json_object_object_get_ex(e, "note", &note) || json_object_is_type(note, json_type_null) ||
        (json_object_is_type(note, json_type_string) &&
         strcmp(json_object_get_string(note), "[erased]") == 0)) {
        json_object_put(e);
        return NULL;
    }
    buf_addc(&b, '{');
    json_object_object_foreach(e, key, val)
    {
        buf_adds(&b, b.len > 1 ? "," : "");
        buf_add_json_str(&b, key, strlen(key));
        buf_addc(&b, ':');
        if (strcmp(key, "note") == 0)
            buf_adds(&b, "\"[erased]\"");
        else
            buf_adds(&b, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    buf_addc(&b, '}');
    json_object_put(e);
    return buf_steal(&b);
}

/* The history's fingerprint (as the erase Function computes it) and the
 * (index, rewritten event) pairs appended to args. */
static void history_plan(const redisReply *hist, char fp[HASH_HEX_LEN + 1], struct rconn_args *args)
{
    struct buf all = BUF_INIT;
    for (size_t i = 0; i < hist->elements; i++) {
        buf_printf(&all, "%zu:", hist->element[i]->len);
        buf_add(&all, hist->element[i]->str, hist->element[i]->len);
    }
    hash_sha1_hex(all.data ? all.data : "", all.len, fp);
    buf_free(&all);
    for (size_t i = 0; i < hist->elements; i++) {
        char *ev = erased_event(hist->element[i]->str);
        if (ev != NULL) {
            rconn_args_addf(args, "%zu", i);
            rconn_args_take(args, ev);
        }
    }
}

/* The history event of the erasure (no note: there is nothing to keep). */
static char *erase_event(const char *at, const char *from, const char *actor)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "{\"at\":\"%s\",\"from\":\"%s\",\"to\":\"erased\",\"actor\":", at, from);
    buf_add_json_str(&b, actor, strlen(actor));
    buf_adds(&b, ",\"note\":null}");
    return buf_steal(&b);
}

struct erase_call {
    const struct subject *s;
    const struct ctl_strv *lists; /* notification lists */
    struct app a;
    long long version;
    char *actor;
};

static redisReply *call_erase(struct ctl *ctl, struct erase_call *c, const char *from, char **cause)
{
    const char *p = ctl_prefix(ctl), *role = app_get(&c->a, "role", NULL);
    const char *email = app_get(&c->a, "email", NULL);
    char sha1[HASH_HEX_LEN + 1], fp[HASH_HEX_LEN + 1], at[TIMEFMT_LEN + 1];
    struct rconn_args args = {0}, hist = {0};

    snprintf(sha1, sizeof sha1, "%s", c->s->has_sha1 ? c->s->sha1 : "-");
    if (email != NULL)
        hash_email_hex(email, strlen(email), sha1);
    timefmt_format(timefmt_now_ms(), at);
    rconn_args_take(&args, keys_app(p, c->a.id));
    rconn_args_take(&args, keys_history(p, c->a.id));
    rconn_args_take(&args, keys_state(p, role ? role : "-", from));
    rconn_args_take(&args, keys_state(p, role ? role : "-", state_name(STATE_ERASED)));
    rconn_args_take(&args, keys_dead(p));
    rconn_args_take(&args, keys_by_email(p, sha1));
    for (size_t i = 0; i < c->lists->n; i++)
        rconn_args_add(&args, c->lists->v[i]);
    for (size_t i = 0; i < c->s->dead_keys.n; i++)
        rconn_args_add(&args, c->s->dead_keys.v[i]);
    int nkeys = args.n;
    history_plan(c->a.hist, fp, &hist);
    rconn_args_add(&args, c->a.id);
    rconn_args_add(&args, from);
    rconn_args_addf(&args, "%lld", c->version);
    rconn_args_take(&args, state_table_lua());
    rconn_args_add(&args, at);
    rconn_args_add(&args, c->actor);
    rconn_args_take(&args, erase_event(at, from, c->actor));
    rconn_args_add(&args, fp);
    rconn_args_addf(&args, "%zu", c->lists->n);
    rconn_args_addf(&args, "%zu", c->s->dead_keys.n);
    rconn_args_add(&args, c->s->has_sha1 ? c->s->sha1 : "");
    for (int i = 0; i < hist.n; i++)
        rconn_args_addn(&args, hist.v[i], hist.len[i]);
    redisReply *r = rconn_fcall(ctl->redis, "erase", nkeys, &args, cause);
    rconn_args_free(&args);
    rconn_args_free(&hist);
    return r;
}

/* Map the erase Function's answer {status, version, notifications, dead}.
 * Returns 0, an exit code, or -1 for a conflict worth retrying. */
static int erase_answer(struct ctl *ctl, const redisReply *r, struct erase_call *c,
                        struct erase_totals *t, long long expect)
{
    char *eid = ctl_escape(c->a.id);
    int rc = 0;

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 4) {
        rc = ctl_fail(ctl, EX_UNAVAILABLE, " %s: redis: %s", eid,
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    } else if (strcmp(r->element[0]->str, "ok") == 0 || strcmp(r->element[0]->str, "noop") == 0) {
        ctl_strv_add(*r->element[0]->str == 'o' ? &t->erased : &t->already, c->a.id);
        t->notifications += r->element[2]->integer;
        t->dead += r->element[3]->integer;
    } else if (strcmp(r->element[0]->str, "notfound") == 0) {
        rc = ctl_fail(ctl, EX_NOINPUT, " %s: no such application", eid);
    } else if (strcmp(r->element[0]->str, "forbidden") == 0) {
        rc = ctl_fail(ctl, EX_DATAERR, " %s: cannot be erased from its state", eid);
    } else if (expect >= 0) {
        rc = ctl_fail(ctl, EX_TEMPFAIL, " %s: changed meanwhile: version is %s, expected %lld", eid,
                      r->element[1]->str, expect);
    } else {
        rc = -1;
    }
    free(eid);
    return rc;
}

/* Erase one application; a conflict without --expect-version (a note or
 * a transition landed between our read and the call) is read again and
 * retried a few times. */
static int erase_app(struct ctl *ctl, const char *id, long long expect, const struct subject *s,
                     const struct ctl_strv *lists, struct erase_totals *t)
{
    int rc = -1;

    for (int attempt = 0; attempt < 5 && rc == -1; attempt++) {
        struct erase_call c = {s, lists, {0}, 0, NULL};
        char *cause = NULL;
        if ((rc = app_load(ctl, id, &c.a)) != 0 || (rc = app_load_history(ctl, &c.a)) != 0) {
            app_free(&c.a);
            return rc;
        }
        const char *from = app_get(&c.a, "state", NULL);
        c.version = app_num(&c.a, "version", 0);
        if (expect >= 0 && expect != c.version &&
            (from == NULL || strcmp(from, state_name(STATE_ERASED)) != 0)) {
            char *eid = ctl_escape(id);
            rc =
                ctl_fail(ctl, EX_TEMPFAIL, " %s: changed meanwhile: version is %lld, expected %lld",
                         eid, c.version, expect);
            free(eid);
        } else {
            c.actor = ctl_actor(ctl, s->as);
            redisReply *r = call_erase(ctl, &c, from ? from : "-", &cause);
            rc = r ? erase_answer(ctl, r, &c, t, expect)
                   : ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
            if (r)
                freeReplyObject(r);
        }
        free(cause);
        free(c.actor);
        app_free(&c.a);
    }
    return rc == -1 ? ctl_fail(ctl, EX_TEMPFAIL, "%s keeps changing, try again", id) : rc;
}

/* Dead letters of an address that has no stored application. */
static int erase_dead_only(struct ctl *ctl, const struct subject *s, struct erase_totals *t)
{
    struct rconn_args a = {0};
    char *cause = NULL;
    int rc = 0;

    rconn_args_take(&a, keys_dead(ctl_prefix(ctl)));
    for (size_t i = 0; i < s->dead_keys.n; i++)
        rconn_args_add(&a, s->dead_keys.v[i]);
    rconn_args_add(&a, s->sha1);
    redisReply *r = rconn_fcall(ctl->redis, "dead_erase", a.n - 1, &a, &cause);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : r->str);
    else
        t->dead += r->integer;
    rconn_args_free(&a);
    free(cause);
    if (r)
        freeReplyObject(r);
    return rc;
}

static void json_ids(struct buf *b, const char *key, const struct ctl_strv *ids)
{
    buf_printf(b, "\"%s\":[", key);
    for (size_t i = 0; i < ids->n; i++) {
        buf_adds(b, i ? "," : "");
        buf_add_json_str(b, ids->v[i], strlen(ids->v[i]));
    }
    buf_addc(b, ']');
}

static void erase_report(struct ctl *ctl, const struct subject *s, const struct erase_totals *t)
{
    struct buf b = BUF_INIT;
    if (ctl->json) {
        buf_addc(&b, '{');
        json_ids(&b, "erased", &t->erased);
        buf_addc(&b, ',');
        json_ids(&b, "already_erased", &t->already);
        buf_printf(&b,
                   ",\"notifications_removed\":%lld,\"dead_letters_removed\":%lld,"
                   "\"unattributable_dead_letters\":%lld}\n",
                   t->notifications, t->dead, s->unattributable);
    } else {
        for (size_t i = 0; i < t->erased.n + t->already.n; i++) {
            bool now = i < t->erased.n;
            buf_adds(&b, "erased ");
            out_escape(&b, now ? t->erased.v[i] : t->already.v[i - t->erased.n],
                       strlen(now ? t->erased.v[i] : t->already.v[i - t->erased.n]), 0);
            buf_adds(&b, now ? "\n" : " (it was already erased; scrubbed again)\n");
        }
        buf_printf(&b, "removed %lld queued notification(s) and %lld dead letter(s)\n",
                   t->notifications, t->dead);
        if (s->unattributable > 0)
            buf_printf(&b,
                       "note: %lld dead letter(s) carry no e-mail hash (never parsed, or "
                       "rejected before the e-mail was read) and could not be checked; see "
                       "vetctl dead list\n",
                       s->unattributable);
    }
    fputs(b.data, stdout);
    buf_free(&b);
}

/* Erase what resolve() found; the report goes to stdout. */
static int erase_subject(struct ctl *ctl, const struct subject *s, long long expect)
{
    struct erase_totals t = {{0}, {0}, 0, 0};
    struct ctl_strv lists = {0};
    char *esc = keys_glob_escape(ctl_prefix(ctl));
    char *pat = keys_notif_processing(esc, "*");
    int rc;

    ctl_strv_take(&lists, keys_notifications(ctl_prefix(ctl)));
    rc = ctl_scan(ctl, pat, &lists);
    for (size_t i = 0; rc == 0 && i < s->ids.n; i++)
        rc = erase_app(ctl, s->ids.v[i], expect, s, &lists, &t);
    if (rc == 0 && s->ids.n == 0 && s->dead_keys.n > 0)
        rc = erase_dead_only(ctl, s, &t);
    if (rc == 0)
        erase_report(ctl, s, &t);
    ctl_strv_free(&t.erased);
    ctl_strv_free(&t.already);
    ctl_strv_free(&lists);
    free(pat);
    free(esc);
    return rc;
}

/* On a terminal, say what will go and ask. */
static bool confirm(const struct subject *s, const char *who)
{
    char line[32];
    char *e = ctl_escape(who);

    fprintf(stderr,
            "Erase the personal data of %s: %zu application(s), %zu dead letter(s)? "
            "This cannot be undone. [y/N] ",
            e, s->ids.n, s->dead_keys.n);
    free(e);
    if (fgets(line, sizeof line, stdin) == NULL)
        return false;
    return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0;
}

/* Erase an application (id) or a candidate (email): on a terminal it asks
 * first unless yes; elsewhere it needs yes. */
static int erase_run(struct ctl *ctl, const char *id, const char *email, long long expect,
                     const char *as, bool yes)
{
    struct subject s = {0};
    int rc;

    if (!yes && !isatty(STDIN_FILENO))
        return ctl_fail(ctl, EX_USAGE, "not a terminal: give --yes to erase without asking");
    s.as = as;
    if ((rc = ctl_connect(ctl)) != 0 || (rc = resolve(ctl, id, email, &s)) != 0)
        goto out;
    if (!yes && !confirm(&s, email ? email : id)) {
        fprintf(stderr, "vetctl: erase: nothing erased\n");
        goto out;
    }
    rc = erase_subject(ctl, &s, expect);
out:
    subject_free(&s);
    return rc;
}

int ctl_erase_one(struct ctl *ctl, const char *id, long long expect, const char *as, bool yes)
{
    return erase_run(ctl, id, NULL, expect, as, yes);
}

int ctl_erase(struct ctl *ctl, int argc, char **argv)
{
    const char *id = NULL, *email = NULL;
    bool yes = false;
    int rc = parse_subject(ctl, argc, argv, &id, &email, &yes);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    return erase_run(ctl, id, email, -1, NULL, yes);
}
