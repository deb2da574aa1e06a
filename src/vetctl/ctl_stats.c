/* vetctl stats: the review funnel (applications per state), the queue
 * depths, dead letters by reason and a score histogram as text bars. */
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

#define STATS_BUCKETS 10
#define STATS_BAR 40

struct stats {
    struct ctl_strv roles;
    long long funnel[STATE_COUNT];
    long long hist[STATS_BUCKETS];
    long long submissions, dead, notifications;
    struct ctl_strv instances, consumers, reasons; /* with counts below */
    long long *inst_depth, *cons_depth, *reason_count;
};

/* Find the roles of every state set (also those the `P roles` index has
 * not seen, e.g. stored by a vetd that does not maintain it) and add them
 * to the index, so that `list` finds them from now on. */
static int discover_roles(struct ctl *ctl, struct stats *s)
{
    const char *p = ctl_prefix(ctl);
    char *esc = keys_glob_escape(p), *pat = keys_state(esc, "*", "*");
    char *base = keys_state(p, "", ""); /* "Pstate::": the role starts at its colon */
    size_t skip = strlen(base) - 1;
    struct ctl_strv keys = {0};
    struct rconn_args a = {0};
    int rc = ctl_scan(ctl, pat, &keys);

    free(base);
    rconn_args_add(&a, "SADD");
    rconn_args_take(&a, ctl_key_roles(ctl));
    for (size_t i = 0; rc == 0 && i < keys.n; i++) {
        char *role = keys.v[i] + skip;
        char *colon = strrchr(role, ':');
        enum state st;
        if (colon == NULL || !state_parse(colon + 1, &st) || colon == role)
            continue;
        *colon = '\0';
        rconn_args_add(&a, role);
    }
    if (rc == 0 && a.n > 2) {
        char *cause = NULL;
        redisReply *r = rconn_run(ctl->redis, &a, &cause);
        if (r == NULL)
            rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
        free(cause);
        if (r)
            freeReplyObject(r);
    }
    rconn_args_free(&a);
    ctl_strv_free(&keys);
    free(pat);
    free(esc);
    return rc ? rc : ctl_roles(ctl, &s->roles);
}

/* Counts per state (ZCARD) and per score bucket (ZCOUNT) in one pipeline. */
static int count_sets(struct ctl *ctl, struct stats *s)
{
    size_t per = STATE_COUNT * (1 + STATS_BUCKETS), n = s->roles.n * per, k = 0;
    struct rconn_args *cmds = xcalloc(n ? n : 1, sizeof *cmds);
    redisReply **r;

    for (size_t i = 0; i < s->roles.n; i++) {
        for (int st = 0; st < STATE_COUNT; st++) {
            char *key = keys_state(ctl_prefix(ctl), s->roles.v[i], state_name((enum state)st));
            rconn_args_add(&cmds[k], "ZCARD");
            rconn_args_add(&cmds[k++], key);
            for (int bkt = 0; bkt < STATS_BUCKETS; bkt++) {
                rconn_args_add(&cmds[k], "ZCOUNT");
                rconn_args_add(&cmds[k], key);
                rconn_args_addf(&cmds[k], "%d", bkt * 10);
                rconn_args_addf(&cmds[k++], "%d", bkt == STATS_BUCKETS - 1 ? 100 : bkt * 10 + 9);
            }
            free(key);
        }
    }
    int rc = ctl_pipeline(ctl, cmds, n, &r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t st = (i % per) / (1 + STATS_BUCKETS), j = (i % per) % (1 + STATS_BUCKETS);
        long long v = rconn_int(r[i]) > 0 ? rconn_int(r[i]) : 0;
        if (j == 0)
            s->funnel[st] += v;
        else if (st != STATE_ERASED)
            s->hist[j - 1] += v;
    }
    ctl_replies_free(r, n);
    free(cmds);
    return rc;
}

/* LLEN of every key of names (built by keyf), into depth[]. */
static int lengths(struct ctl *ctl, const struct ctl_strv *names,
                   char *(*keyf)(const char *, const char *), long long **depth)
{
    struct rconn_args *cmds = xcalloc(names->n + 1, sizeof *cmds);
    redisReply **r;

    for (size_t i = 0; i < names->n; i++) {
        rconn_args_add(&cmds[i], "LLEN");
        rconn_args_take(&cmds[i], keyf(ctl_prefix(ctl), names->v[i]));
    }
    int rc = ctl_pipeline(ctl, cmds, names->n, &r);
    *depth = xcalloc(names->n + 1, sizeof **depth);
    for (size_t i = 0; rc == 0 && i < names->n; i++)
        (*depth)[i] = rconn_int(r[i]) > 0 ? rconn_int(r[i]) : 0;
    ctl_replies_free(r, names->n);
    free(cmds);
    return rc;
}

