/* Intake (SPEC §7): the blocking wake-up on its own connection, the take
 * Function on the main connection, scoring, and pipelined, fenced
 * settlement of each batch. At most three batches are in hand at a time. */
#ifndef VETD_INTAKE_H
#define VETD_INTAKE_H

#include <stdbool.h>

struct vetd;
struct intake;

struct intake *intake_new(struct vetd *v);
void intake_free(struct intake *in);
/* The main connection is up and the name is ours: settle what is in hand,
 * return items whose take answer was lost, and take again. */
void intake_resume(struct intake *in);
/* The wake-up connection is up: start waiting when idle. */
void intake_wait_up(struct intake *in);
/* From the tick: replica acknowledgements, and taking without a wake-up
 * while the wake-up connection is down. */
void intake_tick(struct intake *in);
/* Take nothing new from now on; vetd_drained() once nothing is in hand. */
void intake_stop(struct intake *in);
/* Stop everything at once (the name was lost). */
void intake_halt(struct intake *in);
bool intake_idle(const struct intake *in);
/* Is the intake stuck: taking work, with both connections up, yet nothing
 * in flight (no wait on the queue, no take, no settlement, no requeue) and
 * no reason to idle (a retry pending after an error, replicas missing)?
 * That is the process alive but silently no longer consuming, which the
 * watchdog must not cover (SPEC §7). */
bool intake_stuck(const struct intake *in);
/* Counts since start, for STATUS= (scored = stored applications). */
unsigned long long intake_scored(const struct intake *in);
unsigned long long intake_dead(const struct intake *in);
/* Log the counts of the last period at info and start a new period. */
void intake_summary(struct intake *in);

#endif
