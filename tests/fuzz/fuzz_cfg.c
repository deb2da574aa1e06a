/* libFuzzer target: the input becomes a vetd.conf for cfg_load over the
 * defaults; errors are fine, crashes and leaks are not, and a loaded
 * configuration must hold values its own parsers accept. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "cfg.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void cleanup(void)
{
    unlink(path);
}

/* The documented example must load: a sanity check of the set-up. */
static void load_example(void)
{
    struct cfg c;
    char *cause = NULL;
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        perror(path);
        exit(1);
    }
    cfg_write_example(f);
    fclose(f);
    cfg_defaults(&c);
    if (!cfg_load(&c, path, &cause)) {
        fprintf(stderr, "fuzz_cfg: the example does not load: %s\n", cause);
        exit(1);
    }
    cfg_free(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    int fd;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%s/vetd-fuzz-cfg.%ld.conf", tmp != NULL && *tmp ? tmp : "/tmp",
             (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    close(fd);
    atexit(cleanup);
    load_example();
    return 0;
}

/* What cfg_load accepted, the daemon will parse again at start. */
static void check_loaded(const struct cfg *c)
{
    struct cfg_redis_target t;
    char *cause = NULL, *host = NULL;
    int port;

    if (!cfg_check(c, path, &cause))
        fuzz_die("loaded but cfg_check fails: %s", cause);
    if (!cfg_redis_parse(c->redis, &t, &cause))
        fuzz_die("loaded redis \"%s\" does not parse: %s", c->redis, cause);
    if (t.naddrs < 1 || t.addrs == NULL)
        fuzz_die("redis \"%s\" has no address", c->redis);
    cfg_redis_free(&t);
    if (c->metrics_listen != NULL && c->metrics_listen[0] != '\0') {
        if (!cfg_listen_parse(c->metrics_listen, &host, &port, &cause))
            fuzz_die("loaded metrics_listen \"%s\" does not parse: %s", c->metrics_listen, cause);
        if (port < 0 || port > 65535)
            fuzz_die("metrics_listen port %d", port);
        free(host);
    }
    if (cfg_log_level_name(c->log_level) == NULL)
        fuzz_die("log level %d has no name", c->log_level);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg c;
    char *cause = NULL;

    fuzz_write_file(path, data, size);
    cfg_defaults(&c);
    if (cfg_load(&c, path, &cause)) {
        if (cause != NULL)
            fuzz_die("loaded with a cause: %s", cause);
        check_loaded(&c);
    } else if (cause == NULL || strncmp(cause, path, strlen(path)) != 0) {
        fuzz_die("failed load without a cause naming the file: %s", cause ? cause : "(null)");
    }
    free(cause);
    cfg_free(&c);
    return 0;
}