static int members(struct ctl *ctl, char *key, struct ctl_strv *out)
{
    struct rconn_args a = {0};
    char *cause = NULL;
    rconn_args_add(&a, "SMEMBERS");
    rconn_args_take(&a, key);
    redisReply *r = rconn_run(ctl->redis, &a, &cause);
    rconn_args_free(&a);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        ctl_strv_add(out, r->element[i]->str);
    int rc = r ? 0 : ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
    free(cause);
    if (r)
        freeReplyObject(r);
    return rc;
}

static int queues(struct ctl *ctl, struct stats *s)
{
    const char *p = ctl_prefix(ctl);
    char *esc = keys_glob_escape(p), *pat = keys_notif_processing(esc, "*");
    char *base = keys_notif_processing(p, "");
    size_t skip = strlen(base);
    struct ctl_strv keys = {0};
    struct rconn_args cmds[3] = {{0}};
    redisReply **r;
    int rc;

    rconn_args_add(&cmds[0], "LLEN");
    rconn_args_take(&cmds[0], keys_submissions(p));
    rconn_args_add(&cmds[1], "LLEN");
    rconn_args_take(&cmds[1], keys_dead(p));
    rconn_args_add(&cmds[2], "LLEN");
    rconn_args_take(&cmds[2], keys_notifications(p));
    rc = ctl_pipeline(ctl, cmds, 3, &r);
    if (rc == 0) {
        s->submissions = rconn_int(r[0]);
        s->dead = rconn_int(r[1]);
        s->notifications = rconn_int(r[2]);
    }
    ctl_replies_free(r, 3);
    if (rc == 0)
        rc = members(ctl, keys_instances(p), &s->instances);
    if (rc == 0)
        rc = lengths(ctl, &s->instances, keys_processing, &s->inst_depth);
    if (rc == 0)
        rc = ctl_scan(ctl, pat, &keys);
    for (size_t i = 0; rc == 0 && i < keys.n; i++)
        ctl_strv_add(&s->consumers, keys.v[i] + skip);
    if (rc == 0)
        rc = lengths(ctl, &s->consumers, keys_notif_processing, &s->cons_depth);
    ctl_strv_free(&keys);
    free(base);
    free(pat);
    free(esc);
    return rc;
}

static void count_reason(struct stats *s, const char *reason)
{
    for (size_t i = 0; i < s->reasons.n; i++) {
        if (strcmp(s->reasons.v[i], reason) == 0) {
            s->reason_count[i]++;
            return;
        }
    }
    ctl_strv_add(&s->reasons, reason);
    s->reason_count = xreallocarray(s->reason_count, s->reasons.n, sizeof *s->reason_count);
    s->reason_count[s->reasons.n - 1] = 1;
}

static int dead_reasons(struct ctl *ctl, struct stats *s)
{
    redisReply *seqs = NULL, **rr = NULL;
    int rc = ctl_dead_seqs(ctl, &seqs);

    if (rc == 0)
        rc = ctl_dead_field(ctl, seqs, "reason", &rr);
    for (size_t i = 0; rc == 0 && i < seqs->elements; i++)
        count_reason(s, rconn_str(rr[i]) ? rconn_str(rr[i]) : "(missing)");
    if (rr != NULL)
        ctl_replies_free(rr, seqs->elements);
    if (seqs)
        freeReplyObject(seqs);
    return rc;
}

static void json_counts(struct buf *b, const struct ctl_strv *names, const long long *v)
{
    buf_addc(b, '{');
    for (size_t i = 0; i < names->n; i++) {
        buf_adds(b, i ? "," : "");
        buf_add_json_str(b, names->v[i], strlen(names->v[i]));
        buf_printf(b, ":%lld", v[i]);
    }
    buf_addc(b, '}');
}

