/* Prometheus metrics (SPEC §7) and the /metrics and /healthz HTTP endpoint
 * served by evhttp on the daemon's event loop. */
#ifndef VETD_METRICS_H
#define VETD_METRICS_H

#include <stdbool.h>

struct event_base;
struct metrics;

/* Health callback: return true when healthy, else false with *reason set
 * to a static or arg-owned string (valid until the next loop turn). */
typedef bool (*metrics_health_fn)(void *arg, const char **reason);

struct metrics *metrics_new(const char *version);
void metrics_free(struct metrics *m);

/* outcome: "qualified", "not_qualified", "duplicate" or a rejection code. */
void metrics_count_outcome(struct metrics *m, const char *outcome);
void metrics_observe_processing(struct metrics *m, double seconds);
/* queue: "submissions", "processing", "dead", "notifications". */
void metrics_set_queue_depth(struct metrics *m, const char *queue, long long depth);
void metrics_set_connected(struct metrics *m, bool connected);
void metrics_inc_reconnects(struct metrics *m);
/* Total of one outcome counter (for STATUS= and the summary log). */
unsigned long long metrics_outcome_total(const struct metrics *m, const char *outcome);

/* The Prometheus text exposition; caller frees. */
char *metrics_render(const struct metrics *m);

/* Serve on listen ("host:port"); an empty string is a successful no-op.
 * false with *cause set when the address is bad or cannot be bound. */
bool metrics_http_start(struct metrics *m, struct event_base *base, const char *listen,
                        metrics_health_fn health, void *health_arg, char **cause);
void metrics_http_stop(struct metrics *m);

#endif
