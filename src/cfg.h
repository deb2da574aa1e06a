/* vetd.conf: one table of keys (SPEC §7) drives parsing, defaults, ranges,
 * reload rules, --check-config, the documented example and vetctl. */
#ifndef VETD_CFG_H
#define VETD_CFG_H

#include <stdbool.h>
#include <stdio.h>

enum cfg_log_level { CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_NOTICE, CFG_LOG_WARNING, CFG_LOG_ERROR };

/* Room for the line of every key in struct cfg (cfg.c checks it at compile
 * time). */
#define CFG_MAX_KEYS 32

struct cfg {
    char *redis;               /* "redis://127.0.0.1:6379/0" */
    char *redis_user;          /* NULL when unset */
    char *redis_password_file; /* NULL when unset */
    char *key_prefix;          /* "vetd:" */
    char *instance;            /* the host name when unset */
    char *roles_dir;           /* "/etc/vetd/roles" */
    long long batch_size;
    long long max_payload_bytes;
    long long max_deliveries;
    long long heartbeat_interval_ms;
    long long instance_ttl_ms;
    long long block_timeout_ms;
    long long reconnect_max_ms;
    long long shutdown_timeout_ms;
    long long min_replicas_ack;
    char *metrics_listen; /* "" = off */
    int log_level;        /* enum cfg_log_level */
    /* Where cfg_load found each key, so errors found after parsing (a
     * cross-key rule, an unreadable password file) can still name the file,
     * line and key: the file (NULL when not loaded) and, in the order of
     * the key table, the line that set the key (0 = not set by the file). */
    char *source;
    unsigned line[CFG_MAX_KEYS];
};

/* Fill every key with its default (instance = the full host name, or "vetd"
 * when the host name is not a valid instance name). */
void cfg_defaults(struct cfg *c);
/* Read path over the defaults already in c, then run cfg_check. On error
 * return false and set *cause (caller frees) to "path:line: key: reason"
 * ("path: reason" for a file that cannot be read); c
 * may then hold some values of the file: free it, do not use it. A missing
 * file is an error. For redis_user, redis_password_file and instance an
 * empty value means the default (unset; the host name). */
bool cfg_load(struct cfg *c, const char *path, char **cause);
/* Set one key from text with the same rules as a line of the file (for
 * --instance, vetctl's --redis). On error *cause is "key: reason". Does not
 * run cfg_check. The key no longer counts as set by the file. */
bool cfg_set(struct cfg *c, const char *key, const char *value, char **cause);
/* Cross-key checks (instance_ttl_ms >= 3 x heartbeat_interval_ms). *cause
 * is "path:line: key: reason" for the key refused, or for the other key
 * when only that one was set by the file ("path: key: reason" when neither
 * was). */
bool cfg_check(const struct cfg *c, const char *path, char **cause);
void cfg_free(struct cfg *c);
/* Copy the reloadable keys of fresh into cur; for every non-reloadable key
 * whose value differs call restart_required(key, arg). */
void cfg_apply_reload(struct cfg *cur, const struct cfg *fresh,
                      void (*restart_required)(const char *key, void *arg), void *arg);
/* Write the documented example configuration (conf/vetd.conf) to f. */
void cfg_write_example(FILE *f);
/* Read the password from c->redis_password_file (first line, without its
 * "\n" or "\r\n"; at most 4096 bytes; an empty one is an error). Returns
 * NULL with *cause set on error ("conf:line: redis_password_file: path:
 * reason" when the key was set by the file conf, else "path: reason"; never
 * the password), or
 * NULL with *cause NULL when no file is configured. The caller owns the
 * result and should explicit_bzero() it after use. */
char *cfg_read_password(const struct cfg *c, char **cause);
/* An error about what key names (the roles directory, say) found after
 * parsing: "conf:line: key: cause" when the file set key, else cause
 * itself. Takes cause (frees it); the caller frees the result. */
char *cfg_blame(const struct cfg *c, const char *key, char *cause);
/* Can users other than the owner and group read the password file? The
 * caller may warn about it; false when unset or on error. */
bool cfg_password_world_readable(const struct cfg *c);
/* Strict decimal integer: optional '-', digits only, no white space, no
 * trailing text, no overflow, within [min, max]. */
bool cfg_strtonum(const char *s, long long min, long long max, long long *out);
const char *cfg_log_level_name(int level);
bool cfg_log_level_parse(const char *s, int *level);

/* A parsed `redis` URL. */
enum cfg_redis_kind { CFG_REDIS_TCP, CFG_REDIS_UNIX, CFG_REDIS_SENTINEL };
struct cfg_redis_addr {
    char *host; /* or the socket path for unix */
    int port;
};
struct cfg_redis_target {
    enum cfg_redis_kind kind;
    struct cfg_redis_addr *addrs; /* one for tcp/unix, one or more for sentinel */
    int naddrs;
    char *master; /* sentinel master name, else NULL */
    int db;
};
/* Parse a redis URL; false with *cause set on error (a password is one).
 * Default ports: 6379, sentinel 26379; default db 0. IPv6 hosts in
 * brackets ("[::1]:6379") are stored without them. *cause is the bare
 * reason (cfg_load prefixes it with "path:line: redis: "). */
bool cfg_redis_parse(const char *url, struct cfg_redis_target *t, char **cause);
void cfg_redis_free(struct cfg_redis_target *t);
/* Parse metrics_listen ("host:port", "[v6]:port"); *host is owned by the
 * caller, without brackets. An empty s is an error here (it means off). */
bool cfg_listen_parse(const char *s, char **host, int *port, char **cause);

#endif
