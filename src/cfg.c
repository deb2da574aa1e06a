/* The vetd.conf parser: one table of keys drives the defaults, parsing, the
 * range checks, the reload rules and the documented example file. */
#include "cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"

#define CFG_PASSWORD_MAX 4096
#define CFG_NAME_MAX 64

enum cfg_type { CFG_T_STRING, CFG_T_INT, CFG_T_LOG_LEVEL };

/* Checks a string value: NULL when good, else the reason (caller frees). */
typedef char *(*cfg_check_fn)(const char *value);

/* One key. def is the default as it would be written in the file; NULL
 * means unset (then an empty value in the file also means unset), except
 * that def_fn computes a default for such a key. */
struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;
    const char *def;
    char *(*def_fn)(void);
    long long min, max; /* CFG_T_INT */
    bool reloadable;
    bool empty_ok; /* "" is a value of its own (metrics_listen: off) */
    cfg_check_fn check;
    const char *help;
};

static char *cfg_check_redis(const char *v);
static char *cfg_check_token(const char *v);
static char *cfg_check_path(const char *v);
static char *cfg_check_prefix(const char *v);
static char *cfg_check_instance(const char *v);
static char *cfg_check_listen(const char *v);
static char *cfg_default_instance(void);

#define S(field) CFG_T_STRING, offsetof(struct cfg, field)
#define I(field) CFG_T_INT, offsetof(struct cfg, field)

/* The keys of SPEC §7, in the order of the example file. */
static const struct cfg_key cfg_keys[] = {
    {"redis", S(redis), "redis://127.0.0.1:6379/0", NULL, 0, 0, false, false, cfg_check_redis,
     "The Redis server (7.0 or newer), one of:\n"
     "  redis://HOST[:PORT][/DB]       TCP; port 6379 and db 0 by default;\n"
     "                                 IPv6 hosts in brackets: redis://[::1]:6379\n"
     "  unix:///PATH/TO.SOCK[?db=N]    a unix socket\n"
     "  sentinel://HOST[:PORT][,HOST[:PORT]...]/MASTER[/DB]\n"
     "                                 Sentinels (port 26379 by default)\n"
     "No user or password in the URL: use redis_user and redis_password_file.\n"
     "hiredis has no TLS: use a unix socket or a tunnel to reach a remote Redis."},
    {"redis_user", S(redis_user), NULL, NULL, 0, 0, false, false, cfg_check_token,
     "The Redis ACL user name. vetd and vetctl always authenticate as it,\n"
     "with the password of redis_password_file, or an empty one (a nopass\n"
     "user) when that is unset. Default: unset (the default user)."},
    {"redis_password_file", S(redis_password_file), NULL, NULL, 0, 0, false, false, cfg_check_path,
     "A file whose first line is the Redis password (never logged). Make it\n"
     "readable by the vetd user only. Default: unset (no AUTH unless\n"
     "redis_user is set)."},
    {"key_prefix", S(key_prefix), "vetd:", NULL, 0, 0, false, false, cfg_check_prefix,
     "The prefix of every Redis key (the colon is part of it): 1-64\n"
     "characters, no white space or control characters."},
    {"instance", S(instance), NULL, cfg_default_instance, 0, 0, false, false, cfg_check_instance,
     "This daemon's name, unique among the daemons sharing a Redis: 1-64 of\n"
     "A-Z a-z 0-9 . _ @ -. --instance and the vetd@NAME unit set it too.\n"
     "Default: the host name."},
    {"roles_dir", S(roles_dir), "/etc/vetd/roles", NULL, 0, 0, true, false, cfg_check_path,
     "The directory of the role files (<id>.json)."},
    {"batch_size", I(batch_size), "64", NULL, 1, 10000, true, false, NULL,
     "How many items one take call moves off the queue."},
    {"max_payload_bytes", I(max_payload_bytes), "262144", NULL, 1024, 536870912, true, false, NULL,
     "Larger submissions are dead-lettered as too_large."},
    {"max_deliveries", I(max_deliveries), "5", NULL, 1, 100, true, false, NULL,
     "How many times an item may be taken before it is dead-lettered as poison."},
    {"heartbeat_interval_ms", I(heartbeat_interval_ms), "1000", NULL, 100, 60000, false, false,
     NULL, "The period of the heartbeat and of the maintenance tick."},
    {"instance_ttl_ms", I(instance_ttl_ms), "10000", NULL, 300, 3600000, false, false, NULL,
     "The lifetime of the heartbeat: after it, other instances reclaim this\n"
     "one's items. At least 3 x heartbeat_interval_ms."},
    {"block_timeout_ms", I(block_timeout_ms), "2000", NULL, 100, 60000, false, false, NULL,
     "How long one blocking wait on the queue lasts."},
    {"reconnect_max_ms", I(reconnect_max_ms), "5000", NULL, 100, 600000, true, false, NULL,
     "The cap of the reconnect backoff (exponential, with jitter)."},
    {"shutdown_timeout_ms", I(shutdown_timeout_ms), "10000", NULL, 0, 3600000, true, false, NULL,
     "How long a stop may wait for the work in hand; the rest goes back to\n"
     "the queue. Keep the unit's TimeoutStopSec above it."},
    {"min_replicas_ack", I(min_replicas_ack), "0", NULL, 0, 16, true, false, NULL,
     "Replicas that must acknowledge each batch (WAIT). With fewer replicas\n"
     "reachable vetd stops settling and keeps the items (safety over\n"
     "availability)."},
    {"metrics_listen", S(metrics_listen), "127.0.0.1:9464", NULL, 0, 0, false, true,
     cfg_check_listen,
     "HOST:PORT of the HTTP /metrics and /healthz endpoints ([V6ADDR]:PORT\n"
     "for IPv6). Empty (\"\") turns them off."},
    {"log_level", CFG_T_LOG_LEVEL, offsetof(struct cfg, log_level), "info", NULL, 0, 0, true, false,
     NULL, "One of debug, info, notice, warning, error."},
};
#define CFG_NKEYS (sizeof cfg_keys / sizeof cfg_keys[0])
_Static_assert(CFG_NKEYS <= CFG_MAX_KEYS, "struct cfg has no room for the line of every key");

