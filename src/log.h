/* Logging: logfmt lines on stderr, or structured journald entries when
 * stderr is the journal ($JOURNAL_STREAM). Levels are checked before any
 * formatting. Never pass a candidate's name, e-mail, links or CV text
 * above LOG_DEBUG. */
#ifndef VETD_LOG_H
#define VETD_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cfg.h" /* enum cfg_log_level */

/* Optional structured context of one line; any field may be NULL / -1. */
struct log_ctx {
    const char *app_id;
    const char *role;
    const char *outcome;
    int score; /* -1 when none */
};

/* ident is the program name; instance is added to every line. Detects the
 * journal from $JOURNAL_STREAM against fstat(2). */
void log_init(const char *ident, const char *instance, int level);
/* Free what log_init kept; logging still works after it (as "vetd"). */
void log_close(void);
void log_set_level(int level);
void log_set_instance(const char *instance);
bool log_enabled(int level);
void log_msg(int level, const struct log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append one logfmt line (with its "\n") to b:
 *   ts=2026-11-28T14:16:16.123Z level=info prog=vetd instance=NAME msg="..."
 *   app_id=.. role=.. outcome=.. score=..
 * in that order; instance and the context fields only when set. msg is
 * always quoted; other values are quoted when empty or holding white space,
 * control characters, '=', '"' or '\\'. Inside quotes '"' and '\\' are
 * escaped with a backslash, \n \r \t as such, other control characters as
 * \u00XX. Bytes from 0x80 pass through. */
void log_format_line(struct buf *b, int64_t ms, int level, const char *prog, const char *instance,
                     const struct log_ctx *ctx, const char *msg);
/* The journald priority of a level (debug 7, info 6, notice 5, warning 4,
 * error 3). */
int log_priority(int level);

#define log_debug(...) log_msg(CFG_LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(CFG_LOG_INFO, NULL, __VA_ARGS__)
#define log_notice(...) log_msg(CFG_LOG_NOTICE, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(CFG_LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_msg(CFG_LOG_ERROR, NULL, __VA_ARGS__)

#endif
