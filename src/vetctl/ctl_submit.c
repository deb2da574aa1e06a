/* vetctl submit: push submission files onto the intake queue as the web
 * frontend does (LPUSH of the raw bytes), for operators and tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>

#include "ctl.h"
#include "keys.h"
#include "rconn.h"

/* Read all of path ("-" = stdin) into b; false with errno set. */
static bool read_file(const char *path, struct buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL)
        return false;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(b, chunk, n);
    bool ok = !ferror(f);
    if (f != stdin)
        fclose(f);
    if (!ok)
        errno = EIO;
    return ok;
}

/* LPUSH the files (already read into the argument vector) and report. */
static int push(struct ctl *ctl, struct rconn_args *a, int nfiles)
{
    char *cause = NULL;
    int rc = 0;
    redisReply *r = rconn_run(ctl->redis, a, &cause);

    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        rc = ctl_fail(ctl, EX_UNAVAILABLE, "%s", cause ? cause : r->str);
    else if (ctl->json)
        printf("{\"submitted\":%d,\"queue_length\":%lld}\n", nfiles, r->integer);
    else
        printf("%d submission%s queued (queue length %lld)\n", nfiles, nfiles == 1 ? "" : "s",
               r->integer);
    free(cause);
    if (r)
        freeReplyObject(r);
    return rc;
}

int ctl_submit(struct ctl *ctl, int argc, char **argv)
{
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    struct rconn_args a = {0};
    int npos, rc;

    if (pos == NULL)
        abort();
    if ((rc = ctl_parse(ctl, argc, argv, NULL, pos, &npos, 1, argc)) != 0)
        goto out;
    if ((rc = ctl_connect(ctl)) != 0)
        goto out;
    rconn_args_add(&a, "LPUSH");
    rconn_args_take(&a, keys_submissions(ctl_prefix(ctl)));
    for (int i = 0; i < npos; i++) {
        struct buf b = BUF_INIT;
        bool ok = read_file(pos[i], &b);
        if (ok)
            rconn_args_addn(&a, b.data ? b.data : "", b.len);
        else
            rc = ctl_fail(ctl, EX_NOINPUT, "%s: %s", pos[i], strerror(errno));
        buf_free(&b);
        if (!ok)
            goto out;
    }
    rc = push(ctl, &a, npos);
out:
    rconn_args_free(&a);
    free(pos);
    return rc < 0 ? 0 : rc;
}