static void print_json(const struct stats *s)
{
    struct buf b = BUF_INIT;
    buf_adds(&b, "{\"funnel\":{");
    for (int st = 0; st < STATE_COUNT; st++)
        buf_printf(&b, "%s\"%s\":%lld", st ? "," : "", state_name((enum state)st), s->funnel[st]);
    buf_printf(&b, "},\"queues\":{\"submissions\":%lld,\"processing\":", s->submissions);
    json_counts(&b, &s->instances, s->inst_depth);
    buf_printf(&b, ",\"dead\":%lld,\"notifications\":%lld,\"notifications_processing\":", s->dead,
               s->notifications);
    json_counts(&b, &s->consumers, s->cons_depth);
    buf_adds(&b, "},\"dead_by_reason\":");
    json_counts(&b, &s->reasons, s->reason_count);
    buf_adds(&b, ",\"histogram\":[");
    for (int i = 0; i < STATS_BUCKETS; i++)
        buf_printf(&b, "%s{\"from\":%d,\"to\":%d,\"count\":%lld}", i ? "," : "", i * 10,
                   i == STATS_BUCKETS - 1 ? 100 : i * 10 + 9, s->hist[i]);
    printf("%s]}\n", b.data);
    buf_free(&b);
}

static void bar(struct buf *b, long long v, long long max)
{
    long long n = max > 0 ? (v * STATS_BAR + max - 1) / max : 0;
    for (long long i = 0; i < n; i++)
        buf_addc(b, '#');
}

static void print_named(struct buf *b, const char *title, const struct ctl_strv *names,
                        const long long *v)
{
    for (size_t i = 0; i < names->n; i++) {
        buf_printf(b, "  %s ", title);
        out_cell(b, names->v[i], 24 - strlen(title), true);
        buf_printf(b, " %8lld\n", v[i]);
    }
}

static void print_text(struct ctl *ctl, const struct stats *s)
{
    struct buf b = BUF_INIT;
    long long max = 0;

    buf_printf(&b, "%sFunnel%s\n", out_on(ctl->color, OUT_BOLD), out_off(ctl->color));
    for (int st = 0; st < STATE_COUNT; st++)
        max = s->funnel[st] > max ? s->funnel[st] : max;
    for (int st = 0; st < STATE_COUNT; st++) {
        buf_printf(&b, "  %-14s %8lld  ", state_name((enum state)st), s->funnel[st]);
        bar(&b, s->funnel[st], max);
        buf_addc(&b, '\n');
    }
    buf_printf(&b, "\n%sQueues%s\n", out_on(ctl->color, OUT_BOLD), out_off(ctl->color));
    buf_printf(&b, "  %-25s %8lld\n", "submissions", s->submissions);
    print_named(&b, "processing", &s->instances, s->inst_depth);
    buf_printf(&b, "  %-25s %8lld\n", "dead", s->dead);
    buf_printf(&b, "  %-25s %8lld\n", "notifications", s->notifications);
    print_named(&b, "mailer", &s->consumers, s->cons_depth);
    buf_printf(&b, "\n%sDead letters by reason%s\n", out_on(ctl->color, OUT_BOLD),
               out_off(ctl->color));
    if (s->reasons.n == 0)
        buf_adds(&b, "  none\n");
    print_named(&b, "", &s->reasons, s->reason_count);
    buf_printf(&b, "\n%sScores (all states but erased)%s\n", out_on(ctl->color, OUT_BOLD),
               out_off(ctl->color));
    max = 0;
    for (int i = 0; i < STATS_BUCKETS; i++)
        max = s->hist[i] > max ? s->hist[i] : max;
    for (int i = 0; i < STATS_BUCKETS; i++) {
        buf_printf(&b, "  %3d-%-3d %8lld  ", i * 10, i == STATS_BUCKETS - 1 ? 100 : i * 10 + 9,
                   s->hist[i]);
        bar(&b, s->hist[i], max);
        buf_addc(&b, '\n');
    }
    fputs(b.data, stdout);
    buf_free(&b);
}

int ctl_stats(struct ctl *ctl, int argc, char **argv)
{
    struct stats s;
    char *pos[1];
    int npos, rc;

    memset(&s, 0, sizeof s);
    if ((rc = ctl_parse(ctl, argc, argv, NULL, pos, &npos, 0, 0)) != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = ctl_connect(ctl)) != 0)
        return rc;
    if ((rc = discover_roles(ctl, &s)) == 0 && (rc = count_sets(ctl, &s)) == 0 &&
        (rc = queues(ctl, &s)) == 0 && (rc = dead_reasons(ctl, &s)) == 0) {
        if (ctl->json)
            print_json(&s);
        else
            print_text(ctl, &s);
    }
    ctl_strv_free(&s.roles);
    ctl_strv_free(&s.instances);
    ctl_strv_free(&s.consumers);
    ctl_strv_free(&s.reasons);
    free(s.inst_depth);
    free(s.cons_depth);
    free(s.reason_count);
    return rc;
}
