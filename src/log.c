/* The log: one logfmt line per event on stderr, or one structured journald
 * entry when stderr is connected to the journal. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* CODE_FILE/LINE/FUNC would all name log.c: leave them out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "timefmt.h"
#include "xmalloc.h"

#define LOG_MAX_FIELDS 8

static struct {
    char *ident;
    char *instance;
    int level;
    bool journal;
} log_state = {NULL, NULL, CFG_LOG_INFO, false};

/* Is stderr the stream systemd described in $JOURNAL_STREAM ("dev:inode")?
 * Only then are the structured fields worth sending: a redirected stderr
 * gets logfmt even when the variable was inherited. */
static bool log_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    int used = 0;

    if (env == NULL || sscanf(env, "%llu:%llu%n", &dev, &ino, &used) != 2 || env[used] != '\0')
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    if ((unsigned long long)st.st_dev != dev || (unsigned long long)st.st_ino != ino)
        return false;
    /* sd_journal_send() drops entries silently when the socket is gone. */
    return access("/run/systemd/journal/socket", F_OK) == 0;
}

void log_init(const char *ident, const char *instance, int level)
{
    free(log_state.ident);
    log_state.ident = xstrdup(ident);
    log_set_instance(instance);
    log_set_level(level);
    log_state.journal = log_stderr_is_journal();
}

void log_close(void)
{
    free(log_state.ident);
    free(log_state.instance);
    log_state.ident = log_state.instance = NULL;
    log_state.journal = false;
}

void log_set_level(int level)
{
    if (level >= CFG_LOG_DEBUG && level <= CFG_LOG_ERROR)
        log_state.level = level;
}

void log_set_instance(const char *instance)
{
    free(log_state.instance);
    log_state.instance = instance != NULL ? xstrdup(instance) : NULL;
}

bool log_enabled(int level)
{
    return level >= log_state.level;
}

int log_priority(int level)
{
    static const int prio[] = {7, 6, 5, 4, 3};

    if (level < CFG_LOG_DEBUG || level > CFG_LOG_ERROR)
        return 3;
    return prio[level];
}

static bool log_needs_quotes(const char *v)
{
    if (*v == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '=' || *p == '"' || *p == '\\')
            return true;
    return false;
}

static void log_add_quoted(struct buf *b, const char *v)
{
    static const char hex[] = "0123456789abcdef";

    buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)*p);
        } else if (*p == '\n') {
            buf_adds(b, "\\n");
        } else if (*p == '\r') {
            buf_adds(b, "\\r");
        } else if (*p == '\t') {
            buf_adds(b, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            buf_add(b, e, sizeof e);
        } else {
            buf_addc(b, (char)*p);
        }
    }
    buf_addc(b, '"');
}

/* " key=value", the value quoted when it must be; nothing for NULL. */
static void log_add_field(struct buf *b, const char *key, const char *v)
{
    if (v == NULL)
        return;
    buf_printf(b, " %s=", key);
    if (log_needs_quotes(v))
        log_add_quoted(b, v);
    else
        buf_adds(b, v);
}

void log_format_line(struct buf *b, int64_t ms, int level, const char *prog, const char *instance,
                     const struct log_ctx *ctx, const char *msg)
{
    char ts[TIMEFMT_LEN + 1];

    timefmt_format(ms, ts);
    buf_printf(b, "ts=%s level=%s", ts, cfg_log_level_name(level));
    log_add_field(b, "prog", prog);
    log_add_field(b, "instance", instance);
    buf_adds(b, " msg=");
    log_add_quoted(b, msg);
    if (ctx != NULL) {
        log_add_field(b, "app_id", ctx->app_id);
        log_add_field(b, "role", ctx->role);
        log_add_field(b, "outcome", ctx->outcome);
        if (ctx->score >= 0)
            buf_printf(b, " score=%d", ctx->score);
    }
    buf_addc(b, '\n');
}

/* One write(2) per line, so lines from several processes sharing the
 * stream do not interleave. */
static void log_write_stderr(const struct buf *b)
{
    size_t off = 0;

    while (off < b->len) {
        ssize_t n = write(STDERR_FILENO, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

static void log_iov(struct iovec *iov, int *n, char *field)
{
    iov[*n].iov_base = field;
    iov[*n].iov_len = strlen(field);
    (*n)++;
}

static bool log_send_journal(int level, const struct log_ctx *ctx, const char *msg)
{
    struct iovec iov[LOG_MAX_FIELDS];
    int n = 0, rc;

    log_iov(iov, &n, xasprintf("MESSAGE=%s", msg));
    log_iov(iov, &n, xasprintf("PRIORITY=%d", log_priority(level)));
    log_iov(iov, &n, xasprintf("SYSLOG_IDENTIFIER=%s", log_state.ident));
    if (log_state.instance != NULL)
        log_iov(iov, &n, xasprintf("INSTANCE=%s", log_state.instance));
    if (ctx != NULL && ctx->app_id != NULL)
        log_iov(iov, &n, xasprintf("APPLICATION_ID=%s", ctx->app_id));
    if (ctx != NULL && ctx->role != NULL)
        log_iov(iov, &n, xasprintf("ROLE=%s", ctx->role));
    if (ctx != NULL && ctx->outcome != NULL)
        log_iov(iov, &n, xasprintf("OUTCOME=%s", ctx->outcome));
    if (ctx != NULL && ctx->score >= 0)
        log_iov(iov, &n, xasprintf("SCORE=%d", ctx->score));
    rc = sd_journal_sendv(iov, n);
    for (int i = 0; i < n; i++)
        free(iov[i].iov_base);
    return rc >= 0;
}

void log_msg(int level, const struct log_ctx *ctx, const char *fmt, ...)
{
    struct buf msg = BUF_INIT, line = BUF_INIT;
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (msg.data == NULL)
        buf_adds(&msg, "");
    if (!log_state.journal || !log_send_journal(level, ctx, msg.data)) {
        log_format_line(&line, timefmt_now_ms(), level,
                        log_state.ident != NULL ? log_state.ident : "vetd", log_state.instance, ctx,
                        msg.data);
        log_write_stderr(&line);
    }
    buf_free(&line);
    buf_free(&msg);
}
