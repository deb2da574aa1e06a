/* vetctl's shared state and its command table: every command is a
 * function `int ctl_<name>(struct ctl *, int argc, char **argv)` that
 * returns a sysexits code; argv[0] is the command name. The global options
 * before it have been taken out; ctl_parse() takes those after it. ctl.c
 * holds the table and the helpers every command shares (config,
 * connection, errors, options). */
#ifndef VETCTL_CTL_H
#define VETCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "cfg.h"

struct redisContext;

struct ctl {
    const char *config_path; /* -c FILE, or NULL: see the lookup order of SPEC §8 */
    const char *redis_url;   /* --redis URL, or NULL */
    bool json;               /* --json */
    bool color;              /* stdout is a terminal and $NO_COLOR is unset */
    /* Filled by ctl_connect(): */
    struct cfg cfg;
    bool cfg_loaded;
    struct redisContext *redis; /* owned; freed by ctl_close() */
    const char *cmd;            /* the running command's name, for messages */
};

struct ctl_command {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv);
    const char *usage; /* "score FILE [--role ID] [--roles-dir DIR]" */
    const char *help;  /* one line */
};

extern const struct ctl_command ctl_commands[];
extern const size_t ctl_ncommands;

int ctl_score(struct ctl *ctl, int argc, char **argv);
int ctl_list(struct ctl *ctl, int argc, char **argv);
int ctl_show(struct ctl *ctl, int argc, char **argv);
int ctl_history(struct ctl *ctl, int argc, char **argv);
int ctl_mark(struct ctl *ctl, int argc, char **argv);
int ctl_note(struct ctl *ctl, int argc, char **argv);
int ctl_stats(struct ctl *ctl, int argc, char **argv);
int ctl_dead(struct ctl *ctl, int argc, char **argv);
int ctl_submit(struct ctl *ctl, int argc, char **argv);
int ctl_export(struct ctl *ctl, int argc, char **argv);
int ctl_erase(struct ctl *ctl, int argc, char **argv);

/* Print "vetctl: <cmd>: <message>" on stderr and return rc. A message
 * that starts with a space continues the command's name instead, for
 * errors about an operand: fmt " %s: not found" gives
 * "vetctl: show ID: not found". */
int ctl_fail(struct ctl *ctl, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print the usage of the command named cmd (to stdout when ok, else stderr
 * with exit 64); returns 0 or 64. */
int ctl_usage(const char *cmd, bool ok);

/* Load the configuration (SPEC §8 lookup order) and connect to Redis.
 * Returns 0, or the exit code after printing the error. */
int ctl_connect(struct ctl *ctl);
void ctl_close(struct ctl *ctl);
/* The key prefix in force (after ctl_connect). */
const char *ctl_prefix(const struct ctl *ctl);

/* The actor of a change (SPEC §8): the Redis user, else $SUDO_USER, else
 * the effective user's name; with as != NULL, "<actor> (as <as>)".
 * Caller frees. */
char *ctl_actor(const struct ctl *ctl, const char *as);

/* Load the configuration only when one was named (-c or $VETCTL_CONFIG),
 * for commands that need none but honour one; *named says which. Returns
 * 0 or the exit code of a bad file (78). */
int ctl_named_config(struct ctl *ctl, bool *named);

/* Text a reviewer gives (a note, --as) goes into stored JSON: it must be
 * UTF-8. Returns 0, or fails with 65 naming what. NULL is fine. */
int ctl_check_text(struct ctl *ctl, const char *what, const char *s);

/* One option of a command. has_arg options store their value in *value;
 * flags set *flag. */
struct ctl_opt {
    const char *name; /* "--state" */
    bool has_arg;
    const char **value;
    bool *flag;
};

/* Parse argv[1..] against opts and the global options (ctl_global_opt());
 * nothing after `--` is an option. Positional arguments go to pos (at most
 * maxpos, at least minpos). `--help` prints the command's usage and
 * returns -1 (the command then exits 0). Returns 0, -1, or 64 after
 * printing the error. */
int ctl_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, char **pos,
              int *npos, int minpos, int maxpos);
/* A global option (`--json`, `-c FILE`, `--config FILE`, `--redis URL`,
 * also `--config=FILE`, `--redis=URL`) at argv[*i], before or after the
 * command: stored in ctl, *i moved past its value. Returns 1 matched, 0
 * not one, or 64 after printing the error (a missing value). */
int ctl_global_opt(struct ctl *ctl, int argc, char **argv, int *i);

/* Parse a non-negative integer option value; false when not one. */
bool ctl_parse_num(const char *s, long long *out);

/* The roles index `P roles`: a set of the role ids that have applications,
 * kept by vetctl's Functions (vetd's state sets are found through it and
 * through the configured roles_dir). Caller frees. */
char *ctl_key_roles(const struct ctl *ctl);

/* Erase one application (the §5 scope) as `mark ID erased` does, with a
 * compare-and-set on expect (-1: the version just read) and the actor's
 * --as name (or NULL); like erase, it asks on a terminal unless yes and
 * needs yes elsewhere. Prints the result; returns an exit code. */
int ctl_erase_one(struct ctl *ctl, const char *id, long long expect, const char *as, bool yes);

/* s escaped for a terminal (control and bidi characters); caller frees. */
char *ctl_escape(const char *s);

/* A list of strings, owned. */
struct ctl_strv {
    char **v;
    size_t n;
};
void ctl_strv_add(struct ctl_strv *sv, const char *s);
void ctl_strv_free(struct ctl_strv *sv);
/* Add s and free it. */
void ctl_strv_take(struct ctl_strv *sv, char *s);

/* The role ids that may have applications: the `P roles` index and the
 * role files of the configured roles_dir (when readable), sorted, without
 * duplicates. Returns 0 or an exit code after printing the error. */
int ctl_roles(struct ctl *ctl, struct ctl_strv *roles);

struct rconn_args;
struct redisReply;

/* Run n commands in one pipeline; *out gets n replies (free each, then
 * the array). Frees the argument vectors. Returns 0 or 69 (printed). */
int ctl_pipeline(struct ctl *ctl, struct rconn_args *cmds, size_t n, struct redisReply ***out);
void ctl_replies_free(struct redisReply **r, size_t n);

/* Every key matching the glob pattern (SCAN), added to keys. This walks
 * the whole keyspace: for operator commands (stats, erase), never list.
 * Returns 0 or 69 (printed). */
int ctl_scan(struct ctl *ctl, const char *pattern, struct ctl_strv *keys);

/* The seqs of `P dead`, oldest first: *out is the LRANGE reply (the
 * caller frees it when not NULL, also on failure). Returns 0 or 69
 * (printed). */
int ctl_dead_seqs(struct ctl *ctl, struct redisReply **out);
/* One field of every dead letter of seqs (a ctl_dead_seqs() reply), in one
 * pipeline: *out gets seqs->elements replies (ctl_replies_free). Returns 0
 * or 69 (printed). */
int ctl_dead_field(struct ctl *ctl, const struct redisReply *seqs, const char *field,
                   struct redisReply ***out);

/* Append dead letter seq (its HGETALL reply h) as a JSON object: the
 * payload as text when it is UTF-8, else base64 ("payload_encoding"). */
void ctl_dead_json(struct buf *b, long long seq, const struct redisReply *h);

#endif
