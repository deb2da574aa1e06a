/* The daemon as a whole: the state every part of vetd shares (config and
 * roles in force, the loop, both Redis connections, the key names), its
 * start, its maintenance tick, reload and stop. One `struct vetd` per
 * process, owned by main(). */
#ifndef VETD_VETD_H
#define VETD_VETD_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

struct event;
struct event_base;
struct evdns_base;
struct conn;
struct intake;
struct instance;
struct metrics;
struct roleset;

enum vetd_phase {
    VETD_STARTING, /* connecting, loading Functions, claiming the name */
    VETD_RUNNING,
    VETD_STOPPING, /* a signal came: settle what is in hand, then leave */
    VETD_DONE,     /* the loop is being broken */
};

/* Key names of this daemon (prefix and instance are fixed for its life). */
struct vetd_keys {
    char *submissions, *processing, *deliveries, *dead, *dead_seq, *notifications;
    char *instance, *instances, *roles;
};

struct vetd {
    const char *config_path;
    const char *instance_override; /* --instance, or NULL */
    struct cfg cfg;                /* in force; owned */
    struct roleset *roles;         /* in force; owned */
    struct event_base *base;
    struct evdns_base *dns;
    struct metrics *metrics;
    struct conn *main; /* Functions, heartbeat, everything but the wait */
    struct conn *wait; /* only the blocking wake-up (BLMOVE) */
    struct intake *intake;
    struct instance *inst;
    struct vetd_keys keys;
    char *fns[8];       /* "vetd_<hash>_<verb>" per Function, see vetd_fn() */
    char scored_by[64]; /* "vetd <version>" */
    enum vetd_phase phase;
    bool functions_ok; /* loaded on the current main connection */
    bool ready;        /* READY=1 sent */
    bool checked_persistence;
    bool wait_was_up; /* the wake-up connection has been up before */
    int stuck_ticks;  /* consecutive ticks with the intake stuck */
    int exit_code;
    bool leaving; /* instance_leave() called */
    struct event *tick_ev, *stop_ev, *hard_stop_ev;
    struct event *sig_term, *sig_int, *sig_hup;
    int64_t last_summary_ms;
    long long queue_depth; /* P submissions at the last heartbeat; -1 unknown */
};

/* Everything up to the first connect: loop, signals, connections.
 * password may be NULL. False with *cause set when the Redis URL or the
 * metrics address is unusable. */
bool vetd_init(struct vetd *v, const char *password, char **cause);
/* Start connecting; the rest of the life happens in the loop. */
void vetd_start(struct vetd *v);
/* Release everything vetd_init made (after the loop ended). */
void vetd_cleanup(struct vetd *v);

/* For the parts: the full name of a Function, e.g. "vetd_abc_take". */
const char *vetd_fn(struct vetd *v, const char *verb);
/* End the loop with this exit status (now: no further cleanup in Redis). */
void vetd_exit(struct vetd *v, int code);
/* The instance lost its name to another process: stop taking, exit 78. */
void vetd_name_lost(struct vetd *v);
/* The instance has claimed its name: intake may start. */
void vetd_claimed(struct vetd *v);
/* Intake is stopping and has nothing in hand any more. */
void vetd_drained(struct vetd *v);
/* The stop has finished its work in Redis (or gave up). */
void vetd_stopped(struct vetd *v);
/* Is this Redis error Redis's fault (retry later), not the item's? */
bool vetd_error_transient(const char *err);
/* Is this Redis error a sign that the Functions are missing? */
bool vetd_error_no_function(const char *err);
/* Request deadline for the main connection, in ms. */
long long vetd_request_ms(const struct vetd *v);
/* Monotonic microseconds. */
int64_t vetd_mono_us(void);

#endif
