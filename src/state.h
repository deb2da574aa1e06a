/* The review states and the transition table of SPEC §5: the one place
 * that says which transitions exist and which notification each emits. */
#ifndef VETD_STATE_H
#define VETD_STATE_H

#include <stdbool.h>

enum state {
    STATE_QUALIFIED,
    STATE_NOT_QUALIFIED,
    STATE_IN_REVIEW,
    STATE_CONTACTED,
    STATE_DECLINED,
    STATE_ERASED,
    STATE_COUNT
};

const char *state_name(enum state s);
/* Parse a state name; false when unknown. */
bool state_parse(const char *name, enum state *out);
/* Does the table allow from -> to? (from == to is not a transition.) */
bool state_allowed(enum state from, enum state to);
/* Comma-separated list of the states reachable from `from`, into out. */
void state_allowed_list(enum state from, char *out, unsigned outlen);
/* The notification event a transition into `to` emits, or NULL. */
const char *state_event(enum state to);
/* The Lua table literal of the transition table, e.g.
 * {qualified={in_review=true,...},...}; caller frees. */
char *state_table_lua(void);

#endif
