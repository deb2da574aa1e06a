/* Logging: logfmt lines on stderr, or structured journald entries when
 * stderr is the journal ($JOURNAL_STREAM). Levels are checked before any
 * formatting. Never pass a candidate's name, e-mail, links or CV text
 * above LOG_DEBUG. */
#ifndef VETD_LOG_H
#define VETD_LOG_H

#include <stdbool.h>

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
void log_set_level(int level);
void log_set_instance(const char *instance);
bool log_enabled(int level);
void log_msg(int level, const struct log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(CFG_LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(CFG_LOG_INFO, NULL, __VA_ARGS__)
#define log_notice(...) log_msg(CFG_LOG_NOTICE, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(CFG_LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_msg(CFG_LOG_ERROR, NULL, __VA_ARGS__)

#endif