#undef S
#undef I

static const char *const cfg_level_names[] = {"debug", "info", "notice", "warning", "error"};

static char **cfg_str(struct cfg *c, const struct cfg_key *k)
{
    return (char **)((char *)c + k->offset);
}

static const char *cfg_cstr(const struct cfg *c, const struct cfg_key *k)
{
    return *(char *const *)((const char *)c + k->offset);
}

static long long *cfg_int(struct cfg *c, const struct cfg_key *k)
{
    return (long long *)((char *)c + k->offset);
}

static long long cfg_cint(const struct cfg *c, const struct cfg_key *k)
{
    return *(const long long *)((const char *)c + k->offset);
}

static const struct cfg_key *cfg_find(const char *name)
{
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (strcmp(cfg_keys[i].name, name) == 0)
            return &cfg_keys[i];
    return NULL;
}

/* The line of the file that set the known key name, 0 when it did not. */
static unsigned cfg_line_of(const struct cfg *c, const char *name)
{
    return c->line[cfg_find(name) - cfg_keys];
}

const char *cfg_log_level_name(int level)
{
    if (level < CFG_LOG_DEBUG || level > CFG_LOG_ERROR)
        return "?";
    return cfg_level_names[level];
}

bool cfg_log_level_parse(const char *s, int *level)
{
    for (int i = CFG_LOG_DEBUG; i <= CFG_LOG_ERROR; i++) {
        if (strcmp(s, cfg_level_names[i]) == 0) {
            *level = i;
            return true;
        }
    }
    return false;
}

bool cfg_strtonum(const char *s, long long min, long long max, long long *out)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    char *end;

    if (!isdigit((unsigned char)d[0]))
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- value checks ---------------------------------------------------- */

