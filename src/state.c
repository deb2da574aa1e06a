/* Review states and transitions (SPEC §5). The Lua side receives its copy
 * of this table from state_table_lua(), so the two cannot disagree. */
#include "state.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

static const char *const names[STATE_COUNT] = {
    "qualified", "not_qualified", "in_review", "contacted", "declined", "erased",
};

#define T(x) (1u << STATE_##x)
/* allowed[from] is the set of states `from` may move to. Everything but
 * `erased` may move to `erased`. */
static const unsigned allowed[STATE_COUNT] = {
    [STATE_QUALIFIED] = T(IN_REVIEW) | T(CONTACTED) | T(DECLINED) | T(NOT_QUALIFIED) | T(ERASED),
    [STATE_NOT_QUALIFIED] = T(IN_REVIEW) | T(DECLINED) | T(QUALIFIED) | T(ERASED),
    [STATE_IN_REVIEW] = T(CONTACTED) | T(DECLINED) | T(QUALIFIED) | T(NOT_QUALIFIED) | T(ERASED),
    [STATE_CONTACTED] = T(DECLINED) | T(ERASED),
    [STATE_DECLINED] = T(IN_REVIEW) | T(ERASED),
    [STATE_ERASED] = 0,
};
#undef T

const char *state_name(enum state s)
{
    return (unsigned)s < STATE_COUNT ? names[s] : "?";
}

bool state_parse(const char *name, enum state *out)
{
    for (int i = 0; i < STATE_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum state)i;
            return true;
        }
    }
    return false;
}

bool state_allowed(enum state from, enum state to)
{
    if ((unsigned)from >= STATE_COUNT || (unsigned)to >= STATE_COUNT)
        return false;
    return (allowed[from] >> to) & 1u;
}

void state_allowed_list(enum state from, char *out, unsigned outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int to = 0; to < STATE_COUNT; to++) {
        if (!state_allowed(from, (enum state)to))
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", names[to]);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
}

const char *state_event(enum state to)
{
    switch (to) {
    case STATE_CONTACTED:
        return "candidate.contacted";
    case STATE_DECLINED:
        return "candidate.declined";
    default:
        return NULL;
    }
}

char *state_table_lua(void)
{
    struct buf b = BUF_INIT;
    buf_addc(&b, '{');
    for (int from = 0; from < STATE_COUNT; from++) {
        buf_printf(&b, "%s={", names[from]);
        for (int to = 0; to < STATE_COUNT; to++)
            if (state_allowed((enum state)from, (enum state)to))
                buf_printf(&b, "%s=true,", names[to]);
        buf_adds(&b, "},");
    }
    buf_addc(&b, '}');
    return buf_steal(&b);
}
