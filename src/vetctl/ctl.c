/* vetctl's command table and the helpers every command shares: reading
 * the configuration, connecting, naming the actor, parsing options and
 * reporting errors as one line on stderr. */
#include "ctl.h"

#include <dirent.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "keys.h"
#include "match.h"
#include "out.h"
#include "rconn.h"
#include "xmalloc.h"

const struct ctl_command ctl_commands[] = {
    {"list", ctl_list, "list [--state S] [--role R] [--min-score N] [--limit N]",
     "applications, highest score first (default: qualified, all roles, 20)"},
    {"show", ctl_show, "show ID", "one application: candidate, score, analysis, plan, history"},
    {"mark", ctl_mark, "mark ID STATE [--expect-version N] [--note TEXT] [--as NAME] [--yes]",
     "a review transition (compare-and-set on the version)"},
    {"note", ctl_note, "note ID TEXT [--as NAME]", "add a reviewer note to the history"},
    {"history", ctl_history, "history ID", "the audit trail of one application"},
    {"stats", ctl_stats, "stats", "funnel, queue depths, dead letters by reason, score histogram"},
    {"dead", ctl_dead, "dead list | show SEQ | retry SEQ|--all | drop SEQ",
     "inspect, retry or drop dead letters"},
    {"submit", ctl_submit, "submit FILE...", "push submission files onto the queue"},
    {"score", ctl_score, "score FILE [--role ID] [--roles-dir DIR]",
     "score a submission offline (no Redis, no config)"},
    {"export", ctl_export, "export ID|--email ADDR", "everything stored about a candidate (JSON)"},
    {"erase", ctl_erase, "erase ID|--email ADDR [--yes]", "right to erasure: remove personal data"},
};
const size_t ctl_ncommands = sizeof ctl_commands / sizeof ctl_commands[0];

int ctl_fail(struct ctl *ctl, int rc, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vetctl: %s%s%s\n", ctl->cmd ? ctl->cmd : "",
            ctl->cmd && b.data[0] != ' ' ? ": " : "", b.data);
    buf_free(&b);
    return rc;
}

int ctl_usage(const char *cmd, bool ok)
{
    FILE *f = ok ? stdout : stderr;
    for (size_t i = 0; i < ctl_ncommands; i++) {
        if (strcmp(ctl_commands[i].name, cmd) == 0) {
            fprintf(f, "usage: vetctl [-c FILE] [--redis URL] [--json] %s\n  %s\n",
                    ctl_commands[i].usage, ctl_commands[i].help);
            if (ok)
                fprintf(f, "See vetctl(1) for the details.\n");
        }
    }
    return ok ? 0 : EX_USAGE;
}

/* The config file in force (SPEC §8): -c, $VETCTL_CONFIG, the user's file,
 * the system file; NULL when none exists (the defaults apply). *must is
 * set when the file was named explicitly and so has to exist. */