/* No white space, no control characters. */
static bool cfg_printable(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static char *cfg_check_token(const char *v)
{
    if (!cfg_printable(v))
        return xstrdup("must not contain white space or control characters");
    return NULL;
}

static char *cfg_check_path(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return xstrdup("must not contain control characters");
    return NULL;
}

static char *cfg_check_prefix(const char *v)
{
    if (strlen(v) > CFG_NAME_MAX || !cfg_printable(v))
        return xstrdup("must be 1-64 characters without white space or control characters");
    return NULL;
}

static bool cfg_instance_valid(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > CFG_NAME_MAX)
        return false;
    return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

static char *cfg_check_instance(const char *v)
{
    if (!cfg_instance_valid(v))
        return xstrdup("must be 1-64 of A-Z a-z 0-9 . _ @ -");
    return NULL;
}

static char *cfg_check_redis(const char *v)
{
    struct cfg_redis_target t;
    char *cause;

    if (!cfg_redis_parse(v, &t, &cause))
        return cause;
    cfg_redis_free(&t);
    return NULL;
}

static char *cfg_check_listen(const char *v)
{
    char *host, *cause;
    int port;

    if (v[0] == '\0')
        return NULL;
    if (!cfg_listen_parse(v, &host, &port, &cause))
        return cause;
    free(host);
    return NULL;
}

/* The full host name: unique across the hosts sharing a Redis, where the
 * first label alone might not be. */
static char *cfg_default_instance(void)
{
    char host[256];

    if (gethostname(host, sizeof host) != 0)
        return xstrdup("vetd");
    host[sizeof host - 1] = '\0';
    return xstrdup(cfg_instance_valid(host) ? host : "vetd");
}

/* ---- setting values -------------------------------------------------- */

static void cfg_set_string(struct cfg *c, const struct cfg_key *k, const char *v)
{
    char **p = cfg_str(c, k);

    free(*p);
    if (v != NULL)
        *p = xstrdup(v);
    else
        *p = k->def_fn != NULL ? k->def_fn() : NULL;
}

static char *cfg_parse_string(struct cfg *c, const struct cfg_key *k, const char *v)
{
    char *reason;

    if (v[0] == '\0' && k->def == NULL) {
        cfg_set_string(c, k, NULL);
        return NULL;
    }
    if (v[0] == '\0' && !k->empty_ok)
        return xstrdup("must not be empty");
    if (k->check != NULL && (reason = k->check(v)) != NULL)
        return reason;
    cfg_set_string(c, k, v);
    return NULL;
}

/* Parse v into key k of c: NULL on success, else the reason (caller
 * frees). */
static char *cfg_parse_value(struct cfg *c, const struct cfg_key *k, const char *v)
{
    switch (k->type) {
    case CFG_T_STRING:
        return cfg_parse_string(c, k, v);
    case CFG_T_INT:
        if (!cfg_strtonum(v, k->min, k->max, cfg_int(c, k)))
            return xasprintf("must be an integer %lld-%lld", k->min, k->max);
        return NULL;
    case CFG_T_LOG_LEVEL:
        if (!cfg_log_level_parse(v, &c->log_level))
            return xstrdup("must be one of debug, info, notice, warning, error");
        return NULL;
    }
    return xstrdup("unknown type");
}

/* The defaults are parsed like values from a file, so the table cannot
 * hold a default its own rules reject without a test noticing. */
void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->def == NULL)
            cfg_set_string(c, k, NULL);
        else
            free(cfg_parse_value(c, k, k->def));
    }
}

void cfg_free(struct cfg *c)
{
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        if (cfg_keys[i].type == CFG_T_STRING) {
            char **p = cfg_str(c, &cfg_keys[i]);
            free(*p);
            *p = NULL;
        }
    }
    free(c->source);
    c->source = NULL;
}

