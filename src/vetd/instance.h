/* This daemon's identity in Redis (SPEC §7): the heartbeat with its random
 * token, claiming the instance name at start, refreshing it and reclaiming
 * the work of dead instances on every tick, and leaving on a clean stop. */
#ifndef VETD_INSTANCE_H
#define VETD_INSTANCE_H

#include <stdbool.h>

struct vetd;
struct instance;

struct instance *instance_new(struct vetd *v);
void instance_free(struct instance *in);
/* The random token of this process (hex). */
const char *instance_token(const struct instance *in);
/* Claim the name (on the main connection, once it is up and the Functions
 * are loaded): at once when the name is free or its holder is provably
 * dead, after watching it for two heartbeat intervals otherwise. Ends in
 * vetd_claimed() or, when a live process holds the name, vetd_exit(78).
 * Safe to call again after a reconnect (it resumes or restarts). */
void instance_claim(struct instance *in);
bool instance_claimed(const struct instance *in);
/* The tick: refresh the heartbeat and reclaim expired instances. */
void instance_tick(struct instance *in);
/* Clean stop: return the processing list to the queue, delete the
 * heartbeat, leave P instances; then vetd_stopped(). */
void instance_leave(struct instance *in);

#endif