static char *config_path(const struct ctl *ctl, bool *must)
{
    const char *env = getenv("VETCTL_CONFIG");
    const char *home = getenv("HOME");

    *must = true;
    if (ctl->config_path != NULL)
        return xstrdup(ctl->config_path);
    if (env != NULL && *env != '\0')
        return xstrdup(env);
    *must = false;
    if (home != NULL && *home != '\0') {
        char *p = xasprintf("%s/.config/vetd/vetctl.conf", home);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    if (access("/etc/vetd/vetd.conf", F_OK) == 0)
        return xstrdup("/etc/vetd/vetd.conf");
    return NULL;
}

static int load_config(struct ctl *ctl)
{
    bool must;
    char *path = config_path(ctl, &must);
    char *cause = NULL;
    int rc = 0;

    cfg_defaults(&ctl->cfg);
    ctl->cfg_loaded = true;
    if (path != NULL && (!cfg_load(&ctl->cfg, path, &cause) || !cfg_check(&ctl->cfg, path, &cause)))
        rc = ctl_fail(ctl, EX_CONFIG, "%s", cause ? cause : path);
    free(cause);
    free(path);
    return rc;
}

int ctl_named_config(struct ctl *ctl, bool *named)
{
    char *path = config_path(ctl, named);
    free(path);
    return *named ? load_config(ctl) : 0;
}

int ctl_connect(struct ctl *ctl)
{
    char *cause = NULL;
    redisContext *c = NULL;
    int rc;

    if (ctl->redis != NULL)
        return 0;
    if ((rc = load_config(ctl)) != 0)
        return rc;
    rc = rconn_connect(&ctl->cfg, ctl->redis_url, &c, &cause);
    if (rc != 0) {
        ctl_fail(ctl, rc, "%s", cause ? cause : "cannot connect to Redis");
        free(cause);
        return rc;
    }
    ctl->redis = c;
    return 0;
}

void ctl_close(struct ctl *ctl)
{
    if (ctl->redis != NULL)
        redisFree(ctl->redis);
    ctl->redis = NULL;
    if (ctl->cfg_loaded)
        cfg_free(&ctl->cfg);
    ctl->cfg_loaded = false;
}

const char *ctl_prefix(const struct ctl *ctl)
{
    return ctl->cfg.key_prefix;
}

char *ctl_actor(const struct ctl *ctl, const char *as)
{
    const char *who = ctl->cfg.redis_user;
    char uid[32];

    if (who == NULL || *who == '\0')
        who = getenv("SUDO_USER");
    if (who == NULL || *who == '\0') {
        struct passwd *pw = getpwuid(geteuid());
        who = pw ? pw->pw_name : NULL;
    }
    size_t bad;
    if (who == NULL || !match_utf8_valid(who, strlen(who), &bad)) {
        /* No name, or one that is not UTF-8 (it goes into stored JSON). */
        snprintf(uid, sizeof uid, "uid:%u", (unsigned)geteuid());
        who = uid;
    }
    if (as != NULL && *as != '\0')
        return xasprintf("%s (as %s)", who, as);
    return xstrdup(who);
}

int ctl_check_text(struct ctl *ctl, const char *what, const char *s)
{
    size_t bad;
    if (s == NULL || match_utf8_valid(s, strlen(s), &bad))
        return 0;
    return ctl_fail(ctl, EX_DATAERR, "%s is not valid UTF-8 (byte %zu)", what, bad + 1);
}

bool ctl_parse_num(const char *s, long long *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v < 0)
        return false;
    *out = v;
    return true;
}

/* Match argv[*i] against one option; returns 1 matched, 0 not, 64 error. */
static int match_opt(struct ctl *ctl, int argc, char **argv, int *i, const struct ctl_opt *o)
{
    size_t n = strlen(o->name);
    const char *a = argv[*i];

    if (strncmp(a, o->name, n) != 0 || (a[n] != '\0' && (a[n] != '=' || !o->has_arg)))
        return 0;
    if (!o->has_arg) {
        *o->flag = true;
        return 1;
    }
    if (a[n] == '=') {
        *o->value = a + n + 1;
    } else if (*i + 1 < argc) {
        *o->value = argv[++*i];
    } else {
        ctl_fail(ctl, EX_USAGE, "%s needs a value", o->name);
        return EX_USAGE;
    }
    return 1;
}

/* The value of a global option at argv[*i] ("--redis URL" or "--redis=URL"
 * for long, "-c FILE" for -c); NULL when argv[*i] is not that option. */
static const char *global_value(struct ctl *ctl, int argc, char **argv, int *i, const char *name,
                                bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=' && name[1] == '-')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        ctl_fail(ctl, EX_USAGE, "%s needs a value", name);
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int ctl_global_opt(struct ctl *ctl, int argc, char **argv, int *i)
{
    bool missing = false;
    const char *v;

    if (strcmp(argv[*i], "--json") == 0) {
        ctl->json = true;
        return 1;
    }
    if ((v = global_value(ctl, argc, argv, i, "--redis", &missing)) != NULL) {
        ctl->redis_url = v;
        return 1;
    }
    if (!missing && (v = global_value(ctl, argc, argv, i, "-c", &missing)) == NULL && !missing)
        v = global_value(ctl, argc, argv, i, "--config", &missing);
    if (v != NULL)
        ctl->config_path = v;
    return v != NULL ? 1 : missing ? EX_USAGE : 0;
}

int ctl_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, char **pos,
              int *npos, int minpos, int maxpos)
{
    bool dashdash = false;

    *npos = 0;
    for (int i = 1; i < argc; i++) {
        int m = 0;
        if (!dashdash && strcmp(argv[i], "--") == 0) {
            dashdash = true;
            continue;
        }
        if (!dashdash && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            ctl_usage(argv[0], true);
            return -1;
        }
        for (const struct ctl_opt *o = opts; !dashdash && o && o->name && m == 0; o++)
            m = match_opt(ctl, argc, argv, &i, o);
        if (m == 0 && !dashdash)
            m = ctl_global_opt(ctl, argc, argv, &i);
        if (m == EX_USAGE)
            return EX_USAGE;
        if (m == 1)
            continue;
        if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0') {
            ctl_fail(ctl, EX_USAGE, "unknown option %s", argv[i]);
            return ctl_usage(argv[0], false);
        }
        if (*npos == maxpos) {
            ctl_fail(ctl, EX_USAGE, "too many arguments");
            return ctl_usage(argv[0], false);
        }
        pos[(*npos)++] = argv[i];
    }
    if (*npos < minpos) {
        ctl_fail(ctl, EX_USAGE, "missing arguments");
        return ctl_usage(argv[0], false);
    }
    return 0;
}

