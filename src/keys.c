/* Redis key names (SPEC §2). */
#include "keys.h"

#include <string.h>

#include "buf.h"
#include "xmalloc.h"

char *keys_submissions(const char *p)
{
    return xasprintf("%ssubmissions", p);
}

char *keys_processing(const char *p, const char *inst)
{
    return xasprintf("%sprocessing:%s", p, inst);
}

char *keys_deliveries(const char *p)
{
    return xasprintf("%sdeliveries", p);
}

char *keys_instance(const char *p, const char *inst)
{
    return xasprintf("%sinstance:%s", p, inst);
}

char *keys_instances(const char *p)
{
    return xasprintf("%sinstances", p);
}

char *keys_app(const char *p, const char *id)
{
    return xasprintf("%sapp:%s", p, id);
}

char *keys_state(const char *p, const char *role, const char *state)
{
    return xasprintf("%sstate:%s:%s", p, role, state);
}

char *keys_history(const char *p, const char *id)
{
    return xasprintf("%shistory:%s", p, id);
}

char *keys_by_email(const char *p, const char *sha1)
{
    return xasprintf("%sby-email:%s", p, sha1);
}

char *keys_notifications(const char *p)
{
    return xasprintf("%snotifications", p);
}

char *keys_notif_processing(const char *p, const char *consumer)
{
    return xasprintf("%snotifications:processing:%s", p, consumer);
}

char *keys_dead(const char *p)
{
    return xasprintf("%sdead", p);
}

char *keys_dead_item(const char *p, long long seq)
{
    return xasprintf("%sdead:%lld", p, seq);
}

char *keys_dead_seq(const char *p)
{
    return xasprintf("%sdead:seq", p);
}

char *keys_roles(const char *p)
{
    return xasprintf("%sroles", p);
}

char *keys_stage(const char *p, const char *inst, const char *digest)
{
    return xasprintf("%sstage:%s:%s", p, inst, digest);
}

char *keys_glob_escape(const char *s)
{
    struct buf b = BUF_INIT;
    for (; *s; s++) {
        if (strchr("*?[]\\", *s) != NULL)
            buf_addc(&b, '\\');
        buf_addc(&b, *s);
    }
    return buf_steal(&b);
}