/* Levenshtein distance of two short key names, ASCII case-insensitive. */
static size_t cfg_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CFG_NAME_MAX + 1];

    if (la > CFG_NAME_MAX || lb > CFG_NAME_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest key within an edit distance of 2 (3 for long names). */
static const char *cfg_suggest(const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (size_t i = 0; i < CFG_NKEYS; i++) {
        size_t d = cfg_distance(name, cfg_keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = cfg_keys[i].name;
        }
    }
    return best_d <= (strlen(name) >= 12 ? 3u : 2u) ? best : NULL;
}

static char *cfg_unknown(const char *name)
{
    const char *s = cfg_suggest(name);

    if (s != NULL)
        return xasprintf("unknown key (did you mean %s?)", s);
    return xstrdup("unknown key");
}

bool cfg_set(struct cfg *c, const char *key, const char *value, char **cause)
{
    const struct cfg_key *k = cfg_find(key);
    char *reason = k != NULL ? cfg_parse_value(c, k, value) : cfg_unknown(key);

    if (reason != NULL)
        *cause = xasprintf("%s: %s", key, reason);
    else
        c->line[k - cfg_keys] = 0; /* errors about it must not point into the file */
    free(reason);
    return reason == NULL;
}

/* ---- the file ---------------------------------------------------------- */

/* State of one cfg_load: where we are. Which keys were seen where is kept
 * in c->line, for the errors found after parsing. */
struct cfg_parser {
    struct cfg *c;
    const char *path;
    unsigned line;
    char **cause;
};

static bool cfg_fail(struct cfg_parser *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool cfg_fail(struct cfg_parser *p, const char *key, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    buf_printf(&b, "%s:%u: ", p->path, p->line);
    if (key != NULL)
        buf_printf(&b, "%s: ", key);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    *p->cause = buf_steal(&b);
    return false;
}

static bool cfg_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Unquote the value that starts at the '"' of s into out. Inside quotes \"
 * is a quote and \\ a backslash; after the closing quote only white space
 * and a comment may follow. */
static bool cfg_unquote(struct cfg_parser *p, const char *key, const char *s, struct buf *out)
{
    for (s++; *s != '"'; s++) {
        if (*s == '\0')
            return cfg_fail(p, key, "unterminated quoted value");
        if (*s == '\\') {
            s++;
            if (*s != '"' && *s != '\\')
                return cfg_fail(p, key, "only \\\" and \\\\ may follow a backslash in quotes");
        }
        buf_addc(out, *s);
    }
    s++;
    const char *after = s;
    while (cfg_space(*s))
        s++;
    if (*s != '\0' && !(*s == '#' && s != after))
        return cfg_fail(p, key, "unexpected text after the closing quote");
    buf_addc(out, '\0');
    out->len--;
    return true;
}

/* The unquoted value at s: up to a '#' that follows white space, trimmed.
 * after_space says whether white space came before s ("key = #x" is
 * empty, "key =#x" is "#x"). */
static void cfg_plain(const char *s, bool after_space, struct buf *out)
{
    size_t n = 0;

    while (s[n] != '\0' && !(s[n] == '#' && (n > 0 ? cfg_space(s[n - 1]) : after_space)))
        n++;
    while (n > 0 && cfg_space(s[n - 1]))
        n--;
    buf_add(out, s, n);
}

static bool cfg_assign(struct cfg_parser *p, const char *key, const char *value)
{
    const struct cfg_key *k = cfg_find(key);
    char *reason;

    if (k != NULL) {
        size_t i = (size_t)(k - cfg_keys);
        if (p->c->line[i] != 0)
            return cfg_fail(p, key, "repeated key (first set on line %u)", p->c->line[i]);
        p->c->line[i] = p->line;
        reason = cfg_parse_value(p->c, k, value);
    } else {
        reason = cfg_unknown(key);
    }
    if (reason != NULL)
        cfg_fail(p, key, "%s", reason);
    free(reason);
    return reason == NULL;
}

/* One line, without its newline: blank, a comment, or key = value. */
static bool cfg_parse_line(struct cfg_parser *p, char *s)
{
    struct buf value = BUF_INIT;
    bool ok;

    while (cfg_space(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return true;
    char *key = s;
    while (*s != '\0' && *s != '=' && !cfg_space(*s))
        s++;
    if (s == key)
        return cfg_fail(p, NULL, "missing key before '='");
    char *end = s;
    while (cfg_space(*s))
        s++;
    if (*s != '=') {
        *end = '\0';
        return cfg_fail(p, key, "expected '=' after the key");
    }
    *end = '\0';
    char *eq = s;
    for (s++; cfg_space(*s); s++)
        ;
    if (*s == '"') {
        ok = cfg_unquote(p, key, s, &value);
    } else {
        cfg_plain(s, s > eq + 1, &value);
        ok = true;
    }
    if (ok)
        ok = cfg_assign(p, key, value.data != NULL ? value.data : "");
    buf_free(&value);
    return ok;
}

static bool cfg_read(struct cfg_parser *p, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;

    while (ok && (n = getline(&line, &cap, f)) != -1) {
        p->line++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (memchr(line, '\0', (size_t)n) != NULL)
            ok = cfg_fail(p, NULL, "NUL byte in the line");
        else
            ok = cfg_parse_line(p, line);
    }
    if (ok && ferror(f)) {
        *p->cause = xasprintf("%s: %s", p->path, strerror(errno));
        ok = false;
    }
    free(line);
    return ok;
}

bool cfg_load(struct cfg *c, const char *path, char **cause)
{
    struct cfg_parser p = {.c = c, .path = path, .cause = cause};
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return false;
    }
    free(c->source);
    c->source = xstrdup(path);
    memset(c->line, 0, sizeof c->line);
    bool ok = cfg_read(&p, f);
    fclose(f);
    return ok && cfg_check(c, path, cause);
}

bool cfg_check(const struct cfg *c, const char *path, char **cause)
{
    unsigned ttl_line = cfg_line_of(c, "instance_ttl_ms");
    unsigned hb_line = cfg_line_of(c, "heartbeat_interval_ms");

    if (c->instance_ttl_ms >= 3 * c->heartbeat_interval_ms)
        return true;
    /* Blame the TTL, unless the file set only the interval: then the line
     * to fix is the interval's (the defaults agree with each other). */
    if (ttl_line == 0 && hb_line != 0)
        *cause = xasprintf("%s:%u: heartbeat_interval_ms: must be at most instance_ttl_ms / 3 "
                           "(%lld)",
                           path, hb_line, c->instance_ttl_ms / 3);
    else if (ttl_line != 0)
        *cause = xasprintf("%s:%u: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms "
                           "(%lld)",
                           path, ttl_line, 3 * c->heartbeat_interval_ms);
    else
        *cause = xasprintf("%s: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms "
                           "(%lld)",
                           path, 3 * c->heartbeat_interval_ms);
    return false;
}

/* ---- reload ------------------------------------------------------------ */

static bool cfg_same(const struct cfg *a, const struct cfg *b, const struct cfg_key *k)
{
    const char *x, *y;

    switch (k->type) {
    case CFG_T_STRING:
        x = cfg_cstr(a, k);
        y = cfg_cstr(b, k);
        return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
    case CFG_T_INT:
        return cfg_cint(a, k) == cfg_cint(b, k);
    case CFG_T_LOG_LEVEL:
        return a->log_level == b->log_level;
    }
    return false;
}

void cfg_apply_reload(struct cfg *cur, const struct cfg *fresh,
                      void (*restart_required)(const char *key, void *arg), void *arg)
{
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (cfg_same(cur, fresh, k))
            continue;
        if (!k->reloadable) {
            if (restart_required != NULL)
                restart_required(k->name, arg);
            continue;
        }
        cur->line[i] = fresh->line[i]; /* the value now comes from there */
        if (k->type == CFG_T_STRING) {
            const char *v = cfg_cstr(fresh, k);
            char **p = cfg_str(cur, k);
            free(*p);
            *p = v != NULL ? xstrdup(v) : NULL;
        } else if (k->type == CFG_T_INT) {
            *cfg_int(cur, k) = cfg_cint(fresh, k);
        } else {
            cur->log_level = fresh->log_level;
        }
    }
}

/* ---- the example file -------------------------------------------------- */

static const char cfg_example_header[] =
    "# vetd.conf: the configuration of vetd, also read by vetctl.\n"
    "#\n"
    "# One \"key = value\" per line. \"#\" starts a comment at the start of a line\n"
    "# or after white space (so in a#b it is part of the value). A value may be\n"
    "# double-quoted, to keep a \"#\" after white space or white space at its\n"
    "# ends; inside quotes \\\" is a quote and \\\\ a backslash. A repeated key, an\n"
    "# unknown key and a bad value are errors naming the file, line and key;\n"
    "# check a file with: vetd --check-config -c FILE\n"
    "#\n"
    "# Every key is shown below with its default, commented out. Keys marked\n"
    "# \"Reload: yes\" take effect on SIGHUP (systemctl reload vetd); the others\n"
    "# keep their old value until a restart.\n";

/* A value as the file would hold it, quoted when it needs to be. */
static void cfg_example_value(FILE *f, const char *v)
{
    size_t n = strlen(v);

    if (n > 0 && strchr(v, '#') == NULL && !cfg_space(v[0]) && !cfg_space(v[n - 1]) &&
        v[0] != '"') {
        fprintf(f, " %s", v);
        return;
    }
    fputs(" \"", f);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            fputc('\\', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void cfg_example_key(FILE *f, const struct cfg_key *k)
{
    const char *h = k->help;

    fputc('\n', f);
    while (*h != '\0') {
        size_t n = strcspn(h, "\n");
        fprintf(f, "# %.*s\n", (int)n, h);
        h += n + (h[n] == '\n');
    }
    if (k->type == CFG_T_INT)
        fprintf(f, "# Range: %lld-%lld. ", k->min, k->max);
    else
        fputs("# ", f);
    fprintf(f, "Reload: %s.\n", k->reloadable ? "yes" : "no (restart required)");
    fprintf(f, "# %s =", k->name);
    if (k->def != NULL)
        cfg_example_value(f, k->def);
    fputc('\n', f);
}

void cfg_write_example(FILE *f)
{
    fputs(cfg_example_header, f);
    for (size_t i = 0; i < CFG_NKEYS; i++)
        cfg_example_key(f, &cfg_keys[i]);
}

char *cfg_blame(const struct cfg *c, const char *key, char *cause)
{
    unsigned line = cfg_line_of(c, key);
    if (c->source == NULL || line == 0)
        return cause;
    char *out = xasprintf("%s:%u: %s: %s", c->source, line, key, cause);
    free(cause);
    return out;
}

/* ---- the password file ------------------------------------------------- */

/* An error about the password file, led by "conf:line: redis_password_file: "
 * when the configuration file set the key, so it names the line to fix. */
static char *cfg_password_error(const struct cfg *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *cfg_password_error(const struct cfg *c, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    buf_printf(&b, "%s: ", c->redis_password_file);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return cfg_blame(c, "redis_password_file", buf_steal(&b));
}

char *cfg_read_password(const struct cfg *c, char **cause)
{
    const char *path = c->redis_password_file;
    char *line = NULL, *pw = NULL;
    size_t cap = 0;
    FILE *f;

    *cause = NULL;
    if (path == NULL)
        return NULL;
    if ((f = fopen(path, "r")) == NULL) {
        *cause = cfg_password_error(c, "%s", strerror(errno));
        return NULL;
    }
    ssize_t n = getline(&line, &cap, f);
    if (n < 0 && ferror(f)) {
        *cause = cfg_password_error(c, "%s", strerror(errno));
        goto out;
    }
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n <= 0)
        *cause = cfg_password_error(c, "the password is empty");
    else if (n > CFG_PASSWORD_MAX || memchr(line, '\0', (size_t)n) != NULL)
        *cause = cfg_password_error(c, "the password is longer than %d bytes or holds a NUL",
                                    CFG_PASSWORD_MAX);
    else
        pw = xstrndup(line, (size_t)n);
out:
    if (line != NULL)
        explicit_bzero(line, cap);
    free(line);
    fclose(f);
    return pw;
}

bool cfg_password_world_readable(const struct cfg *c)
{
    struct stat st;

    if (c->redis_password_file == NULL || stat(c->redis_password_file, &st) != 0)
        return false;
    return (st.st_mode & S_IROTH) != 0;
}

/* ---- redis URLs -------------------------------------------------------- */

static const char cfg_no_credentials[] =
    "credentials in the URL are not allowed; use redis_user and redis_password_file";

static bool cfg_hostchar(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

/* "[V6ADDR]" at the start of s[0..n): the address into a->host; *rest
 * points after the ']'. */
static bool cfg_host_v6(const char *s, size_t n, struct cfg_redis_addr *a, const char **rest,
                        const char **reason)
{
    const char *close = memchr(s, ']', n);
    struct in6_addr in6;
    char tmp[INET6_ADDRSTRLEN];

    *reason = "bad IPv6 address";
    if (close == NULL || (size_t)(close - s) - 1 >= sizeof tmp)
        return false;
    memcpy(tmp, s + 1, (size_t)(close - s) - 1);
    tmp[close - s - 1] = '\0';
    if (inet_pton(AF_INET6, tmp, &in6) != 1)
        return false;
    a->host = xstrdup(tmp);
    *rest = close + 1;
    return true;
}

/* A host name or IPv4 address in s[0..n). */
static bool cfg_host_name(const char *s, size_t n, struct cfg_redis_addr *a, const char **reason)
{
    if (n == 0 || n > 253) {
        *reason = "missing or overlong host";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cfg_hostchar(s[i])) {
            *reason = "bad host name";
            return false;
        }
    }
    a->host = xstrndup(s, n);
    return true;
}

static bool cfg_port(const char *s, size_t n, int *port, const char **reason)
{
    char tmp[8];
    long long v;

    *reason = "port must be an integer 1-65535";
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!cfg_strtonum(tmp, 1, 65535, &v))
        return false;
    *port = (int)v;
    return true;
}

/* HOST[:PORT] or [V6ADDR][:PORT] in s[0..n); defport 0 means the port is
 * required. */
static bool cfg_hostport(const char *s, size_t n, int defport, struct cfg_redis_addr *a,
                         const char **reason)
{
    const char *end = s + n, *rest;

    if (n > 0 && s[0] == '[') {
        if (!cfg_host_v6(s, n, a, &rest, reason))
            return false;
        if (rest < end && *rest != ':') {
            *reason = "expected ':' after the IPv6 address";
            return false;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        rest = colon != NULL ? colon : end;
        if (!cfg_host_name(s, (size_t)(rest - s), a, reason))
            return false;
    }
    if (rest < end)
        return cfg_port(rest + 1, (size_t)(end - rest - 1), &a->port, reason);
    if (defport == 0) {
        *reason = "must be HOST:PORT";
        return false;
    }
    a->port = defport;
    return true;
}

static bool cfg_db(const char *s, int *db, const char **reason)
{
    long long v = 0;

    if (s[0] != '\0' && !cfg_strtonum(s, 0, INT_MAX, &v)) {
        *reason = "db must be a non-negative integer";
        return false;
    }
    *db = (int)v;
    return true;
}

static struct cfg_redis_addr *cfg_add_addr(struct cfg_redis_target *t)
{
    t->addrs = xreallocarray(t->addrs, (size_t)t->naddrs + 1, sizeof *t->addrs);
    memset(&t->addrs[t->naddrs], 0, sizeof *t->addrs);
    return &t->addrs[t->naddrs++];
}

/* redis://HOST[:PORT][/DB] after the scheme. */
static bool cfg_redis_tcp(const char *s, struct cfg_redis_target *t, const char **reason)
{
    size_t n = strcspn(s, "/");

    t->kind = CFG_REDIS_TCP;
    if (!cfg_hostport(s, n, 6379, cfg_add_addr(t), reason))
        return false;
    return s[n] == '\0' || cfg_db(s + n + 1, &t->db, reason);
}

/* unix:///PATH[?db=N] after the scheme. */
static bool cfg_redis_unix(const char *s, struct cfg_redis_target *t, const char **reason)
{
    size_t n = strcspn(s, "?");
    struct cfg_redis_addr *a = cfg_add_addr(t);

    t->kind = CFG_REDIS_UNIX;
    if (s[0] != '/' || n < 2) {
        *reason = "the socket path must be absolute (unix:///path/to.sock)";
        return false;
    }
    if (n > 107) {
        *reason = "the socket path is longer than 107 bytes";
        return false;
    }
    a->host = xstrndup(s, n);
    if (s[n] == '\0')
        return true;
    if (strncmp(s + n + 1, "db=", 3) != 0 || s[n + 4] == '\0') {
        *reason = "the only parameter is db=N";
        return false;
    }
    return cfg_db(s + n + 4, &t->db, reason);
}

static bool cfg_master_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* sentinel://HOST[:PORT][,HOST[:PORT]...]/MASTER[/DB] after the scheme. */
static bool cfg_redis_sentinel(const char *s, struct cfg_redis_target *t, const char **reason)
{
    const char *p = s, *end = s + strcspn(s, "/");

    t->kind = CFG_REDIS_SENTINEL;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        if (!cfg_hostport(p, (size_t)(stop - p), 26379, cfg_add_addr(t), reason))
            return false;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    p = *end == '/' ? end + 1 : end;
    size_t mn = strcspn(p, "/");
    if (!cfg_master_valid(p, mn)) {
        *reason = "missing or bad master name (sentinel://host:port/master)";
        return false;
    }
    t->master = xstrndup(p, mn);
    return p[mn] == '\0' || cfg_db(p + mn + 1, &t->db, reason);
}

/* Is there a user or password: an '@' before the path? */
static bool cfg_has_credentials(const char *s)
{
    size_t n = strcspn(s, "/?");
    return memchr(s, '@', n) != NULL || strstr(s, "password=") != NULL;
}

bool cfg_redis_parse(const char *url, struct cfg_redis_target *t, char **cause)
{
    const char *reason = "must start with redis://, unix:// or sentinel://";
    bool ok = false;

    memset(t, 0, sizeof *t);
    if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "unix://", 7) == 0 ||
        strncmp(url, "sentinel://", 11) == 0) {
        const char *rest = strstr(url, "://") + 3;
        if (cfg_has_credentials(rest))
            reason = cfg_no_credentials;
        else if (url[0] == 'r')
            ok = cfg_redis_tcp(rest, t, &reason);
        else if (url[0] == 'u')
            ok = cfg_redis_unix(rest, t, &reason);
        else
            ok = cfg_redis_sentinel(rest, t, &reason);
    }
    if (!ok) {
        *cause = xstrdup(reason);
        cfg_redis_free(t);
    }
    return ok;
}

void cfg_redis_free(struct cfg_redis_target *t)
{
    for (int i = 0; i < t->naddrs; i++)
        free(t->addrs[i].host);
    free(t->addrs);
    free(t->master);
    memset(t, 0, sizeof *t);
}

bool cfg_listen_parse(const char *s, char **host, int *port, char **cause)
{
    struct cfg_redis_addr a = {NULL, 0};
    const char *reason = NULL;

    if (!cfg_hostport(s, strlen(s), 0, &a, &reason)) {
        free(a.host);
        *cause = xstrdup(reason);
        return false;
    }
    *host = a.host;
    *port = a.port;
    return true;
}