char *ctl_key_roles(const struct ctl *ctl)
{
    return keys_roles(ctl_prefix(ctl));
}

char *ctl_escape(const char *s)
{
    struct buf b = BUF_INIT;
    out_escape(&b, s, strlen(s), 0);
    return buf_steal(&b);
}

void ctl_strv_add(struct ctl_strv *sv, const char *s)
{
    sv->v = xreallocarray(sv->v, sv->n + 1, sizeof *sv->v);
    sv->v[sv->n++] = xstrdup(s);
}

void ctl_strv_free(struct ctl_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Role ids from the <id>.json files of dir; a missing or unreadable
 * directory adds nothing (a reviewer's machine need not have it). */
static void roles_from_dir(const char *dir, struct ctl_strv *roles)
{
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && n <= 69 && strcmp(e->d_name + n - 5, ".json") == 0 &&
            strspn(e->d_name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n - 5) {
            char *id = xstrndup(e->d_name, n - 5);
            ctl_strv_add(roles, id);
            free(id);
        }
    }
    if (d != NULL)
        closedir(d);
}

int ctl_roles(struct ctl *ctl, struct ctl_strv *roles)
{
    struct rconn_args a = {0};
    char *cause = NULL;
    size_t keep = 0;

    rconn_args_add(&a, "SMEMBERS");
    rconn_args_take(&a, ctl_key_roles(ctl));
    redisReply *r = rconn_run(ctl->redis, &a, &cause);
    rconn_args_free(&a);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        int rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : r ? r->str : "no reply");
        free(cause);
        if (r)
            freeReplyObject(r);
        return rc;
    }
    for (size_t i = 0; i < r->elements; i++)
        ctl_strv_add(roles, r->element[i]->str);
    freeReplyObject(r);
    roles_from_dir(ctl->cfg.roles_dir, roles);
    if (roles->n > 1)
        qsort(roles->v, roles->n, sizeof *roles->v, cmp_str);
    for (size_t i = 0; i < roles->n; i++) {
        if (keep > 0 && strcmp(roles->v[keep - 1], roles->v[i]) == 0)
            free(roles->v[i]);
        else
            roles->v[keep++] = roles->v[i];
    }
    roles->n = keep;
    return 0;
}

int ctl_pipeline(struct ctl *ctl, struct rconn_args *cmds, size_t n, redisReply ***out)
{
    char *cause = NULL;
    int rc = 0;

    *out = xcalloc(n ? n : 1, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        rconn_append(ctl->redis, &cmds[i]);
        rconn_args_free(&cmds[i]);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        (*out)[i] = rconn_next(ctl->redis, &cause);
        if ((*out)[i] == NULL)
            rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause);
    }
    free(cause);
    return rc;
}

void ctl_replies_free(redisReply **r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        if (r[i])
            freeReplyObject(r[i]);
    free(r);
}

int ctl_scan(struct ctl *ctl, const char *pattern, struct ctl_strv *keys)
{
    char cursor[32] = "0";
    char *cause = NULL;

    do {
        struct rconn_args a = {0};
        rconn_args_add(&a, "SCAN");
        rconn_args_add(&a, cursor);
        rconn_args_add(&a, "MATCH");
        rconn_args_add(&a, pattern);
        rconn_args_add(&a, "COUNT");
        rconn_args_add(&a, "1000");
        redisReply *r = rconn_run(ctl->redis, &a, &cause);
        rconn_args_free(&a);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            int rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : r ? r->str : "SCAN");
            free(cause);
            if (r)
                freeReplyObject(r);
            return rc;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            ctl_strv_add(keys, r->element[1]->element[i]->str);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

void ctl_strv_take(struct ctl_strv *sv, char *s)
{
    ctl_strv_add(sv, s);
    free(s);
}
